"""The SQL of closing the reminder loops: SMS contacts and their delivery status, and the
contacts read back from a filled-in call list — each read or written in one batch."""

from __future__ import annotations

import json
import sqlite3


def sms_contacts_of_phones(conn: sqlite3.Connection, phones: list[str]) -> list[tuple]:
    """(contact, phone, at, latest status or None) of every SMS contact to these phones, by
    phone and time."""
    return conn.execute(
        "SELECT c.id, c.phone, c.at, (SELECT s.status FROM contact_status s "
        "WHERE s.contact_id = c.id ORDER BY s.id DESC LIMIT 1) FROM contact c "
        "WHERE c.channel = 'sms' AND c.phone IN (SELECT value FROM json_each(?)) "
        "ORDER BY c.phone, c.at, c.id",
        (json.dumps(sorted(set(phones))),),
    ).fetchall()


def insert_statuses(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Record (contact, status, at, source, detail, created at): an SMS sent or failed."""
    conn.executemany(
        "INSERT INTO contact_status (contact_id, status, at, source, detail, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def unit_ids_of_codes(conn: sqlite3.Connection, codes: list[str]) -> dict[str, int]:
    """The id of each unit named, by code."""
    return dict(
        conn.execute(
            "SELECT code, id FROM unit WHERE code IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(codes))),),
        )
    )


def oldest_open_bills(conn: sqlite3.Connection, unit_ids: list[int]) -> dict[int, int]:
    """Each unit's oldest bill not settled, by unit: looked up unit by unit in the bills'
    unit index (never among every unsettled bill of the estate)."""
    rows = conn.execute(
        "SELECT u.id, (SELECT b.id FROM bill b WHERE b.unit_id = u.id AND b.settled_on IS NULL "
        "ORDER BY b.due_on, b.id LIMIT 1) FROM unit u WHERE u.id IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(unit_ids))),),
    )
    return {unit_id: bill_id for unit_id, bill_id in rows if bill_id is not None}


def call_list_contacts(conn: sqlite3.Connection, unit_ids: list[int]) -> set[tuple]:
    """(unit, at, outcome, reason, promise on, note) of the contacts already read back from a
    call list for these units."""
    return {
        tuple(row)
        for row in conn.execute(
            "SELECT unit_id, at, outcome, reason, promise_on, note FROM contact "
            "WHERE source = 'call-list' AND unit_id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(unit_ids))),),
        )
    }


def insert_call_contacts(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Log calls read back from a call list: (unit, party, at, outcome, reason, promise on,
    bill, addressee, phone, staff, note, created at)."""
    conn.executemany(
        "INSERT INTO contact (unit_id, party_id, at, channel, outcome, reason, promise_on, "
        "bill_id, addressee, phone, staff, note, source, created_at) "
        "VALUES (?, ?, ?, 'phone', ?, ?, ?, ?, ?, ?, ?, ?, 'call-list', ?)",
        rows,
    )
