"""Reconciling what WeChat Pay, Alipay and banks export."""

import json
from datetime import date

import pytest
from statement_samples import alipay_old, bank_xlsx, wechat_bill, wechat_merchant

from propfee.core.errors import FileFormatError, RowErrors
from propfee.payments import ledger, reconciliation

from conftest import dump, reconcile

AS_OF = date(2026, 12, 1)


def payments(conn):
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT u.code, p.amount_fen, p.channel, p.ref, p.paid_on, p.payer FROM payment p "
            "JOIN unit u ON u.id = p.unit_id ORDER BY p.id"
        )
    ]


WECHAT_LINES = [
    (
        "2026-11-15 10:23:45",
        "张三",
        "转账备注:1-1-1001物业费",
        "收入",
        "400.00",
        "已存入零钱",
        "1000050001202611150123456789012",
        "/",
    ),
    (
        "2026-11-16 09:00:00",
        "李四",
        "物业费",
        "收入",
        "200.00",
        "已存入零钱",
        "1000050001202611160000000000001",
        "1-1-1002 十一月",
    ),
    (
        "2026-11-17 12:00:00",
        "美团外卖",
        "午餐",
        "支出",
        "35.00",
        "支付成功",
        "4200001111202611170000000000001",
        "/",
    ),
    (
        "2026-11-18 08:00:00",
        "王老板",
        "转账",
        "收入",
        "300.00",
        "已存入零钱",
        "1000050001202611180000000000001",
        "/",
    ),
    (
        "2026-11-19 08:00:00",
        "赵六",
        "转账备注:2-1-502",
        "收入",
        "100.00",
        "已全额退款",
        "1000050001202611190000000000001",
        "/",
    ),
]


def test_a_wechat_bill_export(estate3, tmp_path):
    path = wechat_bill(tmp_path / "微信支付账单(20261101-20261130).csv", WECHAT_LINES)
    report = reconcile(estate3, path)
    assert report.channel == "wechat"
    assert [(unit, line.amount_fen) for line, unit, _ in report.recorded] == [
        ("1-1-1001", 40000),
        ("1-1-1002", 20000),
    ]
    assert payments(estate3)[0] == (
        "1-1-1001",
        40000,
        "wechat",
        "1000050001202611150123456789012",
        "2026-11-15",
        "张三",
    )
    assert [(r.line.row, r.reason) for r in report.review] == [(21, "备注里没有房号")]
    assert report.ignored == {"outgoing": 1, "refunded or failed": 1}
    assert ledger.check(estate3) == []


def test_an_unmatched_line_is_listed_with_candidates_never_guessed(estate3, tmp_path):
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            ("2026-11-20 10:00:00", "张三", "转账", "收入", "200.00", "已存入零钱", "T1", "/"),
            (
                "2026-11-20 11:00:00",
                "某人",
                "付款 13812341234",
                "收入",
                "50.00",
                "已存入零钱",
                "T2",
                "/",
            ),
            (
                "2026-11-20 12:00:00",
                "某人",
                "1-1-1001和1-1-1002",
                "收入",
                "60.00",
                "已存入零钱",
                "T3",
                "/",
            ),
        ],
    )
    report = reconcile(estate3, path)
    assert report.recorded == []
    assert [(r.line.ref, r.candidates) for r in report.review] == [
        ("T1", ["1-1-1001"]),
        ("T2", ["1-1-1001"]),
        ("T3", ["1-1-1001", "1-1-1002"]),
    ]
    assert "备注里有 2 个房号" in report.review[2].reason
    assert payments(estate3) == []


def test_confirming_lines_and_the_review_file_round_trip(estate3, tmp_path):
    path = wechat_bill(tmp_path / "w.csv", WECHAT_LINES)
    first = reconcile(estate3, path)
    review = tmp_path / "review.csv"
    reconciliation.write_review(first, review)
    text = review.read_text(encoding="utf-8-sig")
    assert "王老板" in text and "房号" in text.splitlines()[0]
    filled = text.replace('"\n', '"\n').splitlines()
    filled[1] = filled[1] + "2-1-502"
    review.write_text("\ufeff" + "\n".join(filled) + "\n", encoding="utf-8")
    second = reconcile(estate3, path, review_in=review)
    assert second.already == 2
    assert [(unit, line.amount_fen) for line, unit, _ in second.recorded] == [("2-1-502", 30000)]
    assert second.review == []
    with pytest.raises(RowErrors, match="行有误"):
        reconcile(
            estate3,
            wechat_bill(
                tmp_path / "x.csv",
                [("2026-11-21 10:00:00", "某", "转账", "收入", "1.00", "已存入零钱", "T9", "/")],
            ),
            confirm={"T9": "9-9-999"},
        )


def test_overlapping_statements_are_safe(estate3, tmp_path, db_path):
    path = wechat_bill(tmp_path / "w.csv", WECHAT_LINES[:2])
    reconcile(estate3, path)
    before = dump(db_path)
    again = reconcile(estate3, wechat_bill(tmp_path / "w2.csv", WECHAT_LINES))
    assert again.already == 2 and len(again.recorded) == 0
    assert dump(db_path) == before


