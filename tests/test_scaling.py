"""Work that must stay linear in the estate's size: the number of SQL statements a command
runs does not grow with the number of units or parties (timings belong in bench/run.py)."""

from __future__ import annotations

import pytest

import propfee.cli.common

from conftest import PROP_FEE, write_csv

HEADER = ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"]


@pytest.fixture
def traced(monkeypatch):
    """Every SQL statement the command's connection runs, in order."""
    statements: list[str] = []
    connect = propfee.cli.common.connect

    def tracing(*args, **kwargs):
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(propfee.cli.common, "connect", tracing)
    return statements


def billed_estate(cli, folder, homes: int):
    """``homes`` units, each its own owner (one with no phone, one developer-held block of
    two units), billed for October (left unpaid: arrears) and November 2026; one owner paid
    more than both bills, so has credit left."""
    folder.mkdir()
    db = folder / "propfee.db"
    rows = [HEADER]
    for n in range(homes):
        phone = "" if n == 1 else f"139{n:08d}"
        rows.append([f"1-1-{101 + n}", "住宅", "89.37", f"业主{n:03d}", phone, "2020-01-01"])
    rows.append(["9-1-101", "住宅", "100", "", "", ""])  # the developer's, not delivered
    rows.append(["9-1-102", "住宅", "100", "", "", ""])
    assert cli("import-units", str(write_csv(folder / "roster.csv", rows)), db=db).exit_code == 0
    assert cli(*PROP_FEE, db=db).exit_code == 0
    published = cli(
        "fees", "publish", "--out", str(folder), "--recorded-later",
        "--published-on", "2020-01-01", "--evidence", "公示照片 IMG_0231.jpg", db=db,
    )  # fmt: skip
    assert published.exit_code == 0
    for month in ("2026-10", "2026-11"):
        billed = cli("bill", "--period", month, "--as-of", f"{month}-01", db=db)
        assert billed.exit_code == 0, billed.output
    paid = cli(
        "pay", "1-1-101", "500", "--channel", "cash", "--date", "2026-11-02",
        "--as-of", "2026-11-02", db=db,
    )  # fmt: skip
    assert paid.exit_code == 0, paid.output
    return db


def notice_statements(cli, traced, tmp_path, homes: int) -> tuple[int, str]:
    db = billed_estate(cli, tmp_path / f"estate-{homes}", homes)
    traced.clear()
    out = tmp_path / f"notices-{homes}"
    result = cli(
        "notices", "--period", "2026-11", "--as-of", "2026-11-20", "--out", str(out), db=db
    )
    assert result.exit_code == 0, result.output
    assert f"{homes + 1} notices" in result.stdout
    return len(traced), (out / "缴费通知单-2026-11.html").read_text(encoding="utf-8")


def test_notices_run_the_same_statements_for_4_or_24_homes(cli, traced, tmp_path):
    small, _ = notice_statements(cli, traced, tmp_path, 4)
    large, html = notice_statements(cli, traced, tmp_path, 24)
    # a query per party (its arrears, its credit) made a run of 20,000 homes take minutes
    assert large == small
    # and the batched reading still finds each party's arrears and credit
    assert html.count('<section class="notice">') == 25
    assert html.count("往期未缴：") == 24  # October is unpaid for every party but 1-1-101…
    assert html.count("预存余额") == 1  # …whose ¥500 paid October and November (¥223.43 each)
    assert "预存余额 ¥53.14" in html
    assert "9-1-101、9-1-102" in html  # the developer's two units on one notice
