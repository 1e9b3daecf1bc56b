"""What late fees read and write: the overdue bills with their adjustments and allocations,
the late fees posted per source bill, the 违约金 bills posted and their fee item."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator


def bills_overdue_by(
    conn: sqlite3.Connection,
    day: str,
    late_fee_code: str,
    unit_ids: list[int] | None = None,
    bill_ids: list[int] | None = None,
) -> list:
    """(bill, unit, unit code, party, payer, period, item name, due on, amount) of every bill
    due before ``day`` that was paid late, is not paid, or has late fees posted — the late-fee
    bills themselves aside — narrowed to the units or bills given, by unit code and due day."""
    where = [
        "b.due_on < ?",
        "((b.settled_on IS NULL OR b.settled_on > b.due_on) "
        "OR b.id IN (SELECT source_bill_id FROM late_fee))",
        "f.code <> ?",
    ]
    params: list = [day, late_fee_code]
    if unit_ids is not None:
        where.append("b.unit_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(unit_ids)))
    if bill_ids is not None:
        where.append("b.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(bill_ids)))
    return conn.execute(
        "SELECT b.id, b.unit_id, u.code, b.party_id, coalesce(p.name, ''), b.period, f.name, "
        "b.due_on, b.amount_fen FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        f"WHERE {' AND '.join(where)} ORDER BY u.code, b.due_on, b.id",
        params,
    ).fetchall()


def unit_ids_by_code(conn: sqlite3.Connection) -> list[int]:
    """Every unit's id, in the order of their codes (the order ``bills_overdue_by`` lists)."""
    return [row[0] for row in conn.execute("SELECT id FROM unit ORDER BY code")]


def balance_moves(conn: sqlite3.Connection, bill_ids_json: str, day: str) -> Iterator:
    """(bill, day, fen, 1 for an adjustment else 0) of the bills' adjustments and allocations
    (the latter negative) up to ``day``."""
    return conn.execute(
        "SELECT bill_id, made_on, amount_fen, 1 FROM adjustment WHERE bill_id IN "
        "(SELECT value FROM json_each(?1)) AND made_on <= ?2 UNION ALL "
        "SELECT bill_id, allocated_on, -amount_fen, 0 FROM allocation WHERE bill_id IN "
        "(SELECT value FROM json_each(?1)) AND allocated_on <= ?2",
        (bill_ids_json, day),
    )


def posted_by_source(conn: sqlite3.Connection, bill_ids_json: str) -> dict:
    """The late fee posted so far for each of these source bills."""
    return dict(
        conn.execute(
            "SELECT source_bill_id, sum(amount_fen) FROM late_fee WHERE source_bill_id IN "
            "(SELECT value FROM json_each(?)) GROUP BY source_bill_id",
            (bill_ids_json,),
        )
    )


def latest_posting_of_unit(conn: sqlite3.Connection, unit_id: int) -> str | None:
    """The last as-of day the unit's late fees were posted for."""
    return conn.execute(
        "SELECT max(l.as_of) FROM late_fee l JOIN bill b ON b.id = l.source_bill_id "
        "WHERE b.unit_id = ?",
        (unit_id,),
    ).fetchone()[0]


def posted_on(conn: sqlite3.Connection, source_bill_id: int, day: str) -> bool:
    """Whether the bill's late fee was posted for the as-of ``day``."""
    return (
        conn.execute(
            "SELECT 1 FROM late_fee WHERE source_bill_id = ? AND as_of = ?", (source_bill_id, day)
        ).fetchone()
        is not None
    )


def next_bill_seq(conn: sqlite3.Connection, unit_id: int, item_id: int, period: str) -> int:
    """The next sequence number of the unit's bills of the item in the period."""
    return conn.execute(
        "SELECT coalesce(max(seq), -1) + 1 FROM bill WHERE unit_id = ? AND fee_item_id = ? "
        "AND period = ?",
        (unit_id, item_id, period),
    ).fetchone()[0]


def last_posting_of_bill(conn: sqlite3.Connection, source_bill_id: int) -> str | None:
    """The last as-of day the bill's late fee was posted for."""
    return conn.execute(
        "SELECT max(as_of) FROM late_fee WHERE source_bill_id = ?", (source_bill_id,)
    ).fetchone()[0]


def insert_late_fee_bill(
    conn: sqlite3.Connection, bill: tuple, *, source_bill_id: int, day: str, fen: int, stamp: str
) -> int:
    """Post a 违约金 bill — (unit, fee item, party, period, seq, covers from, covers to, due
    on, amount, basis, created at) — and record it against its source bill as the late fee
    of the as-of ``day``. Returns its id."""
    bill_id = conn.execute(
        "INSERT INTO bill (unit_id, fee_item_id, party_id, period, seq, covers_from, "
        "covers_to, due_on, amount_fen, basis, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        bill,
    ).lastrowid
    conn.execute(
        "INSERT INTO late_fee (source_bill_id, bill_id, as_of, amount_fen, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (source_bill_id, bill_id, day, fen, stamp),
    )
    return bill_id


def fee_item_id(conn: sqlite3.Connection, code: str) -> int | None:
    """The id of the fee item with this code."""
    row = conn.execute("SELECT id FROM fee_item WHERE code = ?", (code,)).fetchone()
    return row[0] if row else None


def insert_contract_fee_item(conn: sqlite3.Connection, code: str, name: str, stamp: str) -> int:
    """Make a one-off fee item priced by the contract, last in order. Returns its id."""
    position = conn.execute("SELECT coalesce(max(position), 0) + 1 FROM fee_item").fetchone()[0]
    return conn.execute(
        "INSERT INTO fee_item (code, name, basis, cycle, kinds, position, price_type, services, "
        "created_at) VALUES (?, ?, 'one_off', 'monthly', '', ?, '合同约定', '', ?)",
        (code, name, position, stamp),
    ).lastrowid
