"""A streaming .xlsx writer for big plain tables (the full export): rows go straight into the
zip as sheet XML, an order of magnitude faster than building cells with openpyxl, in constant
memory. It writes what a table needs and nothing else: bold frozen headers, column widths,
text, whole numbers, exact decimals (money with two places), dates. Every string is a text
cell (never a formula); one that looks like a formula is also quote-prefixed, as Excel does
when you type an apostrophe, so editing it does not turn it into one.

``add_table`` writes a sheet as ``workbook.write_book`` lays one out (title block, frozen bold
header printed on every page, typed cells by column kind, a bold totals row, notes, A4
landscape), for a readable table too long to build in openpyxl; ``write_table`` writes such a
one-sheet workbook (what ``workbook.write_table`` writes) from rows read again and again, never
held. Charts stay with openpyxl.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from xml.sax.saxutils import escape

from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.files import workbook
from propfee.files.workbook import BALANCE, CODE, DATE, HEADER_ROW, MONEY, NUMBER, RATE, TEXT
from propfee.files.writers import (
    FORMULA_STARTS,
    check_output,
    neutralise,
    save_workbook,
    visible,
)

# cell styles (indexes into cellXfs below)
_BOLD, _DATE, _MONEY, _TEXT, _DECIMAL4, _DATETIME, _QUOTED = 1, 2, 3, 4, 5, 6, 7
_TITLE, _NUMBER, _RATE, _BOLD_MONEY, _BOLD_TEXT, _BOLD_NUMBER = 8, 9, 10, 11, 12, 13
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="4"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="0.0000"/><numFmt numFmtId="166" formatCode="yyyy-mm-dd hh:mm:ss"/><numFmt numFmtId="167" formatCode="0.0%"/></numFmts>
<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="14"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="14">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>
<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="4" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_EPOCH = date(1899, 12, 30).toordinal()
_XML_BAD = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _text_cell(value: str, style: int = 0) -> str:
    value = escape(value.translate(_XML_BAD))
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    styled = f' s="{style}"' if style else ""
    return f'<c t="inlineStr"{styled}><is><t{space}>{value}</t></is></c>'


def _cell(value: object, text: bool) -> str:
    if value is None or value == "":
        return "<c/>"
    if isinstance(value, str):
        if value.startswith(FORMULA_STARTS):
            # a text cell already; quote-prefixed, editing it never turns it into a formula
            return _text_cell(value, _QUOTED)
        return _text_cell(value, _TEXT if text else 0)
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, Decimal):
        places = -value.as_tuple().exponent
        style = _MONEY if places == 2 else _DECIMAL4 if places == 4 else 0
        return f'<c s="{style}"><v>{value}</v></c>' if style else f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        serial = (
            value.toordinal()
            - _EPOCH
            + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        )
        return f'<c s="{_DATETIME}"><v>{serial}</v></c>'
    if isinstance(value, date):
        return f'<c s="{_DATE}"><v>{value.toordinal() - _EPOCH}</v></c>'
    if isinstance(value, float):
        return f"<c><v>{value!r}</v></c>"
    return _cell(str(value), text)


_KIND_STYLE = {MONEY: _MONEY, BALANCE: _MONEY, NUMBER: _NUMBER, RATE: _RATE}
_BOLDER = {0: _BOLD, _TEXT: _BOLD_TEXT, _MONEY: _BOLD_MONEY, _NUMBER: _BOLD_NUMBER}
_CACHED = 50_000  # distinct texts and days kept written per column (房号, names, periods repeat)


def _serial(value: date) -> str:
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return str(value.toordinal() - _EPOCH + seconds / 86400)
    return str(value.toordinal() - _EPOCH)


def readable_cell(value: object, kind: str, *, bold: bool = False) -> str:
    """One cell as the readable workbook (``workbook.write_book``) writes it in a column of
    ``kind``: a day written as text is a date, a number in a CODE column is text, text is
    neutralised and its control characters shown, money is ``#,##0.00``."""
    if value is None or (isinstance(value, str) and value == ""):
        return "<c/>"
    if kind == DATE and isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            kind = TEXT
    elif kind == DATE and isinstance(value, datetime):
        value = value.date()
    elif kind == CODE and not isinstance(value, str):
        value = str(value)
    style = 0
    if isinstance(value, str):
        style = _TEXT if kind == CODE else 0
        style = _BOLDER.get(style, style) if bold else style
        return _text_cell(visible(str(neutralise(value))), style)
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, date):
        return f'<c s="{_DATE}"><v>{_serial(value)}</v></c>'
    if isinstance(value, Decimal):
        shown = f"{value:f}"
    elif isinstance(value, int | float):
        shown = repr(value)
    else:
        return readable_cell(str(value), kind, bold=bold)
    style = _KIND_STYLE.get(kind, 0)
    style = _BOLDER.get(style, style) if bold else style
    return f'<c s="{style}"><v>{shown}</v></c>' if style else f"<c><v>{shown}</v></c>"


