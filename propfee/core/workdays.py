"""Working days and working hours on the mainland calendar.

Statutory holidays and the make-up working days (调休) come from the ``chinese_calendar``
library, which the State Council's yearly notice keeps up to date. For a year the library does
not cover, weekends alone are skipped, and the result says so: a deadline then needs a look
once the year's holidays are published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

MAINLAND = "mainland"
WEEKENDS = "weekends-only"


def workday(day: date) -> tuple[bool, str]:
    """(is it a working day, which calendar said so)."""
    try:
        import chinese_calendar

        return chinese_calendar.is_workday(day), MAINLAND
    except (NotImplementedError, ImportError):
        return day.weekday() < 5, WEEKENDS


@dataclass(frozen=True)
class Deadline:
    at: datetime
    calendar: str  # mainland, or weekends-only where the library had no data

    @property
    def approximate(self) -> bool:
        return self.calendar != MAINLAND


RULE = re.compile(r"(\d+)d|(\d+(?:\.\d+)?)h")


def deadline(opened: datetime, rule: str, work_start: str, work_end: str) -> Deadline:
    """The moment a case is due: ``"3d"`` is the end of the third working day after the day
    it was opened; ``"4h"`` is four working hours later, counted within the working hours of
    working days."""
    match = RULE.fullmatch(rule.strip())
    if match is None:
        raise ValueError(f"deadline rule {rule!r}: give working days or hours, e.g. 3d or 4h")
    if match.group(1) is not None:
        return _add_days(opened.date(), int(match.group(1)))
    start = time.fromisoformat(work_start)
    end = time.fromisoformat(work_end)
    return _add_hours(opened, float(match.group(2)), start, end)


def _add_days(opened: date, days: int) -> Deadline:
    calendar = MAINLAND
    day = opened
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        working, used = workday(day)
        if used != MAINLAND:
            calendar = used
        if working:
            counted += 1
    return Deadline(datetime.combine(day, time(23, 59, 59)), calendar)


def _add_hours(opened: datetime, hours: float, start: time, end: time) -> Deadline:
    calendar = MAINLAND
    left = timedelta(hours=hours)
    moment = opened
    for _ in range(3660):  # ten years of days: a guard, never reached
        working, used = workday(moment.date())
        if used != MAINLAND:
            calendar = used
        day_start = datetime.combine(moment.date(), start)
        day_end = datetime.combine(moment.date(), end)
        if working and moment < day_end:
            moment = max(moment, day_start)
            available = day_end - moment
            if left <= available:
                return Deadline(moment + left, calendar)
            left -= available
        moment = datetime.combine(moment.date() + timedelta(days=1), start)
    raise ValueError("deadline beyond ten years")  # pragma: no cover


def working_hours_between(first: datetime, last: datetime, work_start: str, work_end: str) -> float:
    """Working hours from ``first`` to ``last`` (for how long a case took)."""
    if last <= first:
        return 0.0
    start = time.fromisoformat(work_start)
    end = time.fromisoformat(work_end)
    total = timedelta()
    day = first.date()
    while day <= last.date():
        if workday(day)[0]:
            lo = max(first, datetime.combine(day, start))
            hi = min(last, datetime.combine(day, end))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600
