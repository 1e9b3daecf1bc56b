"""``export-units`` to .xlsx writes its rows as they are made (``xlsxstream.write_table``):
the same workbook the openpyxl writer makes for the same roster — sheet name, title block,
header, every value with its type and number format, boldness, column widths, frozen header,
print setup — in memory that does not grow with the roster."""

from __future__ import annotations

import tracemalloc
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from propfee.core.i18n import _
from propfee.files import workbook, xlsxstream
from propfee.roster import contacts, merge, units
from propfee.roster.units import EXPORT_HEADERS, UnitView, export_rows, export_units, list_units

from conftest import AS_OF, NOW, valid_id, write_csv

TITLE = workbook.Title("翠湖花园", "业主信息", "", None, datetime(2026, 11, 15, 18, 30))


def _roster(tmp_path: Path) -> Path:
    """A roster with every kind of cell the export writes."""
    headers = [_(h) for h in EXPORT_HEADERS]
    member = "家庭成员 李梅（女） 13900009000；租客 王五"
    rows = [
        ["1-1-101", "1", "1", "101", "1", "住宅", "89.37", "建筑面积", "71.20", "2021-06-22",
         "赵丽敏", "个人", "15136867750", valid_id(), "", "朱思", "18900915922", "租户",
         "已入住", "007", "北区", member],
        ["1-1-102", "1", "1", "102", "", "商铺", "56", "建筑面积", "", "", "翠湖贸易有限公司", "单位",
         "13800001111", "", "", "", "", "业主", "已入住", "=1+1", "", ""],
        ["02-1-0301", "02", "1", "0301", "03", "住宅", "120", "建筑面积", "", "2020-08-04",
         "吕志刚", "个人", "17703915794 13800002222", valid_id(born="19761231"), "1976-12-31",
         "", "", "业主", "空置", "+86 备注", "", ""],
        ["P-007", "", "", "P-007", "", "车位", "", "", "", "", "", "", "", "", "",
         "", "", "", "空置", "@home -5", "", ""],
    ]  # fmt: skip
    return write_csv(tmp_path / "roster.csv", [headers, *rows])


def _reference(conn, path: Path, *, mask: bool) -> None:
    """The roster written as before, every cell built in openpyxl (``write_table``)."""
    text = ("Unit code", "Building", "Entrance", "Room", "Floor", "Mobile", "ID number")
    workbook.write_table(
        path,
        [_(h) for h in EXPORT_HEADERS],
        export_rows(list_units(conn), mask=mask, people=contacts.contacts_by_code(conn)),
        title=TITLE,
        sheet=_("Owner roster"),
        text_columns=tuple(_(h) for h in (*text, "Tenant phone", "Other contacts")),
        kinds={
            _("Billing area"): workbook.NUMBER,
            _("Inner area"): workbook.NUMBER,
            _("Delivery date"): workbook.DATE,
            _("Date of birth"): workbook.DATE,
        },
        totals=False,
    )


def _book(path: Path) -> dict:
    """Everything of a workbook a reader sees, cell by cell (a font without a size shows at
    the default 11)."""
    book = load_workbook(path)
    sheets = {}
    for ws in book.worksheets:
        cells = [
            [
                (
                    c.value,
                    c.data_type,
                    c.number_format,
                    bool(c.font.b),
                    c.font.sz or 11,
                    c.quotePrefix,
                )
                for c in row
            ]
            for row in ws.iter_rows(min_col=1, max_col=ws.max_column)
        ]
        setup = ws.page_setup
        printed = (
            setup.orientation, str(setup.paperSize), setup.fitToWidth, setup.fitToHeight,
            ws.sheet_properties.pageSetUpPr.fitToPage, ws.print_title_rows,
        )  # fmt: skip
        sheets[ws.title] = {
            "cells": cells,
            "widths": {k: d.width for k, d in sorted(ws.column_dimensions.items())},
            "frozen": ws.freeze_panes,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "print": printed,
        }
    return sheets


