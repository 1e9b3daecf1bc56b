"""propfee today: the day's work on one screen."""

from __future__ import annotations

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
from propfee.core.gcpause import no_gc
from propfee.core.i18n import _
from propfee.core.money import decimal_str
from propfee.insight import today as work


def register(app: typer.Typer) -> None:
    app.command(
        "today",
        help=_(
            "The day's work (today by default; --as-of names a day): money received today by "
            "channel, promises to pay that are due, formal demands awaiting proof of delivery, "
            "phone reminders, complaints and repairs past or near their deadline, return visits "
            "due, limitation periods ending within 90 days, instalments due, birthdays and the "
            "care list. Each line gives the command that acts on it."
        )
        + "\n\n"
        + _("Example: propfee today --as-of 2026-11-15 --format json"),
        short_help=_("The day's work on one screen."),
    )(today)


def today(
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The day's work."""
    env = open_env(db, config)
    day = parse_day(as_of)
    with no_gc():  # the overdue rows make no cycles (see gcpause)
        found = work.today(env.connect(create=False), as_of=day, settings=env.settings)
    emit(
        env,
        [
            {
                "key": line.key,
                "label": line.label,
                "count": line.count,
                "amount": None if line.amount_fen is None else decimal_str(line.amount_fen),
                "command": line.command,
            }
            for line in found.lines
        ],
        (
            Col("label", _("Work")),
            Col("count", _("Count"), "right"),
            Col("amount", _("Amount"), "right", money=True),
            Col("command", _("Command to act")),
        ),
        fmt,
        as_of=found.as_of,
        title=_("Today's work ({day})").format(day=found.as_of),
    )
