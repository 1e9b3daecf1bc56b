"""Faults, with real processes: a read-only database, the file-size limit hit mid-write, a
database held by another process past the busy timeout, a damaged file given as the
database, a backup taken while a bill run writes. Every time: one clear line, a non-zero exit,
and the database intact — `propfee check` passes and nothing is lost."""

import ctypes
import functools
import os
import resource
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from propfee.payments import ledger
from propfee.store import db, pg

from conftest import PROP_FEE, dump, propfee_process, published_fees, write_csv

pytestmark = pytest.mark.slow
UNITS = 400


propfee = propfee_process


def build_estate(db_path, folder: Path) -> None:
    """UNITS homes, the fee published, November 2026 billed, one payment."""
    rows = [["房号", "建筑面积", "业主", "手机号"]] + [
        [f"2-1-{i:04d}", "90.00", f"业主{i}", f"1390000{i:04d}"] for i in range(UNITS)
    ]
    roster = write_csv(folder / "roster.csv", rows)
    for args in (
        ["import-units", str(roster), "--as-of", "2026-10-01"],
        PROP_FEE,
        published_fees(folder),
        ["bill", "--period", "2026-11", "--as-of", "2026-11-01"],
        ["pay", "2-1-0001", "225.00", "--channel", "cash", "--as-of", "2026-11-10"],
    ):
        result = propfee(*args, db_path=db_path, cwd=folder)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """What makes the module's estate (see :func:`build_estate`): built once per engine, then
    copied for each test."""
    return functools.partial(build_estate, folder=tmp_path_factory.mktemp("estate"))


@pytest.fixture
def estate(estate_copy, built, engine):
    """The test's own copy of the estate on its engine: ./propfee.db, or on [pg] its schema on
    the session's server."""
    made = estate_copy("estate", built)
    return Path(made) if engine == "lite" else made


def intact(path: Path, before: list[str]) -> None:
    """Nothing changed and every invariant holds."""
    assert dump(path) == before
    conn = db.connect(path)
    try:
        assert ledger.check(conn) == []
    finally:
        conn.close()


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# ---------------------------------------------------------------- read-only


PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def without_override():
    """In the child: a root process loses the capabilities that let it ignore file modes (so a
    read-only file is read-only to it, as to everyone else)."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@pytest.mark.sqlite_only
def test_a_read_only_database_is_refused_cleanly(estate, tmp_path):
    """About the SQLite file: a database file without write permission."""
    before = dump(estate)
    estate.chmod(0o444)
    try:
        result = propfee(
            "pay",
            "2-1-0002",
            "100",
            "--channel",
            "cash",
            "--as-of",
            "2026-11-11",
            db_path=estate,
            cwd=tmp_path,
            preexec_fn=without_override,
        )
        assert result.returncode == 1
        assert "数据库只读" in one_line(result.stderr)
        # reading still works
        listed = propfee(
            "units",
            "list",
            "--format",
            "csv",
            db_path=estate,
            cwd=tmp_path,
            preexec_fn=without_override,
        )
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.count("\n") == UNITS + 1
    finally:
        estate.chmod(0o600)
    intact(estate, before)


# ---------------------------------------------------------------- disk full


def file_limit(size: int):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.sqlite_only
def test_the_file_size_limit_hit_mid_bill_run_leaves_the_database_as_it_was(estate, tmp_path):
    """About the SQLite file: the database file outgrows the size limit mid-command."""
    before = dump(estate)
    result = propfee(
        "bill",
        "--from",
        "2026-12",
        "--through",
        "2027-06",
        "--as-of",
        "2026-11-30",
        db_path=estate,
        cwd=tmp_path,
        preexec_fn=file_limit(48 * 1024),
    )
    assert result.returncode == 1
    assert "无法写入数据库" in one_line(result.stderr)
    intact(estate, before)
    # the same run with room to write succeeds
    again = propfee(
        "bill",
        "--from",
        "2026-12",
        "--through",
        "2027-06",
        "--as-of",
        "2026-11-30",
        db_path=estate,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr


@pytest.mark.sqlite_only
def test_the_file_size_limit_hit_mid_backup_leaves_no_backup(estate, tmp_path):
    """About the SQLite file: the backup file outgrows the size limit."""
    before = dump(estate)
    result = propfee("backup", db_path=estate, cwd=tmp_path, preexec_fn=file_limit(32 * 1024))
    assert result.returncode == 1
    assert "无法写入备份" in one_line(result.stderr)
    assert list((tmp_path / "backups").iterdir()) == []
    intact(estate, before)


# ---------------------------------------------------------------- locked


HOLD = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE meta SET value = value")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""

#: on a server: another propfee command writing (its transaction holds the estate's advisory
#: lock, as BEGIN IMMEDIATE holds an SQLite file's write lock)
HOLD_WRITER = """
import sys, time
from propfee.store import db
conn = db.connect(sys.argv[1])
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE meta SET value = value")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""

