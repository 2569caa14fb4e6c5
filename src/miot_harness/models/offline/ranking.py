"""Okapi BM25 over the tool texts, written here because ten short documents need no library.

A tool's document is its name, its description (without the boilerplate lines most tools
share, such as the shared filter primer, and without format lines), its domain and keywords
lines (weighted up), the enum values of arguments few tools take, and terms for its return
shape: a breakdown "por X" (from the description or from grouping columns it returns), a
listing of servicios (it returns their codes, or lists them "los más … primero"), a
reference list (it takes no arguments), or one count (its description opens with what it
counts: "Cantidad de …"). A question adds the same shape terms when it asks "por comuna",
"desglosado por región", "cuáles / muéstrame / lista" or "cuántos", so the cue steers
between a summary, a breakdown, a count and a list; a breakdown cue outweighs a count cue.
Words no tool uses are corrected against the tools' own words first ("rendimeinto"). The
same score decides whether any tool fits: too little of the question's content found in the
best tool means "not clear".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache

from miot_harness.language.normalise import fold
from miot_harness.language.spelling import Speller
from miot_harness.language.terms import (
    TOKEN,
    corrected_terms,
    glossary_words,
    plain_text,
    term,
    terms,
)
from miot_harness.models.offline.catalog import ToolSpec

K1 = 1.2
B = 0.75
# Lines naming the domain or keywords describe what the tool is about: count them thrice.
_SALIENT_LINE = re.compile(r"^\s*(domain|dominio|keywords|palabras clave)\s*:", re.I)
# Format lines say how a tool answers, not what about.
_FORMAT_LINE = re.compile(r"^\s*(returns|layer|side_effects)\s*:", re.I)
_LAYER_TAG = re.compile(r"^\s*\[\w+\]\s*|^\s*(?:L1|L2|L3|VT):\s*")
FIELD_BOOST = 3
# A question is in scope when its best tool reaches this BM25 score...
MIN_SCORE = 1.0
# ...and covers this share of the question's informative (idf-weighted) terms.
MIN_COVERAGE = 0.34
# Words no tool mentions weigh like a common word, so chit-chat around a clear ask is forgiven.
UNKNOWN_WEIGHT = 1.5
# Words that resolved to a filter value ("en riesgo", "TransRápido") say less about the tool.
NEUTRAL_WEIGHT = 0.25

# Shape terms cannot collide with words: words never hold "·". They steer between tools the
# words already point to, so they weigh less than a word and never count for coverage.
SHAPE_MARK = "·"
SHAPE_WEIGHT = 0.6
BREAKDOWN_WEIGHT = 1.0
BREAKDOWN = "·por·"
LISTING = "·lista"
COUNT = "·conteo"
_COUNT_TERM = term("cantidad")
_BREAKDOWN_CUE = re.compile(
    r"\b(?:por|by|per|segun|cada|each|desglosad[oa]s?\s+por|agrupad[oa]s?\s+por|"
    r"split\s+by|broken\s+down\s+by|ranking\s+de|ranking\s+por)\s+"
    r"(?:el\s+|la\s+|los\s+|las\s+|the\s+)?([a-z0-9]+)"
)
# A ranking of some kind of thing is a breakdown by it ("top 3 de transportistas", "el
# centro con más brecha", "which carrier has the most").
_RANKED = r"(?:mas|menos|mayor|menor|peor|mejor|most|least|fewest|worst|best|highest|lowest)"
_RANKING_CUE = re.compile(
    r"\b(?:top\s*\d*|ranking|peores|mejores|worst|best)\s+(?:\d+\s+)?(?:de\s+|of\s+)?"
    r"(?:los\s+|las\s+|the\s+)?([a-z]+)"
    rf"|\b([a-z]+)\s+(?:con|with|que\s+[a-z]+|has|had|have)\s+(?:el\s+|la\s+|the\s+)?{_RANKED}\b"
)
_DESCRIPTION_BREAKDOWN = re.compile(r"\bpor\s+([a-z]+)(?:\s+de\s+[a-z]+)?(?:\s+y\s+([a-z]+))?")
_LISTING_CUE = re.compile(
    r"\b(?:cuales|which|lista|listado|listame|listar|list|muestrame|mostrar|show|"
    r"que\s+(?:servicios|pedidos|envios|entregas|despachos|ordenes))\b"
    r"|\bque\s+[a-z]+\s+(?:hay|existen|tenemos|manejamos|trabajan|trabajamos|operan)\b"
    r"|\bwhat\s+[a-z]+\s+(?:are\s+there|do\s+we\s+have|exist)\b"
)
_ORDERED_LISTING = re.compile(r"\blos\s+mas\s+[a-z]+\s+primero\b")
_ROW_KEY = "codigo"


@dataclass(frozen=True)
class ToolScore:
    name: str
    score: float
    coverage: float
    matched: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return self.score >= MIN_SCORE and self.coverage >= MIN_COVERAGE


def _boilerplate_lines(tools: list[ToolSpec]) -> set[str]:
    """Description lines that at least half of the tools share (e.g. the filter primer)."""
    counts: Counter[str] = Counter()
    for tool in tools:
        counts.update({fold(line).strip() for line in tool.description.splitlines()})
    threshold = max(2, math.ceil(len(tools) / 2))
    return {line for line, n in counts.items() if line and n >= threshold}


def _breakdown_term(word: str) -> str | None:
    found = term(word)
    return BREAKDOWN + found if found else None


def shape_terms(tool: ToolSpec) -> set[str]:
    """Terms for what a tool's rows are: a breakdown by some filter, or a listing."""
    summary = plain_text(_LAYER_TAG.sub("", tool.description.strip().split("\n", 1)[0]))
    shapes: set[str] = set()
    lists_rows = _ROW_KEY in tool.output_columns or bool(_ORDERED_LISTING.search(summary))
    if not tool.properties or lists_rows:
        shapes.add(LISTING)
    opening = terms(summary)[:1]
    if not tool.output_columns and opening == (_COUNT_TERM,):
        shapes.add(COUNT)
    if not lists_rows:
        for match in _DESCRIPTION_BREAKDOWN.finditer(summary):
            shapes.update(t for w in match.groups() if w and (t := _breakdown_term(w)))
        groups = set(tool.output_columns) & set(tool.properties)
        for column in groups:
            shapes.update(t for w in column.split("_") if (t := _breakdown_term(w)))
    return shapes


