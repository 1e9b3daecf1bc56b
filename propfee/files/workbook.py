"""Workbooks a manager can hand to the boss: every .xlsx propfee writes for people goes through
here. Each sheet opens with a title block (estate, report, period, as-of day, when it was made),
then a bold header row that stays frozen and repeats on every printed page, the rows, and a
totals row under the columns that add up. Columns are as wide as what they hold (a Chinese
character counts double), money is a number shown ``#,##0.00``, a day is a real date, a rate is a
fraction shown ``0.0%`` (0.56, never 56.0). Pages print landscape on A4, one page wide.

Text cells are written as the CSV writer writes them (``writers.neutralise`` and
``writers.visible``): a cell starting with ``= + - @`` is never run as a formula, and a control
character is shown as a visible symbol.

The caller declares what each column holds (``kinds``: header -> MONEY, DATE, …); a column not
declared is read from its values (a date is a DATE, a two-place Decimal is MONEY)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.files import writers
from propfee.files.tabular import column_letter
from propfee.files.writers import check_output, neutralise, save_workbook, visible

MONEY = "money"  # a sum of money (yuan, two places): shown #,##0.00 and totalled
BALANCE = "balance"  # money that does not add up down the column (a running balance)
DATE = "date"  # a day, stored as an Excel date
RATE = "rate"  # a fraction (0.56) shown as a percentage (56.0%)
CODE = "code"  # text that looks like a number but is not (房号, phone, ID): stored as text
TEXT = "text"
COUNT = "count"  # a whole number that does not add up (days, a score's count)
TALLY = "tally"  # a whole number that adds up (households, bills): totalled
NUMBER = "number"  # any other number (a mean score), two places

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
RATE_FORMAT = "0.0%"
NUMBER_FORMAT = "0.00"
FORMATS = {
    MONEY: MONEY_FORMAT,
    BALANCE: MONEY_FORMAT,
    DATE: DATE_FORMAT,
    RATE: RATE_FORMAT,
    NUMBER: NUMBER_FORMAT,
    CODE: "@",
}
ADDS_UP = (MONEY, TALLY)
HEADER_ROW = 4  # rows 1–2 the title block, row 3 blank
MIN_WIDTH, MAX_WIDTH = 6, 60
A4 = 9  # Excel's paper size code


class Typed(NamedTuple):
    """One cell whose kind differs from its column's (a rate in a column of figures)."""

    value: object
    kind: str


@dataclass(frozen=True)
class Title:
    """What the title block says: whose estate, which report, over which period, as of which
    day, and when the workbook was made."""

    estate: str
    report: str
    period: str = ""
    as_of: date | None = None
    produced_at: datetime | None = None

    def lines(self) -> tuple[str, str]:
        facts = []
        if self.period:
            facts.append(_("Period: {period}").format(period=self.period))
        if self.as_of is not None:
            facts.append(_("As of: {day}").format(day=self.as_of.isoformat()))
        if self.produced_at is not None:
            facts.append(_("Made at: {at}").format(at=self.produced_at.strftime("%Y-%m-%d %H:%M")))
        return f"{self.estate}　{self.report}", "　　".join(facts)


@dataclass
class Chart:
    """A chart over some columns of a table: ``kind`` line, bar (vertical) or barh."""

    kind: str
    title: str
    categories: str  # the header of the column along the category axis
    series: Sequence[str]  # the headers of the columns drawn
    y_title: str = ""
    y_format: str = "General"
    y_min: float | None = None
    y_max: float | None = None
    legend: bool = True
    anchor: str | None = None  # the top-left cell; default: right of the table


@dataclass
class Table:
    """One sheet: its name, headers, rows and what each column holds. ``totals`` adds a 合计
    row under the MONEY and TALLY columns; ``notes`` are lines printed under the table."""

    name: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    kinds: Mapping[str, str] = field(default_factory=dict)
    totals: bool = True
    notes: Sequence[str] = ()
    charts: Sequence[Chart] = ()
    total: Sequence[object] | None = None  # a totals row made by the caller (with its rates)