@pytest.mark.parametrize("mask", [True, False])
def test_the_streamed_roster_is_the_openpyxl_workbook(conn, tmp_path, mask):
    report = merge.import_roster(conn, _roster(tmp_path), as_of=AS_OF, now=NOW)
    assert report.added == 4
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    _reference(conn, old, mask=mask)
    assert export_units(conn, new, mask=mask, title=TITLE) == 4
    expected, got = _book(old), _book(new)
    assert list(got) == list(expected) == [_("Owner roster")]
    sheet, want = got[_("Owner roster")], expected[_("Owner roster")]
    for key in ("widths", "frozen", "merged", "print"):
        assert sheet[key] == want[key], key
    cells = sheet["cells"]
    assert len(cells) == len(want["cells"]) == workbook.HEADER_ROW + 4
    for n, (row, wanted) in enumerate(zip(cells, want["cells"], strict=True), start=1):
        assert row == wanted, n
    rows = {row[0][0]: row for row in cells[4:]}
    assert set(rows) == {"1-1-101", "1-1-102", "02-1-0301", "P-007"}
    first, second, third = rows["1-1-101"], rows["1-1-102"], rows["02-1-0301"]
    # codes and numbers-as-text stay text, areas are numbers, days are dates
    assert third[1][:3] == ("02", "s", "@") and third[3][:3] == ("0301", "s", "@")
    assert first[6][:3] == (89.37, "n", "0.00") and rows["P-007"][6][0] is None
    assert first[9][:3] == (datetime(2021, 6, 22), "d", "yyyy-mm-dd")
    assert third[14][:3] == (datetime(1976, 12, 31), "d", "yyyy-mm-dd")
    assert first[19][:2] == ("007", "s") and second[19][:2] == ("'=1+1", "s")
    phone = first[12][0]
    assert phone == ("151****7750" if mask else "15136867750")
    assert first[12][2] == "@" and first[16][0].startswith("189")
    assert "李梅" in first[21][0]
    # the title block and the bold header
    assert cells[0][0][:1] == ("翠湖花园\u3000业主信息",) and cells[0][0][3:5] == (True, 14)
    assert all(c[3] for c in cells[3][: len(EXPORT_HEADERS)])


@pytest.mark.parametrize("mask", [True, False])
def test_the_streamed_roster_imports_back(conn, tmp_path, mask, db_path):
    merge.import_roster(conn, _roster(tmp_path), as_of=AS_OF, now=NOW)
    out = tmp_path / "out.xlsx"
    export_units(conn, out, mask=mask)
    report = merge.import_roster(conn, out, as_of=date(2027, 1, 1), now=datetime(2027, 1, 1))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 4)


def _unit(n: int) -> UnitView:
    return UnitView(
        f"{n // 1000 + 1}-1-{n % 1000 + 101}", str(n // 1000 + 1), "1", str(n % 1000 + 101),
        "", "residential", 8937 + n % 50, "建筑面积", None, f"2020-06-{n % 28 + 1:02d}",
        "", f"业主{n % 300}", "person", f"139{n:08d}", valid_id(seq=f"{n % 1000:03d}"),
        None, "", "", "owner",
    )  # fmt: skip


def _peak_export(monkeypatch, tmp_path: Path, count: int) -> int:
    """The most memory held while a roster of ``count`` units (already read) is exported."""
    roster = [_unit(n) for n in range(count)]
    monkeypatch.setattr(units, "list_units", lambda *_a, **_k: roster)
    monkeypatch.setattr(contacts, "contacts_by_code", lambda _conn: {})
    tracemalloc.start()
    try:
        assert export_units(None, tmp_path / f"{count}.xlsx", mask=True, title=TITLE) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_roster_export_does_not_hold_its_cells(monkeypatch, tmp_path):
    monkeypatch.setattr(xlsxstream, "_CACHED", 200)  # the texts kept written, per column
    few = _peak_export(monkeypatch, tmp_path, 1_500)
    many = _peak_export(monkeypatch, tmp_path, 6_000)
    # every row and its openpyxl cells held at once: 4,500 more units are many MB more
    assert many < few + (1 << 20), (few, many)
    ws = load_workbook(tmp_path / "6000.xlsx").active
    assert ws.max_row == workbook.HEADER_ROW + 6_000
    assert ws.cell(workbook.HEADER_ROW + 6_000, 1).value == "6-1-1100"
