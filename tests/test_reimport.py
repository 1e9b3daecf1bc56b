"""A roster imported again after an edit: a value the edit replaced does not undo it (the
import says how many it kept and why), a genuinely new value applies, and what an import
changes is in units show's change history with its operator, day and file."""

import json

import test_edits
from test_edits import ROSTER, ok, show

from conftest import dump, query, write_csv

estate = test_edits.estate  # the two billed homes of the edits' tests

KEPT = "处为更正前的旧值，已保留更正"


def reimport(cli, path, *more):
    return ok(cli, "import-units", str(path), "--as-of", "2026-11-20", *more)


def without_trail(database):
    """The database's rows but the audit trail's (which notes every command run)."""
    return [line for line in dump(database) if 'INSERT INTO "audit"' not in line]


def imported_changes(unit):
    return [
        (c["action"], c["field"], c["old"], c["new"], c["source"])
        for c in unit["changes"]
        if c["source"]
    ]


def test_a_stale_roster_keeps_the_edits_it_would_undo(estate, database, tmp_path):
    ok(estate, "owners", "set", "张三", "--phone", "13900009999", "--as-of", "2026-11-01")
    ok(estate, "units", "set", "1-1-101", "--area", "90", "--floor", "1", "--as-of", "2026-11-01")
    ok(estate, "units", "move-out", "1-1-102", "--tenant", "--date", "2026-11-10")
    stale = write_csv(tmp_path / "roster.csv", ROSTER)  # the file of September, again

    out = reimport(estate, stale).output
    assert f"3 {KEPT}" in out and "见 propfee units show" in out
    assert "更新 0" in out
    report = json.loads(reimport(estate, stale, "--format", "json").stdout)
    assert report["updated"] == 0
    assert sorted((k["unit"], k["field"], k["file"], k["kept"]) for k in report["kept_edits"]) == [
        ("1-1-101", "area", "89.37", "90"),
        ("1-1-101", "phones", "138****1111", "139****9999"),
        ("1-1-102", "tenant", "赵六", ""),
    ]
    one = show(estate, "1-1-101", "--no-mask")
    assert (one["phones"], one["area"]) == ("13900009999", "90.00")
    assert imported_changes(one) == []
    two = show(estate, "1-1-102")
    assert (two["tenant"], two["payer"]) == ("", "owner")

    before = without_trail(database)
    assert KEPT in reimport(estate, stale).output  # the same file again: nothing changes
    assert without_trail(database) == before


def test_a_stale_roster_does_not_undo_a_name_correction_or_a_sale(estate, database, tmp_path):
    ok(estate, "owners", "set", "1-1-101", "--name", "张叁", "--as-of", "2026-11-01")
    sale = ("units", "sell", "1-1-102", "--to", "王五", "--phone", "13600004444")
    ok(estate, *sale, "--date", "2026-11-16", "--as-of", "2026-11-20")
    report = json.loads(
        reimport(estate, write_csv(tmp_path / "r.csv", ROSTER), "--format", "json").stdout
    )
    assert (report["owner_changes"], report["updated"]) == (0, 0)
    assert sorted((k["unit"], k["field"], k["kept"]) for k in report["kept_edits"]) == [
        ("1-1-101", "name", "张叁"),
        ("1-1-102", "owner", "王五"),
    ]
    assert show(estate, "1-1-101")["owner"] == "张叁"
    assert show(estate, "1-1-102")["owner"] == "王五"


def test_a_new_value_in_the_file_applies_and_is_in_the_history(estate, database, tmp_path):
    ok(estate, "owners", "set", "张三", "--phone", "13900009999", "--as-of", "2026-11-01")
    newer = [
        ["房号", "建筑面积", "楼层", "业主", "手机号", "交付日期"],
        ["1-1-101", "91.5", "1", "张三", "13500007777", "2020-01-01"],
        ["1-1-102", "100", "1", "李四", "13900002222", "2020-01-01"],
    ]
    path = write_csv(tmp_path / "新名册.csv", newer)
    out = reimport(estate, path, "--operator", "小李").output
    assert KEPT not in out and "更新 2" in out
    unit = show(estate, "1-1-101", "--no-mask")
    assert (unit["phones"], unit["area"], unit["floor"]) == ("13500007777", "91.50", "1")
    assert imported_changes(unit) == [
        ("unit-set", "floor", "", "1", "import 新名册.csv"),
        ("unit-set", "area", "89.37", "91.5", "import 新名册.csv"),
        ("owner-set", "phones", "13900009999", "13500007777", "import 新名册.csv"),
    ]
    assert {(c["operator"], c["on"]) for c in unit["changes"] if c["source"]} == {
        ("小李", "2026-11-20")
    }
    table = ok(estate, "units", "show", "1-1-101").output
    assert "import 新名册.csv" in table and "来源" in table

    before = without_trail(database)
    assert "更新 0" in reimport(estate, path).output  # the same import again: a no-op
    assert without_trail(database) == before


def test_an_owner_changed_by_an_import_is_in_the_history(estate, database, tmp_path):
    sold = [row[:] for row in ROSTER]
    sold[1][2:4] = ["钱八", "13300001234"]
    reimport(estate, write_csv(tmp_path / "sold.csv", sold))
    changes = imported_changes(show(estate, "1-1-101"))
    assert changes == [("sell", "owner", "张三", "钱八", "import sold.csv")]


def test_the_history_says_where_each_change_came_from(estate, database):
    ok(estate, "units", "set", "1-1-101", "--floor", "2", "--as-of", "2026-11-01")
    assert query(database, "SELECT action, source FROM unit_event") == [("unit-set", "")]
