from __future__ import annotations

import csv
import os
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from propfee import db
from propfee.cli import app

AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 9, 30, 0)


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No test sees the user's environment, home directory or working directory."""
    for var in (
        "PROPFEE_DB",
        "PROPFEE_CONFIG",
        "PROPFEE_OPERATOR",
        "PROPFEE_DEBUG",
        "PROPFEE_BUSY_TIMEOUT",
    ):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "propfee.db"


@pytest.fixture
def conn(db_path):
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner, db_path):
    """Run a propfee command against the test database: cli("units", "list")."""

    def run(*args: str, db: Path | None = None):
        return runner.invoke(app, [*args, "--db", str(db or db_path)], catch_exceptions=False)

    return run


def write_xlsx(
    path: Path,
    rows: list[list[object]],
    *,
    sheet: str = "Sheet1",
    merges: tuple[str, ...] = (),
    more_sheets: dict | None = None,
) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    for merge in merges:
        ws.merge_cells(merge)
    for name, (extra_rows, state) in (more_sheets or {}).items():
        other = wb.create_sheet(name)
        other.sheet_state = state
        for row in extra_rows:
            other.append(row)
    wb.save(path)
    return path


def write_csv(
    path: Path, rows: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def dump(path: Path) -> list[str]:
    """Every row of every table, to compare a database before and after a command."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def valid_id(prefix: str = "620102", born: str = "19800101", seq: str = "123") -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    body = prefix + born + seq
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


# ---------------------------------------------------------------- a small billed estate

ESTATE_HEADER = [
    "房号",
    "房屋类型",
    "建筑面积",
    "业主",
    "手机号",
    "交付日期",
    "租户",
    "缴费方",
    "入住状态",
]


def estate(conn, tmp_path, rows, *, as_of=date(2026, 10, 1)):
    """Import roster rows (see ``home``) into the test database."""
    from propfee import roster

    path = write_csv(
        tmp_path / f"roster-{len(list(tmp_path.iterdir()))}.csv", [ESTATE_HEADER, *rows]
    )
    roster.import_roster(conn, path, as_of=as_of, now=NOW)


def home(
    code,
    area="89.37",
    owner="张三",
    delivered="2020-01-01",
    kind="住宅",
    tenant="",
    payer="",
    vacant="",
    phone="",
):
    return [code, kind, area, owner, phone, delivered, tenant, payer, vacant]


def add_fee(
    conn,
    code="PROP",
    *,
    price="2.50",
    basis="area",
    kinds=("residential",),
    cycle="monthly",
    start=date(2020, 1, 1),
    publish_on=date(2020, 1, 1),
    **extra,
):
    """Add a fee item and (unless publish_on is None) publish it."""
    from propfee import fees
    from propfee.config import DEFAULTS

    with db.transaction(conn):
        fees.add_item(
            conn,
            code=code,
            name={
                "PROP": "物业服务费",
                "SHOP": "商业物业服务费",
                "PARK": "停车服务费",
                "WATER": "水费",
            }.get(code, code),
            basis=basis,
            price=price,
            kinds=list(kinds),
            cycle=cycle,
            effective_from=start,
            now=NOW,
            **extra,
        )
        if publish_on is not None:
            fees.publish(conn, as_of=publish_on, now=NOW, settings=DEFAULTS, out_dir=None)


def run(conn, *months, settings=None, as_of=date(2026, 11, 1), items=None, dry_run=False):
    """A bill run for months given as "YYYY-MM"."""
    from propfee import billing
    from propfee.config import DEFAULTS

    with db.transaction(conn, dry_run=dry_run):
        return billing.run_bills(
            conn,
            months=[date.fromisoformat(m + "-01") for m in months],
            as_of=as_of,
            now=NOW,
            settings=settings or DEFAULTS,
            item_codes=items,
        )


def settings_replace(**billing_values):
    """The default settings with some billing settings changed."""
    import dataclasses

    from propfee.config import DEFAULTS

    return dataclasses.replace(
        DEFAULTS, billing=dataclasses.replace(DEFAULTS.billing, **billing_values)
    )


def bills(conn, code=None):
    """(unit, item, period, seq, from, to, fen, party, due) of every bill."""
    sql = (
        "SELECT u.code, f.code, b.period, b.seq, b.covers_from, b.covers_to, b.amount_fen, "
        "coalesce(p.name, ''), b.due_on FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id"
    )
    params = ()
    if code:
        sql += " WHERE u.code = ?"
        params = (code,)
    return [
        tuple(r) for r in conn.execute(sql + " ORDER BY u.code, f.code, b.period, b.seq", params)
    ]


from hypothesis import settings  # noqa: E402

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
