"""propfee group report: several estates together, each read-only, the company summed exactly.

Three estates are built through the CLI — north (6 homes, two months billed, two cases, a
survey), south (3 homes, one month, a case from October, a survey) and east (2 homes, no case,
no survey) — and the group report over them is checked against each estate's own commands."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import propfee.cli
from propfee.cli import app, hoist_common_options, lang
from propfee.store import pg
from propfee.store.migrations import SCHEMA_VERSION

from conftest import CLI_NOW, ESTATE_HEADER, PROP_FEE, home, write_csv

AS_OF = "2026-11-20"
AT_END = f"{AS_OF} 23:59:59"
GOLDEN = Path(__file__).parent / "golden"
NAMES = ("east", "north", "south")  # the order of --dir: by file name

SURVEY_NORTH = [
    ["房号", "服务态度", "保洁", "总体满意度", "推荐意愿"],
    ["1-101", 5, 4, 5, 10],
    ["1-102", 4, 2, 3, 6],
    ["2-101", 5, 5, 5, 9],
]
SURVEY_SOUTH = [
    ["房号", "服务态度", "安保"],
    ["1-101", 3, 4],
    ["1-102", 2, 3],
]


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout


def _estate(runner, folder: Path, db: str, name: str, codes, months: list[str], **extra):
    roster = write_csv(
        folder / f"{name}-roster.csv",
        [
            ESTATE_HEADER,
            *[home(c, area="80", phone=f"1380000{i:04d}") for i, c in enumerate(codes)],
        ],
    )
    _ok(runner, "import-units", roster, "--as-of", "2026-09-01", "--db", db)
    _ok(runner, *PROP_FEE, "--db", db)
    _ok(
        runner, "fees", "publish", "--out", str(folder / f"{name}-公示"), "--recorded-later",
        "--published-on", "2020-01-01", "--evidence", "公示照片", "--db", db,
    )  # fmt: skip
    _ok(runner, "bill", "--from", months[0], "--through", months[-1], "--as-of", "2026-11-01",
        "--db", db)  # fmt: skip
    for i, (unit, amount, day) in enumerate(extra.get("payments", ())):
        _ok(runner, "pay", unit, amount, "--channel", "bank", "--ref", f"{name}{i}", "--date",
            day, "--db", db)  # fmt: skip
    for unit, at in extra.get("cases", ()):
        _ok(runner, "complain", "add", unit, "--kind", "request", "--category", "维修",
            "--description", "漏水", "--at", at, "--db", db)  # fmt: skip
    if "survey" in extra:
        survey = write_csv(folder / f"{name}-survey.csv", extra["survey"])
        _ok(runner, "survey", "import", survey, "--name", f"{name}2026", "--date", "2026-10-20",
            "--db", db)  # fmt: skip


class Group(NamedTuple):
    """The three estates: files in a folder (and nothing else there), or on [pg] the estates
    of a server's database of their own."""

    folder: Path
    server: str | None = None

    def scope(self) -> list[str]:
        """The group report's options for all three: --dir, or the server's --db."""
        return ["--db", self.server] if self.server else ["--dir", str(self.folder)]

    def db(self, name: str) -> str:
        """One estate's --db."""
        return pg.shareable(self.server, name) if self.server else str(self.folder / f"{name}.db")


@pytest.fixture(scope="module")
def engine(request) -> str:
    """The module's tests share the three estates on each engine ([lite] and [pg])."""
    return request.param


def _server(request) -> str:
    """A database of the session's server for the three estates alone."""
    import psycopg

    url = request.getfixturevalue("pg_url")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS propfee_group_estates")
        admin.execute("CREATE DATABASE propfee_group_estates")
    return urlunsplit(urlsplit(url)._replace(path="/propfee_group_estates"))


