"""Opening the estates of a group report for reading only: an SQLite file through a read-only
URI (``mode=ro``: nothing is written to it, and a path that is not there is never made into a
new, empty database), or an estate's schema on a PostgreSQL server in read-only transactions.
Each is checked to be a propfee database of this propfee's schema before it is read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from propfee.core.errors import DatabaseError
from propfee.core.i18n import _
from propfee.store import pg
from propfee.store.connection import Connection, busy_timeout, translate
from propfee.store.db import connect_server
from propfee.store.migrations import SCHEMA_VERSION


def open_file_read_only(path: Path) -> sqlite3.Connection:
    """The estate in an SQLite file, opened so that it cannot be written."""
    if not path.exists():
        raise DatabaseError(_("{path}: no such database").format(path=path))
    if path.is_dir():
        raise DatabaseError(_("{path}: is a directory, not a database file").format(path=path))
    timeout = busy_timeout()
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
            factory=Connection,
        )
    except sqlite3.Error as exc:
        raise _named(translate(exc, path), path, exc) from None
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA query_only = ON")
        check_schema(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _named(translate(exc, path), path, exc) from None
    except DatabaseError:
        conn.close()
        raise
    return conn


def open_schema_read_only(url: str, estate: str) -> pg.Connection:
    """An estate's schema on a server, every transaction of the session read-only."""
    conn = connect_server(url, estate=estate, migrate=False, create=False)
    try:
        conn.raw.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        check_schema(conn, conn.name)
    except BaseException:
        conn.close()
        raise
    return conn


def server_estates(url: str) -> list[str]:
    """The schemas of a server that hold an estate."""
    try:
        return pg.estates(url)
    except DatabaseError:
        raise
    except Exception as exc:  # psycopg's errors: the server cannot be reached or read
        raise DatabaseError(
            _("{server}: cannot connect to the server ({error})").format(
                server=server_name(url), error=str(exc).strip()
            )
        ) from None


def server_name(url: str) -> str:
    """A server as an error names it (never the password)."""
    return pg.display(url, "").removesuffix(" estate ")


def check_schema(conn, where: Path | str) -> None:
    """Refuse what is not a propfee database of this propfee's schema, naming it."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0 or not _has_meta(conn):
        raise DatabaseError(_("{path}: not a propfee database").format(path=where))
    if version < SCHEMA_VERSION:
        raise DatabaseError(
            _(
                "{path}: made by an older propfee (schema {version}, this one reads {current}); "
                "run any propfee command on it once (propfee check --db {path}) to upgrade it"
            ).format(path=where, version=version, current=SCHEMA_VERSION)
        )
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            _(
                "{path}: made by a newer propfee (schema {version}, this one reads {current}); "
                "install a newer propfee to read it"
            ).format(path=where, version=version, current=SCHEMA_VERSION)
        )


def _has_meta(conn) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    return bool(row[0])


def _named(error: Exception, path: Path, exc: sqlite3.Error) -> Exception:
    """An SQLite error that ``translate`` did not turn into a message, with the file named."""
    if isinstance(error, DatabaseError):
        return error
    return DatabaseError(
        _("{path}: cannot read the database ({message})").format(path=path, message=exc)
    )
