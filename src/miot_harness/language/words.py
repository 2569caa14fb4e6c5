"""Words of a text as the harness compares them: folded tokens, Snowball stems, a lexicon.

The lexicon is general Spanish and English (the `stop-words` lists and `simplemma`'s
dictionaries), never the wording of any example question: it tells an ordinary word
("transportes", "grande") from a name the user typed ("Falabella", "Starken").
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


@lru_cache(maxsize=16384)
def is_stopword(word: str) -> bool:
    """A Spanish or English function word, in any inflection ("cuántos" as "cuánto")."""
    folded = fold(word)
    return folded in _stopwords() or fold(simplemma.lemmatize(folded, lang="es")) in _stopwords()


def warm_up() -> None:
    """Load the Spanish and English dictionaries and the stop words now (about 2 s on first
    use), so that the first question does not wait for them."""
    _stopwords()
    simplemma.is_known("casa", lang="es")
    simplemma.is_known("house", lang="en")


# Object pronouns a Spanish verb may carry ("muéstrame", "dímelo"), longest first.
_FIRST = ("me", "te", "se", "nos", "os")
_SECOND = ("lo", "la", "los", "las", "le", "les")
_ENCLITICS = tuple(
    sorted({*_FIRST, *_SECOND, *(a + b for a in _FIRST for b in _SECOND)}, key=len, reverse=True)
)
_MIN_VERB_CHARS = 2


def _known(word: str) -> bool:
    return is_stopword(word) or simplemma.is_known(word, lang="es")


def is_english_word(word: str) -> bool:
    """A word of general English ("show", "blue"): English names are often ordinary words."""
    return simplemma.is_known(word.lower(), lang="en")


@lru_cache(maxsize=16384)
def is_common_word(word: str) -> bool:
    """A word of general Spanish (any inflection, a verb with its pronouns: "muéstrame",
    "pásamelo") or an English function word, as opposed to a name ("Starken", "Blue")."""
    lowered = word.lower()
    if _known(lowered):
        return True
    folded = fold(lowered)
    return any(
        len(folded) - len(suffix) >= _MIN_VERB_CHARS and _known(folded[: -len(suffix)])
        for suffix in _ENCLITICS
        if folded.endswith(suffix)
    )
