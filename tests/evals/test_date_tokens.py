"""Date tokens name the same day whatever day the golden set is run on."""

from datetime import date, timedelta

import pytest

from miot_harness.evals.date_tokens import DateTokenError, check_date_token, resolve_date_token

FRIDAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("@prev_mon", date(2026, 11, 30)),
        ("@prev_tue", date(2026, 12, 1)),
        ("@prev_thu", date(2026, 12, 3)),
        ("@prev_fri", date(2026, 11, 27)),
        ("@prev_sat", date(2026, 11, 28)),
        ("@prev_sun", date(2026, 11, 29)),
    ],
)
def test_previous_weekday_is_strictly_before_today(token, expected):
    assert resolve_date_token(token, FRIDAY) == expected


def test_previous_weekday_is_one_to_seven_days_back_on_every_day():
    for offset in range(14):
        today = FRIDAY + timedelta(days=offset)
        for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
            day = resolve_date_token(f"@prev_{name}", today)
            assert day.weekday() == number and 1 <= (today - day).days <= 7


@pytest.mark.parametrize(
    ("token", "today", "expected"),
    [
        ("@dm:03-11", FRIDAY, date(2026, 11, 3)),
        ("@dm:30-11", FRIDAY, date(2026, 11, 30)),
        ("@dm:20-12", FRIDAY, date(2026, 12, 20)),
        ("@dm:15-01", FRIDAY, date(2026, 1, 15)),
        ("@dm:03-11", date(2026, 10, 20), date(2025, 11, 3)),
        ("@dm:09-11", date(2026, 11, 5), date(2026, 11, 9)),
        ("@dm:31-12", date(2027, 1, 2), date(2026, 12, 31)),
    ],
)
def test_day_month_falls_in_the_latest_month_begun_by_today(token, today, expected):
    assert resolve_date_token(token, today) == expected


def test_a_range_inside_one_month_keeps_one_year():
    for offset in range(-40, 40):
        today = FRIDAY + timedelta(days=offset)
        start = resolve_date_token("@dm:03-11", today)
        end = resolve_date_token("@dm:09-11", today)
        assert start.year == end.year and start <= end


@pytest.mark.parametrize("token", ["@dm:31-11", "@dm:00-05", "@dm:10-13", "@dm:29-02", "@dm:3-11"])
def test_impossible_or_malformed_day_month_is_rejected(token):
    with pytest.raises(DateTokenError, match="date token"):
        check_date_token(token)


def test_unknown_weekday_token_lists_the_known_forms():
    with pytest.raises(DateTokenError, match="@prev_mon") as caught:
        check_date_token("@prev_lunes")
    assert "@dm:DD-MM" in str(caught.value)
