"""Late fees (违约金) by the contract's clause, beside the court's likely ceiling.

LEGAL rule 7: a late fee only with a clause in the contract — without one (no
``late_fee.daily_rate`` in the settings) the late fee is zero everywhere. With one it accrues
per bill per overdue day (after the grace days) on what the bill still owes at the end of that
day, so a partial payment lowers the base from its date; a cap and a minimum apply as the
clause says. It is always called 违约金, never 滞纳金.

Beside it, what a court would likely allow (民法典 第585条; 合同编通则解释 第65条): the loss,
taken as simple interest on the same balances at a reference annual rate (LPR-based) over 365
days, and a ceiling of that loss × 1.3; a clause amount above the ceiling is flagged.

Late fees are not bills until the estate decides: ``post`` turns what has accrued and not yet
been posted into bills of the fee item 违约金 (once per source bill and as-of day), which can be
waived like any bill.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from propfee.core.errors import PropfeeError
from propfee.core.money import round_div
from propfee.payments.ledger import unit_id_of
from propfee.roster.units import resolve_code

LATE_FEE_CODE = "LATEFEE"
LATE_FEE_NAME = "违约金"
SCALE = 10**12  # rates are held as integers over this, so every sum stays exact
FACTOR_SCALE = 10**6  # the court factor, likewise


def simple_interest(principal_fen: int, annual_rate: Decimal, days: int) -> int:
    """Simple daily interest on 365 days, rounded half up to the fen: 100.00 at 10% a year
    for 15 days is 0.41."""
    return round_div(principal_fen * _scaled(annual_rate) * days, 365 * SCALE)


def _scaled(rate: Decimal) -> int:
    scaled = rate * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {rate} has more than 12 decimal places")
    return int(scaled)


@dataclass
class LateFeeLine:
    bill_id: int
    unit_id: int
    unit: str
    party_id: int | None
    payer: str
    period: str
    item: str
    due_on: str
    principal_fen: int  # what the bill is worth after adjustments, as of the day
    owed_fen: int  # what it still owes as of the day
    days: int  # days charged (overdue, after the grace days, above the minimum)
    clause_fen: int  # by the contract's clause (0 without one)
    loss_fen: int  # interest loss at the reference rate
    ceiling_fen: int  # loss × court factor
    posted_fen: int  # already posted as bills

    @property
    def above_ceiling(self) -> bool:
        return self.clause_fen > self.ceiling_fen

    @property
    def unposted_fen(self) -> int:
        return max(self.clause_fen - self.posted_fen, 0)

    @property
    def over_posted_fen(self) -> int:
        """Posted beyond what accrued — a payment recorded since with an earlier date, say:
        to be taken off with an adjustment of the late-fee bill."""
        return max(self.posted_fen - self.clause_fen, 0)


def late_fees(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    settings,
    unit_ids: list[int] | None = None,
    bill_ids: list[int] | None = None,
) -> list[LateFeeLine]:
    """The late fee of every bill that was overdue for some day up to ``as_of`` (also those
    paid late since): by the clause, the loss and the ceiling."""
    import json

    rules = settings.late_fee
    day = as_of.isoformat()
    where = [
        "b.due_on < ?",
        "((b.settled_on IS NULL OR b.settled_on > b.due_on) "
        "OR b.id IN (SELECT source_bill_id FROM late_fee))",
        "f.code <> ?",
    ]
    params: list = [day, LATE_FEE_CODE]
    if unit_ids is not None:
        where.append("b.unit_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(unit_ids)))
    if bill_ids is not None:
        where.append("b.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(bill_ids)))
    bills = conn.execute(
        "SELECT b.id, b.unit_id, u.code, b.party_id, coalesce(p.name, ''), b.period, f.name, "
        "b.due_on, b.amount_fen FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        f"WHERE {' AND '.join(where)} ORDER BY u.code, b.due_on, b.id",
        params,
    ).fetchall()
    if not bills:
        return []
    ids = json.dumps([b[0] for b in bills])
    moves: dict[int, list[tuple[str, int, int]]] = {}
    for bill_id, on, fen, adjusting in conn.execute(
        "SELECT bill_id, made_on, amount_fen, 1 FROM adjustment WHERE bill_id IN "
        "(SELECT value FROM json_each(?1)) AND made_on <= ?2 UNION ALL "
        "SELECT bill_id, allocated_on, -amount_fen, 0 FROM allocation WHERE bill_id IN "
        "(SELECT value FROM json_each(?1)) AND allocated_on <= ?2",
        (ids, day),
    ):
        moves.setdefault(bill_id, []).append((on, fen, adjusting))
    posted = dict(
        conn.execute(
            "SELECT source_bill_id, sum(amount_fen) FROM late_fee WHERE source_bill_id IN "
            "(SELECT value FROM json_each(?)) GROUP BY source_bill_id",
            (ids,),
        )
    )
    rate = _scaled(rules.rate) if rules.has_clause else 0
    reference = _scaled(rules.annual_reference)
    factor = int(rules.factor * FACTOR_SCALE)
    minimum = rules.minimum_fen
    lines = []
    for bill_id, unit_id, code, party_id, payer, period, item, due_on, amount in bills:
        due = date.fromisoformat(due_on)
        first = due + timedelta(days=rules.grace_days + 1)
        # (balance × days) summed over the stretches of days the balance stayed the same
        balance_days, charged, principal, owed = _stretches(
            amount, moves.get(bill_id, []), first, as_of, minimum
        )
        clause = round_div(balance_days * rate, SCALE) if rate else 0
        cap = rules.cap_fen(principal) if rate else None
        if cap is not None:
            clause = min(clause, cap)
        # the loss runs from the day after the due day, grace or not, with no minimum
        lost_days = _stretches(amount, moves.get(bill_id, []), due + timedelta(days=1), as_of, 0)[0]
        loss = round_div(lost_days * reference, 365 * SCALE)
        ceiling = round_div(lost_days * reference * factor, 365 * SCALE * FACTOR_SCALE)
        lines.append(
            LateFeeLine(
                bill_id,
                unit_id,
                code,
                party_id,
                payer,
                period,
                item,
                due_on,
                principal,
                owed,
                charged,
                clause,
                loss,
                ceiling,
                posted.get(bill_id, 0),
            )
        )
    return [line for line in lines if line.days > 0 or line.posted_fen > 0]


def _stretches(
    amount: int, moves: list[tuple[str, int, int]], first: date, last: date, minimum: int
) -> tuple[int, int, int, int]:
    """Over the charged days first..last: Σ balance × days (a day's balance is the one at its
    end) and the number of days charged; then the bill's worth after adjustments and what it
    still owes, both at ``last``. ``moves`` are (day, fen, 1 for an adjustment)."""
    moves = sorted(moves)
    worth = amount + sum(
        fen for on, fen, adjusting in moves if adjusting and on <= last.isoformat()
    )
    balance = amount
    index = 0
    total = days = 0
    day = first
    while day <= last:
        while index < len(moves) and moves[index][0] <= day.isoformat():
            balance += moves[index][1]
            index += 1
        upto = last
        if index < len(moves):
            upto = min(last, date.fromisoformat(moves[index][0]) - timedelta(days=1))
        span = (upto - day).days + 1
        if balance > 0 and balance >= minimum:
            total += balance * span
            days += span
        day = upto + timedelta(days=1)
    owed = amount + sum(fen for on, fen, _ in moves if on <= last.isoformat())
    return total, days, worth, owed


# ---------------------------------------------------------------- posting


@dataclass
class PostReport:
    unit: str
    as_of: str
    posted: list[tuple[int, int, int]]  # (new bill, source bill, fen)
    already: int = 0


def post(
    conn: sqlite3.Connection, unit_code: str, *, as_of: date, now: datetime, settings
) -> PostReport:
    """Post what has accrued by the clause and is not yet posted as 违约金 bills (inside the
    caller's transaction). The same as-of day again posts nothing."""

    if not settings.late_fee.has_clause:
        raise PropfeeError(
            "the settings hold no late-fee clause ([late_fee] daily_rate): without one in the "
            "contract no late fee is charged (民法典 第585条; LEGAL rule 7)"
        )
    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    day = as_of.isoformat()
    stamp = now.isoformat(sep=" ", timespec="seconds")
    report = PostReport(code, day, [])
    latest = conn.execute(
        "SELECT max(l.as_of) FROM late_fee l JOIN bill b ON b.id = l.source_bill_id "
        "WHERE b.unit_id = ?",
        (unit_id,),
    ).fetchone()[0]
    if latest is not None and day < latest:
        raise PropfeeError(
            f"{code}'s late fees are posted up to {latest} already; post for that day or later"
        )
    item_id = _late_fee_item(conn, stamp)
    clause = rate_text(settings.late_fee.rate)
    period = day[:7]
    for line in late_fees(conn, as_of=as_of, settings=settings, unit_ids=[unit_id]):
        if conn.execute(
            "SELECT 1 FROM late_fee WHERE source_bill_id = ? AND as_of = ?", (line.bill_id, day)
        ).fetchone():
            report.already += 1
            continue
        fen = line.unposted_fen
        if fen <= 0:
            continue
        seq = conn.execute(
            "SELECT coalesce(max(seq), -1) + 1 FROM bill WHERE unit_id = ? AND fee_item_id = ? "
            "AND period = ?",
            (unit_id, item_id, period),
        ).fetchone()[0]
        last = conn.execute(
            "SELECT max(as_of) FROM late_fee WHERE source_bill_id = ?", (line.bill_id,)
        ).fetchone()[0]
        start = (
            date.fromisoformat(last) + timedelta(days=1)
            if last
            else date.fromisoformat(line.due_on) + timedelta(days=1)
        )
        basis = (
            f"{line.item} {line.period} 逾期违约金（按合同约定{clause}，"
            f"{min(start, as_of).isoformat()}至{day}）"
        )
        cursor = conn.execute(
            "INSERT INTO bill (unit_id, fee_item_id, party_id, period, seq, covers_from, "
            "covers_to, due_on, amount_fen, basis, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                unit_id,
                item_id,
                line.party_id,
                period,
                seq,
                day,  # a late fee is a debt from the day it is posted
                day,
                day,
                fen,
                basis,
                stamp,
            ),
        )
        conn.execute(
            "INSERT INTO late_fee (source_bill_id, bill_id, as_of, amount_fen, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (line.bill_id, cursor.lastrowid, day, fen, stamp),
        )
        report.posted.append((cursor.lastrowid, line.bill_id, fen))
    return report


def _late_fee_item(conn: sqlite3.Connection, stamp: str) -> int:
    """The fee item late-fee bills belong to (made on first use; never published, never part
    of a bill run)."""
    row = conn.execute("SELECT id FROM fee_item WHERE code = ?", (LATE_FEE_CODE,)).fetchone()
    if row:
        return row[0]
    position = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM fee_item").fetchone()[0]
    return conn.execute(
        "INSERT INTO fee_item (code, name, basis, cycle, kinds, position, price_type, services, "
        "created_at) VALUES (?, ?, 'one_off', 'monthly', '', ?, '合同约定', '', ?)",
        (LATE_FEE_CODE, LATE_FEE_NAME, position, stamp),
    ).lastrowid


def rate_text(rate: Decimal) -> str:
    """0.0005 -> 每日万分之五; 0.003 -> 每日千分之三; else 每日0.0005."""
    for unit, word in ((Decimal("0.0001"), "万分之"), (Decimal("0.001"), "千分之")):
        count = rate / unit
        if count == count.to_integral_value() and 1 <= count <= 9:
            return f"每日{word}{'一二三四五六七八九'[int(count) - 1]}"
    return f"每日{rate.normalize()}"
