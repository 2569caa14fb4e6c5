"""One text fold for comparing what people type with what the catalogue and the rules say.

`fold` is the only place that decides how text is compared, so the request gate, routing,
filter values, the offline model and the evals agree on it:

- NFKC first, so full-width and compatibility forms ("ＦＮ＿Ｒｅｆｒｅｓｈ", "ﬁ") become
  their plain letters;
- invisible characters (zero-width spaces and joiners, soft hyphens, bidi marks) are removed,
  so they cannot split a word the gate looks for;
- case folded (`str.casefold`, so "ß" is "ss");
- letters that look like Latin ones (Cyrillic, Greek, IPA) and dash variants become the Latin
  letter or "-", so "rеfrеsh" with a Cyrillic "е" reads as "refresh";
- accents removed, except that "ñ" stays its own letter ("año" is not "ano").

Whitespace and punctuation are kept: the gate's patterns read line ends and punctuation.
`fold_phrase` also makes underscores and runs of whitespace one space, for values.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ɡ": "g", "ɑ": "a",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ı": "i", "ℓ": "l",
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-", "＿": "_",
    }
)  # fmt: skip
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]"
)
_TILDE = "\u0303"


def fold(text: str) -> str:
    """Text for comparison: NFKC, invisibles out, case folded, look-alikes Latin, accents out
    (ñ kept)."""
    # Words and characters recur on every question (tokens, names, catalogue values); a long
    # text is folded once and not worth keeping.
    return _fold_short(text) if len(text) <= _SHORT_TEXT else _fold(text)


_SHORT_TEXT = 48


@lru_cache(maxsize=16384)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    text = text.translate(_CONFUSABLES)
    kept: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if not unicodedata.combining(ch):
            kept.append(ch)
        elif ch == _TILDE and kept and kept[-1] == "n":
            kept[-1] = "ñ"
    return "".join(kept)


def fold_phrase(text: str) -> str:
    """`fold`, with underscores and runs of whitespace as one space and the ends trimmed."""
    return " ".join(fold(text).replace("_", " ").split())
