"""Numbers as an answer writes them ("12.345", "87,5 %") and as evidence holds them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

# A number not glued to a preceding letter (so "L2" is a layer tag, not a number).
_ANSWER_NUMBER = re.compile(r"(?<![A-Za-zÁÉÍÓÚáéíóúÑñ\d])(\d[\d.,]*\d|\d)(\s?%)?")
_LIST_MARKER = re.compile(r"^(\s*)\d+[.)]\s", re.MULTILINE)
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_CONVENTIONS = (
    # (pattern, thousands separator, decimal separator)
    (re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"), ".", ","),
    (re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"), ",", "."),
)


@dataclass(frozen=True)
class Reading:
    """One way to read a number token: its value and how many decimals it shows."""

    value: float
    decimals: int


@dataclass(frozen=True)
class AnswerNumber:
    """A number token of an answer with every reading its separators allow."""

    text: str
    readings: tuple[Reading, ...]
    percent: bool


def _readings(token: str) -> tuple[Reading, ...]:
    readings = []
    for pattern, thousands, decimal in _CONVENTIONS:
        if pattern.fullmatch(token):
            whole, _, fraction = token.replace(thousands, "").partition(decimal)
            readings.append(Reading(float(f"{whole}.{fraction or 0}"), len(fraction)))
    return tuple(dict.fromkeys(readings))


def answer_numbers(answer: str) -> list[AnswerNumber]:
    """Every number an answer states, ignoring numbered-list markers."""
    text = _LIST_MARKER.sub(r"\1", answer)
    found = []
    for match in _ANSWER_NUMBER.finditer(text):
        token = match.group(1).rstrip(".,")
        readings = _readings(token)
        if readings:
            found.append(AnswerNumber(token, readings, bool(match.group(2))))
    return found


def _local_parts(text: str, zone: tzinfo) -> tuple[float, ...]:
    """The local date and time of an ISO timestamp with an offset (answers show local time)."""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return ()
    if stamp.tzinfo is None:
        return ()
    local = stamp.astimezone(zone)
    return tuple(float(n) for n in (local.year, local.month, local.day, local.hour, local.minute))


def evidence_numbers(value: Any, zone: tzinfo | None = None) -> Iterable[float]:
    """Every number inside a JSON-like value, including digits inside strings and list sizes.

    With `zone`, a timestamp string also gives its local date and time in that zone.
    """
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            yield abs(float(value))
    elif isinstance(value, str):
        for token in _PLAIN_NUMBER.findall(value):
            yield float(token)
        if zone is not None and _TIMESTAMP.match(value):
            yield from _local_parts(value, zone)
    elif isinstance(value, dict):
        for item in value.values():
            yield from evidence_numbers(item, zone)
    elif isinstance(value, list | tuple):
        yield float(len(value))
        for item in value:
            yield from evidence_numbers(item, zone)
    else:
        yield from evidence_numbers(str(value), zone)


def is_supported(number: AnswerNumber, known: Iterable[float]) -> bool:
    """True when some reading of `number` is a known value as shown (rounded, or as a %)."""
    known = list(known)
    for reading in number.readings:
        tolerance = 0.5 * 10 ** (-reading.decimals) + 1e-9
        for value in known:
            scaled = (value, value * 100) if number.percent else (value,)
            if any(abs(candidate - reading.value) <= tolerance for candidate in scaled):
                return True
    return False
