"""Keeping the file safe: the audit trail, backup and restore, upgrades, the full export."""

import csv
import json
import os
import sqlite3
from datetime import datetime
from decimal import Decimal

import pytest

from propfee.core.errors import DatabaseError, PropfeeError
from propfee.payments import ledger
from propfee.store import audit, backup, db, migrations, pg, pgdump

from conftest import (
    CLI_NOW,
    PROP_FEE,
    StoreIntegrityError,
    backup_prefix,
    backup_suffix,
    behind_its_back,
    database_in,
    drop_trigger,
    dump,
    estate,
    home,
    pretend_newer,
    published_fees,
    query,
    write_csv,
)

ROSTER = [
    ["房号", "建筑面积", "业主", "手机号", "身份证号", "备注", "交付日期"],
    ["1-1-101", "100.00", "张三", "13800001111", "", '=HYPERLINK("x")', "2020-01-01"],
    ["1-1-102", "88.50", "李四", "13900002222", "", "", "2020-01-01"],
]


@pytest.fixture
def billed(cli, tmp_path):
    """Two homes, the fee published, November billed; 张三 has paid 100.00."""
    steps = [
        ("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER)), "--operator", "小王"),
        (*PROP_FEE, "--operator", "小王"),
        published_fees(tmp_path),
        ("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--operator", "会计老李"),
        (
            "pay",
            "1-1-101",
            "100.00",
            "--channel",
            "cash",
            "--cashier",
            "李娜",
            "--as-of",
            "2026-11-10",
        ),
    ]
    for args in steps:
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return cli


def trail(database):
    return [
        (op, cmd, json.loads(args), json.loads(changes))
        for op, cmd, args, changes in query(
            database, "SELECT operator, command, args, changes FROM audit ORDER BY id"
        )
    ]


def nth_backup(database, tag: str, n: int = 1) -> str:
    """The name of the n-th backup made at CLI_NOW (an SQLite file's copy numbers the
    later ones .2, .3; a server estate's dump -2, -3)."""
    stem = f"{backup_prefix(database)}-{CLI_NOW:%Y%m%d-%H%M%S}{tag}"
    if n == 1:
        return stem + backup_suffix(database)
    return f"{stem}-{n}.sql" if backup_suffix(database) == ".sql" else f"{stem}.{n}.db"


# ---------------------------------------------------------------- the audit trail


def test_every_write_records_who_what_and_how_much(billed, database):
    rows = trail(database)
    by_command = {cmd: (op, args, changes) for op, cmd, args, changes in rows}
    op, args, changes = by_command["import-units"]
    assert op == "小王"
    assert changes["added"] == {"unit": 2, "party": 2, "occupancy": 2}
    assert by_command["fees add"][0] == "小王"
    op, args, changes = by_command["bill"]
    assert (op, args["period"], changes["added"]["bill"]) == ("会计老李", "2026-11", 2)
    op, args, changes = by_command["pay"]
    # the cashier is who took the money; without --operator she is the one recorded
    assert op == "李娜" and args["amount"] == "100.00" and args["channel"] == "cash"
    assert changes["added"] == {"payment": 1, "allocation": 1}
    assert rows[0][:3] == ("小王", "create", {"during": "import-units"})  # the file is made
    assert [cmd for _, cmd, _, _ in rows] == [
        "create",
        "import-units",
        "fees add",
        "fees publish",
        "bill",
        "pay",
    ]


def test_the_operator_comes_from_the_option_then_the_environment_then_the_login(
    billed, database, monkeypatch
):
    monkeypatch.setenv("PROPFEE_OPERATOR", "夜班小赵")
    assert (
        billed("pay", "1-1-102", "10", "--channel", "cash", "--as-of", "2026-11-11").exit_code == 0
    )
    monkeypatch.delenv("PROPFEE_OPERATOR")
    monkeypatch.setattr(audit.getpass, "getuser", lambda: "estate-pc")
    assert (
        billed("pay", "1-1-102", "20", "--channel", "cash", "--as-of", "2026-11-11").exit_code == 0
    )
    assert [op for op, *_ in trail(database)][-2:] == ["夜班小赵", "estate-pc"]


def test_a_rerun_or_a_dry_run_adds_nothing_to_the_trail(billed, database):
    before = len(trail(database))
    assert billed("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    assert (
        billed("bill", "--period", "2026-12", "--as-of", "2026-11-01", "--dry-run").exit_code == 0
    )
    assert len(trail(database)) == before


def test_reversal_and_the_audit_listing(billed, db_path):
    result = billed(
        "reverse",
        "2026-000001",
        "--reason",
        "误收",
        "--operator",
        "财务主管",
        "--as-of",
        "2026-11-12",
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(billed("audit", "--command", "reverse", "-f", "json").stdout)["rows"]
    assert len(listed) == 1
    assert listed[0]["operator"] == "财务主管" and listed[0]["changes"]["added"] == {
        "reversal": 1,
        "allocation": 1,
    }
    assert listed[0]["at"] == CLI_NOW.isoformat(sep=" ")
    fees = json.loads(billed("audit", "--command", "fees", "-f", "json").stdout)["rows"]
    assert [e["command"] for e in fees] == ["fees add", "fees publish"]
    mine = json.loads(billed("audit", "--operator", "小王", "-f", "json").stdout)["rows"]
    assert {e["command"] for e in mine} == {"create", "import-units", "fees add"}
    assert json.loads(billed("audit", "--since", "2027-07-01", "-f", "json").stdout)["rows"] == []
    table = billed("audit").stdout
    assert "会计老李" in table and "bill +2" in table


def test_the_trail_is_append_only_and_check_notices_tampering(billed, database):
    conn = db.connect(database)
    with pytest.raises(StoreIntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET operator = 'nobody' WHERE id = 1")
    with pytest.raises(StoreIntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE id = 2")
    conn.close()
    assert billed("check").exit_code == 0
    # someone who drops the trigger to edit a row is still caught
    drop_trigger(database, "audit_no_update")
    behind_its_back(database, "UPDATE audit SET operator = 'nobody' WHERE id = 4")
    result = billed("check")
    assert result.exit_code == 1
    assert "audit_no_update" in result.stderr and "第 4 行写入后被改动过" in result.stderr


def test_check_notices_a_removed_row(billed, database):
    drop_trigger(database, "audit_no_delete")
    behind_its_back(database, "DELETE FROM audit WHERE id = 2")
    problems = ledger.check(db.connect(database))
    assert any("第 2–2 行缺失" in p.detail for p in problems)


# ---------------------------------------------------------------- backup and restore


def test_backup_names_each_copy_and_keep_prunes_the_oldest(billed, database, tmp_path):
    result = billed("backup")
    assert result.exit_code == 0, result.output
    made = sorted((tmp_path / "backups").iterdir())
    assert [p.name for p in made] == [nth_backup(database, "")]
    assert oct(made[0].stat().st_mode & 0o777) == "0o600"
    # the same second again gets its own name; --keep prunes the oldest
    assert billed("backup").exit_code == 0
    assert billed("backup", "--keep", "2").exit_code == 0
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert names == sorted(nth_backup(database, "", n) for n in (2, 3))
    # each copy holds the estate: restored, its bills are there
    assert billed("restore", str(tmp_path / "backups" / names[0])).exit_code == 0
    assert query(database, "SELECT count(*) FROM bill") == [(2,)]


@pytest.mark.sqlite_only  # the copy is a file of its own: no WAL beside it, its journal mode
def test_backup_writes_a_checked_self_contained_copy_and_prunes(billed, db_path, tmp_path):
    result = billed("backup")
    assert result.exit_code == 0, result.output
    made = sorted((tmp_path / "backups").iterdir())
    assert [p.name for p in made] == ["propfee-20270630-120000.db"]
    copy = made[0]
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "backups" / "propfee-20270630-120000.db-wal").exists()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM bill").fetchone()[0] == 2
    # the same second again gets its own name; --keep prunes the oldest
    assert billed("backup").exit_code == 0
    assert billed("backup", "--keep", "2").exit_code == 0
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert names == ["propfee-20270630-120000.2.db", "propfee-20270630-120000.3.db"]


def test_backup_to_a_named_file_never_overwrites(billed, database, tmp_path):
    target = tmp_path / f"copy{backup_suffix(database)}"
    assert billed("backup", str(target)).exit_code == 0
    before = target.read_bytes()
    again = billed("backup", str(target))
    assert again.exit_code == 1 and "备份从不覆盖已有文件" in again.stderr
    assert target.read_bytes() == before
    missing = billed("backup", str(tmp_path / "nowhere" / f"x{backup_suffix(database)}"))
    assert missing.exit_code == 1


def test_restore_round_trip_keeps_a_safety_copy(billed, database, tmp_path):
    target = tmp_path / f"before-the-mistake{backup_suffix(database)}"
    assert billed("backup", str(target)).exit_code == 0
    assert (
        billed("pay", "1-1-102", "50", "--channel", "cash", "--as-of", "2026-11-12").exit_code == 0
    )
    result = billed("restore", str(target))
    assert result.exit_code == 0, result.output
    conn = db.connect(database)
    assert conn.execute("SELECT count(*) FROM payment").fetchone()[0] == 1
    assert ledger.check(conn) == []
    last = conn.execute("SELECT command, changes FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert last[0] == "restore" and target.name in last[1]
    conn.close()
    kept = f"{backup_prefix(database)}-*-before-restore{backup_suffix(database)}"
    safety = list((tmp_path / "backups").glob(kept))
    assert len(safety) == 1
    # the safety copy holds the estate as it was: restored, both payments are back
    assert billed("restore", str(safety[0])).exit_code == 0
    assert query(database, "SELECT count(*) FROM payment") == [(2,)]


#: a damaged backup, and how the refusal says so: an SQLite file's copy, a server's dump
DAMAGED = {
    "garbage": (
        lambda p: p.write_bytes(b"this is not a database at all" * 100),
        {"lite": "不是 SQLite 数据库", "pg": "不是 PostgreSQL 服务器上小区的备份"},
    ),
    "truncated": (
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 3]),
        {"lite": "已拒绝", "pg": "已拒绝"},
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_restore_refuses_a_damaged_backup_and_changes_nothing(
    billed, database, engine, tmp_path, damage
):
    bad = tmp_path / f"bad{backup_suffix(database)}"
    assert billed("backup", str(bad)).exit_code == 0
    spoil, reason = DAMAGED[damage]
    spoil(bad)
    before = dump(database)
    result = billed("restore", str(bad))
    assert result.exit_code == 1
    assert reason[engine] in result.stderr and "未恢复任何数据" in result.stderr, result.stderr
    assert dump(database) == before
    assert not list((tmp_path / "backups").glob("*before-restore*"))


@pytest.mark.sqlite_only  # pages of the file overwritten (a server's dump is text: above)
def test_restore_refuses_a_file_with_corrupted_pages_and_changes_nothing(billed, db_path, tmp_path):
    bad = tmp_path / "bad.db"
    assert billed("backup", str(bad)).exit_code == 0
    _corrupt_pages(bad)
    before = dump(db_path)
    result = billed("restore", str(bad))
    assert result.exit_code == 1
    assert "已拒绝" in result.stderr and "未恢复任何数据" in result.stderr
    assert dump(db_path) == before
    assert not list((tmp_path / "backups").glob("*before-restore*"))


def _corrupt_pages(path):
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 2, len(data), 4096):
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def overpaid(copy) -> None:
    """A backup edited so that every allocation is a fen more than was paid: a file's rows,
    or the rows of a server dump's COPY of the table."""
    if copy.suffix == ".db":
        with sqlite3.connect(copy) as raw:
            raw.execute("UPDATE allocation SET amount_fen = amount_fen + 1")
        return
    lines, column = copy.read_text(encoding="utf-8").split("\n"), None
    for n, line in enumerate(lines):
        if line.startswith("COPY ") and ".allocation (" in line:
            names = line.split("(", 1)[1].split(")", 1)[0].split(", ")
            column = names.index("amount_fen")
        elif column is not None and line == "\\.":
            column = None
        elif column is not None:
            cells = line.split("\t")
            cells[column] = str(int(cells[column]) + 1)
            lines[n] = "\t".join(cells)
    copy.write_text("\n".join(lines), encoding="utf-8")


def test_restore_refuses_a_file_that_fails_check(billed, database, tmp_path):
    bad = tmp_path / f"inconsistent{backup_suffix(database)}"
    assert billed("backup", str(bad)).exit_code == 0
    overpaid(bad)
    before = dump(database)
    result = billed("restore", str(bad))
    assert result.exit_code == 1 and "propfee check 未通过" in result.stderr, result.stderr
    assert dump(database) == before


def made_newer(copy, schema: int, version: str) -> None:
    """A backup edited to look made by a later propfee: a file's user_version and meta, or
    a server dump's _migrations and meta rows."""
    if copy.suffix == ".db":
        with sqlite3.connect(copy) as raw:
            raw.execute(f"PRAGMA user_version = {schema}")
            raw.execute(f"UPDATE meta SET value = '{version}' WHERE key = 'propfee_version'")
        return
    lines, table = copy.read_text(encoding="utf-8").split("\n"), ""
    for n, line in enumerate(lines):
        if line.startswith("COPY "):
            table = line.split(" ")[1].split(".")[-1]
        elif line == "\\." and table == "_migrations":
            lines[n] = f"{schema}\tm{schema:03d}_later\t\n\\."
        elif table == "meta" and line.startswith("propfee_version\t"):
            lines[n] = f"propfee_version\t{version}"
    copy.write_text("\n".join(lines), encoding="utf-8")


def test_restore_refuses_a_newer_propfee_file(billed, database, tmp_path):
    newer = tmp_path / f"newer{backup_suffix(database)}"
    assert billed("backup", str(newer)).exit_code == 0
    made_newer(newer, migrations.SCHEMA_VERSION + 1, "9.9.0")
    before = dump(database)
    result = billed("restore", str(newer))
    assert result.exit_code == 1
    assert "propfee 9.9.0" in result.stderr and "当前是 propfee" in result.stderr
    assert dump(database) == before


def test_restore_into_a_new_place(billed, database, tmp_path):
    target = tmp_path / f"copy{backup_suffix(database)}"
    assert billed("backup", str(target)).exit_code == 0
    (tmp_path / "elsewhere").mkdir()
    fresh = database_in(database, tmp_path / "elsewhere")
    result = billed("restore", str(target), db=fresh)
    assert result.exit_code == 0, result.output
    assert ledger.check(db.connect(fresh)) == []
    assert query(fresh, "SELECT count(*) FROM bill") == [(2,)]


def test_auto_backup_before_risky_writes(billed, database, tmp_path):
    (tmp_path / "propfee.toml").write_text("[backup]\nauto = true\nkeep = 5\n", encoding="utf-8")
    assert billed("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    assert not (tmp_path / "backups").exists()  # a re-run of a billed period is not risky
    assert billed("bill", "--period", "2026-12", "--as-of", "2026-11-01").exit_code == 0
    assert billed("import-units", str(tmp_path / "roster.csv")).exit_code == 0
    made = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert made == [
        nth_backup(database, "-before-bill"),
        nth_backup(database, "-before-import-units"),
    ]


# ---------------------------------------------------------------- upgrades


def first_schema_database(path):
    """A database as the first propfee schema made it, with a unit in it: a file, or on [pg]
    an estate's schema made by propfee's first schema step alone."""
    if pg.is_server(path):
        steps, version = migrations.MIGRATIONS, migrations.SCHEMA_VERSION
        migrations.MIGRATIONS, migrations.SCHEMA_VERSION = steps[:1], 1
        try:
            with db.connect(path) as old:
                old.execute(
                    "INSERT INTO unit (code, building, room, kind, area_x100, created_at, "
                    "updated_at) VALUES ('1-1-101', '1', '101', 'residential', 10000, "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
        finally:
            migrations.MIGRATIONS, migrations.SCHEMA_VERSION = steps, version
        return
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN")
    raw.execute(
        "CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"
    )
    migrations.m001_roster(raw)
    raw.execute("INSERT INTO _migrations VALUES (1, 'm001_roster', '2026-01-01 00:00:00')")
    stamp = "2026-01-01 00:00:00"
    raw.execute(
        "INSERT INTO unit (code, building, room, kind, area_x100, created_at, updated_at) "
        "VALUES ('1-1-101', '1', '101', 'residential', 10000, ?, ?)",
        (stamp, stamp),
    )
    raw.execute("PRAGMA user_version = 1")
    raw.execute("COMMIT")
    raw.close()


def schema_of(database) -> int:
    """The schema version of a database (PRAGMA user_version, as propfee reads it on either
    engine)."""
    return query(database, "PRAGMA user_version")[0][0]


def schema_of_copy(path) -> int:
    """The schema version of a backup: a file's user_version, or the newest step in a
    server dump's _migrations rows."""
    if path.suffix == ".db":
        with sqlite3.connect(path) as old:
            return old.execute("PRAGMA user_version").fetchone()[0]
    text = path.read_text(encoding="utf-8")
    rows = text.split("._migrations (", 1)[1].split(" FROM stdin;\n", 1)[1].split("\n\\.\n")[0]
    return max(int(line.split("\t")[0]) for line in rows.splitlines())


def test_an_older_database_is_backed_up_then_upgraded(cli, database, tmp_path):
    first_schema_database(database)
    result = cli("units", "list", "-f", "json")
    assert result.exit_code == 0, result.output
    assert [u["code"] for u in json.loads(result.stdout)["rows"]] == ["1-1-101"]
    said = f"正在把数据库从第 1 版升级到第 {migrations.SCHEMA_VERSION} 版（先做一份备份"
    assert said in result.stderr  # a person waiting is told why; the JSON on stdout is untouched
    assert cli("units", "list", "-f", "json").stderr == ""  # said once, by the upgrade only
    assert schema_of(database) == migrations.SCHEMA_VERSION
    conn = db.connect(database)
    assert ledger.check(conn) == []
    kept = f"{backup_prefix(database)}-*-before-upgrade-from-schema-1{backup_suffix(database)}"
    copies = list((tmp_path / "backups").glob(kept))
    assert len(copies) == 1
    assert schema_of_copy(copies[0]) == 1
    command, changes = conn.execute("SELECT command, changes FROM audit").fetchone()
    assert command == "upgrade"
    assert json.loads(changes)["schema"] == [1, migrations.SCHEMA_VERSION]


def older_backup(cli, database, tmp_path):
    """A backup of schema 1: the copy an older database's upgrade keeps (another database
    beside the test's, on its engine)."""
    (tmp_path / "old").mkdir()
    old = database_in(database, tmp_path / "old")
    first_schema_database(old)
    assert cli("units", "list", db=old).exit_code == 0
    # beside the file; a server's estate has its backups in the working folder
    folder = tmp_path / "backups" if pg.is_server(old) else tmp_path / "old" / "backups"
    (copy,) = folder.glob(f"{backup_prefix(old)}-*-before-upgrade-from-schema-1*")
    return copy


def test_restore_upgrades_an_older_backup(cli, database, tmp_path):
    old = older_backup(cli, database, tmp_path)
    assert schema_of_copy(old) == 1
    result = cli("restore", str(old))
    assert result.exit_code == 0, result.output
    assert "已从结构版本 1 升级" in result.stdout
    assert query(database, "SELECT code FROM unit") == [("1-1-101",)]


def test_a_newer_database_is_refused_naming_both_versions(database):
    db.connect(database).close()
    pretend_newer(database, migrations.SCHEMA_VERSION + 3, "3.1.0")
    with pytest.raises(DatabaseError) as caught:
        db.connect(database)
    message = str(caught.value)
    from propfee import __version__

    assert "propfee 3.1.0" in message and f"当前是 propfee {__version__}" in message


def test_an_upgrade_that_cannot_back_up_is_refused(cli, database, tmp_path):
    first_schema_database(database)
    (tmp_path / "backups").write_text("a file where the folder should be")
    before = dump(database)
    result = cli("units", "list")
    assert result.exit_code == 1 and "备份失败" in result.stderr, result.output
    assert "internal error" not in result.stderr
    assert dump(database) == before
    assert schema_of(database) == 1


# ---------------------------------------------------------------- the full export


def test_export_all_writes_every_table_readably(billed, tmp_path):
    result = billed("export-all", str(tmp_path / "out"), "--mask", "--raw")
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "out" / "propfee-export.xlsx", read_only=True)
    assert book.sheetnames[0] == "说明"
    for table in ("unit", "party", "bill", "payment", "allocation", "audit"):
        assert table in book.sheetnames
        assert (tmp_path / "out" / "csv" / f"{table}.csv").is_file()
    units = list(book["unit"].iter_rows(values_only=True))
    header = units[0]
    assert "房号" in header and "建筑面积" in header
    first = dict(zip(header, units[1], strict=True))
    assert first["房号"] == "1-1-101"
    assert Decimal(str(first["建筑面积"])) == Decimal("100.00")
    assert first["备注"] == '=HYPERLINK("x")'  # a text cell, never a live formula …
    book = load_workbook(tmp_path / "out" / "propfee-export.xlsx")
    cell = next(c for c in book["unit"][2] if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s" and cell.quotePrefix  # … and editing it keeps it text
    bills = list(book["bill"].iter_rows(values_only=True))
    amounts = sorted(Decimal(str(row[bills[0].index("amount（元）")])) for row in bills[1:])
    assert amounts == [Decimal("221.25"), Decimal("250.00")]
    parties = list(book["party"].iter_rows(values_only=True))
    phones = {row[parties[0].index("手机号")] for row in parties[1:]}
    assert phones == {"138****1111", "139****2222"}
    with (tmp_path / "out" / "csv" / "payment.csv").open(encoding="utf-8-sig") as handle:
        payment = list(csv.DictReader(handle))
    assert payment[0]["amount（元）"] == "100.00"


def test_export_all_unmasked_keeps_phones(billed, tmp_path):
    # issue 15 (LEGAL rule 10): masked by default; in full only with --no-mask, on the trail
    assert billed("export-all", str(tmp_path / "masked"), "--raw").exit_code == 0
    with (tmp_path / "masked" / "csv" / "party.csv").open(encoding="utf-8-sig") as handle:
        phones = {row["手机号"] for row in csv.DictReader(handle)}
    assert phones == {"138****1111", "139****2222"}
    full = billed("export-all", str(tmp_path / "out"), "--no-mask", "--raw", "--operator", "李会计")
    assert full.exit_code == 0
    with (tmp_path / "out" / "csv" / "party.csv").open(encoding="utf-8-sig") as handle:
        phones = {row["手机号"] for row in csv.DictReader(handle)}
    assert phones == {"13800001111", "13900002222"}
    (entry,) = json.loads(billed("audit", "--command", "export-all", "-f", "json").stdout)["rows"]
    assert (entry["operator"], entry["args"]["mask"]) == ("李会计", False)
    assert entry["changes"]["unmasked"]["command"] == "export-all"


def test_export_all_into_a_file_is_an_error(billed, tmp_path):
    (tmp_path / "taken").write_text("x")
    result = billed("export-all", str(tmp_path / "taken"))
    assert result.exit_code == 1 and "这是一个文件" in result.stderr


# ---------------------------------------------------------------- core


def test_backup_of_a_missing_database_is_an_error(tmp_path):
    with pytest.raises(PropfeeError, match="没有可备份的数据库"):
        backup.backup(tmp_path / "none.db", at=datetime(2026, 1, 1))


def test_core_calls_outside_a_command_are_not_audited(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    assert conn.execute("SELECT count(*) FROM unit").fetchone()[0] == 1
    # the trail holds only the database's creation
    assert [r[0] for r in conn.execute("SELECT command FROM audit")] == ["create"]


# ---------------------------------------------------------------- cron


def test_the_readme_crontab_runs_quietly(billed, database, tmp_path):
    """Every line of the README's crontab, run as cron would (with the day pinned): exit 0 and
    nothing on stdout or stderr."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```crontab\n(.*?)```", readme, re.S).group(1)
    env = {**os.environ, "PROPFEE_OPERATOR": "cron", "PROPFEE_DB": str(database)}
    jobs = []
    for line in block.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if "=" in line.split()[0]:
            continue  # the variables: set above, with the test database
        command = " ".join(line.split()[5:]).replace("\\%", "%")
        command = command.replace("/srv/propfee", str(tmp_path))
        command = command.replace("$(date +%F)", "2026-12-01")
        command = re.sub(r"\bpropfee (bill|remind)\b", r"propfee \1 --as-of 2026-12-01", command)
        command = command.replace("report daily", "report daily --date 2026-12-01")
        command = command.replace("propfee ", f"{sys.executable} -m propfee ")
        jobs.append(command)
    assert len(jobs) == 4
    (tmp_path / "日结").mkdir()
    before = len(trail(database))
    for command in jobs:
        done = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, cwd=tmp_path
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), command
    assert list(
        (tmp_path / "backups").glob(f"{backup_prefix(database)}-*{backup_suffix(database)}")
    )
    # redirected into a file for Excel, the CSV starts with a BOM; piped, it is the same bytes
    daily_header = "\ufeff收据号,房号,金额".encode()
    assert (tmp_path / "日结" / "2026-12-01.csv").read_bytes().startswith(daily_header)
    piped = subprocess.run(
        f"{sys.executable} -m propfee units list --format csv | cat",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert piped.returncode == 0 and piped.stdout.startswith("\ufeff房号,")
    daily = tmp_path / "日结" / "2026-12-01.csv"
    size = daily.stat().st_size
    subprocess.run(
        f"{sys.executable} -m propfee report daily --date 2026-12-01 --format csv >> '{daily}'",
        shell=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    assert daily.read_bytes()[size:].startswith(daily_header[3:])  # appended: no second BOM
    assert {op for op, *_ in trail(database)[before:]} == {"cron"}
    assert {cmd for _, cmd, *_ in trail(database)[before:]} >= {"bill", "remind"}


def test_the_streaming_workbook_reads_back_in_openpyxl_and_calamine(tmp_path):
    from datetime import date

    from openpyxl import load_workbook
    from python_calamine import CalamineWorkbook

    from propfee.files import xlsxstream

    path = tmp_path / "t.xlsx"
    rows = [
        ["1-1-101", Decimal("1234.50"), Decimal("2.5000"), date(2026, 11, 15), 7, "=1+1"],
        ["0101", None, Decimal("0.10"), None, True, " 前后空格 "],
        ["a\x01b<&>", Decimal("-3.00"), Decimal("12"), datetime(2026, 1, 2, 3, 4, 5), -1, ""],
    ]
    with xlsxstream.Workbook(path) as book:
        assert (
            book.add_sheet(
                "单位", ["房号", "金额", "单价", "日期", "n", "备注"], rows, text_columns={"房号"}
            )
            == 3
        )
        assert book.add_sheet("part", ["x"], iter([[1], [2], [3]]), limit=2) == 2
    sheet = load_workbook(path)["单位"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["房号", "金额", "单价", "日期", "n", "备注"]
    assert values[1][:3] == ["1-1-101", 1234.5, 2.5] and values[1][5] == "=1+1"
    assert sheet["F2"].data_type == "s" and sheet["F2"].quotePrefix
    assert values[1][3] == datetime(2026, 11, 15)
    assert sheet["B2"].number_format == "#,##0.00" and sheet["A3"].number_format == "@"
    assert values[2][0] == "0101" and values[2][5] == " 前后空格 " and values[2][4] is True
    assert values[3][0] == "ab<&>" and values[3][3] == datetime(2026, 1, 2, 3, 4, 5)
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    fast = CalamineWorkbook.from_path(str(path))
    assert fast.sheet_names == ["单位", "part"]
    assert fast.get_sheet_by_name("part").to_python() == [["x"], [1.0], [2.0]]


# ---------------------------------------------------------------- found in acceptance testing


def test_check_notices_a_dropped_trail(billed, database):
    behind_its_back(database, "DROP TABLE audit")
    result = billed("check")
    assert result.exit_code == 1 and "audit trail (table audit) is missing" in result.stderr


def test_check_notices_the_newest_entries_removed_behind_its_back(billed, database):
    # the triggers got past and left as they were
    behind_its_back(database, "DELETE FROM audit WHERE id >= 4", triggers=False)
    result = billed("check")
    assert result.exit_code == 1
    assert "日志止于第 3 行，而最后登记的记录是第 6 行" in result.stderr


def test_the_cashier_beats_the_environment(billed, database, monkeypatch):
    monkeypatch.setenv("PROPFEE_OPERATOR", "cron")
    args = ("pay", "1-1-102", "10", "--channel", "cash", "--as-of", "2026-11-11")
    assert billed(*args, "--cashier", "李娜").exit_code == 0
    assert billed(*args).exit_code == 0
    assert billed(*args, "--cashier", "李娜", "--operator", "主管").exit_code == 0
    assert [op for op, *_ in trail(database)][-3:] == ["李娜", "cron", "主管"]


def test_the_audit_listing_masks_numbers_in_arguments(billed, db_path):
    result = billed(
        "complain",
        "add",
        "1-1-101",
        "--kind",
        "complaint",
        "--category",
        "维修",
        "--description",
        "业主13812345678来电说漏水",
        "--at",
        "2026-11-20 10:00",
    )
    assert result.exit_code == 0, result.output
    listed = billed("audit", "--command", "complain", "-f", "json").stdout
    assert "138****5678" in listed and "13812345678" not in listed
    assert "13812345678" in billed("audit", "--no-mask", "-f", "json").stdout


def test_export_all_mask_covers_free_text(billed, tmp_path):
    billed(
        "complain",
        "add",
        "1-1-101",
        "--kind",
        "complaint",
        "--category",
        "维修",
        "--description",
        "业主13812345678，身份证620102198001011234",
        "--at",
        "2026-11-20 10:00",
    )
    assert billed("export-all", str(tmp_path / "out"), "--mask", "--raw").exit_code == 0
    text = "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "out" / "csv").iterdir())
    assert "13812345678" not in text and "620102198001011234" not in text
    assert "138****5678" in text and "620102********1234" in text


def test_a_tampered_entry_still_lists(billed, database):
    drop_trigger(database, "audit_no_update")
    behind_its_back(database, "UPDATE audit SET args = 'not json', changes = '[1]' WHERE id = 1")
    result = billed("audit")
    assert result.exit_code == 0 and "import-units" in result.stdout
    assert billed("check").exit_code == 1


def test_audit_options(billed):
    assert billed("audit", "--since", "2026-13-01").exit_code == 2
    assert json.loads(billed("audit", "--command", "%", "-f", "json").stdout)["rows"] == []


@pytest.mark.sqlite_only  # a file of 0 bytes (a server has no such thing)
def test_an_empty_file_is_not_a_new_estate(cli, db_path):
    db_path.write_bytes(b"")
    os.utime(db_path, (0, 1_700_000_000))  # there for a while: not another process's new file
    for args in (["check"], ["units", "list"], ["bill", "--period", "2026-11"], ["backup"]):
        result = cli(*args)
        assert result.exit_code == 1 and "文件是空的（0 字节）" in result.stderr
    assert db_path.stat().st_size == 0


def whose(copy) -> str | None:
    """Which database a backup is of: a file's id, or a server dump's estate."""
    return pgdump.dumped_estate(copy) if copy.suffix == ".sql" else backup.database_id(copy)


def test_pruning_leaves_another_estates_backups_alone(cli, database, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    estates = []
    for name in ("e1", "e2"):
        (tmp_path / name).mkdir()
        path = database_in(database, tmp_path / name)
        db.connect(path).close()
        estates.append(path)
    assert cli("backup", str(shared), db=estates[0]).exit_code == 0
    (first,) = shared.iterdir()
    ours = whose(first)
    assert cli("backup", str(shared), db=estates[0]).exit_code == 0
    assert cli("backup", str(shared), db=estates[1]).exit_code == 0
    assert cli("backup", str(shared), "--keep", "1", db=estates[1]).exit_code == 0
    left = [whose(p) for p in shared.iterdir()]
    # the first estate's two copies stay; the second keeps its newest one
    assert ours and None not in left and left.count(ours) == 2 and len(left) == 3


def test_safety_copies_are_never_pruned(billed, database, tmp_path):
    target = tmp_path / f"copy{backup_suffix(database)}"
    assert billed("backup", str(target)).exit_code == 0
    assert billed("restore", str(target)).exit_code == 0
    assert billed("backup", "--keep", "1").exit_code == 0
    assert billed("backup", "--keep", "1").exit_code == 0
    names = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert len(names) == 2 and any("before-restore" in n for n in names)


@pytest.mark.sqlite_only  # the file's bytes overwritten, kept as they were
def test_restore_replaces_a_damaged_database_keeping_it_as_it_was(billed, db_path, tmp_path):
    good = tmp_path / "good.db"
    assert billed("backup", str(good)).exit_code == 0
    import gc

    gc.collect()  # connections the commands left open in this process close (and checkpoint)
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    data = bytearray(db_path.read_bytes())
    data[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200
    db_path.write_bytes(bytes(data))
    result = billed("restore", str(good))
    assert result.exit_code == 0, result.output
    kept = list((tmp_path / "backups").glob("*before-restore-damaged.db"))
    # kept as it was: only the 100-byte file header differs (out of WAL mode, its counters)
    copied = kept[0].read_bytes()
    assert len(kept) == 1 and copied[100:] == bytes(data[100:])
    assert ledger.check(db.connect(db_path)) == []


@pytest.mark.sqlite_only  # an index rewritten in the file's sqlite_master
def test_restore_replaces_a_database_with_a_damaged_index(billed, db_path, tmp_path):
    good = tmp_path / "good.db"
    assert billed("backup", str(good)).exit_code == 0
    import gc

    raw = sqlite3.connect(db_path)  # the index no longer matches its table
    raw.execute("PRAGMA writable_schema = ON")
    raw.execute(
        "UPDATE sqlite_master SET sql = 'CREATE INDEX party_name ON party (id)' "
        "WHERE name = 'party_name'"
    )
    raw.commit()
    raw.close()
    assert billed("check").exit_code == 1
    gc.collect()  # the commands' connections in this process close, as a process's would
    result = billed("restore", str(good))
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "backups").glob("*before-restore-damaged.db"))
    assert billed("check").exit_code == 0


#: a value no propfee command writes: on SQLite not even text (a blob); a server's text
#: column holds only text, so there a control character and a stray accented letter
ODD = {"lite": "x'00ff'", "pg": "chr(1) || chr(255)"}


def test_check_notices_an_emptied_trail_and_odd_values(billed, database, engine):
    odd = ODD[engine]
    behind_its_back(database, f"UPDATE audit SET args = {odd} WHERE id = 2", triggers=False)
    result = billed("check")
    assert result.exit_code == 1 and "第 2 行写入后被改动过" in result.stderr
    behind_its_back(
        database,
        "DELETE FROM audit",
        "DELETE FROM meta WHERE key = 'audit_head'",
        triggers=False,
    )
    result = billed("check")
    assert result.exit_code == 1 and "the audit trail is empty" in result.stderr


def database_id(database) -> str | None:
    (row,) = query(database, "SELECT value FROM meta WHERE key = 'database_id'") or [(None,)]
    return row[0]


def test_a_restore_keeps_the_database_id(billed, database, tmp_path):
    old = older_backup(billed, database, tmp_path)  # another database of schema 1, upgraded
    ours = database_id(database)
    assert ours and billed("restore", str(old)).exit_code == 0
    assert database_id(database) == ours


def test_numbers_in_free_text_are_masked_however_written():
    from propfee.files.cells import mask_in_text

    cases = {
        "业主13812345678来电": "业主138****5678来电",
        "139-1234-5678 / 139 1234 5678": "139****5678 / 139****5678",
        "+8613912345678": "+86139****5678",
        "电话：１３９１２３４５６７８": "电话：139****5678",
        "ID110101199003074514": "ID110101********4514",
        "身份证 110101 1990 0307 4514": "身份证 110101********4514",
        "旧证110101900307451": "旧证110101******451",
        "交易单号4200001234567890123456789012": "交易单号4200001234567890123456789012",
        "收据 2026-000123 金额 450.00": "收据 2026-000123 金额 450.00",
    }
    cases |= {
        "138－1234－5678": "138****5678",
        "138 1234 5678 或 1381-234-5678 或 (138)1234-5678": "138****5678 或 138****5678 或 "
        "138****5678",
        "110101-19900307-4514": "110101********4514",
    }
    assert {text: mask_in_text(text) for text in cases} == cases
    from propfee.files.cells import mask_phone

    assert mask_phone("138-1234-5678") == "138****5678"
    assert mask_phone("0931-8123456") == "0931-****456"


def test_the_upgrade_backup_goes_to_the_settings_folder(cli, database, tmp_path):
    first_schema_database(database)
    (tmp_path / "propfee.toml").write_text('[backup]\nfolder = "备份"\n', encoding="utf-8")
    assert cli("units", "list").exit_code == 0
    kept = f"{backup_prefix(database)}-*-before-upgrade-from-schema-1{backup_suffix(database)}"
    assert list((tmp_path / "备份").glob(kept))


def test_restoring_another_estates_backup_warns(cli, database, tmp_path):
    paths = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        path = database_in(database, tmp_path / name)
        db.connect(path).close()
        paths.append(path)
    suffix = backup_suffix(database)
    assert cli("backup", str(tmp_path / f"b{suffix}"), db=paths[1]).exit_code == 0
    assert cli("backup", str(tmp_path / f"a{suffix}"), db=paths[0]).exit_code == 0
    own = cli("restore", str(tmp_path / f"a{suffix}"), db=paths[0])
    assert own.exit_code == 0 and "备份自另一个数据库" not in own.stderr
    other = cli("restore", str(tmp_path / f"b{suffix}"), db=paths[0])
    assert other.exit_code == 0 and "备份自另一个数据库" in other.stderr


#: the update trigger made to let everything through: SQLite's replaced, a server's function
DISARMED = {
    "lite": [
        "DROP TRIGGER audit_no_update",
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END",
    ],
    "pg": [
        "CREATE OR REPLACE FUNCTION audit_no_update_refuse() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
    ],
}


def test_check_notices_a_disarmed_trigger(billed, database, engine):
    behind_its_back(
        database,
        *DISARMED[engine],
        f"UPDATE meta SET value = {ODD[engine]} WHERE key = 'audit_head'",
    )
    result = billed("check")
    assert result.exit_code == 1 and "不再阻止改动日志" in result.stderr
    assert "internal error" not in result.stderr
