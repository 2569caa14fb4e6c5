"""Spanish (and a little English) date phrases resolved against a given "today".

Relative phrases (hoy, ayer, esta semana, el mes pasado, últimos N días, hace N días, el
martes, el fin de semana...) are resolved here by calendar arithmetic, so weeks run Monday to
Sunday and months end where they end. A weekday alone ("el lunes", "el martes pasado") is the
latest one before today; "el próximo lunes" the next one. A month alone ("en noviembre") is
the latest such month that has begun. Explicit dates ("el 3 de noviembre", "03-11-2026",
"20/11") go through `dateparser` (Spanish month names and orders, with no access to the
machine clock: a date without a year is taken in whichever year puts it nearest to today).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

from miot_harness.language.normalise import fold

FECHA_TIPOS = ("creacion", "compromiso", "entrega", "eta")

_NUMBER_WORDS = {
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "catorce": 14,
    "quince": 15, "veinte": 20, "treinta": 30, "two": 2, "three": 3, "five": 5, "seven": 7,
    "ten": 10, "fourteen": 14, "thirty": 30,
}  # fmt: skip
_NUM = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_MONTHS = (
    r"(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre|ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)"
)
_DAY_MONTH = rf"(\d{{1,2}})\s+de\s+{_MONTHS}(?:\s+(?:de|del)\s+(\d{{4}}))?"
_NUMERIC = (
    r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})|(\d{4})-(\d{2})-(\d{2})"
    r"|(?<![\d-])(\d{1,2})/(\d{1,2})(?![\d/])"
)
_EXPLICIT = re.compile(rf"\b(?:{_DAY_MONTH}|{_NUMERIC})\b")
_DAY_RANGE = re.compile(
    rf"\b(?:entre\s+el|del|desde\s+el)\s+(\d{{1,2}})\s+(?:y\s+el|al|hasta\s+el)\s+(\d{{1,2}})"
    rf"(?:\s+de\s+{_MONTHS}(?:\s+(?:de|del)\s+(\d{{4}}))?)?\b"
)
_LAST_N = re.compile(
    rf"\b(?:(?:los|las)\s+)?(?:ultim[oa]s|last|past)\s+{_NUM}\s+(dias|days|semanas|weeks)\b"
)

_FULL_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "may": 5, "january": 1, "february": 2, "march": 3, "april": 4, "june": 6,
    "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
# A month named on its own; "may" is an English verb, so only "in may" is the month.
_MONTH_ONLY = re.compile(
    r"\b(?:(?:el\s+)?mes\s+de\s+)?("
    + "|".join(sorted((m for m in _FULL_MONTHS if m != "may"), key=len, reverse=True))
    + r"|(?<=\bin\s)may)(?:\s+(?:de\s+|del\s+)?(\d{4}))?\b"
)
_WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}  # fmt: skip
_WEEKDAY_NAMES = "|".join(_WEEKDAYS)
_WEEKDAY = re.compile(
    rf"\b(?:(?P<next>(?:el\s+)?(?:proximo|next|siguiente)\s+)|(?P<this>(?:este|this)\s+)"
    rf"|(?:(?:el|on|last|pasado)\s+)?)(?P<day>{_WEEKDAY_NAMES})"
    r"(?P<after>\s+(?:que\s+viene|proximo|pasado|anterior))?\b"
)
_WEEKEND = re.compile(
    r"\b(?P<which>este|this|proximo|next|el|last)?\s*(?:fin\s+de\s+semana|finde|weekend)"
    r"(?P<after>\s+(?:pasado|que\s+viene|proximo))?\b"
)
_DAYS_AGO = re.compile(rf"\bhace\s+{_NUM}\s+(dias|semanas)\b|\b{_NUM}\s+(days|weeks)\s+ago\b")

# Relative phrases, longest first; each maps to (start offset, end offset) in days or a key.
_RELATIVE: tuple[tuple[str, str], ...] = (
    (r"\bpasado\s+manana\b", "day+2"),
    (r"\b(?:anteayer|antier|antes\s+de\s+ayer|day\s+before\s+yesterday)\b", "day-2"),
    (r"\b(?:esta\s+manana|esta\s+tarde|esta\s+noche|hoy|today|tonight)\b", "day+0"),
    (r"\b(?:ayer|yesterday)\b", "day-1"),
    (r"(?<!la\s)(?<!esta\s)(?<!por\s)\b(?:manana|tomorrow)\b", "day+1"),
    (r"\b(?:la\s+)?semana\s+antepasada\b", "week-2"),
    (
        r"\b(?:la\s+)?semana\s+(?:pasada|anterior)\b|\blast\s+week\b|\bla\s+ultima\s+semana\b",
        "week-1",
    ),
    (r"\b(?:la\s+)?(?:proxima\s+semana|semana\s+que\s+viene)\b|\bnext\s+week\b", "week+1"),
    (r"\b(?:esta\s+semana|this\s+week|en\s+la\s+semana)\b", "week+0"),
    (r"\b(?:de|durante)\s+la\s+semana\b", "week+0"),
    (r"\b(?:el\s+)?mes\s+pasado\b|\blast\s+month\b", "month-1"),
    (r"\b(?:este\s+mes|this\s+month|en\s+el\s+mes|en\s+lo\s+que\s+va\s+del\s+mes)\b", "month+0"),
    (r"\b(?:del|durante\s+el)\s+mes\b", "month+0"),
    (
        r"\b(?:del|durante\s+el)\s+dia\b(?!\s+(?:de\s+)?(?:ayer|hoy|manana|anterior|siguiente|\d))"
        r"|\bde\s+la\s+jornada\b",
        "day+0",
    ),
    (r"\b(?:el\s+)?ano\s+pasado\b|\blast\s+year\b", "year-1"),
    (r"\b(?:este\s+ano|this\s+year|en\s+lo\s+que\s+va\s+del\s+ano)\b", "year+0"),
)
_RELATIVE_RE = tuple((re.compile(pattern), key) for pattern, key in _RELATIVE)

_FECHA_TIPO_RE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("creacion", re.compile(
        r"\b(?:cread[oa]s?|ingresad[oa]s?|ingresaron|se\s+crearon|creacion|created)\b")),
    ("entrega", re.compile(
        r"\b(?:entregad[oa]s?|entregaron|se\s+entregaron|fecha\s+de\s+entrega|delivered)\b")),
    ("eta", re.compile(r"\b(?:con\s+eta|eta\s+(?:para|prevista|estimada)|llegan|llegaran)\b")),
    ("compromiso", re.compile(r"\b(?:comprometid[oa]s?|prometid[oa]s?|compromiso|promised|due)\b")),
)  # fmt: skip

_FECHA_LABEL = re.compile(r"\b(?:por\s+|segun\s+)?(?:la\s+)?fecha\s+de\b|\bcontando\s+por\b")


@dataclass(frozen=True)
class DateFilter:
    """Resolved date range (inclusive; None is unbounded) and which date it applies to."""

    desde: date | None
    hasta: date | None
    fecha_tipo: str | None
    spans: tuple[tuple[int, int], ...] = ()

    def as_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        if self.desde:
            args["fecha_desde"] = self.desde.isoformat()
        if self.hasta:
            args["fecha_hasta"] = self.hasta.isoformat()
        if args:
            args["fecha_tipo"] = self.fecha_tipo or "compromiso"
        return args


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _relative_range(key: str, today: date) -> tuple[date, date]:
    unit, offset = key[:-2], int(key[-2:])
    if unit == "day":
        day = today + timedelta(days=offset)
        return day, day
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)
    if unit == "year":
        year = today.year + offset
        return date(year, 1, 1), date(year, 12, 31)
    first = today.replace(day=1)
    if offset < 0:
        first = (first - timedelta(days=1)).replace(day=1)
    return first, _month_end(first)


def _weekday(match: re.Match[str], today: date) -> date:
    """ "el martes" and "el martes pasado": the latest one before today (1–7 days back);
    "el próximo martes": the next one after today; "este martes": the one of this week."""
    wanted = _WEEKDAYS[match.group("day")]
    after = (match.group("after") or "").strip()
    if match.group("next") or after in ("que viene", "proximo"):
        return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    if match.group("this"):
        return today - timedelta(days=today.weekday()) + timedelta(days=wanted)
    return today - timedelta(days=(today.weekday() - wanted - 1) % 7 + 1)


def _weekend(match: re.Match[str], today: date) -> tuple[date, date]:
    """This week's Saturday and Sunday for "este"/"próximo", else the last one that began."""
    saturday = today - timedelta(days=today.weekday()) + timedelta(days=5)
    which = match.group("which") or ""
    after = (match.group("after") or "").strip()
    if which in ("proximo", "next") or after in ("que viene", "proximo"):
        saturday += timedelta(weeks=1 if today >= saturday else 0)
    elif which not in ("este", "this") and saturday > today:
        saturday -= timedelta(weeks=1)
    return saturday, saturday + timedelta(days=1)