def write_book(path: Path, title: Title, tables: Sequence[Table], *, option: str = "--out") -> None:
    """Write ``tables`` as the sheets of one .xlsx at ``path`` (temporary name, then renamed)."""
    from openpyxl import Workbook  # heavy: loaded when needed

    if path.suffix.lower() != ".xlsx":
        raise PropfeeError(
            _("{option} {path}: write an .xlsx file").format(option=option, path=path)
        )
    check_output(path, option)
    book = Workbook(write_only=True)
    for table in tables:
        _write_sheet(book, title, table)
    save_workbook(book, path, option=option)


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    title: Title,
    sheet: str = "Sheet1",
    kinds: Mapping[str, str] | None = None,
    text_columns: Sequence[str] = (),
    totals: bool = True,
    notes: Sequence[str] = (),
) -> None:
    """One table to ``path``: an .xlsx through this writer, a .csv as plain rows (no title)."""
    if path.suffix.lower() != ".xlsx":
        writers.write_table(path, headers, rows, sheet=sheet, text_columns=text_columns)
        return
    declared = {**{h: CODE for h in text_columns}, **(kinds or {})}
    write_book(path, title, [Table(sheet, headers, rows, declared, totals, notes)])


def display_width(value: object) -> int:
    """How many narrow characters ``value`` takes on screen: CJK (wide) characters count two."""
    text = "" if value is None else str(value)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_kinds(table: Table) -> list[str]:
    """Each column's kind: as declared, else read from the first value that says."""
    kinds = []
    for i, header in enumerate(table.headers):
        kind = table.kinds.get(header)
        if kind is None:
            kind = TEXT
            for row in table.rows:
                value = row[i] if i < len(row) else None
                if value is None or value == "" or isinstance(value, Typed):
                    continue
                kind = _kind_of(value)
                break
        kinds.append(kind)
    return kinds


def _kind_of(value: object) -> str:
    if isinstance(value, date):
        return DATE
    if isinstance(value, Decimal):
        return MONEY if value.as_tuple().exponent == -2 else NUMBER
    if isinstance(value, bool):
        return TEXT
    if isinstance(value, int):
        return COUNT
    return TEXT


def _write_sheet(book, title: Title, table: Table) -> None:
    from openpyxl.cell import WriteOnlyCell  # heavy: loaded when needed
    from openpyxl.styles import Font

    ws = book.create_sheet(sheet_name(table.name))
    kinds = column_kinds(table)
    rows = [[_value(v, kinds[i]) for i, v in enumerate(row)] for row in table.rows]
    total = _totals_row(kinds, rows) if table.totals and rows else None
    if table.total is not None and rows:
        total = [_value(v, kinds[i]).value for i, v in enumerate(table.total)]
    if total is not None:
        rows.append([Typed(v, kinds[i]) for i, v in enumerate(total)])
    _fit_widths(ws, table.headers, rows)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"  # write-only: set before the first row
    _print_setup(ws)
    heading, facts = title.lines()
    big, bold = Font(bold=True, size=14), Font(bold=True)
    ws.append([_text_cell(ws, WriteOnlyCell, heading, font=big)])
    ws.append([_text_cell(ws, WriteOnlyCell, facts)])
    ws.append([])
    ws.append([_text_cell(ws, WriteOnlyCell, h, font=bold) for h in table.headers])
    for n, row in enumerate(rows, start=1):
        font = bold if total is not None and n == len(rows) else None
        ws.append([_typed(ws, WriteOnlyCell, v, font=font) for v in row])
    if table.notes:
        ws.append([])
        for note in table.notes:
            ws.append([_text_cell(ws, WriteOnlyCell, note)])
    for chart in table.charts:
        _add_chart(ws, table, chart, len(rows))


def fitted_widths(
    headers: Sequence[str],
    kinds: Sequence[str],
    rows: Sequence[Sequence[object]],
    total: Sequence[object] | None = None,
) -> list[float]:
    """The column widths ``write_book`` gives a table, fitted from ``rows`` (for a table too
    long to hold, its first few thousand) and its ``total`` row."""
    typed = [[_value(v, kinds[i]) for i, v in enumerate(row)] for row in rows]
    if total is not None:
        typed.append([Typed(v, kinds[i]) for i, v in enumerate(total)])
    widths = []
    for i, header in enumerate(headers):
        widest = max(
            [display_width(header) + 2]
            + [display_width(shown(*row[i])) for row in typed if i < len(row)]
        )
        widths.append(max(MIN_WIDTH, min(MAX_WIDTH, widest + 2)))
    return widths


