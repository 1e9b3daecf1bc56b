"""The queries that read the whole estate use the indexes they were written for: each
statement a command runs is explained (EXPLAIN QUERY PLAN) against the database as propfee
makes it, and a plan that falls back to reading every bill fails here."""

from __future__ import annotations

import sqlite3

import pytest
from test_scaling import billed_estate, traced  # noqa: F401  (traced is a fixture)

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
        "WITH o AS MATERIALIZED",
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
    # and what was allocated to its bills not settled, each bill looked up once
    (
        "FROM bill b CROSS JOIN allocation l WHERE b.period = ",
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
    ("count(DISTINCT CASE WHEN settled_on <= due_on", ["COVERING INDEX bill_party"]),
    ("FROM contact_delivery d", ["contact_unit", "contact_delivery_contact"]),
]


@pytest.fixture
def estate(cli, tmp_path):
    return billed_estate(cli, tmp_path / "estate", 6)


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
    with sqlite3.connect(estate) as conn:
        for marker, indexes, *forbidden in expected:
            found = [s for s in traced if marker in s]
            assert found, f"no statement holding {marker!r}: the test needs its new text"
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + found[0]))
            for index in indexes:
                choices = index if isinstance(index, tuple) else (index,)
                assert any(
                    f"{name} " in plan
                    if name.startswith(("COVERING", "INTEGER"))
                    else f"INDEX {name} " in plan
                    for name in choices
                ), (marker, plan)
            # never a read of every bill, nor of every allocation
            for scan in (
                "SCAN b ",
                "SCAN bill ",
                "SCAN l ",
                "SCAN allocation ",
                *(forbidden[0] if forbidden else ()),
            ):
                assert scan not in f"{plan} ", (marker, scan, plan)
