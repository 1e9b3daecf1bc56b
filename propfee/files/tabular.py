"""Read any table a user hands us — xlsx, xls, ods, csv/tsv in any common encoding, or the
HTML table many Chinese property systems save with an ``.xls`` name — as rows of cells
numbered the way the user sees them in Excel.

The kind of file is decided by its first bytes, not its name. Heavy readers are imported
inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from propfee.core.errors import FileFormatError, RowError, RowErrors
from propfee.core.i18n import _

Cells = list[object]


@dataclass
class Sheet:
    """One sheet: ``rows()`` yields ``(excel_row_number, cells)``; ``first_column`` is the
    zero-based column of ``cells[0]`` (so column letters can be shown)."""

    name: str
    nrows: int
    first_column: int
    rows: Callable[[], Iterator[tuple[int, Cells]]]
    hidden: bool = False
    cut: bool = False  # a text file whose last line has no line break: it may be truncated


def column_letter(index: int) -> str:
    """Zero-based column index to Excel letters: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_sheets(path: Path) -> list[Sheet]:
    """The worksheets of a file, hidden ones marked (a CSV or HTML file gives one or more
    pseudo-sheets)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise FileFormatError(_("{path}: no such file").format(path=path)) from None
    except IsADirectoryError:
        raise FileFormatError(_("{path}: is a directory, not a file").format(path=path)) from None
    except OSError as exc:
        raise FileFormatError(
            _("{path}: cannot be read ({error})").format(path=path, error=exc.strerror)
        ) from None
    if not head:
        raise FileFormatError(_("{path}: the file is empty").format(path=path))
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return _workbook_sheets(path)
    if head.startswith(b"PK"):
        raise FileFormatError(
            _("{path}: damaged or truncated spreadsheet (not a complete zip)").format(path=path)
        )
    data = path.read_bytes()
    text = decode_text(data, path)
    stripped = text.lstrip()[:2000].lower()
    if stripped.startswith("<") and ("<table" in text.lower() or "<html" in stripped):
        return _html_sheets(text, path)
    if stripped.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in stripped:
        raise FileFormatError(
            _(
                "{path}: an Excel 2003 XML spreadsheet; open it in Excel and save it as .xlsx"
            ).format(path=path)
        )
    if "\x00" in text[:4096]:
        raise FileFormatError(
            _("{path}: not a spreadsheet or CSV file (binary data)").format(path=path)
        )
    return [_csv_sheet(text, path)]


# ---------------------------------------------------------------- workbooks (calamine)


#: a workbook whose parts inflate past this is refused before it is read (a 1.5 MB file can
#: hold 1.5 GB of XML)
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024


def _check_inflated_size(path: Path) -> None:
    """Refuse an xlsx/ods whose zip parts, as the zip's directory declares them, inflate
    past the limit, before any part is inflated."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip (an .xls) or damaged: the reader says what is wrong
    if total > MAX_UNZIPPED_BYTES:
        raise FileFormatError(
            _(
                "{path}: {size} MB once unzipped, over the limit of {limit} MB: this does not "
                "look like a normal spreadsheet and was not read"
            ).format(
                path=path,
                size=f"{total / 1024 / 1024:,.0f}",
                limit=MAX_UNZIPPED_BYTES // 1024 // 1024,
            )
        )


_FORMULA_WITHOUT_VALUE = re.compile(rb"<f\b[^>]*(?:/>|>[^<]*</f>)\s*(<v\s*/>|<v>\s*</v>)?\s*</c>")
_CELL_REF = re.compile(rb'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>')


def _uncalculated(data: bytes):
    """The (column, row) of the first formula cell with no calculated value, or None. An
    empty value of a text formula (=IF(…,"",…) as Excel saves it) is a value."""
    for found in _FORMULA_WITHOUT_VALUE.finditer(data):
        cell = _CELL_REF.search(data, data.rfind(b"<c ", 0, found.start()))
        text_result = cell is not None and b't="str"' in cell[0]
        if found[1] is not None and text_result:
            continue
        return (cell[1].decode(), int(cell[2])) if cell else ("?", 0)
    return None


