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

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from propfee.billing.balances import bill_balance
from propfee.core import periods
from propfee.core.errors import InvalidValue, NotFound
from propfee.core.money import format_money
from propfee.payments.ledger import unit_id_of
from propfee.roster.payers import payer_of
from propfee.roster.units import resolve_code


def schedule(total_fen: int, count: int, first_due: date, every: str) -> list[tuple[date, int]]:
    """(due day, amount) of each installment: equal shares, the remainder one fen each to the
    first ones, so they sum to ``total_fen`` exactly."""
    if not 1 <= count <= 120:
        raise InvalidValue("--installments must be 1 to 120")
    if total_fen < count:
        raise InvalidValue(f"{count} installments for {total_fen} fen: fewer fen than installments")
    share, rest = divmod(total_fen, count)
    days = []
    for index in range(count):
        if every == "month":
            due = periods.add_months(first_due, index)  # the 31st: the month's last day
        elif every == "week":
            due = first_due + timedelta(weeks=index)
        else:
            raise InvalidValue("--every must be month or week")
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
        raise InvalidValue(f"--first-due {first_due} is before the signing ({signed_on})")
    if bill_ids:
        found = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT id, party_id FROM bill WHERE unit_id = ? AND id IN "
                "(SELECT value FROM json_each(?))",
                (unit_id, json.dumps(bill_ids)),
            )
        }
        missing = [b for b in bill_ids if b not in found]
        if missing:
            raise InvalidValue(f"bill {missing[0]} is not a bill of {code}")
        parties = set(found.values())
        if len(parties) > 1:
            raise InvalidValue("--bill names bills of different parties: one plan per party")
        (party_id,) = parties
        chosen = list(dict.fromkeys(bill_ids))
    else:

        party_id = payer_of(conn, unit_id, signed_on, settings)
        chosen = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM bill WHERE unit_id = ? AND party_id IS ? AND settled_on IS NULL "
                "AND due_on <= ? ORDER BY due_on, id",
                (unit_id, party_id, signed_on.isoformat()),
            )
        ]
    covered = []
    for bill_id in chosen:
        balance = bill_balance(conn, bill_id)
        if balance is None or balance.outstanding_fen <= 0:
            raise InvalidValue(f"bill {bill_id} owes nothing: a plan covers open bills")
        covered.append((bill_id, balance.outstanding_fen))
    if not covered:
        raise InvalidValue(f"{code} has no open bills due by {signed_on} for a plan to cover")
    taken = conn.execute(
        "SELECT pb.bill_id, pb.plan_id FROM plan_bill pb WHERE pb.bill_id IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps([b for b, _ in covered]),),
    ).fetchall()
    for bill_id, plan_id in taken:
        existing = plan_status(conn, plan_id, as_of=signed_on, settings=settings)
        if existing.state == "honoured":
            raise InvalidValue(f"bill {bill_id} is already in plan {plan_id}, which is honoured")
    total = sum(fen for _, fen in covered)
    days = schedule(total, installments, first_due, every)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    plan_id = conn.execute(
        "INSERT INTO plan (unit_id, party_id, signed_on, first_due, every, installments, "
        "total_fen, note, staff, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    ).lastrowid
    conn.executemany(
        "INSERT INTO plan_bill (plan_id, bill_id, amount_fen) VALUES (?, ?, ?)",
        [(plan_id, b, fen) for b, fen in covered],
    )
    conn.executemany(
        "INSERT INTO plan_installment (plan_id, seq, due_on, amount_fen) VALUES (?, ?, ?, ?)",
        [(plan_id, seq, due.isoformat(), fen) for seq, (due, fen) in enumerate(days, start=1)],
    )
    plan = plan_status(conn, plan_id, as_of=signed_on, settings=settings)

    text = (
        f"分期缴费协议 第{plan_id}号：{plan.party}确认{code}欠费{format_money(total)}"
        f"（{len(covered)}笔账单），分{installments}期缴纳："
        + "；".join(f"{i.due_on} {format_money(i.amount_fen)}" for i in plan.installments)
    )
    name, phones = conn.execute(
        "SELECT name, phones FROM party WHERE id = ?", (party_id,)
    ).fetchone() or ("", "")
    conn.execute(
        "INSERT INTO contact (unit_id, party_id, at, channel, outcome, tier, bill_id, "
        "amount_fen, addressee, phone, content, staff, note, source, created_at) "
        "VALUES (?, ?, ?, 'visit', 'plan-signed', 'plan', ?, ?, ?, ?, ?, ?, ?, 'plan', ?)",
        (
            unit_id,
            party_id,
            f"{signed_on.isoformat()} 12:00:00",
            covered[0][0],
            total,
            name,
            (phones or "").split("/")[0],
            text,
            staff,
            note,
            stamp,
        ),
    )
    return plan


def plan_status(conn: sqlite3.Connection, plan_id: int, *, as_of: date, settings) -> Plan:
    """A plan as of a day: what has been paid toward it, each installment's share of that,
    and whether (and when) it was broken."""
    row = conn.execute(
        "SELECT p.id, u.code, p.unit_id, coalesce(pa.name, ''), p.party_id, p.signed_on, "
        "p.first_due, p.every, p.total_fen FROM plan p JOIN unit u ON u.id = p.unit_id "
        "LEFT JOIN party pa ON pa.id = p.party_id WHERE p.id = ?",
        (plan_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    plan = Plan(*row, bills=[], as_of=as_of.isoformat())
    plan.bills = [
        tuple(r)
        for r in conn.execute(
            "SELECT pb.bill_id, f.name, b.period, pb.amount_fen FROM plan_bill pb "
            "JOIN bill b ON b.id = pb.bill_id JOIN fee_item f ON f.id = b.fee_item_id "
            "WHERE pb.plan_id = ? ORDER BY b.due_on, b.id",
            (plan_id,),
        )
    ]
    plan.installments = [
        Installment(seq, due, fen)
        for seq, due, fen in conn.execute(
            "SELECT seq, due_on, amount_fen FROM plan_installment WHERE plan_id = ? ORDER BY seq",
            (plan_id,),
        )
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
    for covered, amount, adjusted, allocated in conn.execute(
        "SELECT pb.amount_fen, b.amount_fen, coalesce((SELECT sum(a.amount_fen) "
        "FROM adjustment a WHERE a.bill_id = b.id AND a.made_on <= ?2), 0), "
        "coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = b.id "
        "AND l.allocated_on <= ?2), 0) FROM plan_bill pb JOIN bill b ON b.id = pb.bill_id "
        "WHERE pb.plan_id = ?1",
        (plan_id, day.isoformat()),
    ):
        owed = amount + adjusted - allocated
        paid += min(max(covered - owed, 0), covered)
    return paid


def plans(
    conn: sqlite3.Connection, *, as_of: date, settings, unit_code: str | None = None
) -> list[Plan]:
    where, params = "", ()
    if unit_code is not None:

        code = resolve_code(conn, unit_code)
        where, params = " WHERE unit_id = (SELECT id FROM unit WHERE code = ?)", (code,)
    where = (where + " AND" if where else " WHERE") + " signed_on <= ?"
    params = (*params, as_of.isoformat())
    ids = [r[0] for r in conn.execute(f"SELECT id FROM plan{where} ORDER BY id", params)]
    return [plan_status(conn, plan_id, as_of=as_of, settings=settings) for plan_id in ids]


def honoured_units(conn: sqlite3.Connection, unit_ids: set[int], *, as_of: date, settings) -> set:
    """(unit, party) of every plan signed by ``as_of`` and honoured that day: only the party
    that signed is held, never an earlier or later owner of the unit."""
    if not unit_ids:
        return set()
    found = set()
    for plan_id, unit_id, party_id in conn.execute(
        "SELECT id, unit_id, party_id FROM plan WHERE signed_on <= ? AND unit_id IN "
        "(SELECT value FROM json_each(?))",
        (as_of.isoformat(), json.dumps(sorted(unit_ids))),
    ):
        if plan_status(conn, plan_id, as_of=as_of, settings=settings).state == "honoured":
            found.add((unit_id, party_id))
    return found
