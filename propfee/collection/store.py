"""What collection reads and writes: open bills as of a day, the contact log and its deliveries,
notice numbers, installment plans, and the events that restart a limitation clock.

Every statement of the arrears, dunning, plans and limitation modules lives here, each behind
a function named for what it reads or writes; the rules stay in those modules.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from propfee.store import bulk

# ---------------------------------------------------------------- arrears

# what a bill ``b`` owed at the end of day ?1: its amount and adjustments less its allocations
_OWED_AS_OF = (
    "b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM adjustment a WHERE a.bill_id = b.id "
    "AND a.made_on <= ?1), 0) - coalesce((SELECT sum(l.amount_fen) FROM allocation l "
    "WHERE l.bill_id = b.id AND l.allocated_on <= ?1), 0)"
)
_OPEN_BILLS = (
    "SELECT b.party_id, b.unit_id, b.due_on, b.id, b.period, b.fee_item_id, b.covers_from, "
    "b.covers_to, b.basis, " + _OWED_AS_OF + " FROM bill b "
)
# the same bills as a list of them shows them: without what a letter names
_OPEN_BILLS_LISTED = (
    "SELECT b.party_id, b.unit_id, b.due_on, b.id, b.period, " + _OWED_AS_OF + " FROM bill b "
)
_OPEN_PARTS = (
    "WHERE b.settled_on IS NULL AND b.due_on < ?1",
    "WHERE b.settled_on > ?1 AND b.due_on < ?1",
)
_IN_BUILDING = " AND b.unit_id IN (SELECT id FROM unit WHERE building = ?2)"
_DUE_BY = " AND b.due_on <= ?3"
_OF_UNIT = " AND b.unit_id = ?4"


def fee_item_names(conn: sqlite3.Connection) -> dict:
    """Each fee item's name by its id."""
    return dict(conn.execute("SELECT id, name FROM fee_item"))


def open_bills_as_of(
    conn: sqlite3.Connection,
    day: str,
    building: str | None,
    due_by: str | None = None,
    *,
    listed: bool = False,
    unit_id: int | None = None,
) -> Iterator[tuple]:
    """(party, unit, due on, bill, period, fee item, covers from, covers to, basis, owed) of
    every bill due before ``day`` and not settled by then — never settled, or settled after —
    with what it owed at the end of ``day``; only ``building``'s when one is given, only
    those due on or before ``due_by`` when it is given, only ``unit_id``'s when it is given
    (found by the unit, not among every open bill); with ``listed``, only (party, unit, due
    on, bill, period, owed). Streamed as plain tuples."""
    fast = conn.cursor()
    fast.row_factory = None
    only = (_IN_BUILDING if building else "") + (_DUE_BY if due_by else "")
    params: tuple = (day, building, due_by) if due_by else (day, building) if building else (day,)
    if unit_id is not None:
        only += _OF_UNIT
        params = (day, building, due_by, unit_id)
    for part in _OPEN_PARTS:
        yield from fast.execute(
            (_OPEN_BILLS_LISTED if listed else _OPEN_BILLS) + part + only, params
        )


def _owing_as_of(columns: str) -> str:
    """SQL: a WITH clause naming ``owing``: ``columns`` and ``owed`` (what it owed at the end
    of ?1) of every bill due before ?1 and not settled by then, the two open parts (never
    settled, settled after ?1) in one list; the statement keeps those with ``owed > 0``.
    Materialised, each bill's two sums are made once (a WHERE on the plain subquery would be
    pushed into it and make them twice, for the test and for the column)."""
    select = f"SELECT {columns}, {_OWED_AS_OF} AS owed FROM bill b "
    return (
        "WITH owing AS MATERIALIZED ("
        + " UNION ALL ".join(select + part for part in _OPEN_PARTS)
        + ") "
    )


def owing_totals_as_of(conn: sqlite3.Connection, day: str) -> Iterator[tuple]:
    """(party, unit, owed, oldest due day) of every (party, unit) owing on bills due before
    ``day`` at its end: the sums of ``open_bills_as_of``'s bills that owe something, made
    in SQL."""
    fast = conn.cursor()
    fast.row_factory = None
    return fast.execute(
        _owing_as_of("b.party_id, b.unit_id, b.due_on")
        + "SELECT party_id, unit_id, sum(owed), min(due_on) FROM owing WHERE owed > 0 "
        "GROUP BY party_id, unit_id",
        (day,),
    )