_FORMULA_START = re.compile(rb"<f\b")
#: a sheet's XML is looked through for formulas this much at a time
_PIECE = 1 << 20


def _may_hold_formulas(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether a sheet's XML holds ``<f`` (a formula's start), told a piece at a time: the
    usual sheet holds none, and is then never held whole in memory."""
    tail = b""
    with archive.open(name) as part:
        while piece := part.read(_PIECE):
            if _FORMULA_START.search(tail + piece):
                return True
            tail = piece[-2:]  # "<f" across two pieces
    return False


def _check_formulas_have_values(path: Path) -> None:
    """Refuse a workbook holding a formula that was never calculated (a file made by a
    program, not saved by Excel): it would read as an empty cell, an amount as nothing."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
            for name in parts:
                if not _may_hold_formulas(archive, name):
                    continue
                cell = _uncalculated(archive.read(name))
                if cell is None:
                    continue
                where = _("row {row} column {column}").format(row=cell[1], column=cell[0])
                raise FileFormatError(
                    _(
                        "{path}: {where} is a formula with no calculated value: open the file "
                        "in Excel, save it and import again"
                    ).format(path=path, where=where)
                )
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip (an .xls) or damaged: the reader says what is wrong


def _workbook_sheets(path: Path) -> list[Sheet]:
    import python_calamine as calamine  # heavy: loaded when needed

    _check_inflated_size(path)
    _check_formulas_have_values(path)
    try:
        with path.open("rb") as handle:
            workbook = calamine.CalamineWorkbook.from_filelike(handle)
    except calamine.PasswordError:
        raise FileFormatError(
            _("{path}: the workbook is password-protected").format(path=path)
        ) from None
    except (calamine.CalamineError, ValueError) as exc:
        raise FileFormatError(
            _("{path}: damaged or truncated spreadsheet ({error})").format(path=path, error=exc)
        ) from None
    except BaseException as exc:
        if not _panicked(exc):
            raise
        raise FileFormatError(
            _("{path}: damaged or truncated spreadsheet").format(path=path)
        ) from None
    sheets = []
    for meta in workbook.sheets_metadata:
        if str(meta.typ).rsplit(".", 1)[-1].lower() != "worksheet":
            continue
        hidden = str(meta.visible).rsplit(".", 1)[-1].lower() != "visible"
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
        except (calamine.CalamineError, ValueError) as exc:
            raise FileFormatError(
                _("{path} [{sheet}]: cannot be read ({error})").format(
                    path=path, sheet=meta.name, error=exc
                )
            ) from None
        except BaseException as exc:
            if not _panicked(exc):
                raise
            raise FileFormatError(
                _("{path} [{sheet}]: damaged or truncated sheet").format(path=path, sheet=meta.name)
            ) from None
        if sheet.start is None:
            continue  # an empty sheet
        one = _calamine_sheet(sheet)
        one.hidden = hidden
        sheets.append(one)
    if not sheets:
        raise FileFormatError(_("{path}: the workbook has no data").format(path=path))
    return sheets


def _panicked(exc: BaseException) -> bool:
    """python-calamine meets some damaged files (a truncated .xls) with a Rust panic, raised
    as ``PanicException``, a BaseException: a damaged file, not a crash."""
    return type(exc).__name__ == "PanicException"


def _calamine_sheet(sheet) -> Sheet:
    first_row, first_col = sheet.start
    merged = _merged_cells(sheet, first_col)

    def rows() -> Iterator[tuple[int, Cells]]:
        if not merged:  # the usual sheet: each row as calamine gives it, numbered from 1
            yield from itertools.islice(zip(itertools.count(1), sheet.iter_rows()), first_row, None)
            return
        anchors: dict[tuple[int, int], object] = {}
        for index, cells in enumerate(sheet.iter_rows()):
            if index < first_row:
                continue
            for column, anchor in merged.get(index, ()):
                if column >= len(cells):
                    continue
                if anchor == (index, column):
                    anchors[anchor] = cells[column]
                elif cells[column] == "":
                    cells[column] = anchors.get(anchor, "")
            yield index + 1, cells

    return Sheet(sheet.name, sheet.end[0] + 1, first_col, rows)


