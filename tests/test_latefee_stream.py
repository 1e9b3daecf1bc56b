"""``propfee latefee`` over a whole estate works the late fees out a few units at a time and
writes them as they go by: what it holds does not grow with the estate (tracemalloc over ten
times as many units), and every output — JSON compact and indented, CSV, ``--out`` .csv and
.xlsx — is what the listing held whole gives, byte for byte (the workbook cell for cell)."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import tracemalloc
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from propfee.cli import app, common, legal
from propfee.cli.common import Format
from propfee.collection import latefee
from propfee.config import DEFAULTS
from propfee.store import db
from propfee.store.db import transaction

from conftest import NOW, add_fee, estate, home, pay, run

pytestmark = pytest.mark.sqlite_only  # measured and compared on the file

MONTHS = [f"2026-{m:02d}" for m in range(1, 11)]
AS_OF = "2026-11-20"
CLAUSE = '[late_fee]\ndaily_rate = "0.0005"\n'


def _build(path: Path, folder: Path, units: int) -> Path:
    """``units`` homes billed January to October 2026, some paid late or in part, one with a
    late fee posted and then a payment entered since with an earlier date (a warning)."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = db.connect(path)
    try:
        estate(conn, folder, [home(f"1-{i // 10 + 1}-{i % 10 + 1:02d}01") for i in range(units)])
        add_fee(conn, "MGMT", price="300", basis="fixed")
        run(conn, *MONTHS, as_of=date(2026, 1, 1))
        pay(conn, "1-1-0101", 50000, date(2026, 3, 20))
        pay(conn, "1-1-0201", 30000, date(2026, 6, 1))
        settings = _clause()
        with transaction(conn):
            latefee.post(conn, "1-1-0301", as_of=date(2026, 11, 1), now=NOW, settings=settings)
        pay(conn, "1-1-0301", 300000, date(2026, 1, 10))
    finally:
        conn.close()
    return path


