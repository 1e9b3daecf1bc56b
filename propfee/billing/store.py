"""Billing's SQL: reads and writes fee items, prices and publications, bills, adjustments,
meter readings and the settled-on cache; reads what notices show (parties, allocations,
payments).

Every statement of the billing package lives here behind a function named for what it reads
or writes. The bill run's reads come back as cursors (plain tuples, ``row_factory = None``
where the run is hot) so they stream, and its writes take whole batches for ``executemany``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from propfee.store import bulk

# ---------------------------------------------------------------- fee items and prices


def price_history(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(fee item id, price_x10000, effective_from, published_on, recorded later) of every
    price, in order."""
    return conn.execute(
        "SELECT p.fee_item_id, p.price_x10000, p.effective_from, p.published_on, "
        "coalesce(pb.recorded_later, 0) FROM fee_price p "
        "LEFT JOIN publication pb ON pb.id = p.publication_id "
        "ORDER BY p.fee_item_id, p.effective_from"
    )


def fee_item_rows(conn: sqlite3.Connection) -> Iterator[tuple]:
    """Every posted fee item in its order (never the contract's late-fee item, never one
    removed): (id, code, name, basis, cycle, kinds, buildings, units, due_day, meter,
    unit_label, price_type, services, position, the last day it is billed if ended)."""
    return conn.execute(
        "SELECT id, code, name, basis, cycle, kinds, buildings, units, due_day, meter, "
        "unit_label, price_type, services, position, (SELECT e.ends_on FROM fee_item_event e "
        "WHERE e.fee_item_id = fee_item.id AND e.action = 'end' ORDER BY e.id DESC LIMIT 1) "
        "FROM fee_item WHERE code <> 'LATEFEE' AND NOT EXISTS (SELECT 1 FROM fee_item_event e "
        "WHERE e.fee_item_id = fee_item.id AND e.action = 'remove') ORDER BY position, id"
    )


def fee_item_exists(conn: sqlite3.Connection, code: str) -> bool:
    return conn.execute("SELECT 1 FROM fee_item WHERE code = ?", (code,)).fetchone() is not None


def next_item_position(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(position), 0) + 1 FROM fee_item").fetchone()[0]


