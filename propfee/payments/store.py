"""The payments tables as the ledger reads and writes them: payments, allocations, receipts and
their counter, reversals, credit, the open bills a payment pays, opening balances and what
reconciliation looks up (unit codes, contacts, what each unit owes)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date

from propfee.billing.balances import SETTLE_SQL
from propfee.store import bulk


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


# ---------------------------------------------------------------- units and bills


def unit_id_by_code(conn: sqlite3.Connection, code: str) -> int | None:
    row = conn.execute("SELECT id FROM unit WHERE code = ?", (code,)).fetchone()
    return None if row is None else row[0]


def unit_ids_by_code(conn: sqlite3.Connection) -> dict[str, int]:
    """{unit code: unit id} of every unit."""
    return dict(conn.execute("SELECT code, id FROM unit"))


def every_unit_code(conn: sqlite3.Connection) -> list[str]:
    """Every unit's code, in the order of the units' ids."""
    fast = conn.cursor()
    fast.row_factory = None
    return [code for (code,) in fast.execute("SELECT code FROM unit ORDER BY id")]


def unit_codes(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT code FROM unit")}


def open_bill_rows(
    conn: sqlite3.Connection, unit_ids: list[int] | None, due_before: str | None
) -> list:
    """Bills not settled (id, unit id, unit, item code, item name, party, period, covers from,
    covers to, due on, amount, owed, basis), oldest due first."""
    where = ["b.settled_on IS NULL"]
    params: list[object] = []
    if unit_ids is not None:
        where.append(f"b.unit_id IN ({_marks(unit_ids)})")
        params.extend(unit_ids)
    if due_before is not None:
        where.append("b.due_on < ?")
        params.append(due_before)
    return conn.execute(
        "SELECT b.id, b.unit_id, u.code, f.code, f.name, b.party_id, b.period, b.covers_from, "
        "b.covers_to, b.due_on, b.amount_fen, "
        "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
        " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), b.basis "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"WHERE {' AND '.join(where)} ORDER BY b.due_on, f.position, b.id",
        params,
    ).fetchall()


def unit_bill_rows(conn: sqlite3.Connection, unit_id: int) -> list:
    """A unit's bills, oldest first: id, period, item code, item name, covers from, covers to,
    due on, amount, adjustments, allocations, settled on, party name, basis, opening."""
    return conn.execute(
        "SELECT b.id, b.period, f.code, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0), "
        "coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), "
        "b.settled_on, coalesce(p.name, ''), b.basis, b.opening "
        "FROM bill b JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ? ORDER BY b.covers_from, f.position, b.id",
        (unit_id,),
    ).fetchall()


_OPEN_OF_UNIT = (
    "SELECT b.id, b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment "
    "WHERE bill_id = b.id), 0) - coalesce((SELECT sum(amount_fen) FROM allocation "
    "WHERE bill_id = b.id), 0) FROM bill b JOIN fee_item f ON f.id = b.fee_item_id "
    "WHERE b.unit_id = ? AND b.settled_on IS NULL"
)


def owed_on_bills(conn: sqlite3.Connection, unit_id: int, bill_ids: list[int]) -> dict[int, int]:
    """{bill id: owed} of these bills of a unit that are not settled."""
    return dict(
        conn.execute(
            _OPEN_OF_UNIT + f" AND b.id IN ({_marks(bill_ids)})", (unit_id, *bill_ids)
        ).fetchall()
    )


def open_bills_of_party(conn: sqlite3.Connection, unit_id: int, party_id: int | None) -> list:
    """(bill id, owed) of a unit's bills of a party not settled, oldest due first, then by fee
    item order."""
    return conn.execute(
        _OPEN_OF_UNIT + " AND b.party_id IS ? ORDER BY b.due_on, f.position, b.id",
        (unit_id, party_id),
    ).fetchall()


def bill_labels(conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple]:
    """{bill id: (item name, period, covers from, covers to)}."""
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT b.id, f.name, b.period, b.covers_from, b.covers_to FROM bill b "
        f"JOIN fee_item f ON f.id = b.fee_item_id WHERE b.id IN ({_marks(ids)})",
        ids,
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def bills_of_unit_among(conn: sqlite3.Connection, unit_id: int, bill_ids: list[int]) -> set[int]:
    """Which of these bills are the unit's."""
    return {
        r[0]
        for r in conn.execute(
            f"SELECT id FROM bill WHERE unit_id = ? AND id IN ({_marks(bill_ids)})",
            (unit_id, *bill_ids),
        )
    }


