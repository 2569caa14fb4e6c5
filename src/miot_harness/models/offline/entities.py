"""Filter values found in a question and resolved against `## Valores válidos`.

Values are matched as whole token sequences of the folded question (case and accents
ignored), longest first; region aliases come from the catalogue itself. Near misses
("Transrapdo", "Farmacia Cordilera") are caught with `rapidfuzz` (C-speed edit-distance
ratios, no model): only against catalogue values, so nothing is ever invented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from miot_harness.models.offline.text import STOPWORDS, SYNONYM_GROUPS, fold
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS

FUZZY_CUTOFF = 88
_TOKEN = re.compile(r"[a-z0-9ñ]+|%")
_RESERVED = STOPWORDS | {fold(word) for group in SYNONYM_GROUPS for word in group}
_CODIGO = re.compile(r"\bsv[-\s]?(\d{1,7})\b", re.I)
_PATENTE = re.compile(r"\b([A-Z]{4}-?\d{2}|[A-Z]{2}-?\d{4})\b")
_CRITICO = re.compile(r"\b(no\s+)?(critic[oa]s|critic[oa]|urgentes?|critical|urgent)\b")
_NOT_CRITICO_CUE = re.compile(r"\bcola\s+$")
_OFFSET = re.compile(
    r"\bsalt\w*\s+(?:(?:los|las)\s+)?(?:primer[oa]s\s+)?(\d{1,4})\b|\boffset\s+(\d{1,4})\b"
    r"|\bskip(?:ping)?\s+(?:the\s+)?(?:first\s+)?(\d{1,4})\b"
)
_CONDUCTOR = re.compile(
    r"\b(?:conductor|conductora|chofer|chófer|driver|repartidor)\s+"
    r"((?:[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)(?:\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+){0,2})"
)
_LIMIT = re.compile(
    r"\btop\s*(\d{1,3})\b|\b(\d{1,3})\s+primer[oa]s\b|\bprimer[oa]s\s+(\d{1,3})\b"
    r"|\bfirst\s+(\d{1,3})\b|\b(?:los|las)\s+(\d{1,3})\s+(?:mas|peores|mejores|ultimos)\b"
    r"|\blimite?\s+(?:de\s+)?(\d{1,3})\b"
    r"|\b(?:muestra|muestrame|dame|lista|listame|show|give)\s+(?:me\s+)?(?:(?:los|las|the)\s+)?(\d{1,3})\b"
)
# How operators say the pinned enum values of the contract; the values themselves come
# from the catalogue, and a phrase whose value the catalogue lacks is ignored.
_VALUE_PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("eta_clasificacion", "en_riesgo"): ("en riesgo de eta", "en riesgo", "at risk"),
    ("eta_clasificacion", "atrasado"): (
        "atrasado", "atrasados", "atrasada", "atrasadas", "retrasado", "retrasados",
        "retrasada", "retrasadas", "con atraso", "con retraso", "demorados", "late", "delayed",
    ),
    ("eta_clasificacion", "a_tiempo"): ("a tiempo", "on time"),
    ("eta_clasificacion", "sin_eta"): ("sin eta", "without eta"),
    ("estado", "entregado"): ("entregamos", "entregaron", "se entrego", "delivered"),
    ("estado", "fallido"): ("fallaron", "failed"),
    ("estado", "cancelado"): ("cancelaron", "cancelled", "canceled"),
    ("estado", "pendiente"): ("pending",),
    ("tipo_servicio", "same_day"): ("mismo dia",),
    ("tipo_servicio", "next_day"): ("dia siguiente",),
    ("canal", "ecommerce"): ("comercio electronico",),
}  # fmt: skip
# Words right before a value that make it a metric being asked about, not a filter.
_METRIC_CUES = {"mas", "menos", "mayor", "menor", "porcentaje", "%", "tasa", "pct", "cola"}
# Words that introduce a value of an argument ("el canal retail", "la región de Coquimbo"):
# they belong to the filter, so tool ranking discounts them with it.
_LABELS = {
    "region": {"region"},
    "comuna": {"comuna"},
    "cliente": {"cliente", "client", "customer"},
    "transportista": {"transportista", "carrier", "courier"},
    "centro": {"centro", "center"},
    "canal": {"canal", "channel"},
    "tipo_servicio": {"tipo", "servicio", "servicios"},
    "estado": {"estado", "status"},
    "prioridad": {"prioridad", "priority"},
    "eta_clasificacion": {"eta", "clasificacion"},
}
# Which kind wins when the same words name two things ("Valparaíso" region and comuna).
_PRIORITY = {"region": 5, "centro": 4, "comuna": 3, "cliente": 2, "transportista": 2}


@dataclass(frozen=True)
class Match:
    argument: str
    value: Any
    start: int
    end: int
    priority: int


@dataclass
class Extraction:
    """What the question filters on, and which token positions those filters used."""

    args: dict[str, Any] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    words: list[str] = field(default_factory=list)

    def consumed(self) -> str:
        return " ".join(w for i, w in enumerate(self.words) if i in self.used)


def _label_positions(words: list[str], start: int, argument: str) -> set[int]:
    """Positions of the label words just before a value ("canal", "región de")."""
    labels = _LABELS.get(argument, set())
    position = start - 1
    if position >= 0 and words[position] in ("de", "del"):
        position -= 1
    if position >= 0 and words[position] in labels:
        return set(range(position, start))
    return set()


def tokens(text: str) -> list[str]:
    """Folded tokens with "ñ" as "n", since operators often type "Nunoa" for "Ñuñoa"."""
    return _TOKEN.findall(fold(text).replace("ñ", "n").replace("_", " ").replace("-", ""))


def _inflections(value: str) -> tuple[str, ...]:
    """Spanish plural and gender forms of a one-word value ("entregado" -> "entregadas")."""
    forms = {value, value + "s"}
    if value[-1] in "oa":
        stem = value[:-1]
        forms.update({stem + "o", stem + "a", stem + "os", stem + "as"})
    elif value[-1] == "e":
        forms.add(value + "s")
    else:
        forms.add(value + "es")
    return tuple(sorted(forms))


class CatalogMatcher:
    """Phrase table built once per `Valores válidos` catalogue."""

    def __init__(self, catalogue: dict[str, Any]):
        self.phrases: dict[tuple[str, ...], list[tuple[str, str, int]]] = {}
        self.fuzzy: dict[str, tuple[str, str]] = {}
        names: list[tuple[str, str]] = []
        for argument, key in VALUE_LIST_KEYS.items():
            for value in catalogue.get(key) or []:
                if isinstance(value, str):
                    self._add_value(argument, value)
                    names.append((argument, value))
        for region in catalogue.get("regiones") or []:
            if isinstance(region, dict) and isinstance(region.get("nombre"), str):
                name = region["nombre"]
                self._add("region", name, name, _PRIORITY["region"])
                names.append(("region", name))
                for alias in [region.get("codigo"), *(region.get("alias") or [])]:
                    if isinstance(alias, str) and not re.fullmatch(r"[IVXivx]+", alias):
                        self._add("region", name, alias, _PRIORITY["region"])
        for comuna in catalogue.get("comunas") or []:
            name = comuna.get("nombre") if isinstance(comuna, dict) else comuna
            if isinstance(name, str):
                self._add("comuna", name, name, _PRIORITY["comuna"])
                self._add("comuna", name, f"comuna de {name}", _PRIORITY["comuna"] + 3)
                names.append(("comuna", name))
        for (argument, value), phrases in _VALUE_PHRASES.items():
            if (argument, value) in {(a, v) for a, v in names}:
                for phrase in phrases:
                    self._add(argument, value, phrase, 1)
        self._add_unique_words(names)
        for argument, value in names:
            if argument in ("cliente", "transportista", "comuna", "centro"):
                self.fuzzy["".join(tokens(value))] = (argument, value)

    def _add(self, argument: str, value: str, phrase: str, priority: int) -> None:
        key = tuple(tokens(phrase))
        if key:
            self.phrases.setdefault(key, []).append((argument, value, priority))

    def _add_value(self, argument: str, value: str) -> None:
        priority = _PRIORITY.get(argument, 1)
        self._add(argument, value, value, priority)
        words = tokens(value)
        if len(words) > 1:
            self._add(argument, value, "".join(words), priority)
        if argument == "prioridad":
            for form in _inflections(words[-1]):
                self._add(argument, value, f"prioridad {form}", priority)
                self._add(argument, value, f"{form} prioridad", priority)
            return
        if argument in ("estado", "canal", "tipo_servicio"):
            for form in _inflections(words[-1]):
                self._add(argument, value, " ".join([*words[:-1], form]), priority)
        if argument == "centro" and len(words) > 1 and len(words[0]) <= 3:
            core = " ".join(words[1:])
            for lead in ("cd", "cd de", "centro", "centro de", "centro de distribucion",
                         "centro de distribucion de", "bodega", "bodega de"):  # fmt: skip
                self._add(argument, value, f"{lead} {core}", priority + 1)

    def _add_unique_words(self, names: list[tuple[str, str]]) -> None:
        """A distinctive word that names exactly one client or carrier ("Cóndor") names it."""
        owners: dict[str, set[tuple[str, str]]] = {}
        for argument, value in names:
            for word in tokens(value):
                owners.setdefault(word, set()).add((argument, value))
        for word, owned in owners.items():
            (argument, value), *rest = sorted(owned)
            if rest or len(word) < 5 or word in _RESERVED or (word,) in self.phrases:
                continue
            if argument in ("cliente", "transportista"):
                self._add(argument, value, word, 0)

    def match(self, question: str) -> Extraction:
        words = tokens(question)
        found: list[Match] = []
        for start in range(len(words)):
            for length in range(min(6, len(words) - start), 0, -1):
                key = tuple(words[start : start + length])
                for argument, value, priority in self.phrases.get(key, ()):
                    found.append(Match(argument, value, start, start + length, priority))
        found.sort(key=lambda m: (-(m.end - m.start), -m.priority, m.start))
        extraction = Extraction(words=words)
        seen: dict[str, dict[Any, set[int]]] = {}
        for item in found:
            span = set(range(item.start, item.end))
            if span & extraction.used:
                continue
            cue = words[max(0, item.start - 2) : item.start]
            if item.priority <= 1 and _METRIC_CUES.intersection(cue):
                continue
            span |= _label_positions(words, item.start, item.argument)
            seen.setdefault(item.argument, {}).setdefault(item.value, set()).update(span)
            extraction.used |= span
        blocked: set[int] = set()
        for argument, by_value in seen.items():
            if len(by_value) == 1:
                extraction.args[argument] = next(iter(by_value))
            else:
                # "en riesgo, atrasado o a tiempo" names several values of one argument: a
                # breakdown is asked for, and no single filter value can say it.
                for positions in by_value.values():
                    extraction.used -= positions
                    blocked |= positions
        self._match_fuzzy(extraction, blocked)
        return extraction

    def _match_fuzzy(self, extraction: Extraction, blocked: set[int]) -> None:
        words = extraction.words
        choices = list(self.fuzzy)
        for length in (3, 2, 1):
            for start in range(len(words) - length + 1):
                span = set(range(start, start + length))
                if span & (extraction.used | blocked):
                    continue
                candidate = "".join(words[start : start + length])
                if len(candidate) < 6:
                    continue
                best = process.extractOne(
                    candidate, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
                )
                if best is None:
                    continue
                argument, value = self.fuzzy[best[0]]
                if argument not in extraction.args:
                    extraction.args[argument] = value
                    extraction.used |= span


def extract_flags(question: str) -> dict[str, Any]:
    """Filters that need no catalogue: servicio code, plate, criticality and a row limit."""
    return flags_with_text(question)[0]


def flags_with_text(question: str) -> tuple[dict[str, Any], str]:
    """The flags and the words that stated them (so tool ranking can discount them)."""
    args: dict[str, Any] = {}
    said: list[str] = []
    if code := _CODIGO.search(question):
        args["codigo"] = f"SV-{int(code.group(1)):07d}"
        said.append(code.group(0))
    if plate := _PATENTE.search(question):
        raw = plate.group(1).replace("-", "")
        split = 4 if raw[3].isalpha() else 2
        args["patente"] = f"{raw[:split]}-{raw[split:]}"
        said.append("patente " + plate.group(0))
    folded = fold(question)
    for critico in _CRITICO.finditer(folded):
        if not _NOT_CRITICO_CUE.search(folded[: critico.start()]):
            args["es_critico"] = critico.group(1) is None
            said.append(critico.group(0))
            break
    if offset := _OFFSET.search(folded):
        args["offset"] = int(next(g for g in offset.groups() if g))
        said.append(offset.group(0))
        folded = folded[: offset.start()] + " " * len(offset.group(0)) + folded[offset.end() :]
    if conductor := _CONDUCTOR.search(question):
        args["conductor"] = conductor.group(1)
        said.append(conductor.group(0))
    if limit := _LIMIT.search(folded):
        args["limit"] = int(next(g for g in limit.groups() if g))
        said.append(limit.group(0))
    return args, " ".join(said)
