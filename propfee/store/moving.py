"""Moving an estate up: its SQLite file copied into its schema on a PostgreSQL server.

The estate's schema must be new (or empty). Its tables are made by the same schema steps,
then every row of every table — the audit trail and meta included, ids as they are — is
copied in one transaction. Before that transaction commits, both sides are proved alike:
``propfee check`` passes on each (the check is handed in by the command: the store knows no
domain), and their tallies agree — rows per table, every money column's total, bill and
receipt counts, the audit trail's head. Anything else rolls the copy back: the server is
left as it was and the file is never changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from propfee.core.errors import DatabaseError
from propfee.core.i18n import _
from propfee.store import db, migrations, pg

Check = Callable[[Any], list]  # propfee check: problems with .what and .detail

_BATCH = 5000


@dataclass
class Moved:
    """What was copied and the tallies both sides agreed on."""

    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)
    tally: dict[str, Any] = field(default_factory=dict)


def _tables(conn, order: str = "name") -> list[str]:
    """The estate's own tables (not the search index, nor the steps' bookkeeping: the
    schema steps make those); ``order="rowid"`` on SQLite lists them as they were made, the
    order their rows can be copied in (a foreign key refers to a table made before it)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT GLOB '*_fts' AND name NOT GLOB '*_fts_*' AND name <> '_migrations' "
            f"ORDER BY {order}"
        )
    ]


def _columns(conn, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def tally(conn) -> dict[str, Any]:
    """What must be the same on both sides: rows per table, each money column's total, the
    bills and receipts counted, and the audit trail's head."""
    result: dict[str, Any] = {}
    for table in _tables(conn):
        columns = [c for c in _columns(conn, table) if c.endswith("_fen")]
        sums = "".join(f", coalesce(sum({c}), 0)" for c in columns)
        row = conn.execute(f'SELECT count(*){sums} FROM "{table}"').fetchone()
        result[table] = [int(v) for v in row]
    result["receipts"] = conn.execute(
        "SELECT count(*) FROM payment WHERE receipt_no IS NOT NULL"
    ).fetchone()[0]
    result["audit_head"] = db.get_meta(conn, "audit_head")
    return result


def _copy_table(source: sqlite3.Connection, target: pg.Connection, table: str) -> int:
    columns = _columns(source, table)
    wanted = set(_columns(target, table))
    missing = [c for c in columns if c not in wanted]
    if missing:
        raise DatabaseError(
            _("{table}: the server's table has no column {columns}").format(
                table=table, columns=", ".join(missing)
            )
        )
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = source.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid')
    cursor.row_factory = None
    copied = 0
    while rows := cursor.fetchmany(_BATCH):
        target.copy_rows(table, columns, rows)
        copied += len(rows)
    if "id" in columns:
        target.raw.execute(pg.pgsql.follow_ids(table))
    return copied


def _refuse_occupied(target: pg.Connection) -> None:
    if db.has_tables(target):
        raise DatabaseError(
            _(
                "{server}: the estate already has its tables; migrate-to copies into a new "
                "estate only (choose another --estate, or drop that schema first)"
            ).format(server=target.name)
        )


def _problems(label: str, conn, check: Check) -> None:
    found = check(conn)
    if found:
        first = found[0]
        raise DatabaseError(
            _("{database}: propfee check fails ({n} problems): {what}: {detail}").format(
                database=label, n=len(found), what=first.what, detail=first.detail
            )
        )


def migrate_to(source_path: Path, url: str, estate: str | None, *, check: Check) -> Moved:
    """Copy the estate in the SQLite file ``source_path`` into its schema on ``url``."""
    if not Path(source_path).is_file():
        raise DatabaseError(_("{path}: no such database").format(path=source_path))
    source = db.connect(source_path, create=False)
    target = pg.open_server(url, estate)
    try:
        _refuse_occupied(target)
        _problems(str(source_path), source, check)
        moved = Moved(str(source_path), pg.shareable(target.url, target.estate))
        target.execute("BEGIN IMMEDIATE")
        try:
            migrations.migrate_tables(target)
            for table in _tables(source, order="rowid"):
                moved.tables[table] = _copy_table(source, target, table)
            _problems(target.name, target, check)
            moved.tally = tally(source)
            theirs = tally(target)
            if theirs != moved.tally:
                differ = sorted(k for k in moved.tally if moved.tally[k] != theirs.get(k))
                raise DatabaseError(
                    _(
                        "{server}: the copy does not match {path} in {differ}; nothing was written"
                    ).format(server=target.name, path=source_path, differ=", ".join(differ))
                )
            target.execute("COMMIT")
        except BaseException:
            target.rollback()
            raise
        return moved
    finally:
        source.close()
        target.close()
