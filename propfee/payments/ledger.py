"""The ledger: what each bill and unit owes, derived from bills, adjustments, payments and
allocations (never stored as a number that could drift).

    net         = bill amount + its adjustments
    paid        = its allocations (a reversal adds negative allocations)
    outstanding = net − paid
    credit      = a unit's payments (not reversed) − their allocations

``bill.settled_on`` caches the day a bill became fully paid, so that aging scans only open
bills; it is written in the same transaction as what settles it and re-derived by ``check``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from propfee.billing import BillRunReport, run_bills
from propfee.billing.balances import (
    SETTLE_SQL,
    bill_balance,
)
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.money import format_money, round_div
from propfee.roster.payers import Payers, payer_of, responsible_party
from propfee.roster.units import resolve_code
from propfee.store import audit


@dataclass(frozen=True)
class OpenBill:
    id: int
    unit_id: int
    unit: str
    item: str
    item_name: str
    party_id: int | None
    period: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    outstanding_fen: int
    basis: str


def open_bills(
    conn: sqlite3.Connection, *, unit_ids: list[int] | None = None, due_before: date | None = None
) -> list[OpenBill]:
    """Bills not yet fully paid, oldest due first, optionally for some units / due before a day."""
    where = ["b.settled_on IS NULL"]
    params: list[object] = []
    if unit_ids is not None:
        where.append(f"b.unit_id IN ({','.join('?' * len(unit_ids))})")
        params.extend(unit_ids)
    if due_before is not None:
        where.append("b.due_on < ?")
        params.append(due_before.isoformat())
    rows = conn.execute(
        "SELECT b.id, b.unit_id, u.code, f.code, f.name, b.party_id, b.period, b.covers_from, "
        "b.covers_to, b.due_on, b.amount_fen, "
        "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
        " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), b.basis "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"WHERE {' AND '.join(where)} ORDER BY b.due_on, f.position, b.id",
        params,
    ).fetchall()
    return [OpenBill(*row) for row in rows if row[11] > 0]


@dataclass(frozen=True)
class BillLine:
    id: int
    period: str
    item: str
    item_name: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    adjusted_fen: int
    paid_fen: int
    settled_on: str | None
    party: str
    basis: str
    opening: bool

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen + self.adjusted_fen - self.paid_fen


def unit_bills(conn: sqlite3.Connection, unit_id: int) -> list[BillLine]:
    """A unit's bills, oldest first, with adjustments and payments applied."""
    rows = conn.execute(
        "SELECT b.id, b.period, f.code, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0), "
        "coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), "
        "b.settled_on, coalesce(p.name, ''), b.basis, b.opening "
        "FROM bill b JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ? ORDER BY b.covers_from, f.position, b.id",
        (unit_id,),
    ).fetchall()
    return [BillLine(*row[:13], bool(row[13])) for row in rows]


# ---------------------------------------------------------------- payments

CHANNELS = {
    "wechat": "微信支付",
    "alipay": "支付宝",
    "bank": "银行转账",
    "cash": "现金",
    "pos": "刷卡",
    "autodebit": "银行代扣",
    "other": "其他",
    "opening": "期初",
}


@dataclass
class Allocation:
    bill_id: int
    item_name: str
    period: str
    covers_from: str
    covers_to: str
    amount_fen: int
    left_fen: int  # what the bill still owes afterwards


@dataclass
class Payment:
    id: int
    receipt_no: str | None
    unit: str
    unit_id: int
    party: str
    amount_fen: int
    channel: str
    ref: str | None
    paid_on: str
    cashier: str
    note: str
    allocations: list[Allocation]
    credit_fen: int  # what stayed on the account
    discount_fen: int = 0  # a prepayment discount booked with it
    already: bool = False  # the same channel + ref was recorded before

    @property
    def allocated_fen(self) -> int:
        return sum(a.amount_fen for a in self.allocations)


@dataclass(frozen=True)
class HeldRef:
    """A payment that holds a channel's reference (one that is not reversed)."""

    id: int
    receipt_no: str | None
    channel: str
    unit_id: int
    unit: str
    amount_fen: int
    paid_on: str


def held_refs(
    conn: sqlite3.Connection, refs: list[str] | None = None, *, reversed_: bool = False
) -> dict[str, list[HeldRef]]:
    """{ref: the payments holding it}, over payments not reversed (a reversed payment gives
    its reference back, so the same money can be recorded again correctly); every reference
    when ``refs`` is None. One payment per channel + reference is enforced here, by the code
    that records payments inside its write transaction (see migration m004). With
    ``reversed_``: the reversed payments instead."""
    sql = (
        "SELECT p.ref, p.id, p.receipt_no, p.channel, p.unit_id, u.code, p.amount_fen, "
        "p.paid_on FROM payment p JOIN unit u ON u.id = p.unit_id WHERE p.ref IS NOT NULL "
        "AND p.channel <> 'opening' AND " + ("" if reversed_ else "NOT ") + "EXISTS (SELECT 1 "
        "FROM reversal r WHERE r.payment_id = p.id)"
    )
    rows: list = []
    if refs is None:
        rows = conn.execute(sql + " ORDER BY p.id").fetchall()
    else:
        wanted = list(dict.fromkeys(refs))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows += conn.execute(
                sql + f" AND p.ref IN ({','.join('?' * len(chunk))}) ORDER BY p.id", chunk
            ).fetchall()
    held: dict[str, list[HeldRef]] = {}
    for ref, *rest in rows:
        held.setdefault(ref, []).append(HeldRef(*rest))
    return held


