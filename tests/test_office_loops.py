"""Issue 18, loops closed: the SMS gateway's delivery report marks each message sent or failed,
and the call list staff filled in is read back as contacts — each through the command line,
as events beside what was logged, nothing written on a bad cell, and a re-run a no-op."""

import csv
import json

import pytest
from openpyxl import load_workbook

from conftest import PROP_FEE, dump, write_csv

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"],
    ["1-1-102", "住宅", "100", "李四", "13900001111", "2020-01-01"],
    ["2-1-201", "住宅", "100", "王五", "13700002222", "2020-01-01"],
    ["10-1-101", "住宅", "100", "赵六", "", "2020-01-01"],
]
EVIDENCE = ("--evidence", "公示照片 IMG_0231.jpg")


@pytest.fixture
def billed(cli, tmp_path):
    """Four units billed for 2026-11 (due 11-15), nobody paid."""
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    published = cli(
        "fees", "publish", "--recorded-later", "--published-on", "2019-12-01", *EVIDENCE
    )
    assert published.exit_code == 0, published.output
    assert cli("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    return cli


def contacts(cli, channel=None):
    found = json.loads(cli("contact", "list", "--format", "json", "--no-mask").stdout)["rows"]
    return [c for c in found if channel is None or c["channel"] == channel]


def checked(cli):
    result = cli("check")
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- the SMS delivery report


def test_a_delivery_report_marks_a_batch_sent_or_failed_once(billed, tmp_path, db_path):
    out = tmp_path / "催缴"
    reminded = billed("remind", "--as-of", "2026-11-20", "--at", "10:00", "--out", str(out))
    assert reminded.exit_code == 0, reminded.output
    with (out / "sms.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == 3  # 赵六 has no phone
    assert {c["outcome"] for c in contacts(billed, "sms")} == {"prepared"}
    report = write_csv(
        tmp_path / "回执.csv",
        [
            ["接收号码", "发送状态", "回执时间", "失败原因"],
            ["+86 138-1234-1234", "DELIVRD", "2026-11-20 10:01:05", ""],
            ["13900001111", "发送中", "2026-11-20 10:01:06", ""],
            ["13900001111", "UNDELIV", "2026-11-20 10:02:00", "停机"],
            ["13700002222", "发送失败", "2026-11-20 10:01:07", "空号"],
            ["13700002222", "成功", "2026-11-20 10:05:00", ""],  # a retry got through
            ["15000009999", "成功", "2026-11-20 10:01:08", ""],
        ],
    )
    marked = billed("contact", "mark-sms", str(report))
    assert marked.exit_code == 0, marked.output
    assert "已发送 2 条，发送失败 1 条" in marked.stdout
    assert "1 行尚无最终状态" in marked.stdout
    assert "150****9999" in marked.stderr and "15000009999" not in marked.stderr
    by_unit = {c["unit"]: c["outcome"] for c in contacts(billed, "sms")}
    assert by_unit == {"1-1-101": "sent", "1-1-102": "failed", "2-1-201": "sent"}
    listing = billed("contact", "list", "1-1-102")
    assert "发送失败" in listing.stdout and "待发送" not in listing.stdout
    checked(billed)
    before = dump(db_path)
    again = billed("contact", "mark-sms", str(report))
    assert again.exit_code == 0 and "已发送 0 条，发送失败 0 条" in again.stdout
    assert "3 个号码此前已标记" in again.stdout
    assert dump(db_path) == before


def test_a_bad_delivery_report_names_the_cell_and_writes_nothing(billed, tmp_path, db_path):
    billed("remind", "--as-of", "2026-11-20", "--at", "10:00", "--out", str(tmp_path / "o"))
    before = dump(db_path)
    report = write_csv(
        tmp_path / "回执.csv",
        [
            ["手机号", "状态", "时间"],
            ["13812341234", "成功", "2026-11-20 10:01"],
            ["13900001111", "不知道", "2026-11-20 10:01"],
            ["12345", "成功", "2026-11-20 10:01"],
        ],
    )
    refused = billed("contact", "mark-sms", str(report))
    assert refused.exit_code == 1
    assert "第 3 行" in refused.stderr and "状态" in refused.stderr
    assert "第 4 行" in refused.stderr and "手机号" in refused.stderr
    assert dump(db_path) == before
    assert {c["outcome"] for c in contacts(billed, "sms")} == {"prepared"}


# ---------------------------------------------------------------- the call list read back


def _header_row(sheet) -> int:
    """The call list opens with a title block; its header is the row that starts 房号."""
    return next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "房号")


def _fill(path, answers):
    """Fill the call list's result columns as staff would, by unit code."""
    book = load_workbook(path)
    sheet = book.active
    first = _header_row(sheet)
    header = [c.value for c in sheet[first]]
    col = {name: header.index(name) + 1 for name in header if name}
    for row in range(first + 1, sheet.max_row + 1):
        unit = sheet.cell(row, col["房号"]).value
        for name, value in answers.get(unit, {}).items():
            sheet.cell(row, col[name], value)
    book.save(path)
    return header


def test_a_filled_call_list_is_read_back_as_contacts_once(billed, tmp_path, db_path):
    out = tmp_path / "催缴"
    reminded = billed("remind", "--as-of", "2026-12-05", "--at", "10:00", "--out", str(out))
    assert reminded.exit_code == 0, reminded.output
    path = out / "call-list.xlsx"
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=_header_row(sheet), values_only=True))
    assert [r[0] for r in rows[1:]] == ["1-1-101", "1-1-102", "2-1-201", "10-1-101"]  # print order
    header = _fill(
        path,
        {
            "1-1-101": {
                "联系结果": "承诺缴费",
                "承诺缴费日期": "2026-12-10",
                "联系时间": "2026-12-05 14:30",
            },
            "1-1-102": {"联系结果": "拒绝", "备注": "说电梯常坏"},
            "2-1-201": {"联系结果": "空号"},
            "10-1-101": {"联系结果": "有异议", "未缴原因": "服务争议"},
        },
    )
    assert header[-6:] == ["名单日期", "联系结果", "未缴原因", "承诺缴费日期", "联系时间", "备注"]
    read = billed("contact", "import", str(path), "--staff", "王会计")
    assert read.exit_code == 0, read.output
    assert "4 行已填结果" in read.stdout and "记录联系 4 条" in read.stdout
    calls = {c["unit"]: c for c in contacts(billed, "phone")}
    assert calls["1-1-101"]["outcome"] == "promised"
    assert calls["1-1-101"]["promise_date"] == "2026-12-10"
    assert calls["1-1-101"]["at"] == "2026-12-05 14:30:00"
    assert calls["1-1-102"]["outcome"] == "refused" and calls["1-1-102"]["reason"] == "refusal"
    assert calls["1-1-102"]["at"] == "2026-12-05 00:00:00"  # the list's day
    assert "说电梯常坏" in calls["1-1-102"]["note"]
    assert calls["2-1-201"]["outcome"] == "unreachable" and "空号" in calls["2-1-201"]["note"]
    assert calls["10-1-101"]["outcome"] == "dispute" and calls["10-1-101"]["staff"] == "王会计"
    overdue = json.loads(billed("overdue", "--as-of", "2026-12-06", "--format", "json").stdout)
    tiers = {row["unit"]: row["tier"] for row in overdue["rows"]}
    assert tiers["1-1-101"] == "promised" and tiers["10-1-101"] == "dispute"
    checked(billed)
    before = dump(db_path)
    again = billed("contact", "import", str(path), "--staff", "王会计")
    assert again.exit_code == 0 and "记录联系 0 条" in again.stdout
    assert "4 行此前已导入" in again.stdout
    assert dump(db_path) == before


