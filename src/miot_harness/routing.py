"""Route classifier: Nexo unless the question is a narrative ask the Nexo catalogue does not claim.

Misrouting an operational question into storytelling is the expensive error, so Nexo is the
default: the seed's literal tokens and a case-sensitive, word-bounded `ETA` always win, and
storytelling needs a narrative ask ("cuéntame cómo fue la semana") about something a story
covers (a period, the operation's everyday subjects, the storytelling tools' own words; "un
chiste" is none of them) that neither asks for figures nor names terms that single out one
Nexo tool in its catalogue texts (words the storytelling tools' own texts use, and the
narrative words themselves, do not count).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from miot_harness.language.dates import resolve_dates
from miot_harness.language.normalise import fold
from miot_harness.language.terms import terms
from miot_harness.schemas import HarnessRoute

NEXO_TOKENS = (
    "coordinador",
    "mintral",
    "centro de control",
    "cola critica",
    "dimensionamiento",
    "torre de control",
    "auditoria pod",
    "fn_dx",
)
_ETA = re.compile(r"\bETA\b")

# Patterns over folded text (lower case, no accents).
_NARRATIVE = re.compile(
    r"\b(cuent(a|ame|anos|enme)|que (paso|ocurrio|sucedio|ha pasado)|"
    r"como (fue|fueron|nos fue|les fue|estuvo|estuvieron|resulto|anduvo|anduvieron)|"
    r"histori(a|al)|relat(o|a|ame)|narr(a|ame|acion)|cronica|"
    r"tell me|what happened|story of|how did)\b"
)
_FIGURES = re.compile(
    r"(\bcuant[oa]s?\b|\blist(a|ado|ar|ame)\b|\btop ?\d*\b|\bporcentaje\b|%|"
    r"\branking\b|\btasa\b|\bmuestr(a|ame)\b|\bdame\b|\bhow many\b|\blist\b)"
)
# Words every story is about: they never single out a Nexo tool.
_STORY_SUBJECTS = frozenset(terms("servicio servicios entrega entregas dia dias semana mes"))
_MIN_DISTINCTIVE_HITS = 2
# Any day serves: only whether the question names a period matters, not which.
_ANY_DAY = date(2026, 1, 1)


def stems(text: str) -> set[str]:
    """The content terms of `text`, without the subjects of any story."""
    return set(terms(text)) - _STORY_SUBJECTS


def has_nexo_token(message: str) -> bool:
    """The seed's rule: a literal Coordinador token, or `ETA` as an upper-case word."""
    folded = fold(message)
    return any(token in folded for token in NEXO_TOKENS) or bool(_ETA.search(message))


@lru_cache(maxsize=8)
def _distinctive_stems(texts: tuple[str, ...], story_texts: tuple[str, ...]) -> frozenset[str]:
    """Stems in exactly one Nexo catalogue text and in no storytelling tool text."""
    document_frequency: Counter[str] = Counter()
    for text in texts:
        document_frequency.update(stems(text))
    shared = {stem for text in story_texts for stem in stems(text)}
    return frozenset(
        stem for stem, count in document_frequency.items() if count == 1 and stem not in shared
    )


def catalogue_claims(
    message: str, nexo_catalogue_texts: Sequence[str], story_texts: Sequence[str] = ()
) -> bool:
    """Whether the question, narrative words aside, names terms that single out one Nexo tool."""
    if not nexo_catalogue_texts:
        return False
    distinctive = _distinctive_stems(tuple(nexo_catalogue_texts), tuple(story_texts))
    # "historia" asks for a story even when a tool lists it as a keyword.
    content = _NARRATIVE.sub(" ", fold(message))
    hits = {stem for stem in stems(content) if stem in distinctive}
    return len(hits) >= _MIN_DISTINCTIVE_HITS


def is_about_operations(message: str, story_texts: Sequence[str] = ()) -> bool:
    """Whether a narrative ask names a period, a subject of every story or a word of the
    storytelling tools' texts: something a story of the operation can tell."""
    content = set(terms(_NARRATIVE.sub(" ", fold(message))))
    if content & (_STORY_SUBJECTS | _story_stems(tuple(story_texts))):
        return True
    return bool(resolve_dates(message, _ANY_DAY).spans)


@lru_cache(maxsize=8)
def _story_stems(story_texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stem for text in story_texts for stem in stems(text))


def is_narrative(message: str) -> bool:
    """A request for a story (what happened, how it went), not for figures or a list."""
    folded = fold(message)
    return bool(_NARRATIVE.search(folded)) and not _FIGURES.search(folded)


def classify_route(
    message: str, nexo_catalogue_texts: Sequence[str] = (), story_texts: Sequence[str] = ()
) -> HarnessRoute:
    """The route of a question; ties and doubts go to Nexo.

    `nexo_catalogue_texts` are the Nexo tools' descriptions; `story_texts` the storytelling
    tools', whose words describe what a story is about and so never count for Nexo.
    """
    if has_nexo_token(message):
        return HarnessRoute.NEXO_QUERY
    if (
        is_narrative(message)
        and is_about_operations(message, story_texts)
        and not catalogue_claims(message, nexo_catalogue_texts, story_texts)
    ):
        return HarnessRoute.STORYTELLING
    return HarnessRoute.NEXO_QUERY
