"""Words of a text as the harness compares them: folded tokens, Snowball stems, a lexicon.

The lexicon is general Spanish and English (the `stop-words` lists and `simplemma`'s
dictionaries), never the wording of any example question: it tells an ordinary word
("transportes", "grande") from a name the user typed ("Pepito", "Falabella").
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma
import snowballstemmer
from stop_words import get_stop_words

from miot_harness.language.normalise import fold

_TOKEN = re.compile(r"[a-z0-9ñ]+")
_STEMMER = snowballstemmer.stemmer("spanish")
_LEXICON_LANGUAGES = ("es", "en")


def words(text: str) -> list[str]:
    """Folded word tokens; underscores and punctuation split words."""
    return _TOKEN.findall(fold(text).replace("_", " "))


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """The Snowball Spanish stem of a folded word ("atrasados" → "atras")."""
    return _STEMMER.stemWord(word)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(
        token
        for language in ("spanish", "english")
        for token in words(" ".join(get_stop_words(language)))
    )


def is_stopword(word: str) -> bool:
    """A Spanish or English function word (folded comparison)."""
    return fold(word) in _stopwords()


@lru_cache(maxsize=16384)
def is_common_word(word: str) -> bool:
    """A word of general Spanish or English (any inflection), as opposed to a name."""
    lowered = word.lower()
    return is_stopword(lowered) or any(
        simplemma.is_known(lowered, lang=language) for language in _LEXICON_LANGUAGES
    )
