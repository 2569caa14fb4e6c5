"""Typos of the operation's words corrected against a vocabulary, never against a typo list.

A word is corrected only when it is unknown: not in the vocabulary, not a filler, not a
Spanish or English word (`simplemma`'s dictionaries, so "lluvia" stays "lluvia"), and long
enough that one edit cannot turn one real word into another. The nearest vocabulary word by
optimal string alignment (a swap of two letters is one edit, as in "rendimeinto") wins when
every word that near means the same (one term: "distribucion" and "distribution").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from miot_harness.language.fillers import FILLER_WORDS
from miot_harness.language.words import is_common_word

MIN_WORD_CHARS = 5
# Words this long may be two edits away ("distribusion" is one, "dstribusion" two).
TWO_EDITS_FROM = 9


class Speller:
    """Corrects unknown words to the nearest word of one vocabulary (folded words)."""

    def __init__(self, vocabulary: Iterable[str], meaning: Callable[[str], object]) -> None:
        self._meaning = meaning
        self._words = sorted({w for w in vocabulary if len(w) >= MIN_WORD_CHARS - 1})
        self._known = frozenset(self._words)
        self.correct = lru_cache(maxsize=4096)(self._correct)

    def knows(self, word: str) -> bool:
        """Whether `word` (folded) is a word of the vocabulary."""
        return word in self._known

    def _correct(self, word: str) -> str | None:
        """The vocabulary word `word` is a typo of, or None."""
        if (
            len(word) < MIN_WORD_CHARS
            or word in self._known
            or word in FILLER_WORDS
            or not word.isalpha()
            or is_common_word(word)
        ):
            return None
        limit = 2 if len(word) >= TWO_EDITS_FROM else 1
        near = process.extract(word, self._words, scorer=OSA.distance, score_cutoff=limit, limit=3)
        if not near:
            return None
        best = min(distance for _, distance, _ in near)
        closest = [found for found, distance, _ in near if distance == best]
        return closest[0] if len({self._meaning(w) for w in closest}) == 1 else None
