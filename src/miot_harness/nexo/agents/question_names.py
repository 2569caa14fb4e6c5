"""Names a question gives (a client, a carrier, a centre, a place) found without a model.

A name is a run of capitalised words with a word that is not ordinary Spanish or English
("Falabella", "Puerto Montt"), or the words after a cue ("cliente acme", "la comuna de Lo
Barnechea", "Transportes Pepito"). Ordinary words capitalised ("Cola Crítica", "Juan") are not
names unless a cue introduces them; nor are acronyms, codes and plates ("ETA", "SV-0000001",
"KXBR-27"), words of the tools' own texts ("Mintral"), or what follows a free-text cue
("conductor Juan Pérez", "patente KXBR-27"): the catalogue does not hold those.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from miot_harness.language.normalise import fold
from miot_harness.language.words import is_common_word, is_english_word, is_stopword
from miot_harness.nexo.agents.filter_values import NAME_FILTERS, match_key

# Cue word (folded) → the filter the name after it belongs to; None: any name filter.
LABEL_CUES: dict[str, str | None] = {
    "cliente": "cliente", "clienta": "cliente", "clientes": "cliente", "client": "cliente",
    "customer": "cliente", "transportista": "transportista", "transportistas": "transportista",
    "carrier": "transportista", "courier": "transportista", "centro": "centro",
    "bodega": "centro", "comuna": "comuna", "ciudad": "comuna", "region": "region",
    "empresa": None, "compania": None, "company": None, "proveedor": None,
}  # fmt: skip
# Cue words that are part of the name they start ("Transportes Pepito", "CD Maipú").
NAME_PART_CUES: dict[str, str] = {
    "transportes": "transportista", "logistica": "transportista", "cd": "centro",
}  # fmt: skip
# What follows these is free text the catalogue does not hold.
FREE_TEXT_CUES = frozenset(
    {"conductor", "conductora", "chofer", "driver", "repartidor", "patente", "placa", "plate"}
)
# Words that may sit inside a name ("Viña del Mar") or between a cue and its name.
CONNECTORS = frozenset({"de", "del", "la", "las", "los", "el"})
MAX_NAME_WORDS = 4
# Ordinary words a cue may put before its name ("centro de distribución Lo Espejo").
MAX_WORDS_BEFORE_NAME = 2
_SENTENCE_END = re.compile(r"[.?!¿¡:;\n]")
# "en Peñalolén": a name after a place preposition is a place.
_PLACE_PREPOSITIONS = re.compile(r"\b(?:en|in)\s+$", re.IGNORECASE)
# The kinds of name a name's shape can tell apart: places and companies.
PLACE_FILTERS = ("comuna", "region")
COMPANY_FILTERS = ("cliente", "transportista")
# A name resembles some value of one kind this much (rapidfuzz ratio, 0–100), and this much
# more than any of the other kind's, before its shape says which it is: "Estación Central" a
# place, "Chilexpress" a company; "Recoleta" or "Starken" neither (short names are noisy).
SHAPE_MIN_RATIO = 60.0
SHAPE_MARGIN = 15.0
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# "ETA", "POD", "KPIs": upper-case letters, maybe a plural "s".
_ACRONYM = re.compile(r"[A-ZÑ]{2,5}s?")


@dataclass(frozen=True)
class NameMention:
    """Words of the question that name something; `filter` when a cue says what."""

    text: str
    filter: str | None


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    # Only spaces between this word and the one before: a name never spans punctuation.
    joined: bool
    # The first word of a sentence, capitalised whatever it is.
    opens: bool

    @property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper() and not self.is_code

    @property
    def is_code(self) -> bool:
        """An acronym, a number, a code or a plate: never a name of the catalogue."""
        letters = [ch for ch in self.text if ch.isalpha()]
        has_digit = any(ch.isdigit() for ch in self.text)
        return has_digit or not letters or bool(_ACRONYM.fullmatch(self.text))


def _tokens(question: str) -> list[_Token]:
    tokens: list[_Token] = []
    end = 0
    for match in _TOKEN.finditer(question):
        gap = question[end : match.start()]
        joined = bool(tokens) and not gap.strip()
        opens = not tokens or bool(_SENTENCE_END.search(gap))
        tokens.append(_Token(match.group(), match.start(), joined, opens))
        end = match.end()
    return tokens


def _name_run(tokens: list[_Token], start: int, after_cue: bool) -> int:
    """The end (exclusive) of the name starting at `start`: capitalised words, connectors
    between them, and after a cue also words that are not ordinary ones."""
    end = start
    while end < len(tokens) and end - start < MAX_NAME_WORDS:
        token = tokens[end]
        if token.is_code or (end > start and not token.joined):
            break
        joins = token.folded in CONNECTORS and end > start
        if (
            joins
            and end + 1 < len(tokens)
            and tokens[end + 1].capitalised
            and tokens[end + 1].joined
        ):
            end += 1
            continue
        if token.capitalised or (after_cue and end == start and not is_common_word(token.text)):
            end += 1
            continue
        break
    return end


def find_names(question: str, is_domain_word: Callable[[str], bool]) -> list[NameMention]:
    """Every name the question gives, in order; `is_domain_word` tells the tools' own words."""
    tokens = _tokens(question)
    mentions: list[NameMention] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        folded = token.folded
        if folded in FREE_TEXT_CUES:
            i = _name_run(tokens, i + 1, after_cue=True) if i + 1 < len(tokens) else i + 1
            continue
        if folded in LABEL_CUES:
            start = i + 1
            start = _name_start(tokens, start)
            follows = start < len(tokens) and tokens[start].joined
            end = _name_run(tokens, start, after_cue=True) if follows else start
            if end > start and not _all_domain(tokens[start:end], is_domain_word):
                mentions.append(
                    NameMention(_span(question, tokens, start, end), LABEL_CUES[folded])
                )
                i = end
                continue
        if folded in NAME_PART_CUES and token.text[:1].isupper():
            follows = i + 1 < len(tokens) and tokens[i + 1].joined
            end = _name_run(tokens, i + 1, after_cue=True) if follows else i + 1
            if end > i + 1 and not _all_domain(tokens[i + 1 : end], is_domain_word):
                mentions.append(
                    NameMention(_span(question, tokens, i, end), NAME_PART_CUES[folded])
                )
                i = end
                continue
        if token.capitalised:
            end = _name_run(tokens, i, after_cue=False)
            run = tokens[i:end]
            if _is_name(run, is_domain_word):
                mentions.append(NameMention(_span(question, tokens, i, end), None))
            i = max(end, i + 1)
            continue
        i += 1
    return mentions


