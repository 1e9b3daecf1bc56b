"""An estate in a schema of a PostgreSQL server, behind the same connection surface as SQLite.

``--db postgresql://user@host/dbname`` (or ``$PROPFEE_DB``) with ``--estate NAME`` (or
``$PROPFEE_ESTATE``, or ``?estate=NAME`` in the address) opens the estate's schema through
psycopg 3. :class:`Connection` answers what propfee's store modules ask of an
``sqlite3.Connection`` — ``execute``/``executemany`` returning a cursor with ``fetchone``,
``fetchall``, iteration, ``lastrowid`` and ``rowcount``; rows read by position and by name;
``row_factory = None`` for plain tuples; ``BEGIN IMMEDIATE``/``COMMIT``/``rollback`` — and
runs each statement as :mod:`propfee.store.pgsql` translates it. ``BEGIN IMMEDIATE`` takes
the estate's advisory lock, so one bill run or reconcile at a time per estate, as on SQLite;
a plain ``BEGIN`` (a reader's) is REPEATABLE READ, so all it reads is one snapshot, as on
SQLite. ``execute`` holds a statement's rows; a read that grows with the estate's history
(every bill, every table of an export) goes through :func:`stream`, a batch at a time.
Errors come out as the ``sqlite3`` exception that means the same (a UNIQUE or append-only
refusal is an ``IntegrityError``), so every caller's handling holds on both engines.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from propfee.core.errors import DatabaseBusy, DatabaseError
from propfee.core.i18n import _
from propfee.store import pgsql

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_ESTATE = "public"
#: a batch of at least this many rows of a plain INSERT goes in by COPY
COPY_FROM = 20
#: the rows a streamed read (``stream``) fetches from the server at a time
FETCH_ROWS = 5_000
_ESTATE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_server(target: object) -> bool:
    """Whether a --db value names a PostgreSQL server rather than an SQLite file."""
    return str(target).startswith(SCHEMES)


def stream(conn: Any, sql: str, parameters: Sequence[Any] = (), /) -> Iterator[Any]:
    """The rows of a read that grows with the estate's history, never all held: on a server
    ``Connection.stream`` (a batch at a time), on SQLite its cursor (a row at a time)."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return conn.stream(sql, parameters)
    return conn.execute(sql, parameters)


def estate_path(estate: str) -> Path:
    """What stands for a server's estate where a command names its database file: never a
    file, so nothing that copies, replaces or removes the file can touch another."""
    return Path(f"postgresql:{estate}")


def refuse_file_work(path: Path | str, work: str) -> None:
    """Refuse work that only an SQLite file allows (a backup, a restore) for an estate on a
    server, saying what to use there instead."""
    if str(path).startswith("postgresql:"):
        raise DatabaseError(
            _(
                "{work} of an estate on a PostgreSQL server is not built yet: use the "
                "server's own tools (pg_dump --schema {estate}, pg_restore)"
            ).format(work=work, estate=str(path).removeprefix("postgresql:"))
        )


def split_target(url: str, estate: str | None = None) -> tuple[str, str]:
    """The server address (without propfee's own ``estate`` parameter) and the estate's
    schema: ``estate``, else ``?estate=`` in the address, else $PROPFEE_ESTATE, else public."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    named = [v for k, v in query if k == "estate"]
    rest = [(k, v) for k, v in query if k != "estate"]
    name = (estate or (named[-1] if named else "") or os.environ.get("PROPFEE_ESTATE", "")).strip()
    name = name or DEFAULT_ESTATE
    if not _ESTATE.fullmatch(name):
        raise DatabaseError(
            _(
                "estate {name!r}: an estate's name is its schema: lowercase letters, digits "
                "and _, starting with a letter (at most 63)"
            ).format(name=name)
        )
    return urlunsplit(parts._replace(query=urlencode(rest))), name


def shareable(url: str, estate: str) -> str:
    """The address to give to $PROPFEE_DB for this estate, without the password (psycopg
    reads it from $PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "estate"]
    query.append(("estate", estate))
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/")))


def display(url: str, estate: str) -> str:
    """The server and estate as an error names them (never the password)."""
    parts = urlsplit(url)
    host = parts.hostname or dict(parse_qsl(parts.query)).get("host", "localhost")
    return f"postgresql://{host}{parts.path} estate {estate}"