def parties_of_bills(conn: sqlite3.Connection, bill_ids: list[int]) -> set[int | None]:
    """The parties these bills are the debt of."""
    return {
        r[0]
        for r in conn.execute(
            f"SELECT party_id FROM bill WHERE id IN ({_marks(bill_ids)})",
            bill_ids,
        )
    }


def bill_due_and_period(conn: sqlite3.Connection, bill_ids: list[int]) -> dict[int, tuple]:
    """{bill id: (due on, period)}."""
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            f"SELECT id, due_on, period FROM bill WHERE id IN ({_marks(bill_ids)})", bill_ids
        )
    }


def insert_discount(
    conn: sqlite3.Connection,
    bill_id: int,
    fen: int,
    reason: str,
    on: str,
    stamp: str,
    approval_ref: str = "",
) -> None:
    """A prepayment discount: a negative adjustment approved by the settings (and, under
    酬金制, the owners' decision the settings name)."""
    conn.execute(
        "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, approval_ref, "
        "made_on, approved_on, created_at) VALUES (?, ?, 'discount', ?, 'settings', ?, ?, ?, ?)",
        (bill_id, -fen, reason, approval_ref, on, on, stamp),
    )


def settle_bill(conn: sqlite3.Connection, on: str, bill_id: int) -> None:
    conn.execute(SETTLE_SQL, (on, bill_id))


def unsettle_bill(conn: sqlite3.Connection, bill_id: int) -> None:
    conn.execute("UPDATE bill SET settled_on = NULL WHERE id = ?", (bill_id,))


# ---------------------------------------------------------------- payments and receipts


def held_ref_rows(conn: sqlite3.Connection, refs: list[str] | None, reversed_: bool) -> list:
    """(ref, payment id, receipt, channel, unit id, unit, amount, paid on) of the payments
    holding a reference (not reversed, or with ``reversed_`` reversed), by payment id; every
    reference when ``refs`` is None, else those asked for (in one statement)."""
    sql = (
        "SELECT p.ref, p.id, p.receipt_no, p.channel, p.unit_id, u.code, p.amount_fen, "
        "p.paid_on FROM payment p JOIN unit u ON u.id = p.unit_id WHERE p.ref IS NOT NULL "
        "AND p.channel <> 'opening' AND " + ("" if reversed_ else "NOT ") + "EXISTS (SELECT 1 "
        "FROM reversal r WHERE r.payment_id = p.id)"
    )
    if refs is None:
        return conn.execute(sql + " ORDER BY p.id").fetchall()
    wanted = json.dumps(list(dict.fromkeys(refs)), ensure_ascii=False)
    return conn.execute(
        sql + " AND p.ref IN (SELECT value FROM json_each(?)) ORDER BY p.id", (wanted,)
    ).fetchall()