def insert_fee_item(conn: sqlite3.Connection, row: tuple) -> int:
    """Insert (code, name, basis, cycle, kinds, buildings, units, due_day, meter, unit_label,
    price_type, services, position, created_at); the new item's id."""
    cursor = conn.execute(
        "INSERT INTO fee_item (code, name, basis, cycle, kinds, buildings, units, due_day, meter, "
        "unit_label, price_type, services, position, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    )
    return cursor.lastrowid


def insert_price(
    conn: sqlite3.Connection, item_id: int, price_x10000: int, effective_from: str, stamp: str
) -> None:
    conn.execute(
        "INSERT INTO fee_price (fee_item_id, price_x10000, effective_from, created_at) "
        "VALUES (?, ?, ?, ?)",
        (item_id, price_x10000, effective_from, stamp),
    )


def change_price(
    conn: sqlite3.Connection, item_id: int, effective_from: str, price_x10000: int
) -> None:
    conn.execute(
        "UPDATE fee_price SET price_x10000 = ? WHERE fee_item_id = ? AND effective_from = ?",
        (price_x10000, item_id, effective_from),
    )


def billed_through(conn: sqlite3.Connection, item_id: int) -> str | None:
    """The last day any bill of the item covers (opening balances aside)."""
    return conn.execute(
        "SELECT max(covers_to) FROM bill WHERE fee_item_id = ? AND opening = 0", (item_id,)
    ).fetchone()[0]


def bills_of_item_after(conn: sqlite3.Connection, item_id: int, day: str) -> list[tuple]:
    """(bill id, unit code, period, covers_from, covers_to, net fen) of the item's bills
    covering some day after ``day`` whose amount with its adjustments is not zero."""
    return conn.execute(  # the net filtered outside: PostgreSQL reads no alias in WHERE
        "SELECT * FROM (SELECT b.id, u.code, b.period, b.covers_from, b.covers_to, "
        "b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM adjustment a "
        "WHERE a.bill_id = b.id), 0) AS net "
        "FROM bill b JOIN unit u ON u.id = b.unit_id WHERE b.fee_item_id = ? AND b.covers_to > ?"
        ") AS billed WHERE net <> 0 ORDER BY covers_from, code",
        (item_id, day),
    ).fetchall()


def item_has_bills(conn: sqlite3.Connection, item_id: int) -> bool:
    return (
        conn.execute("SELECT 1 FROM bill WHERE fee_item_id = ? LIMIT 1", (item_id,)).fetchone()
        is not None
    )


def insert_fee_item_event(conn: sqlite3.Connection, row: tuple) -> None:
    """Record (fee item, action, code, ends on, reason, at, created at): an item ended or
    removed."""
    conn.execute(
        "INSERT INTO fee_item_event (fee_item_id, action, code, ends_on, reason, at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        row,
    )


def removed_item_name(conn: sqlite3.Connection, code: str) -> str | None:
    """The name of the item last removed under ``code``, None when none was."""
    row = conn.execute(
        "SELECT f.name FROM fee_item_event e JOIN fee_item f ON f.id = e.fee_item_id "
        "WHERE e.action = 'remove' AND e.code = ? ORDER BY e.id DESC LIMIT 1",
        (code,),
    ).fetchone()
    return row[0] if row else None


def free_item_code(conn: sqlite3.Connection, item_id: int) -> None:
    """Give a removed item's code back (its row keeps ``CODE~removed-ID``; the removal event
    keeps the code it had), so the same code can be added again correctly."""
    conn.execute("UPDATE fee_item SET code = code || '~removed-' || id WHERE id = ?", (item_id,))


def insert_publication(
    conn: sqlite3.Connection,
    published_on: str,
    html_path: str,
    text_path: str,
    content: str,
    stamp: str,
    *,
    recorded_later: bool = False,
    evidence: str = "",
) -> int:
    cursor = conn.execute(
        "INSERT INTO publication (published_on, html_path, text_path, content, created_at, "
        "recorded_later, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (published_on, html_path, text_path, content, stamp, int(recorded_later), evidence),
    )
    return cursor.lastrowid


def move_price(
    conn: sqlite3.Connection, item_id: int, old: str, new: str, value: int, keep_published: bool
) -> None:
    """Give the item's price from ``old`` a later first day (and maybe another value); unless
    kept, its publication is cleared."""
    conn.execute(
        "UPDATE fee_price SET effective_from = ?, price_x10000 = ?, "
        "published_on = CASE WHEN ? THEN published_on END, "
        "publication_id = CASE WHEN ? THEN publication_id END "
        "WHERE fee_item_id = ? AND effective_from = ?",
        (new, value, keep_published, keep_published, item_id, old),
    )


def first_live_publication(conn: sqlite3.Connection) -> str | None:
    """The day of the first publication propfee made on the day it ran (not recorded later)."""
    return conn.execute(
        "SELECT min(published_on) FROM publication WHERE recorded_later = 0"
    ).fetchone()[0]


def mark_published(
    conn: sqlite3.Connection,
    item_id: int,
    effective_from: str,
    published_on: str,
    publication_id: int,
) -> None:
    conn.execute(
        "UPDATE fee_price SET published_on = ?, publication_id = ? "
        "WHERE fee_item_id = ? AND effective_from = ?",
        (published_on, publication_id, item_id, effective_from),
    )


# ---------------------------------------------------------------- the bill run


def period_has_bills(conn: sqlite3.Connection, period: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM bill WHERE period = ? LIMIT 1", (period,)).fetchone()
        is not None
    )


def pending_cycle_count(
    conn: sqlite3.Connection,
    *,
    item_id: int,
    one_off: bool,
    kinds: Sequence[str],
    buildings: Sequence[str],
    units: Sequence[str],
    building: Sequence[str] | None,
    period: str,
    start: str,
    end: str,
) -> tuple[int, int]:
    """(units of these kinds, buildings, codes and in ``building``, those of them without one bill
    of the item covering start..end — or, for a one-off item, without one in ``period``)."""
    where = [f"u.kind IN ({','.join('?' * len(kinds))})"]
    params: list[object] = list(kinds)
    for column, values in (("u.building", buildings), ("u.code", units)):
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if building is not None:
        where.append(f"u.building IN ({','.join('?' * len(building))})")
        params.extend(building)
    # "+b.fee_item_id": find bills by unit (the unique index), never scan them by fee item
    covered = (
        "EXISTS (SELECT 1 FROM bill b WHERE b.unit_id = u.id AND +b.fee_item_id = ? "
        + ("AND b.period = ?" if one_off else "AND b.covers_from <= ? AND b.covers_to >= ?")
        + ")"
    )
    cover_params = [item_id, period] if one_off else [item_id, start, end]
    row = conn.execute(
        f"SELECT count(*), count(*) - coalesce(sum({covered}), 0) FROM unit u "
        f"WHERE {' AND '.join(where)}",
        [*cover_params, *params],
    ).fetchone()
    return row[0], row[1]


def item_billed_within(conn: sqlite3.Connection, item_id: int, start: str, end: str) -> bool:
    """Whether some bill of the item covers a day of start..end (one look into the index of
    bills by item and days; a cycle not billed yet has none)."""
    row = conn.execute(
        "SELECT 1 FROM bill WHERE fee_item_id = ? AND covers_to >= ? AND covers_from <= ? LIMIT 1",
        (item_id, start, end),
    ).fetchone()
    return row is not None


def next_bill_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM bill").fetchone()[0]


def units_billed_in_period(conn: sqlite3.Connection, item_id: int, period: str) -> Iterator[tuple]:
    """(unit id,) of each unit with a bill of the item in ``period``."""
    return conn.execute(
        "SELECT DISTINCT unit_id FROM bill WHERE fee_item_id = ? AND period = ?",
        (item_id, period),
    )


def bills_touching(conn: sqlite3.Connection, item_id: int, start: str, end: str) -> Iterator[tuple]:
    """(unit id, covers_from, covers_to, period, seq) of the item's bills touching start..end,
    streamed as plain tuples (ISO dates compare as text)."""
    fast = conn.cursor()
    fast.row_factory = None
    return fast.execute(
        "SELECT unit_id, covers_from, covers_to, period, seq FROM bill "
        "WHERE fee_item_id = ? AND covers_to >= ? AND covers_from <= ?",
        (item_id, start, end),
    )


def unbilled_readings(conn: sqlite3.Connection, meter: str, through: str) -> Iterator[tuple]:
    """(id, unit id, read_on, usage_x1000, reading, the previous reading's date) of the
    meter's readings not billed yet, up to ``through``, by date."""
    return conn.execute(
        "SELECT m.id, m.unit_id, m.read_on, m.usage_x1000, m.reading, (SELECT max(p.read_on) "
        "FROM meter_reading p WHERE p.unit_id = m.unit_id AND p.meter = m.meter "
        "AND p.read_on < m.read_on) FROM meter_reading m "
        "WHERE m.meter = ? AND m.bill_id IS NULL AND m.read_on <= ? ORDER BY m.read_on",
        (meter, through),
    )


def insert_bills(conn: sqlite3.Connection, bills: list[tuple]) -> None:
    """Insert (id, unit_id, fee_item_id, party_id, period, seq, covers_from, covers_to, due_on,
    amount_fen, quantity, price_x10000, basis, created_at) rows in one batch. A ¥0.00 bill
    (a day of a storage room at ¥0.10/㎡) owes nothing: it is settled on its due day."""
    bulk.insert_values(
        conn,
        "bill",
        BILL_COLUMNS,
        bills,
        computed={"settled_on": "CASE WHEN {amount_fen} = 0 THEN {due_on} END"},
    )


#: a new bill's columns, in the order of ``insert_bills``'s rows
BILL_COLUMNS = (
    "id",
    "unit_id",
    "fee_item_id",
    "party_id",
    "period",
    "seq",
    "covers_from",
    "covers_to",
    "due_on",
    "amount_fen",
    "quantity",
    "price_x10000",
    "basis",
    "created_at",
)


def insert_vacancy_discounts(conn: sqlite3.Connection, discounts: Sequence[tuple]) -> None:
    """Insert (bill_id, amount_fen, reason, approval_ref, made_on, created_at) discount
    adjustments approved by the settings, in one batch."""
    bulk.insert_values(
        conn,
        "adjustment",
        ("bill_id", "amount_fen", "reason", "approval_ref", "made_on", "created_at"),
        discounts,
        computed={"kind": "'discount'", "approved_by": "'settings'", "approved_on": "{made_on}"},
    )


def mark_readings_billed(conn: sqlite3.Connection, billed: list[tuple[int, int]]) -> None:
    """Record (bill id, reading id) pairs: each reading is billed on that bill."""
    conn.executemany("UPDATE meter_reading SET bill_id = ? WHERE id = ?", billed)


def bills_between(conn: sqlite3.Connection, first: int, last: int) -> list[tuple]:
    """(id, unit, item, period, from, to, fen, party, due) of the bills first..last by id: what
    a run made."""
    return conn.execute(
        "SELECT b.id, u.code, f.code, b.period, b.covers_from, b.covers_to, b.amount_fen, "
        "coalesce(p.name, ''), b.due_on FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.id BETWEEN ? AND ? ORDER BY b.id",
        (first, last),
    ).fetchall()


# ---------------------------------------------------------------- adjustments and re-billing


def insert_adjustment(
    conn: sqlite3.Connection,
    bill_id: int,
    amount_fen: int,
    kind: str,
    reason: str,
    approved_by: str,
    approval_ref: str,
    made_on: str,
    stamp: str,
    *,
    approved_on: str = "",
    basis_ref: str = "",
) -> int:
    """Insert an adjustment row; its id."""
    cursor = conn.execute(
        "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, approval_ref, "
        "made_on, created_at, approved_on, basis_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            bill_id,
            amount_fen,
            kind,
            reason,
            approved_by,
            approval_ref,
            made_on,
            stamp,
            approved_on or made_on,
            basis_ref,
        ),
    )
    return cursor.lastrowid


