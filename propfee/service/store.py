"""Reads and writes complaint cases, their events and yearly numbering, owners' tag events and
the parties the care list considers: every statement of the service package.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

from propfee.store import pg

# ---------------------------------------------------------------- complaint cases

_CASE_SQL = (
    "SELECT c.id, c.number, coalesce(u.code, ''), coalesce(p.name, c.contact_name), c.kind, "
    "c.category, c.channel, c.priority, c.fee_dispute, c.description, c.opened_at, "
    "c.deadline_at, c.deadline_rule, c.calendar FROM complaint c "
    "LEFT JOIN unit u ON u.id = c.unit_id LEFT JOIN party p ON p.id = c.party_id"
)


def case_by_number(conn: sqlite3.Connection, number: str) -> tuple | None:
    """The case row (see ``_CASE_SQL``) numbered ``number``, or None."""
    return conn.execute(_CASE_SQL + " WHERE c.number = ?", (number,)).fetchone()


def case_rows_of_unit(conn: sqlite3.Connection, unit_id: int) -> list[tuple]:
    """The case rows about a unit, oldest first."""
    rows = conn.execute(_CASE_SQL + " WHERE c.unit_id = ? ORDER BY c.opened_at", (unit_id,))
    return rows.fetchall()


def case_rows_of_party(conn: sqlite3.Connection, party_id: int) -> list[tuple]:
    """The case rows a party made, oldest first."""
    rows = conn.execute(_CASE_SQL + " WHERE c.party_id = ? ORDER BY c.opened_at", (party_id,))
    return rows.fetchall()


def case_rows(
    conn: sqlite3.Connection,
    *,
    opened_by: str,
    category: str | None = None,
    unit_code: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> list[tuple]:
    """The case rows opened by the stamp ``opened_by``, of a category, of a unit, opened from
    the day ``since`` to the stamp ``until``; by opening time."""
    where, params = ["c.opened_at <= ?"], [opened_by]
    if category:
        where.append("c.category = ?")
        params.append(category)
    if unit_code:
        where.append("u.code = ?")
        params.append(unit_code)
    if since:
        where.append("c.opened_at >= ?")
        params.append(since)
    if until:
        where.append("c.opened_at <= ?")
        params.append(until)
    return conn.execute(
        _CASE_SQL + " WHERE " + " AND ".join(where) + " ORDER BY c.opened_at, c.id", params
    ).fetchall()


def every_case_row(conn: sqlite3.Connection, *, opened_by: str) -> Iterator[tuple]:
    """``case_rows`` of every case opened by the stamp ``opened_by``, by opening time,
    streamed (``pg.stream``): a long history's cases are never all held."""
    return pg.stream(
        conn, _CASE_SQL + " WHERE c.opened_at <= ? ORDER BY c.opened_at, c.id", (opened_by,)
    )


def fee_dispute_rows(conn: sqlite3.Connection, unit_ids: Iterable[int], opened_by: str) -> list:
    """The case rows about the units, opened by the stamp ``opened_by``, that were opened as
    or later marked a fee dispute."""
    return conn.execute(
        _CASE_SQL + " WHERE c.unit_id IN (SELECT value FROM json_each(?)) AND c.opened_at <= ? "
        "AND (c.fee_dispute = 1 OR EXISTS (SELECT 1 FROM complaint_event e WHERE "
        "e.complaint_id = c.id AND e.action = 'fee-dispute'))",
        (json.dumps(sorted(unit_ids)), opened_by),
    ).fetchall()


def case_parties(conn: sqlite3.Connection, case_ids: list[int]) -> dict[int, int | None]:
    """Case id -> the party it is about."""
    return dict(
        conn.execute(
            "SELECT id, party_id FROM complaint WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(case_ids),),
        )
    )


def case_units(conn: sqlite3.Connection, case_ids: list[int]) -> dict[int, int | None]:
    """Case id -> the unit it is about."""
    return dict(
        conn.execute(
            "SELECT id, unit_id FROM complaint WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(case_ids),),
        )
    )


def case_events(conn: sqlite3.Connection, case_ids: list[int], until: str) -> Iterator[tuple]:
    """(case id, at, actor, action, assignee, note, score, other case's number) of the cases'
    events up to the stamp ``until``, each case's in order."""
    return conn.execute(
        "SELECT e.complaint_id, e.at, e.actor, e.action, e.assignee, e.note, e.score, "
        "o.number FROM complaint_event e LEFT JOIN complaint o ON o.id = e.other_id "
        "WHERE e.complaint_id IN (SELECT value FROM json_each(?)) AND e.at <= ? "
        "ORDER BY e.complaint_id, e.at, e.id",
        (json.dumps(case_ids), until),
    )


