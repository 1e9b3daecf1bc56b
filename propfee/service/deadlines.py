"""Whether complaint deadlines can be counted exactly: the years whose make-up working days
(调休) no source knows yet, and the warning that asks staff to fill in ``[calendar]``."""

from __future__ import annotations

import sqlite3
from datetime import date

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
    named = "、".join(f"{y} 年" for y in unknown)
    return (
        f"{named}的调休上班日尚未知（只按法定节假日推算，投诉时限可能差一两天）：国务院办公厅"
        "公布当年节假日安排后，请把放假日期和调休上班日填入设置文件的 [calendar] 表"
        '（holidays = ["2027-02-05", …]，workdays = ["2027-02-14", …]），'
        "用 propfee calendar --year 年份 核对"
    )


def warn_once_a_day(conn: sqlite3.Connection, calendar: Calendar, day: date) -> str | None:
    """The unknown-years warning, at most once a day for a database (inside the command's
    transaction: the day it was given is remembered in ``meta``)."""
    warning = unknown_years_warning(calendar, years_ahead(day))
    if warning is None or get_meta(conn, WARNED_KEY) == day.isoformat():
        return None
    set_meta(conn, WARNED_KEY, day.isoformat())
    return warning
