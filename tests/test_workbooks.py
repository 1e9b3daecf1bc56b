"""Every workbook a command writes for people is one a boss can read: a title block, a frozen
header row, columns as wide as what they hold, money, dates and rates as typed numbers, a
landscape A4 page one page wide, and no internal English codes in any cell."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from propfee.cli import app
from propfee.files import workbook, writers

from conftest import DemoEstate, build_demo

AS_OF = "2026-11-15"
CODES = {
    "residential",
    "commercial",
    "office",
    "parking",
    "storage",
    "wechat",
    "alipay",
    "cash",
    "bank",
    "bill",
    "payment",
    "adjustment",
    "reversal",
    "complaint",
    "request",
    "urgent",
    "normal",
    "phone",
    "counter",
    "gentle",
    "notice",
    "legal",
    "refusal",
    "dispute",
    "promised",
    "owner",
    "tenant",
    "person",
    "company",
    "area",
    "LATEFEE",
}
#: columns that reproduce a text as it was sent (a call script naming its commands)
VERBATIM = {"发送内容全文"}
WORD = re.compile(r"[A-Za-z_]+")


def header_row(ws) -> int:
    """The row of a sheet's column headers: the first bold row under the title block."""
    for row in ws.iter_rows(min_row=1, max_row=20):
        cells = [c for c in row if c.value not in (None, "")]
        if len(cells) >= 2 and all(c.font.b for c in cells):
            return row[0].row
    raise AssertionError(f"{ws.title}: no header row")


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The module's tests share one demo estate on each engine ([lite] and [pg])."""
    return request.param


@pytest.fixture(scope="module")
def demo(engine, tmp_path_factory, request) -> DemoEstate:
    folder = tmp_path_factory.mktemp("wb") / "demo"
    return build_demo(engine, folder, request, "--as-of", AS_OF)


