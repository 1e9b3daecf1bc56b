import os
import sqlite3
import stat

import pytest
import sqlite_utils

from propfee.core.errors import DatabaseError
from propfee.store import db, migrations


def test_a_blank_database_is_created_and_migrated(db_path):
    conn = db.connect(db_path)
    conn.close()
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    database = sqlite_utils.Database(db_path)
    assert database.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"meta", "unit", "party", "occupancy", "_migrations"} <= set(database.table_names())
    assert database["unit"].columns_dict == {
        "id": int,
        "code": str,
        "building": str,
        "entrance": str,
        "room": str,
        "floor": str,
        "kind": str,
        "area_x100": int,
        "area_basis": str,
        "inner_area_x100": int,
        "delivered_on": str,
        "notes": str,
        "created_at": str,
        "updated_at": str,
        "vacant": int,
        "zone": str,
    }
    assert database["party"].columns_dict == {
        "id": int,
        "kind": str,
        "name": str,
        "phones": str,
        "id_number": str,
        "birthday": str,
        "is_developer": int,
        "created_at": str,
        "updated_at": str,
    }
    assert set(database["occupancy"].columns_dict) == {
        "id",
        "unit_id",
        "party_id",
        "role",
        "start_on",
        "end_on",
        "pays",
        "source",
        "created_at",
    }
    assert sorted(fk.other_table for fk in database["occupancy"].foreign_keys) == ["party", "unit"]
    applied = [row[0] for row in database.execute("SELECT name FROM _migrations ORDER BY version")]
    assert applied == [step.__name__ for step in migrations.MIGRATIONS]


def test_no_column_stores_money_or_areas_as_real(db_path):
    db.connect(db_path).close()
    database = sqlite_utils.Database(db_path)
    for table in database.tables:
        for column in table.columns:
            assert column.type.upper() != "REAL", f"{table.name}.{column.name} is REAL"


def test_opening_again_changes_nothing(db_path):
    db.connect(db_path).close()
    conn = db.connect(db_path)
    assert migrations.migrate(conn) == 0
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    conn.close()


def test_a_newer_database_is_refused(db_path):
    db.connect(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 5}")
    raw.close()
    with pytest.raises(DatabaseError, match="由较新的 propfee 建立"):
        db.connect(db_path)


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE customers (id INTEGER)")
    raw.close()
    with pytest.raises(DatabaseError, match="不是由 propfee 建立"):
        db.connect(path)


def test_garbage_is_refused(tmp_path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DatabaseError, match="不是 propfee 数据库"):
        db.connect(path)


def test_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(DatabaseError, match="不存在"):
        db.connect(tmp_path / "nowhere" / "propfee.db")


def test_transaction_rolls_back_on_error_and_in_dry_run(conn):
    with pytest.raises(RuntimeError), db.transaction(conn):
        db.set_meta(conn, "k", "v")
        raise RuntimeError("boom")
    assert db.get_meta(conn, "k") is None
    with db.transaction(conn, dry_run=True):
        db.set_meta(conn, "k", "v")
    assert db.get_meta(conn, "k") is None
    with db.transaction(conn):
        db.set_meta(conn, "k", "v")
    assert db.get_meta(conn, "k") == "v"


def test_constraints_hold(conn):
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO unit (code, kind, area_x100, created_at, updated_at) "
            "VALUES ('x', 'residential', 0, '', '')"
        )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO unit (code, kind, created_at, updated_at) VALUES ('x', 'castle', '', '')"
        )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO occupancy (unit_id, party_id, role, created_at) VALUES (99, 99, 'owner', '')"
        )


def test_an_old_database_is_upgraded(db_path, monkeypatch):
    first_schema = migrations.MIGRATIONS[:1]
    monkeypatch.setattr(migrations, "MIGRATIONS", first_schema)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 1)
    old = db.connect(db_path)
    old.execute(
        "INSERT INTO unit (code, kind, area_x100, created_at, updated_at) "
        "VALUES ('1-101', 'residential', 8937, 'x', 'x')"
    )
    old.close()
    monkeypatch.undo()
    conn = db.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
    assert tuple(conn.execute("SELECT code, vacant FROM unit").fetchone()) == ("1-101", 0)
    assert "bill" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
