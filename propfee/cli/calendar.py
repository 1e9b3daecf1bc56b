"""propfee calendar: the working-day calendar complaint deadlines are counted on."""

from __future__ import annotations

from typing import Annotated

import typer

from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    emit,
    open_env,
    parse_day,
)
from propfee.core.errors import InvalidValue
from propfee.core.workdays import SOURCE_LABELS, year_plan
from propfee.service.deadlines import (
    unknown_make_up_years,
    unknown_years_warning,
    years_ahead,
)

WEEKDAYS = "一二三四五六日"


def register(app: typer.Typer) -> None:
    app.command("calendar")(calendar)


def calendar(
    year: Annotated[
        int | None, typer.Option("--year", help="The year to show (default: the --as-of year).")
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The working-day calendar deadlines are counted on (节假日与调休), with each day's source.

    Sources, first match wins: the [calendar] table of the settings file (holidays and
    workdays, from the State Council's notice), then chinesecalendar, then the statutory
    holidays computed by the holidays package (make-up working days unknown), then weekends
    only. Warns when a year's make-up working days are unknown.

    Example: propfee calendar --year 2027
    """
    env = open_env(db, config)
    day = parse_day(as_of)
    shown = year or day.year
    if not 2000 <= shown <= 2100:
        raise InvalidValue(f"--year {shown}: give a year between 2000 and 2100")
    days = env.settings.calendar.days()
    rows = [
        {
            "day": d.day.isoformat(),
            "weekday": f"周{WEEKDAYS[d.day.weekday()]}",
            "working": d.working,
            "kind": "调休上班" if d.working else "休息",
            "name": d.name,
            "source": d.source,
            "source_label": SOURCE_LABELS[d.source],
        }
        for d in year_plan(days, shown)
    ]
    emit(
        env,
        rows,
        (
            Col("day", "日期"),
            Col("weekday", "星期"),
            Col("kind", "类别"),
            Col("name", "名称"),
            Col("source_label", "来源"),
        ),
        fmt,
        title=f"{shown} 年节假日与调休（{len(rows)} 天）",
        document={"year": shown, "days": rows, "make_up_days_unknown": unknown_make_up_years(days, [shown])},
    )
    warning = unknown_years_warning(days, sorted({shown, *years_ahead(day)}))
    if warning:
        env.warn(warning)
