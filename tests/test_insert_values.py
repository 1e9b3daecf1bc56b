"""Many rows a statement (store.bulk.insert_values): the same rows, in the same order, as one
statement a row, whatever the number of rows and SQLite's limit of variables."""

import sqlite3

import pytest

from propfee.store import bulk
from propfee.store.connection import Connection

HEAD = "INSERT INTO t (a, b, c, kind)"
MARKS = "(?, ?, ?, 'x')"


def table(factory=sqlite3.Connection) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, factory=factory)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c, kind)")
    return conn


def made(rows, *, limit=None, factory=sqlite3.Connection) -> list[tuple]:
    conn = table(factory)
    if limit is not None:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)
    bulk.insert_values(conn, HEAD, MARKS, rows)
    return conn.execute("SELECT * FROM t ORDER BY id").fetchall()


@pytest.mark.parametrize("count", [0, 1, 2, 99, 100, 101, 250])
@pytest.mark.parametrize("limit", [None, 3, 7, 300])
def test_the_same_rows_in_the_same_order(count, limit):
    rows = [(n, f"行{n}", None if n % 3 else n * 2) for n in range(count)]
    expected = [(n + 1, *row, "x") for n, row in enumerate(rows)]
    assert made(rows, limit=limit) == expected


def test_a_statement_holds_many_rows_and_counts_them():
    conn = table(Connection)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    bulk.insert_values(conn, HEAD, MARKS, [(n, n, n) for n in range(250)])
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert len(inserts) == 3  # 100, 100, 50
    assert conn.direct_changes == 250


def test_a_bad_row_fails_its_statement_and_nothing_of_it_is_kept():
    conn = table()
    conn.execute("CREATE UNIQUE INDEX t_a ON t (a)")
    rows = [(n, n, n) for n in range(150)] + [(5, 0, 0)]
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError):
        bulk.insert_values(conn, HEAD, MARKS, rows)
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0


@pytest.mark.parametrize("count", [1, 2, 3, 7, 8])
def test_numbered_values_are_each_rows_own(count):
    """``?1``…``?n`` name a row's own values, however many rows a statement holds."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c)")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 6)  # two rows a statement
    rows = [(n, n % 2, f"第{n}") for n in range(count)]
    bulk.insert_values(
        conn, "INSERT INTO t (a, b, c)", "(?1, CASE WHEN ?2 = 0 THEN ?3 END, ?3)", rows
    )
    assert conn.execute("SELECT a, b, c FROM t ORDER BY id").fetchall() == [
        (n, f"第{n}" if n % 2 == 0 else None, f"第{n}") for n in range(count)
    ]
