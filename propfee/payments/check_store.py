"""What the ledger check reads: the file's own integrity and foreign keys, each bill's, plan's,
late fee's and payment's totals, receipt numbers and counters, references held twice, negative
allocations and current occupancies. What grows with the estate's history (every bill,
late fee, payment) is streamed (``pg.stream``): never all held, on a server too."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from propfee.store import pg


def integrity_results(conn: sqlite3.Connection) -> Iterator:
    """(result,) lines of SQLite's integrity check: one ``ok`` when all is well."""
    return conn.execute("PRAGMA integrity_check")


def foreign_key_faults(conn: sqlite3.Connection) -> Iterator:
    """(table, rowid, parent, index) of rows that point at a missing row."""
    return conn.execute("PRAGMA foreign_key_check")


def bill_totals(conn: sqlite3.Connection) -> Iterator:
    """(id, amount, adjustments, allocations, settled on, last allocation or adjustment day)
    of every bill."""
    return pg.stream(
        conn,
        "SELECT b.id, b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0), coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0), b.settled_on, max(coalesce((SELECT max(allocated_on) "
        "FROM allocation WHERE bill_id = b.id), ''), coalesce((SELECT max(made_on) "
        "FROM adjustment WHERE bill_id = b.id), '')) FROM bill b",
    )


def plan_totals(conn: sqlite3.Connection) -> Iterator:
    """(id, total, installments' sum, bills' sum) of every payment plan."""
    return conn.execute(
        "SELECT p.id, p.total_fen, (SELECT sum(amount_fen) FROM plan_installment WHERE "
        "plan_id = p.id), (SELECT sum(amount_fen) FROM plan_bill WHERE plan_id = p.id) FROM plan p"
    )


def late_fee_bills(conn: sqlite3.Connection) -> Iterator:
    """(late fee id, its amount, its bill's amount, its bill's item code) of every late fee."""
    return pg.stream(
        conn,
        "SELECT l.id, l.amount_fen, b.amount_fen, f.code FROM late_fee l JOIN bill b "
        "ON b.id = l.bill_id JOIN fee_item f ON f.id = b.fee_item_id",
    )


def payment_totals(conn: sqlite3.Connection) -> Iterator:
    """(id, receipt, amount, allocations, reversed) of every payment."""
    return pg.stream(
        conn,
        "SELECT p.id, p.receipt_no, p.amount_fen, coalesce((SELECT sum(amount_fen) FROM "
        "allocation WHERE payment_id = p.id), 0), EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) FROM payment p",
    )


def receipt_years(conn: sqlite3.Connection) -> Iterator:
    """(year,) of every year with receipts, as the receipt numbers spell it."""
    return conn.execute(
        "SELECT DISTINCT substr(receipt_no, 1, 4) FROM payment WHERE receipt_no IS NOT NULL"
    )


def receipt_numbers(conn: sqlite3.Connection, year: str) -> Iterator:
    """(receipt,) of every receipt of a year."""
    return conn.execute(
        "SELECT receipt_no FROM payment WHERE substr(receipt_no, 1, 4) = ?", (year,)
    )


def receipt_counter(conn: sqlite3.Connection, year: int):
    """(last,) of a year's receipt counter; None when it has none."""
    return conn.execute("SELECT last FROM receipt_counter WHERE year = ?", (year,)).fetchone()


def app_refs_held_twice(conn: sqlite3.Connection) -> Iterator:
    """(channel, ref, count) of WeChat and Alipay references held by more than one payment
    not reversed."""
    return conn.execute(
        "SELECT channel, ref, count(*) FROM payment p WHERE ref IS NOT NULL "
        "AND channel IN ('wechat', 'alipay') AND NOT EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) GROUP BY channel, ref HAVING count(*) > 1"
    )


def negative_allocations(conn: sqlite3.Connection) -> Iterator:
    """(id, reversal id) of every negative allocation."""
    return conn.execute("SELECT id, reversal_id FROM allocation WHERE amount_fen < 0")


def occupancies_held_twice(conn: sqlite3.Connection) -> Iterator:
    """(unit id, role, count) of roles more than one party holds now at a unit."""
    return conn.execute(
        "SELECT unit_id, role, count(*) FROM occupancy WHERE end_on IS NULL "
        "GROUP BY unit_id, role HAVING count(*) > 1"
    )
