"""Many rows into a table with a search index, in one statement.

A table of the search index (migration m012) keeps its FTS5 index current with a trigger. Run
row by row (``executemany``), each row is a statement of its own, and FTS5 writes its pending
terms out at every statement's savepoint: tens of thousands of rows make tens of thousands of
small index segments to merge, four or five times the cost of the rows themselves. The rows
are put first into a temporary table, then copied with one ``INSERT … SELECT``: the same
triggers index the same rows with the same text, in one pass.

``insert_values`` puts many rows into a table without such a trigger: on SQLite a few hundred
rows to a statement (``INSERT … VALUES (…), (…), …``). Row by row, each row pays a statement's
start — a cursor on the table and on each of its indexes, one on each table a foreign key
names — and a call from Python: a third of the time of 300,000 bills. Rows that do not fire a
trigger the table has (a reminder's contacts, without a note or a reason) go in this way too:
in a transaction, a statement that a trigger or a foreign key may stop halfway keeps the pages
it changes in a statement journal, so row by row the same pages are journalled again and again
(for 20,000 reminder letters, some 400 MB through a temporary file).

``staged`` puts rows in such a table for any one statement to read (an ``UPDATE … FROM``
sets many rows at once the same way). The staging table's rows are not counted as the command's changes (the audit trail counts
the rows the command wrote, once). PostgreSQL has no FTS5: it gets a plain ``executemany``.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

#: fewer rows than this go in with executemany (a temporary table costs more than it saves)
STAGE_FROM = 64
#: rows to one statement of ``insert_values`` (fewer when SQLite allows fewer parameters)
VALUES_ROWS = 256


def insert_many(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    values: dict[str, str] | None = None,
) -> None:
    """``INSERT INTO table (columns) VALUES …`` for every row, in order. ``values`` gives a
    column an SQL expression of its value instead of the value itself, ``{}`` standing for
    it: ``{"vacant": "coalesce({}, 0)"}``."""
    names = ", ".join(columns)
    shapes = [(values or {}).get(c, "{}") for c in columns]
    if len(rows) < STAGE_FROM or getattr(conn, "dialect", "sqlite") != "sqlite":
        marks = ", ".join(shape.format("?") for shape in shapes)
        conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    picked = ", ".join(shape.format(c) for shape, c in zip(shapes, columns, strict=True))
    with staged(conn, table, columns, rows) as name:
        conn.execute(f"INSERT INTO {table} ({names}) SELECT {picked} FROM {name} ORDER BY rowid")


def insert_values(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple],
    *,
    computed: dict[str, str] | None = None,
) -> None:
    """``INSERT INTO table (columns) VALUES …`` for every row, in order, many rows to a
    statement on SQLite. ``computed`` gives more columns, each an SQL expression of the row's
    values named in braces: ``{"settled_on": "CASE WHEN {amount_fen} = 0 THEN {due_on} END"}``."""
    width = len(columns)
    extra = computed or {}
    head = f"INSERT INTO {table} ({', '.join([*columns, *extra])}) VALUES "

    def row(offset: int) -> str:
        marks = {c: f"?{offset + i}" for i, c in enumerate(columns, start=1)}
        return f"({', '.join([*marks.values(), *(e.format(**marks) for e in extra.values())])})"

    if getattr(conn, "dialect", "sqlite") != "sqlite" or len(rows) < 2:
        conn.executemany(head + row(0), rows)
        return
    per = min(VALUES_ROWS, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    flat = itertools.chain.from_iterable
    whole = len(rows) - len(rows) % per
    for first, last, size in ((0, whole, per), (whole, len(rows), len(rows) - whole)):
        if first < last:  # the full statements, then one for the rows left over
            conn.executemany(
                head + ", ".join(row(k * width) for k in range(size)),
                (tuple(flat(rows[i : i + size])) for i in range(first, last, size)),
            )


@contextlib.contextmanager
def staged(
    conn: sqlite3.Connection, name: str, columns: Sequence[str], rows: Iterable[tuple]
) -> Iterator[str]:
    """``rows`` in a temporary table of ``columns`` for one statement to read (its name is
    given: ``temp._staged_NAME``), dropped after it. Filling it is not counted as a change of
    the command's: the statement reading it makes the change."""
    table = f"temp._staged_{name}"
    quiet = conn.cursor(sqlite3.Cursor)  # not counted: the statement reading it is the change
    quiet.execute(f"DROP TABLE IF EXISTS {table}")  # left by a statement that failed
    quiet.execute(f"CREATE TEMP TABLE _staged_{name} ({', '.join(columns)})")
    marks = ", ".join("?" for _ in columns)
    quiet.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    yield table
    quiet.execute(f"DROP TABLE {table}")
