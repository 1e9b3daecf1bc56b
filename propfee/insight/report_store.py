"""Reads the collection report's sums over bills, adjustments, allocations and reversals (the
current bills, the arrears bills, the trend) and what its groupings are labelled by; writes
nothing. Every figure is summed in SQL over integer fen (see insight/reports.py for what each
one means).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from propfee.collection import store as collection_store

#: SQL for a bill's group key (the bill is ``b``, its unit ``u``), by grouping
GROUP_KEYS = {
    None: "''",
    "building": "u.building",
    "kind": "u.kind",
    "fee": "(SELECT f.code FROM fee_item f WHERE f.id = b.fee_item_id)",
}


def _fast(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor returning plain tuples, for the sums over every bill."""
    fast = conn.cursor()
    fast.row_factory = None
    return fast


def _adjusted(condition: str) -> str:
    """SQL: the adjustments of bill ``b`` made on days meeting ``condition``."""
    return (
        "coalesce((SELECT sum(a.amount_fen) FROM adjustment a WHERE a.bill_id = b.id "
        f"AND a.made_on {condition}), 0)"
    )


def _allocated(condition: str, bill: str = "bid") -> str:
    """SQL: the allocations of bill ``bill`` (a reversal adds negative ones) dated on days
    meeting ``condition``."""
    return (
        "coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = "
        f"{bill} AND l.allocated_on {condition}), 0)"
    )


# ---------------------------------------------------------------- groupings


def late_fee_item_id(conn: sqlite3.Connection) -> int:
    """The id of the late-fee item (LATEFEE); -1 when there is none."""
    row = conn.execute("SELECT id FROM fee_item WHERE code = 'LATEFEE'").fetchone()
    return row[0] if row else -1


def parking_buildings(conn: sqlite3.Connection) -> set[str]:
    """The buildings holding parking spaces only."""
    return {
        building
        for (building,) in conn.execute(
            "SELECT building FROM unit GROUP BY building HAVING min(kind) = 'parking' "
            "AND max(kind) = 'parking'"
        )
    }


def fee_items(conn: sqlite3.Connection) -> Iterator[tuple[str, str, int]]:
    """(code, name, position) of every fee item."""
    return conn.execute("SELECT code, name, position FROM fee_item")


# ---------------------------------------------------------------- the sums


#: SQL over the current bills ``o`` (see current_bill_sums): what a bill's payer paid of it by
#: the day, and what is still unpaid of it then
_COLLECTED = "CASE WHEN settled THEN amount_fen + adj ELSE paid END"
_UNPAID = "CASE WHEN settled THEN 0 ELSE max(amount_fen + adj - paid, 0) END"

#: the kinds of row current_bill_sums returns
GROUP, ALL_GROUPS, OWING = 0, 1, 2


