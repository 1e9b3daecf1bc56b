"""Opening the database and running one command as one transaction.

Every connection: WAL journal, foreign keys on, a busy timeout, ``synchronous=FULL`` (a
ledger must survive a power cut). A new database file is created with mode 0600 and migrated
on first use. Writers take the write lock up front with ``BEGIN IMMEDIATE`` so two processes
queue instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from propfee.core.errors import DatabaseBusy, DatabaseError, PropfeeError

DEFAULT_BUSY_TIMEOUT = 60.0  # seconds; a 100k-unit import holds the lock for a few seconds


def busy_timeout() -> float:
    raw = os.environ.get("PROPFEE_BUSY_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_BUSY_TIMEOUT
    except ValueError:
        raise DatabaseError(f"PROPFEE_BUSY_TIMEOUT={raw!r} is not a number of seconds") from None


def connect(
    path: str | Path,
    *,
    create: bool = True,
    migrate: bool = True,
    backup_folder: str = "backups",
) -> sqlite3.Connection:
    """Open (creating and migrating if needed) the propfee database at ``path``; a database
    made by an older propfee is first copied to ``backup_folder`` (beside it if relative)."""
    from propfee.store import migrations

    path = Path(path)
    if not path.exists():
        if not create:
            raise DatabaseError(f"{path}: no such database")
        if not path.parent.is_dir():
            raise DatabaseError(f"{path}: folder {path.parent} does not exist")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(fd)
        except FileExistsError:
            pass  # another process created it a moment ago
        except OSError as exc:
            raise DatabaseError(f"{path}: cannot create the database ({exc.strerror})") from None
    elif path.is_dir():
        raise DatabaseError(f"{path}: is a directory, not a database file")
    elif _empty_and_old(path):
        raise DatabaseError(
            f"{path}: the file is empty (0 bytes), not a propfee database; if it was one, it "
            "was truncated — restore a backup (propfee restore), or remove the file to start "
            "a new estate"
        )
    timeout = busy_timeout()
    global _last_opened
    _last_opened = str(path)
    conn = _open(path, timeout)
    conn.row_factory = sqlite3.Row
    if migrate:
        try:
            _backup_before_upgrade(conn, path, backup_folder)
            migrations.migrate(conn, path)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise translate(exc, path) from None
    return conn


def _empty_and_old(path: Path) -> bool:
    """An empty file that was already there: a truncated database, or a mistake. (A new
    database is filled by the process that creates the file, in its -wal at first; one made
    seconds ago may be another process's, still being set up.)"""
    info = path.stat()
    return (
        info.st_size == 0 and not Path(f"{path}-wal").exists() and time.time() - info.st_mtime > 5
    )


def _backup_before_upgrade(conn: sqlite3.Connection, path: Path, folder: str) -> None:
    """A database made by an older propfee is copied to backups/ before it is migrated."""
    from propfee.store import audit, backup, migrations

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if 0 < version < migrations.SCHEMA_VERSION:
        try:
            backup.backup(
                path, at=audit.now(), tag=f"before-upgrade-from-schema-{version}", folder=folder
            )
        except PropfeeError as exc:
            conn.close()
            raise DatabaseError(
                f"{path}: made by an older propfee (schema {version}); it is backed up before "
                f"the upgrade, and the backup failed: {exc}"
            ) from None


_last_opened = "database"


def last_opened() -> str:
    """The database file this process opened last (for naming it in an error)."""
    return _last_opened


def connect_scratch() -> sqlite3.Connection:
    """A migrated in-memory database: what a dry run against a database that does not exist
    yet compares with (so a dry run never creates the file)."""
    from propfee.store import migrations

    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.row_factory = sqlite3.Row
    migrations.migrate(conn, ":memory:")
    return conn


def _open(path: Path, timeout: float) -> sqlite3.Connection:
    """Connect and set the pragmas. Switching a new file to WAL needs a moment of exclusive
    access, and SQLite reports "locked" at once (without its busy handler) when two processes
    open a brand-new database together: retry that until the busy timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        conn = None
        try:
            # check_same_thread=False: a command may hand its connection to a writer thread
            # (never to two threads at once)
            conn = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                try:
                    conn.execute("PRAGMA journal_mode = WAL").fetchone()
                except sqlite3.OperationalError as exc:
                    if "readonly" not in str(exc):
                        raise
                    # a file on read-only media (a backup, say) is still read as it is
            conn.execute("PRAGMA synchronous = FULL")
            return conn
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise translate(exc, path) from None
            time.sleep(delay + random.random() * delay)
            delay = min(delay * 2, 0.5)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise translate(exc, path) from None


def translate(exc: sqlite3.Error, path: Path | str) -> Exception:
    """An sqlite3 error as the user-facing error it means."""
    message = str(exc)
    if "locked" in message or "busy" in message:
        return DatabaseBusy(
            f"{path}: another propfee command is still writing (waited {busy_timeout():g}s); "
            "try again when it has finished"
        )
    if "file is not a database" in message or "malformed" in message:
        return DatabaseError(f"{path}: not a propfee database, or the file is damaged ({message})")
    if "readonly" in message or "read-only" in message:
        return DatabaseError(
            f"{path}: the database is read-only ({message}); check that you may write the "
            "file, its -wal and -shm files beside it, and its folder"
        )
    if "disk" in message and ("full" in message or "I/O" in message):
        return DatabaseError(f"{path}: cannot write the database ({message})")
    if "unable to open" in message:
        return DatabaseError(f"{path}: cannot open the database ({message})")
    return exc


@contextmanager
def transaction(conn: sqlite3.Connection, *, dry_run: bool = False) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception (or ``dry_run``) rolls everything back.
    Inside a command, the audit trail's row for the change is written just before COMMIT."""
    from propfee.store import audit

    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise translate(exc, _db_name(conn)) from None
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
        raise translate(exc, _db_name(conn)) from None


def _db_name(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else "database"


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