def _merged_cells(sheet, first_col: int) -> dict[int, list[tuple[int, tuple[int, int]]]]:
    """Per row, the cells inside merged ranges and the anchor cell each takes its value from
    (columns relative to the sheet's first column): a merged "1栋" spanning 50 rows reads as
    "1栋" in each of them, as the user sees it."""
    ranges = getattr(sheet, "merged_cell_ranges", None) or []
    by_row: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for (r0, c0), (r1, c1) in ranges:
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 1_000_000:
            continue
        anchor = (r0, c0 - first_col)
        for r in range(r0, r1 + 1):
            by_row.setdefault(r, []).extend((c - first_col, anchor) for c in range(c0, c1 + 1))
    return by_row


# ---------------------------------------------------------------- text files

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_text(data: bytes, path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, GBK/GB18030, or
    whatever charset-normalizer recognises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_cut(data, encoding) or data.decode(encoding, errors="replace")
    for encoding in ("utf-8", "gb18030"):
        text = _decode_cut(data, encoding)
        if text is not None:
            return text
    from charset_normalizer import from_bytes  # heavy: loaded when needed

    best = from_bytes(data).best()
    if best is None:
        raise FileFormatError(
            _("{path}: not a spreadsheet or a text file in a known encoding").format(path=path)
        )
    return str(best)


def _decode_cut(data: bytes, encoding: str) -> str | None:
    """The text, or None when it is not in this encoding. A file cut inside its last
    character gives the text before it (the cut line is then judged by whoever reads it)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) - 1 and exc.start >= len(data) - 4 and exc.start > 0:
            with contextlib.suppress(UnicodeDecodeError):
                return data[: exc.start].decode(encoding)
    return None


def _csv_sheet(text: str, path: Path) -> Sheet:
    if not text.strip():
        raise FileFormatError(_("{path}: the file is empty").format(path=path))
    delimiter = _sniff_delimiter(text)
    lines = text.count("\n") + 1

    unterminated = _unterminated_quote(text, delimiter)
    cut = not text.endswith(("\n", "\r"))

    def rows() -> Iterator[tuple[int, Cells]]:
        reader = csv.reader(_lines(text), delimiter=delimiter)
        widest, last = 0, None
        try:
            for number, cells in enumerate(reader, start=1):
                joined = "".join(cells)  # most rows hold no line break: one look at them all
                if number == unterminated or (
                    ("\n" in joined or "\r" in joined)
                    and any(("\n" in c or "\r" in c) and delimiter in c for c in cells)
                ):
                    raise _quote_error(path, number)
                if last is not None:
                    yield last
                widest = max(widest, len(cells))
                last = (number, cells)  # csv.reader gives a new list each row
            if last is not None:
                if cut and _maybe_cut(last[1], widest):
                    raise _cut_error(path, last[0])
                yield last
        except csv.Error as exc:
            raise FileFormatError(
                _("{path}: malformed CSV near line {line} ({error})").format(
                    path=path, line=reader.line_num, error=exc
                )
            ) from None

    return Sheet(path.name, lines, 0, rows, cut=not text.endswith(("\n", "\r")))


#: a line as ``io.StringIO(text, newline="")`` gives it: up to \r\n, \r or \n, kept
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The lines of a text one at a time, as a StringIO with ``newline=""`` reads them,
    without the StringIO's copy of the whole text (four bytes a character)."""
    return (match.group() for match in _LINE.finditer(text))


def _unterminated_quote(text: str, delimiter: str) -> int:
    """The row whose opening quote is never closed (it swallows the rest of the file), or 0.
    Only a file with an odd number of quotes is parsed a second time to find it."""
    if text.count('"') % 2 == 0:
        return 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, _row in enumerate(reader, start=1):  # noqa: B007
            pass
    except csv.Error as exc:
        if "end of data" in str(exc):
            return number + 1
    return 0


def _quote_error(path: Path, number: int) -> RowErrors:
    return RowErrors(
        [
            RowError(
                path.name,
                path.name,
                number,
                "",
                "",
                _(
                    'Unbalanced quotes: a cell opening with " has no closing quote and swallows '
                    "what follows; open the file in Excel and save it as CSV again"
                ),
            )
        ]
    )


def _maybe_cut(cells: Cells, widest: int) -> bool:
    """Whether a last line with no line break after it may have been cut: any line with data
    may have lost the end of a value or its last fields (a one-column file is left alone)."""
    return widest >= 2 and any(str(c).strip() for c in cells)


def _cut_error(path: Path, number: int) -> RowErrors:
    return RowErrors(
        [
            RowError(
                path.name,
                path.name,
                number,
                "",
                "",
                _(
                    "The last line has no line break after it and may have been cut (fields "
                    "missing or numbers shortened): use the complete original file; if it is "
                    "complete, add a line break at the end and import again"
                ),
            )
        ]
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the most lines into the same number of fields (preamble
    lines of one field, as payment apps write above the header, do not count)."""
    sample = [line for line in text.splitlines()[:80] if line.strip()]
    best, best_score = ",", -1
    for delimiter in (",", "\t", ";", "|"):
        counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        counts = [n for n in counts if n >= 2]
        if not counts:
            continue
        typical = max(set(counts), key=counts.count)
        score = counts.count(typical) * typical
        if score > best_score:
            best, best_score = delimiter, score
    return best


# ---------------------------------------------------------------- HTML tables saved as .xls


def _html_sheets(text: str, path: Path) -> list[Sheet]:
    class Tables(HTMLParser):
        """Collects every <table> as rows of cell texts. A colspan leaves the cells after the
        first blank (as a spreadsheet shows a merged header); a rowspan repeats the value
        down (as propfee reads a merged cell)."""

        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tables: list[list[list[str]]] = []
            self.stack: list[dict] = []
            self.cell: list[str] | None = None
            self.spans = (1, 1)

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.stack.append({"rows": [], "pending": {}})
            elif not self.stack:
                return
            elif tag == "tr":
                self._new_row()
            elif tag in ("td", "th"):
                if not self.stack[-1]["rows"]:
                    self._new_row()
                self.cell = []
                found = dict(attrs)
                self.spans = (_span(found.get("colspan")), _span(found.get("rowspan")))
            elif tag == "br" and self.cell is not None:
                self.cell.append("\n")

        def _new_row(self):
            table = self.stack[-1]
            table["rows"].append([])
            self._fill_pending()

        def _fill_pending(self):
            table = self.stack[-1]
            row = table["rows"][-1]
            while len(row) in table["pending"]:
                value, left = table["pending"].pop(len(row))
                row.append(value)
                if left > 1:
                    table["pending"][len(row) - 1] = (value, left - 1)

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.stack and self.cell is not None:
                table = self.stack[-1]
                row = table["rows"][-1]
                value = "".join(self.cell).strip()
                colspan, rowspan = self.spans
                for offset in range(colspan):
                    if rowspan > 1:
                        table["pending"][len(row)] = (value if offset == 0 else "", rowspan - 1)
                    row.append(value if offset == 0 else "")
                self.cell = None
                self._fill_pending()
            elif tag == "table" and self.stack:
                self.tables.append(self.stack.pop()["rows"])

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Tables()
    parser.feed(text)
    parser.close()
    tables = [t for t in parser.tables if any(any(c for c in row) for row in t)]
    if not tables:
        raise FileFormatError(_("{path}: an HTML page without a data table").format(path=path))
    sheets = []
    for number, table in enumerate(tables, start=1):

        def rows(table=table) -> Iterator[tuple[int, Cells]]:
            for index, cells in enumerate(table, start=1):
                yield index, list(cells)

        name = path.name if len(tables) == 1 else f"table {number}"
        sheets.append(Sheet(name, len(table), 0, rows))
    return sheets


def _span(value: str | None) -> int:
    return max(1, min(int(value), 10000)) if value and value.strip().isdigit() else 1


_SCI = re.compile(r"^\d(?:\.\d+)?[eE]\+\d+$")


def lost_digits(value: object) -> bool:
    """True for text such as ``1.89097E+10``: a long number saved in scientific notation by a
    spreadsheet, whose digits are gone."""
    return isinstance(value, str) and _SCI.match(value.strip()) is not None