#: one payment above this is refused unless --large: an amount typed into the wrong field
#: (a transaction number as the amount) must not become a receipt
MAX_PAYMENT_FEN = 10_000_000_00  # ¥10,000,000
#: the most one payment may be even with --large (far below SQLite's 64-bit limit, so sums
#: of many payments never overflow)
MAX_LARGE_PAYMENT_FEN = 1_000_000_000_00  # ¥1,000,000,000


def check_amount(amount_fen: int, *, large: bool = False) -> None:
    """Refuse an absurd amount for one payment."""

    if amount_fen > MAX_LARGE_PAYMENT_FEN:
        raise InvalidValue(
            f"{format_money(amount_fen)} is more than one payment can be "
            f"({format_money(MAX_LARGE_PAYMENT_FEN)}); check the amount"
        )
    if amount_fen > MAX_PAYMENT_FEN and not large:
        raise InvalidValue(
            f"{format_money(amount_fen)} is more than {format_money(MAX_PAYMENT_FEN)}: check "
            "the amount (a reference typed as the amount?); give --large if it is right"
        )


def unit_id_of(conn: sqlite3.Connection, unit_code: str) -> int:
    """A unit's id by its code as typed (letter case as the roster has it)."""

    code = resolve_code(conn, unit_code)
    row = conn.execute("SELECT id FROM unit WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise NotFound(f"no unit {code!r}")
    return row[0]


def _next_receipt(conn: sqlite3.Connection, year: int) -> str:
    """The next receipt number of the year, gapless: taken inside the payment's transaction."""
    last = conn.execute(
        "INSERT INTO receipt_counter (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    ).fetchone()[0]
    return f"{year}-{last:06d}"


def _open_bills_of(
    conn: sqlite3.Connection, unit_id: int, party_id: int | None, bill_ids: list[int] | None = None
) -> list[tuple[int, int]]:
    """(bill id, outstanding) of a unit's open bills: the payer's choice in its order, else
    the party's bills oldest due first, then by fee item order (民法典 第560条)."""
    base = (
        "SELECT b.id, b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0) - coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0) FROM bill b JOIN fee_item f ON f.id = b.fee_item_id "
        "WHERE b.unit_id = ? AND b.settled_on IS NULL"
    )
    if bill_ids is not None:
        rows = dict(
            conn.execute(
                base + f" AND b.id IN ({','.join('?' * len(bill_ids))})", (unit_id, *bill_ids)
            ).fetchall()
        )
        return [(bid, rows[bid]) for bid in bill_ids if rows.get(bid, 0) > 0]
    rows = conn.execute(
        base + " AND b.party_id IS ? ORDER BY b.due_on, f.position, b.id", (unit_id, party_id)
    ).fetchall()
    return [(bid, left) for bid, left in rows if left > 0]


def _allocate(
    conn: sqlite3.Connection,
    payment_id: int,
    plan: list[tuple[int, int]],
    money: int,
    on: str,
    stamp: str,
) -> tuple[list[tuple[int, int, int]], int]:
    """Spread ``money`` over ``plan`` in order; return ((bill, amount, left)…, unspent)."""
    done = []
    for bill_id, left in plan:
        if money <= 0:
            break
        amount = min(money, left)
        conn.execute(
            "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (payment_id, bill_id, amount, on, stamp),
        )
        if amount == left:
            conn.execute(SETTLE_SQL, (on, bill_id))
        done.append((bill_id, amount, left - amount))
        money -= amount
    return done, money


def _bill_labels(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple]:
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT b.id, f.name, b.period, b.covers_from, b.covers_to FROM bill b "
        f"JOIN fee_item f ON f.id = b.fee_item_id WHERE b.id IN ({','.join('?' * len(ids))})",
        ids,
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def record_payment(
    conn: sqlite3.Connection,
    unit_code: str,
    amount_fen: int,
    *,
    channel: str,
    ref: str | None,
    paid_on: date,
    as_of: date,
    now,
    settings,
    cashier: str = "",
    note: str = "",
    bill_ids: list[int] | None = None,
    payer: str = "",
    source: str = "counter",
    invoice: str = "",
    large: bool = False,
) -> Payment:
    """Record a payment inside the caller's transaction: a gapless receipt number, the money
    allocated to the payer's choice of bills or else oldest due first, and the rest kept as
    credit. The same channel + reference again records nothing and returns the first one."""

    if channel not in CHANNELS or channel == "opening":
        raise InvalidValue(
            f"--channel must be one of {', '.join(c for c in CHANNELS if c != 'opening')}"
        )
    if amount_fen <= 0:
        raise InvalidValue("the amount must be greater than zero")
    check_amount(amount_fen, large=large)
    ref = (ref or "").strip() or None
    if ref is None and channel != "cash":
        raise InvalidValue(f"--ref is required for {channel}: the channel's transaction number")
    if paid_on > as_of:
        raise InvalidValue(f"--date {paid_on} is in the future (today is {as_of})")
    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    if ref is not None:
        held = [h for h in held_refs(conn, [ref]).get(ref, []) if h.channel == channel]
        same = [h for h in held if h.unit_id == unit_id and h.amount_fen == amount_fen]
        if same:
            found = payment_detail(conn, same[0].id)
            found.already = True
            return found
        if held:
            raise PropfeeError(
                f"{CHANNELS[channel]} {ref} is already recorded as receipt {held[0].receipt_no} "
                f"for {held[0].unit} {format_money(held[0].amount_fen)}; not "
                f"{code} {format_money(amount_fen)} (if that receipt is wrong, reverse it and "
                "record the payment again)"
            )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    party = responsible_party(conn, unit_id, paid_on, settings, stamp)
    if bill_ids:
        owned = {
            r[0]
            for r in conn.execute(
                f"SELECT id FROM bill WHERE unit_id = ? AND id IN ({','.join('?' * len(bill_ids))})",
                (unit_id, *bill_ids),
            )
        }
        strangers = [b for b in bill_ids if b not in owned]
        if strangers:
            raise InvalidValue(f"bill {strangers[0]} is not a bill of {code}")
        for bill_id in dict.fromkeys(bill_ids):
            if _outstanding(conn, bill_id) <= 0:
                name, period, *_ = _bill_labels(conn, [bill_id])[bill_id]
                raise InvalidValue(
                    f"--bill {bill_id} ({name} {period} of {code}) is already paid; name an "
                    "open bill, or leave --bill out to pay the oldest open bills first"
                )
        # bills of an earlier owner or a tenant are that party's debt: the payment goes on
        # their account (and their receipt), never on whoever holds the unit now
        debtors = {
            r[0]
            for r in conn.execute(
                f"SELECT party_id FROM bill WHERE id IN ({','.join('?' * len(bill_ids))})",
                bill_ids,
            )
        }
        if len(debtors) > 1:
            raise InvalidValue(
                "--bill names bills of different parties (an earlier owner and a later one); "
                "pay each party's bills separately"
            )
        (debtor,) = debtors
        if debtor is not None:
            party = debtor
    receipt = _next_receipt(conn, as_of.year)
    cursor = conn.execute(
        "INSERT INTO payment (receipt_no, unit_id, party_id, amount_fen, channel, ref, paid_on, "
        "cashier, note, payer, source, invoice, recorded_on, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            receipt,
            unit_id,
            party,
            amount_fen,
            channel,
            ref,
            paid_on.isoformat(),
            cashier.strip(),
            note.strip(),
            payer.strip(),
            source,
            invoice,
            as_of.isoformat(),
            stamp,
        ),
    )
    payment_id = cursor.lastrowid
    plan = _open_bills_of(conn, unit_id, party, list(dict.fromkeys(bill_ids)) if bill_ids else None)
    if bill_ids:  # then the rest, oldest first
        chosen = {b for b, _ in plan}
        plan += [p for p in _open_bills_of(conn, unit_id, party) if p[0] not in chosen]
    discount = _prepay_discount(conn, plan, amount_fen, paid_on, settings, stamp)
    if discount:
        plan = [(b, _outstanding(conn, b)) for b, _ in plan]
    _allocate(conn, payment_id, plan, amount_fen, paid_on.isoformat(), stamp)
    result = payment_detail(conn, payment_id)
    result.discount_fen = discount
    return result


def _outstanding(conn: sqlite3.Connection, bill_id: int) -> int:
    balance = bill_balance(conn, bill_id)
    return balance.outstanding_fen if balance else 0


def _prepay_discount(conn, plan, money: int, paid_on: date, settings, stamp: str) -> int:
    """Paying ``billing.prepay_months`` or more months ahead in full earns
    ``billing.prepay_discount`` off those months, booked as discount adjustments. The payer
    pays the discounted amount, so the months are counted at their discounted price."""

    months = settings.billing.prepay_months
    share = settings.billing.prepay_discount_share
    if not months or not share or not plan:
        return 0
    rate = int(share * 10000)
    marks = ",".join("?" * len(plan))
    info = {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            f"SELECT id, due_on, period FROM bill WHERE id IN ({marks})", [b for b, _ in plan]
        )
    }
    covered, left = [], money
    for bill_id, owed in plan:
        due_on, _period = info[bill_id]
        ahead = due_on > paid_on.isoformat()
        cost = owed - round_div(owed * rate, 10000) if ahead else owed
        if left < cost:
            break
        left -= cost
        if ahead:
            covered.append((bill_id, owed))
    if len({info[b][1] for b, _ in covered}) < months:
        return 0
    total = 0
    for bill_id, owed in covered:
        fen = round_div(owed * rate, 10000)
        if fen:
            conn.execute(
                "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, made_on, "
                "created_at) VALUES (?, ?, 'discount', ?, 'settings', ?, ?)",
                (bill_id, -fen, f"预缴{len(covered)}期优惠", paid_on.isoformat(), stamp),
            )
            total += fen
    return total


