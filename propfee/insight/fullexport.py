"""Everything in the database as files a person can read — for an auditor, the owners'
committee, or for leaving propfee: one workbook with a sheet per table (after a 说明 sheet that
lists them), and a CSV per table.

Money columns (``*_fen``) become exact yuan with two places, areas (``*_x100``) and unit prices
(``*_x10000``) exact decimals; columns the roster names in Chinese keep those names. Text that
a spreadsheet would run as a formula is neutralised. Everything is read in one read
transaction, so the files are one consistent snapshot even while another command writes.
A table longer than an Excel sheet continues on the next sheet; its CSV is always whole.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from propfee.core.errors import PropfeeError
from propfee.core.i18n import _
from propfee.files import writers, xlsxstream
from propfee.files.cells import mask_id, mask_in_text, mask_phones
from propfee.insight import store

SHEET_ROWS = 1_048_575  # an Excel sheet's rows, less the header

TITLES = {
    "meta": "数据库信息",
    "unit": "房屋",
    "party": "业主与住户",
    "occupancy": "产权与租住",
    "fee_item": "收费项目",
    "fee_price": "收费标准",
    "publication": "收费公示",
    "bill": "账单",
    "adjustment": "调整与减免",
    "payment": "收款",
    "allocation": "核销",
    "reversal": "冲正",
    "meter_reading": "抄表读数",
    "receipt_counter": "收据编号计数",
    "contact": "催缴与联系记录",
    "contact_delivery": "送达记录",
    "notice_counter": "催缴通知书编号计数",
    "late_fee": "违约金记账",
    "plan": "分期协议",
    "plan_bill": "分期协议所含账单",
    "plan_installment": "分期明细",
    "party_tag": "业主标签",
    "complaint": "投诉与报修",
    "complaint_event": "投诉处理过程",
    "complaint_counter": "投诉编号计数",
    "unit_event": "房屋与业主变更记录",
    "unit_contact": "房屋联系人变更记录",
    "survey": "满意度调查",
    "survey_response": "问卷",
    "survey_score": "问卷评分",
    "fee_item_event": "收费项目停止与删除",
    "contact_status": "短信发送状态",
    "audit": "操作日志",
    "_migrations": "数据库升级记录",
}

# the roster's Chinese names for the columns it shares with the database
LABELS = {
    "unit": {
        "code": "房号",
        "building": "楼栋",
        "entrance": "单元",
        "room": "房间",
        "floor": "楼层",
        "kind": "房屋类型",
        "area_x100": "建筑面积",
        "area_basis": "面积依据",
        "inner_area_x100": "套内面积",
        "delivered_on": "交付日期",
        "notes": "备注",
    },
    "party": {
        "name": "姓名或名称",
        "phones": "手机号",
        "id_number": "身份证号",
        "birthday": "出生日期",
    },
}
TEXT_LABELS = {"房号", "楼栋", "单元", "房间", "楼层", "手机号", "身份证号"}


@dataclass
class ExportResult:
    folder: Path
    workbook: Path
    csv_folder: Path
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Column:
    name: str
    header: str
    convert: Callable[[object], object] | None


def tables(conn: sqlite3.Connection) -> list[str]:
    """Every table, in the order the schema made them."""
    return store.table_names(conn)


def _scaled(places: int, divisor: int) -> Callable[[object], object]:
    quantum = Decimal(1).scaleb(-places)

    def convert(value: object) -> object:
        if value is None or value == "":
            return None
        return (Decimal(int(value)) / divisor).quantize(quantum)

    return convert


def _digest(column: str) -> bool:
    """Whether a column holds a hash (the audit chain, a file's fingerprint): its digits are
    not a phone number, and masking them would break the chain's proof."""
    return column in ("hash", "prev_hash", "sha256") or column.endswith(("_hash", "_sha256"))


def _columns(conn: sqlite3.Connection, table: str, mask: bool) -> list[_Column]:
    """How each column of ``table`` is headed and converted."""
    labels = LABELS.get(table, {})
    columns = []
    for name, kind in store.table_columns(conn, table):
        convert = None
        header = name
        if name.endswith("_fen"):
            header, convert = f"{name[:-4]}（元）", _scaled(2, 100)
        elif name.endswith("_x100"):
            header, convert = name[:-5], _scaled(2, 100)
        elif name.endswith("_x1000"):
            header, convert = name[:-6], _scaled(3, 1000)
        elif name.endswith("_x10000"):
            header, convert = name[:-7], _scaled(4, 10000)
        if mask and "phone" in name:
            convert = lambda v: mask_phones(v) if v else v  # noqa: E731
        elif mask and name.endswith("id_number"):
            convert = lambda v: mask_id(v) if v else v  # noqa: E731
        elif mask and convert is None and kind.upper() in ("TEXT", "") and not _digest(name):
            convert = mask_in_text  # messages, letters and notes quote numbers too
        columns.append(_Column(name, labels.get(name, header), convert))
    return columns


def _rows(conn: sqlite3.Connection, table: str, columns: list[_Column]) -> Iterator[list]:
    converters = [(i, c.convert) for i, c in enumerate(columns) if c.convert is not None]
    for raw in store.table_rows(conn, table, [c.name for c in columns]):
        row = list(raw)
        for i, convert in converters:
            row[i] = convert(row[i])
        yield row


def export_all(
    conn: sqlite3.Connection,
    folder: Path,
    *,
    mask: bool,
    at: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> ExportResult:
    """Write ``propfee-export.xlsx`` and ``csv/<table>.csv`` into ``folder``."""
    staging = prepare_folder(folder)
    result = ExportResult(folder, folder / "propfee-export.xlsx", folder / "csv")
    tmp = staging / result.workbook.name
    staged_csv = staging / "csv"
    staged_csv.mkdir()
    conn.execute("BEGIN")  # one snapshot for every file
    try:
        names = tables(conn)
        counts = {name: store.row_count(conn, name) for name in names}
        summary = [[name, TITLES.get(name, ""), counts[name], f"csv/{name}.csv"] for name in names]
        summary.append(["", "", None, ""])
        summary.append(["导出时间", at.isoformat(sep=" ", timespec="seconds"), None, ""])
        summary.append(["金额单位", "元（精确到分）", None, ""])
        if mask:
            summary.append(["隐私", "手机号、身份证号已打码", None, ""])
        with xlsxstream.Workbook(tmp) as workbook:
            workbook.add_sheet("说明", ["表", "内容", "行数", "CSV 文件"], summary)
            for step, name in enumerate(names, start=1):
                columns = _columns(conn, name, mask)
                headers = [c.header for c in columns]
                text = {c.header for c in columns if c.header in TEXT_LABELS}
                writers.write_table(
                    staged_csv / f"{name}.csv", headers, _rows(conn, name, columns), sheet=name
                )
                rows = _rows(conn, name, columns)
                part = 1
                while True:
                    sheet = name if part == 1 else f"{name} ({part})"
                    written = workbook.add_sheet(
                        sheet[:31], headers, rows, text_columns=text, limit=SHEET_ROWS
                    )
                    if written < SHEET_ROWS:
                        break
                    part += 1
                result.rows[name] = counts[name]
                if progress is not None:
                    progress(step, len(names))
        result.csv_folder.mkdir(exist_ok=True)
        for done in staged_csv.iterdir():
            os.replace(done, result.csv_folder / done.name)
        os.chmod(tmp, 0o600)  # like the CSVs: personal data, for its owner only
        os.replace(tmp, result.workbook)
    except OSError as exc:
        raise cannot_write(folder, exc) from None
    finally:
        conn.rollback()
        shutil.rmtree(staging, ignore_errors=True)
    return result


def prepare_folder(folder: Path) -> Path:
    """Make the export's folder (a file there is refused) and a staging folder inside it:
    everything is written there and moved into place at the end, so a failure half-way (a
    full disk) leaves no half an export that looks whole."""
    if folder.exists() and not folder.is_dir():
        raise PropfeeError(
            _("{folder}: is a file; give a folder for the export").format(folder=folder)
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".propfee-export-", dir=folder))
    except OSError as exc:
        raise PropfeeError(
            _("{folder}: cannot make the folder ({reason})").format(
                folder=folder, reason=exc.strerror
            )
        ) from None


def cannot_write(folder: Path, exc: OSError) -> PropfeeError:
    return PropfeeError(
        _("{folder}: cannot write the export ({reason}); nothing was exported").format(
            folder=folder, reason=exc.strerror or exc
        )
    )
