"""Working days and working hours on the mainland calendar, from layered sources.

The first source that knows a day decides it:

1. the estate's own ``[calendar]`` table in the settings: the holidays and make-up working days
   (调休) of the State Council's yearly notice, for a year the installed libraries do not know
   yet. A year named there counts as published: its other days follow the sources below, and
   its deadlines are exact;
2. ``chinese_calendar``, which follows the published notices (2004–2026 in 1.11.0);
3. the ``holidays`` package's China calendar, which computes the statutory holidays of any year
   (and knows the make-up days of the years it has been updated for): the holidays are right,
   but a make-up Saturday may be missing, so a deadline it decides is marked approximate;
4. weekends alone, said so, where none of the above knows the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from propfee.core.i18n import N_
from propfee.core.said import Said

SETTINGS = "settings"
MAINLAND = "mainland"
STATUTORY = "statutory"
WEEKENDS = "weekends-only"
SOURCES = (SETTINGS, MAINLAND, STATUTORY, WEEKENDS)  # most certain first
SOURCE_LABELS = {
    SETTINGS: Said(N_("the settings file's [calendar]")),
    MAINLAND: Said(N_("the State Council's holiday notice (chinesecalendar)")),
    STATUTORY: Said(N_("statutory holidays computed (holidays; make-up days not published)")),
    WEEKENDS: Said(N_("weekends only")),
}
# what a case's deadline says of the source that decided it, where it may be off by a day
SOURCE_NOTES = {
    STATUTORY: Said(N_("statutory holidays computed, make-up days unknown")),
    WEEKENDS: Said(N_("weekends only")),
}
_MAKE_UP = re.compile(r"(\d{4}-\d{2}-\d{2})\s*调休")


@dataclass(frozen=True)
class Calendar:
    """Working days as the estate counts them: its own table first, then the libraries."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def years(self) -> frozenset[int]:
        """The years the estate's own table decides."""
        return frozenset(d.year for d in self.holidays | self.workdays)

    def workday(self, day: date) -> tuple[bool, str]:
        """(is it a working day, which source said so)."""
        if day in self.workdays:
            return True, SETTINGS
        if day in self.holidays:
            return False, SETTINGS
        return _library_workday(day)

    def certainty(self, day: date, source: str) -> str:
        """How far a day's answer can be trusted: a year the estate has entered from the
        State Council's notice is exact even where the statutory holidays decided a day."""
        return SETTINGS if source == STATUTORY and day.year in self.years else source

    def source_of_year(self, year: int) -> str:
        """The source that decides the days of ``year`` (its 1 January tells)."""
        return self.workday(date(year, 1, 1))[1]


def _library_workday(day: date) -> tuple[bool, str]:
    known = _chinese_calendar(day)
    if known is not None:
        return known, MAINLAND
    statutory = statutory_year(day.year)
    if statutory is None:
        return day.weekday() < 5, WEEKENDS
    rest, make_up = statutory
    if day in make_up:
        return True, STATUTORY
    return day not in rest and day.weekday() < 5, STATUTORY


DEFAULT = Calendar()


def workday(day: date) -> tuple[bool, str]:
    """(is it a working day, which source said so), with no table of the estate's own."""
    return DEFAULT.workday(day)


def _chinese_calendar(day: date) -> bool | None:
    try:
        import chinese_calendar  # third-party, read once
    except ImportError:  # pragma: no cover - a dependency
        return None
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


@lru_cache(maxsize=64)
def statutory_year(year: int) -> tuple[dict[date, str], frozenset[date]] | None:
    """The ``holidays`` package's rest days of ``year`` ({day: name}) and the make-up working
    days it knows (named in its rest days: "休息日（由 2026-02-14 调休）"); None if it cannot
    compute the year."""
    try:
        import holidays  # third-party, read once

        china = holidays.China(years=year, language="zh_CN")
        rest = {day: str(name) for day, name in sorted(china.items()) if day.year == year}
    except (ImportError, NotImplementedError, KeyError, ValueError):
        return None
    if not rest:  # before the calendar begins, or past what it can compute
        return None
    make_up = frozenset(
        date.fromisoformat(found) for name in rest.values() for found in _MAKE_UP.findall(name)
    )
    return rest, make_up


