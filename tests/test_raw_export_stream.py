"""The raw full export (``export-all --raw``) writes every table as it reads it: neither the
CSV writer nor the streaming workbook keeps rows, so what the export holds does not grow with
the estate's history. Measured with tracemalloc over ten times as many rows. (The readable
export's ``add_table`` keeps a bounded cache of cells it wrote, so it is not measured here.)"""

from __future__ import annotations

import csv
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from propfee.files import writers, xlsxstream

HEADERS = ["id", "房号", "period", "amount（元）", "due_on", "notes"]
FEW, MANY = 5_000, 50_000
# a row written out is 100-odd characters: kept, MANY rows would hold tens of MB more
MARGIN = 3 << 20


def _rows(count: int) -> Iterator[list]:
    for i in range(count):
        yield [
            i + 1,
            f"{i % 97 + 1}-{i % 5 + 1}-{i % 3001:04d}",
            f"2025-{i % 12 + 1:02d}",
            Decimal(i * 37 % 100_000) / 100 + Decimal("0.00"),
            date(2025, i % 12 + 1, 1),
            f"第{i}号账单，业主张三丰{i % 7}，备注 =SUM(A{i})" if i % 3 == 0 else None,
        ]


def _peak(write: Callable[[int], None], count: int) -> int:
    tracemalloc.start()
    try:
        write(count)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_csv_of_a_table_is_written_row_by_row(tmp_path: Path) -> None:
    def write(count: int) -> None:
        writers.write_table(tmp_path / f"t{count}.csv", HEADERS, _rows(count))

    few, many = _peak(write, FEW), _peak(write, MANY)
    assert many < few + MARGIN, (few, many)
    # and the file is whole: the same bytes as the CSV built in memory
    path = tmp_path / f"t{MANY}.csv"
    assert path.read_bytes() == writers.csv_text(HEADERS, _rows(MANY)).encode("utf-8")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert sum(1 for _ in csv.reader(handle)) == MANY + 1


def test_workbook_sheet_of_a_table_is_written_row_by_row(tmp_path: Path) -> None:
    def write(count: int) -> None:
        with xlsxstream.Workbook(tmp_path / f"t{count}.xlsx") as book:
            assert book.add_sheet("bill", HEADERS, _rows(count), text_columns={"房号"}) == count

    few, many = _peak(write, FEW), _peak(write, MANY)
    assert many < few + MARGIN, (few, many)
    with zipfile.ZipFile(tmp_path / f"t{MANY}.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count("<row ") == MANY + 1
    assert f'<row r="{MANY + 1}"><c><v>{MANY}</v></c>' in sheet