def current_bill_sums(
    conn: sqlite3.Connection, by: str | None, p1: str, p2: str, day: str, late_id: int
) -> Iterator[tuple]:
    """The bills of periods ``p1``…``p2`` whose cycle has begun by ``day`` (late fees
    ``late_id`` left out), summed: rows of (kind, key, unit, party, billed, adjusted by the
    day, paid by the day, unpaid on the day, households, households unpaid, the oldest unpaid
    due day), of three kinds —

    GROUP        one per group key: its sums, and its units billed and still unpaid
    ALL_GROUPS   with ``by`` fee only (a unit is in one group otherwise): the units billed
                 and still unpaid in all groups
    OWING        one per (unit, party) still owing: what it owes and since when

    The bills are picked from the period index alone, then read in the order they are stored
    (``id IN``: not jumping about the table in the index's order). A bill settled by the day
    was paid its amount and adjustments in full (all made by its settled-on day), so only the
    others are looked up in the allocations: once each, with its adjustments once, in a
    table of the bills' own figures that the sums share (MATERIALIZED: folded into the sums,
    each bill would be looked up again for every sum naming it). Only the owing households
    come back one by one: a group's households are counted in SQL."""
    adj = _adjusted("<= ?3")
    paid = _allocated("<= ?3", "b.id")
    households = (
        f"count(DISTINCT unit_id), count(DISTINCT CASE WHEN {_UNPAID} > 0 THEN unit_id END)"
    )
    all_groups = (
        f"UNION ALL SELECT {ALL_GROUPS}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        f"{households}, NULL FROM o"
        if by == "fee"
        else ""
    )
    return _fast(conn).execute(
        "WITH o AS MATERIALIZED (SELECT b.unit_id, b.party_id, " + GROUP_KEYS[by] + " AS k, "
        f"b.amount_fen, b.due_on, b.settled_on <= ?3 AS settled, {adj} AS adj, "
        f"CASE WHEN b.settled_on <= ?3 THEN 0 ELSE {paid} END AS paid "
        "FROM bill b JOIN unit u ON u.id = b.unit_id "
        "WHERE b.id IN (SELECT c.id FROM bill c WHERE c.period BETWEEN ?1 AND ?2 "
        "AND c.fee_item_id <> ?4 AND c.covers_from <= ?3)) "
        # the owing households first: a server types each column from the first row kind
        # that names it, a unit's id before a group's key
        f"SELECT {OWING}, NULL, unit_id, party_id, NULL, NULL, NULL, sum({_UNPAID}), NULL, "
        f"NULL, min(due_on) FROM o WHERE {_UNPAID} > 0 GROUP BY unit_id, party_id "
        f"UNION ALL SELECT {GROUP}, k, NULL, NULL, sum(amount_fen), sum(adj), "
        f"sum({_COLLECTED}), sum({_UNPAID}), {households}, NULL FROM o GROUP BY k " + all_groups,
        (p1, p2, day, late_id),
    )


#: the kinds of row arrears_bill_sums returns
ARREARS, AGING = 0, 1

# what the arrears bills are, and with the aging which bills owe on D (due before it, open)
_ARREARS_BILL = "b.period < ?4 AND b.fee_item_id <> ?5"
_AGING_BILL = "b.due_on < ?3 AND (b.settled_on IS NULL OR b.settled_on > ?3)"


def _open_bills(
    conn: sqlite3.Connection, key_sql: str, start: str, p1: str, p2: str, aging: bool
) -> tuple[str, tuple, bool]:
    """SQL: the bills of periods before ``p1`` still open on ``start`` — picked by the
    settled-on index, or for an old period (when fewer bills are older than it than have been
    open since) by the period index alone, then read in the order they are stored (``id IN``:
    not jumping about the table in an index's order); what it needs bound after the arrears'
    own five values; and whether the bills owing on the day are among them (``aging``).

    Picked by the settled-on index, the bills of the report's own periods ``p1``…``p2``
    (open on S too: billed this month) are left out by their ids, read from the period index
    alone, before any is read from the table; with ``aging``, only those settled by the day
    (which owe nothing on it): every bill owing on the day is open on S, so the aging is read
    in the same pass. Picked by the period index, it is not."""
    (still_open,) = conn.execute(
        "SELECT (SELECT count(*) FROM bill WHERE settled_on IS NULL) + "
        "(SELECT count(*) FROM bill WHERE settled_on >= ?)",
        (start,),
    ).fetchone()
    # counted only as far as it decides: the older bills stop at one more than the open ones
    (older,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM bill WHERE period < ? LIMIT ?)", (p1, still_open + 1)
    ).fetchone()
    columns = "SELECT b.id AS bid, b.unit_id, b.party_id, " + key_sql + " AS k, b.due_on, "
    columns += "b.amount_fen, b.settled_on"
    theirs = "EXCEPT SELECT c.id FROM bill c WHERE c.period BETWEEN ?4 AND ?6"
    if still_open > older:
        picked = (
            "SELECT c.id FROM bill c WHERE c.period < ?4 AND c.fee_item_id <> ?5 "
            "AND (c.settled_on IS NULL OR c.settled_on >= ?1)"
        )
        aging = False
    elif aging:
        picked = (
            f"SELECT c.id FROM bill c WHERE c.settled_on BETWEEN ?1 AND ?3 {theirs} UNION ALL "
            "SELECT c.id FROM bill c WHERE c.settled_on IS NULL UNION ALL "
            "SELECT c.id FROM bill c WHERE c.settled_on > ?3"
        )
        columns += f", {_ARREARS_BILL} AS arrears, {_AGING_BILL} AS aging"
        return (
            f"{columns} FROM bill b JOIN unit u ON u.id = b.unit_id WHERE b.id IN ({picked}) "
            f"AND (({_ARREARS_BILL}) OR ({_AGING_BILL}))",
            (p2,),
            True,
        )
    else:
        picked = (
            "SELECT c.id FROM bill c WHERE c.settled_on IS NULL UNION ALL "
            f"SELECT c.id FROM bill c WHERE c.settled_on >= ?1 {theirs}"
        )
    sql = (
        f"{columns} FROM bill b JOIN unit u ON u.id = b.unit_id "
        f"WHERE b.id IN ({picked}) AND {_ARREARS_BILL}"
    )
    return sql, () if still_open > older else (p2,), False


