"""Arrears as of a day: amounts, days, aging buckets, history class and dunning tier,
over the hand-computed history of the ``history`` fixture (see conftest)."""

import json
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from propfee.collection import arrears
from propfee.config import DEFAULTS
from propfee.payments import ledger

from conftest import MONTHS, add_fee, contact, estate, home, new_database, pay, run

AS_OF = date(2026, 11, 10)


def overdue_json(cli, *args):
    result = cli("overdue", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_overdue_gives_the_hand_computed_days_and_buckets(history, cli):
    doc = overdue_json(cli, "--as-of", "2026-11-10")
    rows = {r["unit"]: r for r in doc["rows"]}
    assert set(rows) == {"1-101", "1-102", "2-201", "S-101", "3-301", "3-302"}
    zero = "0.00"
    assert rows["1-101"] == {
        "unit": "1-101",
        "building": "1",
        "payer": "张三",
        "phone": "138****0001",
        "outstanding": "446.86",
        "oldest_due": "2026-09-15",
        "days_overdue": 56,
        "buckets": {
            "1-15": zero,
            "16-30": "223.43",
            "31-90": "223.43",
            "91-365": zero,
            "366+": zero,
        },
        "tier": "notice",
        "history": "chronic",
        "last_contact": None,
        "reason": None,
        "promise_date": None,
        "periods": ["2026-09", "2026-10"],
    }
    assert (rows["1-102"]["outstanding"], rows["1-102"]["days_overdue"]) == ("100.00", 9)
    assert rows["1-102"]["buckets"]["1-15"] == "100.00"
    # 李四 paid every earlier month on time: the current lapse is not held against him
    assert (rows["1-102"]["history"], rows["1-102"]["tier"]) == ("good", "gentle")
    assert rows["S-101"]["history"] == "none"  # has never paid: no record either way
    assert (rows["2-201"]["outstanding"], rows["2-201"]["days_overdue"]) == ("250.00", 26)
    assert rows["2-201"]["tier"] == "call"
    shop = rows["S-101"]
    assert (shop["outstanding"], shop["days_overdue"], shop["tier"]) == ("1270.50", 148, "notice")
    assert shop["buckets"] == {
        "1-15": zero,
        "16-30": "254.10",
        "31-90": "508.20",
        "91-365": "508.20",
        "366+": zero,
    }
    assert (rows["3-301"]["tier"], rows["3-301"]["reason"]) == ("dispute", "dispute")
    assert rows["3-302"]["tier"] == "notice"  # promised 11-08, still unpaid on 11-10
    assert rows["3-302"]["promise_date"] == "2026-11-08"
    assert doc["total"]["outstanding"] == "3267.36"
    assert doc["total"]["buckets"]["16-30"] == "1127.53"  # five October bills


def test_as_of_is_exact(history, cli):
    """A payment after the as-of day changes nothing; bills due on or after it are not
    overdue; an earlier day sees less."""
    before = overdue_json(cli, "--as-of", "2026-11-10")
    pay(history, "1-101", 44686, date(2026, 11, 20))  # pays everything, after the as-of day
    assert overdue_json(cli, "--as-of", "2026-11-10") == before
    rows = {r["unit"]: r for r in overdue_json(cli, "--as-of", "2026-11-20")["rows"]}
    assert "1-101" not in rows
    on_due_day = {r["unit"]: r for r in overdue_json(cli, "--as-of", "2026-10-15")["rows"]}
    assert "2-201" not in on_due_day  # October is due on 10-15: not overdue that day
    day_after = {r["unit"]: r for r in overdue_json(cli, "--as-of", "2026-10-16")["rows"]}
    assert day_after["2-201"]["days_overdue"] == 1
    early = {r["unit"]: r for r in overdue_json(cli, "--as-of", "2026-08-19")["rows"]}
    assert early["1-101"]["periods"] == ["2026-06", "2026-07", "2026-08"]
    paid = {r["unit"]: r for r in overdue_json(cli, "--as-of", "2026-08-20")["rows"]}
    assert "1-101" not in paid  # June–August were paid on 08-20, counted that day


def test_a_payment_recorded_late_with_an_earlier_date_does_not_settle_the_past(conn, tmp_path):
    """A bank transfer dated 06-01 but recorded after a counter payment dated 06-20 completes
    June; as of 06-16 June was still short of the counter payment."""
    estate(conn, tmp_path, [home("1-101", area="89.37")])
    add_fee(conn)
    run(conn, "2026-06", as_of=date(2026, 6, 1))
    pay(conn, "1-101", 100, date(2026, 6, 20))
    pay(conn, "1-101", 22243, date(2026, 6, 1))
    (row,) = arrears.overdue(conn, as_of=date(2026, 6, 16), settings=DEFAULTS)
    assert (row.outstanding_fen, row.days_overdue) == (100, 1)
    assert arrears.overdue(conn, as_of=date(2026, 6, 20), settings=DEFAULTS) == []
    assert ledger.check(conn) == []


def test_filters_and_the_summary_per_building(history, cli):
    assert [
        r["unit"] for r in overdue_json(cli, "--as-of", "2026-11-10", "--tier", "call")["rows"]
    ] == ["2-201"]
    assert {
        r["unit"] for r in overdue_json(cli, "--as-of", "2026-11-10", "--min-days", "50")["rows"]
    } == {"S-101", "3-301", "1-101"}
    assert [
        r["unit"] for r in overdue_json(cli, "--as-of", "2026-11-10", "--building", "3")["rows"]
    ] == ["3-301", "3-302"]
    summary = overdue_json(cli, "--as-of", "2026-11-10", "--by", "building")
    by = {s["building"]: s for s in summary["rows"]}
    assert by["1"]["units"] == 2
    assert by["1"]["outstanding"] == "546.86"
    assert by["3"]["tiers"]["dispute"] == 1
    table = cli("overdue", "--as-of", "2026-11-10", "--by", "building")
    assert "楼栋" in table.output and "服务争议" in table.output


def test_a_dispute_holds_until_resolved_and_a_promise_until_its_day(history):
    rows = {r.unit: r for r in arrears.overdue(history, as_of=AS_OF, settings=DEFAULTS)}
    assert rows["3-301"].days_overdue == 148
    assert rows["3-301"].tier == "dispute"  # never notice or legal while the dispute is open
    held = {r.unit: r for r in arrears.overdue(history, as_of=date(2026, 11, 6), settings=DEFAULTS)}
    assert held["3-302"].tier == "promised"
    assert held["3-302"].days_tier == "call"
    contact(history, "3-301", "resolved", datetime(2026, 11, 9, 9), note="电梯已修复")
    rows = {r.unit: r for r in arrears.overdue(history, as_of=AS_OF, settings=DEFAULTS)}
    assert rows["3-301"].tier == "notice"


def test_a_refusal_after_a_delivered_notice_goes_to_legal(history):
    contact(history, "S-101", "refused", datetime(2026, 11, 9, 10))
    rows = {r.unit: r for r in arrears.overdue(history, as_of=AS_OF, settings=DEFAULTS)}
    assert rows["S-101"].tier == "legal"
    assert rows["S-101"].reason == "refusal"


def test_the_notice_board_has_no_names_or_phones(history, cli):
    result = cli("overdue", "--as-of", "2026-11-10", "--notice-board", "--format", "json")
    lines = json.loads(result.output)["rows"]
    assert {"unit": "1-101", "periods": "2026-09至2026-10", "amount": "446.86"} in lines
    text = result.output + cli("overdue", "--as-of", "2026-11-10", "--notice-board").output
    for private in ("张三", "李四", "陇原", "138", "0931"):
        assert private not in text
    out = cli("overdue", "--as-of", "2026-11-10", "--notice-board", "--out", "board.html")
    assert out.exit_code == 0
    from pathlib import Path

    html = Path("board.html").read_text(encoding="utf-8")
    assert "1-101" in html and "张三" not in html and "13800000001" not in html


def test_the_overdue_list_for_the_boss_masks_phones(history, cli, tmp_path):
    from openpyxl import load_workbook

    result = cli("overdue", "--as-of", "2026-11-10", "--out", str(tmp_path / "boss.xlsx"))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "boss.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "本小区　欠费清单" and "截至：2026-11-10" in values[1][0]
    header = values[3]  # under the title block
    assert header[:4] == ["房号", "楼栋", "缴费人", "电话"]
    phones = [row[3] for row in values[4:]]
    assert values[-1][0] == "合计" and sheet.freeze_panes == "A5"
    assert "138****0001" in phones and "13800000001" not in phones


@given(
    dues=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=30),
    edges=st.lists(st.integers(min_value=1, max_value=800), min_size=1, max_size=6, unique=True),
)
def test_buckets_always_sum_to_the_outstanding(dues, edges):
    """Every overdue day count falls in exactly one bucket."""
    edges = tuple(sorted(edges))
    buckets = [0] * (len(edges) + 1)
    for index, days in enumerate(dues, start=1):
        buckets[arrears.bucket_of(days + 1, edges)] += index
    assert sum(buckets) == sum(range(1, len(dues) + 1))
    labels = arrears.bucket_labels(edges)
    assert len(labels) == len(buckets)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payments=st.lists(
        st.tuples(st.integers(min_value=1, max_value=60000), st.integers(0, 200)),
        max_size=8,
    ),
    as_of_offset=st.integers(min_value=0, max_value=220),
)
def test_overdue_buckets_sum_to_what_is_owed_as_of_the_day(
    tmp_path_factory, engine, request, payments, as_of_offset
):
    """For any payments on any days, each row's buckets add up to its outstanding, and the
    outstanding is the bills due before the day less what was paid by then."""
    from propfee.store import db

    folder = tmp_path_factory.mktemp("prop")
    conn = db.connect(new_database(engine, folder, request))
    try:
        estate(conn, folder, [home("1-101", area="89.37", phone="13800000001")])
        add_fee(conn)
        run(conn, *MONTHS, as_of=date(2026, 6, 1))
        start = date(2026, 6, 1)
        for fen, offset in sorted(payments, key=lambda p: p[1]):  # recorded in date order
            pay(conn, "1-101", fen, date.fromordinal(start.toordinal() + offset))
        day = date.fromordinal(start.toordinal() + as_of_offset)
        rows = arrears.overdue(conn, as_of=day, settings=DEFAULTS)
        due_before = conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM bill WHERE due_on < ?", (day.isoformat(),)
        ).fetchone()[0]
        paid_by = sum(fen for fen, offset in payments if offset <= as_of_offset)
        expected = max(due_before - paid_by, 0)
        got = sum(r.outstanding_fen for r in rows)
        assert got == expected
        for row in rows:
            assert sum(row.buckets) == row.outstanding_fen
            assert row.days_overdue == max(b.days for b in row.bills)
    finally:
        conn.close()
