"""Acceptance 4 and data quality: the generator is deterministic, consistent and realistic."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from miot_harness.demo.cluster import DemoCluster, DemoConnection
from miot_harness.demo.generator import DemoGenerator, DemoSpec
from miot_harness.demo.seeding import build_database
from miot_harness.demo.vocabulary import CARRIERS, HOSTILE_NOTES, REGIONS

ANCHOR = date(2026, 11, 25)
SMALL = DemoSpec(seed=11, scale=400, anchor=ANCHOR)


def _python_digest(spec: DemoSpec) -> str:
    digest = hashlib.md5()
    for bundle in DemoGenerator(spec).servicios():
        digest.update(repr(bundle).encode())
    return digest.hexdigest()


def test_generator_is_deterministic_in_python() -> None:
    assert _python_digest(SMALL) == _python_digest(SMALL)
    assert _python_digest(SMALL) != _python_digest(DemoSpec(seed=12, scale=400, anchor=ANCHOR))


@pytest.fixture
def built(demo_cluster: DemoCluster, demo_db: DemoConnection) -> Iterator[dict[str, str]]:
    """Build databases from specs on the session cluster; yields {name: digest}; drops them."""
    address = demo_cluster.start()
    specs = {
        "det_a": SMALL,
        "det_b": SMALL,
        "det_seed": DemoSpec(seed=12, scale=400, anchor=ANCHOR),
        "det_anchor": DemoSpec(seed=11, scale=400, anchor=ANCHOR - timedelta(days=1)),
    }
    try:
        for name, spec in specs.items():
            build_database(address, name, spec)
        yield {name: demo_cluster.digest(name) for name in specs}
    finally:
        for name in specs:
            demo_cluster.drop(name)


def test_same_seed_same_digest_other_seed_or_anchor_other_digest(built: dict[str, str]) -> None:
    assert built["det_a"] == built["det_b"]
    assert built["det_seed"] != built["det_a"]
    assert built["det_anchor"] != built["det_a"]


def test_the_fixture_database_rebuilds_to_the_same_digest(
    demo_cluster: DemoCluster, demo_db: DemoConnection
) -> None:
    status = demo_cluster.status()
    assert status is not None
    params = status.parametros
    spec = DemoSpec(
        seed=int(params["seed"]),
        scale=int(params["scale"]),
        anchor=date.fromisoformat(params["anchor_date"]),
        timezone=params["timezone"],
        as_of=time.fromisoformat(params["as_of"]),
    )
    try:
        build_database(demo_cluster.start(), "det_again", spec)
        assert demo_cluster.digest("det_again") == demo_cluster.digest()
    finally:
        demo_cluster.drop("det_again")


def test_bundles_are_consistent() -> None:
    spec = DemoSpec(seed=5, scale=3000, anchor=ANCHOR)
    as_of = datetime.combine(ANCHOR, time(12), ZoneInfo(spec.timezone))
    notes = set()
    for bundle in DemoGenerator(spec).servicios():
        s = bundle.servicio
        estado, creacion, compromiso, entrega, intentos = s[12], s[13], s[14], s[15], s[20]
        notes.add(s[21])
        assert creacion <= as_of and creacion < compromiso
        assert (bundle.pod is not None) == (estado == "entregado")
        assert (entrega is not None) == (estado == "entregado")
        assert all(event[2] <= as_of for event in bundle.events)
        attempts = [leg for leg in bundle.legs if leg[2] == "ultima_milla"]
        assert len(attempts) == intentos
        if estado == "fallido":
            assert intentos >= 2 and all(leg[4] == "fallido" for leg in attempts)
            assert [e[3] for e in bundle.events].count("intento_fallido") == intentos
        if estado == "entregado":
            assert entrega <= as_of and attempts[-1][4] == "completado"
    assert set(HOSTILE_NOTES) <= notes


def test_distributions_look_like_the_operation(demo_db: DemoConnection) -> None:
    with psycopg.connect(demo_db.superuser_dsn) as conn:
        regions = Counter(
            dict(conn.execute("SELECT region, count(*) FROM nexo.servicio GROUP BY 1"))
        )
        days = conn.execute(
            "SELECT min(dia_compromiso), max(dia_compromiso) FROM nexo.snap_servicio"
        ).fetchone()
        anchor = conn.execute("SELECT valor FROM nexo.parametro WHERE clave = 'anchor_date'")
        anchor_day = date.fromisoformat(anchor.fetchone()[0])
        on_time = dict(
            conn.execute(
                "SELECT transportista, avg((fecha_entrega <= fecha_compromiso)::int)"
                " FROM nexo.servicio WHERE estado = 'entregado' GROUP BY 1"
            ).fetchall()
        )
        problems = conn.execute(
            "SELECT count(*) FILTER (WHERE estado = 'fallido'),"
            " count(*) FILTER (WHERE es_critico) FROM nexo.servicio"
        ).fetchone()
        pod_states = {r[0] for r in conn.execute("SELECT DISTINCT estado FROM nexo.pod")}
    assert set(regions) == {r.nombre for r in REGIONS}
    assert regions.most_common(1)[0][0] == "Metropolitana"
    assert days == (anchor_day - timedelta(days=30), anchor_day + timedelta(days=3))
    assert set(on_time) == {c.nombre for c in CARRIERS}
    assert max(on_time.values()) - min(on_time.values()) > 0.1
    assert problems[0] > 0 and problems[1] > 0
    assert pod_states == {"valido", "faltante", "rechazado", "pendiente_revision"}


def test_ensure_current_shifts_dates_to_today_and_refreshes(
    demo_cluster: DemoCluster, demo_db_clone: DemoConnection
) -> None:
    name = demo_db_clone.dbname
    with psycopg.connect(demo_db_clone.owner_dsn, autocommit=True) as owner:
        anchor = date.fromisoformat(
            owner.execute(
                "SELECT valor FROM nexo.parametro WHERE clave = 'anchor_date'"
            ).fetchone()[0]
        )
        owner.execute(
            "UPDATE nexo.parametro SET valor = %s WHERE clave = 'anchor_date'",
            ((anchor - timedelta(days=2)).isoformat(),),
        )
        before = owner.execute("SELECT fecha_compromiso FROM nexo.servicio WHERE id = 1").fetchone()
    report = demo_cluster.ensure_current(dbname=name)
    again = demo_cluster.ensure_current(dbname=name)
    with psycopg.connect(demo_db_clone.owner_dsn) as owner:
        after = owner.execute("SELECT fecha_compromiso FROM nexo.servicio WHERE id = 1").fetchone()
        snap = owner.execute("SELECT fecha_compromiso FROM nexo.snap_servicio WHERE id = 1")
        snapped = snap.fetchone()
    assert report.shifted_days == (demo_cluster.today() - anchor).days + 2
    assert report.refreshed
    assert after[0] - before[0] == timedelta(days=report.shifted_days)
    assert snapped == after
    assert (again.shifted_days, again.refreshed) == (0, False)
    assert demo_cluster.anchor(name) == demo_cluster.today()


def test_stale_minutes_stamps_snapshots_in_the_past(
    demo_cluster: DemoCluster, demo_db_clone: DemoConnection
) -> None:
    stamps = demo_cluster.refresh(stale_minutes=45, dbname=demo_db_clone.dbname)
    with psycopg.connect(demo_db_clone.harness_dsn) as harness:
        kpis = harness.execute("SELECT nexo.fn_dx_centro_control()").fetchone()[0]
        now = harness.execute("SELECT now()").fetchone()[0]
    assert set(stamps) == {"servicios", "pod"}
    for stamp in stamps.values():
        assert timedelta(minutes=44) < now - stamp < timedelta(minutes=46)
    assert datetime.fromisoformat(kpis["refreshed_at_servicios"]) == stamps["servicios"]
    report = demo_cluster.ensure_current(dbname=demo_db_clone.dbname)
    assert report.refreshed


@pytest.mark.parametrize("as_of", [time(7, 0), time(10, 13), time(18, 30)])
def test_today_happens_only_up_to_the_as_of_time_and_is_not_all_on_time(as_of: time) -> None:
    spec = DemoSpec(seed=5, scale=3000, anchor=ANCHOR, as_of=as_of)
    moment = datetime.combine(ANCHOR, as_of, ZoneInfo(spec.timezone))
    delivered_today, on_time = 0, 0
    for bundle in DemoGenerator(spec).servicios():
        s = bundle.servicio
        estado, compromiso, entrega = s[12], s[14], s[15]
        assert all(event[2] <= moment for event in bundle.events)
        assert all(leg[5] is None or leg[5] <= moment for leg in bundle.legs)
        if compromiso.astimezone(ZoneInfo(spec.timezone)).date() == ANCHOR:
            if estado == "fallido":
                assert compromiso <= moment  # only what is already due can have failed
            if estado == "entregado":
                delivered_today += 1
                on_time += entrega <= compromiso
    if as_of < time(9, 0):
        assert delivered_today == 0  # no compromiso is due before 09:00
    elif as_of > time(18, 0):
        assert 0 < on_time < delivered_today  # late in the day, some arrived late
    else:
        assert delivered_today > 0