def question_shapes(question: str) -> set[str]:
    """The shape terms a question's cues ask for (by what, or a list)."""
    text = plain_text(question)
    said = [m.group(1) for m in _BREAKDOWN_CUE.finditer(text)]
    said += [w for m in _RANKING_CUE.finditer(text) for w in m.groups() if w]
    shapes = {t for word in said if (t := _breakdown_term(word))}
    if _LISTING_CUE.search(text):
        shapes.add(LISTING)
    if _COUNT_TERM in terms(question):
        shapes.add(COUNT)
    return shapes


def _description_text(tool: ToolSpec, boilerplate: set[str]) -> list[tuple[str, int]]:
    """Each description line worth indexing, without its format key, with its weight."""
    lines: list[tuple[str, int]] = []
    for index, line in enumerate(tool.description.splitlines()):
        if fold(line).strip() in boilerplate or _FORMAT_LINE.match(line):
            continue
        if index == 0:
            line = _LAYER_TAG.sub("", line)
        weight = FIELD_BOOST if _SALIENT_LINE.match(line) else 1
        if weight > 1:
            line = line.split(":", 1)[1]
        # Every TABLE function returns total_count (pinned contract): it says nothing here.
        lines.append((line.replace("total_count", " "), weight))
    return lines


def _document(tool: ToolSpec, boilerplate: set[str], common_args: set[str]) -> list[str]:
    name_text = tool.name.split("_", 1)[1] if "_" in tool.name else tool.name
    doc = list(terms(name_text)) * FIELD_BOOST
    for line, weight in _description_text(tool, boilerplate):
        doc.extend(list(terms(line)) * weight)
    for argument, values in tool.enums.items():
        if argument not in common_args:
            doc.extend(found for value in values for found in terms(value))
    doc.extend(sorted(shape_terms(tool)))
    return doc


