"""The 3-year limitation clock of every unpaid bill (诉讼时效, LEGAL rule 4).

Each billing period is its own debt, its clock running three years from its due day (民法典
第188条). The clock restarts (第195条; 时效规定 第8、9、14条) on:

- a demand whose delivery is proved (``contact deliver``: a signature, an EMS number …);
- a payment by the party on the unit's debt (partial performance);
- an installment plan signed (an acknowledgement of the debt);
- a logged promise to pay or request for more time (``contact add --outcome promised``).

A demand or acknowledgement about part of a party's debt at a unit interrupts the clock of
the whole of it (时效规定 第9条), so each event restarts every bill of that party at that unit
that was already due. An event after a clock has run out does not revive it: the bill is shown
as time-barred, never silently dropped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from propfee.collection import store
from propfee.collection.arrears import overdue
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.core.periods import add_months

YEARS = 3
EVENT_LABELS = {
    "due": N_("payment deadline (start)"),
    "delivered": N_("demand delivered"),
    "payment": N_("part payment"),
    "plan": N_("installment agreement signed"),
    "promise": N_("promise to pay / request for time"),
}


@dataclass
class Clock:
    bill_id: int
    unit_id: int
    unit: str
    party_id: int | None
    payer: str
    period: str
    item: str
    owed_fen: int
    due_on: str
    ends_on: str
    last_event: str  # due | delivered | payment | plan | promise
    last_event_on: str
    days_left: int  # to the end of the clock; negative once it has run out

    @property
    def barred(self) -> bool:
        return self.days_left < 0


def clocks(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    settings,
    within: int | None = None,
    unit_id: int | None = None,
    rows: list | None = None,
) -> list[Clock]:
    """The clock of every bill still owing as of ``as_of`` (due before it); with ``within``
    only those ending within that many days, or already ended; with ``unit_id``, only that
    unit's bills. ``rows`` are the overdue rows as of that day when the caller has them
    already; else they are read (only the unit's, when one is given)."""

    if rows is None:
        rows = overdue(conn, as_of=as_of, settings=settings, unit_id=unit_id)
    if unit_id is not None:
        rows = [r for r in rows if r.unit_id == unit_id]
    if not rows:
        return []
    events = _events(conn, {r.unit_id for r in rows}, as_of)
    found = []
    dues: dict[str, tuple[date, date]] = {}
    for row in rows:
        mine = events.get((row.unit_id, row.party_id), ())
        for bill in row.bills:
            if bill.due_on not in dues:
                due = date.fromisoformat(bill.due_on)
                dues[bill.due_on] = (due, later(due))
            due, ends = dues[bill.due_on]
            last, last_on = "due", due
            for on, kind in mine:
                if due < on <= ends:
                    ends = later(on)
                    last, last_on = kind, on
            left = (ends - as_of).days
            if within is not None and left > within:
                continue
            found.append(
                Clock(
                    bill.id,
                    row.unit_id,
                    row.unit,
                    row.party_id,
                    row.payer,
                    bill.period,
                    bill.item,
                    bill.owed_fen,
                    bill.due_on,
                    ends.isoformat(),
                    last,
                    last_on.isoformat(),
                    left,
                )
            )
    found.sort(key=lambda c: (c.ends_on, c.unit, c.due_on))
    return found


def clocks_within(
    conn: sqlite3.Connection, *, as_of: date, settings, within: int, rows: list | None = None
) -> list[Clock]:
    """The clocks that end within ``within`` days of ``as_of``, or ended: a number of days
    not below zero."""
    if within < 0:
        raise InvalidValue(_("--within must not be negative"))
    return clocks(conn, as_of=as_of, settings=settings, within=within, rows=rows)


def ending_within(conn: sqlite3.Connection, *, as_of: date, settings, within: int) -> list[Clock]:
    """``clocks_within``, reading only the bills whose clock can end within ``within`` days:
    a clock ends three years after its due day or later, so a bill due after the day three
    years before ``as_of`` + ``within`` (a day's slack for 29 February) cannot."""
    if within < 0:
        raise InvalidValue(_("--within must not be negative"))
    horizon = as_of + timedelta(days=within + 1)
    due_by = add_months(horizon, -12 * YEARS)
    rows = overdue(conn, as_of=as_of, settings=settings, due_by=due_by)
    return clocks(conn, as_of=as_of, settings=settings, within=within, rows=rows)


def later(day: date) -> date:
    """Three years on: the same day, or 28 February for a 29 February."""
    try:
        return day.replace(year=day.year + YEARS)
    except ValueError:
        return add_months(day, 12 * YEARS)


def _events(conn: sqlite3.Connection, unit_ids: set[int], as_of: date) -> dict:
    """(unit, party) -> [(day, kind)] of every event that restarts a clock, oldest first."""
    found: dict[tuple, list[tuple[date, str]]] = {}
    for kind, unit_id, party_id, on in store.clock_events(conn, unit_ids, as_of.isoformat()):
        found.setdefault((unit_id, party_id), []).append((date.fromisoformat(on), kind))
    for events in found.values():
        events.sort()
    return found


def near_end(conn: sqlite3.Connection, *, as_of: date, settings, rows=None) -> set[tuple]:
    """(unit, party) of every debt with a bill whose clock ends within the warning days (or
    has ended): the ones a written notice should go to first."""
    return {
        (c.unit_id, c.party_id)
        for c in clocks(
            conn,
            as_of=as_of,
            settings=settings,
            within=settings.dunning.limitation_warn_days,
            rows=rows,
        )
    }
