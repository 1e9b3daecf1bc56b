"""Payments and reconciliation: what must never be half done, double counted or lost."""

import json
from datetime import date

import pytest
from statement_samples import wechat_bill

from propfee.config import DEFAULTS
from propfee.core.errors import PropfeeError, RowErrors
from propfee.payments import ledger, reconciliation
from propfee.store.db import transaction

from conftest import NOW, add_fee, dump, estate, home, reconcile, run

AS_OF = date(2026, 12, 1)


def payments(conn):
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT u.code, p.amount_fen, p.channel, p.ref FROM payment p "
            "JOIN unit u ON u.id = p.unit_id ORDER BY p.id"
        )
    ]


def line(day, who, goods, amount, ref, status="已存入零钱", direction="收入", note="/"):
    return (f"{day} 10:00:00", who, goods, direction, amount, status, ref, note)


# ---------------------------------------------------------------- B1: nothing half done


def test_pay_with_an_unwritable_receipt_records_nothing(estate3, cli, db_path, tmp_path):
    before = dump(db_path)
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "nodir" / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--receipt" in result.stderr and "不存在" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before


def test_pay_in_a_language_without_templates_records_nothing(estate3, cli, db_path):
    before = dump(db_path)
    result = cli("pay", "1-1-1001", "100", "--channel", "cash", "--language", "fr")
    assert result.exit_code == 1
    assert "--language fr" in result.stderr and "zh" in result.stderr
    assert dump(db_path) == before


def test_a_receipt_that_cannot_be_written_rolls_the_payment_back(
    estate3, cli, db_path, tmp_path, monkeypatch
):
    import os

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    before = dump(db_path)
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 1 and "无法写入" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before
    assert not (tmp_path / "r.html").exists()


def test_pay_writes_the_receipt(estate3, cli, tmp_path):
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "收款收据" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_reconcile_with_an_unwritable_review_file_records_nothing(estate3, cli, db_path, tmp_path):
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            line("2026-11-15", "张三", "1-1-1001物业费", "400.00", "T1"),
            line("2026-11-16", "某人", "物业费", "50.00", "T2"),
        ],
    )
    before = dump(db_path)
    result = cli(
        "reconcile", str(path), "--as-of", "2026-12-01",
        "--review-out", str(tmp_path / "nodir" / "x.csv"),
    )  # fmt: skip
    assert result.exit_code == 1 and "--review-out" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before
    done = cli(
        "reconcile", str(path), "--as-of", "2026-12-01", "--review-out", str(tmp_path / "x.csv")
    )
    assert done.exit_code == 0, done.stderr
    assert "T2" in (tmp_path / "x.csv").read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- B3: a reversal gives the ref back


def test_a_reversed_payment_can_be_recorded_again_with_its_ref(estate3, cli, conn):
    args = ("--channel", "wechat", "--ref", "4200001234", "--as-of", "2026-11-20")
    first = cli("pay", "1-1-1001", "360", *args, "-f", "json")
    assert json.loads(first.stdout)["receipt"] == "2026-000001"
    assert (
        cli("reverse", "2026-000001", "--reason", "录错房号", "--as-of", "2026-11-20").exit_code
        == 0
    )
    again = cli("pay", "1-1-1002", "360", *args, "-f", "json")
    assert again.exit_code == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["receipt"] == "2026-000002" and document["unit"] == "1-1-1002"
    assert document["already_recorded"] is False
    # the live one now holds the ref: the same again is "already", another unit an error
    assert json.loads(cli("pay", "1-1-1002", "360", *args, "-f", "json").stdout)["already_recorded"]
    clash = cli("pay", "2-1-502", "360", *args)
    assert clash.exit_code == 1 and "2026-000002" in clash.stderr
    assert ledger.check(conn) == []