def aging_bucket(first: int, count: int) -> str:
    """SQL: the aging bucket of a bill's ``due_on``, given the first due days of ``count``
    buckets bound from ?``first`` on: 0 when due on or after the first, 1 the second, … and
    ``count`` when due before them all."""
    return (
        "CASE "
        + " ".join(f"WHEN due_on >= ?{i} THEN {i - first}" for i in range(first, first + count))
        + f" ELSE {count} END"
    )


def owing_by_age(conn: sqlite3.Connection, day: str, since: list[str]) -> Iterator[tuple]:
    """(bucket, units, owed) of the bills owing at the end of ``day``, by the bucket of their
    due day: bucket 0 for those due on or after ``since[0]``, 1 for those due on or after
    ``since[1]``, … and ``len(since)`` for the older ones; units counted once a bucket."""
    return conn.execute(
        _owing_as_of("b.unit_id, b.due_on")
        + f"SELECT {aging_bucket(2, len(since))} AS bucket, count(DISTINCT unit_id), sum(owed) "
        "FROM owing "
        "WHERE owed > 0 GROUP BY bucket",
        (day, *since),
    )


def _by_id(conn: sqlite3.Connection, sql: str, ids: set) -> dict:
    fast = conn.cursor()
    fast.row_factory = None  # plain tuples: their tails are the values
    rows = fast.execute(
        sql + " WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(ids)),)
    )
    return {row[0]: row[1:] for row in rows}


def units_by_id(conn: sqlite3.Connection, ids: set) -> dict:
    """(code, building, kind) of each unit by its id."""
    return _by_id(conn, "SELECT id, code, building, kind FROM unit", ids)


def parties_by_id(conn: sqlite3.Connection, ids: set) -> dict:
    """(name, kind, phones, is_developer) of each party by its id."""
    return _by_id(conn, "SELECT id, name, kind, phones, is_developer FROM party", ids)


def periods_paid(conn: sqlite3.Connection, parties: set, since: str, day: str) -> Iterator:
    """(party, periods paid on time, periods paid late) among the periods due after ``since``
    and before ``day``, and settled by ``day``."""
    return conn.execute(
        "SELECT party_id, count(DISTINCT CASE WHEN settled_on <= due_on THEN period END), "
        "count(DISTINCT CASE WHEN settled_on > due_on THEN period END) FROM bill "
        "WHERE party_id IN (SELECT value FROM json_each(?)) AND due_on > ? AND due_on < ? "
        "AND settled_on <= ? GROUP BY party_id",
        (json.dumps(sorted(parties)), since, day, day),
    )


# an SMS marked sent or failed from a delivery report shows its latest status as its outcome
_OUTCOME = (
    "coalesce((SELECT s.status FROM contact_status s WHERE s.contact_id = c.id "
    "ORDER BY s.id DESC LIMIT 1), c.outcome)"
)


def contacts_up_to(conn: sqlite3.Connection, units: set, end: str, day: str) -> Iterator:
    """(unit, party, at, channel, outcome, reason, promise on, tier, deadline, bill, first
    proved delivery by ``day``) of the units' contacts up to ``end``, oldest first."""
    return conn.execute(
        f"SELECT c.unit_id, c.party_id, c.at, c.channel, {_OUTCOME}, c.reason, c.promise_on, "
        "c.tier, c.deadline_on, c.bill_id, (SELECT min(d.delivered_on) FROM contact_delivery d "
        "WHERE d.contact_id = c.id AND d.delivered_on <= ?3) FROM contact c WHERE c.unit_id IN "
        "(SELECT value FROM json_each(?1)) AND c.at <= ?2 ORDER BY c.at, c.id",
        (json.dumps(sorted(units)), end, day),
    )


# ---------------------------------------------------------------- the contact log

_CONTACT_COLUMNS = (
    f"SELECT c.id, u.code, c.at, c.channel, {_OUTCOME}, c.reason, c.promise_on, c.tier, "
    "c.notice_no, c.deadline_on, c.amount_fen, c.addressee, c.phone, c.content, c.staff, "
    "c.note, c.source FROM contact c JOIN unit u ON u.id = c.unit_id"
)