def make_up_days_known(calendar: Calendar, year: int) -> bool:
    """Whether the make-up working days (调休) of ``year`` are known to some source: the
    estate's table, chinese_calendar, or a ``holidays`` release that names them."""
    if year in calendar.years:
        return True
    source = calendar.source_of_year(year)
    if source == MAINLAND:
        return True
    statutory = statutory_year(year) if source == STATUTORY else None
    return bool(statutory and statutory[1])


def _less_certain(first: str, second: str) -> str:
    return max(first, second, key=SOURCES.index)


@dataclass(frozen=True)
class Deadline:
    at: datetime
    calendar: str  # the least certain source among the days counted

    @property
    def approximate(self) -> bool:
        return self.calendar in (STATUTORY, WEEKENDS)


RULE = re.compile(r"(\d+)d|(\d+(?:\.\d+)?)h")


def deadline(
    opened: datetime, rule: str, work_start: str, work_end: str, calendar: Calendar = DEFAULT
) -> Deadline:
    """The moment a case is due: ``"3d"`` is the end of the third working day after the day
    it was opened; ``"4h"`` is four working hours later, counted within the working hours of
    working days."""
    match = RULE.fullmatch(rule.strip())
    if match is None:
        raise ValueError(f"deadline rule {rule!r}: give working days or hours, e.g. 3d or 4h")
    if match.group(1) is not None:
        return _add_days(opened.date(), int(match.group(1)), calendar)
    start = time.fromisoformat(work_start)
    end = time.fromisoformat(work_end)
    return _add_hours(opened, float(match.group(2)), start, end, calendar)


def _add_days(opened: date, days: int, calendar: Calendar) -> Deadline:
    source = SETTINGS  # the most certain; each day counted may lower it
    day = opened
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        working, used = calendar.workday(day)
        source = _less_certain(source, calendar.certainty(day, used))
        if working:
            counted += 1
    return Deadline(datetime.combine(day, time(23, 59, 59)), source)


def _add_hours(
    opened: datetime, hours: float, start: time, end: time, calendar: Calendar
) -> Deadline:
    source = SETTINGS  # the most certain; each day counted may lower it
    left = timedelta(hours=hours)
    moment = opened
    for _ in range(3660):  # ten years of days: a guard, never reached
        working, used = calendar.workday(moment.date())
        source = _less_certain(source, calendar.certainty(moment.date(), used))
        day_start = datetime.combine(moment.date(), start)
        day_end = datetime.combine(moment.date(), end)
        if working and moment < day_end:
            moment = max(moment, day_start)
            available = day_end - moment
            if left <= available:
                return Deadline(moment + left, source)
            left -= available
        moment = datetime.combine(moment.date() + timedelta(days=1), start)
    raise ValueError("deadline beyond ten years")  # pragma: no cover


def working_hours_between(
    first: datetime,
    last: datetime,
    work_start: str,
    work_end: str,
    calendar: Calendar = DEFAULT,
) -> float:
    """Working hours from ``first`` to ``last`` (for how long a case took)."""
    if last <= first:
        return 0.0
    start = time.fromisoformat(work_start)
    end = time.fromisoformat(work_end)
    total = timedelta()
    day = first.date()
    while day <= last.date():
        if calendar.workday(day)[0]:
            lo = max(first, datetime.combine(day, start))
            hi = min(last, datetime.combine(day, end))
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


@dataclass(frozen=True)
class CalendarDay:
    day: date
    working: bool  # a make-up working day (True) or a rest day (False)
    name: str
    source: str


def year_plan(calendar: Calendar, year: int) -> list[CalendarDay]:
    """The holidays and make-up working days of ``year``, each with the source that decided
    it: every rest day that is not a plain weekend, every named holiday (on a weekend too) and
    every working Saturday or Sunday."""
    names = (statutory_year(year) or ({}, frozenset()))[0]
    plan = []
    day = date(year, 1, 1)
    while day.year == year:
        working, source = calendar.workday(day)
        weekday = day.weekday() < 5
        if working and not weekday:
            plan.append(CalendarDay(day, True, "调休上班", source))
        elif not working and (weekday or day in names or day in calendar.holidays):
            plan.append(CalendarDay(day, False, names.get(day, "休息日"), source))
        day += timedelta(days=1)
    return plan
