"""Reads what the owner profile looks up (parties by unit, phone or name; their holdings and
what they owe) and every table generically for the full export; writes nothing. The collection
report's statements are in report_store.py, the surveys' in survey_store.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from propfee.store import pg

# ---------------------------------------------------------------- the owner profile


def unit_id_by_code(conn: sqlite3.Connection, code: str) -> int | None:
    row = conn.execute("SELECT id FROM unit WHERE code = ?", (code,)).fetchone()
    return None if row is None else row[0]


def current_parties_of_unit(conn: sqlite3.Connection, unit_id: int) -> list[int]:
    """The parties who own or rent the unit now, owners first."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT party_id FROM occupancy WHERE unit_id = ? AND end_on IS NULL "
            "GROUP BY party_id ORDER BY min(role), min(id)",
            (unit_id,),
        )
    ]


def parties_by_phone(conn: sqlite3.Connection, digits: str) -> list[int]:
    """The parties with a phone number holding ``digits`` (dashes and spaces left out)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM party WHERE replace(replace(phones, '-', ''), ' ', '') LIKE ?",
            (f"%{digits}%",),
        )
    ]


def parties_named(conn: sqlite3.Connection, name: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM party WHERE name = ?", (name,))]


def parties_name_like(conn: sqlite3.Connection, text: str) -> list[int]:
    """The first 20 parties, by name, whose name holds ``text``."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM party WHERE name LIKE ? ORDER BY name LIMIT 20", (f"%{text}%",)
        )
    ]


def party_row(conn: sqlite3.Connection, party_id: int) -> tuple | None:
    """(id, name, kind, phones, ID number, birthday, is developer) of a party, or None."""
    return conn.execute(
        "SELECT id, name, kind, phones, id_number, birthday, is_developer FROM party WHERE id = ?",
        (party_id,),
    ).fetchone()


def party_holdings(conn: sqlite3.Connection, party_id: int) -> Iterator[tuple]:
    """(unit code, unit id, role, start, end, pays) of a party's occupancies, current first."""
    return conn.execute(
        "SELECT u.code, u.id, o.role, o.start_on, o.end_on, o.pays FROM occupancy o "
        "JOIN unit u ON u.id = o.unit_id WHERE o.party_id = ? ORDER BY o.end_on IS NOT NULL, "
        "u.code, o.start_on",
        (party_id,),
    )


def unsettled_owed(conn: sqlite3.Connection, unit_id: int, party_id: int) -> int:
    """What the party still owes on the unit's unsettled bills, in fen."""
    return conn.execute(
        "SELECT coalesce(sum(b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM "
        "adjustment a WHERE a.bill_id = b.id), 0) - coalesce((SELECT sum(l.amount_fen) "
        "FROM allocation l WHERE l.bill_id = b.id), 0)), 0) FROM bill b "
        "WHERE b.unit_id = ? AND b.party_id = ? AND b.settled_on IS NULL",
        (unit_id, party_id),
    ).fetchone()[0]


# ---------------------------------------------------------------- the full export


def table_names(conn: sqlite3.Connection) -> list[str]:
    """Every table, in the order the schema made them."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT GLOB '*_fts' AND name NOT GLOB '*_fts_*' "  # the search index
            "ORDER BY rowid"
        )
    ]


def table_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column of ``table``."""
    return [(row[1], row[2]) for row in conn.execute(f'PRAGMA table_info("{table}")')]


def row_count(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def table_rows(conn: sqlite3.Connection, table: str, columns: list[str]) -> Iterator[tuple]:
    """The ``columns`` of every row of ``table``, in the order of its primary key (its id,
    mostly; streamed, on a server too): the same order on both engines, where a server keeps
    no rowid."""
    names = ", ".join(f'"{name}"' for name in columns)
    keys = sorted((row[5], row[1]) for row in conn.execute(f'PRAGMA table_info("{table}")'))
    order = ", ".join(f'"{name}"' for place, name in keys if place) or "rowid"
    return pg.stream(conn, f'SELECT {names} FROM "{table}" ORDER BY {order}')
