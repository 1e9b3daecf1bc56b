"""Real processes: killed with SIGKILL at random moments, and run side by side.

A killed command leaves the database as it was before it or as after it, never in between;
`check` passes; running it again converges to the state of one clean run. Commands run at
once queue for the database: no duplicate bill, no lost payment, no "database is locked",
gapless receipts.
"""

import functools
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from statement_samples import wechat_bill

from propfee.payments import ledger
from propfee.store import db, pg

from conftest import PROP_FEE, propfee_process, published_fees, sibling, write_csv

pytestmark = pytest.mark.slow
UNITS = 1500
TRIALS = int(os.environ.get("PROPFEE_CRASH_TRIALS", "20"))
#: on a server: fewer, each killed only once the command has begun writing (seen from the
#: server), so about half of them land inside its transaction and every one of those counts
TRIALS_PG = int(os.environ.get("PROPFEE_CRASH_TRIALS_PG", "10"))


propfee = propfee_process


def propfee_on(database, *args: str, cwd: Path):
    """propfee in a process of its own on a database of either engine (a trial's copy)."""
    return propfee(*args, db_path=database, cwd=cwd)


def build_estate(db_path, folder: Path) -> None:
    """UNITS homes, priced, published and billed for November 2026."""
    rows = [["房号", "建筑面积", "业主", "手机号"]] + [
        [f"9-1-{i:04d}", "88.50", f"业主{i}", f"1380000{i:04d}"] for i in range(UNITS)
    ]
    roster = write_csv(folder / "roster.csv", rows)
    for args in (
        ["import-units", str(roster), "--as-of", "2026-10-01"],
        PROP_FEE,
        published_fees(folder),
        ["bill", "--period", "2026-11", "--as-of", "2026-11-01"],
    ):
        result = propfee(*args, db_path=db_path, cwd=folder)
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The folder the commands run in, what builds the module's estate (once per engine:
    each test and each trial is given a copy of it, see conftest's ``estate_copy``), and a
    WeChat export paying for every one of its homes."""
    folder = tmp_path_factory.mktemp("crash")
    lines = [
        (
            f"2026-11-{10 + i % 15:02d} 10:00:00",
            f"业主{i}",
            f"{i} 9-1-{i:04d}物业费",
            "收入",
            "221.25",
            "已存入零钱",
            f"1000050001202611{i:016d}",
            "/",
        )
        for i in range(UNITS)
    ]
    statement = wechat_bill(folder / "wechat.csv", lines)
    return folder, functools.partial(build_estate, folder=folder), statement


def ledger_state(path: Path) -> dict:
    """What a command writes, without the wall-clock timestamps."""
    conn = db.connect(path)
    try:
        return {
            "bills": [
                tuple(r)
                for r in conn.execute(
                    "SELECT unit_id, fee_item_id, party_id, period, seq, covers_from, covers_to, "
                    "due_on, amount_fen, settled_on FROM bill ORDER BY id"
                )
            ],
            "payments": [
                tuple(r)
                for r in conn.execute(
                    "SELECT receipt_no, unit_id, amount_fen, channel, ref, paid_on FROM payment "
                    "ORDER BY id"
                )
            ],
            # the payment and the bill by what they are, not by their ids: a server's id
            # sequence is not rolled back with a killed command's transaction
            "allocations": [
                tuple(r)
                for r in conn.execute(
                    "SELECT p.receipt_no, b.unit_id, b.fee_item_id, b.period, b.seq, "
                    "a.amount_fen, a.allocated_on FROM allocation a "
                    "JOIN payment p ON p.id = a.payment_id JOIN bill b ON b.id = a.bill_id "
                    "ORDER BY a.id"
                )
            ],
            "problems": ledger.check(conn),
        }
    finally:
        conn.close()


def kill_at_random(
    command: list[str], cwd: Path, rng: random.Random, longest: float, writing=None
) -> tuple[float, bool]:
    """Run the command and kill it at a random moment within ``longest`` seconds of its start:
    when it was killed, and whether it had begun writing then. Given ``writing`` (whether it
    has begun to), the moment is drawn from what is left once it has."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    started = time.perf_counter()
    wrote = False
    if writing is not None:
        while proc.poll() is None and not (wrote := writing()):
            time.sleep(0.002)
    waited = time.perf_counter() - started
    time.sleep(rng.uniform(0.0, max(longest - waited, 0.0)))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return time.perf_counter() - started, wrote


