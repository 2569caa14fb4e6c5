"""Okapi BM25 over the tool texts, written here because ten short documents need no library.

A tool's document is its name, its description (without the boilerplate lines most tools
share, such as the shared filter primer), its domain and keywords lines (weighted up) and
the enum values of arguments few tools take. The same score decides whether any tool fits:
too little of the question's content found in the best tool means "out of scope".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from miot_harness.models.offline.catalog import ToolSpec
from miot_harness.models.offline.text import fold, terms

K1 = 1.2
B = 0.75
# Lines naming the domain or keywords describe what the tool is about: count them thrice.
_SALIENT_LINE = re.compile(r"^\s*(domain|dominio|keywords|palabras clave)\b", re.I)
FIELD_BOOST = 3
# A question is in scope when its best tool reaches this BM25 score...
MIN_SCORE = 1.0
# ...and covers this share of the question's informative (idf-weighted) terms.
MIN_COVERAGE = 0.34
# Words no tool mentions weigh like a common word, so chit-chat around a clear ask is forgiven.
UNKNOWN_WEIGHT = 1.5
# Words that resolved to a filter value ("en riesgo", "TransRápido") say less about the tool.
NEUTRAL_WEIGHT = 0.25


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


def _document(tool: ToolSpec, boilerplate: set[str], common_args: set[str]) -> list[str]:
    name_text = tool.name.split("_", 1)[1] if "_" in tool.name else tool.name
    doc = list(terms(name_text)) * FIELD_BOOST
    for line in tool.description.splitlines():
        if fold(line).strip() in boilerplate:
            continue
        # Every TABLE function returns total_count (pinned contract): it says nothing here.
        line = line.replace("total_count", " ")
        weight = FIELD_BOOST if _SALIENT_LINE.match(line) else 1
        doc.extend(list(terms(line)) * weight)
    for argument, values in tool.enums.items():
        if argument not in common_args:
            doc.extend(term for value in values for term in terms(value))
    return doc


class ToolIndex:
    """BM25 index of one catalogue; `rank` scores a question against every tool."""

    def __init__(self, tools: list[ToolSpec]) -> None:
        self.tools = tools
        arg_counts = Counter(arg for tool in tools for arg in tool.properties)
        common_args = {arg for arg, n in arg_counts.items() if n * 2 >= len(tools)}
        boilerplate = _boilerplate_lines(tools)
        self._docs = [Counter(_document(t, boilerplate, common_args)) for t in tools]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if tools else 1.0
        df: Counter[str] = Counter(term for doc in self._docs for term in doc)
        n = len(tools)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def knows(self, term: str) -> bool:
        """Whether any tool's text has this term."""
        return term in self._idf

    def rank(self, question: str, neutral: frozenset[str] = frozenset()) -> list[ToolScore]:
        """Every tool's score, best first; `neutral` terms (filter values) never count against."""
        query = list(dict.fromkeys(terms(question)))
        weights = {t: self._idf.get(t, UNKNOWN_WEIGHT) for t in query}
        informative = sum(w for t, w in weights.items() if t not in neutral)
        scores: list[ToolScore] = []
        for tool, doc, length in zip(self.tools, self._docs, self._lengths, strict=True):
            score = 0.0
            matched: list[str] = []
            for term in query:
                tf = doc.get(term, 0)
                if not tf:
                    continue
                norm = K1 * (1 - B + B * length / self._avg_length)
                weight = NEUTRAL_WEIGHT if term in neutral else 1.0
                score += weight * self._idf[term] * tf * (K1 + 1) / (tf + norm)
                matched.append(term)
            found = sum(weights[t] for t in matched)
            total = informative + sum(weights[t] for t in matched if t in neutral)
            coverage = found / total if total else 0.0
            scores.append(ToolScore(tool.name, score, coverage, tuple(matched)))
        return sorted(scores, key=lambda s: (-s.score, s.name))
