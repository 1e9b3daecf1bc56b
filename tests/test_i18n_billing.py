"""Billing, paying, reconciling and statements speak one language at a time: Chinese by
default, English on request — summaries, warnings, errors, table and CSV headers and labels
alike (issue: Chinese first). Data (names, memos, fee item names, unit codes) stays as it is."""

from __future__ import annotations

import re
from datetime import date

import pytest
from i18n_scan import NOISE, WORD
from statement_samples import wechat_bill

from propfee.cli.lang import speak

from conftest import add_fee, estate, home, run

LINES = [
    ("2026-11-15 10:23:45", "张三", "转账备注:1-1-1001物业费", "收入", "400.00", "已存入零钱",
     "1000050001202611150123456789012", "/"),
    ("2026-11-16 09:00:00", "李四", "物业费", "收入", "200.00", "已存入零钱",
     "1000050001202611160000000000001", "/"),
    ("2026-11-17 12:00:00", "美团外卖", "午餐", "支出", "35.00", "支付成功",
     "4200001111202611170000000000001", "/"),
]  # fmt: skip

#: what the data itself holds: names, memos, fee items, the statement's own header words
DATA = sorted(
    {
        "张三", "李四", "王五", "美团外卖", "转账备注:1-1-1001物业费", "物业费", "午餐",
        "物业服务费", "物业服务中心", "元/㎡·月", "㎡", "微信支付账单", "翠湖物业收费", "交易单号",
    },
    key=len,
    reverse=True,
)  # fmt: skip
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\uff0c\uff1a\uff1b\u3001\u3002]")


