"""Relative-date tokens of the golden set (`@today`, `@today-7`, `@prev_tue`, `@dm:03-11`, ...)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_OFFSET = re.compile(r"^@today([+-]\d{1,3})$")
_DAY_MONTH = re.compile(r"^@dm:(\d{2})-(\d{2})$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PREVIOUS = tuple(f"@prev_{day}" for day in _WEEKDAYS)
# A year where every day-month exists, so that `@dm:` rejects only impossible dates.
_LEAP_YEAR = 2024
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
    *_PREVIOUS,
)


class DateTokenError(ValueError):
    """A string that starts with `@` but is not a known date token."""


def is_date_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith("@")


def check_date_token(token: str) -> None:
    """Raise `DateTokenError` unless `token` is one of the known forms."""
    day_month = _DAY_MONTH.match(token)
    if day_month:
        day, month = int(day_month.group(1)), int(day_month.group(2))
        try:
            date(_LEAP_YEAR, month, day)
        except ValueError:
            raise DateTokenError(f"date token {token!r} names no day (DD-MM)") from None
        if (day, month) == (29, 2):
            raise DateTokenError(f"date token {token!r}: 29-02 does not exist every year")
        return
    if token not in _NAMED and not _OFFSET.match(token):
        known = ", ".join(_NAMED)
        raise DateTokenError(f"unknown date token {token!r}; known: {known}, @today±N, @dm:DD-MM")


def local_today(now: datetime, timezone: str) -> date:
    """The calendar date of `now` in the configured zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


def previous_weekday(weekday: int, today: date) -> date:
    """The latest day before `today` falling on `weekday` (0 = Monday): one to seven days back."""
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def day_in_latest_month(day: int, month: int, today: date) -> date:
    """`day` of the latest month `month` that has begun by `today` (this year's or last year's)."""
    year = today.year if month <= today.month else today.year - 1
    return date(year, month, day)


def resolve_date_token(token: str, today: date) -> date:
    """The date a token names, weeks running Monday to Sunday."""
    check_date_token(token)
    offset = _OFFSET.match(token)
    if offset:
        return today + timedelta(days=int(offset.group(1)))
    day_month = _DAY_MONTH.match(token)
    if day_month:
        return day_in_latest_month(int(day_month.group(1)), int(day_month.group(2)), today)
    if token in _PREVIOUS:
        return previous_weekday(_PREVIOUS.index(token), today)
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