#: on a server: someone else's session (psql, a report tool) holding the table a payment
#: writes, without the estate's advisory lock
HOLD_ROWS = """
import sys, time
import psycopg
from propfee.store import pg
url, schema = pg.split_target(sys.argv[1])
with psycopg.connect(url) as raw:
    raw.execute(f'SET search_path TO "{schema}"')
    raw.execute("LOCK TABLE payment IN EXCLUSIVE MODE")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    raw.rollback()
"""


@contextmanager
def held(database: Path | str, seconds: int = 8, script: str = HOLD):
    """Another process holds the database's write lock for a while (``script``: how)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.kill()
        holder.wait()


def name_of(database: Path | str) -> str:
    """How an error names the database: the file's path, or the server and estate."""
    if not pg.is_server(database):
        return str(database)
    return pg.display(*pg.split_target(str(database)))


def test_a_database_held_past_the_busy_timeout_exits_75(estate, db_path, engine, tmp_path):
    """On a server, held twice: by another command (the estate's advisory lock), and by a
    session holding the table a payment writes."""
    before = dump(estate)
    holders = [HOLD] if engine == "lite" else [HOLD_WRITER, HOLD_ROWS]
    for script in holders:
        with held(estate, script=script):
            started = time.monotonic()
            result = propfee(
                "pay",
                "2-1-0002",
                "100",
                "--channel",
                "cash",
                "--as-of",
                "2026-11-11",
                db_path=db_path,
                cwd=tmp_path,
                env={"PROPFEE_BUSY_TIMEOUT": "1"},
            )
            assert time.monotonic() - started < 7
            assert result.returncode == 75, result.stderr
            line = one_line(result.stderr)
            assert line.startswith(f"错误：{name_of(estate)}：")
            assert "另一个 propfee 命令仍在写入（已等待 1 秒）" in line
        intact(estate, before)


@pytest.mark.sqlite_only
def test_a_restore_waits_for_a_writer_then_gives_up_with_75(estate, tmp_path):
    """About the SQLite file: propfee restore replaces the file (not built for a server)."""
    copy = tmp_path / "copy.db"
    assert propfee("backup", str(copy), db_path=estate, cwd=tmp_path).returncode == 0
    paid = propfee(
        "pay",
        "2-1-0002",
        "100",
        "--channel",
        "cash",
        "--as-of",
        "2026-11-11",
        db_path=estate,
        cwd=tmp_path,
    )
    assert paid.returncode == 0, paid.stderr
    before = dump(estate)
    with held(estate):
        result = propfee(
            "restore", str(copy), db_path=estate, cwd=tmp_path, env={"PROPFEE_BUSY_TIMEOUT": "1"}
        )
        assert result.returncode == 75, result.stderr
        assert "仍在写入" in result.stderr
    intact(estate, before)


