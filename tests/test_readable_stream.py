"""The readable export (``export-all``) of an estate too big to hold is written row by row:
the same workbook as the openpyxl writer makes for the same data — sheet names, title block,
headers, every value, number formats, totals, sheets continued past Excel's rows — and the
same CSV files, byte for byte."""

from __future__ import annotations

import shutil
import sqlite3
import tracemalloc
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from propfee.config import DEFAULTS
from propfee.files import workbook
from propfee.insight import readable
from propfee.insight.survey_report import survey_report
from propfee.service import complaints
from propfee.store import db

from conftest import build_demo

AT = datetime(2026, 11, 15, 18, 30)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, request) -> Path:
    folder = tmp_path_factory.mktemp("readable") / "demo"
    build_demo("lite", folder, request, "--as-of", "2026-11-15")
    return folder / "propfee.db"


def _export(demo_db: Path, folder: Path, *, mask: bool = True) -> readable.ReadableExport:
    conn = db.connect(demo_db, create=False)
    try:
        return readable.export_readable(conn, folder, mask=mask, at=AT, estate="翠湖花园")
    finally:
        conn.close()


def _cells(path: Path) -> dict[str, list[list[tuple]]]:
    """Each sheet's cells: value, number format (of a value) and boldness, row by row."""
    book = load_workbook(path)
    sheets = {}
    for ws in book.worksheets:
        rows = []
        for row in ws.iter_rows():
            cells = [
                (c.value, c.number_format if c.value is not None else None, bool(c.font.b))
                for c in row
                if c.value is not None
            ]
            rows.append(cells)
        while rows and not rows[-1]:
            rows.pop()
        sheets[ws.title] = rows
        assert ws.freeze_panes == f"A{workbook.HEADER_ROW + 1}", ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert str(ws.page_setup.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows == f"${workbook.HEADER_ROW}:${workbook.HEADER_ROW}", ws.title
    return sheets


def _widths(path: Path) -> dict[str, list[float]]:
    book = load_workbook(path)
    return {
        ws.title: [d.width for _, d in sorted(ws.column_dimensions.items())]
        for ws in book.worksheets
    }


def _csvs(done: readable.ReadableExport) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(done.csv_folder.iterdir())}


def _both(demo_db: Path, tmp_path: Path, monkeypatch, **kw):
    held = _export(demo_db, tmp_path / "held", **kw)
    monkeypatch.setattr(readable, "STREAM_ROWS", 0)  # every table is "big": streamed
    streamed = _export(demo_db, tmp_path / "streamed", **kw)
    return held, streamed


def test_a_streamed_book_is_the_book_openpyxl_writes(demo_db, tmp_path, monkeypatch):
    held, streamed = _both(demo_db, tmp_path, monkeypatch)
    assert streamed.rows == held.rows and held.rows[readable.zh("Bills")] > 20
    assert _csvs(streamed) == _csvs(held)
    expected, got = _cells(held.workbook), _cells(streamed.workbook)
    assert list(got) == list(expected)
    for name in expected:
        assert got[name] == expected[name], name
    bills = got["账单"]
    assert bills[-1][0][0] == "合计" and bills[-1][0][2]  # a bold totals row closes the sheet
    headers = [value for value, _, _ in bills[workbook.HEADER_ROW - 1]]
    assert len(set(headers)) == len(headers) and headers[3:5] == ["计费起", "计费止"]
    assert _widths(streamed.workbook) == _widths(held.workbook)


def test_phones_stay_masked_when_streamed(demo_db, tmp_path, monkeypatch):
    held, streamed = _both(demo_db, tmp_path, monkeypatch)
    units = _cells(streamed.workbook)["房屋"]
    phones = [v for row in units for v, _, _ in row if isinstance(v, str) and "****" in v]
    assert phones  # masked, as in the held book (compared cell by cell above)
    assert _cells(held.workbook)["房屋"] == units
    full = _export(demo_db, tmp_path / "full", mask=False)
    assert "****" not in str(_cells(full.workbook)["房屋"])