def payment_detail(conn: sqlite3.Connection, payment_id: int) -> Payment:
    row = conn.execute(
        "SELECT p.id, p.receipt_no, u.code, u.id, coalesce(pa.name, ''), p.amount_fen, p.channel, "
        "p.ref, p.paid_on, p.cashier, p.note FROM payment p JOIN unit u ON u.id = p.unit_id "
        "LEFT JOIN party pa ON pa.id = p.party_id WHERE p.id = ?",
        (payment_id,),
    ).fetchone()
    allocations = []
    for bill_id, amount in conn.execute(
        "SELECT bill_id, sum(amount_fen) FROM allocation WHERE payment_id = ? GROUP BY bill_id "
        "HAVING sum(amount_fen) <> 0 ORDER BY min(id)",
        (payment_id,),
    ):
        label = _bill_labels(conn, [bill_id])[bill_id]
        allocations.append(
            Allocation(
                bill_id, label[0], label[1], label[2], label[3], amount, _outstanding(conn, bill_id)
            )
        )
    reversed_ = conn.execute(
        "SELECT 1 FROM reversal WHERE payment_id = ?", (payment_id,)
    ).fetchone()
    credit = 0 if reversed_ else row[5] - sum(a.amount_fen for a in allocations)
    return Payment(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        allocations,
        credit,
    )


