"""Reads what the owners' service report needs beyond the other reports: the money received in
a window by the fee item it paid for (published under 酬金制), and the names, phones and unit
codes a text posted to owners must not carry. Writes nothing."""

from __future__ import annotations

import sqlite3

#: the payments received in the window [?1, ?2] and not reversed by the day ?3 (opening
#: balances carried in from another system are not money received)
_RECEIVED = (
    "FROM payment p WHERE p.paid_on BETWEEN ?1 AND ?2 AND p.channel <> 'opening' "
    "AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id AND r.reversed_on <= ?3)"
)


def received_by_item(
    conn: sqlite3.Connection, first: str, last: str, day: str
) -> list[tuple[str, str, int, int]]:
    """(code, name, position, fen) per fee item: what the payments received from ``first`` to
    ``last`` (not reversed by ``day``) paid of its bills by ``day``."""
    return conn.execute(
        "SELECT f.code, f.name, f.position, sum(l.amount_fen) FROM allocation l "
        "JOIN bill b ON b.id = l.bill_id JOIN fee_item f ON f.id = b.fee_item_id "
        "WHERE l.reversal_id IS NULL AND l.allocated_on <= ?3 AND l.payment_id IN "
        "(SELECT p.id " + _RECEIVED + ") GROUP BY f.id, f.code, f.name, f.position "
        "ORDER BY f.position, f.code",
        (first, last, day),
    ).fetchall()


def received_total(conn: sqlite3.Connection, first: str, last: str, day: str) -> tuple[int, int]:
    """(payments, fen) received from ``first`` to ``last`` and not reversed by ``day``."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(p.amount_fen), 0) " + _RECEIVED, (first, last, day)
    ).fetchone()
    return int(row[0]), int(row[1])


def person_names(conn: sqlite3.Connection) -> set[str]:
    """Every person's name on record: owners, tenants, and callers from outside the units."""
    return {
        name.strip()
        for (name,) in conn.execute(
            "SELECT name FROM party WHERE kind = 'person' UNION "
            "SELECT contact_name FROM complaint WHERE contact_name <> ''"
        )
        if name and name.strip()
    }


def unit_codes(conn: sqlite3.Connection) -> set[str]:
    """Every unit's code (房号)."""
    return {code for (code,) in conn.execute("SELECT code FROM unit")}