def test_a_gbk_alipay_export(estate3, tmp_path):
    path = alipay_old(
        tmp_path / "alipay_record_20261201.csv",
        [
            (
                "2026111522001412345678901234",
                "2026-11-15 10:23:45",
                "李四",
                "1-1-1002物业费",
                "200.00",
                "收入",
                "交易成功",
                "",
            ),
            (
                "2026111622001412345678901235",
                "2026-11-16 10:00:00",
                "王五",
                "物业费",
                "300.00",
                "收入",
                "交易成功",
                "2-1-502",
            ),
            (
                "2026111722001412345678901236",
                "2026-11-17 10:00:00",
                "淘宝",
                "日用品",
                "99.00",
                "支出",
                "交易成功",
                "",
            ),
            (
                "2026111822001412345678901237",
                "2026-11-18 10:00:00",
                "张三",
                "1-1-1001",
                "100.00",
                "收入",
                "交易关闭",
                "",
            ),
        ],
    )
    report = reconcile(estate3, path)
    assert report.channel == "alipay"
    assert [(unit, line.amount_fen, line.ref) for line, unit, _ in report.recorded] == [
        ("1-1-1002", 20000, "2026111522001412345678901234"),
        ("2-1-502", 30000, "2026111622001412345678901235"),
    ]
    assert report.ignored == {"outgoing": 1, "refunded or failed": 1}


def test_a_wechat_merchant_export(estate3, tmp_path):
    path = wechat_merchant(
        tmp_path / "merchant.csv",
        [
            (
                "2026-11-15 10:00:00",
                "4200002001202611150000000001",
                "SUCCESS",
                "400.00",
                "1-1-1001物业费",
                "",
            ),
            (
                "2026-11-15 11:00:00",
                "4200002001202611150000000002",
                "REFUND",
                "200.00",
                "1-1-1002物业费",
                "",
            ),
            (
                "2026-11-15 12:00:00",
                "4200002001202611150000000003",
                "SUCCESS",
                "600.00",
                "物业费",
                "room=2-1-502",
            ),
        ],
    )
    report = reconcile(estate3, path)
    assert report.channel == "wechat"
    assert [(unit, line.amount_fen) for line, unit, _ in report.recorded] == [
        ("1-1-1001", 40000),
        ("2-1-502", 60000),
    ]


def test_a_bank_statement_with_a_profile(estate3, tmp_path):
    path = bank_xlsx(
        tmp_path / "流水.xlsx",
        [
            ("2026-11-15", "1,200.00", None, "王五", "2-1-502物业费", "SN0001"),
            ("2026-11-16", None, "3,500.00", "兰州电力", "电费", "SN0002"),
            ("2026-11-17", "400.00", None, "张三", "1栋1单元1001", "SN0003"),
        ],
    )
    with pytest.raises(FileFormatError, match="--profile bank"):
        reconcile(estate3, path)
    report = reconcile(estate3, path, reconciliation.load_profile("bank"))
    assert [(unit, line.amount_fen) for line, unit, _ in report.recorded] == [
        ("2-1-502", 120000),
        ("1-1-1001", 40000),
    ]
    assert report.ignored == {"outgoing": 1}
    profile = tmp_path / "兰州银行.toml"
    profile.write_text(
        'name = "兰州银行"\nchannel = "bank"\n[columns]\nmemo = "摘要"\n'
        'ref = "交易流水号"\n[format]\nskip = ["^合计"]\n',
        encoding="utf-8",
    )
    assert reconciliation.load_profile(str(profile)).name == "兰州银行"


def test_codes_in_memos():
    known = {"1-1-1001", "1-1-10", "2-1-502", "A座-1201", "P-001"}
    assert reconciliation.codes_in("1-1-1001物业费", known) == ["1-1-1001"]
    assert reconciliation.codes_in("１－１－１００１ 十一月", known) == ["1-1-1001"]
    assert reconciliation.codes_in("1栋1单元1001室", known) == ["1-1-1001"]
    assert reconciliation.codes_in("A座-1201 11月", known) == ["A座-1201"]
    assert reconciliation.codes_in("车位P-001", known) == ["P-001"]
    assert reconciliation.codes_in("房号1001", known) == []
    assert reconciliation.codes_in("1-1-1001 2-1-502", known) == ["1-1-1001", "2-1-502"]


def test_dry_run_and_json_from_the_command_line(estate3, cli, tmp_path, db_path):
    path = wechat_bill(tmp_path / "w.csv", WECHAT_LINES)
    before = dump(db_path)
    dry = cli("reconcile", str(path), "--as-of", "2026-12-01", "--dry-run")
    assert dry.exit_code == 0 and "记录缴费 2 笔" in dry.stdout and "试运行" in dry.stdout
    assert dump(db_path) == before
    result = cli(
        "reconcile",
        str(path),
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
        "--confirm",
        "21=2-1-502",
    )
    document = json.loads(result.stdout)
    assert [r["unit"] for r in document["recorded"]] == ["1-1-1001", "1-1-1002", "2-1-502"]
    assert document["needs_review"] == []
    assert document["ignored"] == {"outgoing": 1, "refunded or failed": 1}
    not_a_statement = tmp_path / "roster.csv"
    not_a_statement.write_text("房号,业主\n1-1-1001,张三\n", encoding="utf-8")
    refused = cli("reconcile", str(not_a_statement))
    assert refused.exit_code == 1 and "找不到对账单表头" in refused.stderr


def test_malformed_lines_are_row_errors(estate3, tmp_path, db_path):
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            ("2026-11-15 10:23:45", "张三", "1-1-1001", "收入", "abc", "已存入零钱", "T1", "/"),
            ("2026-13-45 10:23:45", "张三", "1-1-1001", "收入", "1.00", "已存入零钱", "T2", "/"),
        ],
    )
    before = dump(db_path)
    with pytest.raises(RowErrors) as caught:
        reconcile(estate3, path)
    assert [e.row for e in caught.value.errors] == [18, 19]
    assert dump(db_path) == before