def find_payment(conn: sqlite3.Connection, receipt: str) -> int:
    """A payment by its receipt number (``2026-000123``; ``123`` means this year's)."""

    text = receipt.strip()
    row = conn.execute("SELECT id FROM payment WHERE receipt_no = ?", (text,)).fetchone()
    if row is None and text.isdigit():
        row = conn.execute(
            "SELECT id FROM payment WHERE receipt_no LIKE ? ORDER BY receipt_no DESC LIMIT 1",
            (f"%-{int(text):06d}",),
        ).fetchone()
    if row is None:
        raise NotFound(f"no receipt {receipt!r}")
    return row[0]


# ---------------------------------------------------------------- reversals


@dataclass
class Reversal:
    receipt_no: str
    unit: str
    amount_fen: int
    reopened: list[int]  # bills that are open again
    credit_removed_fen: int
    credit_left_fen: int = 0  # the unit's other credit, which could pay the re-opened bills


def reverse_payment(
    conn: sqlite3.Connection, receipt: str, *, reason: str, on: date, now, operator: str = ""
) -> Reversal:
    """Reverse a payment: a reversal row linked to it, and negative allocations that undo each
    of its allocations; the bills re-open and its credit is gone. Nothing is deleted."""

    if not reason.strip():
        raise InvalidValue("--reason is required: say why the payment is reversed")
    payment_id = find_payment(conn, receipt)
    held = payment_detail(conn, payment_id)
    done = conn.execute(
        "SELECT reversed_on FROM reversal WHERE payment_id = ?", (payment_id,)
    ).fetchone()
    if done is not None:
        raise PropfeeError(f"receipt {held.receipt_no} was already reversed on {done[0]}")
    if held.channel == "opening":
        raise PropfeeError("an opening balance is not a receipt; correct it with propfee adjust")
    recorded_on, last_allocated = conn.execute(
        "SELECT p.recorded_on, (SELECT max(allocated_on) FROM allocation WHERE payment_id = p.id) "
        "FROM payment p WHERE p.id = ?",
        (payment_id,),
    ).fetchone()
    earliest = max(held.paid_on, recorded_on or "", last_allocated or "")
    if on.isoformat() < earliest:
        raise InvalidValue(
            f"--as-of {on}: receipt {held.receipt_no} was paid on {held.paid_on}"
            + (
                f" and recorded on {recorded_on}"
                if recorded_on and recorded_on != held.paid_on
                else ""
            )
            + (
                f" and applied to bills on {last_allocated}"
                if last_allocated and last_allocated > max(held.paid_on, recorded_on or "")
                else ""
            )
            + f"; a reversal cannot come before it (reverse it on {earliest} or later)"
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    cursor = conn.execute(
        "INSERT INTO reversal (payment_id, reason, reversed_on, operator, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (payment_id, reason.strip(), on.isoformat(), operator, stamp),
    )
    for allocation in held.allocations:
        conn.execute(
            "INSERT INTO allocation (payment_id, bill_id, amount_fen, reversal_id, allocated_on, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                payment_id,
                allocation.bill_id,
                -allocation.amount_fen,
                cursor.lastrowid,
                on.isoformat(),
                stamp,
            ),
        )
        conn.execute("UPDATE bill SET settled_on = NULL WHERE id = ?", (allocation.bill_id,))
    left = credit_of(conn, held.unit_id) if held.allocations else 0
    return Reversal(
        held.receipt_no,
        held.unit,
        held.amount_fen,
        [a.bill_id for a in held.allocations],
        held.credit_fen,
        max(left, 0),
    )


# ---------------------------------------------------------------- credit


def run_bills_and_apply_credit(conn: sqlite3.Connection, **run) -> BillRunReport:
    """The bill run (``billing.run_bills``, same arguments), then credit — money paid ahead —
    pays the new bills at once."""
    report = run_bills(conn, **run)
    if report.units:
        report.credit_applied = apply_credit(
            conn, on=run["as_of"], now=run["now"], unit_ids=_with_credit(conn, report.units)
        )
    return report


def _with_credit(conn: sqlite3.Connection, units: set[int]) -> list[int]:
    """Of these units, those holding money not yet allocated."""
    rows = conn.execute(
        "SELECT p.unit_id FROM payment p WHERE NOT EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) AND p.amount_fen > coalesce((SELECT sum(amount_fen) "
        "FROM allocation WHERE payment_id = p.id), 0)"
    ).fetchall()
    return sorted({r[0] for r in rows} & units)


