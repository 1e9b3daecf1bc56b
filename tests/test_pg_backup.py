"""An estate on a PostgreSQL server: backup (pg_dump of its schema, checked in a scratch
schema), restore into its schema, and a dry run that never makes a schema."""

from __future__ import annotations

import json

import pytest

from propfee.cli import app
from propfee.store import db, migrations, pg, pgdump

from conftest import ESTATE_HEADER, PROP_FEE, dump, home, write_csv


@pytest.fixture
def server_cli(runner, pg_estate):
    def run(*args: str, db: str | None = None):
        return runner.invoke(app, [*args, "--db", db or pg_estate], catch_exceptions=False)

    return run


@pytest.fixture
def billed(server_cli, tmp_path):
    rows = [ESTATE_HEADER, home("1-1-101", phone="13800000001"), home("1-1-102", area="120")]
    for command in (
        ("import-units", str(write_csv(tmp_path / "roster.csv", rows)), "--as-of", "2026-10-01"),
        PROP_FEE,
        ("fees", "publish", "--out", str(tmp_path / "pub"), "--recorded-later",
         "--published-on", "2020-01-01", "--evidence", "公示照片 IMG_0231.jpg"),
        ("bill", "--period", "2026-11", "--as-of", "2026-11-01"),
    ):  # fmt: skip
        done = server_cli(*command)
        assert done.exit_code == 0, done.output
    return server_cli


def _owed(cli, unit="1-1-101") -> str:
    return json.loads(cli("statement", unit, "--format", "json").output)["closing_balance"]


def test_a_backup_is_a_checked_dump_and_restore_brings_the_estate_back(billed, tmp_path, pg_estate):
    owed = _owed(billed)
    made = billed("backup", str(tmp_path / "before-pay.sql"))
    assert made.exit_code == 0, made.output
    assert "已校验" in made.output or "checked" in made.output
    copy = tmp_path / "before-pay.sql"
    assert copy.stat().st_mode & 0o777 == 0o600
    assert pgdump.dumped_estate(copy) == pg.split_target(pg_estate)[1]
    assert not [name for name in dump_schemas(pg_estate) if "_scratch_" in name]
    paid = billed("pay", "1-1-101", "100", "--channel", "cash", "--date", "2026-11-20")
    assert paid.exit_code == 0, paid.output
    assert _owed(billed) != owed
    restored = billed("restore", str(copy))
    assert restored.exit_code == 0, restored.output
    assert _owed(billed) == owed
    assert json.loads(billed("check", "--format", "json").output)["ok"] is True
    kept = list((tmp_path / "backups").glob("*-before-restore.sql"))
    assert len(kept) == 1 and pgdump.dumped_estate(kept[0]) == pg.split_target(pg_estate)[1]
    trail = json.loads(billed("audit", "--format", "json").output)["rows"]
    assert trail[-1]["command"] == "restore"
    # the safety copy undoes the restore: the payment is back
    assert billed("restore", str(kept[0])).exit_code == 0
    assert _owed(billed) != owed


def test_a_dump_that_fails_check_is_refused_and_nothing_changes(billed, tmp_path, pg_estate):
    copy = tmp_path / "b.sql"
    assert billed("backup", str(copy)).exit_code == 0
    text = copy.read_text(encoding="utf-8")
    tampered = tmp_path / "tampered.sql"
    # the audit trail's head no longer the trail's last entry
    assert "\naudit_head\t" in text
    tampered.write_text(text.replace("\naudit_head\t", "\naudit_head\tx"), encoding="utf-8")
    before = dump(pg_estate)
    refused = billed("restore", str(tampered))
    assert refused.exit_code == 1
    assert "propfee check" in refused.output and "tampered.sql" in refused.output
    assert dump(pg_estate) == before
    assert not [name for name in dump_schemas(pg_estate) if "_scratch_" in name]


def test_restore_fills_a_new_estate_and_says_where_the_dump_came_from(billed, tmp_path, pg_url):
    copy = tmp_path / "b.sql"
    assert billed("backup", str(copy)).exit_code == 0
    other = pg.shareable(pg_url, "t_restored_elsewhere")
    with pg.open_server(pg_url, "t_restored_elsewhere") as connection:
        connection.drop_schema()
    done = billed("restore", str(copy), db=other)
    assert done.exit_code == 0, done.output
    assert "另一个" in done.output or "another" in done.output
    assert (
        _owed(billed)
        == json.loads(billed("statement", "1-1-101", "--format", "json", db=other).output)[
            "closing_balance"
        ]
    )
    assert json.loads(billed("check", "--format", "json", db=other).output)["ok"] is True