def _reopened(conn: sqlite3.Connection, start: str, window_end: str) -> str:
    """SQL: of an allocation ``l`` to an arrears bill, the part made before S that a reversal
    dated from S to C took back (0 when no reversal is dated in the window)."""
    (reversals,) = conn.execute(
        "SELECT count(*) FROM reversal WHERE reversed_on BETWEEN ? AND ?", (start, window_end)
    ).fetchone()
    return (
        "CASE WHEN l.reversal_id IS NULL AND l.allocated_on < ?1 AND l.payment_id IN "
        "(SELECT payment_id FROM reversal WHERE reversed_on BETWEEN ?1 AND ?2) "
        "THEN l.amount_fen ELSE 0 END"
        if reversals
        else "0"
    )


def _on(column: str, condition: str) -> str:
    """SQL: the sum of the amounts of ``column``'s rows (``a.made_on``, ``l.allocated_on``)
    dated on days meeting ``condition``."""
    table = column.split(".")[0]
    return f"sum(CASE WHEN {column} {condition} THEN {table}.amount_fen ELSE 0 END)"


def arrears_bill_sums(
    conn: sqlite3.Connection,
    by: str | None,
    start: str,
    window_end: str,
    day: str,
    p1: str,
    p2: str,
    late_id: int,
    since: list[str] | None = None,
) -> tuple[Iterator[tuple], bool]:
    """Rows of the arrears bills (periods before the report's own ``p1``…``p2``, open on
    ``start`` or re-opened in the window ``start``…``window_end``), per (unit, party, group
    key): (ARREARS, unit, party, key, owed before the window, adjusted in it, re-opened in
    it, cleared in it, the oldest due day still unpaid on ``day``). With ``since`` (the first
    due days of the aging buckets, ``arrears.aging_since``), and whether it came with them:
    rows (AGING, bucket, units, None, owed) of every bill owing on ``day``, by the bucket of
    its due day — the aging, read in the same pass where it can be (see ``_open_bills``).

    The bills open on S are read once (MATERIALIZED); their allocations (each bill's found
    by its index: CROSS JOIN keeps the bills the outer loop), and the adjustments (few), are
    summed per bill in one pass each — before S, in the window, by D — and joined to them."""
    open_bills, extra, aging = _open_bills(conn, GROUP_KEYS[by], start, p1, p2, since is not None)
    reopened = _reopened(conn, start, window_end)
    adj = "SELECT a.bill_id, " + ", ".join(
        f"{_on('a.made_on', when)} AS {name}"
        for name, when in (("before", "< ?1"), ("win", "BETWEEN ?1 AND ?2"), ("upto", "<= ?3"))
    )
    paid = "SELECT l.bill_id, " + ", ".join(
        f"{_on('l.allocated_on', when)} AS {name}"
        for name, when in (("before", "< ?1"), ("win", "BETWEEN ?1 AND ?2"), ("upto", "<= ?3"))
    )
    counted = "(owed_before > 0 OR reopened > 0)"
    flags, only, by_age, args = "", "", "", (start, window_end, day, p1, late_id, *extra)
    if aging:
        since = since or []
        flags, only = "o.arrears, o.aging, ", "WHERE arrears "
        by_age = (
            f" UNION ALL SELECT {AGING}, {collection_store.aging_bucket(7, len(since))} AS bucket, "
            "count(DISTINCT unit_id), NULL, sum(owed_day), NULL, NULL, NULL, NULL FROM owed "
            "WHERE aging AND owed_day > 0 GROUP BY bucket"
        )
        args += tuple(since)
    return _fast(conn).execute(
        "WITH o AS MATERIALIZED (" + open_bills + "), "
        "adj AS (" + adj + " FROM adjustment a GROUP BY a.bill_id), "
        "paid AS (" + paid + ", sum(" + reopened + ") AS back "
        "FROM o CROSS JOIN allocation l WHERE l.bill_id = o.bid GROUP BY l.bill_id), "
        f"owed AS (SELECT o.unit_id, o.party_id, o.k, o.due_on, {flags}"
        "o.amount_fen + coalesce(a.before, 0) - coalesce(p.before, 0) AS owed_before, "
        "coalesce(a.win, 0) AS adj_window, coalesce(p.win, 0) AS paid_window, "
        "coalesce(p.back, 0) AS reopened, CASE WHEN o.settled_on <= ?3 THEN 0 "
        "ELSE o.amount_fen + coalesce(a.upto, 0) - coalesce(p.upto, 0) END AS owed_day "
        "FROM o LEFT JOIN adj a ON a.bill_id = o.bid LEFT JOIN paid p ON p.bill_id = o.bid) "
        f"SELECT {ARREARS}, unit_id, party_id, k, sum(max(owed_before, 0)), "
        f"sum(CASE WHEN {counted} THEN adj_window END), "
        f"sum(CASE WHEN {counted} THEN reopened END), "
        f"sum(CASE WHEN {counted} THEN paid_window + reopened END), "
        f"min(CASE WHEN owed_day > 0 THEN due_on END) FROM owed {only}"
        "GROUP BY unit_id, party_id, k" + by_age,
        args,
    ), aging