def insert_correction(
    conn: sqlite3.Connection,
    bill_id: int,
    amount_fen: int,
    reason: str,
    approved_by: str,
    made_on: str,
    stamp: str,
) -> None:
    conn.execute(
        "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, made_on, "
        "created_at) VALUES (?, ?, 'correction', ?, ?, ?, ?)",
        (bill_id, amount_fen, reason, approved_by, made_on, stamp),
    )


def party_names_of_unit(conn: sqlite3.Connection, unit_id: int) -> dict[int, str]:
    """The name of each party a re-billing of the unit can name: those its bills were made
    out to, those who held it, and the developer."""
    return dict(
        conn.execute(
            "SELECT id, name FROM party WHERE id IN (SELECT party_id FROM bill WHERE unit_id = ?1 "
            "UNION SELECT party_id FROM occupancy WHERE unit_id = ?1) OR is_developer = 1",
            (unit_id,),
        )
    )


def unit_bills_from(conn: sqlite3.Connection, unit_id: int, first_day: str) -> list[tuple]:
    """(id, fee item id, party id, period, seq, covers_from, covers_to, opening, quantity) of
    the unit's bills covering ``first_day`` or later, in order."""
    return conn.execute(
        "SELECT id, fee_item_id, party_id, period, seq, covers_from, covers_to, opening, "
        "quantity FROM bill WHERE unit_id = ? AND covers_to >= ? ORDER BY covers_from, id",
        (unit_id, first_day),
    ).fetchall()


