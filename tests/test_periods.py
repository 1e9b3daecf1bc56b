"""Month arithmetic: the same day so many months on, clamped to a shorter month's last day."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from propfee.core.periods import add_months


def test_add_months_clamps_to_the_end_of_a_shorter_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


def test_add_months_agrees_with_relativedelta_over_four_years():
    day = date(1999, 11, 1)
    while day < date(2004, 3, 1):
        for months in (-37, -12, -1, 0, 1, 2, 11, 12, 25, 36):
            assert add_months(day, months) == day + relativedelta(months=months), (day, months)
        day += timedelta(days=1)