def _latest_month(month: int, year: str | None, today: date) -> tuple[date, date]:
    """The month in `year`, or the latest such month that has begun by today."""
    first = date(int(year) if year else today.year, month, 1)
    if not year and first > today:
        first = first.replace(year=first.year - 1)
    return first, _month_end(first)


def _nearest_year(month: int, day: int, today: date) -> date | None:
    """The valid date with this month and day nearest to today (year-end safe)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    return min(candidates, key=lambda d: (abs((d - today).days), d)) if candidates else None


@lru_cache(maxsize=1)
def _explicit_parser() -> DateDataParser:
    """One dateparser instance, built once: constructing per call costs tens of ms."""
    return DateDataParser(
        languages=["es", "en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DAY_OF_MONTH": "first",
            "REQUIRE_PARTS": ["day", "month"],
        },
    )


@lru_cache(maxsize=1024)
def _parse_explicit(fragment: str, today: date) -> date | None:
    """One explicit date via dateparser; without a year, the year nearest to `today`.

    The year is never taken from dateparser's default (the machine clock).
    """
    parsed = _explicit_parser().get_date_data(fragment).date_obj
    if parsed is None:
        return None
    if re.search(r"\d{4}", fragment):
        return parsed.date()
    return _nearest_year(parsed.month, parsed.day, today)


def _day_in_month(day: int, month_name: str | None, year: str | None, today: date) -> date | None:
    if month_name:
        return _parse_explicit(f"{day} de {month_name}" + (f" de {year}" if year else ""), today)
    try:
        return today.replace(day=day)
    except ValueError:
        return None


def _fecha_tipo(folded: str) -> tuple[str | None, list[tuple[int, int]]]:
    """Which date the question filters on, and every phrase that said so."""
    for tipo, pattern in _FECHA_TIPO_RE:
        spans = [match.span() for match in pattern.finditer(folded)]
        if spans:
            spans += [m.span() for m in _FECHA_LABEL.finditer(folded)]
            return tipo, spans
    return None, []


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def resolve_dates(question: str, today: date) -> DateFilter:
    """The date range a question asks for, relative to `today` (the prompt's date)."""
    folded = fold(question).replace("ñ", "n")
    tipo, tipo_spans = _fecha_tipo(folded)
    spans: list[tuple[int, int]] = []
    ranges: list[tuple[date | None, date | None]] = []

    for match in _DAY_RANGE.finditer(folded):
        first = _day_in_month(int(match.group(1)), match.group(3), match.group(4), today)
        last = _day_in_month(int(match.group(2)), match.group(3), match.group(4), today)
        if first and last:
            ranges.append((min(first, last), max(first, last)))
            spans.append(match.span())
    for match in _LAST_N.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        days = _number(match.group(1)) * (7 if match.group(2) in ("semanas", "weeks") else 1)
        ranges.append((today - timedelta(days=days), today))
        spans.append(match.span())
    singles: list[tuple[int, date]] = []
    for match in _EXPLICIT.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        parsed = _parse_explicit(match.group(0), today)
        if parsed:
            singles.append((match.start(), parsed))
            spans.append(match.span())
    for match in _DAYS_AGO.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        count = _number(match.group(1) or match.group(3))
        unit = match.group(2) or match.group(4)
        days = count * (7 if unit in ("semanas", "weeks") else 1)
        singles.append((match.start(), today - timedelta(days=days)))
        spans.append(match.span())
    for match in _MONTH_ONLY.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        ranges.append(_latest_month(_FULL_MONTHS[match.group(1)], match.group(2), today))
        spans.append(match.span())
    for match in _WEEKEND.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        ranges.append(_weekend(match, today))
        spans.append(match.span())
    named_weekday: date | None = None
    for match in _WEEKDAY.finditer(folded):
        if _overlaps(match.span(), spans):
            continue
        day = _weekday(match, today)
        if named_weekday is not None and day < named_weekday:
            # "entre el lunes y el miércoles": the second day follows the first.
            day += timedelta(weeks=1)
        named_weekday = day
        singles.append((match.start(), day))
        spans.append(match.span())
    for pattern, key in _RELATIVE_RE:
        for match in pattern.finditer(folded):
            if _overlaps(match.span(), spans):
                continue
            start, end = _relative_range(key, today)
            spans.append(match.span())
            if start == end:
                singles.append((match.start(), start))
            else:
                ranges.append((start, end))

    if spans:
        spans.extend(tipo_spans)
    desde: date | None = None
    hasta: date | None = None
    if ranges:
        desde = min(r[0] for r in ranges if r[0]) if any(r[0] for r in ranges) else None
        hasta = max(r[1] for r in ranges if r[1]) if any(r[1] for r in ranges) else None
    if singles:
        days = sorted(day for _, day in singles)
        if len(singles) == 1 and not ranges:
            position, day = singles[0]
            before = folded[max(0, position - 12) : position]
            if re.search(r"\b(desde|since|from|a partir)\b", before):
                return DateFilter(day, None, tipo, tuple(spans))
            if re.search(r"\b(hasta|until|antes)\b", before):
                return DateFilter(None, day, tipo, tuple(spans))
        desde = min([d for d in (desde, days[0]) if d])
        hasta = max([d for d in (hasta, days[-1]) if d])
    return DateFilter(desde, hasta, tipo, tuple(spans))
