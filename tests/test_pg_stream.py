"""On PostgreSQL the long reads (every bill, every payment, every row of a table, for the
exports and for the check) are streamed through a cursor of the server's, a batch at a time,
never fetched whole: the readable export made so is the one made from the same estate on
SQLite, cell for cell and byte for byte."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_readable_stream import AT, _cells, _csvs

from propfee.insight import export_store, readable, store
from propfee.payments import check_store
from propfee.store import db, pg

from conftest import build_demo

psycopg = pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def demos(tmp_path_factory, request) -> dict[str, str]:
    """The demo estate (as of one day) on each engine: the SQLite file and the server's
    estate."""
    folder = tmp_path_factory.mktemp("pgstream")
    lite = build_demo("lite", folder / "lite", request, "--as-of", "2026-11-15")
    on_pg = build_demo("pg", folder / "pg", request, "--as-of", "2026-11-15")
    return {"lite": lite.database, "pg": on_pg.database}


@pytest.fixture
def pg_conn(demos):
    conn = db.connect(demos["pg"], create=False)
    yield conn
    conn.close()


@pytest.fixture
def lite_conn(demos):
    conn = db.connect(demos["lite"], create=False)
    yield conn
    conn.close()


def _export(database: str, folder: Path) -> readable.ReadableExport:
    conn = db.connect(database, create=False)
    try:
        return readable.export_readable(conn, folder, mask=True, at=AT, estate="翠湖花园")
    finally:
        conn.close()


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "held"])
def test_the_export_on_a_server_is_the_export_of_the_file(demos, tmp_path, monkeypatch, streamed):
    if streamed:
        monkeypatch.setattr(readable, "STREAM_ROWS", 0)  # every table is "big": row by row
    lite = _export(demos["lite"], tmp_path / "lite")
    on_pg = _export(demos["pg"], tmp_path / "pg")
    assert on_pg.rows == lite.rows and lite.rows[readable.zh("Bills")] > 20
    assert _csvs(on_pg) == _csvs(lite)
    expected, got = _cells(lite.workbook), _cells(on_pg.workbook)
    assert list(got) == list(expected)
    for name in expected:
        assert got[name] == expected[name], name


class _Spy:
    """What the server's cursors fetched: the size of every batch, and any fetch of all."""

    def __init__(self, monkeypatch):
        self.batches: list[int] = []
        self.whole = 0
        fetchmany = psycopg.ServerCursor.fetchmany

        def spied_many(cursor, size=0):
            rows = fetchmany(cursor, size)
            self.batches.append(len(rows))
            return rows

        def refused(cursor, *args):
            self.whole += 1
            raise AssertionError("a streamed read fetched every row at once")

        monkeypatch.setattr(psycopg.ServerCursor, "fetchmany", spied_many)
        monkeypatch.setattr(psycopg.ServerCursor, "fetchall", refused)
        monkeypatch.setattr(psycopg.ServerCursor, "__iter__", refused)


READS = {
    "bills": export_store.bills,
    "payments": export_store.payments,
    "units": export_store.units,
    "bill totals": check_store.bill_totals,
    "payment totals": check_store.payment_totals,
    "allocations": lambda conn: store.table_rows(
        conn, "allocation", ["id", "bill_id", "amount_fen"]
    ),
}


@pytest.mark.parametrize("read", list(READS))
def test_a_long_read_comes_in_batches(pg_conn, lite_conn, monkeypatch, read):
    expected = [tuple(row) for row in READS[read](lite_conn)]  # the same estate on SQLite
    monkeypatch.setattr(pg, "FETCH_ROWS", 7)
    spy = _Spy(monkeypatch)
    pg_conn.execute("BEGIN")
    try:
        got = []
        for row in READS[read](pg_conn):
            got.append(tuple(row))
            # other statements run on the connection between the rows
            assert pg_conn.execute("SELECT count(*) FROM fee_item").fetchone()[0] > 0
    finally:
        pg_conn.rollback()
    assert len(expected) > 3 * 7 and sorted(got, key=repr) == sorted(expected, key=repr)
    assert spy.whole == 0 and spy.batches and max(spy.batches) == 7
    assert sum(spy.batches) == len(expected) and len(spy.batches) >= len(expected) // 7


def test_streamed_rows_are_read_by_name_or_as_tuples(pg_conn):
    sql = "SELECT id, code FROM unit WHERE code LIKE ? ORDER BY id"
    rows = list(pg.stream(pg_conn, sql, ("%0%",)))
    assert rows and rows == pg_conn.execute(sql, ("%0%",)).fetchall()
    assert rows[0]["CODE"] == rows[0][1] and "0" in rows[0]["code"]
    pg_conn.row_factory = None
    assert list(pg.stream(pg_conn, sql, ("%0%",))) == [tuple(r) for r in rows]


def test_outside_a_transaction_a_stream_leaves_no_cursor_open(pg_conn, monkeypatch):
    monkeypatch.setattr(pg, "FETCH_ROWS", 5)
    assert not pg_conn.in_transaction
    rows = pg.stream(pg_conn, "SELECT id FROM bill ORDER BY id")
    first = next(rows)
    assert not pg_conn.in_transaction  # the server holds the rows, not a transaction
    rest = list(rows)
    assert [first[0], *(r[0] for r in rest)] == [r[0] for r in pg_conn.execute(
        "SELECT id FROM bill ORDER BY id")]  # fmt: skip
    abandoned = pg.stream(pg_conn, "SELECT id FROM bill ORDER BY id")
    next(abandoned)
    abandoned.close()
    assert pg_conn.raw.execute("SELECT count(*) FROM pg_cursors").fetchone()[0] == 0


def test_a_failing_stream_says_so_as_sqlite_does(pg_conn):
    with pytest.raises(sqlite3.DatabaseError, match="nope"):
        list(pg.stream(pg_conn, "SELECT nope FROM bill"))
    pg_conn.execute("BEGIN")
    rows = pg.stream(pg_conn, "SELECT id FROM bill ORDER BY id")
    next(rows)
    pg_conn.rollback()  # its transaction ended under it: the server's cursor is gone
    with pytest.raises(sqlite3.Error):
        list(rows)


def test_a_read_transaction_is_one_snapshot(pg_conn, demos):
    """What the export reads twice (its CSV, then its sheet) is the same even while another
    command writes in between, as on SQLite."""
    pg_conn.execute("BEGIN")
    try:
        before = [tuple(r) for r in pg.stream(pg_conn, "SELECT key, value FROM meta ORDER BY key")]
        other = db.connect(demos["pg"], create=False)
        try:
            with db.transaction(other):
                db.set_meta(other, "pg_stream_test", "written meanwhile")
        finally:
            other.close()
        again = [tuple(r) for r in pg.stream(pg_conn, "SELECT key, value FROM meta ORDER BY key")]
        assert again == before and ("pg_stream_test", "written meanwhile") not in again
    finally:
        pg_conn.rollback()
    assert db.get_meta(pg_conn, "pg_stream_test") == "written meanwhile"
