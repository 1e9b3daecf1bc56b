"""A plain sheet read a column at a time gives what the row-by-row reading gives.

A roster whose every field is a cell of its own (楼号 | 单元 | 房间 | 建筑面积 | 业主 | 电话 …)
is read a column at a time (``reading._PlainRows``); a row with anything unusual is handed to
the row-by-row reading. Whatever the cells, both readings must give the same roster — the same
rows, notices, warnings and counts — or the same refusal with the same words, and an import
must leave the same database.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from propfee.core.errors import PropfeeError, RowErrors
from propfee.roster import merge, others, reading
from propfee.store import db

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "rosters"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "roster.xlsx"
AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 9, 30, 0)


def read_both(path: Path, monkeypatch, **options):
    """The file read with the column reading and without it: (roster or errors) twice."""

    def one():
        try:
            return reading.read_roster(path, **options)
        except RowErrors as exc:
            return [str(exc), *exc.errors]
        except (PropfeeError, others.NotARoster) as exc:  # not a roster: said alike
            return [type(exc).__name__, str(exc)]

    plain = one()
    with monkeypatch.context() as patched:
        patched.setattr(reading, "_PLAIN_FIELDS", frozenset())
        general = one()
    return plain, general


def write_xlsx(path: Path, rows: list[list], sheet: str = "业主信息") -> Path:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


HEADER = ["楼号", "单元", "房间", "房屋类型", "建筑面积", "业主姓名", "联系电话", "身份证号"]
HEADER += ["交付日期", "备注", "空置", "楼层", "套内面积", "过户日期"]

GOOD = [1, 1, 101, "住宅", 89.37, "张明伟", 13800000000, "620102195102020018"]
GOOD += [date(2018, 1, 2), "", "", 1, 70.5, None]


def test_the_plain_sheet_is_read_a_column_at_a_time(tmp_path, monkeypatch):
    """The fixture is plain: the column reading is the one taken (else the other tests here
    would compare the row reading with itself)."""
    path = write_xlsx(tmp_path / "r.xlsx", [HEADER, GOOD])
    taken = []
    monkeypatch.setattr(reading._PlainRows, "_build", lambda self, *a: taken.append(a))
    reading.read_roster(path)
    assert taken


#: cells of each column, the usual and the hostile
CELLS = {
    "楼号": [1, 2, "3栋", "A座", "", None, "一号楼", 1.0, "  2 "],
    "单元": [1, 2, "1单元", "", None, "二单元"],
    "房间": [101, 102, "201室", "", None, 101.0, "1-101", "B12"],
    "房屋类型": ["住宅", "商铺", "", None, "别墅？", "车位", "无", "公寓", 3],
    "建筑面积": [89.37, 120, "120.5", 0, "0", "", None, "abc", -5, "1e3", "89.37㎡"],
    "业主姓名": ["张明伟", "李雷", "", None, "未售", "某某有限公司", " 王 五 ", "'=SUM(A1)"],
    "联系电话": [
        13800000000,
        "13900139000",
        "",
        None,
        "138****0000",
        "1.38E+10",
        "abc",
        "0931-8123456/13800138000",
        12.5,
        "无",
    ],
    "身份证号": [
        "620102195102020018",
        "620102195102020019",
        "111111111111111111",
        "",
        None,
        "6201021951****0018",
        620102195102020018.0,
        "G12345678",
        "12345",
        "620102510202001",
    ],
    "交付日期": [date(2018, 1, 2), "2019-03-04", "", None, "not a day", "1800-01-01", 43000],
    "备注": ["", "空置", None, " 说明  两个 ", 5],
    "空置": ["", "空置", "已入住", "也许", None, "是"],
    "楼层": [1, "2", "", None, "B1"],
    "套内面积": ["", 70.5, 200, "x", None],
    "过户日期": [None, "", "2020-05-06", "bad"],
}


@st.composite
def row_of_cells(draw) -> dict:
    """A good row (of one of 60 units) with up to three cells taken from ``CELLS``."""
    row = dict(zip(HEADER, GOOD, strict=True))
    row["楼号"], row["房间"] = draw(st.integers(1, 3)), draw(st.integers(101, 120))
    row["联系电话"] = 13800000000 + draw(st.integers(0, 5))
    for column in draw(st.lists(st.sampled_from(list(CELLS)), max_size=3)):
        row[column] = draw(st.sampled_from(CELLS[column]))
    return row


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row_of_cells(), min_size=1, max_size=12), fmt=st.sampled_from(["xlsx", "csv"]))
def test_any_cells_read_alike(tmp_path_factory, monkeypatch, rows, fmt):
    """Random rows of usual and hostile cells (duplicates, bad kinds, areas, dates, IDs,
    masked phones, names without phones …): the same roster or the same refusal."""
    folder = tmp_path_factory.mktemp("plain")
    table = [HEADER] + [[row[h] for h in HEADER] for row in rows]
    if fmt == "xlsx":
        path = write_xlsx(folder / "r.xlsx", table)
    else:
        path = folder / "r.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["" if c is None else c for c in line] for line in table])
    plain, general = read_both(path, monkeypatch)
    assert plain == general


@pytest.mark.parametrize("strict", [False, True])
def test_bad_rows_are_refused_alike(tmp_path, monkeypatch, strict):
    """A file of good rows among bad ones: every bad row named alike, at the same row and
    column, whichever reading met it first."""
    rows = [HEADER]
    for i in range(30):
        row = list(GOOD)
        row[2] = 101 + i
        row[6] = 13800000000 + i
        rows.append(row)
    rows[5][4] = "abc"  # a bad area
    rows[9][7] = "620102195102020019"  # a wrong check digit: warned, or refused with --strict
    rows[12][2] = 101  # a duplicate of row 2
    rows[15][5] = ""  # a phone but no owner
    rows[20][8] = "not a day"
    rows[25][3] = "别墅？"
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    column_map = reading.load_map(None)
    column_map.strict = strict
    plain, general = read_both(path, monkeypatch, column_map=column_map)
    assert plain == general
    assert isinstance(plain, list) and len(plain) >= 6  # refused, naming every bad row


def test_sheets_named_after_buildings_and_codes_read_alike(tmp_path, monkeypatch):
    """A workbook whose sheets are its buildings (no 楼号 column), and one of unit codes."""
    book = Workbook()
    book.remove(book.active)
    for name in ("1栋", "2号楼"):
        ws = book.create_sheet(name)
        ws.append(["房间", "建筑面积", "业主", "电话"])
        for room in (101, 102, 201):
            ws.append([room, 88.5, f"业主{room}", 13800000000 + room])
    ws = book.create_sheet("代码")
    ws.append(["房号", "建筑面积", "业主", "电话"])
    for code in ("3-1-101", "3-1-102", "3-1-101", "B-12"):
        ws.append([code, 90, "王五", "13900139000"])
    path = tmp_path / "b.xlsx"
    book.save(path)
    plain, general = read_both(path, monkeypatch)
    assert plain == general
    ok = tmp_path / "ok.xlsx"
    book["代码"].delete_rows(4)  # without the duplicate: read whole
    book.save(ok)
    plain, general = read_both(ok, monkeypatch)
    assert plain == general
    assert not isinstance(plain, list) and plain.count == 9


@pytest.mark.parametrize(
    "path",
    [*sorted(p for p in CORPUS.glob("*") if p.suffix in (".xls", ".xlsx")), SAMPLE],
    ids=lambda p: p.name,
)
def test_real_files_read_alike(path, monkeypatch):
    """The shipped sample roster and the real exports of other systems in the corpus."""
    plain, general = read_both(path, monkeypatch)
    assert plain == general


def database_rows(path: Path) -> dict[str, list]:
    """The roster's tables, but the times rows were written (a command's clock) and the
    audit trail's hashes."""
    conn = sqlite3.connect(path)
    found = {}
    for table in ("unit", "party", "occupancy", "unit_event", "unit_contact", "audit"):
        names = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
        kept = [n for n in names if not n.endswith("_at") and "hash" not in n and n != "at"]
        found[table] = conn.execute(f"SELECT {', '.join(kept)} FROM {table} ORDER BY 1").fetchall()
    conn.close()
    return found


