"""The queries that read the whole estate use the indexes they were written for: each
statement a command runs is explained (EXPLAIN QUERY PLAN; on a PostgreSQL estate EXPLAIN)
against the database as propfee makes it, and a plan that falls back to reading every bill
fails here."""

from __future__ import annotations

import sqlite3

import pytest
from test_scaling import billed_estate, traced  # noqa: F401  (traced is a fixture)

from propfee.store import pg

# (a text only that statement holds, the indexes its plan must use: each entry is one index,
# or a tuple of indexes any of which will do[, what its plan must not hold])
NOTICES = [
    ("SELECT b.id, b.party_id, u.code", ["bill_period", "adjustment_bill", "allocation_bill"]),
    (
        "SELECT b.party_id, b.id, u.code",
        [("bill_settled", "bill_open"), "adjustment_bill", "allocation_bill"],
    ),
]
OVERDUE = [
    (
        "FROM bill b WHERE b.settled_on IS NULL",
        [("bill_settled", "bill_open"), "adjustment_bill", "allocation_bill"],
    ),
    ("FROM bill b WHERE b.settled_on >", ["bill_settled", "adjustment_bill", "allocation_bill"]),
    ("count(DISTINCT CASE WHEN settled_on <= due_on", ["COVERING INDEX bill_party"]),
    ("FROM contact_delivery d", ["contact_unit", "contact_delivery_contact"]),
]
COLLECTION = [
    # the current bills: picked from the period index alone, then read in id order
    (
        "WHERE b.id IN (SELECT c.id FROM bill c WHERE c.period BETWEEN",
        ["COVERING INDEX bill_period", "INTEGER PRIMARY KEY", "adjustment_bill", "allocation_bill"],
    ),
    # the arrears carried in: the bills open on the first day read once, their adjustments
    # and allocations summed per bill in one pass each, then added up
    (
        "SELECT b.id AS bid, b.unit_id",
        [("bill_settled", "bill_period"), "adjustment_bill", "allocation_bill"],
    ),
    # the aging, summed in SQL over the open bills
    (
        "AS bucket, count(DISTINCT unit_id), sum(owed)",
        [("bill_settled", "bill_open"), "adjustment_bill", "allocation_bill"],
    ),
    # the trend: each period's sums read from the period index alone, in its order
    (
        "FROM bill b WHERE period = ",
        ["COVERING INDEX bill_period"],
        ["TEMP B-TREE"],
    ),
    # and what was allocated to its bills not settled, each bill found by its range of the
    # period index and looked up once
    (
        "o CROSS JOIN allocation l WHERE l.bill_id = o.id",
        ["COVERING INDEX bill_period", "allocation_bill"],
        ["TEMP B-TREE"],
    ),
    # the trend's adjustments: read from the adjustments (few), each one's bill by its id
    ("FROM adjustment a CROSS JOIN bill b", ["INTEGER PRIMARY KEY"]),
]
TODAY = [
    # the overdue rows' totals, summed in SQL over the open bills
    (
        "sum(owed), min(due_on) FROM",
        [("bill_settled", "bill_open"), "adjustment_bill", "allocation_bill"],
    ),
    # (the payers' history, read only for rows whose tier depends on it, is the overdue
    # list's: its plan is checked there)
    ("FROM contact_delivery d", ["contact_unit", "contact_delivery_contact"]),
]


#: what the plans above name, as a server's plan names it: its primary key index, an index
#: read alone (PostgreSQL reads the table too until it is vacuumed), a sort; where the two
#: planners choose differently between indexes that both serve, either will do
ON_A_SERVER = {
    "COVERING INDEX bill_period": "bill_period",
    "COVERING INDEX bill_party": "bill_party",
    "INTEGER PRIMARY KEY": ("bill_pkey", "bill_period"),
    "contact_unit": ("contact_unit", "contact_party"),
    "TEMP B-TREE": "Sort ",
}


@pytest.fixture
def estate(cli, tmp_path, database):
    return billed_estate(cli, tmp_path / "estate", 6, database)


def plan_of(database, statement: str) -> str:
    """How the database would run a statement: SQLite's EXPLAIN QUERY PLAN, or on a server
    EXPLAIN with sequential scans priced out (a six-home estate's tables are small enough to
    read whole: what is asked is whether an index serves the statement)."""
    if pg.is_server(database):
        import psycopg

        url, schema = pg.split_target(str(database))
        with psycopg.connect(url, autocommit=True) as raw:
            raw.execute(f'SET search_path TO "{schema}"')
            raw.execute("SET enable_seqscan = off")
            return " | ".join(row[0] for row in raw.execute("EXPLAIN " + statement))
    with sqlite3.connect(database) as conn:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement))


def uses(plan: str, name: str, server: bool) -> bool:
    """Whether a plan reads through the index (or the rowid, or the covering index) named."""
    if server:
        return f"using {name} " in plan or f" on {name} " in plan
    if name.startswith(("COVERING", "INTEGER")):
        return f"{name} " in plan
    return f"INDEX {name} " in plan


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["notices", "--period", "2026-11", "--as-of", "2026-12-20", "--out", "n"], NOTICES),
        (["overdue", "--as-of", "2026-12-20", "--format", "json"], OVERDUE),
        (
            [
                "report",
                "collection",
                "--period",
                "2026-11",
                "--as-of",
                "2026-12-20",
                "--by",
                "building",
                "--format",
                "json",
            ],
            COLLECTION,
        ),
        (["today", "--as-of", "2026-12-20", "--format", "json"], TODAY),
    ],
    ids=["notices", "overdue", "report-collection", "today"],
)
def test_the_estate_wide_queries_use_their_indexes(cli, traced, estate, command, expected):  # noqa: F811
    traced.clear()
    result = cli(*command, db=estate)
    assert result.exit_code == 0, result.output
    server = pg.is_server(estate)
    named = (lambda name: ON_A_SERVER.get(name, name)) if server else (lambda name: name)
    # never a read of every bill, nor of every allocation
    whole = ("Seq Scan on bill ", "Seq Scan on allocation ") if server else (
        "SCAN b ", "SCAN bill ", "SCAN l ", "SCAN allocation "
    )  # fmt: skip
    for marker, indexes, *forbidden in expected:
        found = [s for s in traced if marker in s]
        assert found, f"no statement holding {marker!r}: the test needs its new text"
        plan = plan_of(estate, found[0])
        for index in indexes:
            choices = [named(name) for name in (index if isinstance(index, tuple) else (index,))]
            choices = [
                c
                for choice in choices
                for c in (choice if isinstance(choice, tuple) else (choice,))
            ]
            assert any(uses(plan, name, server) for name in choices), (marker, plan)
        for scan in (*whole, *(named(f) for f in (forbidden[0] if forbidden else ()))):
            assert scan not in f"{plan} ", (marker, scan, plan)