def test_a_bad_call_list_cell_is_named_and_nothing_is_written(billed, tmp_path, db_path):
    out = tmp_path / "催缴"
    billed("remind", "--as-of", "2026-12-05", "--at", "10:00", "--out", str(out))
    path = out / "call-list.xlsx"
    _fill(
        path,
        {
            "1-1-101": {"联系结果": "承诺缴费"},  # no promise date
            "1-1-102": {"联系结果": "不在家吧"},
            "2-1-201": {"联系结果": "已接通"},  # fine on its own
        },
    )
    before = dump(db_path)
    refused = billed("contact", "import", str(path))
    assert refused.exit_code == 1
    assert "第 5 行" in refused.stderr and "承诺缴费日期" in refused.stderr
    assert "第 6 行" in refused.stderr and "联系结果" in refused.stderr
    assert dump(db_path) == before


def test_letters_come_in_print_order_one_file_per_building(billed, tmp_path):
    out = tmp_path / "信"
    wrong = billed("remind", "--as-of", "2027-01-05", "--out", str(out), "--by", "floor")
    assert wrong.exit_code == 1 and "--by floor" in wrong.stderr and not out.exists()
    sent = billed(
        "remind", "--as-of", "2027-01-05", "--at", "10:00", "--out", str(out), "--by", "building"
    )
    assert sent.exit_code == 0, sent.output
    files = {p.name for p in out.glob("催缴通知书-*.html")}
    assert files == {f"催缴通知书-2027-01-05-{b}号楼.html" for b in ("1", "2", "10")}
    first = (out / "催缴通知书-2027-01-05-1号楼.html").read_text(encoding="utf-8")
    assert first.index("催2027-0001") < first.index("催2027-0002")  # numbered in print order
    assert "催2027-0004" in (out / "催缴通知书-2027-01-05-10号楼.html").read_text(encoding="utf-8")
    letters = {c["unit"]: c["notice_no"] for c in contacts(billed, "letter")}
    assert letters == {
        "1-1-101": "催2027-0001",
        "1-1-102": "催2027-0002",
        "2-1-201": "催2027-0003",
        "10-1-101": "催2027-0004",
    }