@pytest.fixture(scope="module")
def estates(engine, tmp_path_factory, request) -> Group:
    """The three estates, built through the CLI."""
    root = tmp_path_factory.mktemp("group")
    folder = root / "estates"
    folder.mkdir()
    work = root / "work"
    work.mkdir()
    server = _server(request) if engine == "pg" else None
    built = Group(work, server)
    with pytest.MonkeyPatch.context() as mp:
        for var in ("PROPFEE_DB", "PROPFEE_CONFIG", "PROPFEE_ESTATE", "PROPFEE_OPERATOR"):
            mp.delenv(var, raising=False)
        for module in vars(propfee.cli).values():
            if getattr(module, "__name__", "").startswith("propfee.cli.") and hasattr(
                module, "now"
            ):
                mp.setattr(module, "now", lambda: CLI_NOW)
        mp.setenv("HOME", str(root))
        mp.chdir(work)
        runner = CliRunner()
        north = ["1-101", "1-102", "1-201", "2-101", "2-102", "2-201"]
        _estate(
            runner, work, built.db("north"), "north", north, ["2026-10", "2026-11"],
            payments=[("1-101", "400", "2026-11-10"), ("1-102", "200", "2026-10-12"),
                      ("2-101", "150.55", "2026-11-18")],
            cases=[("1-101", "2026-11-02 09:00"), ("2-101", "2026-11-19 10:00")],
            survey=SURVEY_NORTH,
        )  # fmt: skip
        _estate(
            runner, work, built.db("south"), "south", ["1-101", "1-102", "1-201"], ["2026-11"],
            payments=[("1-101", "200", "2026-11-03")], cases=[("1-102", "2026-10-08 08:00")],
            survey=SURVEY_SOUTH,
        )  # fmt: skip
        _estate(
            runner,
            work,
            built.db("east"),
            "east",
            ["3-101", "3-102"],
            ["2026-10", "2026-11"],
            payments=[("3-101", "399.99", "2026-11-16")],
        )
    if server is None:
        for name in NAMES:
            copy_db(work / f"{name}.db", folder / f"{name}.db")
    return Group(folder, server)


