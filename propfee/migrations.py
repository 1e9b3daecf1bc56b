"""Append-only schema steps.

Each step is a function ``mNNN_name(conn)``; ``MIGRATIONS`` lists them in order and the
database's ``PRAGMA user_version`` counts how many have run. All pending steps run inside one
``BEGIN IMMEDIATE`` transaction, so two processes opening a new database at once never both
migrate it. Never edit a step that has landed: add a new one.

Conventions: money is INTEGER fen (``*_fen``); areas are INTEGER hundredths of ㎡
(``*_x100``); dates are ISO ``YYYY-MM-DD`` text; timestamps ``YYYY-MM-DD HH:MM:SS`` text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from propfee.errors import DatabaseError


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction (``executescript`` would commit
    it first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:60]}")


def m001_roster(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );

        CREATE TABLE unit (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            building TEXT NOT NULL DEFAULT '',
            entrance TEXT NOT NULL DEFAULT '',
            room TEXT NOT NULL DEFAULT '',
            floor TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL
                CHECK (kind IN ('residential', 'commercial', 'office', 'parking', 'storage')),
            area_x100 INTEGER CHECK (area_x100 IS NULL OR area_x100 > 0),
            area_basis TEXT NOT NULL DEFAULT '',
            inner_area_x100 INTEGER CHECK (inner_area_x100 IS NULL OR inner_area_x100 > 0),
            delivered_on TEXT,
            notes TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX unit_building ON unit (building, entrance, room);

        CREATE TABLE party (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('person', 'company')),
            name TEXT NOT NULL,
            phones TEXT NOT NULL DEFAULT '',
            id_number TEXT NOT NULL DEFAULT '',
            birthday TEXT,
            is_developer INTEGER NOT NULL DEFAULT 0 CHECK (is_developer IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX party_name ON party (name);
        CREATE UNIQUE INDEX party_one_developer ON party (is_developer) WHERE is_developer = 1;

        CREATE TABLE occupancy (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES unit (id),
            party_id INTEGER NOT NULL REFERENCES party (id),
            role TEXT NOT NULL CHECK (role IN ('owner', 'tenant')),
            start_on TEXT,
            end_on TEXT,
            pays INTEGER NOT NULL DEFAULT 0 CHECK (pays IN (0, 1)),
            source TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            CHECK (start_on IS NULL OR end_on IS NULL OR end_on >= start_on)
        );
        CREATE INDEX occupancy_unit ON occupancy (unit_id, role, start_on);
        CREATE INDEX occupancy_party ON occupancy (party_id);
        CREATE UNIQUE INDEX occupancy_current ON occupancy (unit_id, role) WHERE end_on IS NULL;
        """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    m001_roster,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema up to date; return the number of steps applied."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    _refuse_foreign(conn, version, path)
    if version == SCHEMA_VERSION:
        return 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the lock
        _refuse_foreign(conn, version, path)
        applied = 0
        if version < SCHEMA_VERSION:
            if version == 0:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS _migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            now = datetime.now().isoformat(sep=" ", timespec="seconds")
            for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
                step(conn)
                conn.execute(
                    "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (number, step.__name__, now),
                )
                applied += 1
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return applied


def _refuse_foreign(conn: sqlite3.Connection, version: int, path: Path | str) -> None:
    from propfee import __version__

    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path}: made by a newer propfee (schema {version}); this is propfee "
            f"{__version__} (schema {SCHEMA_VERSION}) — upgrade propfee to open it"
        )
    if version == 0:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        if tables and tables != ["_migrations"]:
            raise DatabaseError(
                f"{path}: an SQLite database that propfee did not make (tables: "
                f"{', '.join(tables[:5])}); point --db at a new or a propfee file"
            )