def test_a_table_past_a_sheet_continues_on_the_next(demo_db, tmp_path, monkeypatch):
    monkeypatch.setattr(readable, "SHEET_ROWS", 1000)
    held, streamed = _both(demo_db, tmp_path, monkeypatch)
    expected, got = _cells(held.workbook), _cells(streamed.workbook)
    assert list(got) == list(expected)
    assert "账单（2）" in got and "账单（3）" in got
    for name in expected:
        assert got[name] == expected[name], name
    bills = held.rows["账单"]
    parts = [n for n in got if n == "账单" or n.startswith("账单（")]
    assert len(parts) == -(-bills // 1000) >= 3
    # each part: title block, headers, at most 1000 rows, its own totals row
    body = [len(got[n]) - workbook.HEADER_ROW - 1 for n in parts]
    assert sum(body) == bills and body[0] == 1000 > body[-1]
    assert all(got[n][-1][0][0] == "合计" for n in parts)
    about = {row[0][0]: row[2][0] for row in got["说明"][workbook.HEADER_ROW - 1 :] if len(row) > 2}
    assert about["账单"] == bills  # 说明 counts the table, not a part
    assert _csvs(streamed) == _csvs(held)


def test_totals_are_summed_in_fen(demo_db, tmp_path, monkeypatch):
    _, streamed = _both(demo_db, tmp_path, monkeypatch)
    lines = (streamed.csv_folder / "账单.csv").read_text("utf-8-sig").splitlines()[1:]
    due = sum(round(float(line.split(",")[8]) * 100) for line in lines)
    bills = _cells(streamed.workbook)["账单"]
    total = bills[-1]
    assert round(total[1][0] * 100) == due


def test_columns_fit_the_widest_cell_past_the_first_rows(demo_db, tmp_path, monkeypatch):
    """A streamed sheet's columns are as wide as all its rows need (an amount too wide for
    its column shows as ####), not only as its first rows."""
    monkeypatch.setattr(readable, "SAMPLE_ROWS", 3)
    held, streamed = _both(demo_db, tmp_path, monkeypatch)
    assert _widths(streamed.workbook) == _widths(held.workbook)
    monkeypatch.setattr(readable, "SHEET_ROWS", 1000)
    held, streamed = _both(demo_db, tmp_path / "parts", monkeypatch)
    assert _widths(streamed.workbook) == _widths(held.workbook)


def test_the_widest_cells_are_the_ones_all_rows_give():
    kinds = [workbook.TEXT, workbook.MONEY, workbook.DATE, workbook.CODE]
    rows = [
        ["甲", Decimal("5.00"), "2026-01-01", 7],
        ["abcdefgh", Decimal("-12345.67"), None, 123456],
        ["乙丙丁戊", Decimal("99999.99"), "2026-12-31", ""],
        [None, 3, "not a day at all", "x"],
    ]
    widest = workbook.WidestCells(kinds)
    for row in rows:
        widest.add(row)
    assert workbook.fitted_widths(
        ["名称", "金额", "日期", "编号"], kinds, widest.rows()
    ) == workbook.fitted_widths(["名称", "金额", "日期", "编号"], kinds, rows)
    assert widest.cells == ["abcdefgh", Decimal("-12345.67"), "not a day at all", 123456]


def _with_cases(demo_db: Path, folder: Path, count: int) -> Path:
    """A copy of the demo estate with ``count`` more cases, each opened, assigned, resolved
    and visited in 2026."""
    folder.mkdir()
    path = folder / "propfee.db"
    shutil.copyfile(demo_db, path)
    with sqlite3.connect(path) as raw:
        unit, party = raw.execute(
            "SELECT unit_id, party_id FROM occupancy WHERE role = 'owner' AND end_on IS NULL"
        ).fetchone()
        first = raw.execute("SELECT max(id) FROM complaint").fetchone()[0] + 1
        stamp = "2026-11-15 18:00:00"
        cases, events = [], []
        for n in range(first, first + count):
            day = f"2026-{n % 9 + 1:02d}-{n % 20 + 1:02d}"
            cases.append(
                (n, f"BX2026-{n:05d}", unit, party, "request", "维修", "phone", "normal",
                 f"第{n}号报修：楼道灯不亮", f"{day} 09:00:00", f"{day} 23:59:59", "1d", stamp)
            )  # fmt: skip
            for hour, action, note, score in (
                (9, "open", f"第{n}号报修：楼道灯不亮", None), (10, "assign", "", None),
                (15, "resolve", "已更换灯泡", None), (17, "visit", "满意", n % 5 + 1),
            ):  # fmt: skip
                events.append((n, f"{day} {hour}:00:00", "李娜", action, note, score, stamp))
        raw.executemany(
            "INSERT INTO complaint (id, number, unit_id, party_id, kind, category, channel, "
            "priority, description, opened_at, deadline_at, deadline_rule, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cases,
        )
        raw.executemany(
            "INSERT INTO complaint_event (complaint_id, at, actor, action, note, score, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
    return path


def _peak_reading_cases(path: Path) -> int:
    """The most memory held while the 投诉与报修 sheet's rows are read, one after another."""
    conn = db.connect(path, create=False)
    try:
        tracemalloc.start()
        for _row in readable._complaint_rows(conn, AT):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        conn.close()


def test_the_complaints_sheet_holds_a_batch_of_cases_at_a_time(demo_db, tmp_path, monkeypatch):
    monkeypatch.setattr(complaints, "CASE_BATCH", 100)
    few = _peak_reading_cases(_with_cases(demo_db, tmp_path / "few", 100))
    many = _with_cases(demo_db, tmp_path / "many", 3_000)
    # every case and its events held at once: 3,000 of them are several MB more
    assert _peak_reading_cases(many) < few + (1 << 20)
    # and the rows are the cases as the complaint list gives them, in order, with their
    # state, the same whether read a batch at a time or all at once
    conn = db.connect(many, create=False)
    try:
        rows = list(readable._complaint_rows(conn, AT))
        listed = complaints.cases(conn, at=AT)
        monkeypatch.setattr(complaints, "CASE_BATCH", 10_000)
        at_once = list(readable._complaint_rows(conn, AT))
    finally:
        conn.close()
    assert len(rows) == len(listed) == 3_004  # the demo's 4 and these
    assert [r[0] for r in rows] == [c.number for c in listed]
    assert rows == at_once
    assert [r[6] for r in rows].count("已回访关闭") >= 3_000
    assert sorted({r[8] for r in rows if r[0].startswith("BX")}) == [1, 2, 3, 4, 5]


def _peak_of_survey_report(path: Path) -> int:
    """The most memory held while the latest survey's report is made."""
    conn = db.connect(path, create=False)
    try:
        tracemalloc.start()
        report = survey_report(conn, name=None, compare=None, settings=DEFAULTS, at=AT)
        assert report.follow_up
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        conn.close()


def test_a_survey_report_holds_a_batch_of_cases_at_a_time(demo_db, tmp_path, monkeypatch):
    """The return-visit list names each low scorer's open cases: found a batch of cases at a
    time, not from every case of the estate's history held at once."""
    monkeypatch.setattr(complaints, "CASE_BATCH", 100)
    few = _peak_of_survey_report(_with_cases(demo_db, tmp_path / "few", 100))
    many = _peak_of_survey_report(_with_cases(demo_db, tmp_path / "many", 3_000))
    assert many < few + (1 << 20), (few, many)
