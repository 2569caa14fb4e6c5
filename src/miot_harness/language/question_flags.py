"""Filters a question states without the catalogue: a servicio code, a plate, a driver,
criticality, and how many rows from where (a limit, an offset, a page).

Plates are read in both Chilean formats (LLLL-NN and LL-NNNN) with or without hyphens or dots
between their pairs ("KX-BR-27"), upper case anywhere or in any case and spacing after a word
for a plate or a vehicle ("patente kxbr 27"). Paging is read
as a limit ("top 5", "los 15 más urgentes"), an offset ("saltando los primeros 20", "ya vi
los primeros 10"), a page number ("la página 2") or "the next ones" ("los que siguen");
the last two need the size of the previous page, which only a thread knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from miot_harness.language.normalise import fold
from miot_harness.language.terms import glossary_words, term

_CODIGO = re.compile(r"\bsv[-\s]?(\d{1,7})\b", re.I)
_SEP = r"[\-.·]?"
_PATENTE = re.compile(
    rf"\b([A-Z]{{2}}{_SEP}[A-Z]{{2}}{_SEP}\d{{2}}|[A-Z]{{2}}{_SEP}\d{{2}}{_SEP}\d{{2}})\b"
)
_PLATE_CUE = r"(?:patente|placa|plate|camion|truck|vehiculo|vehicle|movil)"
_CUED_PATENTE = re.compile(
    rf"\b{_PLATE_CUE}\s+(?:(?:de|del|con|n|nro|numero)\s+)?"
    r"([a-z]{2}[\s\-.·]?[a-z]{2}[\s\-.·]?\d{2}|[a-z]{2}[\s\-.·]?\d{2}[\s\-.·]?\d{2})\b"
)
_CRITICO = re.compile(r"\b(no\s+)?(critic[oa]s|critic[oa]|urgentes?|critical|urgent)\b")
_NOT_CRITICO_CUE = re.compile(r"\bcola\s+$")
_OFFSET = re.compile(
    r"\bsalt\w*\s+(?:(?:los|las)\s+)?(?:primer[oa]s\s+)?(\d{1,4})\b|\boffset\s+(\d{1,4})\b"
    r"|\bskip(?:ping)?\s+(?:the\s+)?(?:first\s+)?(\d{1,4})\b"
    r"|\b(?:ya\s+)?(?:vi|revise|vimos|tengo|saw|seen)\s+(?:los|las|the)\s+(?:primer[oa]s\s+|first\s+)?"
    r"(\d{1,4})\b"
    r"|\bdespues\s+de\s+(?:los|las)\s+(?:primer[oa]s\s+)?(\d{1,4})\b"
    r"|\bafter\s+the\s+first\s+(\d{1,4})\b"
)
_CONDUCTOR_CUE = re.compile(
    r"\b(?:conductor|conductora|chofer|chófer|driver|repartidor|repartidora)\s+", re.I
)
_NAME_WORD = re.compile(r"[^\W\d_]+")
_MAX_NAME_WORDS = 3
_LIMIT = re.compile(
    r"\btop\s*(\d{1,3})\b|\b(\d{1,3})\s+primer[oa]s\b|\bprimer[oa]s\s+(\d{1,3})\b"
    r"|\bfirst\s+(\d{1,3})\b"
    r"|\b(?:los|las)\s+(\d{1,3})\s+(?:\w+\s+)?(?:mas|peores|mejores|ultimos|primeros)\b"
    r"|\blimite?\s+(?:de\s+)?(\d{1,3})\b"
    r"|\b(?:muestra|muestrame|dame|lista|listame|pasame|mandame|show|give)\s+(?:me\s+)?"
    r"(?:(?:los|las|the)\s+)?(\d{1,3})\b"
    r"|\b(?:otros|otras|siguientes|next|other)\s+(\d{1,3})\b|\b(\d{1,3})\s+(?:mas|more)\b"
    r"|\b(\d{1,3})\s+most\b|\bsolo\s+(\d{1,3})\b"
    r"|\b(\d{1,3})\s+(?:por\s+pagina|per\s+page|filas|resultados|registros|rows|results|items)\b"
    r"|\bpaginas?\s+de\s+(\d{1,3})\b|\bpages?\s+of\s+(\d{1,3})\b|\bde\s+a\s+(\d{1,3})\b"
    r"|\b(?:tandas|grupos|bloques|batches)\s+de\s+(\d{1,3})\b|\bin\s+batches\s+of\s+(\d{1,3})\b"
)
_PAGE = re.compile(r"\b(?:pagina|pag|page)\s+(?:n\s+|numero\s+)?(\d{1,3})\b")
_NEXT_PAGE = re.compile(
    r"\b(?:(?:los|las)\s+que\s+siguen|(?:los|las)\s+siguientes|siguiente\s+pagina|"
    r"pagina\s+siguiente|proxima\s+pagina|next\s+page|next\s+ones|the\s+rest|el\s+resto|"
    r"(?:los|las)\s+(?:otros|otras|demas)|mas\s+resultados|more\s+results|sigue(?:\s+con)?"
    r"|continua)\b"
)


@dataclass(frozen=True)
class Paging:
    """A page the question asks for that only the previous page's size can place."""

    page: int | None = None
    next_page: bool = False

    @property
    def asked(self) -> bool:
        return self.page is not None or self.next_page