#: the most (fee item, cycle start) pairs whose bills not settled are read by their own ranges
#: of the period index; with more (prorated cycles), the period's index is read through
RANGES_AT_MOST = 16


def trend_period_sums(
    conn: sqlite3.Connection, period: str, day: str, end: str, late_id: int
) -> list[int]:
    """A period's own bills (late fees ``late_id`` left out): [billed, as of ``day``; billed,
    as of ``end``; paid by ``day``; paid by ``end``] — a bill counts once its cycle has begun;
    ``end`` is no later than ``day``.

    The period index is read alone, in its order, summed per fee item, cycle start and
    settled-on day (a few dozen groups, no sorting): a bill settled by a day was paid its
    amount. Then the bills not settled by ``end`` (those not settled by ``day`` are among
    them) are each looked up once in the allocations, what was allocated to them by either
    day summed in the same pass: found by the ranges of the period index they are in (never
    settled, settled after ``end``), for each fee item and cycle start that has them."""
    args = (period, day, end, late_id)
    sums = [0, 0, 0, 0]
    open_in: set[tuple] = set()  # (fee item, cycle start) with bills not settled by ``end``
    for item, covers_from, settled_on, billed in conn.execute(
        "SELECT fee_item_id, covers_from, settled_on, sum(amount_fen) FROM bill b "
        "WHERE period = ?1 AND fee_item_id <> ?4 GROUP BY fee_item_id, covers_from, settled_on",
        args,
    ):
        for i, limit in enumerate((day, end)):
            if covers_from <= limit:
                sums[i] += billed
                if settled_on and settled_on <= limit:
                    sums[2 + i] += billed
        if covers_from <= day and not (settled_on and settled_on <= end):
            open_in.add((item, covers_from))
    if not open_in:
        return sums
    unsettled = "o.covers_from <= {d} AND (o.settled_on IS NULL OR o.settled_on > {d})"
    picked, more = _unsettled_bills(sorted(open_in))
    paid_day, paid_end = conn.execute(
        f"SELECT sum(CASE WHEN {unsettled.format(d='?2')} AND l.allocated_on <= ?2 "
        f"THEN l.amount_fen END), sum(CASE WHEN {unsettled.format(d='?3')} "
        "AND l.allocated_on <= ?3 THEN l.amount_fen END) "
        f"FROM ({picked}) o CROSS JOIN allocation l WHERE l.bill_id = o.id",
        args + more,
    ).fetchone()
    sums[2] += paid_day or 0
    sums[3] += paid_end or 0
    return sums


