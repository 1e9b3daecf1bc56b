"""A hostile-file corpus for the intakes that are not payment files: the roster (csv, xlsx and
the .xls systems export), opening balances, meter readings and surveys. Each case is made from
a format-true good sample by what real offices do to files: cut at every byte of the last
line, an Excel re-save (dates reformatted, GBK, ￥), duplicated lines, shuffled columns,
formulas without values, absurd numbers.

For every case: a refusal leaves the database byte for byte as it was and names the row; a
damaged file (accepted or refused) followed by the good file ends where the good file alone
ends — nothing recorded twice, nothing at a wrong amount — and ``propfee check`` passes."""

from __future__ import annotations

import csv
import gc
import io
import random
import re
from dataclasses import dataclass
from pathlib import Path

import click.testing
import pytest
import typer.main

from propfee.cli import app
from propfee.store import db

from conftest import PROP_FEE, dump, estate_there, sibling

ROOT = Path(__file__).resolve().parent.parent

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "89.37", "张三", "13812341234", "2020-01-01"],
    ["1-1-102", "住宅", "120", "李四", "13900001111", "2020-01-01"],
    ["1-1-103", "住宅", "100", "王五", "13700001111", "2020-01-01"],
]
HISTORY = [
    ["房屋", "收费项目", "开始时间", "结束时间", "缴费时间", "应缴金额", "实缴金额", "收银员"],
    ["1-1-101", "物业服务费", "2024-01-01", "2025-01-01", "2024-01-10", "2681.10", "2681.10", "王会计"],
    ["1-1-102", "物业服务费", "2024-01-01", "2025-01-01", "2024-02-01", "3600.00", "1800.00", "王会计"],
    ["1-1-103", "物业服务费", "2024-01-01", "2025-01-01", "2024-03-15", "3000.00", "3000.00", "李出纳"],
]  # fmt: skip
READINGS = [
    ["房号", "抄表日期", "本次读数"],
    ["1-1-101", "2026-09-30", "100.5"],
    ["1-1-102", "2026-09-30", "230"],
    ["1-1-103", "2026-09-30", "1234.56"],
]
SURVEY = [
    ["房号", "服务态度", "保洁", "总体满意度", "推荐意愿", "意见建议"],
    ["1-1-101", "5", "满意", "5", "10", "电梯维修及时"],
    ["1-1-102", "4", "2", "3", "6", "保洁不到位"],
    ["1-1-103", "3", "4", "4", "8", "很好"],
]


@dataclass(frozen=True)
class Intake:
    name: str
    good: list[list[str]]
    command: tuple[str, ...]
    # the SQL whose rows say what the intake recorded; never a new row's id (on PostgreSQL a
    # refused import has used up the ids it took, as a sequence does)
    fingerprint: str


INTAKES = {
    "roster": Intake(
        "roster",
        ROSTER,
        ("import-units",),
        "SELECT u.code, u.area_x100, p.name, p.phones FROM unit u LEFT JOIN occupancy o ON "
        "o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL LEFT JOIN party p ON "
        "p.id = o.party_id ORDER BY u.code",
    ),
    "history": Intake(
        "history",
        HISTORY,
        ("import-history",),
        "SELECT 'bill', unit_id, covers_from, covers_to, CAST(amount_fen AS TEXT), settled_on "
        "FROM bill UNION ALL SELECT 'payment', unit_id, CAST(amount_fen AS TEXT), paid_on, "
        "cashier, '' FROM payment UNION ALL SELECT 'allocation', b.unit_id, "
        "CAST(a.amount_fen AS TEXT), b.covers_from, b.covers_to, '' FROM allocation a "
        "JOIN bill b ON b.id = a.bill_id "
        "ORDER BY 1, 2, 3",
    ),
    "readings": Intake(
        "readings",
        READINGS,
        ("readings", "import", "--meter", "water"),
        "SELECT unit_id, meter, read_on, reading, usage_x1000 FROM meter_reading ORDER BY 1, 3",
    ),
    "survey": Intake(
        "survey",
        SURVEY,
        ("survey", "import", "--name", "2026秋", "--date", "2026-10-20"),
        "SELECT count(*) FROM survey_response",
    ),
}


