"""Writing tables to .xlsx or .csv for people: Chinese headers, dates as dates, nothing that a
spreadsheet could run as a formula. Files are written to a temporary name and renamed, so a
crash never leaves half a file under the real name."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from propfee.errors import PropfeeError

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def check_output(path: Path, option: str) -> None:
    """An output file can be written: its folder exists and it is not itself a folder. Checked
    before a command writes anything, so a mistyped path never costs a half-done command."""
    if path.is_dir():
        raise PropfeeError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise PropfeeError(f"{option} {path}: folder {path.parent} does not exist")


def write_text(path: Path, text: str, *, option: str, encoding: str = "utf-8") -> None:
    """Write a text file under a temporary name and rename it; a failure is a user error
    naming the file (and, inside a command's transaction, rolls the command back)."""
    check_output(path, option)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".propfee-", suffix=path.suffix, dir=path.parent)
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise PropfeeError(f"{option} {path}: cannot write it ({exc.strerror or exc})") from None


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    sheet: str = "Sheet1",
    text_columns: Sequence[str] = (),
) -> None:
    """Write ``rows`` under ``headers`` to ``path`` (.xlsx or .csv, by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise PropfeeError(f"{path}: write .xlsx or .csv")
    if not path.parent.is_dir():
        raise PropfeeError(f"{path}: folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".propfee-", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            _write_csv(Path(tmp), headers, rows)
        else:
            _write_xlsx(Path(tmp), headers, rows, sheet, set(text_columns))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    # UTF-8 with BOM: Excel on a Chinese Windows opens it with the right characters.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(["" if v is None else neutralise(_text(v)) for v in row])


def _text(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_xlsx(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    sheet: str,
    text_columns: set[str],
) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    add_sheet(workbook, sheet, headers, rows, text_columns)
    workbook.save(path)


def add_sheet(
    workbook,
    sheet: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    text_columns: set[str] = frozenset(),
    *,
    limit: int | None = None,
) -> int:
    """Append a sheet to a write-only workbook: bold frozen headers, dates as dates, money
    with two places, formula-looking text neutralised. Stops after ``limit`` rows (Excel's
    sheet size) and returns how many it wrote."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = workbook.create_sheet(sheet)
    widths = [max(8, len(h) * 2 + 2) for h in headers]
    for i, width in enumerate(widths):
        ws.column_dimensions[_letter(i)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    text_index = {i for i, h in enumerate(headers) if h in text_columns}
    written = 0
    for row in rows:
        out = []
        for i, value in enumerate(row):
            if value is None or value == "":
                out.append(None)
            elif isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
                out.append(cell)
            elif isinstance(value, Decimal):
                cell = WriteOnlyCell(ws, value=value)
                if value.as_tuple().exponent == -2:  # money: always two places
                    cell.number_format = "#,##0.00"
                out.append(cell)
            elif isinstance(value, str):
                if i in text_index:
                    cell = WriteOnlyCell(ws, value=neutralise(value))
                    cell.number_format = "@"
                    out.append(cell)
                else:
                    out.append(neutralise(value))
            else:
                out.append(value)
        ws.append(out)
        written += 1
        if limit is not None and written >= limit:
            break
    return written


def _letter(index: int) -> str:
    from propfee.tabular import column_letter

    return column_letter(index)