def test_an_import_writes_the_same_database(tmp_path, monkeypatch):
    """The sample roster and a plain file with unusual rows, imported then re-imported with
    a change, by each reading: the same units, parties, occupancies and history."""
    rows = [HEADER]
    for i in range(40):
        row = list(GOOD)
        row[2], row[6] = 101 + i, 13800000000 + i % 30  # some owners on several units
        row[5] = f"业主{i % 30}"
        row[7] = "111111111111111111" if i == 7 else row[7] if i % 3 else ""
        rows.append(row)
    first = write_xlsx(tmp_path / "first.xlsx", rows)
    rows[3][5], rows[3][13] = "新业主", "2026-01-01"  # a sale
    rows[8][4] = 99.5
    second = write_xlsx(tmp_path / "second.xlsx", rows)
    found = []
    for plain in (True, False):
        with monkeypatch.context() as patched:
            if not plain:
                patched.setattr(reading, "_PLAIN_FIELDS", frozenset())
            target = tmp_path / f"{plain}.db"
            conn = db.connect(target)
            reports = [
                merge.import_roster(conn, path, as_of=AS_OF, now=NOW).as_dict()
                for path in (SAMPLE, first, first, second)
            ]
            conn.close()
            found.append((reports, database_rows(target)))
    assert found[0] == found[1]
    assert found[0][0][-1]["owner_changes"] == 1