def next_case_count(conn: sqlite3.Connection, year: int) -> int:
    """Count one more case in ``year``; returns its count in the year."""
    return conn.execute(
        "INSERT INTO complaint_counter (year, last) VALUES (?, 1) "
        "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        (year,),
    ).fetchone()[0]


def insert_case(conn: sqlite3.Connection, values: tuple) -> int:
    """Write a case: (number, unit id, party id, kind, category, channel, priority, fee
    dispute, description, contact name, contact phone, opened at, deadline at, deadline rule,
    calendar, created by, created at); returns its id."""
    return conn.execute(
        "INSERT INTO complaint (number, unit_id, party_id, kind, category, channel, priority, "
        "fee_dispute, description, contact_name, contact_phone, opened_at, deadline_at, "
        "deadline_rule, calendar, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    ).lastrowid


def insert_event(conn: sqlite3.Connection, values: tuple) -> None:
    """Write a case event: (case id, at, actor, action, assignee, note, score, other case id,
    created at)."""
    conn.execute(
        "INSERT INTO complaint_event (complaint_id, at, actor, action, assignee, note, score, "
        "other_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )


# ---------------------------------------------------------------- tags and care


def tag_events(conn: sqlite3.Connection, party_id: int) -> Iterator[tuple[str, str]]:
    """(tag, add|remove) of a party's tag events, in order."""
    return conn.execute(
        "SELECT tag, action FROM party_tag WHERE party_id = ? ORDER BY id", (party_id,)
    )


def all_tag_events(conn: sqlite3.Connection) -> Iterator[tuple[int, str, str]]:
    """(party, tag, add|remove) of every tag event, in order (one query for a list of all
    parties)."""
    return conn.execute("SELECT party_id, tag, action FROM party_tag ORDER BY id")


def current_owner(conn: sqlite3.Connection, code: str) -> tuple[int, str] | None:
    """(party id, name) of the unit's current owner, or None."""
    return conn.execute(
        "SELECT o.party_id, p.name FROM unit u JOIN occupancy o ON o.unit_id = u.id "
        "AND o.role = 'owner' AND o.end_on IS NULL JOIN party p ON p.id = o.party_id "
        "WHERE u.code = ?",
        (code,),
    ).fetchone()


def add_tag(
    conn: sqlite3.Connection, party_id: int, tag: str, at: str, actor: str, stamp: str
) -> None:
    conn.execute(
        "INSERT INTO party_tag (party_id, tag, action, at, actor, created_at) "
        "VALUES (?, ?, 'add', ?, ?, ?)",
        (party_id, tag, at, actor, stamp),
    )


def remove_tag(
    conn: sqlite3.Connection, party_id: int, tag: str, at: str, actor: str, stamp: str
) -> None:
    conn.execute(
        "INSERT INTO party_tag (party_id, tag, action, at, actor, created_at) "
        "VALUES (?, ?, 'remove', ?, ?, ?)",
        (party_id, tag, at, actor, stamp),
    )


def current_people(conn: sqlite3.Connection, month_digits: str) -> Iterator[tuple]:
    """(party id, name, phones, ID number, birthday, units joined by 、) of every person who
    owns or rents a unit now (not the developer), by name — those who may be on the care
    list of the month ``month_digits`` (MM) only: a birthday on record, an ID number born in
    that month, or a tag."""
    return conn.execute(
        "SELECT p.id, p.name, p.phones, p.id_number, p.birthday, group_concat(u.code, '、') "
        "FROM party p JOIN occupancy o ON o.party_id = p.id AND o.end_on IS NULL "
        "JOIN unit u ON u.id = o.unit_id WHERE p.is_developer = 0 AND p.kind = 'person' "
        "AND (coalesce(p.birthday, '') <> '' "
        "OR (length(p.id_number) = 18 AND substr(p.id_number, 11, 2) = ?1) "
        "OR (length(p.id_number) = 15 AND substr(p.id_number, 9, 2) = ?1) "
        "OR p.id IN (SELECT party_id FROM party_tag)) "
        "GROUP BY p.id ORDER BY p.name",
        (month_digits,),
    )


def reporter_of(conn: sqlite3.Connection, case_id: int) -> tuple:
    """(contact name, contact phone, the party's name, the party's phones) of a case."""
    return conn.execute(
        "SELECT c.contact_name, c.contact_phone, coalesce(p.name, ''), coalesce(p.phones, '') "
        "FROM complaint c LEFT JOIN party p ON p.id = c.party_id WHERE c.id = ?",
        (case_id,),
    ).fetchone()
