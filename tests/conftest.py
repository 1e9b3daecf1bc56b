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


from hypothesis import settings  # noqa: E402

settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