def _name_start(tokens: list[_Token], start: int) -> int:
    """Where the name after a cue starts: past lower-case connectors ("la comuna de La
    Florida": a capitalised article is the name's) and, before a capitalised name, a few
    ordinary words ("centro de distribución Lo Espejo")."""
    while start < len(tokens) and tokens[start].folded in CONNECTORS:
        if tokens[start].capitalised or not tokens[start].joined:
            return start
        start += 1
    ahead = start
    for _ in range(MAX_WORDS_BEFORE_NAME):
        if ahead >= len(tokens) or tokens[ahead].capitalised or not tokens[ahead].joined:
            break
        # "por comuna en la Región Metropolitana": a preposition starts something else.
        if not is_common_word(tokens[ahead].text) or is_stopword(tokens[ahead].text):
            break
        ahead += 1
        while ahead < len(tokens) and tokens[ahead].folded in CONNECTORS:
            ahead += 1
    found = ahead < len(tokens) and tokens[ahead].capitalised and tokens[ahead].joined
    return ahead if found and ahead > start else start


def _all_domain(run: list[_Token], is_domain_word: Callable[[str], bool]) -> bool:
    """ "centro de Control": the words after a cue are the tools' own, not a name."""
    return all(t.folded in CONNECTORS or is_domain_word(t.folded) for t in run)


def _is_name(run: list[_Token], is_domain_word: Callable[[str], bool]) -> bool:
    """A capitalised run is a name when a word of it is neither ordinary nor the tools' own
    ("Falabella", "Puerto Montt"); "Cola Crítica" or "Juan" are ordinary words capitalised,
    and so is an English word opening a sentence ("Show me…")."""
    if len(run) == 1 and run[0].opens and is_english_word(run[0].text):
        return False
    return any(
        t.folded not in CONNECTORS and not is_common_word(t.text) and not is_domain_word(t.folded)
        for t in run
    )


def _span(question: str, tokens: list[_Token], start: int, end: int) -> str:
    last = tokens[end - 1]
    return question[tokens[start].start : last.start + len(last.text)]


def grouping_names(columns: Iterable[str], arguments: Iterable[str]) -> tuple[str, ...]:
    """The name filters a tool's rows are grouped by (a carrier ranking by transportista, a
    control tower by region and comuna); none for a listing of servicios (rows with a code)."""
    listed = list(columns)
    if "codigo" in listed:
        return ()
    taken = set(arguments)
    return tuple(c for c in listed if c in taken and c in NAME_FILTERS)


def name_filter(
    text: str,
    before: str,
    tables: Mapping[str, Mapping[str, str]],
    grouping: Iterable[str] = (),
) -> str | None:
    """The filter of an unlabelled name the catalogue lacks: a place preposition before it, the
    chosen tool's grouping, then its shape (the values it resembles); None when none tells."""
    if _PLACE_PREPOSITIONS.search(before):
        return PLACE_FILTERS[0]
    grouped = [kind for kind in grouping if tables.get(kind)]
    if grouped:
        # Region and comuna: the finest, with the most values (a name like "Macul" resembles
        # a region's spelling as much as a comuna's, so its shape cannot choose).
        return max(grouped, key=lambda kind: len(set(tables[kind].values())))
    return _by_shape(text, tables)


def _resemblance(text: str, table: Mapping[str, str]) -> float:
    key = match_key(text)
    return max((fuzz.ratio(key, spelling) for spelling in table), default=0.0)


def _shape(text: str, tables: Mapping[str, Mapping[str, str]]) -> str | None:
    """The kind whose values `text` resembles clearly more than any other kind's."""
    scores = sorted(
        ((_resemblance(text, table), kind) for kind, table in tables.items() if table),
        reverse=True,
    )
    if not scores or (len(scores) > 1 and scores[0][0] - scores[1][0] < SHAPE_MARGIN):
        return None
    return scores[0][1]


def _by_shape(text: str, tables: Mapping[str, Mapping[str, str]]) -> str | None:
    """A place or a company by the name's shape, then which company filter."""
    groups = {
        group: {kind: tables[kind] for kind in group if tables.get(kind)}
        for group in (PLACE_FILTERS, COMPANY_FILTERS)
    }
    best = {
        group: max((_resemblance(text, table) for table in found.values()), default=0.0)
        for group, found in groups.items()
    }
    place, company = best[PLACE_FILTERS], best[COMPANY_FILTERS]
    if max(place, company) < SHAPE_MIN_RATIO or abs(place - company) < SHAPE_MARGIN:
        return None
    if place > company:
        # An unknown place is a comuna: the catalogue's few regions come with their aliases.
        return PLACE_FILTERS[0]
    return _shape(text, groups[COMPANY_FILTERS]) or COMPANY_FILTERS[0]