class Row:
    """A row read by position or by name (names without case, as sqlite3.Row reads them)."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]):
        self._values = tuple(values)
        self._index = index

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(key) from None
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def keys(self) -> list[str]:
        return list(self._index)

    def __repr__(self) -> str:
        return f"Row{self._values!r}"


def _psycopg():
    """psycopg 3, loaded when a server is opened (``pip install 'propfee[pg]'``): an SQLite
    estate never pays for importing it."""
    try:
        import psycopg  # heavy: loaded when needed
    except ImportError:
        raise DatabaseError(
            _("PostgreSQL needs psycopg 3: pip install 'propfee[pg]' (or psycopg[binary])")
        ) from None
    return psycopg


def _adapt(raw) -> None:
    """True and False as 1 and 0 (propfee's flags are integer columns, as on SQLite); a
    ``sum`` of integers an integer as on SQLite (PostgreSQL's numeric), a fraction a float
    as SQLite's REAL; JSON built in a query its text, as SQLite's json functions return it."""
    psycopg = _psycopg()

    class BoolAsInteger(psycopg.adapt.Dumper):
        oid = psycopg.postgres.types["int8"].oid

        def dump(self, obj: bool) -> bytes:
            return b"1" if obj else b"0"

        def quote(self, obj: bool) -> bytes:
            return self.dump(obj)

    class Number(psycopg.adapt.Loader):
        def load(self, data) -> int | float:
            text = bytes(data).decode()
            return float(text) if "." in text or "e" in text.lower() else int(text)

    class Text(psycopg.adapt.Loader):
        def load(self, data) -> str:
            return bytes(data).decode()

    raw.adapters.register_dumper(bool, BoolAsInteger)
    raw.adapters.register_loader("numeric", Number)
    for name in ("json", "jsonb"):
        raw.adapters.register_loader(name, Text)


def error(exc) -> sqlite3.Error:
    """A psycopg error as the sqlite3 error that means the same."""
    psycopg = _psycopg()
    message = (exc.diag.message_primary if exc.diag else None) or str(exc)
    if isinstance(exc, (psycopg.errors.IntegrityError, psycopg.errors.RaiseException)):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
        return sqlite3.OperationalError(f"locked: {message}")  # what translate() reads
    if isinstance(exc, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)


class Cursor:
    """What a store module reads back from ``execute``: rows, ``lastrowid``, ``rowcount``."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.row_factory: Any = connection.row_factory
        self._rows: list[Any] = []
        self._at = 0
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.description: Any = None
        self._index: dict[str, int] = {}  # column names of ``_index_of``'s rows (see _shape)
        self._index_of: Any = None

    def _run(self, statement: pgsql.Statement, params: Sequence[Any] | None) -> None:
        raw = self.connection.raw
        if statement.kind == "noop":
            self._rows, self.rowcount, self.description = [], -1, None
            return
        if statement.kind == "begin":  # a reader's: one snapshot for all it reads, as on SQLite
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            return
        if statement.kind == "begin-immediate":  # one writer at a time per estate
            raw.execute("BEGIN")
            try:
                raw.execute(
                    "SELECT pg_advisory_xact_lock(hashtext('propfee ' || current_schema()))"
                )
            except self.connection.failure as exc:
                raw.execute("ROLLBACK")
                raise error(exc) from None
            return
        args = [params[i - 1] for i in statement.order] if statement.order else None
        with raw.cursor() as cur:
            try:
                cur.execute(statement.text, args)
            except self.connection.failure as exc:
                raise error(exc) from None
            self.connection.traced(statement.text, [args])
            self.description = cur.description
            self.rowcount = cur.rowcount
            rows = cur.fetchall() if cur.description is not None else []
        if statement.returns_id:
            self.lastrowid = rows[-1][0] if rows else None
            self.description, rows = None, []
        self._rows, self._at = rows, 0
        if statement.writes and self.rowcount > 0:
            self.connection.direct_changes += self.rowcount

    def execute(self, sql: str, parameters: Sequence[Any] | dict = (), /) -> Cursor:
        statement = pgsql.translate(sql)
        self._run(statement, parameters)
        if statement.sets_id:
            self.connection.raw.execute(pgsql.follow_ids(statement.sets_id))
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Cursor:
        statement = pgsql.translate(sql)
        if statement.returns_id:  # no id is read back from a batch
            statement = pgsql.Statement(
                statement.text.removesuffix(" RETURNING id"),
                statement.order,
                writes=statement.writes,
                sets_id=statement.sets_id,
            )
        batch = [[p[i - 1] for i in statement.order] for p in seq_of_parameters]
        self.connection.traced(statement.text, batch)
        copy = pgsql.plain_insert(statement.text) if len(batch) >= COPY_FROM else None
        if copy is not None:  # many plain rows: COPY, the server's fastest way in
            self.connection.copy_rows(*copy, batch)
            self.rowcount = len(batch)
        elif batch:  # one round of the server for the batch (psycopg's pipeline)
            text = statement.text
            prepared = self.connection.prepare(text) if len(batch) >= COPY_FROM else None
            if prepared is not None:  # parsed and planned once, not once a row
                text = f"EXECUTE {prepared}({', '.join(['%s'] * len(statement.order))})"
            with self.connection.raw.cursor() as cur:
                try:
                    cur.executemany(text, batch)
                except self.connection.failure as exc:
                    raise error(exc) from None
                self.rowcount = max(cur.rowcount, 0)
            if prepared is not None:
                self.connection.raw.execute(f"DEALLOCATE {prepared}")
        else:
            self.rowcount = 0
        self._rows = []
        if statement.writes:
            self.connection.direct_changes += self.rowcount
        if statement.sets_id:
            self.connection.raw.execute(pgsql.follow_ids(statement.sets_id))
        return self

    def _shape(self, values: Sequence[Any]) -> Any:
        if self.row_factory is None or self.description is None:
            return tuple(values)
        if self._index_of is not self.description:  # the names' index: once a statement
            self._index_of = self.description
            self._index = {column.name.lower(): i for i, column in enumerate(self.description)}
        return Row(values, self._index)

    def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._shape(self._rows[self._at - 1])

    def fetchall(self) -> list[Any]:
        rest = [self._shape(r) for r in self._rows[self._at :]]
        self._at = len(self._rows)
        return rest

    def fetchmany(self, size: int = 1000) -> list[Any]:
        part = [self._shape(r) for r in self._rows[self._at : self._at + size]]
        self._at += len(part)
        return part

    def __iter__(self) -> Iterator[Any]:
        while True:
            row = self.fetchone()
            if row is None:
                return
            yield row

    def close(self) -> None:
        self._rows = []


class Connection:
    """An estate's schema on a PostgreSQL server, used as propfee uses an SQLite file."""

    dialect = "postgres"

    def __init__(self, raw, url: str, estate: str):
        self.raw = raw
        self.failure = _psycopg().Error
        self.url = url
        self.estate = estate
        self.row_factory: Any = Row
        self.direct_changes = 0
        self.prepared = 0  # statements prepared for batches: each its own name
        self.streams = 0  # the server's cursors of streamed reads: each its own name
        self.trace: Any = None

    def set_trace_callback(self, callback: Any) -> None:
        """As sqlite3's: ``callback`` is told every statement run, in the server's SQL with
        its values in place (a batch's statement once for each of its rows, as SQLite's
        executemany is traced); None stops it."""
        self.trace = callback

    def traced(self, text: str, batch: Sequence[Sequence[Any] | None]) -> None:
        if self.trace is None:
            return
        with self.raw.cursor() as cursor:
            for args in batch:
                self.trace(cursor.mogrify(text, args) if args else text)

    @property
    def name(self) -> str:
        return display(self.url, self.estate)

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != _psycopg().pq.TransactionStatus.IDLE

    @property
    def total_changes(self) -> int:
        return self.direct_changes

    def cursor(self) -> Cursor:
        return Cursor(self)

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Cursor:
        return self.cursor().executemany(sql, seq_of_parameters)

    def stream(self, sql: str, parameters: Sequence[Any] = (), /) -> Iterator[Any]:
        """The rows of a read too long to hold (every bill, every allocation), ``FETCH_ROWS``
        at a time through a cursor of the server's, shaped as ``execute``'s are: the client
        never holds more than one batch. Inside a transaction the rows are its snapshot's;
        outside one the server keeps them (``WITH HOLD``) until they are read. Other
        statements may run between the rows. Nothing is asked of the server before the
        first row is."""
        statement = pgsql.translate(sql)
        if statement.kind != "sql" or statement.writes:  # not a plain read: as execute runs it
            yield from self.execute(sql, parameters)
            return
        args = [parameters[i - 1] for i in statement.order] if statement.order else None
        self.streams += 1
        try:
            with self.raw.cursor() as literal:  # the values in place, as ``execute`` binds them
                text = literal.mogrify(statement.text, args) if args else statement.text
            with self.raw.cursor(
                name=f"propfee_stream_{self.streams}", withhold=not self.in_transaction
            ) as cur:
                cur.execute(text)
                self.traced(statement.text, [args])
                shape = self._shaper(cur.description)
                while rows := cur.fetchmany(FETCH_ROWS):
                    for values in rows:
                        yield shape(values)
        except self.failure as exc:
            raise error(exc) from None

    def _shaper(self, description: Any) -> Callable[[Sequence[Any]], Any]:
        """How a row of ``description``'s columns comes out: as ``Cursor._shape`` makes it."""
        if self.row_factory is None or description is None:
            return tuple
        index = {column.name.lower(): i for i, column in enumerate(description)}
        return lambda values: Row(values, index)

    def run_script(self, script: str) -> None:
        """A schema step's DDL, translated, inside the current transaction."""
        try:
            self.raw.execute(pgsql.ddl(script).encode())
        except self.failure as exc:
            raise error(exc) from None

    def prepare(self, text: str) -> str | None:
        """The statement ``text`` (psycopg's ``%s`` placeholders) prepared on the server for a
        batch, by its name; None when the server cannot tell a parameter's type from the
        statement alone (the batch then runs as it is, nothing lost: a savepoint guards the
        attempt inside a transaction)."""
        self.prepared += 1
        name = f"propfee_batch_{self.prepared}"
        numbers = itertools.count(1)
        body = re.sub(r"%%|%s", lambda m: "%" if m[0] == "%%" else f"${next(numbers)}", text)
        guarded = self.in_transaction
        if guarded:
            self.raw.execute("SAVEPOINT propfee_prepare")
        try:
            self.raw.execute(f"PREPARE {name} AS {body}")
        except self.failure:
            if guarded:
                self.raw.execute("ROLLBACK TO SAVEPOINT propfee_prepare")
            return None
        if guarded:
            self.raw.execute("RELEASE SAVEPOINT propfee_prepare")
        return name

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Many rows into a table at once (COPY), inside the current transaction."""
        names = ", ".join(f'"{c}"' for c in columns)
        try:
            with self.raw.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        except self.failure as exc:
            raise error(exc) from None

    def drop_schema(self) -> None:
        """Drop the estate's schema and everything in it."""
        self.rollback()
        self.raw.execute(f'DROP SCHEMA "{self.estate}" CASCADE')

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_server(
    url: str, estate: str | None = None, timeout: float = 60.0, *, create: bool = True
) -> Connection:
    """Connect to the server and to the estate's schema (made if it is new; with
    ``create=False`` an estate that is not there is an error, as a missing file is)."""
    address, schema = split_target(url, estate)
    psycopg = _psycopg()
    try:
        raw = psycopg.connect(
            address, autocommit=True, cursor_factory=psycopg.ClientCursor, connect_timeout=10
        )
    except psycopg.Error as exc:
        raise DatabaseError(
            _("{server}: cannot connect to the server ({error})").format(
                server=display(address, schema), error=str(exc).strip()
            )
        ) from None
    _adapt(raw)
    if (
        not create
        and raw.execute("SELECT to_regclass(%s)", (f'"{schema}".meta',)).fetchone()[0] is None
    ):
        raw.close()
        raise DatabaseError(
            _(
                "{server}: no such database: the estate is not on the server (check --estate or "
                "$PROPFEE_ESTATE; a "
                "new one is made by propfee import-units or propfee migrate-to)"
            ).format(server=display(address, schema))
        )
    try:
        raw.execute(f"SET lock_timeout = '{int(timeout * 1000)}ms'")
        raw.execute("SET client_min_messages = warning")
        if not create:  # an estate that is there: nothing is made, so a read-only login will do
            raw.execute(f'SET search_path TO "{schema}"')
        else:
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(hashtext('propfee schema'))")
                raw.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                raw.execute(f'SET search_path TO "{schema}"')
                raw.execute(
                    "CREATE TABLE IF NOT EXISTS _migrations (version BIGINT PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
    except psycopg.errors.InsufficientPrivilege as exc:
        raw.close()
        raise DatabaseError(
            _("{server}: may not create or use the estate's schema ({error})").format(
                server=display(address, schema), error=exc
            )
        ) from None
    except psycopg.errors.LockNotAvailable:
        raw.close()
        raise DatabaseBusy(
            _(
                "{server}: another propfee command is still setting the estate up; try again "
                "when it has finished"
            ).format(server=display(address, schema))
        ) from None
    return Connection(raw, address, schema)


def estate_exists(url: str, estate: str | None = None) -> bool:
    """Whether the estate's schema on the server holds propfee's tables (an unreachable
    server is said so when the command connects)."""
    address, schema = split_target(url, estate)
    psycopg = _psycopg()
    try:
        with psycopg.connect(address, autocommit=True, connect_timeout=10) as raw:
            found = raw.execute("SELECT to_regclass(%s)", (f'"{schema}".meta',)).fetchone()
    except psycopg.Error:
        return True
    return found[0] is not None


def estates(url: str) -> list[str]:
    """The estates on a server: every schema holding propfee's tables."""
    address, _ = split_target(url, DEFAULT_ESTATE)
    with _psycopg().connect(address, autocommit=True) as raw:
        rows = raw.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "WHERE c.relname = 'audit' AND c.relkind = 'r' ORDER BY n.nspname"
        ).fetchall()
    return [row[0] for row in rows]