def party_name_phones(conn: sqlite3.Connection, party_id) -> tuple | None:
    """(name, phones) of a party, None when there is no such party."""
    return conn.execute("SELECT name, phones FROM party WHERE id = ?", (party_id,)).fetchone()


def oldest_open_bill(conn: sqlite3.Connection, unit_id: int) -> int | None:
    """The unit's oldest bill not settled."""
    row = conn.execute(
        "SELECT id FROM bill WHERE unit_id = ? AND settled_on IS NULL ORDER BY due_on, id LIMIT 1",
        (unit_id,),
    ).fetchone()
    return row[0] if row else None


def same_staff_contact(
    conn: sqlite3.Connection,
    unit_id: int,
    at: str,
    channel: str,
    outcome: str,
    reason: str,
    promise_on: str | None,
    note: str,
    content: str,
) -> int | None:
    """A contact staff logged already with exactly these values."""
    row = conn.execute(
        "SELECT id FROM contact WHERE unit_id = ? AND at = ? AND channel = ? AND outcome = ? "
        "AND reason = ? AND promise_on IS ? AND note = ? AND content = ? AND source = 'staff'",
        (unit_id, at, channel, outcome, reason, promise_on, note, content),
    ).fetchone()
    return row[0] if row else None


def insert_staff_contact(conn: sqlite3.Connection, values: tuple) -> int:
    """Log a contact by staff: (unit, party, at, channel, outcome, reason, promise on, bill,
    addressee, phone, content, staff, note, created at). Returns its id."""
    return conn.execute(
        "INSERT INTO contact (unit_id, party_id, at, channel, outcome, reason, promise_on, "
        "bill_id, addressee, phone, content, staff, note, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'staff', ?)",
        values,
    ).lastrowid