def later_bill_spans(
    conn: sqlite3.Connection, unit_id: int, item_id: int, period: str, seq: int
) -> Iterator[tuple[str, str]]:
    """(covers_from, covers_to) of the unit's later bills of the item in ``period``."""
    return conn.execute(
        "SELECT covers_from, covers_to FROM bill WHERE unit_id = ? AND fee_item_id = ? "
        "AND period = ? AND seq > ?",
        (unit_id, item_id, period, seq),
    )


def next_seq(conn: sqlite3.Connection, unit_id: int, item_id: int, period: str) -> int:
    return conn.execute(
        "SELECT max(seq) + 1 FROM bill WHERE unit_id = ? AND fee_item_id = ? AND period = ?",
        (unit_id, item_id, period),
    ).fetchone()[0]


def receipts_paying(conn: sqlite3.Connection, bill_id: int) -> list[str]:
    """Receipt numbers of the payments with money on the bill, in order."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT p.receipt_no FROM allocation a JOIN payment p ON p.id = a.payment_id "
            "WHERE a.bill_id = ? AND p.receipt_no IS NOT NULL GROUP BY p.id "
            "HAVING sum(a.amount_fen) > 0 ORDER BY p.id",
            (bill_id,),
        )
    ]


# ---------------------------------------------------------------- balances and settled-on

_BALANCE_SQL = """
SELECT b.id, b.amount_fen,
       coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0),
       coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0)