def test_reconcile_records_again_what_was_reversed(estate3, tmp_path, conn):
    path = wechat_bill(
        tmp_path / "w.csv", [line("2026-11-15", "张三", "1-1-1001物业费", "400.00", "T1")]
    )
    reconcile(conn, path)
    with transaction(conn):
        ledger.reverse_payment(conn, "2026-000001", reason="退回", on=AS_OF, now=NOW)
    # the reversed line itself is not recorded again by re-reading the statement …
    again = reconcile(conn, path)
    assert again.recorded == [] and again.ignored == {
        "reversed earlier (confirm to record again)": 1
    }
    # … only on purpose; and the same ref for another unit or amount is recorded
    confirmed = reconcile(conn, path, confirm={"T1": "1-1-1001"})
    assert [r for _, _, r in confirmed.recorded] == ["2026-000002"]
    assert reconcile(conn, path).already == 1
    other = wechat_bill(
        tmp_path / "o.csv", [line("2026-11-16", "李四", "1-1-1002", "200.00", "T2")]
    )
    reconcile(conn, other)
    with transaction(conn):
        ledger.reverse_payment(conn, "2026-000003", reason="金额录错", on=AS_OF, now=NOW)
    fixed = wechat_bill(
        tmp_path / "f.csv", [line("2026-11-16", "李四", "1-1-1002", "250.00", "T2")]
    )
    assert [r for _, _, r in reconcile(conn, fixed).recorded] == ["2026-000004"]
    assert ledger.check(conn) == []


