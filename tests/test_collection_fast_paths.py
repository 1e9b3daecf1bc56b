"""The quicker readings of the collection report, the overdue list and the tiers agree with
the readings they replaced.

- The collection report sums each group's current bills in SQL and hands back only the
  households still owing one by one (it read every (unit, party, group) and counted them in
  Python); the arrears leave the report's own periods out by their ids before reading the
  bills (they read them, then dropped them). The report must be the same, figure for figure,
  label for label, reason for reason.
- ``propfee overdue`` reads of each bill only what its list shows (``listed``): the rows must
  be the same as from the bills in full.
- A row nobody has heard from (no contact, no plan, no complaint) takes its days' tier at
  once: the same tier, and the same row, as the whole reading of its contacts gives it.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields, replace
from datetime import date, datetime, timedelta

import pytest
from test_reports import stir

from propfee.collection import arrears, limitation
from propfee.config import DEFAULTS
from propfee.core.i18n import _
from propfee.core.periods import parse_period
from propfee.insight import report_store, reports, today
from propfee.store import db

from conftest import build_demo, contact

# ---------------------------------------------------------------- the report, as it was


def old_current_bill_sums(
    conn: sqlite3.Connection, by: str | None, p1: str, p2: str, day: str, late_id: int
) -> Iterable[tuple]:
    """Per (unit, party, group key): (unit, party, key, billed, adjusted, paid, unpaid, the
    oldest unpaid due day)."""
    adj = report_store._adjusted("<= ?3")
    paid = report_store._allocated("<= ?3", "b.id")
    fast = conn.cursor()
    fast.row_factory = None
    return fast.execute(
        "WITH o AS MATERIALIZED (SELECT b.unit_id, b.party_id, "
        + report_store.GROUP_KEYS[by]
        + " AS k, "
        f"b.amount_fen, b.due_on, b.settled_on <= ?3 AS settled, {adj} AS adj, "
        f"CASE WHEN b.settled_on <= ?3 THEN 0 ELSE {paid} END AS paid "
        "FROM bill b JOIN unit u ON u.id = b.unit_id "
        "WHERE b.id IN (SELECT c.id FROM bill c WHERE c.period BETWEEN ?1 AND ?2 "
        "AND c.fee_item_id <> ?4 AND c.covers_from <= ?3)) "
        "SELECT unit_id, party_id, k, sum(amount_fen), sum(adj), "
        "sum(CASE WHEN settled THEN amount_fen + adj ELSE paid END), "
        "sum(CASE WHEN settled THEN 0 ELSE max(amount_fen + adj - paid, 0) END), "
        "min(CASE WHEN settled THEN NULL WHEN amount_fen + adj - paid > 0 THEN due_on END) "
        "FROM o GROUP BY unit_id, party_id, k",
        (p1, p2, day, late_id),
    )


def old_open_bills(
    conn: sqlite3.Connection, key_sql: str, start: str, p1: str, p2: str, aging: bool
) -> tuple[str, tuple, bool]:
    """The arrears bills as they were picked: the report's own periods read, then dropped."""
    (still_open,) = conn.execute(
        "SELECT (SELECT count(*) FROM bill WHERE settled_on IS NULL) + "
        "(SELECT count(*) FROM bill WHERE settled_on >= ?)",
        (start,),
    ).fetchone()
    (older,) = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM bill WHERE period < ? LIMIT ?)", (p1, still_open + 1)
    ).fetchone()
    if still_open <= older:
        picked = (
            "SELECT c.id FROM bill c WHERE c.settled_on IS NULL UNION ALL "
            "SELECT c.id FROM bill c WHERE c.settled_on >= ?1"
        )
    else:
        picked = (
            "SELECT c.id FROM bill c WHERE c.period < ?4 AND c.fee_item_id <> ?5 "
            "AND (c.settled_on IS NULL OR c.settled_on >= ?1)"
        )
    return (
        (
            "SELECT b.id AS bid, b.unit_id, b.party_id, " + key_sql + " AS k, b.due_on, "
            "b.amount_fen, b.settled_on FROM bill b JOIN unit u ON u.id = b.unit_id "
            f"WHERE b.id IN ({picked}) AND b.period < ?4 AND b.fee_item_id <> ?5"
        ),
        (),
        False,
    )


