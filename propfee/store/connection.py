"""Opening an SQLite file the way every propfee command needs it, and what its errors mean.

Every connection: WAL journal, foreign keys on, a busy timeout, ``synchronous=FULL`` (a
ledger must survive a power cut). Migrating and the command's transaction are store/db.py's.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from pathlib import Path

from propfee.core.errors import DatabaseBusy, DatabaseError

DEFAULT_BUSY_TIMEOUT = 60.0  # seconds; a 100k-unit import holds the lock for a few seconds


def busy_timeout() -> float:
    raw = os.environ.get("PROPFEE_BUSY_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_BUSY_TIMEOUT
    except ValueError:
        raise DatabaseError(f"PROPFEE_BUSY_TIMEOUT={raw!r} is not a number of seconds") from None


def empty_and_old(path: Path) -> bool:
    """An empty file that was already there: a truncated database, or a mistake. (A new
    database is filled by the process that creates the file, in its -wal at first; one made
    seconds ago may be another process's, still being set up.)"""
    info = path.stat()
    return (
        info.st_size == 0 and not Path(f"{path}-wal").exists() and time.time() - info.st_mtime > 5
    )


_last_opened = "database"


def last_opened() -> str:
    """The database file this process opened last (for naming it in an error)."""
    return _last_opened


def open_file(path: Path, timeout: float) -> sqlite3.Connection:
    """Connect and set the pragmas. Switching a new file to WAL needs a moment of exclusive
    access, and SQLite reports "locked" at once (without its busy handler) when two processes
    open a brand-new database together: retry that until the busy timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    global _last_opened
    _last_opened = str(path)
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


def db_name(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else "database"
