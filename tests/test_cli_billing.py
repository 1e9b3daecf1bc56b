"""The billing commands end to end."""

import json
import subprocess
import sys

import pytest

from propfee.payments.ledger import unit_bills
from propfee.store import db

from conftest import PROP_FEE, bills, dump, write_csv

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "89.37", "张三", "13812341234", "2020-01-01"],
    ["1-1-102", "住宅", "120", "李四", "13900001111", "2026-11-16"],
    ["P-001", "车位", "", "张三", "13812341234", "2020-01-01"],
]


@pytest.fixture
def priced(cli, tmp_path):
    cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER)))
    assert cli(*PROP_FEE).exit_code == 0
    assert (
        cli(
            "fees",
            "add",
            "PARK",
            "--name",
            "停车服务费",
            "--basis",
            "fixed",
            "--price",
            "80",
            "--kinds",
            "车位",
            "--from",
            "2020-01-01",
            "--unit-label",
            "元/个·月",
        ).exit_code
        == 0
    )
    return cli


def test_the_monthly_loop_from_the_command_line(priced, tmp_path, db_path):
    refused = priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    assert refused.exit_code == 1
    assert "从未公示" in refused.stderr and "propfee fees publish" in refused.stderr
    published = priced("fees", "publish", "--out", str(tmp_path / "pub"), "--recorded-later", "--published-on", "2026-10-01", "--evidence", "公示照片 IMG_0231.jpg")
    assert published.exit_code == 0 and "新公示价格 2 个" in published.stdout
    listing = priced("fees", "list", "--format", "json", "--as-of", "2026-11-01")
    listing = json.loads(listing.stdout)["rows"]
    assert [(i["code"], i["price"], i["published_on"]) for i in listing] == [
        ("PROP", "2.50", "2026-10-01"),
        ("PARK", "80.00", "2026-10-01"),
    ]
    dry = priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--dry-run")
    assert dry.exit_code == 0 and "试运行" in dry.stdout
    result = priced(
        "bill",
        "--period",
        "2026-11",
        "--as-of",
        "2026-11-01",
        "--format",
        "json",
        "--notices",
        str(tmp_path / "notices"),
    )
    report = json.loads(result.stdout)
    assert (report["created"], report["total"]) == (4, "603.43")  # 223.43 + 150 + 150 + 80
    assert report["skipped"] == []
    assert (tmp_path / "notices" / "sms-2026-11.csv").exists()
    again = json.loads(
        priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--format", "json").stdout
    )
    assert (again["created"], again["already_billed"]) == (0, 3)
    shown = json.loads(priced("units", "show", "1-1-101", "--format", "json").stdout)
    assert [(b["period"], b["amount"], b["outstanding"]) for b in shown["bills"]] == [
        ("2026-11", "223.43", "223.43")
    ]
    assert shown["owed"] == "223.43"
    adjusted = priced(
        "adjust",
        str(shown["bills"][0]["id"]),
        "--amount",
        "-23.43",
        "--kind",
        "waiver",
        "--reason",
        "电梯维修停运",
        "--approved-by",
        "王经理",
        "--as-of",
        "2026-11-20",
    )
    assert adjusted.exit_code == 0 and "未缴 ¥200.00" in adjusted.stdout
    notices = priced(
        "notices", "--period", "2026-11", "--out", str(tmp_path / "n2"), "--as-of", "2026-11-01"
    )
    assert notices.exit_code == 0 and "通知单 3 张" in notices.stdout
    assert "没有电话" in notices.stderr  # the developer's notice is for print


def test_fees_show_and_set_price(priced, tmp_path):
    priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", "--published-on", "2026-10-01", "--evidence", "公示照片 IMG_0231.jpg")
    changed = priced("fees", "set-price", "PROP", "--price", "2.80", "--from", "2027-01-01")
    assert changed.exit_code == 0 and "尚未公示" in changed.stdout
    shown = json.loads(priced("fees", "show", "PROP", "--format", "json").stdout)
    assert [(p["price"], p["from"], p["published_on"]) for p in shown["prices"]] == [
        ("2.50", "2020-01-01", "2026-10-01"),
        ("2.80", "2027-01-01", None),
    ]
    late = priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", "--published-on", "2026-12-15", "--evidence", "公示照片 IMG_0231.jpg")
    assert "不足一个月" in late.stderr
    assert "PROP" in priced("fees", "show", "PROP").stdout
    unknown = priced("fees", "show", "NOPE")
    assert unknown.exit_code == 1 and "没有收费项目 'NOPE'" in unknown.stderr