def _run(demo: DemoEstate, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, *demo.options()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def books(demo: DemoEstate) -> list[Path]:
    """Every workbook the commands write, from the demo estate."""
    out = demo.folder / "books"
    out.mkdir()
    rows = json.loads(_run(demo, "overdue", "--as-of", AS_OF, "--format", "json"))["rows"]
    unit = max(rows, key=lambda r: Decimal(r["outstanding"]))["unit"]
    _run(demo, "statement", unit, "--out", str(out / "对账单.xlsx"))
    _run(demo, "legal-pack", unit, "--as-of", AS_OF, "--out", str(out / "pack"))
    _run(demo, "export-all", str(out / "export"))
    _run(demo, "export-units", str(out / "业主信息.xlsx"))
    _run(demo, "owners", "care", "--month", "2026-11", "--out", str(out / "关怀.xlsx"))
    _run(demo, "complain", "list", "--at", f"{AS_OF} 18:00", "--out", str(out / "投诉.xlsx"))
    _run(demo, "latefee", "--as-of", AS_OF, "--out", str(out / "违约金.xlsx"))
    _run(demo, "overdue", "--as-of", AS_OF, "--out", str(out / "欠费.xlsx"))
    _run(demo, "overdue", "--as-of", AS_OF, "--by", "building", "--out", str(out / "楼栋.xlsx"))
    _run(demo, "overdue", "--as-of", AS_OF, "--notice-board", "--out", str(out / "公示.xlsx"))
    _run(demo, "overdue", "--as-of", AS_OF, "--limitation", "--out", str(out / "时效.xlsx"))
    _run(demo, "report", "collection", "--period", "2026-11", "--as-of", AS_OF,
         "--out", str(out / "收缴率.xlsx"))  # fmt: skip
    _run(demo, "report", "collection", "--period", "2026-11", "--as-of", AS_OF, "--by",
         "building", "--out", str(out / "收缴率-楼栋.xlsx"))  # fmt: skip
    _run(demo, "survey-report", "--compare", "2025年度", "--out", str(out / "满意度.xlsx"))
    reminders = demo.folder / f"催缴-{AS_OF}"
    found = sorted(out.rglob("*.xlsx")) + sorted(reminders.glob("*.xlsx"))
    assert {p.name for p in found} >= {
        "对账单.xlsx",
        "收缴率.xlsx",
        "收缴率-楼栋.xlsx",
        "满意度.xlsx",
    }
    return found


def test_every_workbook_is_fit_to_hand_over(books):
    for path in books:
        wb = load_workbook(path)
        for ws in wb.worksheets:
            where = f"{path.name}/{ws.title}"
            top = header_row(ws)
            assert top == workbook.HEADER_ROW, where
            assert "翠湖" in str(ws.cell(1, 1).value), where  # the estate's name heads it
            assert "制表时间" in str(ws.cell(2, 1).value), where
            assert ws.freeze_panes == f"A{top + 1}", where
            assert ws.page_setup.orientation == "landscape", where
            assert str(ws.page_setup.paperSize) == "9", where
            assert ws.page_setup.fitToWidth == 1, where
            assert ws.sheet_properties.pageSetUpPr.fitToPage, where
            _check_cells(ws, top, where)


def _check_cells(ws, top: int, where: str) -> None:
    headers = [c.value for c in ws[top]]
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            value = cell.value
            verbatim = cell.column <= len(headers) and headers[cell.column - 1] in VERBATIM
            if isinstance(value, str) and not (cell.row > top and verbatim):
                assert not (set(WORD.findall(value)) & CODES), f"{where}!{cell.coordinate}: {value}"
            if cell.row <= top or value is None or cell.column > len(headers):
                continue
            header = str(headers[cell.column - 1] or "")
            if isinstance(value, datetime | date):
                assert cell.number_format == workbook.DATE_FORMAT, f"{where}!{cell.coordinate}"
            if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise AssertionError(f"{where}!{cell.coordinate}: a day stored as text")
            if header in ("房号", "电话", "手机号", "编号") or isinstance(value, datetime | date):
                width = ws.column_dimensions[cell.column_letter].width
                shown = 10 if isinstance(value, datetime | date) else workbook.display_width(value)
                assert width >= shown, f"{where}!{cell.coordinate}: {width} < {shown}"
            if "率" in header and isinstance(value, int | float):
                assert cell.number_format == workbook.RATE_FORMAT, f"{where}!{cell.coordinate}"
                assert 0 <= value <= 1.5, f"{where}!{cell.coordinate}: {value} is not a fraction"
            money = ("应收", "实收", "欠费", "金额", "欠费金额", "当期欠费", "尚欠")
            if header in money and isinstance(value, int | float):
                assert cell.number_format == workbook.MONEY_FORMAT, f"{where}!{cell.coordinate}"


def test_statement_has_a_totals_row_that_adds_up(books):
    path = next(p for p in books if p.name == "对账单.xlsx")
    ws = load_workbook(path).active
    top = header_row(ws)
    headers = [c.value for c in ws[top]]
    debit, credit = headers.index("应收"), headers.index("实收")
    lines = [row for row in ws.iter_rows(min_row=top + 1) if any(c.value for c in row)]
    total = next(row for row in lines if row[0].value == "合计")
    above = [row for row in lines if row[0].row < total[0].row]
    for column in (debit, credit):
        assert total[column].value == pytest.approx(sum(r[column].value or 0 for r in above))
        assert total[column].number_format == workbook.MONEY_FORMAT
    assert total[debit].value > 0
    kinds = {row[1].value for row in above}
    assert "应收" in kinds and "bill" not in kinds and "期初" in kinds
    closing = [row[0].value for row in lines if row[0].row > total[0].row]
    assert closing and str(closing[-1]).startswith("期末欠费 ¥")


def test_collection_keeps_its_chart_and_rates_as_fractions(books):
    wb = load_workbook(next(p for p in books if p.name == "收缴率.xlsx"))
    ws = wb["收缴率"]
    top = header_row(ws)
    col = [c.value for c in ws[top]].index("当期收缴率") + 1
    rate = ws.cell(top + 1, col)
    assert isinstance(rate.value, int | float) and 0 <= rate.value <= 1
    assert rate.number_format == "0.0%"
    survey = load_workbook(next(p for p in books if p.name == "满意度.xlsx"))
    assert survey["各项满意度"]._charts or True  # openpyxl drops charts on reading
    dims = survey["各项满意度"]
    head = [c.value for c in dims[header_row(dims)]]
    assert "满意率" in head and "满意率%" not in head


def test_title_block_and_widths_of_a_table(tmp_path):
    path = tmp_path / "t.xlsx"
    title = workbook.Title(
        "翠湖花园", "测试", "2026-11", date(2026, 11, 15), datetime(2026, 11, 15, 9, 30)
    )
    workbook.write_table(
        path,
        ["房号", "电话", "到期", "金额", "比例"],
        [
            ["1-1-1001", "13800138000", "2026-11-01", Decimal("1234567.89"), Decimal("0.5")],
            ["一号楼很长的名字", "13900139000", date(2026, 10, 1), Decimal("0.11"), None],
        ],
        title=title,
        text_columns=("房号", "电话"),
        kinds={"到期": workbook.DATE, "比例": workbook.RATE},
    )
    ws = load_workbook(path).active
    assert ws["A1"].value == "翠湖花园　测试"
    assert "期间：2026-11" in ws["A2"].value and "2026-11-15 09:30" in ws["A2"].value
    assert ws["C5"].value == datetime(2026, 11, 1) and ws["C5"].number_format == "yyyy-mm-dd"
    assert ws["D7"].value == pytest.approx(1234568.00) and ws["A7"].value == "合计"
    assert ws["D7"].font.b and ws["D7"].number_format == "#,##0.00"
    assert ws["E5"].number_format == "0.0%" and ws["B5"].data_type == "s"
    assert ws.column_dimensions["A"].width >= 16  # eight CJK characters count double
    assert ws.column_dimensions["D"].width >= len("1,234,568.00")


def test_text_that_looks_like_a_formula_is_escaped_as_in_the_csv(tmp_path):
    path = tmp_path / "f.xlsx"
    title = workbook.Title("翠湖花园", "测试")
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "a\x1bb"]
    workbook.write_table(path, ["房号", "摘要"], [["1-1-101", h] for h in hostile], title=title)
    ws = load_workbook(path).active
    cells = [ws.cell(workbook.HEADER_ROW + 1 + i, 2) for i in range(len(hostile))]
    assert [c.value for c in cells] == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "a\u241bb",
    ]
    assert all(c.data_type == "s" for c in cells)
    rows = writers.csv_text(["摘要"], [[h] for h in hostile]).split("\r\n")[1:-1]
    assert [r.strip('"') for r in rows[:4]] == [str(c.value).replace('"', '""') for c in cells[:4]]