@pytest.fixture
def billed(conn, tmp_path, cli):
    estate(
        conn,
        tmp_path,
        [
            home("1-1-1001", area="80", owner="张三", phone="13812341234"),
            home("1-1-1002", area="80", owner="李四"),
            home("2-1-502", area="120", owner="王五"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 11, 1))
    return cli


def _session(cli, tmp_path, receipt: str = "zh") -> list[tuple[str, str]]:
    """A sample of the billing and payment commands: (what, everything it printed). The
    receipt is a document for the payer, in the language asked for (Chinese by default)."""
    statement = wechat_bill(tmp_path / "微信支付账单.csv", LINES)
    steps = [
        ("pay", ["pay", "2-1-502", "300", "--channel", "cash", "--as-of", "2026-11-20",
                 "--language", receipt]),
        ("pay again", ["pay", "2-1-502", "300", "--channel", "bank", "--ref", "B1", "--as-of",
                       "2026-11-20", "--language", receipt]),
        ("pay same ref", ["pay", "2-1-502", "300", "--channel", "bank", "--ref", "B1", "--as-of",
                          "2026-11-20", "--language", receipt]),
        ("bill", ["bill", "--period", "2026-12", "--as-of", "2026-12-01"]),
        ("bill again", ["bill", "--period", "2026-12", "--as-of", "2026-12-01", "--dry-run"]),
        ("bill csv", ["bill", "--period", "2027-01", "--as-of", "2026-12-01", "--format", "csv"]),
        ("bill too far", ["bill", "--period", "2028-06", "--as-of", "2026-12-01"]),
        ("pay without ref", ["pay", "1-1-1002", "10", "--channel", "wechat", "--as-of", "2026-12-01"]),
        ("pay unknown unit", ["pay", "9-9-999", "10", "--channel", "cash", "--as-of", "2026-12-01"]),
        ("reconcile", ["reconcile", str(statement), "--as-of", "2026-12-01"]),
        ("reconcile again", ["reconcile", str(statement), "--as-of", "2026-12-01"]),
        ("statement", ["statement", "1-1-1001"]),
        ("statement csv", ["statement", "1-1-1001", "--format", "csv"]),
        ("reverse", ["reverse", "2026-000003", "--reason", "x", "--as-of", "2026-12-02"]),
        ("reverse twice", ["reverse", "2026-000003", "--reason", "x", "--as-of", "2026-12-02"]),
        ("apply credit", ["apply-credit", "--as-of", "2026-12-02"]),
        ("daily close", ["report", "daily", "--date", "2026-12-01"]),
        ("check", ["check"]),
        ("adjust wrong sign", ["adjust", "1", "--amount", "5", "--kind", "waiver", "--reason", "x",
                               "--approved-by", "y"]),
    ]  # fmt: skip
    out = []
    for what, args in steps:
        result = cli(*args)
        text = (result.stdout + "\n" + result.stderr).replace(str(tmp_path), "")
        out.append((what, text))
    return out


def _without_data(text: str) -> str:
    for word in DATA:
        text = text.replace(word, " ")
    return text


def _english_phrases(text: str) -> list[str]:
    """Lines holding two English words or more, once codes, options, file names and
    commands are taken out."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"^(error|warning|note): ", "", line)  # the shared prefix (cli/common.py)
        words = WORD.findall(NOISE.sub(" ", line))
        words = [w for w in words if not re.fullmatch(r"PROP|PRAGMA|BOM", w)]
        if len(words) >= 2:
            found.append(line.strip())
    return found


def test_chinese_by_default(billed, tmp_path):
    outputs = _session(billed, tmp_path)
    texts = dict(outputs)
    assert "为 3 户开出账单 3 条" in texts["bill"]
    assert "已开账单" in texts["bill again"] and "试运行" in texts["bill again"]
    assert texts["bill csv"].startswith("\ufeff账单号,房号,收费项目")
    assert "必须给出 --ref" in texts["pay without ref"]
    assert "记录缴费 1 笔" in texts["reconcile"] and "备注里没有房号" in texts["reconcile"]
    assert "忽略 1 笔（支出 1）" in texts["reconcile"]
    assert "应收" in texts["statement csv"] and "实收" in texts["statement csv"]
    assert ",bill," not in texts["statement csv"] and ",payment," not in texts["statement csv"]
    assert "收据" in texts["pay"] and "已记录为收据 2026-000002" in texts["pay same ref"]
    assert "已冲正收据 2026-000003" in texts["reverse"]
    assert "已于 2026-12-02 冲正" in texts["reverse twice"]
    assert "日结：按缴费方式" in texts["daily close"] and "微信支付" in texts["daily close"]
    assert "正常：全部检查通过" in texts["check"]
    for what, text in outputs:
        assert _english_phrases(text) == [], what


def test_english_on_request(billed, tmp_path):
    try:
        speak("en")
        outputs = _session(billed, tmp_path, receipt="en")
    finally:
        speak("zh")
    texts = dict(outputs)
    assert "3 bill lines for 3 units" in texts["bill"]
    assert "already billed" in texts["bill again"] and "dry run" in texts["bill again"]
    assert texts["bill csv"].startswith("\ufeffBill no.,Unit,Fee item")
    assert "--ref is required" in texts["pay without ref"]
    assert "recorded 1 payment ¥400.00" in texts["reconcile"]
    assert "no unit code in the memo" in texts["reconcile"]
    assert "ignored 1 (outgoing 1)" in texts["reconcile"]
    assert ",Charge," in texts["statement csv"] and ",Payment," in texts["statement csv"]
    assert "already recorded as receipt 2026-000002" in texts["pay same ref"]
    assert "reversed receipt 2026-000003" in texts["reverse"]
    assert "already reversed" in texts["reverse twice"]
    assert "WeChat Pay" in texts["daily close"]
    assert "ok: every check passed" in texts["check"]
    for what, text in outputs:
        left = CJK.findall(_without_data(text))
        assert left == [], f"{what}: {''.join(left)!r} in {text!r}"


def test_the_statement_handed_to_the_owner_stays_chinese_in_english(billed, tmp_path):
    billed("pay", "1-1-1001", "200", "--channel", "cash", "--as-of", "2026-11-20")
    page, sheet = tmp_path / "对账单.html", tmp_path / "statement.csv"
    try:
        speak("en")
        shown = billed("statement", "1-1-1001", "--out", str(page))
        billed("statement", "1-1-1001", "--out", str(sheet))
    finally:
        speak("zh")
    assert "Payment (cash)" in shown.stdout  # the operator reads English
    html = page.read_text(encoding="utf-8")
    assert "缴费（现金）" in html and "Payment" not in html  # the owner reads Chinese
    assert "Payment (cash)" in sheet.read_text(encoding="utf-8-sig")  # a file for staff


HELP = ["bill", "adjust", "rebill", "notices", "import-history", "readings import", "pay",
        "reverse", "apply-credit", "statement", "check", "reconcile", "report daily"]  # fmt: skip


@pytest.mark.parametrize("width", [80, 120])
def test_help_pages_are_chinese_and_whole_at_80_and_120_columns(runner, width):
    from rich.cells import cell_len

    from propfee.cli import app

    for command in HELP:
        result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": str(width)})
        assert result.exit_code == 0, (command, result.output)
        assert "…" not in result.output, (command, width, result.output)
        assert max(cell_len(line) for line in result.output.splitlines()) <= width, command
        assert "示例：" in result.output and "Example" not in result.output, command
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": str(width)}).output
    assert "记录一笔缴费并打印收据" in listing and "导入收款对账单并记录其中的缴费" in listing
