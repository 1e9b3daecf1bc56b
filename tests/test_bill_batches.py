"""The bill run writes its bills many rows to a statement (``bulk.insert_values``) and queues
the common bill in a loop of its own: the same bills, numbered the same, with the same
discounts and the same report as bills queued and written one by one."""

import dataclasses
import sqlite3
from datetime import date

import pytest

from propfee.config import DEFAULTS, Billing
from propfee.store import bulk, db
from propfee.store.db import transaction

from conftest import add_fee, estate, home, run

HOMES = 600  # two statements of bulk.VALUES_ROWS rows and some left over, per item and month


def mixed_homes() -> list[list]:
    """Homes of every kind the run tells apart: most the common case, some delivered inside
    the month (billed day by day to the developer, then the owner), some let to a tenant who
    pays, some vacant (discounted), some so small that a tiny price comes to ¥0.00."""
    rows = []
    for i in range(HOMES):
        code = f"{1 + i // 200}-{1 + i // 100 % 2}-{101 + i % 100}"
        rows.append(
            home(
                code,
                area="40" if i % 17 == 0 else f"{60 + i % 50}.{i % 100:02d}",
                owner=f"业主{i}",
                delivered="2026-11-16" if i % 11 == 0 else "2020-01-01",
                tenant=f"租户{i}" if i % 13 == 0 else "",
                payer="租户" if i % 13 == 0 else "",
                vacant="空置" if i % 7 == 0 else "",
            )
        )
    return rows


def billed(tmp_path, name: str):
    """An estate of mixed homes billed for October and November: what it holds, what the
    report said and how many statements wrote its bills."""
    folder = tmp_path / name
    folder.mkdir()
    conn = db.connect(folder / "propfee.db")
    estate(conn, folder, mixed_homes())
    add_fee(conn)
    add_fee(conn, "CLEAN", basis="fixed", price="10")
    add_fee(conn, "TINY", price="0.0001")
    settings = dataclasses.replace(DEFAULTS, billing=Billing(vacancy_discount="0.3"))
    statements = []
    conn.set_trace_callback(lambda sql: statements.append(sql.startswith("INSERT INTO bill ")))
    report = run(conn, "2026-10", "2026-11", settings=settings, as_of=date(2026, 11, 1))
    conn.set_trace_callback(None)
    bills = [tuple(r) for r in conn.execute("SELECT * FROM bill ORDER BY id")]
    discounts = [tuple(r) for r in conn.execute("SELECT * FROM adjustment ORDER BY id")]
    changes = conn.execute("SELECT changes FROM audit ORDER BY id DESC LIMIT 1").fetchone()[0]
    conn.close()
    return bills, discounts, changes, report, sum(statements)


def test_bills_written_in_batches_are_the_bills_written_one_by_one(tmp_path, monkeypatch):
    batched = billed(tmp_path, "batched")
    monkeypatch.setattr(bulk, "VALUES_ROWS", 1)
    one_by_one = billed(tmp_path, "one-by-one")
    bills, discounts, changes, report, statements = batched
    assert bills == one_by_one[0]
    assert discounts == one_by_one[1]
    assert changes == one_by_one[2]
    assert dataclasses.asdict(report) == dataclasses.asdict(one_by_one[3])
    assert statements < one_by_one[4] / 50  # many bills to a statement
    assert statements > 0
    # the bills are numbered in order and the report adds them up
    assert [b[0] for b in bills] == report.bill_ids == list(range(1, len(bills) + 1))
    assert (report.created, report.total_fen) == (len(bills), sum(b[9] for b in bills))
    counts = {}
    for b in bills:
        counts.setdefault(b[2], [0, 0])
        counts[b[2]][0] += 1
        counts[b[2]][1] += b[9]
    assert list(report.by_item.values()) == list(counts.values())
    # every kind of bill is there: day by day (seq 1), ¥0.00 settled on its due day, and
    # discounted
    assert any(b[5] == 1 for b in bills)
    zero = [b for b in bills if b[9] == 0]
    assert zero and all(b[14] == b[8] for b in zero)
    assert all(b[14] is None for b in bills if b[9])
    assert report.discounts == len(discounts) > 0


@pytest.mark.parametrize("variables", [None, 40])
def test_insert_values_keeps_the_rows_their_order_and_computed_columns(variables):
    """Rows in full statements and some left over; also where SQLite allows fewer
    parameters than a full statement needs."""
    conn = sqlite3.connect(":memory:")
    if variables is not None:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, fen INTEGER, day TEXT, settled TEXT)")
    rows = [(i, i % 3, f"2026-11-{1 + i % 28:02d}") for i in range(1, 2 * bulk.VALUES_ROWS + 7)]
    statements = []
    conn.set_trace_callback(statements.append)
    with conn:
        bulk.insert_values(
            conn,
            "t",
            ("id", "fen", "day"),
            rows,
            computed={"settled": "CASE WHEN {fen} = 0 THEN {day} END"},
        )
    got = conn.execute("SELECT id, fen, day, settled FROM t ORDER BY rowid").fetchall()
    assert got == [(i, fen, day, day if fen == 0 else None) for i, fen, day in rows]
    per = bulk.VALUES_ROWS if variables is None else variables // 3
    inserts = [s for s in statements if s.startswith("INSERT")]
    assert len(inserts) == -(-len(rows) // per)  # full statements, then one for the rest


def test_insert_values_counts_its_rows_as_the_command_s_changes(conn):
    """The audit trail counts the rows a command wrote (not what the search index's triggers
    did): a batch of rows counts as that many."""
    stamp = "2026-11-15 00:00:00"
    rows = [(f"X-{i}", "residential", stamp, stamp) for i in range(bulk.VALUES_ROWS + 3)]
    with transaction(conn):
        before = conn.direct_changes
        bulk.insert_values(conn, "unit", ("code", "kind", "created_at", "updated_at"), rows)
        assert conn.direct_changes - before == len(rows)
    assert conn.execute("SELECT count(*) FROM unit").fetchone()[0] == len(rows)
