"""The SQL of search: the FTS5 trigram index (made by migration m012_search_index, read
through sqlite-utils' ``search()``) and the LIKE scan of the roster and of words too short for
trigrams, then the details of what
was found, fetched in one query per kind."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from propfee.store.migrations import SEARCH_INDEX


def index_ready(conn: sqlite3.Connection) -> bool:
    """Every table of the search index exists (not on an SQLite without trigram)."""
    names = {f"{table}_fts" for table in SEARCH_INDEX}
    found = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB '*_fts'"
        )
    }
    return names <= found


def fts_ids(conn: sqlite3.Connection, table: str, words: list[str], limit: int) -> list[int]:
    """Rowids of ``table`` whose indexed text holds every word (each of three characters or
    more), newest first: sqlite-utils' ``search()`` over the trigram index."""
    import sqlite_utils  # heavy: loaded when a search runs

    database = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    query = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    found = database.table(table).search(
        query, columns=["id"], order_by='"original"."id" DESC', limit=limit
    )
    return [row["id"] for row in found]


def indexed_columns(table: str) -> tuple[str, ...]:
    return SEARCH_INDEX[table]


def like_ids(
    conn: sqlite3.Connection, table: str, columns: tuple[str, ...], words: list[str], limit: int
) -> list[int]:
    """Ids of ``table`` rows whose ``columns`` hold every word (in any of them), by reading
    the table: newest first, the scan stops at ``limit`` rows found."""
    each = " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns)
    where = " AND ".join(f"({each})" for _ in words)
    params: list[object] = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params.extend([pattern] * len(columns))
    sql = f"SELECT id FROM {table} WHERE {where} ORDER BY id DESC LIMIT ?"
    return [row[0] for row in conn.execute(sql, (*params, limit))]


def _ids(ids: list[int]) -> str:
    return json.dumps(sorted(ids))


def parties(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, name, phones, kind) of each party."""
    return conn.execute(
        "SELECT id, name, phones, kind FROM party WHERE id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def holdings(conn: sqlite3.Connection, party_ids: list[int]) -> Iterator[tuple]:
    """(party, unit code, role, start) of each current holding of the parties."""
    return conn.execute(
        "SELECT o.party_id, u.code, o.role, coalesce(o.start_on, '') FROM occupancy o "
        "JOIN unit u ON u.id = o.unit_id WHERE o.end_on IS NULL "
        "AND o.party_id IN (SELECT value FROM json_each(?)) ORDER BY o.party_id, u.code",
        (_ids(party_ids),),
    )


def units(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, code, notes, delivered on) of each unit."""
    return conn.execute(
        "SELECT id, code, notes, coalesce(delivered_on, '') FROM unit "
        "WHERE id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def complaints(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, number, unit code, opened at, kind, description, contact name, contact phone,
    category) of each case."""
    return conn.execute(
        "SELECT c.id, c.number, coalesce(u.code, ''), c.opened_at, c.kind, c.description, "
        "c.contact_name, c.contact_phone, c.category FROM complaint c "
        "LEFT JOIN unit u ON u.id = c.unit_id WHERE c.id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def complaint_events(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, case number, unit code, at, case kind, note, assignee) of each case event."""
    return conn.execute(
        "SELECT e.id, c.number, coalesce(u.code, ''), e.at, c.kind, e.note, e.assignee "
        "FROM complaint_event e JOIN complaint c ON c.id = e.complaint_id "
        "LEFT JOIN unit u ON u.id = c.unit_id WHERE e.id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def contacts(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, unit code, at, channel, note, reason) of each contact."""
    return conn.execute(
        "SELECT c.id, u.code, c.at, c.channel, c.note, c.reason FROM contact c "
        "JOIN unit u ON u.id = c.unit_id WHERE c.id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def payments(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, unit code, paid on, receipt number, note) of each payment."""
    return conn.execute(
        "SELECT p.id, u.code, p.paid_on, coalesce(p.receipt_no, ''), p.note FROM payment p "
        "JOIN unit u ON u.id = p.unit_id WHERE p.id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )


def plans(conn: sqlite3.Connection, ids: list[int]) -> Iterator[tuple]:
    """(id, unit code, signed on, note) of each installment plan."""
    return conn.execute(
        "SELECT p.id, u.code, p.signed_on, p.note FROM plan p JOIN unit u ON u.id = p.unit_id "
        "WHERE p.id IN (SELECT value FROM json_each(?))",
        (_ids(ids),),
    )
