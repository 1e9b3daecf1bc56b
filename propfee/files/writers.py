"""Writing tables to .xlsx or .csv for people: Chinese headers, dates as dates, nothing that a
spreadsheet could run as a formula. Files are written to a temporary name and renamed, so a
crash never leaves half a file under the real name; the temporary name is made private (mode
0600), so every file written here — they hold owners' personal data — stays the owner's.

Every CSV propfee writes, to a file or to stdout, is made by ``csv_text``: UTF-8 with a BOM
(Excel on a Chinese Windows reads it right), CRLF line ends, every text cell that starts
with ``= + - @``, a tab or a CR prefixed with an apostrophe, and control characters shown as
visible symbols (``visible``: CSV on stdout often lands on a terminal). Numbers stay numbers: a value
that is a number (``int``, ``Decimal``) is never touched, and in a column declared numeric a
text cell that is only a number (``-12.50``, ``1,234``, ``-¥3.00``, ``12.5%``) is left as it
is, so a refund or a negative balance still reads as a negative amount. Anything else in a
numeric column (``-1+1``) is neutralised like text."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.files.tabular import column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a text cell that is only a number: a spreadsheet reads it as that number, never a formula
PLAIN_NUMBER = re.compile(r"-?¥?\d[\d,]*(?:\.\d+)?%?")


# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that can
# make a name read backwards
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␍ for CR: visible, and inert
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def visible(text: str) -> str:
    """``text`` with every control character (an escape sequence's ESC, a CR, a bell) shown
    as a visible symbol (␛, ␍, ␇) instead of being obeyed by a terminal; a CR-LF line end
    becomes a newline. Tabs and newlines are kept."""
    return CONTROLS.sub(_picture, text.replace("\r\n", "\n"))


def neutralise(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value: object, *, number: bool = False) -> str:
    """One CSV cell: dates in ISO form, ``None`` empty, text neutralised; in a numeric column
    (``number``) a cell that is only a number is kept as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal | float):
        return str(value)
    text = str(value)
    if number and PLAIN_NUMBER.fullmatch(text):
        return text
    return visible(str(neutralise(text)))


def csv_text(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    number_columns: Iterable[int] = (),
) -> str:
    """The one CSV propfee writes, to a file or to stdout: a BOM, the headers, the rows
    (``csv_cell``), CRLF line ends. ``number_columns`` are the indexes of numeric columns."""
    handle = io.StringIO()
    write_csv_rows(handle, headers, rows, number_columns=number_columns)
    return handle.getvalue()


def write_csv_rows(
    handle: TextIO,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    number_columns: Iterable[int] = (),
) -> None:
    """``csv_text`` written into ``handle`` (opened with ``newline=""``) a row at a time, so
    a table of any length is never held whole."""
    numeric = set(number_columns)
    handle.write("\ufeff")
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in headers])
    for row in rows:
        writer.writerow([csv_cell(v, number=i in numeric) for i, v in enumerate(row)])


def write_csv(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    option: str = "--out",
    number_columns: Iterable[int] = (),
) -> None:
    """``csv_text`` written to ``path`` under a temporary name and renamed into place."""
    write_text(path, csv_text(headers, rows, number_columns=number_columns), option=option)


def check_output(path: Path, option: str) -> None:
    """An output file can be written: its folder exists and it is not itself a folder. Checked
    before a command writes anything, so a mistyped path never costs a half-done command."""
    if path.is_dir():
        raise PropfeeError(
            _("{option} {path}: is a folder; give a file name").format(option=option, path=path)
        )
    if not path.parent.is_dir():
        raise PropfeeError(
            _("{option} {path}: folder {folder} does not exist").format(
                option=option, path=path, folder=path.parent
            )
        )