def _index_names(conn) -> set[str]:
    """The database's indexes, through propfee's connection (on PostgreSQL it reads the
    server's catalogue for the same question)."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_the_database_no_longer_holds_a_unique_ref_index(conn):
    indexes = _index_names(conn)
    assert "payment_ref" not in indexes and "payment_by_ref" in indexes


# ---------------------------------------------------------------- B2: a known ref is not always "already"


def test_a_known_wechat_ref_with_another_unit_or_amount_goes_to_review(estate3, tmp_path, conn):
    with transaction(conn):
        ledger.record_payment(
            conn, "1-1-1002", 36000, channel="wechat", ref="100005000120261123090000000000077",
            paid_on=date(2026, 11, 23), as_of=date(2026, 11, 23), now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            line(
                "2026-11-23", "宋", "1-1-1001物业费", "3600.00", "100005000120261123090000000000077"
            )
        ],
    )
    report = reconcile(conn, path)
    assert report.already == 0 and report.recorded == []
    [item] = report.review
    assert item.conflict and "2026-000001" in item.reason and "请冲正后重新对账" in item.reason
    assert item.candidates == ["1-1-1002"]
    with pytest.raises(RowErrors) as caught:
        reconcile(conn, path, confirm={"18": "1-1-1001"})
    assert "不能确认" in str(caught.value.errors[0])
    assert len(payments(conn)) == 1


def test_the_same_wechat_line_again_is_already_recorded(estate3, tmp_path, conn):
    path = wechat_bill(tmp_path / "w.csv", [line("2026-11-15", "张三", "物业费", "400.00", "T1")])
    reconcile(conn, path, confirm={"T1": "2-1-502"})
    again = reconcile(conn, path)  # no unit in the memo: the amount agrees, so it is the same
    assert again.already == 1 and again.review == []


def bank_csv(path, lines):
    rows = [
        "兰州银行股份有限公司 账户明细",
        "记账日期,柜员流水号,摘要,收入,支出,余额,对方名称,附言",
    ]
    rows += [
        f"{d},{serial},转账,{amount},,1.00,{who},{memo}" for d, serial, amount, who, memo in lines
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_bank_serial_that_repeats_is_never_dropped(estate3, tmp_path, conn):
    bank = reconciliation.load_profile("bank")
    reconcile(
        conn,
        bank_csv(tmp_path / "a.csv", [("20261121", "000123", "1234.56", "姚", "1-1-1002")]),
        bank,
    )
    later = bank_csv(tmp_path / "b.csv", [("20261123", "000123", "3165.00", "胡", "2-1-502")])
    report = reconcile(conn, later, bank)
    assert report.already == 0 and report.recorded == []
    [item] = report.review
    assert item.conflict and "银行流水号可能重复" in item.reason
    confirmed = reconcile(conn, later, bank, confirm={"3": "2-1-502"})
    assert [(u, line.amount_fen) for line, u, _ in confirmed.recorded] == [("2-1-502", 316500)]
    assert reconcile(conn, later, bank).already == 1  # re-running it changes nothing
    assert [p[:2] for p in payments(conn)] == [("1-1-1002", 123456), ("2-1-502", 316500)]
    assert ledger.check(conn) == []


def test_a_transaction_number_recorded_under_another_channel_is_the_same_money(
    estate3, tmp_path, conn
):
    ref = "100005000120261115000000000000001"
    path = wechat_bill(tmp_path / "w.csv", [line("2026-11-15", "张三", "1-1-1001", "400.00", ref)])
    with transaction(conn):  # typed at the counter under the wrong channel
        ledger.record_payment(
            conn, "1-1-1001", 40000, channel="alipay", ref=ref, paid_on=date(2026, 11, 15),
            as_of=AS_OF, now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    report = reconcile(conn, path)
    assert report.recorded == [] and report.review[0].conflict
    assert "已是支付宝收据" in report.review[0].reason


# ---------------------------------------------------------------- B4: refunds are flagged


def test_a_refund_in_the_same_merchant_export_names_the_receipt_to_reverse(
    estate3, tmp_path, conn, cli
):
    from statement_samples import wechat_merchant

    ref = "4200002001202611201234567801"
    path = wechat_merchant(
        tmp_path / "m.csv",
        [
            ("2026-11-20 08:30:11", ref, "SUCCESS", "400.00", "物业费-1-1-1001", ""),
            ("2026-11-22 10:30:11", ref, "REFUND", "400.00", "物业费-1-1-1001", ""),
        ],
    )
    result = cli("reconcile", str(path), "--as-of", "2026-12-01", "-f", "json")
    document = json.loads(result.stdout)
    assert [r["receipt"] for r in document["recorded"]] == ["2026-000001"]
    assert document["refunds_to_reverse"] == 1
    assert document["refunds"][0]["action"] == "退款：请冲正收据 2026-000001"
    assert "propfee reverse 2026-000001" in result.stderr
    again = json.loads(cli("reconcile", str(path), "--as-of", "2026-12-01", "-f", "json").stdout)
    assert again["already_recorded"] == 1 and again["refunds_to_reverse"] == 1  # still to do
    assert cli("reverse", "2026-000001", "--reason", "退款", "--as-of", "2026-12-01").exit_code == 0
    done = json.loads(cli("reconcile", str(path), "--as-of", "2026-12-01", "-f", "json").stdout)
    assert done["refunds_to_reverse"] == 0 and done["recorded"] == []
    assert done["ignored"] == {
        "reversed earlier (confirm to record again)": 1,
        "refund, receipt already reversed": 1,
    }


def test_an_alipay_refund_of_a_payment_recorded_earlier_is_flagged(estate3, tmp_path, conn):
    head = (
        "#支付宝账务明细查询\n"
        "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
        "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注\n"
    )
    paid = "1\t,2026112122001456789000000001\t,PF1\t,物业费,2026-11-21 09:00:00,张三,+1000.00,,1,支付宝,在线支付,1-1-1001\n"
    back = "2\t,2026112122001456789000000001\t,PF1\t,退款,2026-11-22 10:00:00,张三,,-400.00,1,支付宝,交易退款,1-1-1001\n"
    first = tmp_path / "a.csv"
    first.write_text(head + paid, encoding="utf-8")
    assert [r for _, _, r in reconcile(conn, first).recorded] == ["2026-000001"]
    second = tmp_path / "b.csv"
    second.write_text(head + back, encoding="utf-8")
    report = reconcile(conn, second)
    [refund] = report.refunds
    assert (refund.receipt, refund.line.amount_fen) == ("2026-000001", 40000)
    assert refund.action.startswith("退款：请冲正收据 2026-000001")
    assert "未退的 ¥600.00" in refund.action
    assert len(payments(conn)) == 1  # never reversed by itself


# ---------------------------------------------------------------- B5: bank headers


@pytest.mark.parametrize("debit, credit", [("借方金额", "贷方金额"), ("借方", "贷方")])
def test_a_bank_statement_with_a_date_and_a_time_column(estate3, tmp_path, conn, debit, credit):
    from datetime import datetime

    from conftest import write_xlsx

    path = write_xlsx(
        tmp_path / "lzb.xlsx",
        [
            ["兰州银行对公账户交易明细查询"],
            ["交易日期", "交易时间", "摘要", debit, credit, "余额", "对方户名", "附言", "交易流水号"],
            [datetime(2026, 11, 21), "09:15:02", "网银转入", None, 3398.4, 1, "王五", "2-1-502物业费", "B1"],
            [datetime(2026, 11, 21), "11:15:02", "代发工资", 850, None, 1, "工资户", "11月工资", "B2"],
        ],
    )  # fmt: skip
    report = reconcile(conn, path, reconciliation.load_profile("bank"))
    assert [(u, line.amount_fen, line.day) for line, u, _ in report.recorded] == [
        ("2-1-502", 339840, date(2026, 11, 21))
    ]
    assert report.ignored == {"outgoing": 1}


def test_a_statement_without_a_usable_header_names_what_is_missing(estate3, tmp_path, conn):
    from propfee.core.errors import FileFormatError

    path = tmp_path / "x.csv"
    path.write_text("日期,摘要,流水号\n2026-11-01,x,1\n", encoding="utf-8")
    with pytest.raises(FileFormatError) as caught:
        reconcile(conn, path, reconciliation.load_profile("bank"))
    message = str(caught.value)
    assert "没有金额" in message and "日期, 摘要, 流水号" in message
    assert "银行对账单请用" not in message
    path.write_text("日期,金额,摘要\n2026-11-01,1.00,x\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"没有交易单号列.*日期, 金额, 摘要"):
        reconcile(conn, path, reconciliation.load_profile("wechat"))
    # a bank statement without serial numbers: each line gets an identity from its fields
    report = reconcile(conn, path, reconciliation.load_profile("bank"))
    assert [r.line.ref[:2] for r in report.review] == ["BK"]


# ---------------------------------------------------------------- B7: a forced profile that does not fit


@pytest.mark.parametrize("forced", ["alipay", "bank"])
def test_a_forced_profile_that_contradicts_the_export_is_refused(estate3, tmp_path, conn, forced):
    from propfee.core.errors import FileFormatError

    path = wechat_bill(tmp_path / "w.csv", [line("2026-11-15", "张三", "1-1-1001", "400.00", "T1")])
    reconcile(conn, path)
    before = payments(conn)
    with pytest.raises(FileFormatError, match=r"微信支付导出的账单.*--profile auto"):
        reconcile(conn, path, reconciliation.load_profile(forced))
    assert payments(conn) == before
    assert reconcile(conn, path, reconciliation.load_profile("wechat")).already == 1


def test_a_bank_memo_naming_wechat_does_not_make_it_a_wechat_export(estate3, tmp_path, conn):
    path = bank_csv(
        tmp_path / "b.csv", [("20261121", "000123", "100.00", "微信支付", "微信转账 1-1-1001")]
    )
    report = reconcile(conn, path, reconciliation.load_profile("bank"))
    assert report.channel == "bank" and len(report.recorded) == 1


# ---------------------------------------------------------------- B6: the review file after Excel

REVIEW_LINES = [
    line("2026-11-20", "雷伟杰", "/", "300.00", "100003990120261120010020022331144"),
    line("2026-11-21", "某某", "转账备注:物业费", "3400.00", "100005000120261121010000000000004"),
    line("2026-11-21", "文具店", "办公用品", "45.00", "420000123420261121120000000000006", "支付成功", "支出"),
    line("2026-11-22", "张大爷", "/", "8.88", "100003950120261122090000000000009"),
]  # fmt: skip


def test_a_review_file_saved_by_excel_is_matched_by_line_and_amount(estate3, tmp_path, conn):
    path = wechat_bill(tmp_path / "w.csv", REVIEW_LINES)
    assert [r.line.row for r in reconcile(conn, path).review] == [18, 19, 21]
    saved = tmp_path / "待确认.csv"  # what Excel writes back: GBK, refs as 1.00004E+32
    saved.write_bytes(
        (
            "行号,交易单号,日期,金额,付款方,备注,原因,候选房号,房号\r\n"
            "18,1.00004E+32,2026/11/20,300,雷伟杰,/ /,no unit code in the memo,,1-1-1001\r\n"
            "19,1.00005E+32,2026/11/21,3400,某某,/,no unit code in the memo,,\r\n"
            "21,1.00004E+32,2026/11/22,9.99,张大爷,/ /,no unit code in the memo,,1-1-1002\r\n"
            "20,1.00004E+32,2026/11/21,45,文具店,/,,,2-1-502\r\n"
        ).encode("gbk")
    )
    report = reconcile(conn, path, review_in=saved)
    assert [(u, line.row) for line, u, _ in report.recorded] == [("1-1-1001", 18)]
    assert [r.line.row for r in report.review] == [19, 21]
    assert len(report.warnings) == 2
    assert "第 4 行：第 21 行 ¥9.99（1-1-1002）未采用" in report.warnings[0]
    assert "那一行不是收入" in report.warnings[1]


def test_a_review_file_keeps_its_refs_as_text_for_excel(estate3, tmp_path, conn, cli):
    path = wechat_bill(tmp_path / "w.csv", REVIEW_LINES)
    out = tmp_path / "r.csv"
    cli("reconcile", str(path), "--as-of", "2026-12-01", "--review-out", str(out))
    assert "100003990120261120010020022331144\t" in out.read_text(encoding="utf-8-sig")
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    lines[1] += "2-1-502"  # 房号 of line 18, the last column
    out.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    result = cli(
        "reconcile", str(path), "--as-of", "2026-12-01", "--review-in", str(out), "-f", "json"
    )
    assert [r["unit"] for r in json.loads(result.stdout)["recorded"]] == ["2-1-502"], result.stderr


@pytest.mark.parametrize(
    "key, message",
    [("99", "没有第 99 行收入"), ("20", "w.csv 第 20 行不是收入")],
)
def test_a_confirmation_that_names_no_incoming_line_is_an_error(
    estate3, tmp_path, cli, db_path, key, message
):
    path = wechat_bill(tmp_path / "w.csv", REVIEW_LINES)
    before = dump(db_path)
    result = cli("reconcile", str(path), "--as-of", "2026-12-01", "--confirm", f"{key}=1-1-1001")
    assert result.exit_code == 1 and message in result.stderr
    assert dump(db_path) == before


# ---------------------------------------------------------------- B8: no reversal before its payment


def test_a_reversal_cannot_be_dated_before_its_payment(estate3, cli, db_path):
    cli("pay", "1-1-1001", "600", "--channel", "cash", "--as-of", "2026-11-20")
    before = dump(db_path)
    early = cli("reverse", "2026-000001", "--reason", "x", "--as-of", "2026-11-19")
    assert early.exit_code == 1
    assert "付款日期是 2026-11-20" in early.stderr and "请在 2026-11-20 或之后冲正" in early.stderr
    assert dump(db_path) == before
    # recorded late for an earlier day: not before the day it was recorded either
    cli(
        "pay",
        "1-1-1002",
        "600",
        "--channel",
        "cash",
        "--date",
        "2026-11-10",
        "--as-of",
        "2026-11-20",
    )
    late = cli("reverse", "2026-000002", "--reason", "x", "--as-of", "2026-11-15")
    assert late.exit_code == 1 and "2026-11-20 入账" in late.stderr
    assert cli("reverse", "2026-000002", "--reason", "x", "--as-of", "2026-11-20").exit_code == 0


# ---------------------------------------------------------------- smaller ones


def test_paying_a_bill_that_is_already_paid_is_an_error(estate3, cli, conn, db_path):
    bill_id = conn.execute(
        "SELECT b.id FROM bill b JOIN unit u ON u.id = b.unit_id WHERE u.code = '1-1-1001' "
        "ORDER BY b.due_on LIMIT 1"
    ).fetchone()[0]
    owed = ledger.bill_balance(conn, bill_id).outstanding_fen
    args = ("--channel", "cash", "--as-of", "2026-11-20", "--bill", str(bill_id))
    assert cli("pay", "1-1-1001", f"{owed / 100:.2f}", *args).exit_code == 0
    before = dump(db_path)
    again = cli("pay", "1-1-1001", "100", *args)
    assert again.exit_code == 1 and f"--bill {bill_id}" in again.stderr
    assert "已缴清" in again.stderr
    assert dump(db_path) == before


@pytest.mark.parametrize("amount", ["20261115000123", "9223372036854775.81"])
def test_an_absurd_amount_is_refused(estate3, cli, db_path, amount):
    before = dump(db_path)
    result = cli("pay", "1-1-1001", amount, "--channel", "cash", "--as-of", "2026-11-20")
    assert result.exit_code == 1 and "请检查金额" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before


def test_a_large_amount_needs_large(estate3, cli):
    args = ("1-1-1001", "12000000", "--channel", "cash", "--as-of", "2026-11-20")
    refused = cli("pay", *args)
    assert refused.exit_code == 1 and "--large" in refused.stderr
    assert cli("pay", *args, "--large").exit_code == 0


def test_a_statement_line_too_large_goes_to_review(estate3, tmp_path, conn):
    path = wechat_bill(
        tmp_path / "w.csv", [line("2026-11-15", "某", "1-1-1001", "20000000.00", "T1")]
    )
    report = reconcile(conn, path)
    assert report.recorded == [] and "pay --large" in report.review[0].reason


def test_unit_codes_in_lower_case(conn, tmp_path, cli):
    estate(conn, tmp_path, [home("1-1-B01", area="20"), home("P-041", area="12")])
    add_fee(conn)
    run(conn, "2026-11", as_of=date(2026, 11, 1))
    paid = cli("pay", "p-041", "10", "--channel", "cash", "--as-of", "2026-11-20", "-f", "json")
    assert json.loads(paid.stdout)["unit"] == "P-041"
    assert cli("statement", "1-1-b01", "-f", "json").exit_code == 0
    assert cli("units", "show", "p-041").exit_code == 0
    path = wechat_bill(
        tmp_path / "w.csv", [line("2026-11-15", "某", "1-1-b01物业费", "50.00", "T1")]
    )
    assert [u for _, u, _ in reconcile(conn, path).recorded] == ["1-1-B01"]
    path = wechat_bill(tmp_path / "x.csv", [line("2026-11-15", "某", "物业费", "5.00", "T2")])
    assert [u for _, u, _ in reconcile(conn, path, confirm={"T2": "p-041"}).recorded] == ["P-041"]


@pytest.mark.parametrize(
    "command",
    [
        ("statement", "1-1-1001"),
        ("check",),
        ("report", "daily", "--date", "2026-11-20"),
        ("units", "list"),
        ("units", "show", "1-1-1001"),
        ("fees", "list"),
        ("pay", "1-1-1001", "10", "--channel", "cash"),
    ],
)
def test_a_mistyped_database_is_never_created(cli, tmp_path, command):
    missing = tmp_path / "propfe.db"
    result = cli(*command, db=missing)
    assert result.exit_code == 1
    assert "数据库不存在" in result.stderr and "import-units" in result.stderr
    assert not missing.exists()


def test_reverse_suggests_applying_the_credit_left(estate3, cli):
    cli("pay", "1-1-1001", "200", "--channel", "cash", "--as-of", "2026-11-20")
    cli("pay", "1-1-1001", "900", "--channel", "cash", "--as-of", "2026-11-20")  # credit stays
    result = cli("reverse", "2026-000001", "--reason", "录错", "--as-of", "2026-11-20")
    assert result.exit_code == 0
    assert "propfee apply-credit 1-1-1001" in result.stdout


def test_rebill_names_the_receipt_to_reverse(conn, tmp_path):
    from propfee.billing import bills
    from propfee.core.errors import PropfeeError
    from propfee.roster import merge

    from conftest import write_csv

    estate(conn, tmp_path, [home("1-1-103", area="100")])
    add_fee(conn)
    run(conn, "2026-12", as_of=date(2026, 12, 1))
    with transaction(conn):
        ledger.record_payment(
            conn, "1-1-103", 25000, channel="cash", ref=None, paid_on=date(2026, 12, 2),
            as_of=date(2026, 12, 2), now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    sale = write_csv(
        tmp_path / "s.csv", [["房号", "业主", "过户日期"], ["1-1-103", "钱买", "2026-12-10"]]
    )
    merge.import_roster(conn, sale, as_of=date(2026, 12, 20), now=NOW)
    with pytest.raises(PropfeeError) as caught, transaction(conn):
        bills.rebill(
            conn, "1-1-103", first_day=date(2026, 12, 10), as_of=date(2026, 12, 20), now=NOW,
            settings=DEFAULTS,
        )  # fmt: skip
    assert "（收据 2026-000001）" in str(caught.value)
    assert "propfee reverse 2026-000001" in str(caught.value)


def test_after_a_sale_the_statement_is_the_buyer_s_own(conn, tmp_path, cli):
    """The buyer's statement never shows what the seller owed or paid (LEGAL rule 10); staff
    see every party with --all-parties, and the seller's account with --party."""
    from propfee.roster import merge

    from conftest import write_csv

    estate(conn, tmp_path, [home("1-1-103", area="100", owner="雷伟杰")])
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 10, 1))
    with transaction(conn):
        ledger.record_payment(
            conn, "1-1-103", 25000, channel="cash", ref=None, paid_on=date(2026, 10, 10),
            as_of=date(2026, 10, 10), now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    sale = write_csv(
        tmp_path / "s.csv", [["房号", "业主", "过户日期"], ["1-1-103", "孙新民", "2026-12-01"]]
    )
    merge.import_roster(conn, sale, as_of=date(2026, 12, 1), now=NOW)
    run(conn, "2026-12", as_of=date(2026, 12, 1))

    def doc(*args):
        result = cli("statement", "1-1-103", "--to", "2026-12-31", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    buyer = doc()
    assert buyer["party"] == "孙新民"
    assert buyer["closing_balance"] == "250.00"  # December only
    assert "雷伟杰" not in json.dumps(buyer, ensure_ascii=False)
    assert [line["kind"] for line in buyer["lines"]] == ["bill"]
    seller = doc("--party", "雷伟杰")
    assert seller["closing_balance"] == "250.00"  # November: October was paid
    assert [line["kind"] for line in seller["lines"]] == ["bill", "payment", "bill"]
    everyone = doc("--all-parties")
    assert everyone["party"] is None and everyone["closing_balance"] == "500.00"
    table = cli("statement", "1-1-103", "--to", "2026-12-31")
    assert "另外 1 个缴费方" in table.stderr and "雷伟杰" not in table.stdout
    assert cli("statement", "1-1-103", "--party", "王五").exit_code == 1


def test_paying_an_earlier_owner_s_bill_is_booked_to_that_owner(conn, tmp_path):
    from propfee.roster import merge

    from conftest import write_csv

    estate(conn, tmp_path, [home("1-1-103", area="100", owner="雷伟杰")])
    add_fee(conn)
    run(conn, "2026-11", as_of=date(2026, 11, 1))
    merge.import_roster(
        conn,
        write_csv(
            tmp_path / "s.csv", [["房号", "业主", "过户日期"], ["1-1-103", "孙新民", "2026-12-01"]]
        ),
        as_of=date(2026, 12, 1),
        now=NOW,
    )
    run(conn, "2026-12", as_of=date(2026, 12, 1))
    november, december = (r[0] for r in conn.execute("SELECT id FROM bill ORDER BY period"))
    with transaction(conn):
        paid = ledger.record_payment(
            conn, "1-1-103", 25000, channel="cash", ref=None, paid_on=date(2026, 12, 5),
            as_of=date(2026, 12, 5), now=NOW, settings=DEFAULTS, bill_ids=[november],
            payer="孙新民",
        )  # fmt: skip
    assert paid.party == "雷伟杰"  # the receipt is for the seller's debt
    assert [a.bill_id for a in paid.allocations] == [november]
    with transaction(conn):
        ledger.reverse_payment(conn, paid.receipt_no, reason="重开", on=date(2026, 12, 5), now=NOW)
    with pytest.raises(PropfeeError, match="不同的缴费方"), transaction(conn):
        ledger.record_payment(
            conn, "1-1-103", 50000, channel="cash", ref=None, paid_on=date(2026, 12, 5),
            as_of=date(2026, 12, 5), now=NOW, settings=DEFAULTS, bill_ids=[november, december],
        )  # fmt: skip
