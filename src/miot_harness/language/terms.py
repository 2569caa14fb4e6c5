"""Content terms of a text: what questions and tool texts are compared by.

A text is folded ("ñ" read as "n", since operators type "Nunoa"), glossary phrases become
one word, then each word is read as its glossary group's word when it is one, dropped when it is a
filler, a word of asking ("dame") or a Spanish or English function word (the `stop-words`
lists, also by its `simplemma` lemma: "estamos" is "estar"), and otherwise reduced to its
Snowball stem (read as a glossary group's word when an inflection of one), so "auditoría",
"auditorias" and "auditoria" meet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import simplemma

from miot_harness.language.fillers import FILLER_PHRASES, FILLER_WORDS, REQUEST_WORDS
from miot_harness.language.glossary import PHRASES, SYNONYM_GROUPS
from miot_harness.language.normalise import fold
from miot_harness.language.words import is_stopword, stem

TOKEN = re.compile(r"[a-z0-9ñ]+|%")


@lru_cache(maxsize=1)
def _canonical() -> dict[str, str]:
    """Stem of every glossary word → the stem of its group's first word."""
    mapping: dict[str, str] = {}
    for group in SYNONYM_GROUPS:
        canonical = stem(fold(group[0]))
        for word in group:
            mapping.setdefault(stem(fold(word)), canonical)
    return mapping


@lru_cache(maxsize=1)
def glossary_words() -> frozenset[str]:
    """Every folded word of the glossary (what a typo may be corrected to)."""
    return frozenset(fold(word).replace("ñ", "n") for group in SYNONYM_GROUPS for word in group)


def plain_text(text: str) -> str:
    """Folded text with "ñ" as "n", underscores as spaces and fillers and phrases applied."""
    folded = fold(text).replace("ñ", "n").replace("_", " ")
    for phrase in FILLER_PHRASES:
        if phrase in folded:
            folded = re.sub(rf"\b{re.escape(phrase)}\b", " ", folded)
    for phrase, word in PHRASES:
        if phrase in folded:
            folded = re.sub(rf"\b{re.escape(phrase)}\b", word, folded)
    return folded


@lru_cache(maxsize=16384)
def _is_function_word(word: str) -> bool:
    if word in REQUEST_WORDS or is_stopword(word):
        return True
    return is_stopword(simplemma.lemmatize(word, lang="es"))


@lru_cache(maxsize=16384)
def term(word: str) -> str | None:
    """The term of one folded word, or None for a filler, a function word or a number."""
    if word in FILLER_WORDS or word.isdigit():  # numbers are filter values, not topics
        return None
    stemmed = stem(word)
    if word in glossary_words():
        return _canonical()[stemmed]
    if _is_function_word(word):
        # Only the glossary's own words: "cuánto" (a price) shares the stem of "cuántos".
        return None
    return _canonical().get(stemmed, stemmed)


@lru_cache(maxsize=4096)
def terms(text: str) -> tuple[str, ...]:
    """The terms of the content words of `text`, in order."""
    return tuple(t for word in TOKEN.findall(plain_text(text)) if (t := term(word)) is not None)


def corrected_terms(text: str, correct: Callable[[str], str | None]) -> tuple[str, ...]:
    """`terms`, reading each word as `correct` spells it when it returns a correction."""
    out: list[str] = []
    for word in TOKEN.findall(plain_text(text)):
        fixed = correct(word) or word
        if (found := term(fixed)) is not None:
            out.append(found)
    return tuple(out)