def apply_credit(
    conn: sqlite3.Connection, *, on: date, now, unit_ids: list[int] | None = None
) -> int:
    """Spend unallocated payments on open bills of the same unit and party, oldest payment
    and oldest due bill first. Returns the fen applied."""
    stamp = now.isoformat(sep=" ", timespec="seconds")
    where = ""
    params: list[object] = []
    if unit_ids is not None:
        if not unit_ids:
            return 0
        where = f" AND p.unit_id IN ({','.join('?' * len(unit_ids))})"
        params = list(unit_ids)
    credits = conn.execute(
        "SELECT p.id, p.unit_id, p.party_id, p.amount_fen - coalesce((SELECT sum(amount_fen) "
        "FROM allocation WHERE payment_id = p.id), 0) AS left FROM payment p "
        "WHERE NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id)"
        + where
        + " AND p.amount_fen > coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE payment_id = p.id), 0) ORDER BY p.paid_on, p.id",
        params,
    ).fetchall()
    applied = 0
    for payment_id, unit_id, party_id, left in credits:
        plan = _open_bills_of(conn, unit_id, party_id)
        if not plan:
            continue
        _done, unspent = _allocate(conn, payment_id, plan, left, on.isoformat(), stamp)
        applied += left - unspent
    return applied


def credit_of(conn: sqlite3.Connection, unit_id: int, as_of: date | None = None) -> int:
    """Money paid for a unit and not yet allocated to any bill (as of a day)."""
    day = (as_of or date.max).isoformat()
    row = conn.execute(
        "SELECT coalesce(sum(p.amount_fen), 0) FROM payment p WHERE p.unit_id = ? "
        "AND p.paid_on <= ? AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id "
        "AND r.reversed_on <= ?)",
        (unit_id, day, day),
    ).fetchone()[0]
    allocated = conn.execute(
        "SELECT coalesce(sum(a.amount_fen), 0) FROM allocation a JOIN payment p "
        "ON p.id = a.payment_id WHERE p.unit_id = ? AND a.allocated_on <= ? "
        "AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id AND r.reversed_on <= ?)",
        (unit_id, day, day),
    ).fetchone()[0]
    return row - allocated


def owed_by_unit(conn: sqlite3.Connection, unit_id: int) -> int:
    return sum(b.outstanding_fen for b in unit_bills(conn, unit_id))


# ---------------------------------------------------------------- statement of account


@dataclass
class StatementLine:
    day: str
    kind: str  # bill | adjustment | payment | reversal
    ref: str
    text: str
    debit_fen: int  # raises what is owed
    credit_fen: int  # lowers it
    balance_fen: int  # the account after this line: owed (+) or in credit (−)


@dataclass
class Statement:
    unit: str
    owner: str
    first: str | None
    last: str | None
    opening_balance_fen: int
    lines: list[StatementLine]
    owed_fen: int  # closing: what the bills in range still owe
    credit_fen: int  # closing: money paid and not applied to them
    party: str | None = None  # whose account it is; None: every party's, the whole unit
    others: int = 0  # for one party's statement: how many other parties the unit's ledger holds

    @property
    def closing_balance_fen(self) -> int:
        return self.owed_fen

    @property
    def account_fen(self) -> int:
        return self.owed_fen - self.credit_fen


def statement_party(
    conn: sqlite3.Connection, unit_code: str, *, name: str | None, day: date, settings
) -> int | None:
    """The party whose statement it is: the one named, else who pays for the unit on ``day``."""

    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    if name is None:
        return payer_of(conn, unit_id, day, settings)
    found = conn.execute(
        "SELECT DISTINCT p.id FROM party p WHERE p.name = ?1 AND p.id IN ("
        "SELECT party_id FROM bill WHERE unit_id = ?2 UNION SELECT party_id FROM payment "
        "WHERE unit_id = ?2 UNION SELECT party_id FROM occupancy WHERE unit_id = ?2)",
        (name.strip(), unit_id),
    ).fetchall()
    if not found:
        raise NotFound(f"{name!r} has no account at {code} (see: propfee units show {code})")
    if len(found) > 1:
        raise InvalidValue(f"{name!r} names {len(found)} parties at {code}; use --all-parties")
    return found[0][0]