def _cannot_write(option: str, path: Path, exc: OSError) -> str:
    return _("{option} {path}: cannot write it ({error})").format(
        option=option, path=path, error=exc.strerror or exc
    )


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
        raise PropfeeError(_cannot_write(option, path, exc)) from None


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    sheet: str = "Sheet1",
    text_columns: Sequence[str] = (),
) -> None:
    """Write ``rows`` under ``headers`` to ``path`` (.xlsx or .csv, by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise PropfeeError(_("{path}: write .xlsx or .csv").format(path=path))
    if not path.parent.is_dir():
        raise PropfeeError(
            _("{path}: folder {folder} does not exist").format(path=path, folder=path.parent)
        )
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


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv_rows(handle, headers, rows)  # streamed: the full export's tables are long


def _write_xlsx(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    sheet: str,
    text_columns: set[str],
) -> None:
    from openpyxl import Workbook  # heavy: loaded when needed

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
    return _fill_sheet(workbook.create_sheet(sheet), headers, rows, text_columns, {}, limit)


def _fill_sheet(
    ws,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    text_columns: set[str],
    formats: dict[str, str],
    limit: int | None = None,
) -> int:
    from openpyxl.cell import WriteOnlyCell  # heavy: loaded when needed
    from openpyxl.styles import Font

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
    format_of = {i: formats[h] for i, h in enumerate(headers) if h in formats}
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
                if i in format_of:
                    cell.number_format = format_of[i]
                elif value.as_tuple().exponent == -2:  # money: always two places
                    cell.number_format = "#,##0.00"
                out.append(cell)
            elif isinstance(value, str):
                # a control character cannot be stored in a worksheet: shown as a symbol
                text = visible(str(neutralise(value)))
                if i in text_index:
                    cell = WriteOnlyCell(ws, value=text)
                    cell.number_format = "@"
                    out.append(cell)
                else:
                    out.append(text)
            else:
                out.append(value)
        ws.append(out)
        written += 1
        if limit is not None and written >= limit:
            break
    return written


@dataclass
class Sheet:
    """One sheet of a workbook; with ``chart``, a line chart of some columns over the rows."""

    name: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    formats: dict[str, str] = field(default_factory=dict)  # header -> Excel number format
    chart: LineChartSpec | None = None


@dataclass
class LineChartSpec:
    title: str
    categories: str  # the header of the column along the x axis
    series: Sequence[str]  # the headers of the columns drawn as lines
    y_title: str = ""
    y_format: str = "General"
    anchor: str = "H2"


def write_workbook(path: Path, sheets: Sequence[Sheet], *, option: str = "--out") -> None:
    """Several sheets (with charts) in one .xlsx, written under a temporary name and renamed."""
    from openpyxl import Workbook  # heavy: loaded when needed
    from openpyxl.chart import LineChart, Reference

    if path.suffix.lower() != ".xlsx":
        raise PropfeeError(_("{option} {path}: write .xlsx").format(option=option, path=path))
    check_output(path, option)
    workbook = Workbook(write_only=True)
    for spec in sheets:
        ws = workbook.create_sheet(spec.name)
        _fill_sheet(ws, spec.headers, spec.rows, set(), dict(spec.formats))
        chart_spec = spec.chart
        if chart_spec is None or not spec.rows:
            continue
        chart = LineChart()
        chart.title = chart_spec.title
        chart.y_axis.title = chart_spec.y_title
        chart.y_axis.number_format = chart_spec.y_format
        chart.y_axis.delete = False
        chart.x_axis.delete = False
        chart.width, chart.height = 22, 11
        last_row = len(spec.rows) + 1
        for header in chart_spec.series:
            column = list(spec.headers).index(header) + 1
            chart.add_data(
                Reference(ws, min_col=column, min_row=1, max_row=last_row), titles_from_data=True
            )
        category = list(spec.headers).index(chart_spec.categories) + 1
        chart.set_categories(Reference(ws, min_col=category, min_row=2, max_row=last_row))
        ws.add_chart(chart, chart_spec.anchor)
    save_workbook(workbook, path, option=option)


def copy_private(source: Path, path: Path, *, option: str = "--out") -> None:
    """Copy a file that holds personal data: under a temporary name (mode 0600, the owner
    only) renamed into place."""
    check_output(path, option)
    fd, tmp = tempfile.mkstemp(prefix=".propfee-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PropfeeError(_cannot_write(option, path, exc)) from None


def save_workbook(workbook, path: Path, *, option: str = "--out") -> None:
    """Save an openpyxl workbook under a temporary name and rename it into place; a failure
    is a user error naming the file, and leaves nothing behind."""
    fd, tmp = tempfile.mkstemp(prefix=".propfee-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PropfeeError(_cannot_write(option, path, exc)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _letter(index: int) -> str:
    return column_letter(index)