def insert_remind_contacts(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Log the contacts of a reminder run: (unit, party, at, channel, outcome, tier, bill,
    notice no, deadline, amount, addressee, phone, content, staff, forced, created at)."""
    # many to a statement: row by row, each statement (the search index's trigger, which
    # these rows without a note or reason never fire, and the foreign keys may stop it
    # halfway) journalled the pages it changed again, some 400 MB for 20,000 letters
    bulk.insert_values(
        conn, "contact", REMIND_CONTACT_COLUMNS, rows, computed={"source": "'remind'"}
    )


#: a reminder's contact: the columns of insert_remind_contacts's rows
REMIND_CONTACT_COLUMNS = (
    "unit_id",
    "party_id",
    "at",
    "channel",
    "outcome",
    "tier",
    "bill_id",
    "notice_no",
    "deadline_on",
    "amount_fen",
    "addressee",
    "phone",
    "content",
    "staff",
    "forced",
    "created_at",
)


def insert_plan_contact(conn: sqlite3.Connection, values: tuple) -> None:
    """Log the signing of a plan: (unit, party, at, bill, amount, addressee, phone, content,
    staff, note, created at)."""
    conn.execute(
        "INSERT INTO contact (unit_id, party_id, at, channel, outcome, tier, bill_id, "
        "amount_fen, addressee, phone, content, staff, note, source, created_at) "
        "VALUES (?, ?, ?, 'visit', 'plan-signed', 'plan', ?, ?, ?, ?, ?, ?, ?, 'plan', ?)",
        values,
    )


def contacts_of_notice(conn: sqlite3.Connection, notice_no: str) -> list:
    """(contact, at) of every contact that carries a notice number, first logged first."""
    return conn.execute(
        "SELECT id, at FROM contact WHERE notice_no = ? ORDER BY id", (notice_no,)
    ).fetchall()


def delivery_of_proof(conn: sqlite3.Connection, contact_id: int, proof: str):
    """(delivered on,) of a delivery with this proof recorded for the contact, else None."""
    return conn.execute(
        "SELECT delivered_on FROM contact_delivery WHERE contact_id = ? AND proof = ?",
        (contact_id, proof),
    ).fetchone()


def insert_deliveries(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Record proofs of delivery: (contact, delivered on, proof, staff, created at)."""
    conn.executemany(
        "INSERT INTO contact_delivery (contact_id, delivered_on, proof, staff, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def contact_rows(
    conn: sqlite3.Connection,
    *,
    party_id: int | None = None,
    unit_id: int | None = None,
    contact_id: int | None = None,
    since: str | None = None,
) -> Iterator:
    """The contact log, oldest first, narrowed by whichever of party, unit, contact and
    first day are given: the columns of a ContactEntry without its deliveries."""
    where, params = [], []
    if party_id is not None:
        where.append("c.party_id = ?")
        params.append(party_id)
    if unit_id is not None:
        where.append("c.unit_id = ?")
        params.append(unit_id)
    if contact_id is not None:
        where.append("c.id = ?")
        params.append(contact_id)
    if since is not None:
        where.append("c.at >= ?")
        params.append(since)
    sql = (
        _CONTACT_COLUMNS
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY c.at, c.id"
    )
    return conn.execute(sql, params)


def deliveries_of(conn: sqlite3.Connection, contact_ids: list[int]) -> Iterator:
    """(contact, delivered on, proof, staff) of the contacts' proofs of delivery, in order."""
    return conn.execute(
        "SELECT contact_id, delivered_on, proof, staff FROM contact_delivery "
        f"WHERE contact_id IN ({','.join('?' * len(contact_ids))}) ORDER BY id",
        contact_ids,
    )


# ---------------------------------------------------------------- reminders


def notice_counter(conn: sqlite3.Connection, year: int) -> int:
    """The last notice number taken in ``year`` (0 before the first)."""
    row = conn.execute("SELECT last FROM notice_counter WHERE year = ?", (year,)).fetchone()
    return row[0] if row else 0


def set_notice_counter(conn: sqlite3.Connection, year: int, last: int) -> None:
    """Record ``last`` as the last notice number taken in ``year`` (a run takes its numbers
    in memory, inside its write transaction, and records the last one once)."""
    conn.execute(
        "INSERT INTO notice_counter (year, last) VALUES (?, ?) "
        "ON CONFLICT (year) DO UPDATE SET last = excluded.last",
        (year, last),
    )


def reminded_keys(conn: sqlite3.Connection) -> set[tuple]:
    """(unit, tier, oldest bill) of every reminder a run produced."""
    return {
        tuple(r)
        for r in conn.execute("SELECT unit_id, tier, bill_id FROM contact WHERE source = 'remind'")
    }


def last_message_days(conn: sqlite3.Connection) -> dict:
    """The last day each party was sent a message or a letter (a thank-you aside)."""
    return dict(
        conn.execute(
            "SELECT party_id, max(substr(at, 1, 10)) FROM contact WHERE channel IN "
            "('sms', 'wechat', 'letter', 'registered-mail', 'email') AND tier <> 'thanks' "
            "GROUP BY party_id"
        )
    )


def last_listed_days(conn: sqlite3.Connection) -> dict:
    """The last day each party was put on the call list."""
    return dict(
        conn.execute(
            "SELECT party_id, max(substr(at, 1, 10)) FROM contact WHERE channel = 'call-list' "
            "GROUP BY party_id"
        )
    )


def published_price_rows(conn: sqlite3.Connection, day: str) -> list:
    """(item name, price ×10000, unit label, effective from, published on) of every price
    published by ``day``, per item in order."""
    return conn.execute(
        "SELECT f.name, p.price_x10000, f.unit_label, p.effective_from, p.published_on "
        "FROM fee_item f JOIN fee_price p ON p.fee_item_id = f.id "
        "WHERE p.published_on IS NOT NULL AND p.published_on <= ? "
        "ORDER BY f.position, f.id, p.effective_from",
        (day,),
    ).fetchall()


def reminded_parties(conn: sqlite3.Connection, end: str) -> list:
    """(party, last reminder, name, phones, kind, is_developer, JSON unit ids) of every party
    a reminder run reached up to ``end``."""
    return conn.execute(
        "SELECT c.party_id, max(c.at), p.name, p.phones, p.kind, p.is_developer, "
        "json_group_array(DISTINCT c.unit_id) FROM contact c JOIN party p ON p.id = c.party_id "
        "WHERE c.source = 'remind' AND c.tier <> 'thanks' AND c.at <= ? GROUP BY c.party_id, p.id",
        (end,),
    ).fetchall()


def last_thanks(conn: sqlite3.Connection) -> dict:
    """When each party was last thanked (one query for a run)."""
    return dict(
        conn.execute(
            "SELECT party_id, max(at) FROM contact WHERE tier = 'thanks' GROUP BY party_id"
        )
    )


def unit_codes_by_id(conn: sqlite3.Connection, unit_ids: set[int]) -> dict[int, str]:
    """Each unit's code by its id (one query for a run)."""
    return dict(
        conn.execute(
            "SELECT id, code FROM unit WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(unit_ids)),),
        )
    )


# ---------------------------------------------------------------- installment plans


def bill_parties(conn: sqlite3.Connection, unit_id: int, bill_ids: list[int]) -> dict:
    """The party of each of these bills that belongs to the unit."""
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT id, party_id FROM bill WHERE unit_id = ? AND id IN "
            "(SELECT value FROM json_each(?))",
            (unit_id, json.dumps(bill_ids)),
        )
    }


