"""Relative-date tokens of the golden set (`@today`, `@today-7`, `@week_start`, ...)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^@today([+-]\d{1,3})$")
_NAMED = (
    "@today",
    "@yesterday",
    "@tomorrow",
    "@week_start",
    "@week_end",
    "@last_week_start",
    "@last_week_end",
    "@month_start",
    "@month_end",
    "@last_month_start",
    "@last_month_end",
)


class DateTokenError(ValueError):
    """A string that starts with `@` but is not a known date token."""


def is_date_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith("@")


def check_date_token(token: str) -> None:
    """Raise `DateTokenError` unless `token` is one of the known forms."""
    if token not in _NAMED and not _OFFSET.match(token):
        known = ", ".join(_NAMED)
        raise DateTokenError(f"unknown date token {token!r}; known: {known}, @today±N")


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date of `now` in the configured zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def resolve_date_token(token: str, today: date) -> date:
    """The date a token names, weeks running Monday to Sunday (SPEC section 12, "Time")."""
    check_date_token(token)
    offset = _OFFSET.match(token)
    if offset:
        return today + timedelta(days=int(offset.group(1)))
    week_start = today - timedelta(days=today.weekday())
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    named = {
        "@today": today,
        "@yesterday": today - timedelta(days=1),
        "@tomorrow": today + timedelta(days=1),
        "@week_start": week_start,
        "@week_end": week_start + timedelta(days=6),
        "@last_week_start": week_start - timedelta(days=7),
        "@last_week_end": week_start - timedelta(days=1),
        "@month_start": month_start,
        "@month_end": today.replace(day=monthrange(today.year, today.month)[1]),
        "@last_month_start": last_month_end.replace(day=1),
        "@last_month_end": last_month_end,
    }
    return named[token]


def resolve_filters(filters: dict[str, object], today: date) -> dict[str, object]:
    """`filters` with every date token replaced by its ISO date."""
    return {
        key: resolve_date_token(value, today).isoformat() if is_date_token(value) else value
        for key, value in filters.items()
    }