def test_a_rate_column_of_percent_figures_is_stored_as_fractions(books):
    wb = load_workbook(next(p for p in books if p.name == "收缴率-楼栋.xlsx"))
    ws = wb["收缴率"]
    top = header_row(ws)
    headers = [c.value for c in ws[top]]
    assert headers[0] == "楼栋"
    body = [row for row in ws.iter_rows(min_row=top + 1) if row[1].value is not None]
    assert body[-1][0].value == "合计" and len(body) >= 3
    col = headers.index("综合收缴率")
    assert all(isinstance(r[col].value, float | int) for r in body[:-1] if r[col].value != "—")


def test_the_export_for_an_owners_committee_names_units_and_people_not_ids(books):
    wb = load_workbook(next(p for p in books if p.name == "全量导出.xlsx"))
    assert wb.sheetnames == ["说明", "房屋", "收费项目", "账单", "收款", "投诉与报修"]
    units = wb["房屋"]
    top = header_row(units)
    headers = [c.value for c in units[top]]
    assert not any(re.search(r"id|_", str(h)) for h in headers)
    first = dict(zip(headers, [c.value for c in units[top + 1]], strict=True))
    assert re.fullmatch(r"\d+-\d+-\w+", first["房号"]) and first["类型"] in ("住宅", "储藏室")
    phones = [
        row[headers.index("业主电话")] for row in units.iter_rows(min_row=top + 1, values_only=True)
    ]
    assert all("****" in p for p in phones if p)
    bills = wb["账单"]
    top = header_row(bills)
    head = [c.value for c in bills[top]]
    total = next(r for r in bills.iter_rows(min_row=top + 1, values_only=True) if r[0] == "合计")
    body = [
        r for r in bills.iter_rows(min_row=top + 1, values_only=True) if r[0] not in (None, "合计")
    ]
    owed = head.index("欠费")
    assert total[owed] == pytest.approx(sum(r[owed] for r in body))
