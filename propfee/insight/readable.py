"""The export an owners' committee can read (``propfee export-all``; the raw tables are
``--raw``, see ``fullexport``): one workbook, 全量导出.xlsx, through the workbook writer, and a CSV
per sheet. Sheets and headers are Chinese, a unit is its 房号 and a person their name (no
internal ids), kinds, channels and states are labels, not codes, money is yuan, and phone
numbers are masked unless asked otherwise. Everything is read in one read transaction and
written into a staging folder moved into place at the end: one consistent snapshot, never half
an export.

Sheets: 说明 (what each sheet holds), 房屋, 收费项目, 账单, 收款, 投诉与报修."""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from propfee.billing.fees import BASES
from propfee.core.i18n import zh
from propfee.core.money import decimal_str
from propfee.core.periods import CYCLE_LABELS
from propfee.core.privacy import mask_phones
from propfee.files import workbook
from propfee.files.workbook import CODE, DATE, MONEY, NUMBER, Table, Title
from propfee.files.writers import write_csv
from propfee.insight import export_store
from propfee.insight.fullexport import cannot_write, prepare_folder
from propfee.payments.ledger import CHANNELS
from propfee.roster.units import kind_label
from propfee.service import complaints

BOOK = "全量导出.xlsx"
SHEET_ROWS = 1_048_000  # an Excel sheet's rows, less the title block and a totals row


@dataclass
class ReadableExport:
    folder: Path
    workbook: Path
    csv_folder: Path
    rows: dict[str, int] = field(default_factory=dict)


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(decimal_str(fen))


def _area(x100: int | None) -> Decimal | None:
    return None if x100 is None else (Decimal(x100) / 100).quantize(Decimal("0.01"))


def _units(conn: sqlite3.Connection, mask: bool) -> Table:
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
    rows = [
        [
            code, building, entrance, room, floor, zh(kind_label(kind)), _area(area), _area(inner),
            delivered, zh("yes") if vacant else "", owners or "",
            (mask_phones(phones) if mask else phones) if phones else "", tenants or "",
        ]
        for code, building, entrance, room, floor, kind, area, inner, delivered, vacant, owners,
        phones, tenants in export_store.units(conn)
    ]  # fmt: skip
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
    return Table(zh("Units"), headers, rows, kinds=kinds, totals=False)


def _fee_items(conn: sqlite3.Connection) -> Table:
    rows = [
        [code, name, zh(BASES.get(basis, basis)), zh(CYCLE_LABELS.get(cycle, cycle)), due_day]
        for code, name, basis, cycle, due_day in export_store.fee_items(conn)
    ]
    return Table(
        zh("Fee items"),
        [zh("Code"), zh("Name"), zh("Charged by"), zh("Billing cycle"), zh("Due day of the month")],
        rows,
        kinds={zh("Code"): CODE},
        totals=False,
    )


def _bills(conn: sqlite3.Connection) -> Table:
    rows = [
        [
            code, period, item, frm, to, due, basis, payer, _yuan(amount), _yuan(adjusted),
            _yuan(paid), _yuan(amount + adjusted - paid),
        ]
        for code, period, item, frm, to, due, basis, payer, amount, adjusted, paid
        in export_store.bills(conn)
    ]  # fmt: skip
    headers = [
        zh("Unit"),
        zh("Period"),
        zh("Fee items"),
        zh("Billed from"),
        zh("Billed to"),
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
        zh("Billed to"): DATE,
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
    return Table(zh("Bills"), headers, rows, kinds=kinds)


def _payments(conn: sqlite3.Connection) -> Table:
    rows = [
        [receipt, paid_on, code, payer, _yuan(fen), zh(CHANNELS.get(channel, channel)), reversed_on]
        for receipt, paid_on, code, payer, fen, channel, reversed_on in export_store.payments(conn)
    ]
    return Table(
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
        rows,
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


def _complaints(conn: sqlite3.Connection, at: datetime) -> Table:
    rows = [
        [
            c.number, c.unit, zh(complaints.KINDS.get(c.kind, c.kind)), c.category,
            c.opened_at[:16], c.deadline_at[:16], zh(complaints.STATES.get(c.state, c.state)),
            (c.resolved_at or "")[:16], c.score if c.score is not None else "",
        ]
        for c in complaints.cases(conn, at=at)
    ]  # fmt: skip
    return Table(
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
        rows,
        kinds={zh("Case no."): CODE, zh("Unit"): CODE},
        totals=False,
    )


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


def _about(tables: list[Table], estate: str, at: datetime, mask: bool) -> Table:
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
    rows = [[t.name, contents[t.name], len(t.rows), f"csv/{t.name}.csv"] for t in tables]
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
        tables = [
            _units(conn, mask), _fee_items(conn), _bills(conn), _payments(conn),
            _complaints(conn, at),
        ]  # fmt: skip
        (staging / "csv").mkdir()
        for table in tables:
            result.rows[table.name] = len(table.rows)
            numbers = [i for i, h in enumerate(table.headers) if table.kinds.get(h) == MONEY]
            write_csv(staging / "csv" / f"{table.name}.csv", table.headers, table.rows,
                      number_columns=numbers)  # fmt: skip
        title = Title(estate, zh("Full export"), "", at.date(), at)
        sheets = [_about(tables, estate, at, mask)] + [p for t in tables for p in _split(t)]
        workbook.write_book(staging / BOOK, title, sheets)
        _move_into_place(staging, result)
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    finally:
        conn.rollback()
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _move_into_place(staging: Path, result: ReadableExport) -> None:
    result.csv_folder.mkdir(exist_ok=True)
    for done in (staging / "csv").iterdir():
        os.chmod(done, 0o600)  # personal data, for its owner only
        os.replace(done, result.csv_folder / done.name)
    os.chmod(staging / BOOK, 0o600)
    os.replace(staging / BOOK, result.workbook)
