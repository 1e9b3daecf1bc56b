"""The export an owners' committee can read (``propfee export-all``; the raw tables are
``--raw``, see ``fullexport``): one workbook, 全量导出.xlsx, through the workbook writer, and a CSV
per sheet. Sheets and headers are Chinese, a unit is its 房号 and a person their name (no
internal ids), kinds, channels and states are labels, not codes, money is yuan, and phone
numbers are masked unless asked otherwise. Everything is read in one read transaction and
written into a staging folder moved into place at the end: one consistent snapshot, never half
an export.

Rows are never all held: each sheet's query is read once for its CSV (written as the rows go,
counting them, keeping the first few thousand and summing each part's totals in fen) and once
more for its sheet. A workbook with a table longer than ``STREAM_ROWS`` is written row by row
(``xlsxstream.Workbook.add_table``) with the same sheets, cells and totals as ``write_book``
gives, its widths fitted from those first rows; a smaller one goes through ``write_book``.

Sheets: 说明 (what each sheet holds), 房屋, 收费项目, 账单, 收款, 投诉与报修."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from itertools import chain, islice
from pathlib import Path

from propfee.billing.fees import BASES
from propfee.core.i18n import zh
from propfee.core.money import fen_to_decimal
from propfee.core.periods import CYCLE_LABELS
from propfee.core.privacy import mask_phones
from propfee.files import workbook, xlsxstream
from propfee.files.workbook import (
    CODE,
    DATE,
    MONEY,
    NUMBER,
    RunningTotals,
    Table,
    Title,
    WidestCells,
)
from propfee.files.writers import csv_cell
from propfee.insight import export_store
from propfee.insight.fullexport import cannot_write, prepare_folder
from propfee.payments.ledger import CHANNELS
from propfee.roster.units import kind_label
from propfee.service import complaints

BOOK = "全量导出.xlsx"
SHEET_ROWS = 1_048_000  # an Excel sheet's rows, less the title block and a totals row
#: a workbook with a table longer than this is written row by row (``xlsxstream``), never held
STREAM_ROWS = 50_000
SAMPLE_ROWS = 2_000  # the rows a streamed sheet's column kinds and widths are read from
CACHED_TEXTS = 50_000  # distinct texts of a column whose CSV cell is kept for their next time


@dataclass
class ReadableExport:
    folder: Path
    workbook: Path
    csv_folder: Path
    rows: dict[str, int] = field(default_factory=dict)


@dataclass
class _Sheet:
    """A sheet before it is read: its ``table`` without rows and ``read``, one pass over the
    rows (a query). Writing its CSV notes what the workbook needs: how many ``rows``, the
    first few thousand (``sample``), the column ``kinds``, and the totals of each part of
    ``SHEET_ROWS`` rows."""

    table: Table
    read: Callable[[], Iterator[list]]
    rows: int = 0
    sample: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    parts: list[RunningTotals] = field(default_factory=list)
    widest: list[WidestCells] = field(default_factory=list)  # of each part, as its totals


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else fen_to_decimal(fen)


def _area(x100: int | None) -> Decimal | None:
    return None if x100 is None else (Decimal(x100) / 100).quantize(Decimal("0.01"))


def _unit_rows(conn: sqlite3.Connection, mask: bool) -> Iterator[list]:
    for (
        code, building, entrance, room, floor, kind, area, inner, delivered, vacant, owners,
        phones, tenants,
    ) in export_store.units(conn):  # fmt: skip
        yield [
            code, building, entrance, room, floor, zh(kind_label(kind)), _area(area), _area(inner),
            delivered, zh("yes") if vacant else "", owners or "",
            (mask_phones(phones) if mask else phones) if phones else "", tenants or "",
        ]  # fmt: skip


def _units(conn: sqlite3.Connection, mask: bool) -> _Sheet:
    headers = [
        zh("Unit"),
        zh("Building"),
        zh("Entrance"),
        zh("Room"),
        zh("Floor"),
        zh("Case kind"),
        zh("Floor area (㎡)"),
        zh("Inner area (㎡)"),
    ]
    headers += [zh("Delivered on"), zh("Vacant"), zh("Owners"), zh("Owners' phones"), zh("Tenants")]
    kinds = {
        h: CODE
        for h in (
            zh("Unit"),
            zh("Building"),
            zh("Entrance"),
            zh("Room"),
            zh("Floor"),
            zh("Owners' phones"),
        )
    }
    kinds |= {
        zh("Floor area (㎡)"): NUMBER,
        zh("Inner area (㎡)"): NUMBER,
        zh("Delivered on"): DATE,
    }
    table = Table(zh("Units"), headers, (), kinds=kinds, totals=False)
    return _Sheet(table, partial(_unit_rows, conn, mask))


def _fee_item_rows(conn: sqlite3.Connection) -> Iterator[list]:
    for code, name, basis, cycle, due_day in export_store.fee_items(conn):
        yield [code, name, zh(BASES.get(basis, basis)), zh(CYCLE_LABELS.get(cycle, cycle)), due_day]


def _fee_items(conn: sqlite3.Connection) -> _Sheet:
    table = Table(
        zh("Fee items"),
        [zh("Code"), zh("Name"), zh("Charged by"), zh("Billing cycle"), zh("Due day of the month")],
        (),
        kinds={zh("Code"): CODE},
        totals=False,
    )
    return _Sheet(table, partial(_fee_item_rows, conn))


def _bill_rows(conn: sqlite3.Connection) -> Iterator[list]:
    for row in export_store.bills(conn):  # 房号, period, item, from, to, due, basis, payer
        amount, adjusted, paid = row[8:]
        yield [
            *row[:8],
            _yuan(amount),
            _yuan(adjusted),
            _yuan(paid),
            _yuan(amount + adjusted - paid),
        ]


def _bills(conn: sqlite3.Connection) -> _Sheet:
    headers = [
        zh("Unit"),
        zh("Period"),
        zh("Fee items"),
        zh("Billed from"),
        zh("Billed until"),
        zh("Payment deadline"),
        zh("Billing basis"),
        zh("Payer"),
    ]
    headers += [
        zh("Amount due"),
        zh("Adjusted"),
        zh("Received on the bill"),
        zh("Owed on the bill"),
    ]
    kinds = {
        zh("Unit"): CODE,
        zh("Period"): CODE,
        zh("Billed from"): DATE,
        zh("Billed until"): DATE,
        zh("Payment deadline"): DATE,
    }
    kinds |= {
        h: MONEY
        for h in (
            zh("Amount due"),
            zh("Adjusted"),
            zh("Received on the bill"),
            zh("Owed on the bill"),
        )
    }
    return _Sheet(Table(zh("Bills"), headers, (), kinds=kinds), partial(_bill_rows, conn))


def _payment_rows(conn: sqlite3.Connection) -> Iterator[list]:
    for receipt, paid_on, code, payer, fen, channel, reversed_on in export_store.payments(conn):
        yield [
            receipt, paid_on, code, payer, _yuan(fen), zh(CHANNELS.get(channel, channel)),
            reversed_on,
        ]  # fmt: skip


def _payments(conn: sqlite3.Connection) -> _Sheet:
    table = Table(
        zh("Payments"),
        [
            zh("Receipt no."),
            zh("Paid on"),
            zh("Unit"),
            zh("Payer"),
            zh("Amount"),
            zh("Paid by"),
            zh("Reversed on"),
        ],
        (),
        kinds={
            zh("Receipt no."): CODE,
            zh("Paid on"): DATE,
            zh("Unit"): CODE,
            zh("Amount"): MONEY,
            zh("Reversed on"): DATE,
        },
        notes=[
            zh(
                "Reversed payments are listed and counted in the total, with the day of the reversal"
            )
        ],
    )
    return _Sheet(table, partial(_payment_rows, conn))


def _complaint_rows(conn: sqlite3.Connection, at: datetime) -> Iterator[list]:
    for c in complaints.every_case(conn, at=at):
        yield [
            c.number, c.unit, zh(complaints.KINDS.get(c.kind, c.kind)), c.category,
            c.opened_at[:16], c.deadline_at[:16], zh(complaints.STATES.get(c.state, c.state)),
            (c.resolved_at or "")[:16], c.score if c.score is not None else "",
        ]  # fmt: skip


def _complaints(conn: sqlite3.Connection, at: datetime) -> _Sheet:
    table = Table(
        zh("Complaints and repairs"),
        [
            zh("Case no."),
            zh("Unit"),
            zh("Case kind"),
            zh("Category"),
            zh("Received at"),
            zh("Deadline"),
            zh("State"),
            zh("Resolved at"),
            zh("Visit score"),
        ],
        (),
        kinds={zh("Case no."): CODE, zh("Unit"): CODE},
        totals=False,
    )
    return _Sheet(table, partial(_complaint_rows, conn, at))


def _split(table: Table) -> list[Table]:
    """A table longer than an Excel sheet continues on the next: 账单, 账单（2）…"""
    if len(table.rows) <= SHEET_ROWS:
        return [table]
    parts = []
    for n, start in enumerate(range(0, len(table.rows), SHEET_ROWS), start=1):
        name = table.name if n == 1 else f"{table.name}（{n}）"
        rows = table.rows[start : start + SHEET_ROWS]
        parts.append(Table(name, table.headers, rows, table.kinds, table.totals, table.notes))
    return parts


def _about(sheets: list[_Sheet], estate: str, at: datetime, mask: bool) -> Table:
    contents = {
        zh("Units"): zh("Every unit: 房号, kind, area, delivery, its owners and tenants now"),
        zh("Fee items"): zh("The fee items and how each is charged"),
        zh("Bills"): zh("Every bill: due, adjusted (waived), collected and still owed"),
        zh("Payments"): zh(
            "Every payment: receipt no., day, amount, how paid, and the day of any reversal"
        ),
        zh("Complaints and repairs"): zh(
            "Complaints and repairs: received, deadline, state and visit score"
        ),
    }
    rows = [
        [s.table.name, contents[s.table.name], s.rows, f"csv/{s.table.name}.csv"] for s in sheets
    ]
    notes = [
        zh("Exported at {at}").format(at=f"{at:%Y-%m-%d %H:%M}"),
        zh("Money in yuan, to the fen"),
    ]
    notes.append(
        zh("Phone numbers masked")
        if mask
        else zh("Phone numbers in full (recorded in the audit trail)")
    )
    notes.append(zh("For the raw database tables (with internal ids): propfee export-all --raw"))
    return Table(
        zh("About this export"),
        [zh("Sheet"), zh("What it holds"), zh("Rows"), zh("CSV file")],
        rows,
        kinds={zh("Rows"): NUMBER},
        totals=False,
        notes=[estate, *notes] if estate else notes,
    )


def export_readable(
    conn: sqlite3.Connection, folder: Path, *, mask: bool, at: datetime, estate: str
) -> ReadableExport:
    """Write 全量导出.xlsx and csv/<sheet>.csv into ``folder``."""
    staging = prepare_folder(folder)
    result = ReadableExport(folder, folder / BOOK, folder / "csv")
    conn.execute("BEGIN")  # one snapshot for every sheet
    try:
        sheets = [
            _units(conn, mask), _fee_items(conn), _bills(conn), _payments(conn),
            _complaints(conn, at),
        ]  # fmt: skip
        (staging / "csv").mkdir()
        for sheet in sheets:
            _write_csv(staging / "csv" / f"{sheet.table.name}.csv", sheet)
            result.rows[sheet.table.name] = sheet.rows
        title = Title(estate, zh("Full export"), "", at.date(), at)
        about = _about(sheets, estate, at, mask)
        if any(sheet.rows > STREAM_ROWS for sheet in sheets):
            _stream_book(staging / BOOK, title, about, sheets)
        else:
            tables = [replace(s.table, rows=_all_rows(s)) for s in sheets]
            workbook.write_book(
                staging / BOOK, title, [about] + [p for t in tables for p in _split(t)]
            )
        _move_into_place(staging, result)
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    finally:
        conn.rollback()
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _write_csv(path: Path, sheet: _Sheet) -> None:
    """Write the sheet's CSV as its rows go (as ``writers.write_csv`` writes one), noting
    what its workbook sheet needs (``_Sheet``)."""
    table = sheet.table
    rows = sheet.read()
    sheet.sample = list(islice(rows, SAMPLE_ROWS))
    sheet.kinds = workbook.column_kinds(replace(table, rows=sheet.sample))
    cells = [_csv_writer(table.kinds.get(h) == MONEY) for h in table.headers]
    part, widest = RunningTotals(sheet.kinds), WidestCells(sheet.kinds)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff")
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerow([csv_cell(h) for h in table.headers])
        for row in chain(sheet.sample, rows):
            if sheet.rows % SHEET_ROWS == 0:
                part, widest = RunningTotals(sheet.kinds), WidestCells(sheet.kinds)
                sheet.parts.append(part)
                sheet.widest.append(widest)
            sheet.rows += 1
            part.add(row)
            widest.add(row)
            out.writerow([cells[i](v) for i, v in enumerate(row)])


def _csv_writer(number: bool) -> Callable[[object], str]:
    """``csv_cell`` for one column, quick for what repeats (房号, names, days) and numbers."""
    written: dict[str, str] = {}

    def cell(value: object) -> str:
        kind = type(value)
        if kind is str:
            text = written.get(value)
            if text is None:
                if len(written) >= CACHED_TEXTS:
                    written.clear()
                text = written[value] = csv_cell(value, number=number)
            return text
        if kind is Decimal or kind is int:
            return str(value)
        return csv_cell(value, number=number)

    return cell


def _all_rows(sheet: _Sheet) -> list[list]:
    return sheet.sample if sheet.rows <= len(sheet.sample) else list(sheet.read())


def _stream_book(path: Path, title: Title, about: Table, sheets: list[_Sheet]) -> None:
    """The workbook ``write_book`` makes, written row by row: for a table too long to hold."""
    lines = title.lines()
    with xlsxstream.Workbook(path) as book:
        kinds = workbook.column_kinds(about)
        widths = workbook.fitted_widths(about.headers, kinds, about.rows)
        book.add_table(workbook.sheet_name(about.name), about.headers, about.rows, kinds=kinds,
                       widths=widths, title=lines, notes=about.notes)  # fmt: skip
        for sheet in sheets:
            _stream_sheet(book, lines, sheet)


def _stream_sheet(book: xlsxstream.Workbook, title: tuple[str, str], sheet: _Sheet) -> None:
    """One table's sheets, continued on 账单（2）… past ``SHEET_ROWS``, each with its totals."""
    table = sheet.table
    rows = sheet.read()
    for n, part in enumerate(sheet.parts or [None], start=1):
        name = table.name if n == 1 else f"{table.name}（{n}）"
        total = part.row() if table.totals and part is not None else None
        widest = sheet.widest[n - 1].rows() if sheet.widest else []
        widths = workbook.fitted_widths(table.headers, sheet.kinds, widest, total)
        book.add_table(
            workbook.sheet_name(name), table.headers, rows, kinds=sheet.kinds, widths=widths,
            title=title, total=total, notes=table.notes, limit=SHEET_ROWS,
        )  # fmt: skip


def _move_into_place(staging: Path, result: ReadableExport) -> None:
    result.csv_folder.mkdir(exist_ok=True)
    for done in (staging / "csv").iterdir():
        os.chmod(done, 0o600)  # personal data, for its owner only
        os.replace(done, result.csv_folder / done.name)
    os.chmod(staging / BOOK, 0o600)
    os.replace(staging / BOOK, result.workbook)
