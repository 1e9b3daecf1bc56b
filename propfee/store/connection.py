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
from propfee.core.i18n import _

DEFAULT_BUSY_TIMEOUT = 60.0  # seconds; a 100k-unit import holds the lock for a few seconds


def busy_timeout() -> float:
    raw = os.environ.get("PROPFEE_BUSY_TIMEOUT", "")
    try:
        return float(raw) if raw else DEFAULT_BUSY_TIMEOUT
    except ValueError:
        raise DatabaseError(
            _("PROPFEE_BUSY_TIMEOUT={raw!r} is not a number of seconds").format(raw=raw)
        ) from None


def empty_and_old(path: Path) -> bool:
    """An empty file that was already there: a truncated database, or a mistake. (A new
    database is filled by the process that creates the file, in its -wal at first; one made
    seconds ago may be another process's, still being set up.)"""
    info = path.stat()
    return (
        info.st_size == 0 and not Path(f"{path}-wal").exists() and time.time() - info.st_mtime > 5
    )


_last_opened = "database"


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class CountingCursor(sqlite3.Cursor):
    """A cursor that adds the rows each statement itself inserted, updated or deleted to its
    connection's ``direct_changes`` (``rowcount``, which leaves out what triggers did)."""

    def execute(self, sql, parameters=(), /):
        connection = self.connection
        connection.settle()
        super().execute(sql, parameters)
        if self.rowcount > 0:
            connection.counted += self.rowcount
        elif self.description is not None and sql.lstrip()[:7].upper().startswith(_WRITES):
            connection.returning.append(self)  # RETURNING: counted once its rows are read
        return self

    def executemany(self, sql, seq_of_parameters, /):
        super().executemany(sql, seq_of_parameters)
        if self.rowcount > 0:
            self.connection.counted += self.rowcount
        return self


class Connection(sqlite3.Connection):
    """propfee's connection: counts the rows its statements change directly, so the audit
    trail tells rows a command changed from the search index's upkeep (done by triggers,
    which ``total_changes`` counts too)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.counted = 0
        self.returning: list[sqlite3.Cursor] = []

    @property
    def direct_changes(self) -> int:
        self.settle()
        return self.counted + sum(max(c.rowcount, 0) for c in self.returning)

    def settle(self) -> None:
        """Count the RETURNING statements whose rows have all been read."""
        if self.returning:
            done = [c for c in self.returning if c.rowcount > 0]
            self.counted += sum(c.rowcount for c in done)
            self.returning = [c for c in self.returning if c.rowcount <= 0]

    def cursor(self, factory=CountingCursor):
        return super().cursor(factory)

    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        return self.cursor().executemany(sql, seq_of_parameters)


def last_opened() -> str:
    """The database this process opened last (for naming it in an error): a file's path, or
    a server's estate as :func:`opened` was told it."""
    return _last_opened


def opened(name: str) -> None:
    """A database opened other than by :func:`open_file` (an estate on a server), by the name
    an error gives it."""
    global _last_opened
    _last_opened = name


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
                path,
                timeout=timeout,
                isolation_level=None,
                check_same_thread=False,
                factory=Connection,
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
            _(
                "{path}: another propfee command is still writing (waited "
                "{busy_timeout:g}s); try again when it has finished"
            ).format(path=path, busy_timeout=busy_timeout())
        )
    if "file is not a database" in message or "malformed" in message:
        return DatabaseError(
            _("{path}: not a propfee database, or the file is damaged ({message})").format(
                path=path, message=message
            )
        )
    if "readonly" in message or "read-only" in message:
        return DatabaseError(
            _(
                "{path}: the database is read-only ({message}); check that "
                "you may write the file, its -wal and -shm files beside it, "
                "and its folder"
            ).format(path=path, message=message)
        )
    if "disk" in message and ("full" in message or "I/O" in message):
        return DatabaseError(
            _("{path}: cannot write the database ({message})").format(path=path, message=message)
        )
    if "unable to open" in message:
        return DatabaseError(
            _("{path}: cannot open the database ({message})").format(path=path, message=message)
        )
    return exc


def db_name(conn: sqlite3.Connection) -> str:
    """How an error names the connection's database: its file, or a server's estate by the
    server and estate (as every other error about it does)."""
    if getattr(conn, "dialect", "") == "postgres":
        return conn.name
    row = conn.execute("PRAGMA database_list").fetchone()
    return row[2] if row else "database"
