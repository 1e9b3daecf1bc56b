"""The command line: conventions every command keeps, and the roster commands end to end."""

import json
import os
import subprocess
import sys
from datetime import date

import pytest
import typer

from propfee.cli import COMMAND_MODULES, app, build, command_name
from propfee.roster.units import list_units
from propfee.store import db

from conftest import build_demo, dump, new_database, write_xlsx

HEADER = ["楼号", "单元", "房间", "房屋类型", "建筑面积", "业主姓名", "联系电话", "交付日期"]


def small_roster(tmp_path, name="r.xlsx"):
    return write_xlsx(
        tmp_path / name,
        [
            HEADER,
            [1, 1, 101, "住宅", 89.37, "张三", 13812341234.0, date(2020, 6, 10)],
            [1, 1, 102, "住宅", 120, "李四", "13900001111", "2020/6/10"],
            ["P", None, "001", "车位", None, "张三", 13812341234.0, None],
        ],
    )


def test_help_lists_the_commands(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import-units", "export-units", "units", "demo"):
        assert command in result.stdout


def test_help_starts_without_heavy_imports(tmp_path):
    code = (
        "import sys\n"
        "from propfee.cli import app\n"
        "try:\n"
        "    app(['--help'], prog_name='propfee')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('openpyxl', 'python_calamine', 'jinja2', 'sqlite_utils')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert "HEAVY []" in result.stderr, result.stderr


def test_the_command_table_names_what_each_module_registers():
    """COMMAND_MODULES is how a command line finds the one module to load: each module's
    names are exactly the top-level commands and groups it registers."""
    for module, names in COMMAND_MODULES.items():
        alone = typer.main.get_command(build([module]))
        assert tuple(alone.commands) == names, module
    whole = typer.main.get_command(app)
    every = [n for names in COMMAND_MODULES.values() for n in names]
    assert sorted(whole.commands) == sorted(every) and len(every) == len(set(every))


def test_a_command_loads_only_its_own_module(tmp_path):
    assert command_name(["--estate", "a", "today", "--as-of", "x"]) == "today"
    assert command_name(["--version"]) is None
    code = (
        "import sys\n"
        "sys.argv = ['propfee', 'today', '--help']\n"
        "from propfee.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('propfee.cli.'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert "今日" in result.stdout, result.stdout + result.stderr
    assert (
        "LOADED ['propfee.cli.common', 'propfee.cli.helppage', 'propfee.cli.lang', "
        "'propfee.cli.params', 'propfee.cli.plaintable', 'propfee.cli.today']" in result.stderr
    ), result.stderr


def test_the_version_loads_no_command_and_no_help_page(tmp_path):
    """``--version`` and any command that prints no help skip the command modules it does
    not name and the help page's layout (rich's help formatting)."""
    code = (
        "import sys\n"
        "sys.argv = ['propfee', '--version']\n"
        "from propfee.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('propfee.cli.'))\n"
        "print('LOADED', loaded, 'typer.rich_utils' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.stdout.startswith("propfee "), result.stdout + result.stderr
    assert (
        "LOADED ['propfee.cli.common', 'propfee.cli.lang', 'propfee.cli.params', "
        "'propfee.cli.plaintable'] False"
        in result.stderr
    ), result.stderr


def test_option_values_are_read_without_building_validators(tmp_path):
    """Text, a choice and a path (through --db's own parser) are read as Typer reads them,
    without loading pydantic; a refused choice still gets Typer's message."""
    code = (
        "import sys\n"
        "sys.argv = ['propfee', 'overdue', '--as-of', '2026-11-15', '--format', 'json',\n"
        "            '--db', 'missing.db', '--by', 'building']\n"
        "from propfee.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('PYDANTIC', 'pydantic' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert "PYDANTIC False" in result.stderr, result.stderr
    assert "missing.db" in result.stderr, result.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "propfee", "overdue", "--format", "nope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={**os.environ, "PROPFEE_LANG": "en"},
    )
    assert refused.returncode == 2
    assert "'nope' is not one of 'table', 'json', 'csv'." in refused.stderr, refused.stderr


def test_python_dash_m_works(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "propfee", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("propfee ")


def test_import_then_list_and_show(cli, tmp_path, db_path):
    result = cli("import-units", str(small_roster(tmp_path)), "--as-of", "2026-11-15")
    assert result.exit_code == 0, result.output
    assert "新增 3" in result.stdout
    listing = cli("units", "list", "--format", "json")
    units = json.loads(listing.stdout)["rows"]
    assert [u["code"] for u in units] == ["1-1-101", "1-1-102", "P-001"]
    assert units[0]["phone"] == "138****1234"  # masked by default
    assert units[0]["area"] == "89.37"
    unmasked = json.loads(cli("units", "list", "--format", "json", "--no-mask").stdout)["rows"]
    assert unmasked[0]["phone"] == "13812341234"
    table = cli("units", "list", "--kind", "车位")
    assert "P-001" in table.stdout and "1-1-101" not in table.stdout
    assert "138****1234" in table.stdout
    csv_out = cli("units", "list", "--format", "csv", "--building", "1号楼")
    assert csv_out.stdout.splitlines()[0].startswith("\ufeff房号,类型,面积㎡")
    assert len(csv_out.stdout.splitlines()) == 3
    shown = cli("units", "show", "1-1-101", "--format", "json")
    detail = json.loads(shown.stdout)
    assert detail["owner"] == "张三"
    assert detail["occupancy"][0]["from"] == "2020-06-10"
    assert "张三" in cli("units", "show", "1-1-101").stdout


def test_import_json_report_and_rerun(cli, tmp_path):
    path = small_roster(tmp_path)
    first = json.loads(cli("import-units", str(path), "--format", "json").stdout)
    assert (first["added"], first["updated"], first["unchanged"], first["errors"]) == (3, 0, 0, [])
    again = json.loads(cli("import-units", str(path), "--format", "json").stdout)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_bad_rows_exit_1_with_every_row_and_no_traceback(cli, tmp_path, db_path):
    db.connect(db_path).close()
    before = dump(db_path)
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            HEADER,
            [1, 1, 101, "住宅", 0, "张三", "13812341234", None],
            [1, 1, 102, "住宅", 80, "李四", "123", None],
        ],
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 1
    assert "bad.xlsx [Sheet1] 第 2 行，建筑面积 (E) 列： '0'" in result.stderr
    assert "第 3 行，联系电话 (G) 列： '123'" in result.stderr
    assert "2 行有误；未写入任何数据" in result.stderr
    assert "Traceback" not in result.output
    assert dump(db_path) == before
    as_json = cli("import-units", str(path), "--format", "json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert [e["row"] for e in document["errors"]] == [2, 3]
    assert document["added"] == 0


def test_dry_run(cli, tmp_path, db_path):
    db.connect(db_path).close()
    before = dump(db_path)
    result = cli("import-units", str(small_roster(tmp_path)), "--dry-run")
    assert result.exit_code == 0
    assert "新增 3" in result.stdout and "试运行" in result.stdout
    assert dump(db_path) == before


def test_user_errors_are_one_line_with_exit_1(cli, tmp_path):
    missing = cli("import-units", str(tmp_path / "nope.xlsx"))
    assert missing.exit_code == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "文件不存在" in missing.stderr
    # the failed first import left no empty database behind
    assert "数据库不存在" in cli("units", "list").stderr
    cli("import-units", str(small_roster(tmp_path)))
    unknown = cli("units", "show", "9-9-999")
    assert unknown.exit_code == 1
    assert "没有房号 '9-9-999'" in unknown.stderr
    bad_kind = cli("units", "list", "--kind", "castle")
    assert bad_kind.exit_code == 1 and "不认识的房屋类型" in bad_kind.stderr


def test_usage_errors_exit_2(runner):
    assert runner.invoke(app, ["import-units"]).exit_code == 2
    assert runner.invoke(app, ["units", "list", "--format", "yaml"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2
    bad_date = runner.invoke(app, ["import-units", "x.xlsx", "--as-of", "15/11/2026"])
    assert bad_date.exit_code == 2 and "不是日期" in bad_date.output


def test_db_from_the_environment(runner, engine, tmp_path, request, monkeypatch):
    (tmp_path / "env").mkdir()
    target = new_database(engine, tmp_path / "env", request)  # not ./propfee.db
    monkeypatch.setenv("PROPFEE_DB", str(target))
    result = runner.invoke(app, ["import-units", str(small_roster(tmp_path))])
    assert result.exit_code == 0, result.output
    conn = db.connect(target)
    assert len(list_units(conn)) == 3
    conn.close()


@pytest.mark.sqlite_only
def test_default_db_is_in_the_working_directory(runner, tmp_path):
    """About the SQLite file: without --db the estate is ./propfee.db."""
    result = runner.invoke(app, ["import-units", str(small_roster(tmp_path))])
    assert result.exit_code == 0
    assert (tmp_path / "propfee.db").exists()


@pytest.mark.sqlite_only
def test_a_database_that_is_not_ours(runner, tmp_path):
    """About the SQLite file: a file of garbage named as the database."""
    garbage = tmp_path / "g.db"
    garbage.write_bytes(b"x" * 4096)
    result = runner.invoke(app, ["units", "list", "--db", str(garbage)])
    assert result.exit_code == 1
    assert "不是 propfee 数据库" in result.stderr


def test_quiet_prints_nothing_on_success(cli, tmp_path):
    result = cli("import-units", str(small_roster(tmp_path)), "--quiet")
    assert result.exit_code == 0
    assert result.stdout == "" and result.stderr == ""


def test_export_units(cli, tmp_path):
    cli("import-units", str(small_roster(tmp_path)))
    out = tmp_path / "out.xlsx"
    result = cli("export-units", str(out), "--mask")
    assert result.exit_code == 0 and out.exists()
    from openpyxl import load_workbook

    ws = load_workbook(out).active
    assert ws["A1"].value == "本小区　业主信息"  # the title block, then the header in row 4
    header = [c.value for c in ws[4]]
    assert header[:3] == ["房号", "楼栋", "单元"]
    phone = header.index("手机号")
    assert ws.cell(row=5, column=phone + 1).value == "138****1234"
    again = cli("import-units", str(out), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 3
    refused = cli("export-units", str(tmp_path / "out.pdf"))
    assert refused.exit_code == 1


def test_demo_builds_and_rebuilds(runner, engine, tmp_path, request):
    folder = tmp_path / "demo"
    first = build_demo(engine, folder, request, "--as-of", "2026-11-15")
    assert "建立演示小区" in first.output
    conn = db.connect(first.database)
    units = list_units(conn)
    conn.close()
    assert 180 <= len(units) <= 230
    kinds = {u.kind for u in units}
    assert {"residential", "commercial", "office", "parking", "storage"} <= kinds
    assert len({u.building for u in units if u.kind != "parking"}) == 3
    # a month at the estate: arrears of every age, and the day's reminders in their folder
    reminders = folder / "催缴-2026-11-15"
    assert {"sms.csv", "call-list.xlsx", "催缴通知书-2026-11-15.html"} <= {
        p.name for p in reminders.iterdir()
    }
    overdue = runner.invoke(
        app, ["overdue", *first.options(), "--as-of", "2026-11-15", "--format", "json"]
    )
    tiers = {row["tier"] for row in json.loads(overdue.stdout)["rows"]}
    assert {"gentle", "call", "notice", "dispute", "promised"} <= tiers
    again = runner.invoke(
        app, ["remind", *first.options(), "--as-of", "2026-11-15", "--at", "11:00"]
    )
    assert "没有新的催缴" in again.stdout
    second = build_demo(engine, folder, request, "--as-of", "2026-11-15", again=first)
    assert "重建演示小区" in second.output


def test_demo_refuses_a_real_database(runner, engine, tmp_path, request, monkeypatch):
    """An estate's database where the demo would go (the folder's file, or on [pg] the
    estate $PROPFEE_DB names) is refused, never rebuilt."""
    folder = tmp_path / "real"
    folder.mkdir()
    real = new_database(engine, folder, request)
    db.connect(real).close()
    if engine == "pg":
        monkeypatch.setenv("PROPFEE_DB", real)
    result = runner.invoke(app, ["demo", "--dir", str(folder)])
    assert result.exit_code == 1
    assert ("不是演示数据库" if engine == "lite" else "不是演示小区的小区") in result.stderr


def test_settings_file_with_a_typo_is_an_error(tmp_path):
    from propfee.config import load_settings
    from propfee.core.errors import ConfigError

    good = tmp_path / "good.toml"
    good.write_text('[estate]\ncompany = "兰州翠湖物业"\n', encoding="utf-8")
    assert load_settings(good).estate.company == "兰州翠湖物业"
    typo = tmp_path / "typo.toml"
    typo.write_text('[estate]\ncompnay = "x"\n', encoding="utf-8")
    try:
        load_settings(typo)
    except ConfigError as exc:
        assert "未知的设置 estate.compnay" in str(exc)
    else:
        raise AssertionError("a typo must not pass silently")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[estate]\ncompany = 5\n", encoding="utf-8")
    try:
        load_settings(wrong)
    except ConfigError as exc:
        assert "estate.company 必须是文字" in str(exc)


@pytest.mark.sqlite_only
def test_database_file_mode(cli, tmp_path, db_path):
    """About the SQLite file itself: a new database file is readable by its owner only."""
    cli("import-units", str(small_roster(tmp_path)))
    assert os.stat(db_path).st_mode & 0o777 == 0o600


def test_dry_run_never_creates_the_database(runner, tmp_path):
    target = tmp_path / "new.db"
    result = runner.invoke(
        app, ["import-units", str(small_roster(tmp_path)), "--db", str(target), "--dry-run"]
    )
    assert result.exit_code == 0 and "新增 3" in result.stdout
    assert not target.exists()


def test_json_reports_file_errors_too(cli, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    result = cli("import-units", str(broken), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["added"] == 0
    assert "已损坏或不完整" in document["errors"][0]["message"]
