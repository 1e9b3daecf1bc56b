"""Installment plans (分期缴费协议, LEGAL rule 5).

A plan covers some of a unit's open bills (by default all of the paying party's) and spreads
what they owe over N installments, monthly or weekly from a first due day; the amounts sum
exactly to the covered debt, the fen left over by the division going one each to the first
installments. Signing is logged as a contact: the debtor's acknowledgement of the debt, which
restarts the limitation clock (时效规定 第14条).

What is paid on the covered bills after signing counts toward the installments in order. An
installment still short ``dunning.plan_grace_days`` after its due day breaks the plan: from
then dunning resumes. While a plan is honoured the unit is held at tier ``plan``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from propfee.billing.balances import bill_balance
from propfee.collection import store
from propfee.core import periods
from propfee.core.errors import InvalidValue, NotFound
from propfee.core.i18n import _
from propfee.core.money import format_money
from propfee.payments.ledger import unit_id_of
from propfee.roster.payers import payer_of
from propfee.roster.units import resolve_code

STATE_LABELS = {"honoured": "履行中", "broken": "已违约", "completed": "已履行完毕"}


def schedule(total_fen: int, count: int, first_due: date, every: str) -> list[tuple[date, int]]:
    """(due day, amount) of each installment: equal shares, the remainder one fen each to the
    first ones, so they sum to ``total_fen`` exactly."""
    if not 1 <= count <= 120:
        raise InvalidValue(_("--installments must be 1 to 120"))
    if total_fen < count:
        raise InvalidValue(
            _("{count} installments for {fen} fen: fewer fen than installments").format(
                count=count, fen=total_fen
            )
        )
    share, rest = divmod(total_fen, count)
    days = []
    for index in range(count):
        if every == "month":
            due = periods.add_months(first_due, index)  # the 31st: the month's last day
        elif every == "week":
            due = first_due + timedelta(weeks=index)
        else:
            raise InvalidValue(_("--every must be month or week"))
        days.append((due, share + (1 if index < rest else 0)))
    return days


@dataclass
class Installment:
    seq: int
    due_on: str
    amount_fen: int
    paid_fen: int = 0  # of this installment, as of the day

    @property
    def paid(self) -> bool:
        return self.paid_fen >= self.amount_fen


@dataclass
class Plan:
    id: int
    unit: str
    unit_id: int
    party: str
    party_id: int | None
    signed_on: str
    first_due: str
    every: str
    total_fen: int
    bills: list[tuple[int, str, str, int]]  # (bill, item, period, covered fen)
    installments: list[Installment] = field(default_factory=list)
    paid_fen: int = 0  # toward the plan, as of the day
    broken_on: str | None = None  # the day the plan was broken, if it was
    as_of: str = ""

    @property
    def state(self) -> str:
        if self.paid_fen >= self.total_fen:
            return "completed"
        if self.broken_on is not None:
            return "broken"
        return "honoured"


def create(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    installments: int,
    first_due: date,
    every: str,
    signed_on: date,
    now: datetime,
    settings,
    bill_ids: list[int] | None = None,
    note: str = "",
    staff: str = "",
) -> Plan:
    """Record a signed plan (inside the caller's transaction) and log the signing."""

    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    if first_due < signed_on:
        raise InvalidValue(
            _("--first-due {first_due} is before the signing ({signed_on})").format(
                first_due=first_due, signed_on=signed_on
            )
        )
    if bill_ids:
        party_id, chosen = _named_bills(conn, unit_id, code, bill_ids)
    else:
        party_id = payer_of(conn, unit_id, signed_on, settings)
        chosen = store.open_bills_of_party(conn, unit_id, party_id, signed_on.isoformat())
    covered = _covered(conn, chosen, code, signed_on)
    _refuse_bills_in_honoured_plans(conn, covered, signed_on, settings)
    total = sum(fen for _, fen in covered)
    days = schedule(total, installments, first_due, every)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    plan_id = store.insert_plan(
        conn,
        (
            unit_id,
            party_id,
            signed_on.isoformat(),
            first_due.isoformat(),
            every,
            installments,
            total,
            note,
            staff,
            stamp,
        ),
        covered,
        [(due.isoformat(), fen) for due, fen in days],
    )
    plan = plan_status(conn, plan_id, as_of=signed_on, settings=settings)
    _log_signing(conn, plan, code, covered, signed_on, note, staff, stamp)
    return plan


def _named_bills(
    conn: sqlite3.Connection, unit_id: int, code: str, bill_ids: list[int]
) -> tuple[int | None, list[int]]:
    """The party of the bills named, which must all be the unit's and that one party's."""
    found = store.bill_parties(conn, unit_id, bill_ids)
    missing = [b for b in bill_ids if b not in found]
    if missing:
        raise InvalidValue(
            _("bill {bill} is not a bill of {unit}").format(bill=missing[0], unit=code)
        )
    parties = set(found.values())
    if len(parties) > 1:
        raise InvalidValue(_("--bill names bills of different parties: one plan per party"))
    (party_id,) = parties
    return party_id, list(dict.fromkeys(bill_ids))


def _covered(
    conn: sqlite3.Connection, chosen: list[int], code: str, signed_on: date
) -> list[tuple[int, int]]:
    """(bill, what it owes) of each bill chosen: every one must still owe something."""
    covered = []
    for bill_id in chosen:
        balance = bill_balance(conn, bill_id)
        if balance is None or balance.outstanding_fen <= 0:
            raise InvalidValue(
                _("bill {bill} owes nothing: a plan covers open bills").format(bill=bill_id)
            )
        covered.append((bill_id, balance.outstanding_fen))
    if not covered:
        raise InvalidValue(
            _("{unit} has no open bills due by {day} for a plan to cover").format(
                unit=code, day=signed_on
            )
        )
    return covered


def _refuse_bills_in_honoured_plans(
    conn: sqlite3.Connection, covered: list[tuple[int, int]], signed_on: date, settings
) -> None:
    for bill_id, plan_id in store.plans_of_bills(conn, [b for b, _fen in covered]):
        existing = plan_status(conn, plan_id, as_of=signed_on, settings=settings)
        if existing.state == "honoured":
            raise InvalidValue(
                _("bill {bill} is already in plan {plan}, which is honoured").format(
                    bill=bill_id, plan=plan_id
                )
            )


def _log_signing(
    conn: sqlite3.Connection,
    plan: Plan,
    code: str,
    covered: list[tuple[int, int]],
    signed_on: date,
    note: str,
    staff: str,
    stamp: str,
) -> None:
    """The signing as a contact: the debtor's acknowledgement of the debt, in full."""
    text = (
        f"分期缴费协议 第{plan.id}号：{plan.party}确认{code}欠费{format_money(plan.total_fen)}"
        f"（{len(covered)}笔账单），分{len(plan.installments)}期缴纳："
        + "；".join(f"{i.due_on} {format_money(i.amount_fen)}" for i in plan.installments)
    )
    name, phones = store.party_name_phones(conn, plan.party_id) or ("", "")
    store.insert_plan_contact(
        conn,
        (
            plan.unit_id,
            plan.party_id,
            f"{signed_on.isoformat()} 12:00:00",
            covered[0][0],
            plan.total_fen,
            name,
            (phones or "").split("/")[0],
            text,
            staff,
            note,
            stamp,
        ),
    )


def plan_status(conn: sqlite3.Connection, plan_id: int, *, as_of: date, settings) -> Plan:
    """A plan as of a day: what has been paid toward it, each installment's share of that,
    and whether (and when) it was broken."""
    row = store.plan_row(conn, plan_id)
    if row is None:
        raise NotFound(_("no plan {plan}").format(plan=plan_id))
    plan = Plan(*row, bills=[], as_of=as_of.isoformat())
    plan.bills = store.plan_bills(conn, plan_id)
    plan.installments = [
        Installment(seq, due, fen) for seq, due, fen in store.plan_installments(conn, plan_id)
    ]
    grace = settings.dunning.plan_grace_days
    plan.paid_fen = _paid_toward(conn, plan_id, as_of)
    left = plan.paid_fen
    for installment in plan.installments:
        installment.paid_fen = min(left, installment.amount_fen)
        left -= installment.paid_fen
    cumulative = 0
    for installment in plan.installments:
        cumulative += installment.amount_fen
        deadline = date.fromisoformat(installment.due_on) + timedelta(days=grace)
        if deadline >= as_of:
            break
        if _paid_toward(conn, plan_id, deadline) < cumulative:
            plan.broken_on = (deadline + timedelta(days=1)).isoformat()
            break
    return plan


def _paid_toward(conn: sqlite3.Connection, plan_id: int, day: date) -> int:
    """What the covered bills have been paid (or reduced) since the plan was made, up to the
    end of ``day``: each bill's covered amount less what it still owed that day."""
    paid = 0
    for covered, amount, adjusted, allocated in store.plan_bill_balances(
        conn, plan_id, day.isoformat()
    ):
        owed = amount + adjusted - allocated
        paid += min(max(covered - owed, 0), covered)
    return paid


def plans(
    conn: sqlite3.Connection, *, as_of: date, settings, unit_code: str | None = None
) -> list[Plan]:
    code = resolve_code(conn, unit_code) if unit_code is not None else None
    ids = store.plan_ids(conn, as_of.isoformat(), code)
    return [plan_status(conn, plan_id, as_of=as_of, settings=settings) for plan_id in ids]


def honoured_units(conn: sqlite3.Connection, unit_ids: set[int], *, as_of: date, settings) -> set:
    """(unit, party) of every plan signed by ``as_of`` and honoured that day: only the party
    that signed is held, never an earlier or later owner of the unit."""
    if not unit_ids:
        return set()
    found = set()
    for plan_id, unit_id, party_id in store.plans_of_units(conn, as_of.isoformat(), unit_ids):
        if plan_status(conn, plan_id, as_of=as_of, settings=settings).state == "honoured":
            found.add((unit_id, party_id))
    return found