def _words(tool: ToolSpec, boilerplate: set[str]) -> set[str]:
    text = " ".join(line for line, _ in _description_text(tool, boilerplate))
    return set(TOKEN.findall(plain_text(f"{tool.name} {text}")))


class ToolIndex:
    """BM25 index of one catalogue; `rank` scores a question against every tool."""

    def __init__(self, tools: list[ToolSpec]) -> None:
        self.tools = tools
        arg_counts = Counter(arg for tool in tools for arg in tool.properties)
        common_args = {arg for arg, n in arg_counts.items() if n * 2 >= len(tools)}
        self._boilerplate = _boilerplate_lines(tools)
        self._docs = [Counter(_document(t, self._boilerplate, common_args)) for t in tools]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if tools else 1.0
        df: Counter[str] = Counter(word for doc in self._docs for word in doc)
        n = len(tools)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    @cached_property
    def speller(self) -> Speller:
        """Corrects typos to the tools' own words and the glossary's."""
        vocabulary = set(glossary_words())
        for tool in self.tools:
            vocabulary |= _words(tool, self._boilerplate)
        return Speller(vocabulary, term)

    def knows(self, word: str) -> bool:
        """Whether any tool's text has this term."""
        return word in self._idf

    def question_terms(self, question: str, shapes: bool = True) -> list[str]:
        """The question's terms, typos corrected, then (with `shapes`) the shape terms some
        tool has (a count cue only when no breakdown is asked: "cuántos … por centro")."""
        found = list(corrected_terms(question, self.speller.correct))
        if not shapes:
            return list(dict.fromkeys(found))
        asked = {s for s in question_shapes(question) if s in self._idf}
        if any(s.startswith(BREAKDOWN) for s in asked):
            asked.discard(COUNT)
        found.extend(sorted(asked))
        return list(dict.fromkeys(found))

    def rank(
        self, question: str, neutral: frozenset[str] = frozenset(), shapes: bool = True
    ) -> list[ToolScore]:
        """Every tool's score, best first; `neutral` terms (filter values) never count against;
        without `shapes`, by the question's words alone."""
        return list(_ranked(self, question, neutral, shapes))

    def _scores(self, question: str, neutral: frozenset[str], shapes: bool) -> list[ToolScore]:
        query = self.question_terms(question, shapes)
        words = [t for t in query if not t.startswith(SHAPE_MARK)]
        weights = {t: self._idf.get(t, UNKNOWN_WEIGHT) for t in words}
        informative = sum(w for t, w in weights.items() if t not in neutral)
        scores: list[ToolScore] = []
        for tool, doc, length in zip(self.tools, self._docs, self._lengths, strict=True):
            score = 0.0
            matched: list[str] = []
            for word in query:
                tf = doc.get(word, 0)
                if not tf:
                    continue
                norm = K1 * (1 - B + B * length / self._avg_length)
                weight = NEUTRAL_WEIGHT if word in neutral else 1.0
                if word.startswith(SHAPE_MARK):
                    weight = BREAKDOWN_WEIGHT if word.startswith(BREAKDOWN) else SHAPE_WEIGHT
                score += weight * self._idf[word] * tf * (K1 + 1) / (tf + norm)
                matched.append(word)
            found = sum(weights.get(t, 0.0) for t in matched)
            total = informative + sum(weights[t] for t in matched if t in neutral)
            coverage = found / total if total else 0.0
            scores.append(ToolScore(tool.name, score, coverage, tuple(matched)))
        return sorted(scores, key=lambda s: (-s.score, s.name))


@lru_cache(maxsize=256)
def _ranked(
    index: ToolIndex, question: str, neutral: frozenset[str], shapes: bool
) -> tuple[ToolScore, ...]:
    """A question is ranked by several seats and clauses of one run: score it once."""
    return tuple(index._scores(question, neutral, shapes))