@dataclass
class QuestionFlags:
    """The flags a question states, the words that stated them, and any paging."""

    args: dict[str, Any] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)
    paging: Paging = Paging()

    @property
    def text(self) -> str:
        return " ".join(self.said)


def extract_flags(question: str) -> dict[str, Any]:
    """Filters that need no catalogue: servicio code, plate, driver, criticality, paging."""
    return read_flags(question).args


def _plate(raw: str) -> str:
    bare = re.sub(r"[^A-Za-z0-9]", "", raw).upper()
    split = 4 if bare[3].isalpha() else 2
    return f"{bare[:split]}-{bare[split:]}"


def _may_be_name(word: str) -> bool:
    """A lower-case word after a driver cue is part of a name unless it is a function word,
    a word of asking or of the operation ("conductor con más carga", "conductor activo")."""
    folded = fold(word)
    return term(folded) is not None and folded not in glossary_words()


def _driver(question: str) -> tuple[str, str] | None:
    """The name after a driver cue: capitalised words or words that are not ordinary ones."""
    cue = _CONDUCTOR_CUE.search(question)
    if cue is None:
        return None
    taken: list[str] = []
    end = cue.end()
    for word in _NAME_WORD.finditer(question, cue.end()):
        gap = question[end : word.start()]
        if len(taken) >= _MAX_NAME_WORDS or (taken and gap.strip()):
            break
        if not (word.group()[0].isupper() or _may_be_name(word.group())):
            break
        taken.append(word.group())
        end = word.end()
    if not taken:
        return None
    return " ".join(taken), question[cue.start() : end]


def read_flags(question: str) -> QuestionFlags:
    """Every flag of `question`, and the words that stated each (ranking discounts them)."""
    flags = QuestionFlags()
    args, said = flags.args, flags.said
    if code := _CODIGO.search(question):
        args["codigo"] = f"SV-{int(code.group(1)):07d}"
        said.append(code.group(0))
    folded = fold(question)
    if plate := _PATENTE.search(question):
        args["patente"] = _plate(plate.group(1))
        said.append("patente " + plate.group(0))
    elif cued := _CUED_PATENTE.search(folded):
        args["patente"] = _plate(cued.group(1))
        said.append(cued.group(0))
    for critico in _CRITICO.finditer(folded):
        if not _NOT_CRITICO_CUE.search(folded[: critico.start()]):
            args["es_critico"] = critico.group(1) is None
            said.append(critico.group(0))
            break
    if offset := _OFFSET.search(folded):
        args["offset"] = int(next(g for g in offset.groups() if g))
        said.append(offset.group(0))
        folded = folded[: offset.start()] + " " * len(offset.group(0)) + folded[offset.end() :]
    if driver := _driver(question):
        args["conductor"], text = driver
        said.append(text)
    page = _PAGE.search(folded)
    if page:
        said.append(page.group(0))
        folded = folded[: page.start()] + " " * len(page.group(0)) + folded[page.end() :]
    if limit := _LIMIT.search(folded):
        args["limit"] = int(next(g for g in limit.groups() if g))
        said.append(limit.group(0))
    next_page = _NEXT_PAGE.search(folded)
    if next_page:
        said.append(next_page.group(0))
    flags.paging = Paging(int(page.group(1)) if page else None, bool(next_page))
    return flags
