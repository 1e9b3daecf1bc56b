"""Bounds wherever money or time enters, and the smaller wrong results of issue 14."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import datetime

import pytest

import propfee.cli.arrears
from propfee.files import tabular

from conftest import PROP_FEE, database_made, dump, published_fees, query, write_csv, write_xlsx

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"],
    ["3-1-301", "住宅", "100", "李四", "13900001111", "2020-01-01"],
    ["5-1-501", "住宅", "100", "王五", "13700001111", "2020-01-01"],
]


@pytest.fixture
def priced(cli, tmp_path):
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    cli(*published_fees(tmp_path))
    return cli


def _count(database, sql: str) -> int:
    return query(database, sql)[0][0]


# ---------------------------------------------------------------- bounds


def test_an_absurd_area_is_refused_with_the_limit(cli, tmp_path, database):
    rows = [ROSTER[0], ["1-1-101", "住宅", "13912345678", "张三", "", "2020-01-01"]]
    result = cli("import-units", str(write_csv(tmp_path / "r.csv", rows)))
    assert result.exit_code == 1
    assert "第 2 行" in result.stderr and "100,000 ㎡" in result.stderr
    assert not database_made(database)  # a failed first import leaves no database


def test_a_failed_first_import_leaves_no_estate_of_zero_units(cli, tmp_path, database):
    bad = write_csv(tmp_path / "r.csv", [ROSTER[0], ["1-1-101", "住宅", "abc", "张三", "", ""]])
    assert cli("import-units", str(bad)).exit_code == 1
    assert not database_made(database)
    listed = cli("units", "list")
    assert listed.exit_code == 1 and "数据库不存在" in listed.stderr


def test_an_unterminated_quote_is_a_row_error(cli, tmp_path, database):
    path = tmp_path / "r.csv"
    path.write_text(
        "房号,房屋类型,建筑面积,业主,手机号,交付日期\n"
        "1-1-101,住宅,100,张三,13812341234,2020-01-01\n"
        '1-1-102,住宅,100,"李四,13900001111,2020-01-01\n'
        "1-1-103,住宅,100,王五,13700001111,2020-01-01\n",
        encoding="utf-8",
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 1 and "第 3 行" in result.stderr and "引号" in result.stderr
    assert not database_made(database)


def test_a_quote_closed_rows_later_is_a_row_error(priced, tmp_path, database):
    path = tmp_path / "r.csv"
    path.write_text(
        "房号,房屋类型,建筑面积,业主,手机号,交付日期\n"
        '1-1-101,住宅,100,"张三,13812341234,2020-01-01\n'
        '1-1-102,住宅,100,李四",13900001111,2020-01-01\n',
        encoding="utf-8",
    )
    before = dump(database)
    result = priced("import-units", str(path))
    assert result.exit_code == 1 and "第 2 行" in result.stderr and "引号" in result.stderr
    assert dump(database) == before


def test_a_workbook_that_inflates_past_the_limit_is_refused(cli, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "r.xlsx", ROSTER)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b"\0" * 3_000_000)
    monkeypatch.setattr(tabular, "MAX_UNZIPPED_BYTES", 2_000_000)
    result = cli("import-units", str(path))
    assert result.exit_code == 1 and "超过上限 1 MB" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("pay", "1-1-101", "100", "--channel", "cash", "--as-of", "9999-12-31"), "晚于今天"),
        (("pay", "1-1-101", "100", "--channel", "cash", "--date", "1900-01-01"), "早于 2000"),
        (("pay", "1-1-101", "99999999999999", "--channel", "cash"), "超过单笔缴费的上限"),
        (("reverse", "2027-000001", "--reason", "x", "--as-of", "9999-12-31"), "晚于今天"),
    ],
)
def test_absurd_payment_days_and_amounts_are_refused(priced, database, args, words):
    before = dump(database)
    result = priced(*args)
    assert result.exit_code == 1 and words in result.stderr, result.output
    assert dump(database) == before


def test_an_absurd_adjustment_is_refused(priced, database):
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    before = dump(database)
    result = priced(
        "adjust", "1", "--amount", "99999999999999", "--kind", "correction",
        "--reason", "x", "--approved-by", "王经理",
    )  # fmt: skip
    assert result.exit_code == 1 and "超过单笔上限" in result.stderr
    assert dump(database) == before
    assert priced("report", "collection", "--as-of", "2026-11-30").exit_code == 0


def test_a_price_past_the_ceiling_is_refused(priced):
    result = priced(
        "fees", "add", "BIG", "--name", "大额", "--basis", "area", "--price", "99999999",
        "--kinds", "residential", "--from", "2020-01-01",
    )  # fmt: skip
    assert result.exit_code == 1 and "超过单价上限" in result.stderr


def test_a_bill_past_the_ceiling_is_refused_before_sqlite(cli, tmp_path, database):
    rows = [ROSTER[0], ["9-1-901", "商铺", "100000", "某公司", "", "2020-01-01"]]
    assert cli("import-units", str(write_csv(tmp_path / "r.csv", rows))).exit_code == 0
    cli(
        "fees", "add", "SHOP", "--name", "商业物业服务费", "--basis", "area", "--price",
        "999999", "--kinds", "商铺", "--from", "2020-01-01",
    )  # fmt: skip
    cli(*published_fees(tmp_path))
    before = dump(database)
    result = cli("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    assert result.exit_code == 1 and "9-1-901 SHOP 2026-11" in result.stderr
    assert dump(database) == before
    assert cli("check").exit_code == 0


@pytest.mark.parametrize(
    ("cells", "words"),
    [
        (["1-1-101", "2026-10-31", "99999999999"], "读数上限"),
        (["1-1-101", "1999-10-31", "100"], "抄表日期须在"),
    ],
)
def test_absurd_readings_are_refused(priced, tmp_path, database, cells, words):
    path = write_csv(tmp_path / "r.csv", [["房号", "抄表日期", "本次读数"], cells])
    before = dump(database)
    result = priced("readings", "import", str(path), "--meter", "water")
    assert result.exit_code == 1 and words in result.stderr and "第 2 行" in result.stderr
    assert dump(database) == before


# ---------------------------------------------------------------- the smaller wrong results


def test_a_zero_bill_is_settled_and_check_passes(cli, tmp_path, database):
    rows = [ROSTER[0], ["S-1", "储藏室", "1.00", "张三", "", "2026-11-30"]]
    cli("import-units", str(write_csv(tmp_path / "r.csv", rows)))
    cli(
        "fees", "add", "STOR", "--name", "储藏室管理费", "--basis", "area", "--price", "0.10",
        "--kinds", "储藏室", "--from", "2020-01-01",
    )  # fmt: skip
    cli(*published_fees(tmp_path))
    assert cli("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    # the developer's 29 days are ¥0.10, the owner's one day rounds to ¥0.00
    assert _count(database, "SELECT count(*) FROM bill WHERE amount_fen = 0") == 1
    assert _count(database, "SELECT settled_on = due_on FROM bill WHERE amount_fen = 0") == 1
    assert cli("check").exit_code == 0
    assert cli("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    assert _count(database, "SELECT count(*) FROM bill") == 2  # nothing billed twice


def test_bill_two_buildings_bills_both(priced, database):
    result = priced(
        "bill", "--period", "2026-11", "--building", "1", "--building", "3",
        "--as-of", "2026-11-01",
    )  # fmt: skip
    assert result.exit_code == 0
    billed = [r[0] for r in query(
        database, "SELECT u.code FROM bill b JOIN unit u ON u.id = b.unit_id ORDER BY u.code"
    )]  # fmt: skip
    assert billed == ["1-1-101", "3-1-301"]


def _arrears_of(path) -> str:
    text = re.sub(r"<style.*?</style>|<[^>]+>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"\s+", " ", text)
    return text[text.index("往期未缴") : text.index("往期合计")]


def test_bill_notices_show_the_arrears_notices_show(priced, tmp_path):
    priced(
        "fees", "add", "QTR", "--name", "垃圾清运费", "--basis", "fixed", "--price", "30",
        "--cycle", "quarterly", "--kinds", "residential", "--from", "2020-01-01",
    )  # fmt: skip
    priced(*published_fees(tmp_path))
    priced("bill", "--period", "2026-10", "--item", "PROP", "--as-of", "2026-10-01")
    billed = priced(
        "bill", "--period", "2026-11", "--building", "1", "--notices", str(tmp_path / "a"),
        "--as-of", "2026-11-01",
    )  # fmt: skip
    assert billed.exit_code == 0, billed.output
    priced("notices", "--period", "2026-11", "--out", str(tmp_path / "b"), "--as-of", "2026-11-01")
    with_bill = _arrears_of(tmp_path / "a" / "缴费通知单-2026-11.html")
    alone = _arrears_of(tmp_path / "b" / "缴费通知单-2026-11.html")
    october = "1-1-101 物业服务费 2026-10-01 至 2026-10-31"
    assert october in with_bill and october in alone


def test_the_visit_rate_never_passes_a_hundred_percent(priced):
    def run(*args):
        result = priced("complain", *args)
        assert result.exit_code == 0, result.output
        return result

    run("add", "1-1-101", "--kind", "complaint", "--category", "维修", "--description", "漏水",
        "--at", "2026-11-02 10:00")  # fmt: skip
    run("resolve", "TS2026-0001", "--note", "修好", "--at", "2026-11-03 10:00")
    run("visit", "TS2026-0001", "--score", "1", "--at", "2026-11-04 10:00")  # reopens it
    run("resolve", "TS2026-0001", "--note", "再修", "--at", "2026-11-05 10:00")
    report = json.loads(run("report", "--at", "2026-11-20 10:00", "-f", "json").stdout)
    assert report["resolved"] == 1 and report["visited"] == 0
    run("visit", "TS2026-0001", "--score", "5", "--at", "2026-11-06 10:00")
    report = json.loads(run("report", "--at", "2026-11-20 10:00", "-f", "json").stdout)
    assert report["visited"] == 1 and report["visit_rate"] == 1.0


def test_an_ignored_column_never_makes_the_first_data_row_a_header(cli, tmp_path, database):
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["房号", "建筑面积", "业主", "联系电话"],
            ["1-1-101", "89", "张三", "13812341234"],
            ["1-1-102", "90", "李四", "13912341234"],
        ],
    )
    column_map = tmp_path / "map.toml"
    column_map.write_text('[columns]\n"联系电话" = "ignore"\n', encoding="utf-8")
    result = cli("import-units", str(path), "--map", str(column_map))
    assert result.exit_code == 0 and "2 套房屋" in result.stdout


def test_remind_as_of_a_past_day_ignores_the_wall_clock(history, cli, monkeypatch):
    monkeypatch.setattr(propfee.cli.arrears, "now", lambda: datetime(2027, 6, 30, 23, 30))
    result = cli("remind", "--as-of", "2026-10-20", "--format", "json", "--dry-run")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "quiet hours" not in doc["skipped"] and doc["produced"]["gentle"] == 2
    late = cli("remind", "--as-of", "2026-10-20", "--at", "23:00", "--format", "json", "--dry-run")
    assert json.loads(late.stdout)["skipped"]["quiet hours"] == 2


def test_units_left_without_an_owner_are_counted_and_warned(cli, tmp_path):
    rows = [
        ["房号", "建筑面积", "业主", "交付日期"],
        ["1-1-101", "89", "张三", "2020-01-01"],
        ["1-1-102", "90", "未售", "2020-01-01"],
    ]
    result = cli("import-units", str(write_csv(tmp_path / "r.csv", rows)), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["developer_paid"] == 1
    text = cli("import-units", str(write_csv(tmp_path / "r2.csv", rows)))
    assert "1 户没有业主，按开发建设单位缴费（1-1-102）" in text.stderr
