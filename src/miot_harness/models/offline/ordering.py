"""A ranking order read off the question: its cue (más/menos, mayor/menor, peor/mejor, top N,
ranking) and the measure named after it, matched to the chosen tool's numeric output columns.

Columns are matched by their own words and by the glossary the tool descriptions write in
parentheses ("tasa de cumplimiento (porcentaje de entregados a tiempo)"), so a question in
the catalogue's words finds its column without a list of questions. "peor" and "mejor" rank
a rate by its sense: a measure of trouble (atrasos, riesgo, fallas) is worse when higher.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Any, Literal

import simplemma

from miot_harness.language.dates import resolve_dates
from miot_harness.language.normalise import fold
from miot_harness.language.words import is_stopword, stem, words
from miot_harness.schemas import OrderBy
from miot_harness.wording import is_percent

Direction = Literal["asc", "desc"]
NUMERIC_TYPES = frozenset(
    {"bigint", "integer", "smallint", "numeric", "real", "double precision", "decimal"}
)
# Cue word → (direction for a plain measure, whether it judges quality).
_CUES: dict[str, tuple[Direction, bool]] = {
    "mas": ("desc", False), "mayor": ("desc", False), "mayores": ("desc", False),
    "maximo": ("desc", False), "maxima": ("desc", False), "top": ("desc", False),
    "ranking": ("desc", False), "lidera": ("desc", False), "most": ("desc", False),
    "highest": ("desc", False), "menos": ("asc", False), "menor": ("asc", False),
    "menores": ("asc", False), "minimo": ("asc", False), "minima": ("asc", False),
    "least": ("asc", False), "lowest": ("asc", False),
    "peor": ("asc", True), "peores": ("asc", True), "worst": ("asc", True),
    "mejor": ("desc", True), "mejores": ("desc", True), "best": ("desc", True),
}  # fmt: skip
# General Spanish words of trouble: a measure of them is better when lower.
_TROUBLE = frozenset(
    stem(w)
    for w in (
        "atrasado", "atraso", "retraso", "demora", "riesgo", "fallido", "falla", "faltante",
        "problema", "brecha", "critico", "rechazado", "cancelado", "sin", "incidencia",
    )
)  # fmt: skip
# Words that only say how a value is measured: never the measure itself.
_UNIT_WORDS = frozenset({"pct", "n", "total", "cantidad", "numero"})
_PERCENT_WORDS = ("porcentaje", "tasa", "cumplimiento")
# Stem endings that make a noun of a verb ("cumplimiento" of "cumplir").
_NOUN_OF_VERB = ("amient", "imient")
_INFINITIVE = ("ar", "er", "ir")
_ROOT_MARK = "~"
# A past tense typed without its accent ("cumplio") is read with it ("cumplió").
_FINAL_ACCENT = str.maketrans("aeio", "áéíó")
_MIN_ROOT = 3
_GLOSS = re.compile(r"([\w][\w ]{2,60}?)\s*\(([^()]{3,120})\)")
_WINDOW = 6
_WINDOW_BEFORE = 3


def _is_content(word: str) -> bool:
    """Not a number nor a short function word (the stop lists also hold words like "tiempo")."""
    return not word.isdigit() and (len(word) > 3 or not is_stopword(word))


@lru_cache(maxsize=4096)
def _root(word: str) -> str | None:
    """The verb root a word shares with its kin: "cumple", "cumplió" and "cumplimiento" all
    give "~cumpl" (the infinitive of its lemma, or its stem without a noun-making ending)."""
    lemma = simplemma.lemmatize(word, lang="es")
    if lemma == word and not simplemma.is_known(word, lang="es"):
        lemma = simplemma.lemmatize(word[:-1] + word[-1:].translate(_FINAL_ACCENT), lang="es")
    lemma = fold(lemma)
    if lemma.endswith(_INFINITIVE):
        root = lemma[:-2]
    else:
        root = stem(word)
        for ending in _NOUN_OF_VERB:
            root = root.removesuffix(ending)
    return _ROOT_MARK + root if len(root) >= _MIN_ROOT else None


def _forms(word: str) -> set[str]:
    """A word's stem and verb root, what a question word and a column word meet on."""
    root = _root(word)
    return {stem(word), root} if root else {stem(word)}


