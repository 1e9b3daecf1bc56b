"""Output safety: every CSV propfee writes (to a file or to stdout) is UTF-8 with a BOM, has the
Chinese headers and labels, and writes formula-looking text inert; text from the database
printed to a terminal never carries an escape sequence or a control character."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from statement_samples import wechat_bill

from propfee.files.writers import csv_cell, csv_text

from conftest import add_fee, estate, home, run

FORMULA = '=HYPERLINK("http://x","y")'
ESCAPE = "\x1b[2J"


def rows_of(text: str) -> list[list[str]]:
    """A CSV text that must start with a BOM, read back as rows."""
    assert text.startswith("\ufeff"), text[:20]
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def column(rows: list[list[str]], header: str) -> list[str]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


@pytest.fixture
def hostile(conn, tmp_path):
    """A billed estate whose owner names are a formula, a negative number, an @ call and an
    escape sequence."""
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="100", owner=FORMULA, phone="13800000001"),
            home("1-102", area="100", owner="+1", phone="13800000002"),
            home("1-103", area="100", owner="@SUM(1)", phone="13800000003"),
            home("1-104", area="100", owner=f"王{ESCAPE}五\r\x07", phone="13800000004"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    return conn


# ---------------------------------------------------------------- the one writer


def test_text_cells_are_inert_and_numbers_stay_numbers():
    assert [csv_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(1)", "\tx", "\rx")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(1)",
        "'\tx",
        "'␍x",  # and a control character is shown, never obeyed
    ]
    # a number is never touched; in a numeric column a number as text is kept, anything
    # else is neutralised like text
    from decimal import Decimal

    assert csv_cell(Decimal("-12.50")) == "-12.50" and csv_cell(-3) == "-3"
    assert csv_cell("-12.50", number=True) == "-12.50"
    assert csv_cell("-1,234.00", number=True) == "-1,234.00"
    assert csv_cell("-1+1", number=True) == "'-1+1"
    assert csv_cell("-12.50") == "'-12.50"  # a text column: a name "-12.50" stays text
    text = csv_text(["房号", "金额"], [["1-101", Decimal("-5.00")]], number_columns=[1])
    assert text == "\ufeff房号,金额\r\n1-101,-5.00\r\n"


# ---------------------------------------------------------------- the review file


def test_a_payer_name_that_is_a_formula_lands_inert_in_the_review_csv(estate3, tmp_path, cli):
    quoted = '"=HYPERLINK(""http://x"",""y"")"'  # the payer cell as a real CSV quotes it
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            ("2026-11-20 10:00:00", quoted, "/", "收入", "300.00", "已存入零钱",
             "100003990120261120010020022331144", "/"),
            ("2026-11-21 10:00:00", "-1+1", "@SUM(1)", "收入", "45.00", "已存入零钱",
             "100003990120261121010020022331145", "=1+1"),
            ("2026-11-22 10:00:00", f"王{ESCAPE}", "/", "收入", "9.99", "已存入零钱",
             "100003990120261122010020022331146", "/"),
        ],
    )  # fmt: skip
    out = tmp_path / "待确认.csv"
    result = cli("reconcile", str(path), "--as-of", "2026-12-01", "--review-out", str(out))
    assert result.exit_code == 0, result.output
    assert "王␛[2J" in result.stdout and "\x1b" not in result.output  # the review table
    rows = rows_of(out.read_text(encoding="utf-8"))
    assert rows[0][:5] == ["行号", "交易单号", "日期", "金额", "付款方"]
    assert column(rows, "付款方") == ["'" + FORMULA, "'-1+1", "王␛[2J"]
    assert column(rows, "备注")[:2] == ["/ /", "'@SUM(1) =1+1"]  # goods and note
    assert column(rows, "金额") == ["300.00", "45.00", "9.99"]
    # the file still reads back: 房号 filled in, the line is recorded for its unit
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    lines[1] += "1-1-1001"
    out.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    again = cli(
        "reconcile", str(path), "--as-of", "2026-12-01", "--review-in", str(out), "-f", "json"
    )
    assert [r["unit"] for r in json.loads(again.stdout)["recorded"]] == ["1-1-1001"]


# ---------------------------------------------------------------- --format csv


def test_units_list_csv_has_a_bom_chinese_headers_labels_and_inert_names(hostile, cli):
    result = cli("units", "list", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert rows[0] == ["房号", "类型", "面积㎡", "业主", "电话", "交付日期", "租户", "缴费方"]
    assert column(rows, "业主")[:3] == ["'" + FORMULA, "'+1", "'@SUM(1)"]
    assert set(column(rows, "类型")) == {"住宅"} and set(column(rows, "缴费方")) == {"业主"}
    assert column(rows, "面积㎡")[0] == "100.00"
    assert column(rows, "业主")[3].startswith("王␛[2J五")  # CSV on stdout may reach a terminal
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert result.stdout_bytes.count(b"\r\n") == 5


def test_overdue_csv_is_the_out_file(hostile, cli, tmp_path):
    out = tmp_path / "逾期.csv"
    result = cli(
        "overdue", "--as-of", "2026-11-30", "--format", "csv", "--out", str(out), "--no-mask"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == out.read_bytes()  # one writer, the same bytes
    rows = rows_of(result.stdout)
    assert rows[0][:5] == ["房号", "楼栋", "缴费人", "电话", "欠费"]
    assert "催缴阶段" in rows[0]
    assert column(rows, "缴费人")[:3] == ["'" + FORMULA, "'+1", "'@SUM(1)"]
    assert column(rows, "欠费")[0] == "250.00"
    assert rows[-1][0] == "合计" and column(rows, "欠费")[-1] == "1000.00"
    tiers = set(column(rows, "催缴阶段")[:-1])
    assert tiers and all(t and t.isascii() is False for t in tiers)  # Chinese labels


def test_complain_list_csv_is_the_out_file_with_chinese_labels(hostile, cli, tmp_path):
    added = cli(
        "complain", "add", "1-101", "--category", "维修", "--channel", "counter",
        "--description", "=cmd|' /C calc'!A0", "--at", "2026-11-02 09:00",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    out = tmp_path / "工单.csv"
    result = cli(
        "complain", "list", "--at", "2026-11-20 10:00", "--format", "csv", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == out.read_bytes()
    rows = rows_of(result.stdout)
    assert rows[0][:6] == ["编号", "房号", "姓名", "类型", "类别", "渠道"]
    (case,) = rows[1:]
    assert case[rows[0].index("姓名")] == "'" + FORMULA
    assert case[rows[0].index("内容")] == "'=cmd|' /C calc'!A0"
    assert (case[rows[0].index("类型")], case[rows[0].index("渠道")]) == ("投诉", "前台")
    assert case[rows[0].index("优先级")] == "普通"
    shown = cli("complain", "show", "TS2026-0001")
    assert "（前台，普通）" in shown.stdout


def test_report_daily_csv_has_chinese_headers_labels_and_inert_cells(hostile, cli):
    paid = cli(
        "pay", "1-102", "100", "--channel", "wechat", "--ref", "=1+1", "--as-of", "2026-11-15"
    )
    assert paid.exit_code == 0, paid.output
    result = cli("report", "daily", "--date", "2026-11-15", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert rows[0] == ["收据号", "房号", "金额", "缴费方式", "交易单号", "付款日期", "收款人"]
    assert column(rows, "缴费方式") == ["微信支付"]
    assert column(rows, "交易单号") == ["'=1+1"]
    assert column(rows, "金额") == ["100.00"]


def test_a_negative_amount_in_a_csv_stays_a_number(hostile, cli):
    assert cli("pay", "1-101", "300", "--channel", "cash", "--as-of", "2026-11-15").exit_code == 0
    result = cli("statement", "1-101", "--to", "2026-11-30", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert rows[0] == ["日期", "类别", "单号", "摘要", "应收", "实收", "余额"]
    assert {"应收", "实收"} <= set(column(rows, "类别"))
    assert "-50.00" in column(rows, "余额")  # ¥50 paid ahead: a negative balance, not '-50.00


# ---------------------------------------------------------------- the terminal


def test_an_escape_sequence_in_a_name_is_never_printed(hostile, cli):
    outputs = {
        "units list": cli("units", "list"),
        "units show": cli("units", "show", "1-104", "--as-of", "2026-11-30"),
        "owners show": cli("owners", "show", "1-104", "--as-of", "2026-11-30"),
        "overdue": cli("overdue", "--as-of", "2026-11-30"),
    }
    for name, result in outputs.items():
        assert result.exit_code == 0, (name, result.output)
        for control in ("\x1b", "\r", "\x07"):
            assert control not in result.stdout, (name, result.stdout)
        assert "王␛[2J五" in result.stdout, (name, result.stdout)
    # JSON keeps the data exactly as it is (escaped by JSON itself)
    (shown,) = json.loads(cli("owners", "show", "1-104", "-f", "json").stdout)["rows"]
    assert shown["name"].startswith(f"王{ESCAPE}五")


def test_an_escape_sequence_in_a_complaint_is_never_printed(hostile, cli):
    added = cli(
        "complain", "add", "1-104", "--description", f"漏水{ESCAPE}\x1b]0;title\x07",
        "--at", "2026-11-02 09:00",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    for args in (("list", "--at", "2026-11-20 10:00"), ("show", "TS2026-0001")):
        result = cli("complain", *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
        assert "漏水␛[2J" in result.stdout


def test_a_control_character_in_a_name_never_breaks_an_xlsx(hostile, cli, tmp_path):
    from openpyxl import load_workbook

    for args in (("export-units",), ("overdue", "--as-of", "2026-11-30", "--out")):
        out = tmp_path / f"{args[0]}.xlsx"
        result = cli(*args, str(out))
        assert result.exit_code == 0, result.output  # not IllegalCharacterError
        cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row]
        assert any(isinstance(c, str) and c.startswith("王␛[2J五") for c in cells)
        assert "'" + FORMULA in cells


def test_csv_on_stdout_is_only_the_csv(hostile, cli):
    """--format csv prints the CSV alone: no summary line before it, one header row."""
    added = cli("complain", "add", "1-101", "--description", "x", "--at", "2026-11-02 09:00")
    assert added.exit_code == 0, added.output
    owners = rows_of(cli("owners", "show", "1-101", "--as-of", "2026-11-30", "-f", "csv").stdout)
    assert owners == [["姓名/名称", "房号", "身份", "期间", "欠费"], ["'" + FORMULA, "1-101",
                      "业主（缴费）", "2020-01-01 至 今", "250.00"]]  # fmt: skip
    report = rows_of(cli("complain", "report", "--at", "2026-11-20 10:00", "-f", "csv").stdout)
    assert report[0] == ["分类", "件数"] and ["类别 其他", "1"] in report[1:]