def test_overlapping_runs_wait_for_each_other(estate, db_path, tmp_path):
    runs = [
        propfee(
            "bill",
            "--from",
            "2026-12",
            "--through",
            "2027-03",
            "--as-of",
            "2026-11-30",
            db_path=db_path,
            cwd=tmp_path,
            wait=False,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    conn = db.connect(estate)
    try:
        billed = conn.execute("SELECT count(*) FROM bill WHERE period >= '2026-12'").fetchone()
        assert billed[0] == UNITS * 4
        assert ledger.check(conn) == []
    finally:
        conn.close()


# ---------------------------------------------------------------- damaged files


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty-header"])
def test_a_damaged_file_given_as_the_database(estate, tmp_path, kind):
    bad = tmp_path / f"{kind}.db"
    data = estate.read_bytes()
    if kind == "garbage":
        bad.write_bytes(os.urandom(64 * 1024))
    elif kind == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    else:
        bad.write_bytes(data[:100] + b"\0" * 4000)
    original = bad.read_bytes()
    for args in (
        ["units", "list"],
        ["pay", "2-1-0002", "100", "--channel", "cash", "--as-of", "2026-11-11"],
        ["check"],
    ):
        result = propfee(*args, db_path=bad, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        assert str(bad) in result.stderr or "damaged" in result.stderr or "problem" in result.stderr
    assert bad.read_bytes() == original


# ---------------------------------------------------------------- backup during a write


@pytest.mark.sqlite_only
def test_a_backup_taken_while_a_bill_run_writes_holds_none_or_all_of_it(estate, tmp_path):
    """About the SQLite file: propfee backup copies the file (a server's estate is backed up with pg_dump)."""
    bill = propfee(
        "bill",
        "--from",
        "2026-12",
        "--through",
        "2027-11",
        "--as-of",
        "2026-11-30",
        db_path=estate,
        cwd=tmp_path,
        wait=False,
    )
    wal = Path(f"{estate}-wal")
    deadline = time.monotonic() + 60
    while bill.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size > 64 * 1024:
            break  # the run is writing
        time.sleep(0.005)
    copy = tmp_path / "during.db"
    taken = propfee("backup", str(copy), db_path=estate, cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    assert bill.wait(timeout=300) == 0, bill.stderr.read()
    restored = tmp_path / "restored.db"
    back = propfee("restore", str(copy), db_path=restored, cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    conn = sqlite3.connect(restored)
    count = conn.execute("SELECT count(*) FROM bill WHERE period >= '2026-12'").fetchone()[0]
    assert count in (0, UNITS * 12)
    assert ledger.check(db.connect(restored)) == []
    checked = propfee("check", db_path=restored, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr


COMMIT_LATER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(3)
conn.execute("INSERT INTO meta (key, value) VALUES ('written-during-restore', 'x')")
conn.execute("COMMIT")
"""


def test_a_write_committed_while_a_restore_waits_is_in_its_safety_copy(estate, tmp_path):
    copy = tmp_path / "copy.db"
    assert propfee("backup", str(copy), db_path=estate, cwd=tmp_path).returncode == 0
    writer = subprocess.Popen(
        [sys.executable, "-c", COMMIT_LATER, str(estate)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "holding"
    result = propfee(
        "restore", str(copy), db_path=estate, cwd=tmp_path, env={"PROPFEE_BUSY_TIMEOUT": "30"}
    )
    assert writer.wait() == 0
    assert result.returncode == 0, result.stderr
    (safety,) = (tmp_path / "backups").glob("*before-restore.db")
    with sqlite3.connect(safety) as kept:
        assert (
            kept.execute(
                "SELECT count(*) FROM meta WHERE key = 'written-during-restore'"
            ).fetchone()[0]
            == 1
        )
    with sqlite3.connect(estate) as now:
        assert (
            now.execute(
                "SELECT count(*) FROM meta WHERE key = 'written-during-restore'"
            ).fetchone()[0]
            == 0
        )


def test_backups_started_in_the_same_second_each_get_their_own_file(estate, tmp_path):
    runs = [propfee("backup", db_path=estate, cwd=tmp_path, wait=False) for _ in range(3)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0], [r.stderr.read() for r in runs]
    made = list((tmp_path / "backups").glob("propfee-*.db"))
    assert len(made) == 3
    for path in made:
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_file_size_limit_hit_mid_export_leaves_no_half_export(estate, db_path, tmp_path):
    before = dump(estate)
    out = tmp_path / "export"
    result = propfee(
        "export-all",
        str(out),
        "--raw",
        db_path=db_path,
        cwd=tmp_path,
        preexec_fn=file_limit(34 * 1024),
    )
    assert result.returncode == 1
    assert "未导出任何内容" in one_line(result.stderr)
    assert [p.name for p in out.iterdir()] == []
    intact(estate, before)


def damage_an_index(path: Path) -> None:
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA writable_schema = ON")
        raw.execute(
            "UPDATE sqlite_master SET sql = 'CREATE INDEX party_name ON party (id)' "
            "WHERE name = 'party_name'"
        )
        raw.commit()
    finally:
        raw.close()  # an open connection holds the file, and the restore would wait for it


def test_a_restore_over_a_damaged_database_waits_for_its_writer(estate, tmp_path):
    copy = tmp_path / "copy.db"
    assert propfee("backup", str(copy), db_path=estate, cwd=tmp_path).returncode == 0
    damage_an_index(estate)
    writer = subprocess.Popen(
        [sys.executable, "-c", COMMIT_LATER, str(estate)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "holding"
    result = propfee(
        "restore", str(copy), db_path=estate, cwd=tmp_path, env={"PROPFEE_BUSY_TIMEOUT": "30"}
    )
    assert writer.wait() == 0
    assert result.returncode == 0, result.stderr
    (kept,) = (tmp_path / "backups").glob("*before-restore-damaged.db")
    with sqlite3.connect(kept) as old:  # what the writer committed is in the kept copy
        assert (
            old.execute(
                "SELECT count(*) FROM meta WHERE key = 'written-during-restore'"
            ).fetchone()[0]
            == 1
        )
    assert propfee("check", db_path=estate, cwd=tmp_path).returncode == 0


def test_a_restore_never_replaces_a_file_that_is_not_a_database(estate, tmp_path):
    copy = tmp_path / "copy.db"
    assert propfee("backup", str(copy), db_path=estate, cwd=tmp_path).returncode == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("不是数据库\n", encoding="utf-8")
    result = propfee("restore", str(copy), db_path=notes, cwd=tmp_path)
    assert result.returncode == 1 and "不是 SQLite 数据库" in result.stderr
    assert notes.read_text(encoding="utf-8") == "不是数据库\n"


def test_a_restore_over_a_damaged_database_behind_a_link_replaces_the_file(estate, tmp_path):
    copy = tmp_path / "copy.db"
    assert propfee("backup", str(copy), db_path=estate, cwd=tmp_path).returncode == 0
    damage_an_index(estate)
    link = tmp_path / "link.db"
    link.symlink_to(estate)
    result = propfee("restore", str(copy), db_path=link, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert propfee("check", db_path=estate, cwd=tmp_path).returncode == 0
