"""What a statement of account and the daily close read: a unit's bills, adjustments, payments
and reversals (all parties' or one party's), what a bill owed as of a day, and the payments and
reversals recorded on a day."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def _of_party(party_id: int | None, table: str) -> str:
    return "" if party_id is None else f" AND {table}party_id = {int(party_id)}"


def unit_and_owner(conn: sqlite3.Connection, code: str):
    """(unit id, the current owner's name or '') of a unit; None when there is no such unit."""
    return conn.execute(
        "SELECT u.id, coalesce(p.name, '') FROM unit u LEFT JOIN occupancy o ON o.unit_id = u.id "
        "AND o.role = 'owner' AND o.end_on IS NULL LEFT JOIN party p ON p.id = o.party_id "
        "WHERE u.code = ?",
        (code,),
    ).fetchone()


def party_name(conn: sqlite3.Connection, party_id: int) -> str:
    return conn.execute("SELECT name FROM party WHERE id = ?", (party_id,)).fetchone()[0]


def parties_named_at_unit(conn: sqlite3.Connection, name: str, unit_id: int) -> list:
    """The parties of this name with a bill, payment or occupancy at the unit."""
    return conn.execute(
        "SELECT DISTINCT p.id FROM party p WHERE p.name = ?1 AND p.id IN ("
        "SELECT party_id FROM bill WHERE unit_id = ?2 UNION SELECT party_id FROM payment "
        "WHERE unit_id = ?2 UNION SELECT party_id FROM occupancy WHERE unit_id = ?2)",
        (name, unit_id),
    ).fetchall()


def other_parties(conn: sqlite3.Connection, unit_id: int, party_id: int) -> int:
    """How many other parties have bills or payments at the unit."""
    return conn.execute(
        "SELECT count(DISTINCT party_id) FROM (SELECT party_id FROM bill WHERE unit_id = ?1 "
        "UNION SELECT party_id FROM payment WHERE unit_id = ?1) WHERE party_id IS NOT ?2",
        (unit_id, party_id),
    ).fetchone()[0]


def statement_bills(conn: sqlite3.Connection, unit_id: int, party_id: int | None) -> Iterator:
    """(id, day, item name, covers from, covers to, amount, basis) of a unit's bills (of a
    party)."""
    return conn.execute(
        "SELECT b.id, b.covers_from, f.name, b.covers_from, b.covers_to, b.amount_fen, "
        "b.basis FROM bill b JOIN fee_item f ON f.id = b.fee_item_id WHERE b.unit_id = ?"
        + _of_party(party_id, "b."),
        (unit_id,),
    )


def statement_adjustments(conn: sqlite3.Connection, unit_id: int) -> Iterator:
    """(bill id, made on, amount, kind, reason) of the adjustments to a unit's bills."""
    return conn.execute(
        "SELECT a.bill_id, a.made_on, a.amount_fen, a.kind, a.reason FROM adjustment a "
        "JOIN bill b ON b.id = a.bill_id WHERE b.unit_id = ?",
        (unit_id,),
    )


def statement_payments(conn: sqlite3.Connection, unit_id: int, party_id: int | None) -> Iterator:
    """(id, receipt, paid on, amount, channel, ref) of a unit's payments (of a party)."""
    return conn.execute(
        "SELECT id, receipt_no, paid_on, amount_fen, channel, ref FROM payment WHERE unit_id = ?"
        + _of_party(party_id, ""),
        (unit_id,),
    )


def statement_reversals(conn: sqlite3.Connection, unit_id: int, party_id: int | None) -> Iterator:
    """(receipt, reversed on, amount, reason) of the reversed payments of a unit (of a
    party)."""
    return conn.execute(
        "SELECT p.receipt_no, r.reversed_on, p.amount_fen, r.reason FROM reversal r "
        "JOIN payment p ON p.id = r.payment_id WHERE p.unit_id = ?" + _of_party(party_id, "p."),
        (unit_id,),
    )


def bill_owed_as_of(conn: sqlite3.Connection, bill_id: int, day: str) -> int:
    """What a bill owed at the end of a day: its amount and adjustments less allocations."""
    amount, adjusted = conn.execute(
        "SELECT b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment WHERE "
        "bill_id = b.id AND made_on <= ?), 0) FROM bill b WHERE b.id = ?",
        (day, bill_id),
    ).fetchone()
    paid = conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM allocation WHERE bill_id = ? "
        "AND allocated_on <= ?",
        (bill_id, day),
    ).fetchone()[0]
    return amount + adjusted - paid


def payments_recorded_on(conn: sqlite3.Connection, day: str) -> Iterator:
    """(receipt, unit, amount, channel, ref, paid on, cashier) of the payments recorded on a
    day, opening balances left out, by receipt."""
    return conn.execute(
        "SELECT p.receipt_no, u.code, p.amount_fen, p.channel, p.ref, p.paid_on, p.cashier "
        "FROM payment p JOIN unit u ON u.id = p.unit_id WHERE p.recorded_on = ? "
        "AND p.channel <> 'opening' ORDER BY p.receipt_no",
        (day,),
    )


def reversals_on(conn: sqlite3.Connection, day: str) -> Iterator:
    """(receipt, unit, amount, channel, reason, cashier) of the payments reversed on a day."""
    return conn.execute(
        "SELECT p.receipt_no, u.code, p.amount_fen, p.channel, r.reason, p.cashier "
        "FROM reversal r JOIN payment p ON p.id = r.payment_id JOIN unit u ON u.id = p.unit_id "
        "WHERE r.reversed_on = ? ORDER BY p.receipt_no",
        (day,),
    )