def statement(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    first: date | None = None,
    last: date | None = None,
    party_id: int | None = None,
) -> Statement:
    """The statement of account (对账单) of a unit: bills, adjustments, payments and reversals
    in date order with a running balance, the opening balance before ``first`` and the
    closing balance and credit as of ``last``.

    With ``party_id`` only that party's bills and payments: what may be handed to an owner,
    who never sees what a previous owner or a tenant owed or paid (个人信息保护法; LEGAL rule
    10). Without it, the whole unit's ledger, for staff."""

    code = resolve_code(conn, unit_code)
    row = conn.execute(
        "SELECT u.id, coalesce(p.name, '') FROM unit u LEFT JOIN occupancy o ON o.unit_id = u.id "
        "AND o.role = 'owner' AND o.end_on IS NULL LEFT JOIN party p ON p.id = o.party_id "
        "WHERE u.code = ?",
        (code,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no unit {code!r}")
    unit_id, owner = row
    only = ""
    others = 0
    if party_id is not None:
        only = f" AND {{}}party_id = {int(party_id)}"
        owner = conn.execute("SELECT name FROM party WHERE id = ?", (party_id,)).fetchone()[0]
        others = conn.execute(
            "SELECT count(DISTINCT party_id) FROM (SELECT party_id FROM bill WHERE unit_id = ?1 "
            "UNION SELECT party_id FROM payment WHERE unit_id = ?1) WHERE party_id IS NOT ?2",
            (unit_id, party_id),
        ).fetchone()[0]
    end = (last or date.max).isoformat()
    entries: list[tuple[str, int, str, str, str, int]] = []  # day, order, kind, ref, text, fen
    bill_days = {}
    for bid, day, name, frm, to, fen, basis in conn.execute(
        "SELECT b.id, b.covers_from, f.name, b.covers_from, b.covers_to, b.amount_fen, "
        "b.basis FROM bill b JOIN fee_item f ON f.id = b.fee_item_id WHERE b.unit_id = ?"
        + only.format("b."),
        (unit_id,),
    ):
        if day > end:
            continue
        bill_days[bid] = day
        entries.append((day, 0, "bill", str(bid), f"{name} {frm}～{to} {basis}".strip(), fen))
    for bid, day, fen, kind, reason in conn.execute(
        "SELECT a.bill_id, a.made_on, a.amount_fen, a.kind, a.reason FROM adjustment a "
        "JOIN bill b ON b.id = a.bill_id WHERE b.unit_id = ?",
        (unit_id,),
    ):
        if bid in bill_days and day <= end:
            label = {"waiver": "减免", "discount": "优惠", "correction": "更正"}[kind]
            entries.append(
                (day, 1, "adjustment", str(bid), f"{label}：{reason}（账单 {bid}）", fen)
            )
    for pid, receipt, day, fen, channel, ref in conn.execute(
        "SELECT id, receipt_no, paid_on, amount_fen, channel, ref FROM payment WHERE unit_id = ?"
        + only.format(""),
        (unit_id,),
    ):
        if day <= end:
            via = CHANNELS.get(channel, channel) + (
                f" {ref}" if ref and channel != "opening" else ""
            )
            entries.append((day, 2, "payment", receipt or f"期初-{pid}", f"缴费（{via}）", -fen))
    for receipt, day, fen, reason in conn.execute(
        "SELECT p.receipt_no, r.reversed_on, p.amount_fen, r.reason FROM reversal r "
        "JOIN payment p ON p.id = r.payment_id WHERE p.unit_id = ?" + only.format("p."),
        (unit_id,),
    ):
        if day <= end:
            entries.append((day, 3, "reversal", receipt or "", f"冲正：{reason}", fen))
    entries.sort(key=lambda e: (e[0], e[1], e[3]))
    start = first.isoformat() if first else ""
    balance = sum(e[5] for e in entries if e[0] < start)
    opening = balance
    lines = []
    for day, _order, kind, ref, text, fen in entries:
        if day < start:
            continue
        balance += fen
        lines.append(StatementLine(day, kind, ref, text, max(fen, 0), max(-fen, 0), balance))
    owed = 0
    for bid in bill_days:
        amount, adjusted = conn.execute(
            "SELECT b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment WHERE "
            "bill_id = b.id AND made_on <= ?), 0) FROM bill b WHERE b.id = ?",
            (end, bid),
        ).fetchone()
        paid = conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM allocation WHERE bill_id = ? "
            "AND allocated_on <= ?",
            (bid, end),
        ).fetchone()[0]
        owed += amount + adjusted - paid
    credit = owed - balance
    return Statement(
        code,
        owner,
        first.isoformat() if first else None,
        last.isoformat() if last else None,
        opening,
        lines,
        owed,
        credit,
        owner if party_id is not None else None,
        others,
    )


# ---------------------------------------------------------------- the daily close


@dataclass
class DailyClose:
    day: str
    payments: list[dict]
    reversals: list[dict]
    by_channel: dict[str, list[int]]  # channel -> [count, fen]
    by_cashier: dict[str, list[int]]
    received_fen: int
    reversed_fen: int

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.reversed_fen


def daily_close(conn: sqlite3.Connection, day: date) -> DailyClose:
    """日结: the payments recorded on a day by channel and by cashier, and its reversals."""
    iso = day.isoformat()
    payments = [
        {
            "receipt": r[0],
            "unit": r[1],
            "amount_fen": r[2],
            "channel": r[3],
            "ref": r[4],
            "paid_on": r[5],
            "cashier": r[6] or "—",
        }
        for r in conn.execute(
            "SELECT p.receipt_no, u.code, p.amount_fen, p.channel, p.ref, p.paid_on, p.cashier "
            "FROM payment p JOIN unit u ON u.id = p.unit_id WHERE p.recorded_on = ? "
            "AND p.channel <> 'opening' ORDER BY p.receipt_no",
            (iso,),
        )
    ]
    reversals = [
        {
            "receipt": r[0],
            "unit": r[1],
            "amount_fen": r[2],
            "channel": r[3],
            "reason": r[4],
            "cashier": r[5] or "—",
        }
        for r in conn.execute(
            "SELECT p.receipt_no, u.code, p.amount_fen, p.channel, r.reason, p.cashier "
            "FROM reversal r JOIN payment p ON p.id = r.payment_id JOIN unit u ON u.id = p.unit_id "
            "WHERE r.reversed_on = ? ORDER BY p.receipt_no",
            (iso,),
        )
    ]
    by_channel: dict[str, list[int]] = {}
    by_cashier: dict[str, list[int]] = {}
    for p in payments:
        for table, key in ((by_channel, p["channel"]), (by_cashier, p["cashier"])):
            entry = table.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += p["amount_fen"]
    for r in reversals:
        for table, key in ((by_channel, r["channel"]), (by_cashier, r["cashier"])):
            entry = table.setdefault(key, [0, 0])
            entry[1] -= r["amount_fen"]
    return DailyClose(
        iso,
        payments,
        reversals,
        by_channel,
        by_cashier,
        sum(p["amount_fen"] for p in payments),
        sum(r["amount_fen"] for r in reversals),
    )


# ---------------------------------------------------------------- check


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str


def check(conn: sqlite3.Connection) -> list[Problem]:
    """Verify every ledger invariant and the file itself; an empty list means all is well."""
    problems: list[Problem] = []

    def add(what: str, detail: str) -> None:
        problems.append(Problem(what, detail))

    for (result,) in conn.execute("PRAGMA integrity_check"):
        if result != "ok":
            add("integrity", result)
    for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check"):
        add("orphan", f"{table} row {rowid} points at a missing {parent}")
    for bid, amount, adjusted, paid, settled, last_move in conn.execute(
        "SELECT b.id, b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0), coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0), b.settled_on, max(coalesce((SELECT max(allocated_on) "
        "FROM allocation WHERE bill_id = b.id), ''), coalesce((SELECT max(made_on) "
        "FROM adjustment WHERE bill_id = b.id), '')) FROM bill b"
    ):
        if settled is not None and settled < last_move:
            add(
                "settled",
                f"bill {bid}: settled_on {settled} is before its last payment or adjustment "
                f"({last_move})",
            )
        net = amount + adjusted
        if net < 0:
            add("bill", f"bill {bid}: adjustments take it below zero ({format_money(net)})")
        if paid < 0:
            add("bill", f"bill {bid}: allocations are negative ({format_money(paid)})")
        if paid > net:
            add(
                "bill",
                f"bill {bid}: {format_money(paid)} allocated to a bill of {format_money(net)}",
            )
        if (settled is None) != (net - paid > 0):
            add(
                "settled",
                f"bill {bid}: settled_on is {settled or 'empty'} but it owes "
                f"{format_money(net - paid)}",
            )
    for plan_id, total, scheduled, covered in conn.execute(
        "SELECT p.id, p.total_fen, (SELECT sum(amount_fen) FROM plan_installment WHERE "
        "plan_id = p.id), (SELECT sum(amount_fen) FROM plan_bill WHERE plan_id = p.id) FROM plan p"
    ):
        if scheduled != total or covered != total:
            add(
                "plan",
                f"plan {plan_id}: {format_money(total)} but its installments sum to "
                f"{format_money(scheduled or 0)} and its bills to {format_money(covered or 0)}",
            )
    for late_id, fen, billed, code in conn.execute(
        "SELECT l.id, l.amount_fen, b.amount_fen, f.code FROM late_fee l JOIN bill b "
        "ON b.id = l.bill_id JOIN fee_item f ON f.id = b.fee_item_id"
    ):
        if fen != billed or code != "LATEFEE":
            add("late fee", f"late fee {late_id}: its bill is {code} {format_money(billed)}")
    for pid, receipt, amount, allocated, reversed_ in conn.execute(
        "SELECT p.id, p.receipt_no, p.amount_fen, coalesce((SELECT sum(amount_fen) FROM "
        "allocation WHERE payment_id = p.id), 0), EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) FROM payment p"
    ):
        name = receipt or f"payment {pid}"
        if allocated < 0:
            add("payment", f"{name}: allocations are negative")
        if allocated > amount:
            add("payment", f"{name}: {format_money(allocated)} allocated of {format_money(amount)}")
        if reversed_ and allocated != 0:
            add("payment", f"{name}: reversed but {format_money(allocated)} is still allocated")
    for (year,) in conn.execute(
        "SELECT DISTINCT substr(receipt_no, 1, 4) FROM payment WHERE receipt_no IS NOT NULL"
    ):
        numbers = sorted(
            int(r[0][5:])
            for r in conn.execute(
                "SELECT receipt_no FROM payment WHERE receipt_no LIKE ?", (f"{year}-%",)
            )
        )
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing:
            add(
                "receipts",
                f"{year}: receipt numbers missing: "
                + ", ".join(f"{year}-{n:06d}" for n in missing[:10]),
            )
        counter = conn.execute(
            "SELECT last FROM receipt_counter WHERE year = ?", (int(year),)
        ).fetchone()
        if counter is None or counter[0] != numbers[-1]:
            add(
                "receipts",
                f"{year}: the counter says {counter[0] if counter else 'nothing'}, "
                f"the last receipt is {numbers[-1]}",
            )
    for channel, ref, count in conn.execute(
        "SELECT channel, ref, count(*) FROM payment p WHERE ref IS NOT NULL "
        "AND channel IN ('wechat', 'alipay') AND NOT EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) GROUP BY channel, ref HAVING count(*) > 1"
    ):
        add(
            "payment",
            f"{CHANNELS[channel]} {ref} is held by {count} payments that are not reversed",
        )
    for aid, reversal in conn.execute(
        "SELECT id, reversal_id FROM allocation WHERE amount_fen < 0"
    ):
        if reversal is None:
            add("allocation", f"allocation {aid} is negative without a reversal")
    for unit, role, count in conn.execute(
        "SELECT unit_id, role, count(*) FROM occupancy WHERE end_on IS NULL "
        "GROUP BY unit_id, role HAVING count(*) > 1"
    ):
        add("occupancy", f"unit {unit} has {count} current {role}s")

    for detail in audit.verify(conn):
        add("audit", detail)
    return problems


class PaymentBatch:
    """Many payments in one transaction (a reconciled statement): the same rules as
    ``record_payment`` — gapless receipts, the responsible party, oldest due first, credit —
    with what they read loaded once and what they write written in bulk by ``flush``."""

    def __init__(self, conn: sqlite3.Connection, *, settings, now, as_of: date, size: int = 0):

        self.bulk = size > 2000  # then read every open bill at once
        self.complete = False
        self.conn = conn
        self.as_of = as_of
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.run = Payers(conn, settings, now, as_of)
        self.units = {u.code: u for u in self.run.units}
        self.next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM payment").fetchone()[0]
        row = conn.execute(
            "SELECT last FROM receipt_counter WHERE year = ?", (as_of.year,)
        ).fetchone()
        self.receipt = row[0] if row else 0
        self.first_receipt = self.receipt
        self._open: dict[int, list[list]] = {}
        self.payments: list[tuple] = []
        self.allocations: list[tuple] = []
        self.settled: list[tuple[str, int]] = []

    def open_bills(self, unit_id: int) -> list[list]:
        """A unit's open bills as [bill id, party id, owed], oldest due first (read once; for
        a big statement every open bill of the estate is read in one go)."""
        if self.bulk:
            self.bulk = False
            fast = self.conn.cursor()
            fast.row_factory = None
            for bill_id, unit, party_id, owed in fast.execute(
                "SELECT b.id, b.unit_id, b.party_id, b.amount_fen + coalesce((SELECT "
                "sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0) - coalesce((SELECT "
                "sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0) FROM bill b "
                "JOIN fee_item f ON f.id = b.fee_item_id WHERE b.settled_on IS NULL "
                "ORDER BY b.due_on, f.position, b.id"
            ):
                if owed > 0:
                    self._open.setdefault(unit, []).append([bill_id, party_id, owed])
            self.complete = True
        bills = self._open.get(unit_id)
        if bills is None and self.complete:
            return []
        if bills is None:
            bills = self._open[unit_id] = [
                [bill_id, party_id, owed]
                for bill_id, party_id, owed in self.conn.execute(
                    "SELECT b.id, b.party_id, b.amount_fen + coalesce((SELECT sum(amount_fen) "
                    "FROM adjustment WHERE bill_id = b.id), 0) - coalesce((SELECT "
                    "sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0) FROM bill b "
                    "JOIN fee_item f ON f.id = b.fee_item_id WHERE b.unit_id = ? "
                    "AND b.settled_on IS NULL ORDER BY b.due_on, f.position, b.id",
                    (unit_id,),
                )
                if owed > 0
            ]
        return bills

    def record(
        self,
        code: str,
        amount_fen: int,
        *,
        channel: str,
        ref: str | None,
        paid_on: date,
        note: str = "",
        payer: str = "",
        source: str = "",
        cashier: str = "",
    ) -> str:
        """Queue one payment; return its receipt number."""
        unit = self.units[code]
        party = self.run.payer_on(unit, self.run.holdings.get(unit.id, ()), paid_on)
        self.receipt += 1
        receipt = f"{self.as_of.year}-{self.receipt:06d}"
        payment_id = self.next_id
        self.next_id += 1
        self.payments.append(
            (
                payment_id,
                receipt,
                unit.id,
                party,
                amount_fen,
                channel,
                ref,
                paid_on.isoformat(),
                cashier,
                note,
                payer,
                source,
                "",
                self.as_of.isoformat(),
                self.stamp,
            )
        )
        money = amount_fen
        day = paid_on.isoformat()
        for bill in self.open_bills(unit.id):
            if money <= 0:
                break
            if bill[1] != party or bill[2] <= 0:
                continue
            amount = min(money, bill[2])
            bill[2] -= amount
            money -= amount
            self.allocations.append((payment_id, bill[0], amount, day, self.stamp))
            if bill[2] == 0:
                self.settled.append((day, bill[0]))
        return receipt

    def flush(self) -> None:
        conn = self.conn
        conn.executemany(
            "INSERT INTO payment (id, receipt_no, unit_id, party_id, amount_fen, channel, ref, "
            "paid_on, cashier, note, payer, source, invoice, recorded_on, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.payments,
        )
        conn.executemany(
            "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            self.allocations,
        )
        conn.executemany(SETTLE_SQL, self.settled)
        if self.receipt != self.first_receipt:
            conn.execute(
                "INSERT INTO receipt_counter (year, last) VALUES (?, ?) "
                "ON CONFLICT (year) DO UPDATE SET last = excluded.last",
                (self.as_of.year, self.receipt),
            )
        self.payments, self.allocations, self.settled = [], [], []
