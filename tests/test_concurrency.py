"""Real processes at once on one database: they queue, never fail with "database is locked"."""

import subprocess
import sys

import pytest

from propfee.roster import units
from propfee.store import db

from conftest import new_database, write_csv

pytestmark = pytest.mark.slow


def big_roster(path, building, count):
    rows = [["楼号", "单元", "房间", "建筑面积", "业主", "手机号"]]
    for i in range(count):
        rows.append(
            [
                building,
                1 + i // 1000,
                100 + i % 1000,
                "88.50",
                f"业主{building}-{i}",
                f"138{building:02d}{i:06d}",
            ]
        )
    return write_csv(path, rows)


def test_two_imports_at_once_both_finish(engine, tmp_path, request):
    target = new_database(engine, tmp_path, request)
    files = [big_roster(tmp_path / f"b{b}.csv", b, 4000) for b in (1, 2)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "propfee", "import-units", str(f), "--db", str(target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for f in files
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert "locked" not in err
        assert "新增 4000" in out
    conn = db.connect(target)
    assert len(units.list_units(conn)) == 8000
    assert conn.execute("SELECT count(*) FROM occupancy").fetchone()[0] == 8000
    conn.close()


def test_the_same_import_twice_at_once_adds_each_unit_once(engine, tmp_path, request):
    target = new_database(engine, tmp_path, request)
    path = big_roster(tmp_path / "b.csv", 3, 3000)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "propfee",
                "import-units",
                str(path),
                "--db",
                str(target),
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for _ in range(2)
    ]
    import json

    reports = []
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
        reports.append(json.loads(p.stdout.read()))
    assert sorted(r["added"] for r in reports) == [0, 3000]
    assert sorted(r["unchanged"] for r in reports) == [0, 3000]