def test_an_sqlite_backup_is_not_restored_onto_a_server(server_cli, runner, tmp_path):
    lite = tmp_path / "lite.db"
    rows = [ESTATE_HEADER, home("1-1-101")]
    roster = str(write_csv(tmp_path / "roster.csv", rows))
    assert runner.invoke(app, ["import-units", roster, "--db", str(lite)]).exit_code == 0
    refused = server_cli("restore", str(lite))
    assert refused.exit_code == 1
    assert "migrate-to" in refused.output


def test_a_missing_pg_dump_is_named_with_what_to_install(monkeypatch):
    monkeypatch.setattr(pgdump, "_candidates", lambda program: [])
    with pytest.raises(pgdump.DatabaseError, match="postgresql-client-16"):
        pgdump.tool("pg_dump", 16)


def test_a_dry_run_against_a_new_estate_makes_no_schema(server_cli, tmp_path, pg_estate):
    rows = [ESTATE_HEADER, home("1-1-101")]
    roster = str(write_csv(tmp_path / "roster.csv", rows))
    done = server_cli("import-units", roster, "--dry-run")
    assert done.exit_code == 0, done.output
    assert pg.split_target(pg_estate)[1] not in dump_schemas(pg_estate)
    assert not pg.estate_exists(pg_estate)


def dump_schemas(address: str) -> list[str]:
    import psycopg

    url, _estate = pg.split_target(address)
    with psycopg.connect(url, autocommit=True) as raw:
        return [row[0] for row in raw.execute("SELECT nspname FROM pg_namespace")]


def test_auto_backups_before_risky_writes_on_a_server_are_dumps_kept_to_keep(
    billed, tmp_path, pg_estate
):
    (tmp_path / "propfee.toml").write_text("[backup]\nauto = true\nkeep = 1\n", encoding="utf-8")
    assert billed("bill", "--period", "2026-12", "--as-of", "2026-11-01").exit_code == 0
    estate = pg.split_target(pg_estate)[1]
    made = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert made == [f"{estate}-20270630-120000-before-bill.sql"]
    assert billed("bill", "--period", "2027-01", "--as-of", "2026-11-01").exit_code == 0
    made = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert made == [f"{estate}-20270630-120000-before-bill-2.sql"]  # keep = 1


def _first_schema_estate(address: str) -> None:
    """An estate as the first propfee schema made it, with a unit in it."""
    with pg.open_server(address) as conn:
        conn.execute("BEGIN")
        migrations.m001_roster(conn)
        conn.execute("INSERT INTO _migrations VALUES (1, 'm001_roster', '2026-01-01 00:00:00')")
        conn.execute(
            "INSERT INTO unit (code, building, room, kind, area_x100, created_at, updated_at) "
            "VALUES ('1-1-101', '1', '101', 'residential', 10000, ?, ?)",
            ("2026-01-01 00:00:00", "2026-01-01 00:00:00"),
        )
        conn.commit()


def test_an_older_estate_is_dumped_then_upgraded(server_cli, tmp_path, pg_estate):
    _first_schema_estate(pg_estate)
    result = server_cli("units", "list", "-f", "json")
    assert result.exit_code == 0, result.output
    assert [u["code"] for u in json.loads(result.stdout)["rows"]] == ["1-1-101"]
    said = f"正在把数据库从第 1 版升级到第 {migrations.SCHEMA_VERSION} 版（先做一份备份"
    assert said in result.stderr  # as on SQLite; the JSON on stdout is untouched
    assert server_cli("units", "list", "-f", "json").stderr == ""  # said once
    estate = pg.split_target(pg_estate)[1]
    (copy,) = (tmp_path / "backups").glob(f"{estate}-*-before-upgrade-from-schema-1.sql")
    assert pgdump.dumped_estate(copy) == estate
    text = copy.read_text(encoding="utf-8")
    assert "m001_roster" in text and "m002" not in text  # the estate as it was
    assert "1-1-101" in text
    conn = db.connect(pg_estate)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
        command, changes = conn.execute("SELECT command, changes FROM audit").fetchone()
        assert command == "upgrade"
        assert json.loads(changes)["schema"] == [1, migrations.SCHEMA_VERSION]
        assert not [s for s in dump_schemas(pg_estate) if "scratch" in s]  # the proof is gone
    finally:
        conn.close()


def test_an_older_estate_whose_dump_fails_is_not_upgraded(server_cli, pg_estate, monkeypatch):
    _first_schema_estate(pg_estate)
    monkeypatch.setattr(pgdump, "_candidates", lambda program: [])  # no pg_dump here
    refused = server_cli("units", "list")
    assert refused.exit_code == 1
    assert "备份" in refused.output and "postgresql-client" in refused.output
    with pg.open_server(pg_estate, create=False) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
