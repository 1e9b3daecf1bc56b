"""The printable documents: the installment agreement (plan agreement) and the repair work
order (complain work-order), through the CLI — what each must hold, masking by default, the
wording LEGAL rule 1 forbids, and golden files for both languages."""

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from test_legal import FORBIDDEN, WRONG_TERMS

from conftest import add_fee, dump, estate, home, run

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name.replace("/", "__")
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file for {name}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from {path}"


def lawful(text: str) -> None:
    found = FORBIDDEN.search(text)
    assert found is None, f"says {found.group(0)!r} (LEGAL rule 1)"
    assert WRONG_TERMS.search(text) is None


@pytest.fixture
def signed(conn, tmp_path, cli):
    """1-101 (张三) owes October and November 2026 (2 × 223.43) and signs a 3-month plan."""
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 11, 1))
    made = cli(
        "plan", "create", "1-101", "--installments", "3", "--first-due", "2026-12-15",
        "--signed", "2026-11-20", "-f", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return json.loads(made.stdout)["id"]


def schedule(html: str) -> list[tuple[str, int]]:
    rows = re.findall(
        r'<td class="when">第(\d+)期</td><td class="when">(\d+年\d+月\d+日)前</td>'
        r'<td class="money">([\d,]+\.\d\d)</td>',
        html,
    )
    return [(day, int(Decimal(amount.replace(",", "")) * 100)) for _, day, amount in rows]


def test_the_agreement_holds_the_debt_the_schedule_and_both_signatures(signed, cli, tmp_path):
    out = tmp_path / "分期协议.html"
    result = cli("plan", "agreement", str(signed), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "446.86" in result.stdout and "3期" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert schedule(html) == [
        ("2026年12月15日", 14896),
        ("2027年1月15日", 14895),
        ("2027年2月15日", 14895),
    ]
    assert sum(fen for _, fen in schedule(html)) == 44686  # the schedule sums to the debt
    assert "合计人民币446.86元（大写：肆佰肆拾陆元捌角陆分）" in html
    for period in ("2026-10-01 至 2026-10-31", "2026-11-01 至 2026-11-30"):
        assert period in html  # the acknowledged debt, period by period
    for text in ("甲方（物业服务人）", "乙方（业主/缴费人）：张三", "1-101", "截至2026年11月20日"):
        assert text in html
    assert html.count("日期：＿＿＿＿年＿＿月＿＿日") == 2  # both parties sign and date
    assert "甲方（盖章）" in html and "乙方（签字）" in html
    assert "138****0001" in html and "13800000001" not in html
    lawful(html)
    check_golden("zh/plan_agreement.html", html)


def test_the_agreement_in_english_and_unmasked_on_request(signed, cli, tmp_path):
    out = tmp_path / "agreement.html"
    result = cli(
        "plan", "agreement", str(signed), "--out", str(out), "--language", "en",
        "--no-mask", "--operator", "前台小刘",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "13800000001" in html and "Installment Agreement" in html
    lawful(html)
    (entry,) = json.loads(cli("audit", "--command", "plan agreement", "-f", "json").stdout)["rows"]
    assert entry["operator"] == "前台小刘" and entry["changes"]["unmasked"]["rows"] == 1
    masked = tmp_path / "agreement-masked.html"
    assert cli("plan", "agreement", str(signed), "--out", str(masked), "--language", "en")
    check_golden("en/plan_agreement.html", masked.read_text(encoding="utf-8"))


def test_the_agreement_refuses_what_it_cannot_print(signed, cli, db_path, tmp_path):
    before = dump(db_path)
    missing = cli("plan", "agreement", "99", "--out", str(tmp_path / "x.html"))
    assert missing.exit_code == 1 and "第 99 号" in missing.output
    nowhere = cli("plan", "agreement", str(signed), "--out", str(tmp_path / "无此目录" / "x.html"))
    assert nowhere.exit_code == 1 and "--out" in nowhere.output
    assert dump(db_path) == before
    assert not (tmp_path / "x.html").exists()


@pytest.fixture
def repair(conn, tmp_path, cli):
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    for args in (
        ("complain", "add", "1-101", "--kind", "request", "--category", "维修", "--priority",
         "urgent", "--description", "卫生间下水管漏水，楼下天花板有水渍", "--at", "2026-11-10 09:30"),
        ("complain", "assign", "TS2026-0001", "--to", "工程部王师傅", "--at", "2026-11-10 09:40"),
        ("complain", "progress", "TS2026-0001", "--note", "已关闭楼上进水阀，约定下午带配件上门",
         "--at", "2026-11-10 10:30"),
    ):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return "TS2026-0001"


def test_the_work_order_holds_the_case_and_the_fields_to_fill(repair, cli, tmp_path):
    out = tmp_path / "派工单.html"
    result = cli("complain", "work-order", repair, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "工程部王师傅" in result.stdout
    html = out.read_text(encoding="utf-8")
    for text in (
        "维修派工单",
        "TS2026-0001",
        "<th>房号</th><td>1-101</td>",
        "<th>报修人</th><td>张三</td>",
        "<td>138****0001</td>",
        "卫生间下水管漏水，楼下天花板有水渍",
        "报修/服务请求・维修",
        "紧急",
        "<th>完成时限</th><td>2026-11-10",
        "<th>承办人</th><td>工程部王师傅</td>",
        "已关闭楼上进水阀",
        "到场时间",
        "处理情况",
        "使用材料",
        "业主签字",
        "非常满意",
    ):
        assert text in html, text
    assert "13800000001" not in html
    lawful(html)
    check_golden("zh/work_order.html", html)


def test_the_work_order_in_english_unmasked_and_refused(repair, cli, db_path, tmp_path):
    out = tmp_path / "order.html"
    masked = cli("complain", "work-order", repair, "--out", str(out), "--language", "en")
    assert masked.exit_code == 0, masked.output
    html = out.read_text(encoding="utf-8")
    assert "Repair Work Order" in html and "138****0001" in html
    lawful(html)
    check_golden("en/work_order.html", html)
    full = tmp_path / "full.html"
    assert cli("complain", "work-order", repair, "--out", str(full), "--no-mask").exit_code == 0
    assert "13800000001" in full.read_text(encoding="utf-8")
    before = dump(db_path)
    missing = cli("complain", "work-order", "TS2026-0099", "--out", str(tmp_path / "y.html"))
    assert missing.exit_code == 1 and "TS2026-0099" in missing.output
    assert dump(db_path) == before


def test_a_long_debt_is_summed_up_by_item_with_every_bill_in_an_annex(conn, tmp_path, cli):
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    add_fee(conn)
    months = [f"{2025 + (m // 12)}-{m % 12 + 1:02d}" for m in range(9, 23)]  # 14 months
    run(conn, *months, as_of=date(2026, 11, 1))
    made = cli(
        "plan", "create", "1-101", "--installments", "6", "--first-due", "2026-12-15",
        "--signed", "2026-11-20", "-f", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    out = tmp_path / "协议.html"
    assert cli("plan", "agreement", "1", "--out", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    total = 14 * 22343
    assert "按项目汇总，共14笔" in html
    assert f'<td>物业服务费</td><td>14</td><td class="money">{total / 100:,.2f}</td>' in html
    annex = html[html.index('<section class="annex">') :]
    assert annex.count("<td>物业服务费</td>") == 14  # every period, one line each
    assert "2025-10-01 至 2025-10-31" in annex and "2026-11-01 至 2026-11-30" in annex
    assert sum(fen for _, fen in schedule(html)) == total
    assert "本协议（含附表）一式两份" in html
    lawful(html)