class OldTally:
    """The figures as they were tallied: every (unit, party, group) in Python."""

    def __init__(self, label_of: Callable[[str], str]):
        self.label_of = label_of
        self.groups: dict[str, reports.Figures] = {}
        self.billed_units: dict[str, set[int]] = defaultdict(set)
        self.unpaid_units: dict[str, set[int]] = defaultdict(set)
        self.all_billed: set[int] = set()
        self.all_unpaid: set[int] = set()
        self.owing: dict[tuple, int] = defaultdict(int)
        self.lapse: dict[tuple, str] = {}

    def group(self, key: object) -> reports.Figures:
        text = "" if key is None else str(key)
        found = self.groups.get(text)
        if found is None:
            found = self.groups[text] = reports.Figures(text, self.label_of(text))
        return found

    def add_current(self, sums: Iterable[tuple]) -> None:
        for unit_id, party_id, key, billed, adjusted, paid, unpaid, oldest in sums:
            figures = self.group(key)
            figures.billed_fen += billed
            figures.adjusted_fen += adjusted
            figures.collected_fen += paid
            figures.unpaid_fen += unpaid
            self.billed_units[figures.key].add(unit_id)
            self.all_billed.add(unit_id)
            if unpaid > 0:
                self.unpaid_units[figures.key].add(unit_id)
                self.all_unpaid.add(unit_id)
                pair = (unit_id, party_id)
                self.owing[pair] += unpaid
                self.lapse[pair] = min(self.lapse.get(pair, oldest), oldest)

    def add_arrears(self, sums: Iterable[tuple]) -> dict:
        for _kind, unit_id, party_id, key, opening, adjusted, back, cleared, oldest in sums:
            if opening > 0 or (back or 0) > 0:
                figures = self.group(key)
                figures.arrears_fen += opening
                figures.arrears_adjusted_fen += adjusted or 0
                figures.reopened_fen += back or 0
                figures.cleared_fen += cleared or 0
            pair = (unit_id, party_id)
            if oldest and pair in self.lapse:
                self.lapse[pair] = min(self.lapse[pair], oldest)
        return {}

    def totals(self, order_of: Callable[[str], tuple]):
        total = reports.Figures("", _("Total"))
        ordered = sorted(self.groups.values(), key=lambda g: order_of(g.key))
        for figures in ordered:
            figures.households = len(self.billed_units.get(figures.key, ()))
            figures.unpaid_households = len(self.unpaid_units.get(figures.key, ()))
            total.add(figures)
        total.households = len(self.all_billed)
        total.unpaid_households = len(self.all_unpaid)
        return ordered, total


