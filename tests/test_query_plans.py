"""The queries that read the whole estate use the indexes they were written for: each
statement a command runs is explained (EXPLAIN QUERY PLAN) against the database as propfee
makes it, and a plan that falls back to reading every bill fails here."""

from __future__ import annotations

import sqlite3

import pytest
from test_scaling import billed_estate, traced  # noqa: F401  (traced is a fixture)

# (a text only that statement holds, the indexes its plan must use: each entry is one index,
# or a tuple of indexes any of which will do)
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
    ("sum(max(amount_fen + adj - paid, 0))", ["bill_period", "adjustment_bill", "allocation_bill"]),
    # the arrears carried in: each bill's sums made once, then added up
    (
        "WITH owed AS MATERIALIZED",
        [("bill_settled", "bill_period"), "adjustment_bill", "allocation_bill"],
    ),
    # the aging, summed in SQL over the open bills
    (
        "AS bucket, count(DISTINCT unit_id), sum(owed)",
        [("bill_settled", "bill_open"), "adjustment_bill", "allocation_bill"],
    ),
    # the trend: each period's sums read from the period index alone
    ("FROM bill b WHERE period = ", ["COVERING INDEX bill_period"]),
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
        for marker, indexes in expected:
            found = [s for s in traced if marker in s]
            assert found, f"no statement holding {marker!r}: the test needs its new text"
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + found[0]))
            for index in indexes:
                choices = index if isinstance(index, tuple) else (index,)
                assert any(
                    f"{name} " in plan if name.startswith("COVERING") else f"INDEX {name} " in plan
                    for name in choices
                ), (marker, plan)
            # never a read of every bill
            assert "SCAN b " not in f"{plan} " and "SCAN bill " not in f"{plan} ", (marker, plan)