# ---------------------------------------------------------------- a re-import at a glance


def resident_id(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def roster_rows() -> list[list]:
    """12 homes of 8 owners (some own two): the file a re-import changes."""
    rows = [[*HEADER, "出租人"]]
    for i in range(12):
        owner = i % 8
        row = [1, 1, 101 + i, "住宅", 89.37, f"业主{owner}", 13800000000 + owner]
        row += [resident_id(f"62010219510202{owner:03d}") if owner % 3 else ""]
        row += [date(2018, 1, 2 + i), "", "", 1, "", None, ""]
        rows.append(row)
    return rows


#: what a later file changes in a row: (column, value)
CHANGES = [
    (4, 99.5),  # area
    (4, ""),  # area left blank: kept
    (5, "新业主"),  # a sale
    (5, ""),  # the owner missing: refused
    (6, 13900000000),  # a new phone
    (6, "13800000001/13900000001"),  # a phone of another owner, and a new one
    (6, "138****0000"),  # masked
    (6, ""),  # no phone: kept
    (7, ""),  # no ID: kept
    (7, resident_id("62010219800101123")),  # another ID
    (8, date(2019, 5, 6)),  # another delivery day: re-billing noted
    (9, "空置"),  # notes
    (10, "空置"),  # vacant
    (10, "已入住"),
    (11, 3),  # floor
    (12, 50),  # inner area
    (13, "2026-01-01"),  # a sale's day
    (14, "王租客"),  # a tenant
]


def run_imports(folder: Path, files: list[Path], edit: bool) -> tuple[list, dict]:
    """Each file imported in turn (an edit made with a command after the first): the
    reports, or the refusal, and the database."""
    from typer.testing import CliRunner

    from propfee.cli import app

    target = folder / "estate.db"
    reports = []
    for number, path in enumerate(files):
        if number == 1 and edit:
            for args in (
                ("units", "set", "1-1-101", "--area", "90", "--as-of", "2026-11-01"),
                ("owners", "set", "业主1", "--phone", "13900009999", "--as-of", "2026-11-01"),
            ):
                done = CliRunner().invoke(app, [*args, "--db", str(target)])
                assert done.exit_code == 0, done.output
        conn = db.connect(target)
        try:
            reports.append(merge.import_roster(conn, path, as_of=AS_OF, now=NOW).as_dict())
        except RowErrors as exc:
            reports.append([str(exc), *exc.errors])
        finally:
            conn.close()
    return reports, database_rows(target)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.lists(st.tuples(st.integers(1, 12), st.sampled_from(CHANGES)), max_size=6),
    edit=st.booleans(),
)
def test_a_reimport_at_a_glance_agrees_with_the_full_comparison(
    tmp_path_factory, monkeypatch, changes, edit
):
    """A roster imported, then again with a few cells changed (and an edit made with a
    command between): ``RosterMerge.same`` tells the same units unchanged as ``update``
    does, and the database ends the same."""
    folder = tmp_path_factory.mktemp("again")
    rows = roster_rows()
    first = write_xlsx(folder / "first.xlsx", rows)
    for line, (column, value) in changes:
        rows[line][column] = value
    later = write_xlsx(folder / "later.xlsx", rows)
    found = []
    for glance in (True, False):
        with monkeypatch.context() as patched:
            if not glance:
                patched.setattr(merge.RosterMerge, "same", lambda self, row, existing: False)
            made = folder / str(glance)
            made.mkdir()
            found.append(run_imports(made, [first, first, later, later], edit))
    assert found[0] == found[1]
    assert found[0][0][1]["unchanged"] == 12 or edit


def test_a_row_without_a_room_is_refused_by_name(cli, database, tmp_path):
    """A row giving its building but neither a code nor a room is refused naming the file,
    row and column (it once stopped the import with an internal error); nothing is
    written."""
    rows = [
        HEADER,
        GOOD,
        [2, 1, "", "住宅", 90, "李雷", 13900139000, "", None, "", "", 1, "", None],
    ]
    path = write_xlsx(tmp_path / "楼盘.xlsx", rows)
    result = cli("import-units", str(path))
    assert result.exit_code == 1
    assert "楼盘.xlsx" in result.output and "第 3 行" in result.output
    assert "房间" in result.output and "没有房号或房间号" in result.output
    assert (
        not Path(database).exists()
        or not sqlite3.connect(database).execute("SELECT count(*) FROM unit").fetchone()[0]
    )