def as_it_was(conn, **options) -> reports.Collection:
    """The collection report read as it was."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_store, "current_bill_sums", old_current_bill_sums)
        patch.setattr(report_store, "_open_bills", old_open_bills)
        patch.setattr(reports, "_Tally", OldTally)
        return reports.collection(conn, **options)


@pytest.fixture
def stirred(engine, tmp_path, request):
    """The demo estate with payments reversed, bills waived and corrected, credit applied."""
    demo = build_demo(engine, tmp_path / "demo", request, "--as-of", "2026-11-15")
    conn = db.connect(demo.database)
    stir(conn)
    yield conn
    conn.close()


EDGES = DEFAULTS.dunning.buckets
RANGES = [
    ("2026-11", "2026-11", "2026-11-15"),
    ("2026-11", "2026-11", "2026-11-05"),
    ("2026-11", "2026-11", "2026-10-20"),  # before the period: no arrears yet
    ("2026-10", "2026-10", "2026-11-15"),
    ("2026-10", "2026-11", "2026-11-15"),
    ("2026-06", "2026-09", "2026-11-15"),
]


def test_the_report_is_the_one_read_as_it_was(stirred):
    for first, last, day in RANGES:
        start, stop, as_of = parse_period(first), parse_period(last), date.fromisoformat(day)
        for by in (None, "building", "fee", "kind"):
            for late_fees in (False, True):
                options = dict(first=start, last=stop, as_of=as_of, by=by, late_fees=late_fees)
                now = reports.collection(stirred, **options)
                assert asdict(now) == asdict(as_it_was(stirred, **options)), (first, day, by)
                # with the aging read in the same pass (or on its own): the same report, and
                # the aging the overdue list's buckets add up to
                aged = reports.collection(stirred, **options, aging_edges=EDGES)
                assert aged.aging == reports.aging(stirred, as_of=as_of, settings=DEFAULTS)
                assert asdict(aged) == {**asdict(now), "aging": [asdict(a) for a in aged.aging]}
                if as_of >= start:  # something billed and unpaid: the test means something
                    assert now.total.households > 0 and now.reasons, (first, day, by)
    # where the arrears are picked by the settled-on index (the demo's November), the bills
    # of the report's own months are left out by their ids, from the period index
    for aging in (False, True):
        sql, extra, shared = report_store._open_bills(
            stirred, "''", "2026-11-01", "2026-11", "2026-11", aging
        )
        assert "EXCEPT SELECT c.id FROM bill c WHERE c.period BETWEEN ?4 AND ?6" in sql
        assert extra == ("2026-11",) and shared == aging
    # the aging read with the arrears holds what the overdue list holds
    day = date(2026, 11, 15)
    rows = arrears.overdue(stirred, as_of=day, settings=DEFAULTS)
    total, buckets = arrears.totals(rows, len(EDGES) + 1)
    aging = reports.collection(
        stirred,
        first=parse_period("2026-11"),
        last=parse_period("2026-11"),
        as_of=day,
        aging_edges=EDGES,
    ).aging
    assert [a.owed_fen for a in aging] == buckets and sum(buckets) == total > 0


def old_trend_period_sums(conn, period: str, day: str, end: str, late_id: int) -> list[int]:
    """A period's trend sums as they were read: the period's index read through twice."""
    args = (period, day, end, late_id)
    sums = [0, 0, 0, 0]
    for covers_from, settled_on, billed in conn.execute(
        "SELECT covers_from, settled_on, sum(amount_fen) FROM bill b WHERE period = ?1 "
        "AND fee_item_id <> ?4 GROUP BY fee_item_id, covers_from, settled_on",
        args,
    ):
        for i, limit in enumerate((day, end)):
            if covers_from <= limit:
                sums[i] += billed
                if settled_on and settled_on <= limit:
                    sums[2 + i] += billed
    unsettled = "b.covers_from <= {d} AND (b.settled_on IS NULL OR b.settled_on > {d})"
    paid_day, paid_end = conn.execute(
        f"SELECT sum(CASE WHEN {unsettled.format(d='?2')} AND l.allocated_on <= ?2 "
        f"THEN l.amount_fen END), sum(CASE WHEN {unsettled.format(d='?3')} "
        "AND l.allocated_on <= ?3 THEN l.amount_fen END) "
        "FROM bill b CROSS JOIN allocation l WHERE b.period = ?1 AND b.fee_item_id <> ?4 "
        "AND b.covers_from <= ?2 AND (b.settled_on IS NULL OR b.settled_on > ?3) "
        "AND l.bill_id = b.id",
        args,
    ).fetchone()
    sums[2] += paid_day or 0
    sums[3] += paid_end or 0
    return sums


@pytest.mark.parametrize("ranges_at_most", [report_store.RANGES_AT_MOST, 0])
def test_the_trend_sums_are_the_ones_read_as_they_were(stirred, monkeypatch, ranges_at_most):
    """Each period's trend sums, its bills not settled found by their ranges of the period
    index (or, with too many ranges, by reading it through), as they were read."""
    monkeypatch.setattr(report_store, "RANGES_AT_MOST", ranges_at_most)
    late_id = report_store.late_fee_item_id(stirred)
    periods = [p for (p,) in stirred.execute("SELECT DISTINCT period FROM bill ORDER BY 1")]
    assert len(periods) >= 12
    unsettled = 0
    for period in periods:
        for day, end in (("2026-11-15", f"{period}-31"), ("2026-11-05", "2026-11-05")):
            end = min(end, day)
            for late in (late_id, -1):
                now = report_store.trend_period_sums(stirred, period, day, end, late)
                assert now == old_trend_period_sums(stirred, period, day, end, late), period
                unsettled += now[0] - now[2]
    assert unsettled > 0  # bills not settled by the day were summed


# ---------------------------------------------------------------- the overdue list


def test_the_listed_bills_make_the_rows_the_bills_in_full_make(stirred):
    for day in (date(2026, 11, 15), date(2026, 10, 20), date(2026, 12, 31)):
        full = arrears.overdue(stirred, as_of=day, settings=DEFAULTS)
        listed = arrears.overdue(stirred, as_of=day, settings=DEFAULTS, listed=True)
        assert len(full) == len(listed) > 0
        for a, b in zip(full, listed, strict=True):
            assert all(isinstance(bill, arrears.ListedBill) for bill in b.bills)
            assert [(x.due_on, x.id, x.period, x.days, x.owed_fen) for x in a.bills] == [
                tuple(x) for x in b.bills
            ]
            for f in fields(arrears.OverdueRow):
                if f.name != "bills":
                    assert getattr(a, f.name) == getattr(b, f.name), (f.name, a.unit)


# ---------------------------------------------------------------- what today counts


@pytest.mark.parametrize("legal_min", ["0", "300"])
def test_today_counts_the_tiers_the_overdue_rows_have(stirred, legal_min):
    """The tier, promise, outstanding total and oldest due day of each overdue row, read
    without the unit, party and history of a row whose days alone give its tier: the same as
    the rows in full have them, on days whose rows fall where a chronic payer's tier moves
    and where it does not."""
    settings = replace(DEFAULTS, dunning=replace(DEFAULTS.dunning, legal_min=legal_min))
    kinds = set()
    for days_on in (0, 3, 8, 12, 17, 20, 27, 45, 90, 400, 1000):
        day = date(2026, 11, 15) + timedelta(days=days_on)
        full = arrears.overdue_totals(stirred, as_of=day, settings=settings)
        counted = arrears.owing_tiers(stirred, as_of=day, settings=settings)
        seen = [(r.tier, r.promise_on, r.outstanding_fen, r.oldest_due) for r in full]
        assert sorted(counted, key=repr) == sorted(seen, key=repr), day
        kinds |= {r.tier for r in full} | {bool(r.promise_on) for r in full}
    assert {"gentle", "call", "notice", "promised", True} <= kinds


def test_a_payer_owing_enough_in_all_stays_at_legal(stirred):
    """The legal review's minimum is of what a payer owes in all, its rows read in full or
    not: a refusal on one of a payer's homes puts it up for legal review when its homes owe
    the minimum together, though that home alone owes less."""
    day = date(2026, 12, 20)  # new bills, some homes never contacted
    full = arrears.overdue_totals(stirred, as_of=day, settings=DEFAULTS)
    by_party = defaultdict(list)
    for row in full:
        by_party[row.party_id].append(row)
    heard = arrears.contacts_as_of(stirred, {r.unit_id for r in full}, day)
    rules = DEFAULTS.dunning

    def plain(row):  # a row whose days alone give its tier
        return (row.unit_id, row.party_id) not in heard and row.tier == arrears.days_tier(
            row.days_overdue, "good", rules
        ) == arrears.days_tier(row.days_overdue, "chronic", rules)

    refusing, other = next(
        (old, rest[0])
        for rows in by_party.values()
        for old in rows
        if old.tier == "notice"
        for rest in [[r for r in rows if r is not old and plain(r)]]
        if rest
    )
    contact(stirred, refusing.unit, "refused", datetime(2026, 12, 19, 10))
    least = refusing.outstanding_fen + other.outstanding_fen  # more than the home owes alone
    dunning = replace(DEFAULTS.dunning, legal_min=f"{least // 100}.{least % 100:02d}")
    settings = replace(DEFAULTS, dunning=dunning)
    full = arrears.overdue_totals(stirred, as_of=day, settings=settings)
    assert [r.tier for r in full if r.unit == refusing.unit] == ["legal"]
    counted = arrears.owing_tiers(stirred, as_of=day, settings=settings)
    seen = [(r.tier, r.promise_on, r.outstanding_fen, r.oldest_due) for r in full]
    assert sorted(counted, key=repr) == sorted(seen, key=repr)


# ---------------------------------------------------------------- today's limitation clocks


def test_today_reads_the_clocks_again_only_when_one_may_end(stirred):
    """Where no bill owed is due long enough ago for its clock to end within the days, today
    counts no clock without reading the bills again: what reading them finds is nothing."""
    settings, within = DEFAULTS, today.LIMITATION_DAYS
    skipped, found = 0, 0
    for days_on in [0, 300, *range(900, 1100, 5)]:
        day = date(2026, 11, 15) + timedelta(days=days_on)
        rows = arrears.overdue_totals(stirred, as_of=day, settings=settings)
        clocks = limitation.ending_within(stirred, as_of=day, settings=settings, within=within)
        if today.clock_may_end(rows, day):
            found += bool(clocks)
        else:
            assert clocks == [], day
            skipped += 1
    assert skipped and found  # both sides of the boundary


def test_a_clock_that_ends_within_the_days_is_never_ruled_out():
    """Any bill whose clock, unrestarted, ends within the days (``limitation.later`` of its
    due day), leap years and 29 February included, leaves the bills to be read again."""
    within = today.LIMITATION_DAYS
    for as_of in (date(2027, 2, 27), date(2027, 3, 1), date(2028, 2, 29), date(2028, 12, 31)):
        for back in range(900, 1120):
            due = as_of - timedelta(days=back)
            row = arrears.OverdueRow(1, "1-101", "1", "residential", 7, "", "", "", False, [])
            row.oldest_due = due.isoformat()
            if (limitation.later(due) - as_of).days <= within:
                assert today.clock_may_end([row], as_of), (as_of, due)
            if back < 1000:  # far from the end: ruled out
                assert not today.clock_may_end([row], as_of), (as_of, due)


# ---------------------------------------------------------------- the tier, nothing heard


@pytest.mark.parametrize("history", ["good", "occasional", "chronic", "none"])
@pytest.mark.parametrize("reason", ["", "forgot", "hardship"])
def test_a_row_nobody_heard_from_takes_the_tier_the_whole_reading_gives(history, reason):
    rules = DEFAULTS.dunning
    day = date(2026, 11, 20)
    for days in range(0, 800, 3):
        quick, whole = (
            arrears.OverdueRow(
                1, "1-101", "1", "residential", 7, "张三", "person", "13800000000", False, []
            )
            for _ in range(2)
        )
        for row in (quick, whole):
            row.days_overdue, row.history, row.reason = days, history, reason
            row.oldest_due = "2024-01-01"
        arrears._decide(quick, [], day, rules)
        whole.days_tier = arrears.days_tier(days, history, rules)
        arrears._heard(whole, [], day, rules, False, False)
        assert asdict(quick) == asdict(whole), days