class WidestCells:
    """The widest cell of each column of a table too long to hold, found as its rows go by:
    ``rows()`` with the rows ``fitted_widths`` is given fits the columns as all the rows would.
    A number is shown the wider the further it is from zero (see ``shown``): a column's
    largest and smallest are kept. A text is measured only when it could be wider than the
    widest so far (a text is shown as it is or as its day, and only a character beyond
    ASCII may take two columns); any other value once (a column's days repeat)."""

    MEASURED = 4096  # distinct values of a column remembered as measured

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = list(kinds)
        self.widest = [0] * len(self.kinds)
        self.cells: list[object] = [None] * len(self.kinds)
        self.low: list[object] = [None] * len(self.kinds)
        self.high: list[object] = [None] * len(self.kinds)
        self.measured: list[set] = [set() for _ in self.kinds]
        # where a Decimal is shown formatted (else str(): 1E+1 is narrower than 9.5)
        self.formatted = [kind in (MONEY, BALANCE, RATE, NUMBER) for kind in self.kinds]

    def add(self, row: Sequence[object]) -> None:
        widest, low, high = self.widest, self.low, self.high
        for i, value in enumerate(row):
            kind = type(value)
            if kind is str:
                size, wide = len(value), widest[i]
                if size > wide or (2 * size > wide and not value.isascii()):
                    self._measure(i, value)
            elif kind is int or ((kind is Decimal or kind is float) and self.formatted[i]):
                top = high[i]
                if top is None:
                    low[i] = high[i] = value
                elif value > top:
                    high[i] = value
                elif value < low[i]:
                    low[i] = value
            elif value is not None:
                seen = self.measured[i]
                if value not in seen:
                    if len(seen) >= self.MEASURED:
                        seen.clear()
                    seen.add(value)
                    self._measure(i, value)

    def _measure(self, i: int, value: object) -> None:
        width = display_width(shown(*_value(value, self.kinds[i])))
        if width > self.widest[i]:
            self.widest[i], self.cells[i] = width, value

    def rows(self) -> list[list[object]]:
        """A row for each column that holds anything: its widest cell, nothing elsewhere."""
        for i in range(len(self.kinds)):
            for number in (self.low[i], self.high[i]):
                if number is not None:
                    self._measure(i, number)
        width = len(self.kinds)
        return [
            [cell if j == i else None for j in range(width)]
            for i, cell in enumerate(self.cells)
            if cell is not None
        ]


class RunningTotals:
    """The totals row of a table summed as its rows go by, never holding them: money in
    integer fen, TALLY columns as whole numbers. ``add`` a row, then ``row()``."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = list(kinds)
        self.columns = [i for i, kind in enumerate(kinds) if kind in ADDS_UP]
        self.sums = dict.fromkeys(self.columns, 0)
        self.rows = 0

    def add(self, row: Sequence[object]) -> None:
        self.rows += 1
        for i in self.columns:
            value = row[i] if i < len(row) else None
            if not _is_number(value):
                continue
            if self.kinds[i] == MONEY:
                self.sums[i] += int(Decimal(value).scaleb(2).to_integral_value())
            else:
                self.sums[i] += value

    def row(self) -> list[object] | None:
        """The totals row as ``write_book`` makes it (None for no rows or nothing to add)."""
        if not self.rows or not self.columns:
            return None
        total: list[object] = [None] * len(self.kinds)
        for i in self.columns:
            total[i] = Decimal(self.sums[i]).scaleb(-2) if self.kinds[i] == MONEY else self.sums[i]
        label_at = next((i for i in range(len(self.kinds)) if i not in self.columns), None)
        if label_at is not None:
            total[label_at] = _("Total")
        return total


def sheet_name(name: str) -> str:
    """A name Excel accepts for a sheet: none of ``[]:*?/\\``, at most 31 characters."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'")
    return cleaned[:31] or "Sheet"


