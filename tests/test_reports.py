"""The collection report: rates worked out by hand, reversals, waivers, late fees, nothing to
collect, the workbook's chart, and the command."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from propfee.billing import bills
from propfee.config import DEFAULTS
from propfee.insight import reports
from propfee.payments import ledger
from propfee.roster import merge
from propfee.store.db import transaction

from conftest import NOW, add_fee, build_demo, contact, estate, home, pay, run

NOV = date(2026, 11, 1)
AS_OF = date(2026, 11, 20)


def bill_id(conn, unit, period, item="PROP"):
    return conn.execute(
        "SELECT b.id FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f "
        "ON f.id = b.fee_item_id WHERE u.code = ? AND b.period = ? AND f.code = ?",
        (unit, period, item),
    ).fetchone()[0]


def receipt_of(conn, unit, day):
    return conn.execute(
        "SELECT p.receipt_no FROM payment p JOIN unit u ON u.id = p.unit_id "
        "WHERE u.code = ? AND p.paid_on = ?",
        (unit, day),
    ).fetchone()[0]


def reverse(conn, unit, paid_on, on):
    with transaction(conn):
        ledger.reverse_payment(conn, receipt_of(conn, unit, paid_on), reason="退款", on=on, now=NOW)


@pytest.fixture
def month(conn, tmp_path):
    """Four homes in two buildings, a 100.00 fixed property fee each month and 50.00 parking
    for 1-101, billed for September, October and November 2026 (due on the 15th):

      1-101  paid Sep+Oct (300.00) on 10-10; paid Nov (150.00) on 11-05, reversed on 11-25
      1-102  paid nothing until 11-10: 150.00 → Sep 100.00 + Oct 50.00 (oldest first);
             a call on 11-12 recorded the reason: hardship
      2-201  paid Sep+Oct (200.00) on 10-05; paid Nov 100.00 on 11-08, reversed on 11-18;
             a service dispute recorded on 11-16
      2-202  paid Sep on 09-10; Nov waived 30.00 on 11-02; paid 170.00 on 11-09
             → Oct 100.00 + Nov 70.00
    """
    estate(
        conn,
        tmp_path,
        [
            home("1-101", owner="张三"),
            home("1-102", owner="李四"),
            home("2-201", owner="王五"),
            home("2-202", owner="赵六"),
        ],
    )
    add_fee(conn, price="100.00", basis="fixed")
    add_fee(conn, "PARK", price="50.00", basis="fixed", units=["1-101"])
    run(conn, "2026-09", "2026-10", "2026-11", as_of=date(2026, 9, 1))
    pay(conn, "2-202", 10000, date(2026, 9, 10))
    pay(conn, "2-201", 20000, date(2026, 10, 5))
    pay(conn, "1-101", 30000, date(2026, 10, 10))
    with transaction(conn):
        bills.adjust(
            conn,
            bill_id(conn, "2-202", "2026-11"),
            amount_fen=-3000,
            kind="waiver",
            reason="电梯停运",
            approved_by="王经理",
            on=date(2026, 11, 2),
            now=NOW,
            settings=DEFAULTS,
        )
    pay(conn, "1-101", 15000, date(2026, 11, 5))
    pay(conn, "2-201", 10000, date(2026, 11, 8))
    pay(conn, "2-202", 17000, date(2026, 11, 9))
    pay(conn, "1-102", 15000, date(2026, 11, 10))
    contact(conn, "1-102", "reached", datetime(2026, 11, 12, 10), reason="hardship")
    contact(conn, "2-201", "dispute", datetime(2026, 11, 16, 10), note="漏水未修")
    reverse(conn, "2-201", "2026-11-08", date(2026, 11, 18))
    reverse(conn, "1-101", "2026-11-05", date(2026, 11, 25))
    return conn


def test_the_month_by_hand(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    t = r.total
    # current (November) bills: 1-101 100 + 50, 1-102 100, 2-201 100, 2-202 100 = 450.00;
    # the waiver of 30.00 (made 11-02, before the as-of day) lowers what is due to 420.00
    assert (t.billed_fen, t.adjusted_fen, t.due_fen) == (45000, -3000, 42000)
    # collected by 11-20: 1-101 150.00 (its reversal on 11-25 is after the day), 2-202 70.00;
    # 2-201's 100.00 was reversed on 11-18, 1-102's money went to older bills
    assert t.collected_fen == 22000
    assert t.current_rate == Decimal("52.38")  # 220 / 420 = 52.380952…%
    # unpaid on 11-20: 1-102 and 2-201, 100.00 each; 4 households billed
    assert (t.households, t.unpaid_households, t.unpaid_fen) == (4, 2, 20000)
    # arrears on 11-01: 1-102 Sep + Oct 200.00, 2-202 Oct 100.00 = 300.00, nothing adjusted;
    # cleared 11-01…11-20: 1-102 150.00, 2-202 100.00 = 250.00
    assert (t.arrears_fen, t.arrears_adjusted_fen, t.cleared_fen) == (30000, 0, 25000)
    assert t.clearance_rate == Decimal("83.33")  # 250 / 300 = 83.333…%
    # overall: (220 + 250) / (420 + 300) = 470 / 720 = 65.2777…%
    assert (t.all_collected_fen, t.all_due_fen) == (47000, 72000)
    assert t.overall_rate == Decimal("65.28")
    assert r.groups == []
    assert r.window_end == "2026-11-20"


def test_the_month_by_building(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, by="building")
    one, two = r.groups
    assert (one.key, one.label, two.key) == ("1", "1栋", "2")
    # building 1: due 250.00 (1-101 150 + 1-102 100), collected 150.00 → 60.00%;
    # arrears 200.00 (1-102), cleared 150.00 → 75.00%; overall 300 / 450 = 66.666…%
    assert (one.due_fen, one.collected_fen, one.current_rate) == (25000, 15000, Decimal("60.00"))
    assert (one.arrears_due_fen, one.cleared_fen, one.clearance_rate) == (
        20000,
        15000,
        Decimal("75.00"),
    )
    assert one.overall_rate == Decimal("66.67")
    assert (one.households, one.unpaid_households, one.unpaid_fen) == (2, 1, 10000)
    # building 2: due 200 − 30 = 170.00, collected 70.00 → 41.176…%; arrears 100.00 cleared
    # 100.00 → 100%; overall 170 / 270 = 62.962…%
    assert (two.due_fen, two.collected_fen, two.current_rate) == (17000, 7000, Decimal("41.18"))
    assert two.clearance_rate == Decimal("100.00")
    assert two.overall_rate == Decimal("62.96")
    assert (two.households, two.unpaid_households) == (2, 1)
    # the totals row is the same as without --by
    assert r.total.overall_rate == Decimal("65.28")
    assert (r.total.households, r.total.unpaid_households) == (4, 2)


def test_the_month_by_fee(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, by="fee")
    prop, park = r.groups
    assert (prop.key, prop.label, park.key) == ("PROP", "PROP 物业服务费", "PARK")
    # PROP: due 400 − 30 = 370.00, collected 1-101 100 + 2-202 70 = 170.00 → 45.945…%;
    # every arrear is PROP: 250 / 300; overall 420 / 670 = 62.686…%
    assert (prop.due_fen, prop.collected_fen, prop.current_rate) == (
        37000,
        17000,
        Decimal("45.95"),
    )
    assert prop.clearance_rate == Decimal("83.33")
    assert prop.overall_rate == Decimal("62.69")
    # PARK: 50.00 due and collected; no arrears, so no clearance rate
    assert (park.current_rate, park.clearance_rate, park.overall_rate) == (
        Decimal("100.00"),
        None,
        Decimal("100.00"),
    )
    assert (prop.households, park.households) == (4, 1)
    # a home billed for two items is one household in the totals
    assert r.total.households == 4
    assert r.total.current_rate == Decimal("52.38")


def test_by_kind_groups_every_unit_kind(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, by="kind")
    assert [(g.key, g.label, g.households) for g in r.groups] == [("residential", "住宅", 4)]


def test_reasons_come_from_the_contact_log(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert {(x.reason, x.label, x.households, x.unpaid_fen) for x in r.reasons} == {
        ("hardship", "经济困难", 1, 10000),
        ("dispute", "服务争议", 1, 10000),
    }


def test_a_reversal_after_the_day_counts_until_it_happens(month):
    # as of 11-30 1-101's November payment has been reversed (on 11-25): only 2-202's 70.00
    r = reports.collection(month, first=NOV, last=NOV, as_of=date(2026, 11, 30))
    assert r.total.collected_fen == 7000
    assert r.total.current_rate == Decimal("16.67")  # 70 / 420
    assert r.total.unpaid_households == 3
    no_reason = [x for x in r.reasons if x.reason == "none"]
    assert [(x.label, x.households, x.unpaid_fen) for x in no_reason] == [("未记录原因", 1, 15000)]


def test_a_waiver_is_not_a_collection(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=date(2026, 11, 2), by="building")
    two = r.groups[1]
    # on 11-02 building 2 has been waived 30.00 and paid nothing for November
    assert (two.adjusted_fen, two.due_fen, two.collected_fen) == (-3000, 17000, 0)
    assert two.current_rate == Decimal("0.00")
    # on 11-01 the waiver had not been made: 200.00 due
    earlier = reports.collection(month, first=NOV, last=NOV, as_of=NOV, by="building")
    assert earlier.groups[1].due_fen == 20000


def test_the_trend(month):
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert [p.period for p in r.trend][:2] == ["2025-12", "2026-01"]
    assert len(r.trend) == 12
    by_period = {p.period: p for p in r.trend}
    assert by_period["2026-08"].rate is None and by_period["2026-08"].due_fen == 0
    sep, oct_, nov = by_period["2026-09"], by_period["2026-10"], by_period["2026-11"]
    # September, 450.00 due: all of it collected by 11-20; by 09-30 only 2-202's 100.00
    assert (sep.rate, sep.rate_at_end) == (Decimal("100.00"), Decimal("22.22"))
    # October: by 11-20 all but 1-102's 50.00 (400 / 450 = 88.888…%); by 10-31 1-101 150 +
    # 2-201 100 = 250 / 450 = 55.555…%
    assert (oct_.rate, oct_.rate_at_end) == (Decimal("88.89"), Decimal("55.56"))
    # November's period end is after the as-of day: both read 11-20
    assert nov.rate == nov.rate_at_end == Decimal("52.38")


def test_a_range_of_months(month):
    r = reports.collection(month, first=date(2026, 10, 1), last=NOV, as_of=AS_OF)
    t = r.total
    # Oct + Nov: due 450 + 420 = 870.00; collected Oct 400.00 + Nov 220.00 = 620.00
    assert (t.due_fen, t.collected_fen) == (87000, 62000)
    # arrears on 10-01, every September bill but 2-202's: 1-101 150.00, 1-102 100.00, 2-201
    # 100.00 = 350.00; all cleared 10-01…11-20 (on 10-10, 11-10 and 10-05)
    assert (t.arrears_fen, t.cleared_fen, t.clearance_rate) == (35000, 35000, Decimal("100.00"))
    assert r.period == "2026-10～2026-11"


def test_late_fees_are_left_out_unless_asked(month):
    from propfee.collection.latefee import _late_fee_item

    with transaction(month):
        item = _late_fee_item(month, "2026-11-15 00:00:00")
        month.execute(
            "INSERT INTO bill (unit_id, fee_item_id, party_id, period, covers_from, covers_to, "
            "due_on, amount_fen, created_at) SELECT id, ?, NULL, '2026-11', '2026-11-15', "
            "'2026-11-15', '2026-11-15', 1234, '2026-11-15 00:00:00' FROM unit "
            "WHERE code = '1-102'",
            (item,),
        )
    left_out = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert left_out.total.due_fen == 42000
    counted = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, late_fees=True)
    assert counted.total.due_fen == 42000 + 1234
    assert counted.total.unpaid_fen == 20000 + 1234


def test_nothing_billed_divides_by_nothing(conn, tmp_path):
    estate(conn, tmp_path, [home("1-101")])
    r = reports.collection(conn, first=NOV, last=NOV, as_of=AS_OF, by="building")
    assert r.groups == []
    t = r.total
    assert (t.current_rate, t.clearance_rate, t.overall_rate) == (None, None, None)
    assert (t.households, t.unpaid_households, r.reasons) == (0, 0, [])
    assert all(p.rate is None and p.rate_at_end is None for p in r.trend)


def test_percent_rounds_half_up_exactly():
    assert reports.percent(1, 8) == Decimal("12.50")
    assert reports.percent(1, 3) == Decimal("33.33")
    assert reports.percent(2, 3) == Decimal("66.67")
    assert reports.percent(1, 1600) == Decimal("0.06")  # 0.0625 → 0.06; 0.00625% …
    assert reports.percent(1, 16000) == Decimal("0.01")  # 0.00625 → 0.01 (half up)
    assert reports.percent(-1, 3) == Decimal("-33.33")
    assert reports.percent(5, 0) is None


def test_bad_requests(month):
    from propfee.core.errors import InvalidValue

    with pytest.raises(InvalidValue, match="早于 --from"):
        reports.collection(month, first=NOV, last=date(2026, 10, 1), as_of=AS_OF)
    with pytest.raises(InvalidValue, match="--by"):
        reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, by="floor")
    with pytest.raises(InvalidValue, match="只能给一种"):
        reports.parse_range("2026-11", "2026-10", None, as_of=AS_OF)
    assert reports.parse_range(None, None, None, as_of=AS_OF) == (NOV, NOV)
    assert reports.parse_range(None, "2026-10", None, as_of=AS_OF) == (date(2026, 10, 1),) * 2


# ---------------------------------------------------------------- the command


def test_cli_table(month, cli):
    result = cli("report", "collection", "--period", "2026-11", "--as-of", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert "52.38%" in result.output and "83.33%" in result.output
    assert "65.28%" in result.output
    assert "经济困难" in result.output and "服务争议" in result.output
    assert "违约金（LATEFEE）不计入收缴率" in result.output


def test_cli_json_by_building(month, cli):
    result = cli(
        "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20",
        "--by", "building", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["total"]["current_rate"] == "52.38"
    assert doc["total"]["due"] == "420.00"
    assert [g["clearance_rate"] for g in doc["groups"]] == ["75.00", "100.00"]
    assert doc["late_fees_included"] is False
    assert doc["arrears_window"] == ["2026-11-01", "2026-11-20"]
    assert len(doc["trend"]) == 12 and doc["trend"][0]["rate"] is None


def test_cli_csv_by_fee(month, cli):
    result = cli(
        "report", "collection", "--from", "2026-11", "--to", "2026-11", "--as-of",
        "2026-11-20", "--by", "fee", "--format", "csv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("\ufeff收费项目,户数,应收（原始）")
    assert len(lines) == 4  # header, PROP, PARK, totals
    assert lines[-1].split(",")[0] == "合计"


def test_cli_nothing_billed_shows_a_dash_and_null(conn, tmp_path, cli):
    estate(conn, tmp_path, [home("1-101")])
    table = cli("report", "collection", "--period", "2026-11", "--as-of", "2026-11-20")
    assert table.exit_code == 0, table.output
    assert "—" in table.output
    doc = json.loads(
        cli(
            "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20",
            "--format", "json",
        ).output
    )  # fmt: skip
    assert doc["total"]["current_rate"] is None
    assert doc["total"]["overall_rate"] is None
    rows = cli(
        "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20", "--format", "csv",
    ).output.strip().splitlines()  # fmt: skip
    header, total = (line.split(",") for line in rows)
    assert [total[header.index(k)] for k in ("当期收缴率", "清欠率")] == ["—", "—"]
    assert total[header.index("综合收缴率")] == "—"
    from openpyxl import load_workbook

    out = tmp_path / "收缴率.xlsx"
    assert cli(
        "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20", "--out", str(out),
    ).exit_code == 0  # fmt: skip
    main = load_workbook(out)["收缴率"]
    headers = [c.value for c in main[4]]
    total_row = [c.value for c in main[5]]
    assert total_row[0] == "合计"
    for name in ("当期收缴率", "清欠率", "综合收缴率"):
        assert total_row[headers.index(name)] == "—"


def test_cli_xlsx_has_the_tables_and_a_chart(month, cli, tmp_path):
    from openpyxl import load_workbook
    from openpyxl.chart import LineChart

    out = tmp_path / "收缴率.xlsx"
    result = cli(
        "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20",
        "--by", "building", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["收缴率", "欠费原因", "趋势"]
    main = wb["收缴率"]
    assert main["A1"].value == "本小区　收缴率报表" and "截至：2026-11-20" in main["A2"].value
    assert [c.value for c in main[4]][:2] == ["楼栋", "户数"]
    total = [c.value for c in main[7]]
    assert total[0] == "合计"
    assert total[6] == pytest.approx(0.5238) and main.cell(7, 7).number_format == "0.0%"
    assert main.freeze_panes == "A5" and main.page_setup.orientation == "landscape"
    trend = wb["趋势"]
    assert trend.max_row == 16
    charts = trend._charts
    assert len(charts) == 1 and isinstance(charts[0], LineChart)
    assert len(charts[0].series) == 2


def test_cli_refuses_bad_options(month, cli, tmp_path):
    both = cli("report", "collection", "--period", "2026-11", "--from", "2026-10")
    assert both.exit_code == 1 and "只能给一种" in both.output
    bad_by = cli("report", "collection", "--by", "floor", "--as-of", "2026-11-20")
    assert bad_by.exit_code == 2 and "--by" in bad_by.output  # a usage error, as --format xml
    bad_format = cli("report", "collection", "--format", "xml", "--as-of", "2026-11-20")
    assert bad_format.exit_code == 2
    upper = cli("report", "collection", "--by", "BUILDING", "--as-of", "2026-11-20", "-f", "json")
    assert upper.exit_code == 0 and json.loads(upper.output)["by"] == "building"
    quiet_alone = cli("report", "collection", "--quiet", "--as-of", "2026-11-20")
    assert quiet_alone.exit_code == 2 and "--out" in quiet_alone.output
    not_xlsx = cli("report", "collection", "--out", str(tmp_path / "x.csv"))
    assert not_xlsx.exit_code == 1 and ".xlsx" in not_xlsx.output
    bad_month = cli("report", "collection", "--period", "2026-13")
    assert bad_month.exit_code == 2


def test_the_demo_prints_the_collection_report_of_its_last_month(engine, tmp_path, request):
    from propfee.cli.reports import rate_text
    from propfee.store import db

    demo = build_demo(engine, tmp_path / "demo", request, "--as-of", "2026-11-15")
    conn = db.connect(demo.database)
    try:
        total = reports.collection(conn, first=NOV, last=NOV, as_of=date(2026, 11, 15)).total
    finally:
        conn.close()
    assert total.due_fen > 0
    assert f"2026-11 收缴率（截至 2026-11-15）：当期 {rate_text(total.current_rate)}" in demo.output
    assert f"欠费 {total.unpaid_households} 户" in demo.output
    assert "propfee report collection --period 2026-11" in demo.output


def test_arrears_waived_in_the_period_lower_what_is_due(month):
    with transaction(month):
        bills.adjust(
            month,
            bill_id(month, "1-102", "2026-10"),
            amount_fen=-2000,
            kind="waiver",
            reason="困难户减免",
            approved_by="王经理",
            on=date(2026, 11, 3),
            now=NOW,
            settings=DEFAULTS,
        )
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    t = r.total
    # on 11-01 the arrears were 300.00; 20.00 of them waived on 11-03: 280.00 due, and the
    # 250.00 cleared is 89.2857…% of it; the waiver itself is not counted as collected
    assert (t.arrears_fen, t.arrears_adjusted_fen, t.arrears_due_fen) == (30000, -2000, 28000)
    assert (t.cleared_fen, t.clearance_rate) == (25000, Decimal("89.29"))
    assert t.overall_rate == Decimal("67.14")  # 470 / 700 = 67.142…%


def test_credit_not_applied_is_not_collection(month):
    pay(month, "2-202", 50000, date(2026, 11, 19))  # 2-202 owes nothing: all of it is credit
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert (r.total.collected_fen, r.total.cleared_fen) == (22000, 25000)


def test_a_dispute_holds_until_resolved_and_a_later_reason_wins(month):
    contact(month, "1-102", "refused", datetime(2026, 11, 19, 9))
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert {x.reason for x in r.reasons} == {"refusal", "dispute"}
    contact(month, "2-201", "resolved", datetime(2026, 11, 19, 10))
    r = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF)
    assert {(x.reason, x.households) for x in r.reasons} == {("refusal", 1), ("none", 1)}
    # as of the day before, the dispute still held
    before = reports.collection(month, first=NOV, last=NOV, as_of=date(2026, 11, 18))
    assert "dispute" in {x.reason for x in before.reasons}


def test_a_reversal_in_the_period_of_earlier_money_reopens_arrears(conn, tmp_path):
    """Money collected before the period and taken back by a reversal inside it re-opens
    what it paid: it is added to the arrears (往期欠费), not taken from what was cleared, so
    清欠率 never goes below zero."""
    estate(conn, tmp_path, [home("1-101", owner="张三"), home("1-102", owner="李四")])
    add_fee(conn, price="100.00", basis="fixed")
    run(conn, "2026-10", "2026-11", as_of=date(2026, 10, 1))
    pay(conn, "1-101", 4000, date(2026, 10, 10))  # October, 40.00 of 100.00
    pay(conn, "1-102", 20000, date(2026, 10, 12))  # October and November (in advance)
    reverse(conn, "1-101", "2026-10-10", date(2026, 11, 5))
    reverse(conn, "1-102", "2026-10-12", date(2026, 11, 6))
    early = reports.collection(conn, first=NOV, last=NOV, as_of=date(2026, 11, 7)).total
    # arrears on 11-01: 1-101's 60.00; re-opened from S to C: 1-101 40.00 and 1-102's
    # October 100.00 (settled before S) = 200.00 due; nothing cleared yet
    assert (early.arrears_fen, early.reopened_fen, early.arrears_due_fen) == (6000, 14000, 20000)
    assert (early.cleared_fen, early.clearance_rate) == (0, Decimal("0.00"))
    # November: 1-102's advance payment was taken back, nothing collected of 200.00
    assert (early.due_fen, early.collected_fen, early.current_rate) == (20000, 0, Decimal("0.00"))
    assert early.overall_rate == Decimal("0.00")
    pay(conn, "1-101", 10000, date(2026, 11, 8))  # October again, in full
    t = reports.collection(conn, first=NOV, last=NOV, as_of=AS_OF, by="building").total
    assert (t.arrears_due_fen, t.cleared_fen, t.clearance_rate) == (20000, 10000, Decimal("50.00"))
    assert t.overall_rate == Decimal("25.00")  # 100 / 400
    # a reversal inside the period of money paid inside it simply nets out
    pay(conn, "1-102", 10000, date(2026, 11, 9))
    reverse(conn, "1-102", "2026-11-09", date(2026, 11, 10))
    again = reports.collection(conn, first=NOV, last=NOV, as_of=AS_OF).total
    assert (again.arrears_due_fen, again.cleared_fen) == (20000, 10000)


def test_bills_of_a_cycle_not_begun_are_not_due_yet(month, cli):
    """As of D only the bills whose cycle has begun (covers_from <= D) are due: December,
    billed ahead and partly paid in advance, is not due on 11-20, and a report of it then is
    a report of nothing, not an error."""
    DEC = date(2026, 12, 1)
    run(month, "2026-12", as_of=date(2026, 11, 14))
    pay(month, "2-202", 10000, date(2026, 11, 14))  # 2-202 owes nothing: December in advance
    assert (
        month.execute(
            "SELECT count(*) FROM allocation l JOIN bill b ON b.id = l.bill_id "
            "WHERE b.period = '2026-12'"
        ).fetchone()[0]
        == 1
    )
    early = reports.collection(month, first=DEC, last=DEC, as_of=AS_OF)
    t = early.total
    assert (t.due_fen, t.collected_fen, t.arrears_due_fen, t.cleared_fen) == (0, 0, 0, 0)
    assert (t.current_rate, t.clearance_rate, t.overall_rate) == (None, None, None)
    assert (t.households, t.unpaid_households, early.reasons) == (0, 0, [])
    assert early.trend[-1].due_fen == 0 and early.trend[-1].rate is None
    # the trend ending there shows November as of 11-20, as the November report does
    assert early.trend[-2].rate == Decimal("52.38")
    # a range that runs past D counts the months begun: October and November only
    both = reports.collection(month, first=date(2026, 10, 1), last=DEC, as_of=AS_OF).total
    assert (both.due_fen, both.collected_fen) == (87000, 62000)
    # once December has begun its bills are due, and the advance payment counts
    later = reports.collection(month, first=DEC, last=DEC, as_of=date(2026, 12, 2)).total
    assert (later.due_fen, later.collected_fen) == (45000, 10000)
    # the command gives the same report, with dashes
    shown = cli("report", "collection", "--period", "2026-12", "--as-of", "2026-11-20")
    assert shown.exit_code == 0, shown.output
    assert "—" in shown.output


def test_a_bill_counts_from_the_day_its_cycle_begins(month):
    """A bill whose cycle starts inside the month (here a late fee posted for 11-15) is due
    from that day, not before."""
    from propfee.collection.latefee import _late_fee_item

    with transaction(month):
        item = _late_fee_item(month, "2026-11-15 00:00:00")
        month.execute(
            "INSERT INTO bill (unit_id, fee_item_id, party_id, period, covers_from, covers_to, "
            "due_on, amount_fen, created_at) SELECT id, ?, NULL, '2026-11', '2026-11-15', "
            "'2026-11-15', '2026-11-15', 1234, '2026-11-15 00:00:00' FROM unit "
            "WHERE code = '1-102'",
            (item,),
        )
    before = reports.collection(
        month, first=NOV, last=NOV, as_of=date(2026, 11, 14), late_fees=True
    )
    after = reports.collection(month, first=NOV, last=NOV, as_of=AS_OF, late_fees=True)
    assert after.total.due_fen - 42000 == 1234
    assert before.total.billed_fen == 45000
    assert (before.trend[-1].due_fen, after.trend[-1].due_fen) == (
        before.total.due_fen,
        after.total.due_fen,
    )


def test_a_sold_unit_keeps_the_reason_of_the_party_that_gave_one(conn, tmp_path):
    """1-101 is sold on 11-16: November is billed 50.00 to the seller and 50.00 to the buyer.
    Only the buyer gave a reason; with the amounts equal the unit counts under it."""

    from conftest import write_csv

    estate(conn, tmp_path, [home("1-101", owner="张三"), home("1-102", owner="李四")])
    add_fee(conn, price="100.00", basis="fixed")
    merge.import_roster(
        conn,
        write_csv(
            tmp_path / "sale.csv", [["房号", "业主", "过户日期"], ["1-101", "钱买", "2026-11-16"]]
        ),
        as_of=date(2026, 11, 16),
        now=NOW,
    )
    run(conn, "2026-11", as_of=date(2026, 11, 16))
    assert sorted(
        tuple(row)
        for row in conn.execute(
            "SELECT p.name, b.amount_fen FROM bill b JOIN party p ON p.id = b.party_id "
            "JOIN unit u ON u.id = b.unit_id WHERE u.code = '1-101'"
        )
    ) == [("张三", 5000), ("钱买", 5000)]
    contact(conn, "1-101", "reached", datetime(2026, 11, 18, 10), reason="hardship")
    r = reports.collection(conn, first=NOV, last=NOV, as_of=AS_OF)
    assert {(x.reason, x.households, x.unpaid_fen) for x in r.reasons} == {
        ("hardship", 1, 10000),  # the whole unit's 100.00
        ("none", 1, 10000),  # 1-102
    }


def test_the_trend_shows_what_was_due_at_each_period_end(month, cli, tmp_path):
    """期末收缴率 is over what was due on the period's last day, shown beside it (期末应收):
    a waiver of October made in November lowers October's due as of D, not at its end."""
    from openpyxl import load_workbook

    with transaction(month):
        bills.adjust(
            month,
            bill_id(month, "1-102", "2026-10"),
            amount_fen=-2000,
            kind="waiver",
            reason="困难户减免",
            approved_by="王经理",
            on=date(2026, 11, 3),
            now=NOW,
            settings=DEFAULTS,
        )
    out = tmp_path / "trend.xlsx"
    result = cli(
        "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "期末应收" in result.output
    (october,) = [line for line in result.output.splitlines() if "2026-10" in line]
    # at 10-31: 250.00 of 450.00 (55.56%); as of 11-20: 400.00 of 430.00 (93.02%)
    cells = [cell.strip() for cell in october.split("│") if cell.strip()]
    assert cells == ["2026-10", "¥450.00", "55.56%", "¥430.00", "93.02%"]
    trend = load_workbook(out)["趋势"]
    assert [c.value for c in trend[4]][:2] == ["期间", "期末应收"]
    row = next(r for r in trend.iter_rows(values_only=True) if r[0] == "2026-10")
    assert (row[1], row[4]) == (450, 430)


def test_cli_quiet_writes_the_workbook_and_prints_nothing(month, runner, db_path, tmp_path):
    from propfee.cli import app

    out = tmp_path / "收缴率.xlsx"
    result = runner.invoke(
        app,
        [
            "report", "collection", "--period", "2026-11", "--as-of", "2026-11-20", "--by",
            "building", "--out", str(out), "-q", "--db", str(db_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == ("", "")
    assert out.stat().st_size > 0


def test_parking_spaces_group_as_spaces_not_a_building(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [home("1-101"), home("P-001", kind="车位", area="12"), home("2-201", owner="李四")],
    )
    add_fee(conn, price="100.00", basis="fixed")
    add_fee(conn, "PARK", price="50.00", basis="fixed", kinds=("parking",))
    run(conn, "2026-11", as_of=date(2026, 11, 1))
    r = reports.collection(conn, first=NOV, last=NOV, as_of=AS_OF, by="building")
    assert [(g.key, g.label, g.due_fen) for g in r.groups] == [
        ("1", "1栋", 10000),
        ("2", "2栋", 10000),
        ("P", "P（车位）", 5000),
    ]


def brute_force(conn, first: str, last: str, day: str, start: str, end: str) -> dict:
    """The same figures bill by bill, without the settled-on shortcut."""
    late = {r[0] for r in conn.execute("SELECT id FROM fee_item WHERE code = 'LATEFEE'")}
    totals = dict.fromkeys(
        ("due", "collected", "unpaid", "arrears", "arrears_adj", "reopened", "cleared"), 0
    )
    reversed_on = dict(conn.execute("SELECT payment_id, reversed_on FROM reversal"))
    for bid, period, amount, item, covers_from in conn.execute(
        "SELECT id, period, amount_fen, fee_item_id, covers_from FROM bill"
    ):
        if item in late or period > last or (period >= first and covers_from > day):
            continue
        adjustments = conn.execute(
            "SELECT made_on, amount_fen FROM adjustment WHERE bill_id = ?", (bid,)
        ).fetchall()
        allocations = conn.execute(
            "SELECT allocated_on, amount_fen FROM allocation WHERE bill_id = ?", (bid,)
        ).fetchall()
        # allocations made before S that a reversal from S to C took back
        reopened = sum(
            fen
            for payment, on, fen in conn.execute(
                "SELECT payment_id, allocated_on, amount_fen FROM allocation "
                "WHERE bill_id = ? AND reversal_id IS NULL",
                (bid,),
            )
            if on < start and start <= reversed_on.get(payment, "") <= end
        )

        def total(rows, low="", high="9999"):
            return sum(fen for on, fen in rows if low <= on <= high)

        if period >= first:
            due = amount + total(adjustments, high=day)
            paid = total(allocations, high=day)
            totals["due"] += due
            totals["collected"] += paid
            totals["unpaid"] += max(due - paid, 0)
        else:
            owed = (
                amount
                + sum(f for on, f in adjustments if on < start)
                - sum(f for on, f in allocations if on < start)
            )
            if owed > 0 or reopened > 0:
                totals["arrears"] += max(owed, 0)
                totals["arrears_adj"] += total(adjustments, start, end)
                totals["reopened"] += reopened
                totals["cleared"] += total(allocations, start, end) + reopened
    return totals


def stir(conn) -> None:
    """Reverse some payments, waive and correct some bills, leave credit and apply it later."""
    payments = conn.execute(
        "SELECT receipt_no, max(paid_on, recorded_on) FROM payment WHERE channel <> 'opening' "
        "AND paid_on >= "
        "'2026-10-01' ORDER BY id"
    ).fetchall()
    with transaction(conn):
        for receipt, paid_on in payments[::9]:
            on = max(date.fromisoformat(paid_on), date(2026, 11, 3))
            ledger.reverse_payment(conn, receipt, reason="退款", on=on, now=NOW)
    open_bills = conn.execute(
        "SELECT id, amount_fen FROM bill WHERE settled_on IS NULL AND amount_fen > 300 ORDER BY id"
    ).fetchall()
    with transaction(conn):
        for number, (bid, fen) in enumerate(open_bills[::7]):
            bills.adjust(
                conn,
                bid,
                amount_fen=-(fen // 3) if number % 2 else 150,
                kind="waiver" if number % 2 else "correction",
                reason="测试",
                approved_by="王经理",
                basis_ref="" if number % 2 else "PROP",
                on=date(2026, 10, 25) + timedelta(days=number % 20),
                now=NOW,
                settings=DEFAULTS,
            )
    units = [r[0] for r in conn.execute("SELECT code FROM unit ORDER BY id LIMIT 40")]
    for code in units[::4]:
        pay(conn, code, 123456, date(2026, 11, 4))  # more than owed: credit
    with transaction(conn):
        ledger.apply_credit(conn, on=date(2026, 11, 12), now=NOW)


@pytest.mark.parametrize(
    "first, last, day",
    [
        ("2026-11", "2026-11", "2026-11-15"),
        ("2026-11", "2026-11", "2026-11-05"),
        ("2026-10", "2026-10", "2026-11-15"),
        ("2026-06", "2026-09", "2026-11-15"),
    ],
)
def test_the_demo_agrees_with_a_bill_by_bill_sum(engine, tmp_path, request, first, last, day):
    from propfee.core.periods import month_end, parse_period
    from propfee.store import db

    demo = build_demo(engine, tmp_path / "demo", request, "--as-of", "2026-11-15")
    conn = db.connect(demo.database)
    try:
        stir(conn)
        start, stop = parse_period(first), parse_period(last)
        as_of = date.fromisoformat(day)
        window_end = min(month_end(stop), as_of).isoformat()
        expect = brute_force(conn, first, last, day, start.isoformat(), window_end)
        for by in (None, "building", "fee", "kind"):
            result = reports.collection(conn, first=start, last=stop, as_of=as_of, by=by)
            t = result.total
            got = {
                "due": t.due_fen,
                "collected": t.collected_fen,
                "unpaid": t.unpaid_fen,
                "arrears": t.arrears_fen,
                "arrears_adj": t.arrears_adjusted_fen,
                "reopened": t.reopened_fen,
                "cleared": t.cleared_fen,
            }
            assert got == expect, by
            for figures in [*result.groups, t]:
                for rate in (figures.current_rate, figures.clearance_rate, figures.overall_rate):
                    assert rate is None or 0 <= rate <= 100, (by, figures.key)
        if first == "2026-11":
            assert expect["reopened"] > 0  # stir reversed October money in November
        trend = reports.collection(conn, first=stop, last=stop, as_of=as_of).trend[-1]
        single = brute_force(conn, last, last, day, stop.isoformat(), window_end)
        assert (trend.due_fen, trend.collected_fen) == (single["due"], single["collected"])
    finally:
        conn.close()
