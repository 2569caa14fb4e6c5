"""Does a question speak of the operation? The tools' own words and the catalogue say.

The vocabulary is the stems of what each tool's description says of itself (the paragraph
every tool repeats about shared filters aside), its `@meta` domain and keywords, its
argument names, and the catalogue's values. Words of time and place are left out: a date or
a city alone ("¿va a llover mañana en Santiago?") is no sign of the operation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from miot_harness.language.normalise import fold
from miot_harness.language.words import is_stopword, stem, words
from miot_harness.models.seat_protocol import VALUE_LIST_KEYS
from miot_harness.nexo.identity_cache import by_identity
from miot_harness.tools import HarnessTool

# General words of time and place: they narrow a question, they never make it operational.
TIME_AND_PLACE_WORDS = frozenset(
    words(
        "hoy ayer mañana anteayer pasado semana semanas mes meses año años dia dias fecha fechas"
        " hora horas tiempo tarde noche madrugada lunes martes miercoles jueves viernes sabado"
        " domingo enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre"
        " noviembre diciembre desde hasta rango region regiones comuna comunas ciudad ciudades"
        " direccion lugar zona pais today yesterday tomorrow week month year day date time"
    )
)
# Arguments that page or date a query: every tool takes them, they say nothing of the domain.
_PAGING_AND_DATES = frozenset({"fecha", "desde", "hasta", "tipo", "limit", "offset", "es", "p"})
_META_LINE = re.compile(r"^\s*(\w+):\s*(.*)$")
_DESCRIBING_KEYS = {"domain", "keywords"}
_SKIPPED_KEYS = {"returns", "layer", "side_effects"}
_SERVICE_CODE = re.compile(r"\bsv-?\s?\d{1,7}\b", re.IGNORECASE)
_MIN_WORD_CHARS = 3
# A word this long within this edit ratio of a tool's word is that word mistyped.
MIN_TYPO_CHARS = 5
TYPO_MIN_RATIO = 85.0
# The share of a question's content words that must be the operation's for it to count.
MIN_SIGNAL_SHARE = 0.4
# Shorter stems collide across unrelated words ("colo" and "cola" both stem to "col").
_MIN_STEM_CHARS = 4
_PLACE_VALUE_KEYS = ("regiones", "comunas")


def _content_words(text: str) -> list[str]:
    return [
        word
        for word in words(text)
        if len(word) >= _MIN_WORD_CHARS
        and not word.isdigit()
        and not is_stopword(word)
        and word not in TIME_AND_PLACE_WORDS
    ]


def _word_keys(word: str) -> set[str]:
    """A content word and its stem (when long enough to tell words apart)."""
    root = stem(word)
    return {word, root} if len(root) >= _MIN_STEM_CHARS else {word}


def _content_keys(text: str) -> set[str]:
    """The content words of `text` and their stems."""
    return {key for word in _content_words(text) for key in _word_keys(word)}


def _own_text(description: str, shared: set[str]) -> str:
    """A description without the paragraphs other tools repeat and without format lines."""
    kept: list[str] = []
    for paragraph in re.split(r"\n\s*\n", description):
        if paragraph.strip() in shared:
            continue
        for line in paragraph.splitlines():
            meta = _META_LINE.match(line)
            key = meta.group(1).lower() if meta else ""
            if key in _SKIPPED_KEYS:
                continue
            kept.append(meta.group(2) if key in _DESCRIBING_KEYS and meta else line)
    return "\n".join(kept)


def _shared_paragraphs(tools: Sequence[HarnessTool]) -> set[str]:
    counts = Counter(
        paragraph.strip()
        for tool in tools
        for paragraph in set(re.split(r"\n\s*\n", tool.description))
        if paragraph.strip()
    )
    return {paragraph for paragraph, count in counts.items() if count > 1}


def _argument_words(tool: HarnessTool) -> str:
    names = " ".join(tool.input_model.model_fields).replace("_", " ")
    return " ".join(word for word in names.split() if word not in _PAGING_AND_DATES)


def _catalogue_words(values: dict[str, Any]) -> str:
    """The catalogue's names and codes that are not places."""
    found: list[str] = []
    for key in VALUE_LIST_KEYS.values():
        if key in _PLACE_VALUE_KEYS:
            continue
        listed = values.get(key)
        if isinstance(listed, list):
            found.extend(value for value in listed if isinstance(value, str))
    return " ".join(found)


