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
    headers = ["房号", "楼栋", "单元", "房间", "楼层", "类型", "建筑面积（㎡）", "套内面积（㎡）"]
    headers += ["交付日期", "空置", "业主", "业主电话", "租户"]
    rows = [
        [
            code, building, entrance, room, floor, kind_label(kind), _area(area), _area(inner),
            delivered, "是" if vacant else "", owners or "",
            (mask_phones(phones) if mask else phones) if phones else "", tenants or "",
        ]
        for code, building, entrance, room, floor, kind, area, inner, delivered, vacant, owners,
        phones, tenants in export_store.units(conn)
    ]  # fmt: skip
    kinds = {h: CODE for h in ("房号", "楼栋", "单元", "房间", "楼层", "业主电话")}
    kinds |= {"建筑面积（㎡）": NUMBER, "套内面积（㎡）": NUMBER, "交付日期": DATE}
    return Table("房屋", headers, rows, kinds=kinds, totals=False)


def _fee_items(conn: sqlite3.Connection) -> Table:
    rows = [
        [code, name, BASES.get(basis, basis), CYCLE_LABELS.get(cycle, cycle), due_day]
        for code, name, basis, cycle, due_day in export_store.fee_items(conn)
    ]
    return Table(
        "收费项目",
        ["代码", "名称", "计费方式", "周期", "缴费日"],
        rows,
        kinds={"代码": CODE},
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
    headers = ["房号", "期间", "收费项目", "计费起", "计费止", "缴费期限", "计费依据", "缴费人"]
    headers += ["应收", "调整", "已收", "欠费"]
    kinds = {"房号": CODE, "期间": CODE, "计费起": DATE, "计费止": DATE, "缴费期限": DATE}
    kinds |= {h: MONEY for h in ("应收", "调整", "已收", "欠费")}
    return Table("账单", headers, rows, kinds=kinds)


def _payments(conn: sqlite3.Connection) -> Table:
    rows = [
        [receipt, paid_on, code, payer, _yuan(fen), CHANNELS.get(channel, channel), reversed_on]
        for receipt, paid_on, code, payer, fen, channel, reversed_on in export_store.payments(conn)
    ]
    return Table(
        "收款",
        ["收据号", "收款日期", "房号", "缴费人", "金额", "方式", "冲正日期"],
        rows,
        kinds={"收据号": CODE, "收款日期": DATE, "房号": CODE, "金额": MONEY, "冲正日期": DATE},
        notes=["冲正的收款仍列出并计入合计，冲正日期一栏注明"],
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
        "投诉与报修",
        ["编号", "房号", "类型", "类别", "受理时间", "时限", "状态", "办结时间", "回访评分"],
        rows,
        kinds={"编号": CODE, "房号": CODE},
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
        "房屋": "每套房屋：房号、类型、面积、交付日期、现业主和租户",
        "收费项目": "收费项目及计费方式",
        "账单": "每期账单：应收、调整（减免）、已收和欠费",
        "收款": "每笔收款：收据号、日期、金额、方式，冲正的注明冲正日期",
        "投诉与报修": "投诉与报修的受理、时限、状态和回访评分",
    }
    rows = [[t.name, contents[t.name], len(t.rows), f"csv/{t.name}.csv"] for t in tables]
    notes = [f"导出时间：{at:%Y-%m-%d %H:%M}", "金额单位：元（精确到分）"]
    notes.append("手机号已打码" if mask else "手机号完整导出（已记入操作日志）")
    notes.append("原始数据表（含内部编号）请用 propfee export-all --raw 导出")
    return Table(
        "说明",
        ["表", "内容", "行数", "CSV 文件"],
        rows,
        kinds={"行数": NUMBER},
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
        title = Title(estate, "全量导出", "", at.date(), at)
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