def readable_cells(kinds: Sequence[str]) -> list[Callable[[object], str]]:
    """A writer per column of ``kinds`` (``readable_cell``), quick for the common values: a
    money Decimal directly, a repeated text or day from what it wrote last time."""
    return [_money_writer() if k in (MONEY, BALANCE) else _cached_writer(k) for k in kinds]


def _money_writer() -> Callable[[object], str]:
    def write(value: object) -> str:
        if type(value) is Decimal:
            return f'<c s="{_MONEY}"><v>{value:f}</v></c>'
        return readable_cell(value, MONEY)

    return write


def _cached_writer(kind: str) -> Callable[[object], str]:
    written: dict[str, str] = {}

    def write(value: object) -> str:
        if type(value) is not str:
            return readable_cell(value, kind)
        cell = written.get(value)
        if cell is None:
            if len(written) >= _CACHED:
                written.clear()
            cell = written[value] = readable_cell(value, kind)
        return cell

    return write


def _frozen(rows: int) -> str:
    """A sheet view with its first ``rows`` rows frozen."""
    return (
        f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{rows}" '
        f'topLeftCell="A{rows + 1}" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
    )


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Callable[[], Iterable[Sequence[object]]],
    *,
    title: workbook.Title,
    sheet: str = "Sheet1",
    kinds: Mapping[str, str] | None = None,
    text_columns: Sequence[str] = (),
    totals: bool = True,
    notes: Sequence[str] = (),
    option: str = "--out",
) -> int:
    """The .xlsx ``workbook.write_table`` writes — the same cells, widths and totals row — for
    a table too long to hold, its rows got from ``rows()`` and never held: read first to find
    the kind of each column not declared (up to its first value, as ``column_kinds`` reads
    it), then for the widths (``WidestCells``) and the totals (``RunningTotals``), then to
    write the sheet. Saved as ``writers.save_workbook`` saves (a temporary name, renamed into
    place); returns the rows written."""
    if path.suffix.lower() != ".xlsx":
        raise PropfeeError(
            _("{option} {path}: write an .xlsx file").format(option=option, path=path)
        )
    check_output(path, option)
    declared = {**{h: CODE for h in text_columns}, **(kinds or {})}
    table_kinds = _column_kinds(sheet, headers, declared, rows)
    running = workbook.RunningTotals(table_kinds) if totals else None
    widest = workbook.WidestCells(table_kinds)
    for row in rows():
        if running is not None:
            running.add(row)
        widest.add(row)
    total = running.row() if running is not None else None
    widths = workbook.fitted_widths(headers, table_kinds, widest.rows(), total)
    streamed = _Streamed(
        partial(
            Workbook.add_table,
            name=workbook.sheet_name(sheet),
            headers=headers,
            kinds=table_kinds,
            widths=widths,
            title=title.lines(),
            total=total,
            notes=notes,
        ),
        rows,
    )
    save_workbook(streamed, path, option=option)
    return streamed.written


def _column_kinds(
    sheet: str,
    headers: Sequence[str],
    declared: Mapping[str, str],
    rows: Callable[[], Iterable[Sequence[object]]],
) -> list[str]:
    """``workbook.column_kinds`` of the rows, read only while a column not declared has shown
    no value yet (at most once)."""
    found: dict[int, object] = {}
    pending = {i for i, h in enumerate(headers) if h not in declared}
    if pending:
        for row in rows():
            for i in list(pending):
                value = row[i] if i < len(row) else None
                if not (value is None or value == "" or isinstance(value, workbook.Typed)):
                    found[i] = value
                    pending.discard(i)
            if not pending:
                break
    # a row for each column found, holding its first value alone
    first = [[found.get(i) if i == j else None for j in range(len(headers))] for i in found]
    return workbook.column_kinds(workbook.Table(sheet, headers, first, declared))


class _Streamed:
    """One sheet's workbook, written row by row when ``writers.save_workbook`` saves it."""

    def __init__(self, add, rows: Callable[[], Iterable[Sequence[object]]]) -> None:
        self.add, self.rows, self.written = add, rows, 0

    def save(self, path) -> None:
        with Workbook(path) as book:
            self.written = self.add(book, rows=self.rows())


