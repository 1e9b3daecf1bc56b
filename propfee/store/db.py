"""Opening the database and running one command as one transaction.

Every connection: WAL journal, foreign keys on, a busy timeout, ``synchronous=FULL`` (a
ledger must survive a power cut). A new database file is created with mode 0600 and migrated
on first use. Writers take the write lock up front with ``BEGIN IMMEDIATE`` so two processes
queue instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from propfee.core.errors import DatabaseError, PropfeeError
from propfee.core.i18n import _
from propfee.store import audit, backup, migrations, pg
from propfee.store.connection import (
    busy_timeout,
    db_name,
    empty_and_old,
    last_opened,
    open_file,
    opened,
    translate,
)

__all__ = ["busy_timeout", "connect", "last_opened", "transaction", "translate"]


def connect(
    path: str | Path,
    *,
    create: bool = True,
    migrate: bool = True,
    backup_folder: str = "backups",
    on_upgrade: Callable[[int, int], None] | None = None,
) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the propfee database at ``path``; a database
    made by an older propfee is first copied to ``backup_folder`` (beside it if relative),
    ``on_upgrade(from_schema, to_schema)`` told before the copy and the upgrade begin.
    A ``postgresql://`` address opens an estate's schema on that server instead."""
    if pg.is_server(path):
        return connect_server(str(path), migrate=migrate, create=create)
    path = Path(path)
    if not path.exists():
        if not create:
            raise DatabaseError(_("{path}: no such database").format(path=path))
        if not path.parent.is_dir():
            raise DatabaseError(
                _("{path}: folder {parent} does not exist").format(path=path, parent=path.parent)
            )
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            pass  # another process created it a moment ago
        except OSError as exc:
            raise DatabaseError(
                _("{path}: cannot create the database ({error})").format(
                    path=path, error=exc.strerror
                )
            ) from None
    elif path.is_dir():
        raise DatabaseError(_("{path}: is a directory, not a database file").format(path=path))
    elif empty_and_old(path):
        raise DatabaseError(
            _(
                "{path}: the file is empty (0 bytes), not a propfee database; "
                "if it was one, it was truncated — restore a backup (propfee "
                "restore), or remove the file to start a new estate"
            ).format(path=path)
        )
    timeout = busy_timeout()
    conn = open_file(path, timeout)
    conn.row_factory = sqlite3.Row
    if migrate:
        try:
            _backup_before_upgrade(conn, path, backup_folder, on_upgrade)
            migrations.migrate(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise translate(exc, path) from None
    return conn


def connect_server(
    url: str,
    *,
    estate: str | None = None,
    migrate: bool = True,
    create: bool = True,
    before_upgrade: Callable[[pg.Connection, int], None] | None = None,
) -> pg.Connection:
    """An estate's schema on a PostgreSQL server, migrated like a file: an estate made by
    an older propfee is handed first to ``before_upgrade(conn, its schema version)`` (the
    commands' backup of it, ``pgdump.before_upgrade``)."""
    conn = pg.open_server(url, estate, busy_timeout(), create=create)
    opened(conn.name)
    if migrate:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if before_upgrade is not None and 0 < version < migrations.SCHEMA_VERSION:
            try:
                before_upgrade(conn, version)  # refuses the upgrade if the backup fails
            except BaseException:
                conn.close()
                raise
        try:
            migrations.migrate(conn, conn.name)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise translate(exc, conn.name) from None
        except BaseException:
            conn.close()
            raise
    return conn


def has_tables(conn) -> bool:
    """Whether the database holds any of propfee's tables (a migrated estate)."""
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    return bool(row[0])


def drop_estate(conn: pg.Connection) -> None:
    """Remove an estate's schema from its server, tables and all (the demo's rebuild)."""
    conn.drop_schema()


def _backup_before_upgrade(
    conn: sqlite3.Connection,
    path: Path,
    folder: str,
    on_upgrade: Callable[[int, int], None] | None = None,
) -> None:
    """A database made by an older propfee is copied to backups/ before it is migrated."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if 0 < version < migrations.SCHEMA_VERSION:
        if on_upgrade is not None:
            on_upgrade(version, migrations.SCHEMA_VERSION)
        try:
            backup.backup(
                path, at=audit.now(), tag=f"before-upgrade-from-schema-{version}", folder=folder
            )
        except PropfeeError as exc:
            conn.close()
            raise DatabaseError(
                _(
                    "{path}: made by an older propfee (schema {version}); it is "
                    "backed up before the upgrade, and the backup failed: {exc}"
                ).format(path=path, version=version, exc=exc)
            ) from None


def connect_scratch() -> sqlite3.Connection:
    """A migrated in-memory database: what a dry run against a database that does not exist
    yet compares with (so a dry run never creates the file)."""
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.row_factory = sqlite3.Row
    migrations.migrate(conn, ":memory:")
    return conn


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, dry_run: bool = False, journal_in_memory: bool = False
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception (or ``dry_run``) rolls everything back.
    Inside a command, the audit trail's row for the change is written just before COMMIT.

    ``journal_in_memory``: what a statement keeps to undo itself halfway (SQLite's statement
    journal: the pages it changes that were there before it) is held in memory rather than
    written to a temporary file, and so are the temporary tables of its reads. For a command
    of many small batched inserts: a reminder run wrote some 40 MB of statement journal for
    20,000 contacts. Not for one whose single statement changes a large part of the file."""
    if not journal_in_memory:
        with _transaction(conn, dry_run) as inside:
            yield inside
        return
    conn.execute("PRAGMA temp_store = MEMORY")  # read as the transaction begins
    try:
        with _transaction(conn, dry_run) as inside:
            yield inside
    finally:
        conn.execute("PRAGMA temp_store = DEFAULT")  # the next command's as it was


@contextmanager
def _transaction(conn: sqlite3.Connection, dry_run: bool) -> Iterator[sqlite3.Connection]:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise translate(exc, db_name(conn)) from None
    try:
        snapshot = None if dry_run else audit.begin(conn)
        yield conn
        if snapshot is not None:
            audit.record(conn, snapshot)
    except BaseException:
        conn.rollback()
        raise
    if dry_run:
        conn.rollback()
        return
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        conn.rollback()
        raise translate(exc, db_name(conn)) from None


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