@contextmanager
def watching_writes(database):
    """On a server: whether a command's transaction has begun writing to it (a session other
    than the watcher's holds a transaction id); None for an SQLite file."""
    if not pg.is_server(database):
        yield None
        return
    import psycopg

    with psycopg.connect(pg.split_target(str(database))[0], autocommit=True) as raw:

        def writing() -> bool:
            found = raw.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
            return found.fetchone()[0] > 0

        yield writing


def clean_run(template, estate_copy, database, *args) -> tuple[dict, float]:
    """What one clean run of the command leaves, and how long it takes."""
    folder, build, _ = template
    clean = estate_copy("crash", build, into=sibling(database, "clean"))
    started = time.perf_counter()
    result = propfee_on(clean, *args, cwd=folder)
    assert result.returncode == 0, result.stderr
    return ledger_state(clean), time.perf_counter() - started


@pytest.mark.parametrize("what", ["reconcile", "bill"])
def test_a_killed_command_leaves_nothing_half_done(template, estate_copy, database, engine, what):
    """On a server, TRIALS_PG trials (each copies the estate into a schema of its own), each
    killed once the command has begun writing."""
    folder, build, statement = template
    args = (
        ["reconcile", str(statement), "--as-of", "2026-12-01"]
        if what == "reconcile"
        else ["bill", "--from", "2026-12", "--through", "2027-03", "--as-of", "2026-11-20"]
    )
    before = ledger_state(estate_copy("crash", build))
    after, duration = clean_run(template, estate_copy, database, *args)
    assert after != before
    rng = random.Random(20261123 if what == "bill" else 7)
    outcomes = {"untouched": 0, "complete": 0, "mid-write": 0}
    for trial in range(TRIALS if engine == "lite" else TRIALS_PG):
        copy = estate_copy("crash", build, into=sibling(database, f"trial{trial}"))
        command = [sys.executable, "-m", "propfee", *args, "--db", str(copy)]
        with watching_writes(copy) as writing:
            moment, wrote = kill_at_random(command, folder, rng, duration * 1.1, writing)
        state = ledger_state(copy)
        assert state["problems"] == [], f"trial {trial} killed at {moment:.2f}s"
        if state == before:
            outcomes["untouched"] += 1
            outcomes["mid-write"] += wrote
        else:
            assert state == after, f"trial {trial} killed at {moment:.2f}s left a partial state"
            outcomes["complete"] += 1
        rerun = propfee_on(copy, *args, cwd=folder)
        assert rerun.returncode == 0, rerun.stderr
        assert ledger_state(copy) == after, f"trial {trial}: a re-run does not converge"
    assert outcomes["untouched"] > 0, outcomes  # some kills did land mid-command
    if engine == "pg":  # and, seen from the server, after the command had begun writing
        assert outcomes["mid-write"] > 0, outcomes


def test_bills_and_payments_at_once(template, estate_copy, tmp_path):
    folder, build, statement = template
    shared = estate_copy("crash", build)
    base = [sys.executable, "-m", "propfee"]
    other = wechat_bill(
        tmp_path / "other.csv",
        [
            (
                "2026-11-20 11:00:00",
                f"业主{i}",
                f"9-1-{i:04d}",
                "收入",
                "10.00",
                "已存入零钱",
                f"OTHER{i:08d}",
                "/",
            )
            for i in range(0, UNITS, 3)
        ],
    )
    commands = [
        [*base, "bill", "--from", "2026-12", "--through", "2027-01", "--as-of", "2026-11-20"],
        [*base, "bill", "--from", "2026-12", "--through", "2027-01", "--as-of", "2026-11-20"],
        [*base, "reconcile", str(statement), "--as-of", "2026-12-01", "--format", "json"],
        [*base, "reconcile", str(other), "--as-of", "2026-12-01", "--format", "json"],
    ] + [
        [*base, "pay", f"9-1-{i:04d}", "5", "--channel", "cash", "--as-of", "2026-12-01"]
        for i in range(8)
    ]
    procs = [
        subprocess.Popen(
            [*c, "--db", str(shared)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=folder,
        )
        for c in commands
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "locked" not in err
    conn = db.connect(shared)
    duplicates = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM bill GROUP BY unit_id, fee_item_id, period, seq "
        "HAVING count(*) > 1) AS twice"
    ).fetchone()[0]
    assert duplicates == 0
    assert conn.execute("SELECT count(*) FROM bill").fetchone()[0] == UNITS * 3
    payments = conn.execute("SELECT count(*) FROM payment").fetchone()[0]
    assert payments == UNITS + len(range(0, UNITS, 3)) + 8  # none lost
    assert ledger.check(conn) == []  # receipts gapless, every invariant holds
    conn.close()
