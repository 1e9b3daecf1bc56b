"""A month at the front desk of a new estate, start to finish through the command line: set up
after the billing start, correct an area, move a tenant out, sell a home, end a fee item added
by mistake, mark an SMS batch from the gateway's report, read back the filled-in call list,
print a plan agreement and a work order, find a word inside a complaint — with ``propfee
check`` passing after every step and ``units show`` telling the story."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from conftest import PROP_FEE, write_csv

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期", "租户", "租户电话", "缴费方"],
    ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01", "", "", ""],
    ["1-1-102", "住宅", "100", "李四", "13900001111", "2020-01-01", "赵六", "13700003333", "租户"],
    ["2-1-201", "住宅", "90", "王五", "13700002222", "2020-01-01", "", "", ""],
    ["10-1-101", "住宅", "80", "孙七", "13600004444", "2020-01-01", "", "", ""],
]
WRONG_FEE = (
    "fees", "add", "PARK", "--name", "停车服务费", "--basis", "fixed", "--price", "150",
    "--kinds", "residential", "--from", "2026-09-01",
)  # fmt: skip


def test_a_month_at_a_new_estate(cli, tmp_path):
    def step(*args):
        result = cli(*args)
        assert result.exit_code == 0, f"{args}: {result.output}"
        checked = cli("check")
        assert checked.exit_code == 0, f"check after {args}: {checked.output}"
        return result

    def show(code):
        return json.loads(step("units", "show", code, "--format", "json").stdout)

    # day one is 2026-11-03, billing starts in September: the price's earlier publication is
    # recorded with its evidence, not back-dated
    step("init")
    step("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER)), "--as-of", "2026-11-03")
    step(*PROP_FEE)
    step(*WRONG_FEE)
    stuck = cli("bill", "--from", "2026-09", "--through", "2026-11", "--as-of", "2026-11-03")
    assert stuck.exit_code == 1 and "fees publish" in stuck.stderr
    step(
        "fees", "publish", "--out", str(tmp_path / "公示"), "--recorded-later",
        "--published-on", "2026-08-15", "--evidence", "公示照片 IMG_0231.jpg",
    )  # fmt: skip
    # the parking fee was a mistake: it ends before it ever applied to anybody who owes it
    step("fees", "end", "PARK", "--to", "2026-08-31", "--reason", "录入错误，本小区无车位")
    step("bill", "--from", "2026-09", "--through", "2026-11", "--as-of", "2026-11-03")
    billed = json.loads(step("overdue", "--as-of", "2026-11-20", "-f", "json").stdout)
    assert billed, "three months unpaid are overdue"

    # the re-survey, the tenant leaving and the sale
    step(
        "units", "set", "2-1-201", "--area", "92.5", "--from", "2026-11-01",
        "--as-of", "2026-11-05", "--reason", "复测", "--operator", "小王",
    )  # fmt: skip
    step("units", "move-out", "1-1-102", "--date", "2026-11-10", "--operator", "小李")
    step(
        "units", "sell", "10-1-101", "--to", "钱八", "--phone", "13500005555",
        "--date", "2026-11-15", "--as-of", "2026-11-16", "--operator", "小王",
    )  # fmt: skip

    # reminders: three months owed get a letter, the buyer's one month an SMS; the gateway's
    # report marks it, and the call list staff fill in is read back
    out = tmp_path / "催缴"
    step("remind", "--as-of", "2026-11-20", "--at", "10:00", "--out", str(out))
    assert "钱八" in (out / "sms.csv").read_text(encoding="utf-8-sig")
    report = write_csv(
        tmp_path / "回执.csv",
        [["接收号码", "发送状态", "回执时间"], ["13500005555", "DELIVRD", "2026-11-20 10:01:05"]],
    )
    marked = step("contact", "mark-sms", str(report))
    assert "已发送 1 条" in marked.stdout
    calls = tmp_path / "call"
    step("remind", "--as-of", "2026-12-05", "--at", "10:00", "--out", str(calls))
    book = load_workbook(calls / "call-list.xlsx")
    sheet = book.active
    header_row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "房号")
    header = [c.value for c in sheet[header_row]]
    called = sheet.cell(header_row + 1, 1).value
    for name, value in (("联系结果", "承诺缴费"), ("承诺缴费日期", "2026-12-10"),
                        ("联系时间", "2026-12-05 14:30")):  # fmt: skip
        sheet.cell(header_row + 1, header.index(name) + 1, value)
    book.save(calls / "call-list.xlsx")
    step("contact", "import", str(calls / "call-list.xlsx"), "--staff", "王会计")
    promised = json.loads(step("contact", "list", called, "--format", "json").stdout)["rows"]
    assert [(c["outcome"], c["promise_date"], c["source"]) for c in promised if c["staff"]] == [
        ("promised", "2026-12-10", "call-list")
    ]

    # a plan signed and printed; a leak reported, dispatched and printed; and found again
    plan = json.loads(
        step(
            "plan", "create", "2-1-201", "--installments", "3", "--first-due", "2026-12-15",
            "--signed", "2026-11-21", "-f", "json",
        ).stdout
    )  # fmt: skip
    agreement = tmp_path / "分期协议.html"
    step("plan", "agreement", str(plan["id"]), "--out", str(agreement))
    assert "分期缴费协议" in agreement.read_text(encoding="utf-8")
    step(
        "complain", "add", "1-1-101", "--kind", "request", "--category", "维修",
        "--description", "卫生间下水管漏水严重，楼下天花板有水渍", "--at", "2026-11-22 09:30",
    )  # fmt: skip
    order = tmp_path / "派工单.html"
    step("complain", "work-order", "TS2026-0001", "--out", str(order))
    assert "派工单" in order.read_text(encoding="utf-8")
    found = json.loads(step("search", "漏水", "-f", "json").stdout)
    assert [(hit["kind"], hit["ref"]) for hit in found["rows"]] == [("complaint", "TS2026-0001")]

    # units show tells each home's story
    story = {(c["on"], c["field"], c["new"]) for c in show("2-1-201")["changes"]}
    assert ("2026-11-01", "area", "92.5") in story
    assert ("2026-11-10", "tenant", "") in {
        (c["on"], c["field"], c["new"]) for c in show("1-1-102")["changes"]
    }
    assert ("2026-11-15", "owner", "钱八") in {
        (c["on"], c["field"], c["new"]) for c in show("10-1-101")["changes"]
    }