def _stems(text: str) -> list[str]:
    return [stem(w) for w in words(text) if _is_content(w)]


def glossary(descriptions: Iterable[str]) -> dict[str, set[str]]:
    """Stem → stems it is defined with in any description's "term (definition)" pairs."""
    found: dict[str, set[str]] = {}
    for description in descriptions:
        for term, definition in _GLOSS.findall(description):
            defined = set(_stems(definition))
            for word in _stems(term)[-2:]:
                found.setdefault(word, set()).update(defined)
    return found


def _column_stems(column: str) -> set[str]:
    own = [w for w in words(column) if w not in _UNIT_WORDS and _is_content(w)]
    if is_percent(column):
        own += _PERCENT_WORDS
    return {form for word in own for form in _forms(word)}


def is_trouble(column: str) -> bool:
    """Whether a column measures trouble (atrasos, riesgo, fallas): better when lower."""
    return bool(_column_stems(column) & _TROUBLE)


def _cue(question: str) -> tuple[int, Direction, bool] | None:
    tokens = words(question)
    for position, token in enumerate(tokens):
        if token in _CUES:
            direction, judges = _CUES[token]
            return position, direction, judges
    return None


def asks_ranking(question: str) -> bool:
    """Whether the question carries a ranking cue (más/menos, peor/mejor, top, ranking…)."""
    return _cue(question) is not None


def _phrases(question: str, position: int) -> tuple[list[set[str]], list[set[str]]]:
    """The stem and root of each content word right after the cue, then of the few right
    before it (a verb that comes first: "cumplió menos")."""
    tokens = words(question)
    after = tokens[position + 1 : position + 1 + _WINDOW]
    before = tokens[max(0, position - _WINDOW_BEFORE) : position]
    return (
        [_forms(word) for word in after if _is_content(word)],
        [_forms(word) for word in before if _is_content(word)],
    )


def _best_column(columns: list[str], phrase: list[set[str]], judges: bool) -> str | None:
    """The column most of the phrase names; ties go to the later word (the qualifier)."""
    best, best_key = None, (0, -1, False)
    for column in columns:
        own = _column_stems(column)
        hits = [i for i, word in enumerate(phrase) if own & word]
        if not hits:
            continue
        key = (len(hits), max(hits), judges and is_percent(column))
        if key > best_key:
            best, best_key = column, key
    return best


def _without_dates(question: str) -> str:
    """The folded question with its date phrases blanked: "los últimos 30 días" names no
    measure (any day serves: only where the phrases are matters)."""
    text = fold(question)
    for start, end in resolve_dates(question, date.today()).spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def derive_order(
    question: str, columns: dict[str, str], descriptions: Iterable[str]
) -> OrderBy | None:
    """The order a ranking question asks of a tool with these output columns, or None."""
    question = _without_dates(question)
    cue = _cue(question)
    measures = [c for c, kind in columns.items() if kind in NUMERIC_TYPES]
    if cue is None or not measures:
        return None
    position, direction, judges = cue
    gloss = glossary(descriptions)
    column = None
    for phrase in _phrases(question, position):
        column = _best_column(measures, phrase, judges)
        if column is None:
            # Only when no column is named in its own words: through the descriptions' glossary.
            defined = [forms.union(*(gloss.get(f, set()) for f in forms)) for forms in phrase]
            column = _best_column(measures, defined, judges)
        if column is not None:
            break
    if column is None:
        # "el peor" alone judges by a rate; "los más urgentes" keeps the function's order.
        rates = [c for c in measures if is_percent(c)]
        if not (judges and rates):
            return None
        column = rates[0]
    if judges and is_trouble(column):
        direction = "asc" if direction == "desc" else "desc"
    return OrderBy(column=column, direction=direction)


def order_for_tool(question: str, tool: str, tools_section: Any) -> OrderBy | None:
    """`derive_order` for the tool named `tool` in the decoded `## Herramientas` section."""
    entries = [e for e in tools_section or [] if isinstance(e, dict)]
    entry = next((e for e in entries if e.get("name") == tool), None)
    columns = entry.get("output_columns") if entry else None
    if not isinstance(columns, dict):
        return None
    descriptions = [str(e.get("description") or "") for e in entries]
    return derive_order(question, {str(k): str(v) for k, v in columns.items()}, descriptions)
