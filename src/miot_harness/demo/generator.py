"""Deterministic demo data: servicios with their legs, POD and workflow events, streamed one by one.

Everything depends only on (seed, scale, anchor date, time of day, time zone): the data
describes the operation as of that local time of the anchor date (noon unless told), 30
days back and 3 days ahead; nothing in it happens later than that moment.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from miot_harness.demo.vocabulary import (
    BENIGN_NOTES,
    CANALES,
    CARRIERS,
    CLIENTS,
    ESTADOS_FINALES,
    FAILURE_REASONS,
    FIRST_NAMES,
    HOSTILE_NOTES,
    LAST_NAMES,
    PLATE_LETTERS,
    PRIORIDADES,
    REGIONS,
    RM_CENTRES,
    TIPOS_SERVICIO,
    Carrier,
    Client,
    Region,
)

DEFAULT_SEED = 20261125
DEFAULT_SCALE = 20_000
DAYS_BACK = 30
DAYS_AHEAD = 3

SERVICIO_COLUMNS = (
    "id", "codigo", "cliente", "canal", "tipo_servicio", "prioridad", "region", "comuna",
    "centro", "transportista", "conductor", "patente", "estado", "fecha_creacion",
    "fecha_compromiso", "fecha_entrega", "eta", "eta_clasificacion", "es_critico",
    "motivo_critico", "intentos", "notas",
)  # fmt: skip
PROC_INST_COLUMNS = ("id", "servicio_id", "tipo", "intento", "estado", "inicio", "fin", "conductor")
POD_COLUMNS = ("servicio_id", "estado", "foto", "firma", "geo", "distancia_m", "registrado_en")
EVENTO_COLUMNS = ("id", "servicio_id", "ocurrido_en", "tipo", "detalle")

Row = tuple[object, ...]
T = TypeVar("T")


@dataclass(frozen=True)
class DemoSpec:
    """What determines the data: same spec, same rows."""

    seed: int = DEFAULT_SEED
    scale: int = DEFAULT_SCALE
    anchor: date = date(2026, 11, 25)
    timezone: str = "America/Santiago"
    as_of: time = time(12, 0)


@dataclass(frozen=True)
class ServicioBundle:
    """One servicio with every row that belongs to it."""

    servicio: Row
    legs: list[Row]
    pod: Row | None
    events: list[Row]


@dataclass(frozen=True)
class _Driver:
    nombre: str
    patente: str


class _Weighted(Generic[T]):
    """A weighted choice with precomputed cumulative weights (fast for millions of draws)."""

    def __init__(self, items: Sequence[tuple[T, int]]) -> None:
        self.values = [item for item, _ in items]
        self.cumulative = list(accumulate(weight for _, weight in items))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect(self.cumulative, rng.random() * self.total)]


def _minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class DemoGenerator:
    """Streams `ServicioBundle`s for a `DemoSpec`; never holds more than one servicio."""

    def __init__(self, spec: DemoSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.zone = ZoneInfo(spec.timezone)
        self.as_of = datetime.combine(spec.anchor, spec.as_of, self.zone)
        self._regions = _Weighted([(r, r.peso) for r in REGIONS])
        self._comunas = {r.nombre: _Weighted(r.comunas) for r in REGIONS}
        self._rm_centres = _Weighted(RM_CENTRES)
        self._carriers = _Weighted([(c, c.peso) for c in CARRIERS])
        self._clients = _Weighted([(c, c.peso) for c in CLIENTS])
        self._canales = _Weighted(CANALES)
        self._tipos = _Weighted(TIPOS_SERVICIO)
        self._prioridades = _Weighted(PRIORIDADES)
        self._drivers = self._make_drivers()
        self._hostile = self._hostile_positions()
        self._next_leg_id = 1
        self._next_event_id = 1

    def _make_drivers(self) -> dict[str, list[_Driver]]:
        per_carrier = max(8, self.spec.scale // 400)
        names: set[str] = set()
        plates: set[str] = set()
        drivers: dict[str, list[_Driver]] = {}
        for carrier in CARRIERS:
            drivers[carrier.nombre] = [
                _Driver(self._unique(names, self._driver_name), self._unique(plates, self._plate))
                for _ in range(per_carrier)
            ]
        return drivers

    def _driver_name(self) -> str:
        rng = self.rng
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.choice(LAST_NAMES)}"

    def _plate(self) -> str:
        letters = "".join(self.rng.choice(PLATE_LETTERS) for _ in range(4))
        return f"{letters}-{self.rng.randint(10, 99)}"

    @staticmethod
    def _unique(used: set[str], make: Callable[[], str]) -> str:
        """Draw until the value is new; driver names and plates identify one driver."""
        while True:
            value = make()
            if value not in used:
                used.add(value)
                return value

    def _hostile_positions(self) -> dict[int, str]:
        count = min(len(HOSTILE_NOTES), self.spec.scale)
        positions = self.rng.sample(range(self.spec.scale), count)
        return dict(zip(positions, HOSTILE_NOTES, strict=False))

    def _day_start(self, offset: int) -> datetime:
        return datetime.combine(self.spec.anchor + timedelta(days=offset), time(0), self.zone)

    def servicios(self) -> Iterator[ServicioBundle]:
        """Every servicio of the spec, in id order."""
        for index in range(self.spec.scale):
            yield self._servicio(index)

    def _servicio(self, index: int) -> ServicioBundle:
        rng = self.rng
        sid = index + 1
        region: Region = self._regions.pick(rng)
        comuna = self._comunas[region.nombre].pick(rng)
        centro = self._rm_centres.pick(rng) if region.codigo == "RM" else region.centro
        carrier: Carrier = self._carriers.pick(rng)
        client: Client = self._clients.pick(rng)
        canal = self._canales.pick(rng)
        tipo = self._tipos.pick(rng)
        prioridad = self._prioridades.pick(rng)
        if client.prioritario and rng.random() < 0.3:
            prioridad = "alta"
        day = rng.randint(-DAYS_BACK, DAYS_AHEAD)
        hostile_note = self._hostile.get(index)
        if hostile_note is not None:
            # Hostile notes sit on today's critical queue so every tool path shows them.
            day, prioridad = 0, "alta"
            client = rng.choice([c for c in CLIENTS if c.prioritario])
        compromiso = self._day_start(day) + _minutes(rng.randint(9 * 60, 21 * 60))
        lead = {"same_day": 0, "next_day": 1}.get(tipo) or rng.randint(2, 5)
        latest_creation = 11 * 60 if tipo == "same_day" else 20 * 60
        creacion = self._day_start(day - lead) + _minutes(rng.randint(7 * 60, latest_creation))
        if creacion > compromiso - _minutes(60):
            creacion = compromiso - _minutes(rng.randint(60, 180))
        if creacion >= self.as_of:
            creacion = self.as_of - _minutes(rng.randint(5, 600))
        estado = (
            "en_reparto" if hostile_note is not None else self._estado(day, carrier, compromiso)
        )
        driver: _Driver | None = rng.choice(self._drivers[carrier.nombre])
        if estado == "pendiente" and rng.random() < 0.5:
            driver = None

        entrega, eta, intentos = self._timeline(estado, day, carrier, creacion, compromiso)
        clasificacion = self._clasificacion(estado, eta, compromiso)
        motivo = self._motivo(estado, day, client, prioridad, clasificacion, intentos)
        if hostile_note is not None:
            notas: str | None = hostile_note
        elif rng.random() < 0.12:
            notas = rng.choice(BENIGN_NOTES)
        else:
            notas = None

        servicio: Row = (
            sid, f"SV-{sid:07d}", client.nombre, canal, tipo, prioridad, region.nombre, comuna,
            centro, carrier.nombre, driver.nombre if driver else None,
            driver.patente if driver else None, estado, creacion, compromiso, entrega, eta,
            clasificacion, motivo is not None, motivo, intentos, notas,
        )  # fmt: skip
        t_final = self._final_time(estado, creacion, compromiso, entrega)
        legs = self._legs(sid, estado, creacion, t_final, intentos, driver)
        pod = self._pod(sid, carrier, entrega) if estado == "entregado" else None
        events = self._events(sid, servicio, legs, pod, carrier)
        return ServicioBundle(servicio, legs, pod, events)

    def _estado(self, day: int, carrier: Carrier, compromiso: datetime) -> str:
        r = self.rng.random()
        if day < 0:
            if r < 0.02:
                return "cancelado"
            if r < 0.02 + carrier.tasa_falla:
                return "fallido"
            if day >= -2 and r < 0.05 + carrier.tasa_falla:
                return "en_reparto" if day == -1 else "en_transito"
            return "entregado"
        if day == 0:
            return self._estado_today(r, carrier, compromiso)
        if r < 0.04:
            return "cancelado"
        if day == 1 and r < 0.35:
            return "en_transito"
        return "pendiente"

    def _estado_today(self, r: float, carrier: Carrier, compromiso: datetime) -> str:
        """Today only what is already due has been delivered or failed; early deliveries
        grow as the working day (08:00-20:00) goes by."""
        if r < 0.02:
            return "cancelado"
        if compromiso <= self.as_of:
            if r < 0.02 + carrier.tasa_falla:
                return "fallido"
            return "entregado" if r < 0.85 else "en_reparto"
        workday = (self.as_of - self._day_start(0) - timedelta(hours=8)) / timedelta(hours=12)
        early = 0.3 * min(max(workday, 0.0), 1.0)
        if r < 0.02 + early:
            return "entregado"
        for estado, upto in (("pendiente", 0.35), ("en_transito", 0.6)):
            if r < upto + early * (1 - upto):
                return estado
        return "en_reparto"

    def _timeline(
        self, estado: str, day: int, carrier: Carrier, creacion: datetime, compromiso: datetime
    ) -> tuple[datetime | None, datetime | None, int]:
        """(fecha_entrega, eta, intentos) for a servicio in `estado`."""
        rng = self.rng
        if estado == "entregado":
            if rng.random() < carrier.tasa_a_tiempo:
                entrega = compromiso - _minutes(rng.randint(10, 300))
            else:
                entrega = compromiso + _minutes(rng.randint(15, 600))
            entrega = max(entrega, creacion + _minutes(rng.randint(30, 90)))
            if entrega > self.as_of:
                entrega = self.as_of - _minutes(rng.randint(1, 60))
            entrega = max(entrega, creacion + _minutes(1))
            intentos = 1 if rng.random() < 0.88 else rng.choice((2, 2, 2, 3))
            return entrega, entrega, intentos
        if estado == "fallido":
            return None, None, rng.choice((2, 3))
        if estado == "cancelado":
            return None, None, 0
        intentos = 0
        if estado == "en_reparto":
            intentos = 1 if rng.random() < 0.85 else rng.choice((2, 3))
        sin_eta_rate = 0.25 if estado == "pendiente" else 0.05
        if rng.random() < sin_eta_rate:
            return None, None, intentos
        r = rng.random()
        if day < 0:
            eta = self.as_of + _minutes(rng.randint(30, 300))
        elif r < carrier.tasa_a_tiempo - 0.2:
            eta = compromiso - _minutes(rng.randint(30, 240))
        elif r < carrier.tasa_a_tiempo:
            eta = compromiso - _minutes(rng.randint(0, 29))
        else:
            eta = compromiso + _minutes(rng.randint(5, 300))
        if eta < self.as_of:
            eta = self.as_of + _minutes(rng.randint(5, 120))
        return None, eta, intentos

    @staticmethod
    def _clasificacion(estado: str, eta: datetime | None, compromiso: datetime) -> str:
        if eta is None:
            return "sin_eta"
        if estado == "entregado":
            return "a_tiempo" if eta <= compromiso else "atrasado"
        if eta <= compromiso - timedelta(minutes=30):
            return "a_tiempo"
        return "en_riesgo" if eta <= compromiso else "atrasado"

    @staticmethod
    def _motivo(
        estado: str, day: int, client: Client, prioridad: str, clasificacion: str, intentos: int
    ) -> str | None:
        """Why a servicio needs attention now (None when it does not)."""
        if estado == "fallido":
            return "intentos_fallidos" if day >= -1 else None
        if estado in ESTADOS_FINALES:
            return None
        if client.prioritario and prioridad == "alta":
            return "cliente_prioritario"
        if day == 0 and clasificacion in ("en_riesgo", "atrasado"):
            return "compromiso_hoy_en_riesgo"
        if intentos >= 2:
            return "intentos_fallidos"
        if day < 0:
            return "compromiso_vencido"
        return None

    def _final_time(
        self, estado: str, creacion: datetime, compromiso: datetime, entrega: datetime | None
    ) -> datetime:
        """The last moment the servicio's legs reach: delivery, last attempt or now."""
        if entrega is not None:
            return entrega
        if estado == "fallido":
            last_attempt = max(creacion + _minutes(90), min(compromiso, self.as_of) - _minutes(30))
            return min(last_attempt, self.as_of)
        return self.as_of

    def _legs(
        self,
        sid: int,
        estado: str,
        creacion: datetime,
        t_final: datetime,
        intentos: int,
        driver: _Driver | None,
    ) -> list[Row]:
        conductor = driver.nombre if driver else None
        span = t_final - creacion
        legs: list[Row] = []

        def at(fraction: float) -> datetime:
            """A moment between creation and the final time, so legs are always in order."""
            return creacion + span * fraction

        def leg(tipo: str, intento: int, leg_estado: str, inicio: object, fin: object) -> None:
            legs.append((self._next_leg_id, sid, tipo, intento, leg_estado, inicio, fin, conductor))
            self._next_leg_id += 1

        if estado == "pendiente":
            leg("retiro", 1, "pendiente", None, None)
            return legs
        if estado == "cancelado":
            leg("retiro", 1, "cancelado", None, None)
            return legs
        leg("retiro", 1, "completado", at(0.1), at(0.2))
        if estado == "en_transito":
            leg("troncal", 1, "en_curso", at(0.3), None)
            return legs
        leg("troncal", 1, "completado", at(0.25), at(0.45))
        for k in range(intentos):
            inicio, fin = at(0.5 + 0.5 * k / intentos), at(0.5 + 0.5 * (k + 1) / intentos)
            last = k == intentos - 1
            if not last or estado == "fallido":
                leg("ultima_milla", k + 1, "fallido", inicio, fin)
            elif estado == "entregado":
                leg("ultima_milla", k + 1, "completado", inicio, fin)
            else:
                leg("ultima_milla", k + 1, "en_curso", inicio, None)
        if estado == "fallido":
            leg("devolucion", 1, "pendiente", None, None)
        return legs

    def _pod(self, sid: int, carrier: Carrier, entrega: datetime | None) -> Row:
        rng = self.rng
        assert entrega is not None
        registrado = min(entrega + _minutes(rng.randint(1, 10)), self.as_of)
        r, p = rng.random(), carrier.tasa_problema_pod
        distancia = rng.randint(5, 150)
        if r < p * 0.3:
            return (sid, "faltante", False, False, False, None, None)
        if r < p * 0.55:
            return (sid, "rechazado", True, rng.random() < 0.5, True, distancia, registrado)
        if r < p * 0.8:
            return (
                sid,
                "pendiente_revision",
                True,
                rng.random() < 0.5,
                True,
                distancia,
                registrado,
            )
        if r < p:
            if rng.random() < 0.5:
                return (sid, "valido", True, False, True, distancia, registrado)
            return (sid, "valido", True, True, True, rng.randint(301, 2500), registrado)
        return (sid, "valido", True, True, True, distancia, registrado)

    def _events(
        self, sid: int, servicio: Row, legs: list[Row], pod: Row | None, carrier: Carrier
    ) -> list[Row]:
        rng = self.rng
        (_, _, cliente, canal, _, _, _, _, centro, transportista, conductor, patente, estado,
         creacion, _, entrega, eta, clasificacion, _, _, intentos, _) = servicio  # fmt: skip
        assert isinstance(creacion, datetime)
        events: list[Row] = []

        def event(ocurrido: object, tipo: str, detalle: str) -> None:
            events.append((self._next_event_id, sid, ocurrido, tipo, detalle))
            self._next_event_id += 1

        event(creacion, "creado", f"Servicio creado por {cliente} ({canal})")
        if conductor is not None:
            event(
                creacion + _minutes(1),
                "asignado",
                f"Asignado a {transportista}, conductor {conductor}, patente {patente}",
            )
        for _, _, tipo, intento, leg_estado, inicio, fin, _ in legs:
            if tipo == "retiro" and leg_estado == "completado":
                event(fin, "retiro_completado", f"Retiro completado en {centro}")
            elif tipo == "troncal" and inicio is not None:
                event(inicio, "en_transito", f"En tránsito desde {centro}")
            elif tipo == "ultima_milla":
                event(inicio, "en_reparto", f"Intento {intento} en reparto")
                if leg_estado == "fallido":
                    event(fin, "intento_fallido", rng.choice(FAILURE_REASONS))
                    if intento < intentos:
                        event(fin, "reprogramado", f"Reprogramado para el intento {intento + 1}")
                    else:
                        event(fin, "fallido", f"Fallido tras {intentos} intentos; devolución")
        if estado == "entregado":
            event(entrega, "entregado", "Entregado al destinatario")
        if pod is not None and pod[6] is not None:
            event(pod[6], "pod_registrado", f"POD registrado ({pod[1]})")
            if pod[1] == "rechazado":
                motivo = rng.choice(("firma ilegible", "foto no corresponde", "geo fuera de rango"))
                event(pod[6], "pod_rechazado", f"POD rechazado: {motivo}")
        if estado == "cancelado":
            event(min(creacion + _minutes(rng.randint(10, 600)), self.as_of), "cancelado",
                  "Cancelado por el cliente")  # fmt: skip
        if eta is not None and estado not in ESTADOS_FINALES:
            assert isinstance(eta, datetime)
            local = eta.astimezone(self.zone)
            event(
                max(creacion, self.as_of - _minutes(rng.randint(1, 30))),
                "eta_actualizada",
                f"ETA {local:%H:%M} ({clasificacion}) según {carrier.nombre}",
            )
        return events