# ---------------------------------------------------------------- the damage


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def cut_last_line(rows):
    """Every byte position inside the last line (no line break after it)."""
    data = csv_bytes(rows)
    start = data.rstrip(b"\r\n").rfind(b"\n") + 1
    end = len(data.rstrip(b"\r\n"))
    return [data[:i] for i in range(start + 1, end)]


def shuffled(rows, seed=7):
    order = list(range(len(rows[0])))
    random.Random(seed).shuffle(order)
    return [[row[i] for i in order] for row in rows]


def resaved_dates(rows):
    """Excel shows ISO dates as 2024/1/1 and saves them so."""
    return [[re.sub(r"^(\d{4})-0?(\d+)-0?(\d+)$", r"\1/\2/\3", c) for c in row] for row in rows]


def yuan_marks(rows):
    return [
        [f"￥{c}" if re.fullmatch(r"\d+\.\d\d", c) and i > 0 else c for c in row]
        for i, row in enumerate(rows)
    ]


def absurd(rows, column: int, value: str):
    first = rows[1]
    return [rows[0], [*first[:column], value, *first[column + 1 :]], *rows[2:]]


def cases() -> list:
    found = []
    for name, intake in INTAKES.items():
        good = intake.good
        for i, data in enumerate(cut_last_line(good)):
            found.append(pytest.param(name, ".csv", data, id=f"{name}-cut-{i}"))
        found.append(pytest.param(name, ".csv", csv_bytes(good, "gbk"), id=f"{name}-gbk"))
        found.append(pytest.param(name, ".csv", csv_bytes(resaved_dates(good)), id=f"{name}-dates"))
        found.append(
            pytest.param(name, ".csv", csv_bytes(good + good[1:2]), id=f"{name}-duplicated")
        )
        found.append(pytest.param(name, ".csv", csv_bytes(shuffled(good)), id=f"{name}-shuffled"))
        found.append(pytest.param(name, ".xlsx", good, id=f"{name}-xlsx"))
        found.append(pytest.param(name, ".xlsx", "formula", id=f"{name}-formula"))
    found.append(pytest.param("history", ".csv", csv_bytes(yuan_marks(HISTORY)), id="history-yuan"))
    for name, column, value in (
        ("roster", 2, "13912345678"),
        ("roster", 2, "1.5E+10"),
        ("history", 5, "99999999999"),
        ("history", 6, "4.2E+27"),
        ("history", 4, "9999-12-31"),
        ("history", 2, "1900-01-01"),
        ("readings", 2, "99999999999"),
        ("readings", 1, "1899-12-31"),
        ("survey", 1, "999"),
    ):
        rows = absurd(INTAKES[name].good, column, value)
        found.append(pytest.param(name, ".csv", csv_bytes(rows), id=f"{name}-absurd-{column}"))
    return found


def write_formula_xlsx(path: Path, rows: list[list[str]]) -> None:
    """The good rows with the second row's numbers as formulas that were never calculated
    (openpyxl, like many generators, writes no cached value)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for number, row in enumerate(rows):
        cells = []
        for value in row:
            if number == 1 and re.fullmatch(r"\d+(\.\d+)?", value) and len(value) < 9:
                cells.append(f"={value}*1")
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.save(path)


def write_case(path: Path, data) -> None:
    from openpyxl import Workbook

    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        workbook = Workbook()
        for row in data:
            workbook.active.append(row)
        workbook.save(path)


# ---------------------------------------------------------------- the estates


def invoke(command: click.Command, database, *args: str) -> click.testing.Result:
    """One command on an estate, through the command tree built once; the connection it
    leaves to the garbage collector is collected, so an SQLite file is whole (its
    write-ahead log folded in) before it is copied."""
    result = click.testing.CliRunner().invoke(
        command, [*args, "--db", str(database)], catch_exceptions=False
    )
    gc.collect()
    return result


@pytest.fixture(scope="module")
def command() -> click.Command:
    """The command tree, built once for the module: building it from the Typer app takes a
    fifth of a second, more than most cases take to run."""
    return typer.main.get_command(app)


@pytest.fixture
def cli(command, database):
    """conftest's ``cli`` on the command tree built once."""
    runner = click.testing.CliRunner()

    def run(*args: str):
        return runner.invoke(command, [*args, "--db", str(database)], catch_exceptions=False)

    return run