def copy_db(source: Path, target: Path) -> None:
    """A database copied whole, what its -wal holds included."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def group(runner, *args: str):
    return runner.invoke(app, ["group", "report", *args], catch_exceptions=False)


def group_json(runner, *args: str) -> dict:
    result = group(runner, *args, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def own(runner, db: str, *args: str) -> dict:
    result = runner.invoke(app, [*args, "--format", "json", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


MONEY = ("due", "collected", "unpaid", "arrears_due", "cleared", "all_due", "all_collected")
COUNTS = ("households", "unpaid_households", "overdue_units", "survey_responses")


def test_the_company_is_the_exact_sum_of_the_estates_each_as_its_own_commands_say(runner, estates):
    document = group_json(runner, *estates.scope())
    assert set(document) == {"as_of", "rows", "period", "from", "to", "late_fees_included",
                             "company"}  # fmt: skip
    assert document["as_of"] == AS_OF and document["period"] == "2026-11"
    rows = {r["estate"]: r for r in document["rows"]}
    assert list(rows) == list(NAMES)
    company = document["company"]
    assert company["estates"] == 3
    for key in (*MONEY, "overdue"):
        assert Decimal(company[key]) == sum(Decimal(r[key]) for r in rows.values()), key
    for key in COUNTS:
        assert company[key] == sum(r[key] for r in rows.values()), key
    for key in ("received", "open", "past_deadline"):
        assert company["complaints"][key] == sum(r["complaints"][key] for r in rows.values())
    # the company's rate: summed collected over summed due, not the mean of the three rates
    collected, due = Decimal(company["collected"]), Decimal(company["due"])
    assert company["current_rate"] == str((collected / due * 100).quantize(Decimal("0.01")))
    mean = sum(Decimal(r["current_rate"]) for r in rows.values()) / 3
    assert Decimal(company["current_rate"]) != mean.quantize(Decimal("0.01"))
    assert company["survey_index"] is None and company["survey"] is None

    for name, row in rows.items():
        db = estates.db(name)
        total = own(runner, db, "report", "collection", "--period", "2026-11", "--as-of",
                    AS_OF)["total"]  # fmt: skip
        for key in (*MONEY, "households", "unpaid_households", "current_rate", "clearance_rate",
                    "overall_rate"):  # fmt: skip
            assert row[key] == total[key], (name, key)
        owed = own(runner, db, "overdue", "--as-of", AS_OF)["total"]
        assert (row["overdue_units"], row["overdue"]) == (owed["units"], owed["outstanding"])
        cases = own(runner, db, "complain", "list", "--at", AT_END)["rows"]
        late = own(runner, db, "complain", "list", "--overdue", "--at", AT_END)["rows"]
        assert row["complaints"] == {
            "received": sum(1 for c in cases if c["opened_at"][:7] == "2026-11"),
            "open": sum(1 for c in cases if c["state"] in ("open", "assigned")),
            "past_deadline": len(late),
        }
    # what the three were built with: the window, a case from October, an estate without survey
    assert rows["north"]["complaints"] == {"received": 2, "open": 2, "past_deadline": 1}
    assert rows["south"]["complaints"] == {"received": 0, "open": 1, "past_deadline": 1}
    assert rows["east"]["complaints"] == {"received": 0, "open": 0, "past_deadline": 0}
    assert rows["east"]["survey"] is None and rows["east"]["survey_index"] is None
    for name in ("north", "south"):
        survey = own(runner, estates.db(name), "survey-report")
        assert rows[name]["survey_index"] == survey["index"]
        assert rows[name]["survey"] == f"{name}2026"
    assert rows["north"]["households"] == 6 and rows["east"]["households"] == 2


@pytest.mark.sqlite_only
def test_repeated_db_is_the_same_report_and_a_single_db_still_works_everywhere(
    runner, estates, monkeypatch
):
    """About estates as files: --db of each file gives what --dir of their folder gives, and a
    hoisted --db names one file."""
    by_dir = group_json(runner, "--dir", str(estates.folder))
    by_db = group_json(
        runner, *[a for n in NAMES for a in ("--db", str(estates.folder / f"{n}.db"))]
    )
    assert by_db == by_dir
    # the hoisted --db of every other command: before or after the command, one file
    north = str(estates.folder / "north.db")
    env: dict[str, str] = {}
    args = hoist_common_options(["--db", north, "overdue", "--as-of", AS_OF, "-f", "json"], env)
    assert env == {"PROPFEE_DB": north} and args[0] == "overdue"
    monkeypatch.setenv("PROPFEE_DB", north)
    before = runner.invoke(app, args)
    monkeypatch.delenv("PROPFEE_DB")
    after = runner.invoke(app, ["overdue", "--as-of", AS_OF, "-f", "json", "--db", north])
    assert before.exit_code == after.exit_code == 0 and before.stdout == after.stdout
    # --db more than once before the command: the command gets each (the last wins for one)
    south = str(estates.folder / "south.db")
    args = hoist_common_options(["--db", south, "--db", north, "overdue", "-f", "json"], env)
    assert args == ["overdue", "-f", "json", "--db", south, "--db", north]
    assert runner.invoke(app, [*args, "--as-of", AS_OF]).stdout == before.stdout
    every = [a for n in NAMES for a in ("--db", str(estates.folder / f"{n}.db"))]
    args = hoist_common_options([*every, "group", "report", "--as-of", AS_OF, "-f", "json"], env)
    assert json.loads(runner.invoke(app, args).stdout) == by_dir
    # and for the group report, a hoisted --db is the one estate
    monkeypatch.setenv("PROPFEE_DB", north)
    one = group_json(runner)
    assert [r["estate"] for r in one["rows"]] == ["north"]
    assert one["rows"][0] == by_dir["rows"][1]


@pytest.mark.sqlite_only
def test_the_estates_are_read_and_never_written(runner, estates):
    """About estates as files: the report leaves their bytes and times as they were."""
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in estates.folder.glob("*.db")}
    listing = sorted(p.name for p in estates.folder.iterdir())
    group_json(runner, "--dir", str(estates.folder))
    table = group(runner, "--dir", str(estates.folder), "--as-of", AS_OF)
    assert table.exit_code == 0, table.output
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in estates.folder.glob("*.db")}
    assert after == before
    assert {p.name for p in estates.folder.glob("*.db")} == {f"{n}.db" for n in NAMES}
    assert sorted(p.name for p in estates.folder.glob("*.db")) == [
        x for x in listing if x.endswith(".db")
    ]


@pytest.mark.sqlite_only
def test_an_estate_that_cannot_be_read_refuses_the_report_and_is_named(runner, estates, tmp_path):
    """About estates as files: a missing, foreign, older or newer file is named and refused."""
    north = estates.folder / "north.db"
    missing = tmp_path / "nowhere.db"
    result = group(runner, "--db", str(north), "--db", str(missing), "--as-of", AS_OF)
    assert result.exit_code == 1 and result.stdout == ""
    assert "nowhere.db" in result.stderr and "不存在" in result.stderr
    assert "集团汇总需要每个小区的数据" in result.stderr
    assert not missing.exists()  # never made into a new empty database

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all\n" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as other:
        other.execute("CREATE TABLE accounts (id INTEGER)")
    older, newer = tmp_path / "older.db", tmp_path / "newer.db"
    for path, version in ((older, SCHEMA_VERSION - 1), (newer, SCHEMA_VERSION + 1)):
        copy_db(north, path)
        with sqlite3.connect(path) as copy:
            copy.execute(f"PRAGMA user_version = {version}")
    result = group(
        runner, "--db", str(north), "--db", str(junk), "--db", str(foreign), "--db",
        str(older), "--db", str(newer), "--as-of", AS_OF,
    )  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    message = result.stderr.replace("\n", "")
    for name, words in (
        ("junk.db", "不是 propfee 数据库"),
        ("foreign.db", "不是 propfee 数据库"),
        ("older.db", "较早版本"),
        ("newer.db", "较新版本"),
    ):
        assert re.search(rf"{name}[^；]*{words}", message), (name, message)
    assert "north.db" not in message

    twice = group(runner, "--db", str(north), "--db", str(north), "--as-of", AS_OF)
    assert twice.exit_code == 1 and "重复指定" in twice.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = group(runner, "--dir", str(empty), "--as-of", AS_OF)
    assert none.exit_code == 1 and "没有小区数据库" in none.stderr
    nothing = group(runner, "--as-of", AS_OF)
    assert nothing.exit_code == 1 and "请指定小区" in nothing.stderr


@pytest.mark.sqlite_only
def test_an_estate_is_named_by_its_settings_unless_several_share_them(runner, estates, tmp_path):
    """About estates as files: the propfee.toml beside a file names its estate."""
    named = tmp_path / "north"
    named.mkdir()
    copy_db(estates.folder / "north.db", named / "propfee.db")
    (named / "propfee.toml").write_text('[estate]\nname = "北苑小区"\n', encoding="utf-8")
    document = group_json(runner, "--db", str(named / "propfee.db"), "--db",
                          str(estates.folder / "south.db"))  # fmt: skip
    assert [r["estate"] for r in document["rows"]] == ["北苑小区", "south"]
    shared = group_json(
        runner, "--dir", str(estates.folder), "--config", str(named / "propfee.toml")
    )
    assert [r["estate"] for r in shared["rows"]] == list(NAMES)


def test_the_table_is_chinese_and_english_on_request(runner, estates):
    table = group(runner, *estates.scope(), "--as-of", AS_OF, "--wide")
    assert table.exit_code == 0, table.output
    for words in ("集团汇总报表", "小区", "当期收缴率", "综合收缴率", "逾期欠费", "受理投诉报修",
                  "超时未办结", "满意度指数", "全公司", "north", "截至 2026-11-20 没有满意度调查：east"):  # fmt: skip
        assert words in table.stdout, words
    try:
        english = runner.invoke(
            app,
            ["--lang", "en", "group", "report", *estates.scope(), "--as-of", AS_OF, "--wide"],
        )
    finally:
        lang.speak("zh")
    assert english.exit_code == 0, english.output
    for words in ("group report", "Estate", "Company", "No survey by 2026-11-20: east"):
        assert words in english.stdout, words
    assert "全公司" not in english.stdout
    help_text = runner.invoke(app, ["group", "report", "--help"]).stdout
    assert "多个小区汇总" in help_text and "--dir" in help_text


def test_the_workbook_has_a_title_block_and_the_company_as_its_totals_row(
    runner, estates, tmp_path
):
    out = tmp_path / "集团.xlsx"
    document = group_json(runner, *estates.scope(), "--out", str(out))
    sheet = load_workbook(out).active
    assert sheet.title == "集团汇总报表"
    assert sheet["A1"].value == "全公司　集团汇总报表"
    assert "期间：2026-11" in sheet["A2"].value and "截至：2026-11-20" in sheet["A2"].value
    headers = [c.value for c in sheet[4]]
    assert headers[:5] == ["小区", "户数", "当期应收", "当期实收", "当期收缴率"]
    lines = list(sheet.iter_rows(min_row=5, max_row=8, values_only=True))
    assert [line[0] for line in lines] == [*NAMES, "全公司"]
    total = lines[-1]
    column = {h: i for i, h in enumerate(headers)}
    for header, key in (("当期应收", "due"), ("当期实收", "collected"), ("逾期欠费", "overdue")):
        i = column[header]
        assert Decimal(str(total[i])) == Decimal(document["company"][key])
        assert sum(Decimal(str(line[i])) for line in lines[:-1]) == Decimal(str(total[i]))
        assert sheet.cell(8, i + 1).number_format == "#,##0.00"
    rate = column["当期收缴率"]
    assert sheet.cell(8, rate + 1).number_format == "0.0%"
    assert Decimal(str(total[rate])) == Decimal(document["company"]["current_rate"]) / 100
    assert sheet.cell(8, 1).font.b
    index = column["满意度指数"]
    assert lines[0][index] is None and lines[1][index] is not None  # east has no survey


def test_the_page_draws_each_estates_rate_and_the_company(runner, estates, tmp_path):
    out = tmp_path / "集团.html"
    document = group_json(runner, *estates.scope(), "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "<svg" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    for row in document["rows"]:
        assert f">{row['current_rate']}%<" in svg and f">{row['estate']}<" in svg
    assert f"{document['company']['current_rate']}%" in page and "全公司" in page
    made = re.search(r"制表时间：(\d{4}-\d\d-\d\d \d\d:\d\d)", page).group(1)
    golden = GOLDEN / "zh__group_report.html"
    text = page.replace(made, "2026-11-20 18:00")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_out_takes_xlsx_or_html(runner, estates, tmp_path):
    result = group(runner, *estates.scope(), "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 1 and ".xlsx 或 .html" in result.stderr


@pytest.mark.sqlite_only
def test_the_same_estates_on_a_server_give_the_same_report(runner, estates, pg_url):
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS propfee_group")
        admin.execute("CREATE DATABASE propfee_group")
    server = urlunsplit(urlsplit(pg_url)._replace(path="/propfee_group"))
    for name in NAMES:
        moved = runner.invoke(
            app,
            ["migrate-to", server, "--estate", name, "--db", str(estates.folder / f"{name}.db")],
        )
        assert moved.exit_code == 0, moved.output
    assert pg.estates(server) == list(NAMES)
    on_server = group_json(runner, "--db", server)
    on_files = group_json(runner, "--dir", str(estates.folder))
    for row in (*on_server["rows"], *on_files["rows"]):
        row.pop("source")
    assert on_server == on_files
    one = group_json(runner, "--db", f"{server}{'&' if '?' in server else '?'}estate=south")
    assert [r["estate"] for r in one["rows"]] == ["south"]
    # a head office's login that may read the estates and create nothing gives the same report
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute("CREATE ROLE head_office LOGIN")
        for name in NAMES:
            admin.execute(f'GRANT USAGE ON SCHEMA "{name}" TO head_office')
            admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{name}" TO head_office')
    reader = urlunsplit(urlsplit(server)._replace(netloc="head_office@"))
    on_reader = group_json(runner, "--db", reader)
    for row in on_reader["rows"]:
        row.pop("source")
    assert on_reader == on_files


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")
def test_chromium_prints_the_page_on_a4_with_its_figures(runner, estates, tmp_path):
    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        pytest.skip("no poppler-utils (pdftotext, pdfinfo)")
    out = tmp_path / "集团.html"
    document = group_json(runner, *estates.scope(), "--out", str(out))
    pdf = tmp_path / "page.pdf"
    subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", out.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout, info.stdout
    assert 1 <= int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1)) <= 3
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    wanted = [f"{r['current_rate']}%" for r in document["rows"]]
    wanted += [f"{document['company']['current_rate']}%", "各小区收缴率", "全公司"]
    assert [w for w in wanted if w not in text] == []
