"""What the demo reads to play a year of an estate's life: owners' bills, open and by period."""

from __future__ import annotations

import sqlite3


def owed_by_owners(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(unit, owner, fen) still open, for every unit an owner (not the developer) owes on."""
    return conn.execute(
        "SELECT u.code, p.name, sum(b.amount_fen) FROM bill b "
        "JOIN unit u ON u.id = b.unit_id JOIN party p ON p.id = b.party_id "
        "WHERE b.settled_on IS NULL AND p.is_developer = 0 GROUP BY u.code, p.name "
        "ORDER BY u.code"
    ).fetchall()


def owners_bills_by_period(conn: sqlite3.Connection) -> list[tuple[str, str, int, str]]:
    """(unit, period, fen, first due day) of what owners were billed, by unit and period."""
    return conn.execute(
        "SELECT u.code, b.period, sum(b.amount_fen), min(b.due_on) FROM bill b "
        "JOIN unit u ON u.id = b.unit_id JOIN party p ON p.id = b.party_id "
        "WHERE p.is_developer = 0 GROUP BY u.code, b.period ORDER BY u.code, b.period"
    ).fetchall()


def home_codes(conn: sqlite3.Connection) -> list[str]:
    """Every home's unit code, in the order the roster brought them."""
    return [
        r[0] for r in conn.execute("SELECT code FROM unit WHERE kind = 'residential' ORDER BY id")
    ]
