"""Many rows into a table with a search index, in one statement.

A table of the search index (migration m012) keeps its FTS5 index current with a trigger. Run
row by row (``executemany``), each row is a statement of its own, and FTS5 writes its pending
terms out at every statement's savepoint: tens of thousands of rows make tens of thousands of
small index segments to merge, four or five times the cost of the rows themselves. The rows
are put first into a temporary table, then copied with one ``INSERT … SELECT``: the same
triggers index the same rows with the same text, in one pass.

``insert_values`` puts many rows of a table without a search index trigger to fire, or rows
that do not fire it, in with a few statements of many rows each: in a transaction, every
statement that may fail halfway (a trigger, a foreign key) keeps the pages it changes in a
statement journal, page by page, so row-by-row statements journal the same pages again and
again (20,000 reminder letters: some 400 MB through a temporary file).

``staged`` puts rows in such a table for any one statement to read (an ``UPDATE … FROM``
sets many rows at once the same way). The staging table's rows are not counted as the command's changes (the audit trail counts
the rows the command wrote, once). PostgreSQL has no FTS5: it gets a plain ``executemany``.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence

#: fewer rows than this go in with executemany (a temporary table costs more than it saves)
STAGE_FROM = 64


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
    conn: sqlite3.Connection, head: str, marks: str, rows: Sequence[tuple], *, per: int = 100
) -> None:
    """``head VALUES marks, marks, …``: ``rows`` in order, up to ``per`` to a statement.
    ``marks`` is one row's parenthesised values, with a ``?`` for each value of a row
    (``"(?, ?, 'remind')"``) or numbered ones, ``?1`` to ``?n``, each row's own
    (``"(?1, ?2, CASE WHEN ?2 = 0 THEN ?1 END)"``)."""
    if getattr(conn, "dialect", "sqlite") != "sqlite" or len(rows) < 2:
        conn.executemany(f"{head} VALUES {marks}", rows)
        return
    numbers = [int(n) for n in _NUMBERED.findall(marks)]
    width = max(numbers) if numbers else marks.count("?")
    room = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(width, 1)
    size = max(1, min(per, room))

    def statement(count: int) -> str:
        if not numbers:
            return f"{head} VALUES {', '.join([marks] * count)}"
        return f"{head} VALUES " + ", ".join(
            _NUMBERED.sub(lambda m, at=row * width: f"?{int(m[1]) + at}", marks)
            for row in range(count)
        )

    whole = statement(size)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        sql = whole if len(chunk) == size else statement(len(chunk))
        conn.execute(sql, [value for row in chunk for value in row])


_NUMBERED = re.compile(r"\?([0-9]+)")


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