def open_bills_of_party(conn: sqlite3.Connection, unit_id: int, party_id, day: str) -> list[int]:
    """The unit's bills of the party not settled and due by ``day``, oldest first."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM bill WHERE unit_id = ? AND party_id IS ? AND settled_on IS NULL "
            "AND due_on <= ? ORDER BY due_on, id",
            (unit_id, party_id, day),
        )
    ]


def plans_of_bills(conn: sqlite3.Connection, bill_ids: list[int]) -> list:
    """(bill, plan) of every plan that covers one of these bills."""
    return conn.execute(
        "SELECT pb.bill_id, pb.plan_id FROM plan_bill pb WHERE pb.bill_id IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(bill_ids),),
    ).fetchall()


def insert_plan(
    conn: sqlite3.Connection,
    plan: tuple,
    bills: list[tuple[int, int]],
    installments: list[tuple[str, int]],
) -> int:
    """Record a plan — (unit, party, signed on, first due, every, installments, total, note,
    staff, created at) — with the (bill, fen) it covers and the (due on, fen) of each
    installment. Returns its id."""
    plan_id = conn.execute(
        "INSERT INTO plan (unit_id, party_id, signed_on, first_due, every, installments, "
        "total_fen, note, staff, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        plan,
    ).lastrowid
    conn.executemany(
        "INSERT INTO plan_bill (plan_id, bill_id, amount_fen) VALUES (?, ?, ?)",
        [(plan_id, b, fen) for b, fen in bills],
    )
    conn.executemany(
        "INSERT INTO plan_installment (plan_id, seq, due_on, amount_fen) VALUES (?, ?, ?, ?)",
        [(plan_id, seq, due, fen) for seq, (due, fen) in enumerate(installments, start=1)],
    )
    return plan_id


def plan_row(conn: sqlite3.Connection, plan_id: int):
    """(id, unit code, unit, party name, party, signed on, first due, every, total) of a
    plan, None when there is no such plan."""
    return conn.execute(
        "SELECT p.id, u.code, p.unit_id, coalesce(pa.name, ''), p.party_id, p.signed_on, "
        "p.first_due, p.every, p.total_fen FROM plan p JOIN unit u ON u.id = p.unit_id "
        "LEFT JOIN party pa ON pa.id = p.party_id WHERE p.id = ?",
        (plan_id,),
    ).fetchone()


def plan_bills(conn: sqlite3.Connection, plan_id: int) -> list[tuple]:
    """(bill, item name, period, covered fen) of the bills a plan covers, oldest first."""
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT pb.bill_id, f.name, b.period, pb.amount_fen FROM plan_bill pb "
            "JOIN bill b ON b.id = pb.bill_id JOIN fee_item f ON f.id = b.fee_item_id "
            "WHERE pb.plan_id = ? ORDER BY b.due_on, b.id",
            (plan_id,),
        )
    ]


def plan_installments(conn: sqlite3.Connection, plan_id: int) -> Iterator:
    """(seq, due on, fen) of a plan's installments, in order."""
    return conn.execute(
        "SELECT seq, due_on, amount_fen FROM plan_installment WHERE plan_id = ? ORDER BY seq",
        (plan_id,),
    )


