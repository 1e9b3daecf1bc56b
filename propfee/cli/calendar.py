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
from propfee.core.i18n import N_, _
from propfee.core.workdays import SOURCE_LABELS, year_plan
from propfee.service.deadlines import (
    unknown_make_up_years,
    unknown_years_warning,
    years_ahead,
)

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def register(app: typer.Typer) -> None:
    app.command(
        "calendar",
        help=_(
            "The working-day calendar deadlines are counted on (holidays and make-up working "
            "days), with each day's source."
        )
        + "\n\n"
        + _(
            "Sources, first match wins: the [calendar] table of the settings file (holidays and "
            "workdays, from the State Council's notice), then chinesecalendar, then the "
            "statutory holidays computed by the holidays package (make-up working days "
            "unknown), then weekends only. Warns when a year's make-up working days are unknown."
        )
        + "\n\n"
        + _("Example: propfee calendar --year 2027"),
        short_help=_("Holidays and make-up working days of a year."),
    )(calendar)


def calendar(
    year: Annotated[
        int | None, typer.Option("--year", help=_("The year to show (default: the --as-of year)."))
    ] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The working-day calendar of a year."""
    env = open_env(db, config)
    day = parse_day(as_of)
    shown = year or day.year
    if not 2000 <= shown <= 2100:
        raise InvalidValue(_("--year {year}: give a year between 2000 and 2100").format(year=shown))
    days = env.settings.calendar.days()
    rows = [
        {
            "day": d.day.isoformat(),
            "weekday": _(WEEKDAYS[d.day.weekday()]),
            "working": d.working,
            "kind": _("make-up working day") if d.working else _("day off"),
            "name": d.name,
            "source": d.source,
            "source_label": str(SOURCE_LABELS[d.source]),
        }
        for d in year_plan(days, shown)
    ]
    emit(
        env,
        rows,
        (
            Col("day", _("Date")),
            Col("weekday", _("Weekday")),
            Col("kind", _("Kind")),
            Col("name", _("Name")),
            Col("source_label", _("Source")),
        ),
        fmt,
        title=_("Holidays and make-up working days of {year} ({n} days)").format(
            year=shown, n=len(rows)
        ),
        as_of=day,
        extra={"year": shown, "make_up_days_unknown": unknown_make_up_years(days, [shown])},
    )
    warning = unknown_years_warning(days, sorted({shown, *years_ahead(day)}))
    if warning:
        env.warn(warning)