@pytest.fixture(scope="module")
def goods(tmp_path_factory) -> dict[str, Path]:
    """Each intake's good file."""
    base = tmp_path_factory.mktemp("good")
    found = {}
    for name, intake in INTAKES.items():
        found[name] = base / f"{name}-good.csv"
        found[name].write_bytes(csv_bytes(intake.good))
    return found


@pytest.fixture(scope="module")
def ready(tmp_path_factory, command):
    """What makes the estate every intake but the roster starts from (the roster starts
    from nothing): the roster imported, the service fee added and published."""
    base = tmp_path_factory.mktemp("hostile")
    roster = base / "roster.csv"
    roster.write_bytes(csv_bytes(ROSTER))

    def build(location):
        assert (
            invoke(
                command, location, "import-units", str(roster), "--as-of", "2024-01-01"
            ).exit_code
            == 0
        )
        assert invoke(command, location, *PROP_FEE).exit_code == 0
        invoke(
            command,
            location,
            "fees",
            "publish",
            "--out",
            str(base),
            "--recorded-later",
            "--published-on",
            "2020-01-01",
            "--evidence",
            "公示照片 IMG_0231.jpg",
        )

    return build


@pytest.fixture(scope="module")
def alone() -> dict[str, dict[str, list[tuple]]]:
    """Per engine, what each good file alone leaves (filled by ``expected``)."""
    return {}


@pytest.fixture
def expected(alone, engine, estate_copy, ready, command, database, goods):
    """Per intake, the fingerprint the good file alone leaves, worked out once per engine
    on estates of the first test's own."""
    if engine not in alone:
        found = {}
        for name, intake in INTAKES.items():
            place = sibling(database, f"{name}_alone")
            if name != "roster":
                estate_copy("ready", ready, into=place)
            result = invoke(command, place, *intake.command, str(goods[name]))
            assert result.exit_code == 0, result.output
            found[name] = fingerprint(place, intake)
        alone[engine] = found
    return alone[engine]


def fingerprint(database, intake: Intake) -> list[tuple]:
    conn = db.connect(database, create=False)
    try:
        return [tuple(row) for row in conn.execute(intake.fingerprint)]
    finally:
        conn.close()


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize(("name", "suffix", "data"), cases())
def test_a_damaged_file_then_the_good_file(
    expected, goods, estate_copy, ready, cli, database, tmp_path, name, suffix, data
):
    intake = INTAKES[name]
    if name != "roster":
        estate_copy("ready", ready)
    damaged = tmp_path / f"damaged{suffix}"
    if data == "formula":
        write_formula_xlsx(damaged, intake.good)
    else:
        write_case(damaged, data)
    before = dump(database) if estate_there(database) else None
    result = cli(*intake.command, str(damaged))
    if result.exit_code != 0:
        assert result.exit_code == 1, result.output
        assert re.search(r"row \d+|第 \d+", result.stderr), result.stderr
        assert "Traceback" not in result.output
        after = dump(database) if estate_there(database) else None
        assert after == before  # refused: byte for byte unchanged
    accepted = result.exit_code == 0
    before_good = dump(database) if estate_there(database) else None
    again = cli(*intake.command, str(goods[name]))
    if name == "survey" and accepted:
        # a survey is a record: its name holds the file first imported (the same answers
        # here), and another file under that name is refused, never added to it
        assert again.exit_code in (0, 1) and dump(database) == before_good, again.output
        if again.exit_code == 1:
            assert "已保存了另一个文件的答卷" in again.stderr
    else:
        assert again.exit_code == 0, again.output
    # nothing twice, nothing at a wrong amount
    assert fingerprint(database, intake) == expected[name]
    if name in ("history", "readings"):  # the intakes that move money
        assert cli("check").exit_code == 0