def _unsettled_bills(pairs: list[tuple]) -> tuple[str, tuple]:
    """SQL: (id, covers_from, settled_on) of the bills of period ?1 not settled by ?3 whose
    cycle has begun by ?2, late fees ?4 left out — for each of the (fee item, cycle start)
    ``pairs`` that has them, its two ranges of the period index; with more pairs than
    RANGES_AT_MOST, the period's index read through — and what it binds after ?4."""
    columns = "SELECT c.id, c.covers_from, c.settled_on FROM bill c WHERE c.period = ?1 "
    if len(pairs) > RANGES_AT_MOST:
        return (
            columns + "AND c.fee_item_id <> ?4 AND c.covers_from <= ?2 "
            "AND (c.settled_on IS NULL OR c.settled_on > ?3)",
            (),
        )
    parts = []
    for n in range(len(pairs)):
        pair = f"AND c.fee_item_id = ?{5 + 2 * n} AND c.covers_from = ?{6 + 2 * n} "
        parts.append(columns + pair + "AND c.settled_on IS NULL")
        parts.append(columns + pair + "AND c.settled_on > ?3")
    return " UNION ALL ".join(parts), tuple(value for pair in pairs for value in pair)


def trend_adjustment_sums(
    conn: sqlite3.Connection, first: str, last: str, day: str, late_id: int
) -> Iterator[tuple]:
    """Per period ``first``…``last``: (period, adjusted by ``day``, adjusted by the period's
    end or ``day``, settled bills' adjustments by ``day``, and by the period's end or ``day``).
    Read from the adjustments (few: CROSS JOIN keeps them the outer loop), each one's bill
    found by its id, never from every bill of the periods."""
    end = "min(?3, period || '-31')"
    return conn.execute(
        "SELECT b.period, "
        "sum(CASE WHEN a.made_on <= ?3 AND b.covers_from <= ?3 THEN a.amount_fen ELSE 0 END), "
        f"sum(CASE WHEN a.made_on <= {end} AND b.covers_from <= {end} THEN a.amount_fen "
        "ELSE 0 END), "
        "sum(CASE WHEN b.settled_on <= ?3 AND b.covers_from <= ?3 THEN a.amount_fen "
        "ELSE 0 END), "
        f"sum(CASE WHEN b.settled_on <= {end} AND b.covers_from <= {end} THEN a.amount_fen "
        "ELSE 0 END) "
        "FROM adjustment a CROSS JOIN bill b WHERE b.id = a.bill_id "
        "AND b.period BETWEEN ?1 AND ?2 AND b.fee_item_id <> ?4 GROUP BY b.period",
        (first, last, day, late_id),
    )