FROM bill b
"""


def balance_row(conn: sqlite3.Connection, bill_id: int) -> tuple | None:
    """(id, amount_fen, adjusted_fen, paid_fen) of the bill, or None."""
    return conn.execute(_BALANCE_SQL + " WHERE b.id = ?", (bill_id,)).fetchone()


# A bill's settled-on day is the day it became paid as of every later day: the latest day of
# anything that moved it (an allocation, an adjustment). A payment recorded late with an
# earlier date therefore never makes a bill look paid on a day it was not.
SETTLE_SQL = (
    "UPDATE bill SET settled_on = max(?1, coalesce((SELECT max(allocated_on) FROM allocation "
    "WHERE bill_id = ?2), ''), coalesce((SELECT max(made_on) FROM adjustment "
    "WHERE bill_id = ?2), '')) WHERE id = ?2"
)


def mark_settled(conn: sqlite3.Connection, bill_id: int, on: str) -> None:
    conn.execute(SETTLE_SQL, (on, bill_id))


def clear_settled(conn: sqlite3.Connection, bill_id: int) -> None:
    conn.execute("UPDATE bill SET settled_on = NULL WHERE id = ?", (bill_id,))


# ---------------------------------------------------------------- meter readings


def unit_ids_by_code(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT code, id FROM unit"))


def recorded_readings(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(unit id, meter, read_on, reading) of every reading, by date."""
    return conn.execute(
        "SELECT unit_id, meter, read_on, reading FROM meter_reading ORDER BY read_on"
    )


def insert_readings(conn: sqlite3.Connection, readings: list[tuple]) -> None:
    """Insert (unit_id, meter, read_on, reading, usage_x1000, replaced, source, created_at)
    rows in one batch."""
    conn.executemany(
        "INSERT INTO meter_reading (unit_id, meter, read_on, reading, usage_x1000, replaced, "
        "source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        readings,
    )


# ---------------------------------------------------------------- bill notices


def notice_bills(
    conn: sqlite3.Connection, *, bill_ids_json: str | None, period: str
) -> Iterator[tuple]:
    """The bills a notice run shows — those of ``bill_ids_json`` (a JSON list) when given,
    else the period's — by party name, unit, item and date: (id, party id, unit code, unit
    kind, item name, covers_from, covers_to, due_on, basis, amount_fen, adjusted_fen,
    paid_fen, party name, party kind, phones, is_developer, period, unit building)."""
    where, params = (
        ("b.id IN (SELECT value FROM json_each(?))", [bill_ids_json])
        if bill_ids_json is not None
        else ("b.period = ?", [period])
    )
    return conn.execute(
        "SELECT b.id, b.party_id, u.code, u.kind, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.basis, b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0), coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0), p.name, p.kind, p.phones, p.is_developer, b.period, "
        "u.building "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"LEFT JOIN party p ON p.id = b.party_id WHERE {where} "
        "ORDER BY p.name, u.code, f.position, b.covers_from",
        params,
    )


def earlier_open_bills_of(
    conn: sqlite3.Connection, party_ids_json: str, with_no_party: bool, due_before: str
) -> Iterator[tuple]:
    """(party id, bill id, unit code, item name, covers_from, covers_to, due_on, owed fen) of
    the unsettled bills due before ``due_before`` of the parties in ``party_ids_json`` (a JSON
    list), and of bills with no party when ``with_no_party``; by party, due date and item. One
    query for a whole notice run."""
    return conn.execute(
        "SELECT b.party_id, b.id, u.code, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
        " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0) "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        "WHERE b.settled_on IS NULL AND b.due_on < ?1 "
        "AND (b.party_id IN (SELECT value FROM json_each(?2)) OR (?3 AND b.party_id IS NULL)) "
        "ORDER BY b.party_id, b.due_on, f.position, b.id",
        (due_before, party_ids_json, with_no_party),
    )


def unallocated_credits(
    conn: sqlite3.Connection, party_ids_json: str, with_no_party: bool
) -> dict[int | None, int]:
    """Money each party of ``party_ids_json`` (a JSON list; and no party when
    ``with_no_party``) paid, never reversed, that no bill has taken yet; parties with no
    payment are absent."""
    return dict(
        conn.execute(
            "SELECT p.party_id, sum(p.amount_fen - coalesce((SELECT sum(amount_fen) "
            "FROM allocation WHERE payment_id = p.id), 0)) FROM payment p "
            "WHERE (p.party_id IN (SELECT value FROM json_each(?1)) "
            "OR (?2 AND p.party_id IS NULL)) "
            "AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id) "
            "GROUP BY p.party_id",
            (party_ids_json, with_no_party),
        )
    )


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str) -> Iterator[None]:
    """A part of the command's transaction that is undone alone if it raises."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")