def test_the_corpus_is_large_enough():
    assert len(cases()) >= 30


# ---------------------------------------------------------------- the .xls systems export

# a real roster template of another property system, in the shared corpus beside the
# repository (see its PROVENANCE.md); no .xls writer is installed to make one here
XLS = ROOT.parent / "shared" / "corpus" / "rosters" / "pigcms-user_sample.xls"
XLS_MAP = (
    '[columns]\n"业主名" = "owner"\n"业主编号" = "ignore"\n"房子平方(计算物业费使用)" = "area"\n'
)


def xls_cases() -> list:
    """The .xls cut at every sector (and one byte short), and with a 64-byte block zeroed at
    every kilobyte: what a broken download or a bad disk leaves."""
    if not XLS.is_file():
        return [pytest.param("", id="xls-corpus-missing")]
    data = XLS.read_bytes()
    found = [
        pytest.param(data[:n], id=f"xls-cut-{n}")
        for n in [*range(256, len(data), 512), len(data) - 1]
    ]
    for n in range(0, len(data), 1024):
        zeroed = bytearray(data)
        zeroed[n : n + 64] = bytes(64)
        found.append(pytest.param(bytes(zeroed), id=f"xls-zeroed-{n}"))
    return found


@pytest.fixture(scope="module")
def xls_map(tmp_path_factory) -> Path:
    """The --map the .xls needs."""
    if not XLS.is_file():
        pytest.skip(f"{XLS} is not here (the shared corpus sits beside the repository)")
    mapping = tmp_path_factory.mktemp("xls") / "map.toml"
    mapping.write_text(XLS_MAP, encoding="utf-8")
    return mapping


@pytest.fixture(scope="module")
def xls_alones() -> dict[str, list[tuple]]:
    """Per engine, the roster the good .xls alone leaves (filled by ``xls_alone``)."""
    return {}


@pytest.fixture
def xls_alone(xls_map, xls_alones, engine, command, database) -> tuple[Path, list[tuple]]:
    """The --map the .xls needs, and the roster the good .xls alone leaves (worked out once
    per engine, on an estate of the first test's own)."""
    if engine not in xls_alones:
        place = sibling(database, "xls_alone")
        result = invoke(
            command, place, "import-units", str(XLS), "--map", str(xls_map), "--as-of", "2024-01-01"
        )
        assert result.exit_code == 0, result.output
        xls_alones[engine] = fingerprint(place, INTAKES["roster"])
        assert [row[:3] for row in xls_alones[engine]] == [("30-3-1102", 10000, "小黑")]
    return xls_map, xls_alones[engine]


@pytest.mark.parametrize("data", xls_cases())
def test_a_damaged_xls_roster_then_the_good_one(xls_alone, cli, database, tmp_path, data):
    mapping, expected = xls_alone
    damaged = tmp_path / "业主资料.xls"
    damaged.write_bytes(data)
    result = cli("import-units", str(damaged), "--map", str(mapping), "--as-of", "2024-01-01")
    if result.exit_code != 0:
        assert result.exit_code == 1, result.output
        assert "业主资料.xls" in result.stderr and "Traceback" not in result.output
        assert not estate_there(database)  # a failed first import leaves no database behind
    again = cli("import-units", str(XLS), "--map", str(mapping), "--as-of", "2024-01-01")
    assert again.exit_code == 0, again.output
    assert fingerprint(database, INTAKES["roster"]) == expected
