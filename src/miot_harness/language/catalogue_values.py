"""Filter values a question names, resolved against the catalogue of valid values.

Values are matched as whole token sequences of the folded question (case and accents
ignored), longest first; region aliases come from the catalogue itself, and a region is also
named by its number ("región 5", "5ta región", "la quinta") read off its code and ordinal
alias. Near misses ("Transrapdo", "Farmacia Cordilera") are caught with `rapidfuzz` (C-speed
edit-distance ratios, no model): only against catalogue values, so nothing is invented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from miot_harness.language.fillers import FILLER_WORDS, REQUEST_WORDS
from miot_harness.language.normalise import fold
from miot_harness.language.terms import glossary_words, term
from miot_harness.language.words import is_common_word, is_stopword

FUZZY_CUTOFF = 88
_TOKEN = re.compile(r"[a-z0-9ñ]+|%")
_ROMAN = {"i": 1, "v": 5, "x": 10}
# Filters whose values a typo may name ("ecomerce"); states and ETA classes are also measures
# ("más fallidos"), read only as written.
_FUZZY_ARGS = ("cliente", "transportista", "comuna", "centro", "canal", "tipo_servicio")
# Labels whose filter takes a name: what follows an unmatched one is a name to check.
_NAMED_LABELS = ("cliente", "transportista", "centro", "comuna", "region")
_MAX_NAME_WORDS = 4
_MAX_SPLIT_PARTS = 3
# Filters whose values are names: a name the question gives around one is another name.
_NAMED = ("cliente", "transportista", "centro", "comuna")
_CONNECTORS = frozenset({"de", "del", "la", "las", "lo", "los", "el", "y"})
# A word of the question as written, hyphens kept inside it (as `tokens` joins them).
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*|%")
# Suffixes of Spanish ordinal abbreviations ("5ta", "8va", "1ra", "2da", "7ma", "9na").
_ORDINAL_SUFFIXES = ("a", "ta", "va", "ra", "da", "ma", "na", "o", "to", "vo", "ro", "do")
# How operators say the pinned enum values of the contract; the values themselves come
# from the catalogue, and a phrase whose value the catalogue lacks is ignored.
_VALUE_PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("eta_clasificacion", "en_riesgo"): ("en riesgo de eta", "en riesgo", "at risk"),
    ("eta_clasificacion", "atrasado"): (
        "atrasado", "atrasados", "atrasada", "atrasadas", "retrasado", "retrasados",
        "retrasada", "retrasadas", "con atraso", "con retraso", "demorados", "late", "delayed",
        "atrasos", "retrasos", "con demora",
    ),
    ("eta_clasificacion", "a_tiempo"): ("a tiempo", "on time"),
    ("eta_clasificacion", "sin_eta"): ("sin eta", "without eta", "no eta", "sin hora estimada"),
    ("estado", "entregado"): ("entregamos", "entregaron", "se entrego", "delivered"),
    ("estado", "fallido"): ("fallaron", "failed", "fail"),
    ("estado", "cancelado"): ("cancelaron", "cancelled", "canceled"),
    ("estado", "pendiente"): ("pending",),
    ("estado", "en_transito"): ("in transit", "en camino"),
    ("estado", "en_reparto"): ("out for delivery", "en ruta de reparto"),
    ("tipo_servicio", "programado"): ("scheduled",),
    ("tipo_servicio", "same_day"): ("mismo dia",),
    ("tipo_servicio", "next_day"): ("dia siguiente",),
    ("canal", "ecommerce"): ("comercio electronico",),
}  # fmt: skip
# Words right before a value that make it a metric being asked about, not a filter.
_METRIC_CUES = {
    "mas", "menos", "mayor", "menor", "porcentaje", "%", "tasa", "pct", "cola", "ranking",
    "most", "more", "fewest", "least",
}  # fmt: skip
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
    # Several values of one filter were named ("en riesgo, atrasado o a tiempo"): one list.
    enumerates: bool = False

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


def _cased_tokens(text: str) -> list[tuple[str, bool]]:
    """`tokens(text)` with whether each was written with a capital."""
    folded: list[str] = []
    upper: list[bool] = []
    for ch in text.replace("_", " ").replace("-", ""):
        part = fold(ch).replace("ñ", "n")
        folded.append(part)
        upper.extend([ch.isupper()] * len(part))
    joined = "".join(folded)
    return [(m.group(), upper[m.start()]) for m in _TOKEN.finditer(joined)]


def _ordinary(word: str) -> bool:
    return word in REQUEST_WORDS or _is_reserved(word) or is_common_word(word)


def _may_name(word: str, written: str) -> bool:
    """A word after a filter's label that may be a name ("Pepito", "barnechea"): capitalised
    or no ordinary word as written (accents kept: "movió" is a word, "movio" is not), and
    never a number, a function word or a word of the operation."""
    if word.isdigit() or _is_reserved(word) or word in REQUEST_WORDS or term(word) is None:
        return False
    return written[:1].isupper() or not is_common_word(written)


def _cued_names(
    question: str,
    cased: list[tuple[str, bool]],
    extraction: Extraction,
    is_known: Callable[[str], bool],
) -> None:
    """Words after a filter's label that match nothing ("la comuna de lo barnechea",
    "cliente Pepito"): passed on as typed, so the harness asks instead of widening. Words
    `is_known` knows (the tools' own: "centro de control") are no name."""
    used = extraction.used
    spans = list(_WORD.finditer(question.replace("_", " ")))
    if len(spans) != len(cased):
        return
    written = [span.group() for span in spans]
    for i, (word, _) in enumerate(cased):
        argument = next((a for a in _NAMED_LABELS if word in _LABELS[a]), None)
        if argument is None or i in used or argument in extraction.args:
            continue
        start = i + 1
        while start < len(cased) and cased[start][0] in ("de", "del") and start not in used:
            start += 1
        end = start
        while end < len(cased) and end - start < _MAX_NAME_WORDS and end not in used:
            name_word = cased[end][0]
            leads = name_word in _CONNECTORS and end + 1 < len(cased)
            if leads and end == start and _may_name(cased[end + 1][0], written[end + 1]):
                end += 1
                continue
            if not _may_name(name_word, written[end]):
                break
            end += 1
        named = [w for w, _ in cased[start:end] if w not in _CONNECTORS]
        if not named or all(is_known(w) for w in named):
            continue
        if cased[end - 1][0] not in _CONNECTORS:
            extraction.args[argument] = question[spans[start].start() : spans[end - 1].end()]
            used |= set(range(i, end))


def _is_reserved(word: str) -> bool:
    """An ordinary word of questions: never taken alone as a client's or carrier's name."""
    return word in FILLER_WORDS or word in glossary_words() or is_stopword(word)


def _roman_number(code: str) -> int | None:
    """ "V" → 5, "VIII" → 8; None when `code` is not a Roman numeral."""
    values = [_ROMAN.get(ch) for ch in code.lower()]
    if not values or None in values:
        return None
    numbers = [v for v in values if v is not None]
    total = 0
    for value, following in zip(numbers, [*numbers[1:], 0], strict=True):
        total += -value if value < following else value
    return total


class CatalogMatcher:
    """Phrase table built once per catalogue (`fn_dx_catalogo`'s dict).

    `value_lists` maps each filter argument to the catalogue key of its plain string list.
    """

    def __init__(self, catalogue: dict[str, Any], value_lists: dict[str, str]):
        self.phrases: dict[tuple[str, ...], list[tuple[str, str, int]]] = {}
        self.fuzzy: dict[str, tuple[str, str]] = {}
        names: list[tuple[str, str]] = []
        for argument, key in value_lists.items():
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
                self._add_region_numbers(name, region)
        for comuna in catalogue.get("comunas") or []:
            name = comuna.get("nombre") if isinstance(comuna, dict) else comuna
            if isinstance(name, str):
                self._add("comuna", name, name, _PRIORITY["comuna"])
                self._add("comuna", name, f"comuna de {name}", _PRIORITY["comuna"] + 3)
                names.append(("comuna", name))
        self._add_short_places([n for a, n in names if a == "comuna"])
        for (argument, value), phrases in _VALUE_PHRASES.items():
            if (argument, value) in {(a, v) for a, v in names}:
                for phrase in phrases:
                    self._add(argument, value, phrase, 1)
        self._add_unique_words(names)
        for argument, value in names:
            if argument in _FUZZY_ARGS:
                self.fuzzy["".join(tokens(value))] = (argument, value)

    def _add_region_numbers(self, name: str, region: dict[str, Any]) -> None:
        """ "región 5", "5ta región", "región V", "la quinta": from the code and the alias
        that puts an ordinal before "región"."""
        priority = _PRIORITY["region"]
        code = region.get("codigo")
        number = _roman_number(code) if isinstance(code, str) else None
        if number is not None:
            self._add("region", name, f"region {code}", priority)
            self._add("region", name, f"region {number}", priority)
            for suffix in ("", *_ORDINAL_SUFFIXES):
                self._add("region", name, f"{number}{suffix} region", priority)
        for alias in region.get("alias") or []:
            words = tokens(alias) if isinstance(alias, str) else []
            if len(words) == 2 and words[1] == "region" and not words[0].isdigit():
                # Below "quinta región", so "la quinta región" keeps its "región".
                self._add("region", name, f"la {words[0]}", priority - 1)

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

    def _add_short_places(self, comunas: list[str]) -> None:
        """A place of several words is also named by its first one when no other place starts
        so ("Viña" for Viña del Mar; not "La" for La Serena)."""
        firsts: dict[str, list[str]] = {}
        for name in comunas:
            words = tokens(name)
            if len(words) > 1 and len(words[0]) >= 4 and words[0] not in _CONNECTORS:
                firsts.setdefault(words[0], []).append(name)
        for word, owners in firsts.items():
            if len(owners) == 1 and (word,) not in self.phrases:
                self._add("comuna", owners[0], word, _PRIORITY["comuna"] - 1)

    def _add_unique_words(self, names: list[tuple[str, str]]) -> None:
        """A distinctive word that names exactly one client or carrier ("Cóndor") names it."""
        owners: dict[str, set[tuple[str, str]]] = {}
        for argument, value in names:
            for word in tokens(value):
                owners.setdefault(word, set()).add((argument, value))
        for word, owned in owners.items():
            (argument, value), *rest = sorted(owned)
            if rest or len(word) < 5 or _is_reserved(word) or (word,) in self.phrases:
                continue
            if argument in ("cliente", "transportista"):
                self._add(argument, value, word, 0)

    def match(
        self, question: str, is_known: Callable[[str], bool] = lambda word: False
    ) -> Extraction:
        """The filters `question` names; `is_known` tells words that are never names."""
        words = tokens(question)
        found: list[Match] = []
        for start in range(len(words)):
            for length in range(min(6, len(words) - start), 0, -1):
                key = tuple(words[start : start + length])
                entries = self.phrases.get(key, ())
                if not entries and length <= _MAX_SPLIT_PARTS:
                    # "logi andes", "Trans-Rápido": a one-word value typed in parts.
                    entries = self.phrases.get(("".join(key),), ())
                for argument, value, priority in entries:
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
        cased = _cased_tokens(question)
        for argument, by_value in seen.items():
            if len(by_value) == 1:
                value, positions = next(iter(by_value.items()))
                other = None
                if argument in _NAMED and len(cased) == len(words):
                    other = self._other_name(question, cased, positions, value, extraction.used)
                if other is None:
                    extraction.args[argument] = value
                else:
                    text, run, named_as = other
                    extraction.args[named_as or argument] = text
                    extraction.used |= run
            else:
                # "en riesgo, atrasado o a tiempo" names several values of one argument: a
                # breakdown is asked for, and no single filter value can say it.
                extraction.enumerates = True
                for positions in by_value.values():
                    extraction.used -= positions
                    blocked |= positions
        self._match_fuzzy(extraction, blocked)
        if len(cased) == len(words):
            _cued_names(question, cased, extraction, is_known)
        return extraction

    def _other_name(
        self,
        question: str,
        cased: list[tuple[str, bool]],
        positions: set[int],
        value: str,
        used: set[int],
    ) -> tuple[str, set[int], str | None] | None:
        """The whole name when the matched words sit inside a longer capitalised name the
        catalogue lacks ("Andes Mall", "Transportes Los Andes" around "Andes"): the question
        names something else, so the harness must ask rather than read it as `value`."""
        own = tokens(value)
        core = sorted(i for i in positions if cased[i][0] in own or cased[i][0] == "".join(own))
        if not core:
            return None
        partial = len(core) < len(own) and cased[core[0]][0] != "".join(own)
        start, end = core[0], core[-1] + 1

        def joins(i: int, toward: int) -> bool:
            word, capital = cased[i]
            if i in used or not capital:
                return False
            if word in _CONNECTORS:
                j = i + toward
                return 0 <= j < len(cased) and cased[j][1] and j not in used
            return i > 0 or not _ordinary(word)

        first, last = start, end
        while first > 0 and joins(first - 1, -1):
            first -= 1
        while last < len(cased) and joins(last, 1):
            last += 1
        added = [cased[i][0] for i in (*range(first, start), *range(end, last))]
        names = [w for w in added if w not in _CONNECTORS]
        if not names or not (partial or any(not _ordinary(w) for w in names)):
            return None
        spans = list(_WORD.finditer(question.replace("_", " ")))
        if len(spans) != len(cased):
            return None
        # "Transportes …" says which filter the name is for, whatever value it touched.
        named_as = next((arg for arg in _NAMED for w in names if term(w) == term(arg)), None)
        text = question[spans[first].start() : spans[last - 1].end()]
        return text, set(range(first, last)), named_as

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