@dataclass(frozen=True)
class DomainVocabulary:
    """Words and stems that signal the operation, overall and in each tool's own text."""

    keys: frozenset[str]
    # The tools' own words, the argument names and the tenant: not the catalogue's values.
    tool_keys: frozenset[str]
    tool_words: tuple[str, ...]
    by_tool: dict[str, frozenset[str]]

    def has_signal(self, question: str, ignore: Sequence[str] = ()) -> bool:
        """A service code, or enough of the question's content words are the tools' or the
        catalogue's, names (`ignore`) aside: "¿cuánto gana un conductor en Chile?" names a
        domain word in passing."""
        if _SERVICE_CODE.search(question):
            return True
        names = {word for text in ignore for word in words(text)}
        content = [word for word in _content_words(question) if word not in names]
        hits = sum(1 for word in content if self._keys_of(word) & self.keys)
        return hits > 0 and hits >= MIN_SIGNAL_SHARE * len(content)

    def _keys_of(self, word: str) -> set[str]:
        """A folded word's keys; a typo of a tool's word ("rendimeinto") takes that word's."""
        keys = _word_keys(word)
        if keys & self.keys or len(word) < MIN_TYPO_CHARS:
            return keys
        near = process.extractOne(
            word, self.tool_words, scorer=fuzz.ratio, score_cutoff=TYPO_MIN_RATIO
        )
        return _word_keys(near[0]) if near else keys

    def is_domain_word(self, word: str) -> bool:
        """A folded word the tools use, or a typo of one ("contol"); a catalogue value's words
        are names, not this."""
        return bool(self._keys_of(word) & self.tool_keys)

    def is_filler(self, word: str) -> bool:
        """A word that cannot be part of a name: a function word, a number, a word of time or
        place, or one of the tools' own."""
        folded = fold(word)
        return (
            not folded.isalpha()
            or is_stopword(folded)
            or folded in TIME_AND_PLACE_WORDS
            or self.is_domain_word(folded)
        )

    def ranked_tools(self, question: str) -> list[str]:
        """Tools whose own words the question uses, most shared first (ties in catalogue order)."""
        asked = {key for word in _content_words(question) for key in self._keys_of(word)}
        scored = [(len(asked & own), name) for name, own in self.by_tool.items()]
        ordered = sorted(
            (item for item in scored if item[0] > 0),
            key=lambda item: -item[0],
        )
        return [name for _, name in ordered]


def domain_vocabulary(
    tools: Sequence[HarnessTool], values: dict[str, Any], tenant: str = ""
) -> DomainVocabulary:
    """The vocabulary of a set of tools and a catalogue (and the tenant's own name), built
    once per tool set, catalogue and tenant."""
    return _vocabulary(tuple(tools), values, tenant)


@by_identity()
def _vocabulary(
    tools: tuple[HarnessTool, ...], values: dict[str, Any], tenant: str
) -> DomainVocabulary:
    shared = _shared_paragraphs(tools)
    by_tool = {
        tool.name: frozenset(
            _content_keys(_own_text(tool.description, shared) + " " + tool.name.replace("_", " "))
        )
        for tool in tools
    }
    own = set().union(*by_tool.values()) if by_tool else set()
    own |= _content_keys(" ".join([tenant, *(_argument_words(tool) for tool in tools)]))
    overall = own | _content_keys(_catalogue_words(values))
    tool_words = tuple(sorted(key for key in own if len(key) >= MIN_TYPO_CHARS))
    return DomainVocabulary(frozenset(overall), frozenset(own), tool_words, by_tool)
