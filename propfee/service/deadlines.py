"""Whether complaint deadlines can be counted exactly: the years whose make-up working days
(调休) no source knows yet, and the warning that asks staff to fill in ``[calendar]``."""

from __future__ import annotations

import sqlite3
from datetime import date

from propfee.core.i18n import _, current
from propfee.core.workdays import Calendar, make_up_days_known
from propfee.store.db import get_meta, set_meta

WARNED_KEY = "calendar_warned_on"


def unknown_make_up_years(calendar: Calendar, years: list[int]) -> list[int]:
    """Of ``years``, those whose make-up working days no source knows."""
    return [year for year in years if not make_up_days_known(calendar, year)]


def years_ahead(day: date) -> list[int]:
    """The year of ``day`` and, from November on, the coming one (its notice is due then)."""
    return [day.year, day.year + 1] if day.month >= 11 else [day.year]


def unknown_years_warning(calendar: Calendar, years: list[int]) -> str | None:
    """The warning for years whose make-up working days are unknown, or None."""
    unknown = unknown_make_up_years(calendar, years)
    if not unknown:
        return None
    return _(
        "The make-up working days of {years} are not known yet (counted by the statutory "
        "holidays alone, complaint deadlines may be a day or two off): once the State Council's "
        "General Office publishes the year's holiday schedule, fill the days off and the make-up "
        "working days into the settings file's [calendar] table "
        '(holidays = ["2027-02-05", …], workdays = ["2027-02-14", …]) and check them with '
        "propfee calendar --year YEAR"
    ).format(years=("、" if current() == "zh" else ", ").join(str(y) for y in unknown))


def warn_once_a_day(conn: sqlite3.Connection, calendar: Calendar, day: date) -> str | None:
    """The unknown-years warning, at most once a day for a database (inside the command's
    transaction: the day it was given is remembered in ``meta``)."""
    warning = unknown_years_warning(calendar, years_ahead(day))
    if warning is None or get_meta(conn, WARNED_KEY) == day.isoformat():
        return None
    set_meta(conn, WARNED_KEY, day.isoformat())
    return warning