def next_receipt_number(conn: sqlite3.Connection, year: int) -> int:
    """Take the next receipt number of the year from its counter."""
    return conn.execute(
        "INSERT INTO receipt_counter (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    ).fetchone()[0]


def step_receipt_counters(conn: sqlite3.Connection, years: list[int]) -> None:
    """Take a receipt number of each year in ``years`` (a year as often as it is named), as
    ``next_receipt_number`` takes one, in one batch."""
    conn.executemany(
        "INSERT INTO receipt_counter (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1",
        [(year,) for year in years],
    )


def last_receipt_number(conn: sqlite3.Connection, year: int) -> int | None:
    """The receipt counter of a year; None when the year has none."""
    row = conn.execute("SELECT last FROM receipt_counter WHERE year = ?", (year,)).fetchone()
    return row[0] if row else None


def set_receipt_counter(conn: sqlite3.Connection, year: int, last: int) -> None:
    conn.execute(
        "INSERT INTO receipt_counter (year, last) VALUES (?, ?) "
        "ON CONFLICT (year) DO UPDATE SET last = excluded.last",
        (year, last),
    )


def insert_payment(conn: sqlite3.Connection, values: tuple) -> int:
    """A payment from (receipt, unit id, party id, amount, channel, ref, paid on, cashier,
    note, payer, source, invoice, recorded on, created at); its id."""
    return conn.execute(
        "INSERT INTO payment (receipt_no, unit_id, party_id, amount_fen, channel, ref, paid_on, "
        "cashier, note, payer, source, invoice, recorded_on, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    ).lastrowid


def insert_allocation(
    conn: sqlite3.Connection, payment_id: int, bill_id: int, amount: int, on: str, stamp: str
) -> None:
    conn.execute(
        "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (payment_id, bill_id, amount, on, stamp),
    )


def payment_row(conn: sqlite3.Connection, payment_id: int):
    """id, receipt, unit, unit id, party name, amount, channel, ref, paid on, cashier, note."""
    return conn.execute(
        "SELECT p.id, p.receipt_no, u.code, u.id, coalesce(pa.name, ''), p.amount_fen, p.channel, "
        "p.ref, p.paid_on, p.cashier, p.note FROM payment p JOIN unit u ON u.id = p.unit_id "
        "LEFT JOIN party pa ON pa.id = p.party_id WHERE p.id = ?",
        (payment_id,),
    ).fetchone()


def payment_allocations(conn: sqlite3.Connection, payment_id: int) -> Iterator:
    """(bill id, amount) of what a payment still pays, bill by bill in allocation order."""
    return conn.execute(
        "SELECT bill_id, sum(amount_fen) FROM allocation WHERE payment_id = ? GROUP BY bill_id "
        "HAVING sum(amount_fen) <> 0 ORDER BY min(id)",
        (payment_id,),
    )


def is_reversed(conn: sqlite3.Connection, payment_id: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM reversal WHERE payment_id = ?", (payment_id,)).fetchone()
        is not None
    )


def payment_id_by_receipt(conn: sqlite3.Connection, receipt: str) -> int | None:
    row = conn.execute("SELECT id FROM payment WHERE receipt_no = ?", (receipt,)).fetchone()
    return None if row is None else row[0]


def latest_payment_id_numbered(conn: sqlite3.Connection, number: int) -> int | None:
    """The latest year's payment with this receipt number."""
    row = conn.execute(
        "SELECT id FROM payment WHERE receipt_no LIKE ? ORDER BY receipt_no DESC LIMIT 1",
        (f"%-{number:06d}",),
    ).fetchone()
    return None if row is None else row[0]


def next_payment_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM payment").fetchone()[0]


# ---------------------------------------------------------------- reversals


def reversal_day(conn: sqlite3.Connection, payment_id: int) -> str | None:
    """The day a payment was reversed; None if it is not."""
    row = conn.execute(
        "SELECT reversed_on FROM reversal WHERE payment_id = ?", (payment_id,)
    ).fetchone()
    return None if row is None else row[0]


def recorded_and_last_allocated(conn: sqlite3.Connection, payment_id: int) -> tuple:
    """(the day a payment was recorded, the day it last paid a bill)."""
    return tuple(
        conn.execute(
            "SELECT p.recorded_on, (SELECT max(allocated_on) FROM allocation "
            "WHERE payment_id = p.id) FROM payment p WHERE p.id = ?",
            (payment_id,),
        ).fetchone()
    )


def insert_reversal(
    conn: sqlite3.Connection, payment_id: int, reason: str, on: str, operator: str, stamp: str
) -> int:
    return conn.execute(
        "INSERT INTO reversal (payment_id, reason, reversed_on, operator, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (payment_id, reason, on, operator, stamp),
    ).lastrowid


def insert_reversing_allocation(
    conn: sqlite3.Connection,
    payment_id: int,
    bill_id: int,
    amount: int,
    reversal_id: int,
    on: str,
    stamp: str,
) -> None:
    """A negative allocation that undoes what a reversed payment paid a bill."""
    conn.execute(
        "INSERT INTO allocation (payment_id, bill_id, amount_fen, reversal_id, allocated_on, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (payment_id, bill_id, -amount, reversal_id, on, stamp),
    )


# ---------------------------------------------------------------- credit


def units_with_credit(conn: sqlite3.Connection) -> set[int]:
    """Units holding money (not reversed) not yet allocated."""
    rows = conn.execute(
        "SELECT p.unit_id FROM payment p WHERE NOT EXISTS (SELECT 1 FROM reversal r "
        "WHERE r.payment_id = p.id) AND p.amount_fen > coalesce((SELECT sum(amount_fen) "
        "FROM allocation WHERE payment_id = p.id), 0)"
    ).fetchall()
    return {r[0] for r in rows}


def unspent_payments(conn: sqlite3.Connection, unit_ids: list[int] | None) -> list:
    """(payment id, unit id, party id, unspent) of payments not reversed with money not yet
    allocated, oldest paid first."""
    where = ""
    params: list[object] = []
    if unit_ids is not None:
        where = f" AND p.unit_id IN ({_marks(unit_ids)})"
        params = list(unit_ids)
    return conn.execute(
        "SELECT p.id, p.unit_id, p.party_id, p.amount_fen - coalesce((SELECT sum(amount_fen) "
        "FROM allocation WHERE payment_id = p.id), 0) AS left FROM payment p "
        "WHERE NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id)"
        + where
        + " AND p.amount_fen > coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE payment_id = p.id), 0) ORDER BY p.paid_on, p.id",
        params,
    ).fetchall()


def paid_and_allocated(conn: sqlite3.Connection, unit_id: int, day: str) -> tuple[int, int]:
    """What a unit's payments not reversed by ``day`` came to by then, and what of them was
    allocated by then."""
    paid = conn.execute(
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
    return paid, allocated


# ---------------------------------------------------------------- many payments at once


def open_bills_of_units(conn: sqlite3.Connection, unit_ids: list[int]) -> Iterator[tuple]:
    """(bill id, party id, owed, covers from, covers to, fee item name, unit id) of the bills
    not settled of these units, unit by unit and oldest due first, as plain tuples streamed
    from the database: one statement however many units (their ids go in as one JSON
    array)."""
    fast = conn.cursor()
    fast.row_factory = None
    return fast.execute(
        "SELECT b.id, b.party_id, b.amount_fen + coalesce((SELECT "
        "sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0) - coalesce((SELECT "
        "sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), b.covers_from, "
        "b.covers_to, f.name, b.unit_id FROM bill b "
        "JOIN fee_item f ON f.id = b.fee_item_id WHERE b.settled_on IS NULL "
        "AND b.unit_id IN (SELECT value FROM json_each(?)) "
        "ORDER BY b.unit_id, b.due_on, f.position, b.id",
        (json.dumps(unit_ids),),
    )


PAYMENT_COLUMNS = (
    "id",
    "receipt_no",
    "unit_id",
    "party_id",
    "amount_fen",
    "channel",
    "ref",
    "paid_on",
    "cashier",
    "note",
    "payer",
    "source",
    "invoice",
    "recorded_on",
    "created_at",
)


def insert_payments(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Payments with their ids: (id, receipt, unit id, party id, amount, channel, ref, paid
    on, cashier, note, payer, source, invoice, recorded on, created at)."""
    bulk.insert_many(conn, "payment", PAYMENT_COLUMNS, rows)  # indexed in one pass


def insert_allocations(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Allocations: (payment id, bill id, amount, allocated on, created at)."""
    bulk.insert_values(
        conn,
        "allocation",
        ("payment_id", "bill_id", "amount_fen", "allocated_on", "created_at"),
        rows,
    )


def settle_bills(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, int]]) -> None:
    """Settled-on days: (payment id, day, bill id), each bill once — as ``SETTLE_SQL`` sets
    them (the latest of the day, the bill's allocations and its adjustments), many in one
    statement."""
    if len(rows) < bulk.STAGE_FROM or getattr(conn, "dialect", "sqlite") != "sqlite":
        conn.executemany(SETTLE_SQL, ((day, bill) for _payment, day, bill in rows))
        return
    with bulk.staged(conn, "settled", ("payment", "day", "bill"), rows) as settled:
        conn.execute(
            "UPDATE bill SET settled_on = max(s.day, coalesce((SELECT max(allocated_on) FROM "
            "allocation WHERE bill_id = s.bill), ''), coalesce((SELECT max(made_on) FROM "
            f"adjustment WHERE bill_id = s.bill), '')) FROM {settled} s WHERE bill.id = s.bill"
        )


# ---------------------------------------------------------------- opening balances


def opening_bill(conn: sqlite3.Connection, unit_id: int, item_id: int, period: str):
    """(id, opening, amount, allocated) of a unit's first bill of an item for a period; None."""
    return conn.execute(
        "SELECT b.id, b.opening, b.amount_fen, coalesce((SELECT sum(a.amount_fen) FROM "
        "allocation a WHERE a.bill_id = b.id), 0) FROM bill b WHERE b.unit_id = ? AND "
        "b.fee_item_id = ? AND b.period = ? AND b.seq = 0",
        (unit_id, item_id, period),
    ).fetchone()


def overlapping_bill(conn: sqlite3.Connection, unit_id: int, item_id: int, start: str, end: str):
    """(covers from, covers to) of a bill of the unit and item covering some of these days."""
    return conn.execute(
        "SELECT covers_from, covers_to FROM bill WHERE unit_id = ? AND fee_item_id = ? "
        "AND covers_from <= ? AND covers_to >= ? LIMIT 1",
        (unit_id, item_id, end, start),
    ).fetchone()


def insert_opening_bill(conn: sqlite3.Connection, values: tuple) -> int:
    """An opening bill from (unit id, item id, party id, period, covers from, covers to, due
    on, amount, basis, settled on, created at); its id."""
    return conn.execute(
        "INSERT INTO bill (unit_id, fee_item_id, party_id, period, seq, covers_from, "
        "covers_to, due_on, amount_fen, basis, opening, settled_on, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, 1, ?, ?)",
        values,
    ).lastrowid


def insert_opening_payment(conn: sqlite3.Connection, values: tuple) -> int:
    """An opening payment from (unit id, party id, amount, ref, paid on, cashier, note,
    created at); its id."""
    return conn.execute(
        "INSERT INTO payment (unit_id, party_id, amount_fen, channel, ref, paid_on, "
        "cashier, note, created_at) VALUES (?, ?, ?, 'opening', ?, ?, ?, ?, ?)",
        values,
    ).lastrowid


# ---------------------------------------------------------------- reconciliation look-ups


def current_contacts(conn: sqlite3.Connection) -> Iterator:
    """(unit, name, phones) of every current occupant."""
    return conn.execute(
        "SELECT u.code, p.name, p.phones FROM occupancy o JOIN unit u ON u.id = o.unit_id "
        "JOIN party p ON p.id = o.party_id WHERE o.end_on IS NULL"
    )


def owed_by_unit_code(conn: sqlite3.Connection) -> Iterator:
    """(unit, owed) of every unit with open bills."""
    return conn.execute(
        "SELECT u.code, sum(b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0) - coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0)) FROM bill b JOIN unit u ON u.id = b.unit_id "
        "WHERE b.settled_on IS NULL GROUP BY u.id"
    )


def payments_on_days(conn: sqlite3.Connection, channel: str, first: date, last: date) -> list:
    """(receipt, ref, paid on, amount, payer, unit) of the payments through a channel paid
    between two days, not reversed."""
    return conn.execute(
        "SELECT p.receipt_no, p.ref, p.paid_on, p.amount_fen, p.payer, u.code FROM payment p "
        "JOIN unit u ON u.id = p.unit_id WHERE p.channel = ? AND p.paid_on BETWEEN ? AND ? "
        "AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id) ORDER BY p.id",
        (channel, first.isoformat(), last.isoformat()),
    ).fetchall()
