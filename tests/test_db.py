import os
import sqlite3
import stat

import pytest
import sqlite_utils

from propfee.core.errors import DatabaseError
from propfee.store import db, migrations

from conftest import StoreIntegrityError, dump, pretend_newer


def _columns(conn, table: str) -> dict[str, str]:
    """A table's columns and their declared types, as propfee's connection tells them on
    either engine (PRAGMA table_info; on a server read from its catalogue)."""
    return {row[1]: str(row[2]).upper() for row in conn.execute(f"PRAGMA table_info({table})")}


def _tables(conn) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _schema(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_blank_database_is_created_and_migrated(database):
    conn = db.connect(database)
    assert _schema(conn) == migrations.SCHEMA_VERSION
    assert {"meta", "unit", "party", "occupancy", "_migrations"} <= _tables(conn)
    integer, text = "INTEGER", "TEXT"
    assert _columns(conn, "unit") == {
        "id": integer,
        "code": text,
        "building": text,
        "entrance": text,
        "room": text,
        "floor": text,
        "kind": text,
        "area_x100": integer,
        "area_basis": text,
        "inner_area_x100": integer,
        "delivered_on": text,
        "notes": text,
        "created_at": text,
        "updated_at": text,
        "vacant": integer,
        "zone": text,
    }
    assert _columns(conn, "party") == {
        "id": integer,
        "kind": text,
        "name": text,
        "phones": text,
        "id_number": text,
        "birthday": text,
        "is_developer": integer,
        "created_at": text,
        "updated_at": text,
    }
    assert set(_columns(conn, "occupancy")) == {
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
    applied = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY version")]
    assert applied == [step.__name__ for step in migrations.MIGRATIONS]
    conn.close()


@pytest.mark.sqlite_only  # the file: its mode bits, its journal, its declared foreign keys
def test_a_new_file_is_private_in_wal_mode_with_its_foreign_keys(db_path):
    db.connect(db_path).close()
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    database = sqlite_utils.Database(db_path)
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(fk.other_table for fk in database["occupancy"].foreign_keys) == ["party", "unit"]


def test_no_column_stores_money_or_areas_as_real(database):
    conn = db.connect(database)
    for table in _tables(conn):
        for column, kind in _columns(conn, table).items():
            # REAL on SQLite; a server's floating and decimal types
            assert kind not in ("REAL", "FLOAT4", "FLOAT8", "NUMERIC"), (
                f"{table}.{column} is {kind}"
            )
    conn.close()


def test_opening_again_changes_nothing(database):
    db.connect(database).close()
    before = dump(database)
    conn = db.connect(database)
    assert migrations.migrate(conn) == 0
    conn.close()
    assert dump(database) == before


@pytest.mark.sqlite_only  # SQLite enforces foreign keys only when asked (a server always)
def test_a_file_is_opened_with_its_foreign_keys_enforced(db_path):
    db.connect(db_path).close()
    conn = db.connect(db_path)
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    conn.close()


def test_a_newer_database_is_refused(database):
    db.connect(database).close()
    pretend_newer(database, migrations.SCHEMA_VERSION + 5)
    with pytest.raises(DatabaseError, match="由较新的 propfee 建立"):
        db.connect(database)


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
    with pytest.raises(StoreIntegrityError):
        conn.execute(
            "INSERT INTO unit (code, kind, area_x100, created_at, updated_at) "
            "VALUES ('x', 'residential', 0, '', '')"
        )
    with pytest.raises(StoreIntegrityError):
        conn.execute(
            "INSERT INTO unit (code, kind, created_at, updated_at) VALUES ('x', 'castle', '', '')"
        )
    with pytest.raises(StoreIntegrityError):
        conn.execute(
            "INSERT INTO occupancy (unit_id, party_id, role, created_at) VALUES (99, 99, 'owner', '')"
        )


def test_an_old_database_is_upgraded(database, monkeypatch):
    first_schema = migrations.MIGRATIONS[:1]
    # undone at the end of the block alone: the working folder and clock stay isolated
    with monkeypatch.context() as older:
        older.setattr(migrations, "MIGRATIONS", first_schema)
        older.setattr(migrations, "SCHEMA_VERSION", 1)
        old = db.connect(database)
        old.execute(
            "INSERT INTO unit (code, kind, area_x100, created_at, updated_at) "
            "VALUES ('1-101', 'residential', 8937, 'x', 'x')"
        )
        assert "bill" not in _tables(old)
        old.close()
    conn = db.connect(database)
    assert _schema(conn) == migrations.SCHEMA_VERSION
    assert tuple(conn.execute("SELECT code, vacant FROM unit").fetchone()) == ("1-101", 0)
    assert "bill" in _tables(conn)
    conn.close()
