"""The day's work on one screen (propfee today): money received by channel, promises falling
due, letters waiting for proof of delivery, calls due, complaints past or near their deadline,
return visits due, limitation clocks ending soon, plans with an installment due, birthdays and
the care list. Each line counts what the command that acts on it would show, through that
command's own domain function (or its counting twin, which sums in SQL what the full list
holds: ``arrears.overdue_totals`` and what its rows are counted by, ``arrears.owing_tiers``;
``limitation.ending_within``), so the two never disagree."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from propfee.collection import arrears, dunning, limitation, plans
from propfee.core.i18n import _
from propfee.core.workdays import workday
from propfee.payments import ledger
from propfee.service import complaints, owners

LIMITATION_DAYS = 90  # a clock ending within this many days is work for today
INSTALLMENT_DAYS = 7  # an installment falling due within this many days (or missed)
OPEN_STATES = ("open", "assigned")


@dataclass
class Line:
    """One kind of work: a stable key, a label in the reader's language, how many, how much, and the command."""

    key: str
    label: str
    count: int
    command: str
    amount_fen: int | None = None


@dataclass
class Today:
    as_of: str
    lines: list[Line] = field(default_factory=list)


def today(conn: sqlite3.Connection, *, as_of: date, settings) -> Today:
    """The day's work as of ``as_of`` (the end of that day)."""
    day = as_of.isoformat()
    result = Today(day)
    result.lines += _received(conn, as_of)
    rows = arrears.owing_tiers(conn, as_of=as_of, settings=settings)
    result.lines += _collection(conn, rows, as_of, settings)
    result.lines += _service(conn, as_of)
    result.lines += _people(conn, as_of)
    return result


def _received(conn: sqlite3.Connection, as_of: date) -> list[Line]:
    close = ledger.daily_close(conn, as_of)
    day = as_of.isoformat()
    lines = [
        Line(
            f"received_{channel}",
            _("received today ({channel})").format(
                channel=_(ledger.CHANNELS.get(channel, channel))
            ),
            count,
            f"propfee report daily --date {day}",
            fen,
        )
        for channel, (count, fen) in sorted(close.by_channel.items())
    ]
    count = sum(n for n, _ in close.by_channel.values())
    lines.append(
        Line(
            "received",
            _("received today, in all"),
            count,
            f"propfee report daily --date {day}",
            close.net_fen,
        )
    )
    return lines


def _collection(conn, rows: list, as_of: date, settings) -> list[Line]:
    """Promises and calls from the overdue rows' totals and tiers (``arrears.owing_tiers``:
    what the rows of ``propfee overdue`` are counted by), letters, clocks and plans."""
    day = as_of.isoformat()
    promised = [r for r in rows if r.promise_on and str(r.promise_on) <= day]
    calls = [r for r in rows if r.tier == "call"]
    letters = [
        c
        for c in dunning.list_contacts(conn)
        if c.notice_no and not c.deliveries and c.at[:10] <= day
    ]
    clocks = (
        limitation.ending_within(conn, as_of=as_of, settings=settings, within=LIMITATION_DAYS)
        if clock_may_end(rows, as_of)
        else []
    )
    horizon = (as_of + timedelta(days=INSTALLMENT_DAYS)).isoformat()
    due_plans = [
        p
        for p in plans.plans(conn, as_of=as_of, settings=settings)
        if p.state != "completed"
        and any(not i.paid and i.due_on <= horizon for i in p.installments)
    ]
    return [
        Line(
            "promises_due",
            _("promises to pay due (today or past)"),
            len(promised),
            f"propfee overdue --as-of {day}",
            sum(r.outstanding_fen for r in promised),
        ),
        Line(
            "calls_due",
            _("arrears at the phone-call stage"),
            len(calls),
            f"propfee remind --tier call --as-of {day}",
            sum(r.outstanding_fen for r in calls),
        ),
        Line(
            "letters_undelivered",
            _("formal demands awaiting proof of delivery"),
            len(letters),
            "propfee contact deliver",
        ),
        Line(
            "limitation_ending",
            _("limitation periods ending within {n} days").format(n=LIMITATION_DAYS),
            len(clocks),
            f"propfee overdue --limitation --within {LIMITATION_DAYS} --as-of {day}",
            sum(c.owed_fen for c in clocks),
        ),
        Line(
            "installments_due",
            _("instalments due within {n} days or late").format(n=INSTALLMENT_DAYS),
            len(due_plans),
            f"propfee plan list --as-of {day}",
        ),
    ]


def clock_may_end(rows: list, as_of: date) -> bool:
    """Whether a limitation clock of a bill the overdue rows owe may end within
    LIMITATION_DAYS of ``as_of`` (else none does, and the bills need not be read again): a
    clock runs three years from the bill's due day — 1,095 days at least — or longer when
    restarted, so only a bill due that long before the end of the days can; each row knows
    the oldest due day it owes."""
    latest = as_of + timedelta(days=LIMITATION_DAYS + 1 - 365 * limitation.YEARS)
    return any(r.oldest_due <= latest.isoformat() for r in rows)


def _next_workday(day: date) -> date:
    following = day + timedelta(days=1)
    while not workday(following)[0]:
        following += timedelta(days=1)
    return following


def _service(conn: sqlite3.Connection, as_of: date) -> list[Line]:
    """The cases past their deadline, due within a working day, and awaiting their visit:
    counted in one pass over the cases, a batch at a time."""
    at = datetime.combine(as_of, time(23, 59, 59))
    near = _next_workday(as_of).isoformat()
    late = soon = visits = 0
    for case in complaints.every_case(conn, at=at):
        if case.state == "resolved":
            visits += 1
        elif case.overdue(at):
            late += 1
        elif case.state in OPEN_STATES and case.deadline_at[:10] <= near:
            soon += 1
    return [
        Line(
            "complaints_overdue",
            _("complaints and repairs past their deadline"),
            late,
            "propfee complain list --overdue",
        ),
        Line(
            "complaints_near",
            _("complaints and repairs due within 1 working day"),
            soon,
            "propfee complain list --status open",
        ),
        Line(
            "visits_due",
            _("return visits due"),
            visits,
            "propfee complain list --awaiting-visit",
        ),
    ]


def _people(conn: sqlite3.Connection, as_of: date) -> list[Line]:
    care = owners.care(conn, month=as_of.month, year=as_of.year)  # the month's people only
    born_today = f"{as_of:%m-%d}"
    birthdays = [c for c in care if c.birthday == born_today]
    month = f"{as_of:%Y-%m}"
    return [
        Line(
            "birthdays",
            _("birthdays today"),
            len(birthdays),
            f"propfee owners care --month {month}",
        ),
        Line(
            "care_list",
            _("this month's care list"),
            len(care),
            f"propfee owners care --month {month}",
        ),
    ]