def test_bill_refuses_more_than_a_year_ahead(priced):
    result = priced("bill", "--from", "2026-11", "--through", "2027-12", "--as-of", "2026-11-01")
    assert result.exit_code == 1 and "之后 12 个月" in result.stderr


def test_readings_and_history_commands(priced, tmp_path):
    readings = write_csv(
        tmp_path / "r.csv", [["房号", "抄表日期", "本次读数"], ["1-1-101", "2026-10-31", "100"]]
    )
    result = priced("readings", "import", str(readings), "--meter", "water")
    assert result.exit_code == 0 and "新增读数 1 条" in result.stdout
    history = write_csv(
        tmp_path / "h.csv",
        [
            ["房号", "收费项目", "所属期间", "应收金额", "实收金额", "缴费日期"],
            ["1-1-101", "物业服务费", "2026-01~2026-06", "1340.58", "1000", "2026-02-01"],
        ],
    )
    result = priced("import-history", str(history))
    assert result.exit_code == 0 and "期初账单 1 条" in result.stdout
    again = priced("import-history", str(history))
    assert "未变 1 条" in again.stdout
    bad = write_csv(
        tmp_path / "bad.csv",
        [["房号", "收费项目", "所属期间", "应收金额"], ["1-1-101", "暖气费", "2026-01", "10"]],
    )
    failed = priced("import-history", str(bad))
    assert failed.exit_code == 1 and "第 2 行" in failed.stderr


@pytest.mark.slow
def test_two_bill_runs_at_once_make_one_set_of_bills(priced, tmp_path, db_path):
    priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", "--published-on", "2026-10-01", "--evidence", "公示照片 IMG_0231.jpg")
    rows = [ROSTER[0]] + [
        [f"9-1-{i}", "住宅", "90", f"业主{i}", "", "2020-01-01"] for i in range(3000)
    ]
    priced("import-units", str(write_csv(tmp_path / "more.csv", rows)))
    command = [
        sys.executable,
        "-m",
        "propfee",
        "bill",
        "--from",
        "2026-11",
        "--through",
        "2026-12",
        "--as-of",
        "2026-11-01",
        "--db",
        str(db_path),
        "--format",
        "json",
    ]
    procs = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
        )
        for _ in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "locked" not in err
        outputs.append(json.loads(out))
    conn = db.connect(db_path)
    total = conn.execute("SELECT count(*) FROM bill").fetchone()[0]
    assert total == 6007  # 3000 new homes and the three units above, for two months
    assert sorted(o["created"] for o in outputs) == [0, total]
    duplicates = conn.execute(
        "SELECT count(*) FROM (SELECT unit_id, fee_item_id, period FROM bill "
        "GROUP BY unit_id, fee_item_id, period, seq HAVING count(*) > 1) AS twice"
    ).fetchone()[0]
    assert duplicates == 0
    conn.close()


def test_adjust_errors_are_one_line(priced, tmp_path):
    priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", "--published-on", "2026-10-01", "--evidence", "公示照片 IMG_0231.jpg")
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    positive = priced(
        "adjust", "1", "--amount", "50", "--kind", "waiver", "--reason", "x", "--approved-by", "y"
    )
    assert positive.exit_code == 1 and "请写负数" in positive.stderr
    bad_amount = priced(
        "adjust", "1", "--amount", "abc", "--kind", "waiver", "--reason", "x", "--approved-by", "y"
    )
    assert bad_amount.exit_code == 1 and "不是数字" in bad_amount.stderr


def test_unit_bills_through_the_api(priced, tmp_path, db_path):
    priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", "--published-on", "2026-10-01", "--evidence", "公示照片 IMG_0231.jpg")
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    conn = db.connect(db_path)
    assert [b.amount_fen for b in unit_bills(conn, 2)] == [15000, 15000]
    assert [b[7] for b in bills(conn, "1-1-102")] == ["开发建设单位", "李四"]
    before = dump(db_path)
    conn.close()
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--quiet")
    assert dump(db_path) == before
