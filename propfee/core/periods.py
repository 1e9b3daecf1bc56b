"""Billing periods, cycles and due dates.

A period is a calendar month, written ``YYYY-MM``. A fee item's cycle (monthly, quarterly,
yearly) is calendar-aligned: a quarterly cycle is Jan–Mar, Apr–Jun, Jul–Sep or Oct–Dec, a
yearly one Jan–Dec. A cycle is named by its first month.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
#: a cycle as staff read it (``_()`` where shown)
CYCLE_LABELS = {"monthly": N_("monthly"), "quarterly": N_("quarterly"), "yearly": N_("yearly")}


def parse_period(text: str, *, option: str = "--period") -> date:
    """``2026-11`` (or ``2026/11``, ``202611``, ``2026年11月``) to the first day of that month."""
    raw = (text or "").strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?", raw)
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidValue(
            _("{option}: {value!r} is not a month (use YYYY-MM)").format(option=option, value=text)
        )
    return date(int(match[1]), int(match[2]), 1)


def period_label(first_day: date) -> str:
    return f"{first_day.year:04d}-{first_day.month:02d}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier if negative), or that month's last day when it
    is shorter: 31 January + 1 month is 28 (or 29) February."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def months_in_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` (both month starts), inclusive."""
    months, current = [], month_start(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def cycle_of(month: date, cycle: str) -> tuple[date, date]:
    """The (first day, last day) of the cycle that contains ``month``."""
    length = CYCLE_MONTHS[cycle]
    first_month = ((month.month - 1) // length) * length + 1
    start = date(month.year, first_month, 1)
    return start, add_months(start, length) - timedelta(days=1)


def due_date(cycle_start: date, due_day: int) -> date:
    """The ``due_day`` of the cycle's first month, clipped to the month's length."""
    last = calendar.monthrange(cycle_start.year, cycle_start.month)[1]
    return cycle_start.replace(day=min(max(due_day, 1), last))


def days(first: date, last: date) -> int:
    """Days from ``first`` to ``last``, both included."""
    return (last - first).days + 1


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s month."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month