def _value(value: object, kind: str) -> Typed:
    """A value as its column (or the cell itself) wants it: a day written as text becomes a
    date, a number in a CODE column becomes text."""
    if isinstance(value, Typed):
        value, kind = value
    if value is None or value == "":
        return Typed(None, kind)
    if kind == DATE and isinstance(value, str):
        try:
            return Typed(date.fromisoformat(value[:10]), kind)
        except ValueError:
            return Typed(value, TEXT)
    if isinstance(value, datetime) and kind == DATE:
        return Typed(value.date(), kind)
    if kind == CODE and not isinstance(value, str):
        return Typed(str(value), kind)
    return Typed(value, kind)


def _totals_row(kinds: list[str], rows: list[list[Typed]]) -> list[object] | None:
    columns = [i for i, kind in enumerate(kinds) if kind in ADDS_UP]
    if not columns:
        return None
    total: list[object] = [None] * len(kinds)
    for i in columns:
        numbers = [
            row[i].value
            for row in rows
            if i < len(row) and row[i].kind == kinds[i] and _is_number(row[i].value)
        ]
        total[i] = sum(numbers, Decimal(0) if kinds[i] == MONEY else 0)
        if kinds[i] == MONEY:
            total[i] = Decimal(total[i]).quantize(Decimal("0.01"))
    label_at = next((i for i in range(len(kinds)) if i not in columns), None)
    if label_at is not None:
        total[label_at] = _("Total")
    return total


def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _fit_widths(ws, headers: Sequence[str], rows: list[list[Typed]]) -> None:
    for i, header in enumerate(headers):
        widest = max(
            [display_width(header) + 2]  # the bold header wants a little more
            + [display_width(shown(*row[i])) for row in rows if i < len(row)]
        )
        ws.column_dimensions[column_letter(i)].width = max(MIN_WIDTH, min(MAX_WIDTH, widest + 2))


def shown(value: object, kind: str) -> str:
    """The value as Excel shows it, to size its column."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if kind in (MONEY, BALANCE) and _is_number(value):
        return f"{value:,.2f}"
    if kind == RATE and _is_number(value):
        return f"{Decimal(value) * 100:.1f}%"
    if kind == NUMBER and _is_number(value):
        return f"{value:.2f}"
    return str(value)


def _text(value: object) -> object:
    """Text as the CSV writer writes it: formula-looking text neutralised, controls shown."""
    return visible(str(neutralise(value))) if isinstance(value, str) else value


def _text_cell(ws, cell_type, value, *, font=None):
    cell = cell_type(ws, value=_text(value))
    if font is not None:
        cell.font = font
    return cell


def _typed(ws, cell_type, typed: Typed, *, font=None):
    value, kind = typed
    if value is None:
        return None
    cell = cell_type(ws, value=_text(value))
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif kind in FORMATS and (kind == CODE) == isinstance(value, str):
        cell.number_format = FORMATS[kind]
    if font is not None:
        cell.font = font
    return cell


def _print_setup(ws) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"


def _add_chart(ws, table: Table, spec: Chart, rows: int) -> None:
    from openpyxl.chart import BarChart, LineChart, Reference  # heavy: loaded when needed

    if rows == 0:
        return
    chart = LineChart() if spec.kind == "line" else BarChart()
    if spec.kind == "barh":
        chart.type = "bar"
    chart.title = spec.title
    chart.y_axis.title = spec.y_title
    chart.y_axis.number_format = spec.y_format
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    if spec.y_min is not None:
        chart.y_axis.scaling.min = spec.y_min
    if spec.y_max is not None:
        chart.y_axis.scaling.max = spec.y_max
    chart.width, chart.height = 22, 11
    last = HEADER_ROW + rows
    headers = list(table.headers)
    for header in spec.series:
        column = headers.index(header) + 1
        chart.add_data(
            Reference(ws, min_col=column, min_row=HEADER_ROW, max_row=last), titles_from_data=True
        )
    category = headers.index(spec.categories) + 1
    chart.set_categories(Reference(ws, min_col=category, min_row=HEADER_ROW + 1, max_row=last))
    if not spec.legend:
        chart.legend = None
    ws.add_chart(chart, spec.anchor or f"{column_letter(len(headers) + 1)}{HEADER_ROW}")
