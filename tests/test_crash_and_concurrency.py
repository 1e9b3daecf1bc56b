"""Real processes: killed with SIGKILL at random moments, and run side by side.

A killed command leaves the database as it was before it or as after it, never in between;
`check` passes; running it again converges to the state of one clean run. Commands run at
once queue for the database: no duplicate bill, no lost payment, no "database is locked",
gapless receipts.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from statement_samples import wechat_bill

from propfee.payments import ledger
from propfee.store import db

from conftest import PROP_FEE, propfee_process, write_csv

pytestmark = pytest.mark.slow
UNITS = 1500
TRIALS = int(os.environ.get("PROPFEE_CRASH_TRIALS", "20"))


propfee = propfee_process


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """An estate of UNITS homes, priced, published and billed for November 2026, and a WeChat
    export paying for every one of them."""
    folder = tmp_path_factory.mktemp("crash")
    path = folder / "template.db"
    rows = [["房号", "建筑面积", "业主", "手机号"]] + [
        [f"9-1-{i:04d}", "88.50", f"业主{i}", f"1380000{i:04d}"] for i in range(UNITS)
    ]
    for args in (
        ["import-units", str(write_csv(folder / "roster.csv", rows)), "--as-of", "2026-10-01"],
        PROP_FEE,
        ["fees", "publish", "--out", str(folder), "--recorded-later", "--published-on", "2020-01-01", "--evidence", "公示照片 IMG_0231.jpg"],
        ["bill", "--period", "2026-11", "--as-of", "2026-11-01"],
    ):
        result = propfee(*args, db_path=path, cwd=folder)
        assert result.returncode == 0, result.stderr
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
    return folder, path, statement


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
            "allocations": [
                tuple(r)
                for r in conn.execute(
                    "SELECT payment_id, bill_id, amount_fen, allocated_on FROM allocation ORDER BY id"
                )
            ],
            "problems": ledger.check(conn),
        }
    finally:
        conn.close()


def kill_at_random(command: list[str], cwd: Path, rng: random.Random, longest: float) -> float:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    moment = rng.uniform(0.0, longest)
    time.sleep(moment)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return moment


def clean_run(template, tmp_path, *args) -> dict:
    folder, path, _ = template
    clean = tmp_path / "clean.db"
    shutil.copyfile(path, clean)
    started = time.perf_counter()
    result = propfee(*args, db_path=clean, cwd=folder)
    assert result.returncode == 0, result.stderr
    return ledger_state(clean), time.perf_counter() - started


@pytest.mark.parametrize("what", ["reconcile", "bill"])
def test_a_killed_command_leaves_nothing_half_done(template, tmp_path, what):
    folder, path, statement = template
    args = (
        ["reconcile", str(statement), "--as-of", "2026-12-01"]
        if what == "reconcile"
        else ["bill", "--from", "2026-12", "--through", "2027-03", "--as-of", "2026-11-20"]
    )
    before = ledger_state(path)
    after, duration = clean_run(template, tmp_path, *args)
    assert after != before
    rng = random.Random(20261123 if what == "bill" else 7)
    outcomes = {"untouched": 0, "complete": 0}
    for trial in range(TRIALS):
        copy = tmp_path / f"trial{trial}.db"
        shutil.copyfile(path, copy)
        command = [sys.executable, "-m", "propfee", *args, "--db", str(copy)]
        moment = kill_at_random(command, folder, rng, duration * 1.1)
        state = ledger_state(copy)
        assert state["problems"] == [], f"trial {trial} killed at {moment:.2f}s"
        if state == before:
            outcomes["untouched"] += 1
        else:
            assert state == after, f"trial {trial} killed at {moment:.2f}s left a partial state"
            outcomes["complete"] += 1
        rerun = propfee(*args, db_path=copy, cwd=folder)
        assert rerun.returncode == 0, rerun.stderr
        assert ledger_state(copy) == after, f"trial {trial}: a re-run does not converge"
    assert outcomes["untouched"] > 0, outcomes  # some kills did land mid-command


def test_bills_and_payments_at_once(template, tmp_path):
    folder, path, statement = template
    shared = tmp_path / "shared.db"
    shutil.copyfile(path, shared)
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
        "HAVING count(*) > 1)"
    ).fetchone()[0]
    assert duplicates == 0
    assert conn.execute("SELECT count(*) FROM bill").fetchone()[0] == UNITS * 3
    payments = conn.execute("SELECT count(*) FROM payment").fetchone()[0]
    assert payments == UNITS + len(range(0, UNITS, 3)) + 8  # none lost
    assert ledger.check(conn) == []  # receipts gapless, every invariant holds
    conn.close()