class Workbook:
    """``with Workbook(path) as book: book.add_sheet(name, headers, rows)``."""

    def __init__(self, path) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[str] = []
        self._print_titles: dict[int, int] = {}  # sheet number -> its header row, on every page

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind, *_rest) -> None:
        if kind is None:
            self.close()
        else:
            self._zip.close()

    def add_sheet(
        self,
        name: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        text_columns: Iterable[str] = (),
        limit: int | None = None,
    ) -> int:
        """Write a sheet; stop after ``limit`` rows and return how many were written."""
        text = {i for i, h in enumerate(headers) if h in set(text_columns)}
        written = 0
        widths = [max(8, len(header) * 2 + 2) for header in headers]
        with self._sheet(name, _frozen(1), widths) as out:
            out.write('<sheetData><row r="1">')
            out.write("".join(_text_cell(str(h), _BOLD) for h in headers))
            out.write("</row>")
            plain = [i not in text for i in range(len(headers))]
            for row in rows:
                written += 1
                cells = "".join(
                    _cell(value, not plain[i] if i < len(plain) else False)
                    for i, value in enumerate(row)
                )
                out.write(f'<row r="{written + 1}">{cells}</row>')
                if limit is not None and written >= limit:
                    break
            out.write("</sheetData></worksheet>")
        return written

    def add_table(
        self,
        name: str,
        headers: Sequence[str],
        rows: Iterable[Sequence[object]],
        *,
        kinds: Sequence[str],
        widths: Sequence[float],
        title: tuple[str, str],
        total: Sequence[object] | None = None,
        notes: Sequence[str] = (),
        limit: int | None = None,
    ) -> int:
        """Write a sheet as ``workbook.write_book`` lays one out: the title block, the bold
        header frozen under it and printed on every page, the rows (``readable_cell`` by
        ``kinds``), a bold ``total`` row, then ``notes``; A4 landscape, one page wide. Stop
        after ``limit`` rows and return how many were written."""
        written = 0
        head = '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>' + _frozen(HEADER_ROW)
        with self._sheet(name, head, widths) as out:
            self._print_titles[len(self._sheets)] = HEADER_ROW
            heading, facts = title
            title_cell = _text_cell(visible(str(neutralise(heading))), _TITLE)
            out.write(f'<sheetData><row r="1">{title_cell}</row>')
            out.write(f'<row r="2">{readable_cell(facts, TEXT)}</row>')
            out.write(f'<row r="{HEADER_ROW}">')
            out.write("".join(readable_cell(h, TEXT, bold=True) for h in headers))
            out.write("</row>")
            out.flush()
            cells = readable_cells(kinds)
            at = HEADER_ROW
            for row in rows:
                written += 1
                at += 1
                line = "".join([cells[i](value) for i, value in enumerate(row)])
                out.write(f'<row r="{at}">{line}</row>')
                if limit is not None and written >= limit:
                    break
            if total is not None:
                at += 1
                line = "".join(
                    readable_cell(value, kinds[i], bold=True) for i, value in enumerate(total)
                )
                out.write(f'<row r="{at}">{line}</row>')
            if notes:
                at += 1
                for note in notes:
                    at += 1
                    out.write(f'<row r="{at}">{readable_cell(note, TEXT)}</row>')
            out.write(
                '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
                'header="0.5" footer="0.5"/><pageSetup paperSize="9" orientation="landscape" '
                'fitToWidth="1" fitToHeight="0"/></worksheet>'
            )
        return written

    @contextmanager
    def _sheet(self, name: str, head: str, widths: Iterable[float]) -> Iterator[_Buffered]:
        """A new sheet's XML, begun with ``head`` (what comes before its columns) and its
        columns' ``widths``: the caller writes the rest, from ``<sheetData>`` on."""
        self._sheets.append(name)
        number = len(self._sheets)
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as raw:
            out = _Buffered(raw)
            out.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{head}<cols>"
            )
            for i, width in enumerate(widths):
                out.write(f'<col min="{i + 1}" max="{i + 1}" width="{width}" customWidth="1"/>')
            out.write("</cols>")
            yield out
            out.flush()

    def close(self) -> None:
        sheets = "".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, name in enumerate(self._sheets, start=1)
        )
        relations = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        count = len(self._sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, count + 1)
        )
        files = {
            "[Content_Types].xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
                '"http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" ContentType="application/vnd.'
                'openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                f"{overrides}</Types>"
            ),
            "_rels/.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns='
                '"http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://'
                'schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f"<sheets>{sheets}</sheets>{self._defined_names()}</workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                f'"http://schemas.openxmlformats.org/package/2006/relationships">{relations}'
                f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/'
                'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>'
            ),
            "xl/styles.xml": _STYLES,
        }
        for name, content in files.items():
            self._zip.writestr(name, content)
        self._zip.close()

    def _defined_names(self) -> str:
        if not self._print_titles:
            return ""
        names = "".join(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{number - 1}">'
            f"{escape(_quoted(self._sheets[number - 1]))}!${row}:${row}</definedName>"
            for number, row in self._print_titles.items()
        )
        return f"<definedNames>{names}</definedNames>"


def _quoted(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


class _Buffered:
    """Collect small strings and hand the zip stream large UTF-8 blocks."""

    def __init__(self, raw) -> None:
        self._raw = raw
        self._parts: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 1 << 20:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            self._raw.write("".join(self._parts).encode("utf-8"))
            self._parts.clear()
            self._size = 0