def plan_bill_balances(conn: sqlite3.Connection, plan_id: int, day: str) -> Iterator:
    """(covered fen, bill amount, adjusted, allocated) of each bill a plan covers, as of the
    end of ``day``."""
    return conn.execute(
        "SELECT pb.amount_fen, b.amount_fen, coalesce((SELECT sum(a.amount_fen) "
        "FROM adjustment a WHERE a.bill_id = b.id AND a.made_on <= ?2), 0), "
        "coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = b.id "
        "AND l.allocated_on <= ?2), 0) FROM plan_bill pb JOIN bill b ON b.id = pb.bill_id "
        "WHERE pb.plan_id = ?1",
        (plan_id, day),
    )


def plan_ids(conn: sqlite3.Connection, day: str, unit_code: str | None = None) -> list[int]:
    """The plans signed by ``day`` (only ``unit_code``'s when given), in order."""
    where, params = "", ()
    if unit_code is not None:
        where, params = " WHERE unit_id = (SELECT id FROM unit WHERE code = ?)", (unit_code,)
    where = (where + " AND" if where else " WHERE") + " signed_on <= ?"
    params = (*params, day)
    return [r[0] for r in conn.execute(f"SELECT id FROM plan{where} ORDER BY id", params)]


def plans_of_units(conn: sqlite3.Connection, day: str, unit_ids: set[int]) -> Iterator:
    """(plan, unit, party) of every plan of these units signed by ``day``."""
    return conn.execute(
        "SELECT id, unit_id, party_id FROM plan WHERE signed_on <= ? AND unit_id IN "
        "(SELECT value FROM json_each(?))",
        (day, json.dumps(sorted(unit_ids))),
    )


# ---------------------------------------------------------------- limitation

_CLOCK_EVENTS = (
    (
        "delivered",
        "SELECT c.unit_id, c.party_id, min(d.delivered_on) FROM contact_delivery d "
        "JOIN contact c ON c.id = d.contact_id WHERE c.unit_id IN "
        "(SELECT value FROM json_each(?1)) AND d.delivered_on <= ?2 GROUP BY c.id",
    ),
    (
        "payment",
        "SELECT p.unit_id, p.party_id, p.paid_on FROM payment p WHERE p.unit_id IN "
        "(SELECT value FROM json_each(?1)) AND p.paid_on <= ?2 AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id "
        "AND r.reversed_on <= ?2)",
    ),
    (
        "plan",
        "SELECT unit_id, party_id, signed_on FROM plan WHERE unit_id IN "
        "(SELECT value FROM json_each(?1)) AND signed_on <= ?2",
    ),
    (
        "promise",
        "SELECT unit_id, party_id, substr(at, 1, 10) FROM contact WHERE unit_id IN "
        "(SELECT value FROM json_each(?1)) AND outcome = 'promised' "
        "AND substr(at, 1, 10) <= ?2",
    ),
)


def clock_events(conn: sqlite3.Connection, unit_ids: set[int], day: str) -> Iterator[tuple]:
    """(kind, unit, party, day) of every event up to ``day`` that restarts a limitation
    clock at these units: proved deliveries, payments not reversed, plans, promises — by
    kind in that order."""
    units = json.dumps(sorted(unit_ids))
    for kind, sql in _CLOCK_EVENTS:
        for unit_id, party_id, on in conn.execute(sql, (units, day)):
            yield kind, unit_id, party_id, on


# ---------------------------------------------------------------- the printed agreement


def agreement_facts(conn: sqlite3.Connection, plan_id: int) -> tuple | None:
    """(name, phones, id number, kind of the party; the unit's area in hundredths of ㎡;
    the day it was signed) of a plan, for its printed agreement."""
    return conn.execute(
        "SELECT coalesce(pa.name, ''), coalesce(pa.phones, ''), coalesce(pa.id_number, ''), "
        "coalesce(pa.kind, 'person'), u.area_x100, p.signed_on FROM plan p JOIN unit u ON u.id = p.unit_id "
        "LEFT JOIN party pa ON pa.id = p.party_id WHERE p.id = ?",
        (plan_id,),
    ).fetchone()


def bill_spans(conn: sqlite3.Connection, bill_ids: list[int]) -> dict[int, tuple[str, str]]:
    """(covers from, covers to) of each bill."""
    return {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            "SELECT id, covers_from, covers_to FROM bill WHERE id IN "
            "(SELECT value FROM json_each(?))",
            (json.dumps(sorted(bill_ids)),),
        )
    }
