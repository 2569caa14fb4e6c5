"""What a question states without choosing a tool: its filters (catalogue values, flags,
dates), the words those used up (which then weigh little in tool ranking), its paging, and the
names in it that the harness checks itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from miot_harness.language.catalogue_values import CatalogMatcher
from miot_harness.language.dates import resolve_dates
from miot_harness.language.normalise import fold
from miot_harness.language.question_flags import Paging, read_flags
from miot_harness.language.terms import terms
from miot_harness.language.words import is_common_word
from miot_harness.models.offline.prompt import SeatPrompt
from miot_harness.models.offline.ranking import ToolIndex

_NAME_WORD = re.compile(r"[^\W\d_]+")
_HYPHENATED = re.compile(r"[^\W_]+(?:-[^\W_]+)+")


def _key(word: str) -> str:
    """A word as the catalogue matcher's tokens spell it."""
    return fold(word).replace("ñ", "n")


@dataclass(frozen=True)
class QuestionFilters:
    """Every filter the question states, the terms they used up, and any paging."""

    args: dict[str, Any]
    neutral: frozenset[str]
    paging: Paging
    enumerates: bool = False
    # Capitalised words that are no ordinary words: names the harness checks itself.
    names: str = ""
    # Filters whose value is passed on as typed, no catalogue value: the harness asks first.
    typed: frozenset[str] = frozenset()


def _names(question: str, index: ToolIndex) -> str:
    """Capitalised words that are neither ordinary ones nor the tools' own ("Pepito", not
    "KPIs"): names the harness checks against the catalogue, so they never count against a
    tool."""
    return " ".join(
        word
        for word in _NAME_WORD.findall(question)
        if word[0].isupper()
        and not word.isupper()
        and not is_common_word(word)
        and not any(index.knows(t) for t in terms(word))
    )


def question_filters(prompt: SeatPrompt) -> QuestionFilters:
    """Every filter the question states, the terms those filters used up, and its paging."""
    _, index = prompt.tools
    now = prompt.now
    return _question_filters(
        prompt.question, index, prompt.matcher, now.date() if now is not None else None
    )


@lru_cache(maxsize=256)
def _question_filters(
    question: str, index: ToolIndex, matcher: CatalogMatcher, today: date | None
) -> QuestionFilters:
    """Read once per question, catalogue and day: the filter expert and the analyst of a run
    both ask (the index and the matcher are cached per section text, so they key by identity)."""
    extraction = matcher.match(question, index.speller.knows)
    args: dict[str, Any] = dict(extraction.args)
    flags = read_flags(question)
    args.update(flags.args)
    matched = set(extraction.consumed().split())
    # The matcher reads "Trans-Rápido" as one word; tool ranking and names read its parts.
    split = [w for w in _HYPHENATED.findall(question) if _key(w.replace("-", "")) in matched]
    matched |= {_key(part) for word in split for part in word.split("-")}
    names = " ".join(w for w in _names(question, index).split() if _key(w) not in matched)
    consumed = [extraction.consumed(), flags.text, names, *(w.replace("-", " ") for w in split)]
    if today is not None:
        dates = resolve_dates(question, today)
        args.update(dates.as_args())
        folded = fold(question)  # same length as the text the spans index
        consumed.extend(folded[start:end] for start, end in dates.spans)
    neutral = frozenset(terms(" ".join(consumed)))
    known = _catalogue_values(matcher)
    typed = frozenset(name for name, value in extraction.args.items() if (name, value) not in known)
    return QuestionFilters(args, neutral, flags.paging, extraction.enumerates, names, typed)


@lru_cache(maxsize=16)
def _catalogue_values(matcher: CatalogMatcher) -> frozenset[tuple[str, Any]]:
    """Every (filter, value) the catalogue holds (the matcher is cached per section text)."""
    return frozenset(
        (argument, value)
        for entries in matcher.phrases.values()
        for argument, value, _ in entries
        if isinstance(value, str)
    )
