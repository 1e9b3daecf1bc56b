"""A reminder run keeps its statement journal in memory (``transaction(journal_in_memory=…)``):
what each batched insert keeps to undo itself halfway is never written to a temporary file,
and the connection is left as it was."""

import os
import random
from pathlib import Path

import pytest

from propfee.collection import dunning
from propfee.store import db

pytestmark = [
    pytest.mark.sqlite_only,  # the temporary files of the SQLite engine
    pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="open files read from /proc"),
]


def _temp_files() -> list[str]:
    """The temporary files SQLite holds open in this process (it deletes each as it opens
    it, so only the open descriptors show them)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if "etilqs_" in target:
            found.append(target)
    return found


def _temp_store(conn) -> int:
    return conn.execute("PRAGMA temp_store").fetchone()[0]


def _insert_scattered(conn, rng: random.Random, count: int) -> None:
    """One statement of ``count`` rows whose index keys fall all over the index: it changes
    many pages that were there before it, which its journal keeps."""
    rows = [(rng.randrange(10**9), "内容" * 20) for _ in range(count)]
    conn.execute(
        "INSERT INTO scratch (k, body) VALUES " + ", ".join(["(?, ?)"] * count),
        [value for row in rows for value in row],
    )


@pytest.fixture
def scratch(conn):
    conn.execute(
        "CREATE TABLE scratch (id INTEGER PRIMARY KEY, k INTEGER NOT NULL CHECK (k >= 0), "
        "body TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX scratch_k ON scratch (k)")
    rng = random.Random(20)
    with db.transaction(conn):
        for _ in range(50):
            _insert_scattered(conn, rng, 400)
    return rng


def test_a_statement_journal_is_held_in_memory_only_when_asked(conn, scratch):
    with db.transaction(conn):
        _insert_scattered(conn, scratch, 400)
        on_file = _temp_files()
    assert on_file, "the check sees the journal of a plain transaction in its temporary file"
    assert _temp_files() == []  # closed with the transaction

    with db.transaction(conn, journal_in_memory=True):
        _insert_scattered(conn, scratch, 400)
        assert _temp_files() == []
        assert _temp_store(conn) == 2
    assert _temp_store(conn) == 0  # the next command's connection as it was
    assert conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 52 * 400


def test_in_memory_a_failed_statement_still_undoes_itself_and_the_run_rolls_back(conn, scratch):
    with pytest.raises(Exception, match="CHECK"), db.transaction(conn, journal_in_memory=True):
        _insert_scattered(conn, scratch, 400)
        try:
            conn.execute("INSERT INTO scratch (k, body) VALUES (1, 'a'), (2, 'b'), (-1, 'c')")
        finally:
            # the statement's first two rows went with it; the one before it stays
            assert conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 51 * 400
    assert conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 50 * 400
    assert _temp_store(conn) == 0


def test_a_reminder_run_inserts_its_contacts_with_the_journal_in_memory(
    history, cli, tmp_path, monkeypatch
):
    seen = []
    insert = dunning.store.insert_remind_contacts

    def watched(conn, rows):
        seen.append((_temp_store(conn), len(rows)))
        insert(conn, rows)

    monkeypatch.setattr(dunning.store, "insert_remind_contacts", watched)
    result = cli("remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert seen and all(store == 2 for store, _rows in seen)
    assert sum(rows for _store, rows in seen) == len(
        [c for c in dunning.list_contacts(history) if c.source == "remind"]
    )
    assert _temp_store(history) == 0