def _clause():
    return dataclasses.replace(
        DEFAULTS, late_fee=dataclasses.replace(DEFAULTS.late_fee, daily_rate="0.0005")
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("latefee-stream")
    toml = folder / "propfee.toml"
    toml.write_text(CLAUSE, encoding="utf-8")
    return _build(folder / "propfee.db", folder / "roster", 40), toml


def _invoke(database: Path, toml: Path, *args: str) -> tuple[bytes, str]:
    result = CliRunner().invoke(
        app,
        ["latefee", "--as-of", AS_OF, *args, "--db", str(database), "--config", str(toml)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes, result.stderr


@pytest.fixture
def held(monkeypatch):
    """Make the command hold the whole listing as it did: every line in a ``LateFeeList``,
    the JSON document and the CSV text built whole, the workbook through openpyxl."""

    def whole(conn, *, as_of, settings):
        return contextlib.nullcontext(latefee.LateFeeList(latefee.late_fees(
            conn, as_of=as_of, settings=settings
        )))  # fmt: skip

    def as_held():
        monkeypatch.setattr(legal.core, "SpooledLateFees", whole)
        monkeypatch.setattr(
            legal,
            "write_json_listing",
            lambda rows, as_of, **extra: common.write_json(
                common.listing(list(rows), as_of, **extra)
            ),
        )
        monkeypatch.setattr(
            legal,
            "print_csv_rows",
            lambda headers, rows, **kw: common.print_csv(headers, list(rows), **kw),
        )
        monkeypatch.setattr(legal, "STREAM_ROWS", 10**9)

    return as_held


class _Terminal:
    """``sys`` as ``common`` sees it with stdout a terminal (whatever stdout is just now)."""

    class _Stdout:
        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str):
            return getattr(sys.stdout, name)

    stdout = _Stdout()

    def __getattr__(self, name: str):
        return getattr(sys, name)


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_the_streamed_listing_is_the_held_one_byte_for_byte(
    small, held, monkeypatch, fmt, terminal
):
    database, toml = small
    monkeypatch.setattr(latefee, "BATCH_UNITS", 7)  # many batches, one cutting a building
    if terminal:  # a terminal: JSON indented
        monkeypatch.setattr(common, "sys", _Terminal())
    streamed, warned = _invoke(database, toml, "--format", fmt, "--wide")
    held()
    whole, warned_whole = _invoke(database, toml, "--format", fmt, "--wide")
    assert streamed == whole
    assert warned == warned_whole and "--kind correction" in warned
    if fmt == "json":
        assert streamed.startswith(b'{\n  "as_of": "2026-11-20",\n  "rows": [\n    {' if terminal
                                   else b'{"as_of":"2026-11-20","rows":[{')  # fmt: skip
        assert streamed.count(b'"bill"') == 40 * len(MONTHS)


def test_json_listing_writer_writes_what_write_json_does(monkeypatch, capsys):
    rows = [{"a": 1, "b": {"c": [1, 2], "d": "中文"}, "e": None}, {"a": 2, "b": {}, "e": []}]
    extra = {"total": {"x": "1.00", "y": []}, "clause": False, "when": date(2026, 1, 2)}
    monkeypatch.setattr(common, "JSON_ROWS", 1)  # a chunk a row
    for terminal in (False, True):
        monkeypatch.setattr(sys.stdout, "isatty", lambda terminal=terminal: terminal)
        for some in (rows, []):
            common.write_json(common.listing(some, "2026-11-20", **extra))
            expected = capsys.readouterr().out
            common.write_json_listing(iter(some), "2026-11-20", **extra)
            assert capsys.readouterr().out == expected
            common.write_json_listing(iter(some), "2026-11-20")
            common.write_json(common.listing(some, "2026-11-20"))
            one, other = capsys.readouterr().out.split("\n}\n" if terminal else "}\n", 1)
            assert (one + ("\n}\n" if terminal else "}\n")) == other


def _cells(path: Path) -> list[list[tuple]]:
    sheet = load_workbook(path).worksheets[0]
    rows = [
        [(c.value, c.number_format if c.value is not None else None, bool(c.font.b)) for c in row]
        for row in sheet.iter_rows()
    ]
    widths = [d.width for _, d in sorted(sheet.column_dimensions.items())]
    return [rows[0], *rows[2:]], widths, sheet.freeze_panes, sheet.print_title_rows


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_streamed_file_is_the_held_one(small, held, monkeypatch, tmp_path, suffix):
    database, toml = small
    monkeypatch.setattr(latefee, "BATCH_UNITS", 7)
    monkeypatch.setattr(legal, "STREAM_ROWS", 0)  # any .xlsx is written row by row
    monkeypatch.setattr(legal, "now", lambda: datetime(2026, 11, 20, 9, 30))
    streamed = tmp_path / f"streamed{suffix}"
    _invoke(database, toml, "--out", str(streamed), "--format", "json")
    held()
    whole = tmp_path / f"whole{suffix}"
    _invoke(database, toml, "--out", str(whole), "--format", "json")
    if suffix == ".csv":
        assert streamed.read_bytes() == whole.read_bytes()
        return
    assert _cells(streamed) == _cells(whole)
    assert len(_cells(streamed)[0]) == 3 + 40 * len(MONTHS) + 1  # title, header, rows, totals


def _peak(database: Path, toml: Path, out: Path) -> int:
    """The most memory traced while the command writes the whole estate's JSON to a file."""
    tracemalloc.start()
    try:
        with out.open("w", encoding="utf-8") as handle, contextlib.redirect_stdout(handle):
            legal.latefee(
                None, out=None, as_of=AS_OF, dry_run=False, wide=False, fmt=Format.json,
                db=str(database), config=toml, quiet=True,
            )  # fmt: skip
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_whole_estate_is_never_held(small, tmp_path, monkeypatch):
    database, toml = small
    larger = _build(tmp_path / "larger.db", tmp_path / "roster", 400)
    monkeypatch.setattr(latefee, "BATCH_UNITS", 20, raising=False)
    _peak(database, toml, tmp_path / "warm.json")  # modules, translations, caches loaded
    few = _peak(database, toml, tmp_path / "few.json")
    many = _peak(larger, toml, tmp_path / "many.json")
    # 4,000 lines held (a line, its JSON dict and text) would be 10 MB and more
    assert many < few + (2 << 20), (few, many)
    text = (tmp_path / "many.json").read_text(encoding="utf-8")
    assert text.count('"bill"') == 400 * len(MONTHS) and text.endswith('"cap_at_ceiling":true}\n')


def test_the_spool_reads_again_and_drops_its_file(small):
    database, _toml = small
    conn = db.connect(database, create=False)
    try:
        whole = latefee.late_fees(conn, as_of=date(2026, 11, 20), settings=_clause())
        with latefee.SpooledLateFees(conn, as_of=date(2026, 11, 20), settings=_clause()) as got:
            assert list(got) == whole and list(got) == whole  # read twice
            assert len(got) == len(whole)
            held = latefee.LateFeeList(whole)
            assert got.totals == held.totals and got.warnings == held.warnings
            assert len(got.warnings) == len(MONTHS)  # 1-1-0301 paid all before any was due
    finally:
        conn.close()
    assert got._file.closed
