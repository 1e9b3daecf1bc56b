"""Opening balances (期初数据): an estate moving to propfee brings its past — rows of unit, fee
item, period, amount due, amount paid, paid date, cashier, note, the shape other property
systems export. Each row becomes an opening bill and, for what was paid, an opening payment
allocated to it. Re-importing the same file changes nothing."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from propfee.billing.bills import BillRun
from propfee.billing.fees import FeeItem, load_items
from propfee.core import periods
from propfee.core.errors import InvalidValue, RowError, RowErrors
from propfee.core.money import format_money, parse_money
from propfee.files import cells
from propfee.files.records import Record, read_records
from propfee.payments import store
from propfee.payments.ledger import apply_credit
from propfee.store.db import transaction

FIELDS = {
    "unit": ("房号", "房屋编号", "房间号", "户号", "房屋编码", "unit", "unit code"),
    "item": ("收费项目", "费用名称", "费用项目", "收费科目", "项目", "费项", "item", "fee"),
    "start": ("开始日期", "计费开始日期", "费用开始日期", "起始日期", "账期开始", "起", "from"),
    "end": ("结束日期", "计费结束日期", "费用结束日期", "截止日期", "账期结束", "止", "to"),
    "period": ("所属期间", "账期", "费用期间", "所属月份", "月份", "期间", "period"),
    "due": ("应收金额", "应缴金额", "应收", "应缴", "金额", "amount due", "due"),
    "paid": ("实收金额", "已缴金额", "实收", "已收金额", "已缴", "amount paid", "paid"),
    "paid_on": ("缴费日期", "收款日期", "实收日期", "付款日期", "paid on"),
    "due_on": ("应缴日期", "缴费期限", "到期日", "due on"),
    "cashier": ("收款人", "收费员", "经办人", "操作员", "cashier"),
    "note": ("备注", "说明", "note", "notes"),
}


@dataclass
class HistoryReport:
    bills: int = 0
    payments: int = 0
    unchanged: int = 0
    due_fen: int = 0
    paid_fen: int = 0
    credit_fen: int = 0


def _period_range(value: object) -> tuple[date, date]:
    """``2025-01`` or ``2025-01~2025-03`` / ``2025年1月至3月`` to (first day, last day)."""
    raw = cells.ascii_text(value)
    parts = [p for p in re.split(r"\s*(?:~|至|到|—|–|--)\s*", raw) if p]
    if not parts or len(parts) > 2:
        raise InvalidValue(f"'{raw}' is not a period (use YYYY-MM or YYYY-MM~YYYY-MM)")
    first = periods.parse_period(parts[0], option="period")
    last = first
    if len(parts) == 2:
        second = parts[1]
        if re.fullmatch(r"\d{1,2}月?", second):
            second = f"{first.year}-{second.rstrip('月')}"
        last = periods.parse_period(second, option="period")
    return first, periods.month_end(last)


@dataclass
class _Row:
    """One row of the old system's export, read and checked."""

    record: Record
    code: str
    unit_id: int
    item: FeeItem
    start: date
    end: date
    due: int
    paid: int
    paid_on: date | None
    due_on: date | None

    @property
    def period(self) -> str:
        return periods.period_label(periods.month_start(self.start))

    def text(self, name: str) -> str:
        return cells.text(self.record.values.get(name, ""))


def import_history(
    conn: sqlite3.Connection, path: Path, *, now: datetime, settings, dry_run: bool = False
) -> HistoryReport:
    """Import an estate's opening balances: each row an opening bill and, for what was paid,
    an opening payment allocated to it; an overpayment then pays the oldest open bills. Rows
    already imported alike change nothing; any bad row and nothing is written."""
    with transaction(conn, dry_run=dry_run):
        run = _HistoryImport(conn, path, now=now, settings=settings)
        for record in read_records(
            path,
            FIELDS,
            required=[("unit",), ("item",), ("start", "period"), ("due",)],
            what="opening balance",
        ):
            row = run.read(record)
            if row is not None and run.resolve(row):
                run.write(row)
        if run.errors:
            raise RowErrors(run.errors)
        run.apply_credit()
    return run.report


class _HistoryImport:
    """The steps of an opening-balance import: read a row, resolve it against what is on
    record, write its bill and its payment, and at the end apply what was overpaid."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, now: datetime, settings):
        self.conn = conn
        self.path = path
        self.now = now
        self.report = HistoryReport()
        self.errors: list[RowError] = []
        self.items = load_items(conn)
        self.by_name = {}
        for item in self.items:
            self.by_name[item.code.lower()] = item
            self.by_name.setdefault(item.name, item)
        self.units = store.unit_ids_by_code(conn)
        self.run = BillRun(conn, settings, now)
        self.unit_rows = {u.id: u for u in self.run.units}
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.spans: dict[tuple, int] = {}  # (unit, item, first day, last day) -> row
        self.touched: set[int] = set()

    def _error(self, record: Record, field: str, message: str) -> None:
        self.errors.append(record.error(self.path.name, field, message))

    def read(self, record: Record) -> _Row | None:
        """A row's unit, fee item, days and amounts; None (its errors noted) when bad."""
        v = record.values
        name = self.path.name
        bad = []
        code = cells.unit_code(v.get("unit", ""))
        uid = self.units.get(code)
        if uid is None:
            bad.append(record.error(name, "unit", f"no unit {code!r} on record"))
        item_name = cells.text(v.get("item", ""))
        item = self.by_name.get(item_name) or self.by_name.get(item_name.lower())
        if item is None:
            known = ", ".join(f"{i.code} ({i.name})" for i in self.items) or "none yet"
            bad.append(record.error(name, "item", f"unknown fee item; known: {known}"))
        try:
            start, end = _days_of(v)
        except InvalidValue as exc:
            bad.append(record.error(name, _days_field(record), str(exc)))
            start = end = None
        try:
            due = parse_money(v.get("due", ""), what="amount due", allow_zero=True)
            raw_paid = v.get("paid", "")
            paid = (
                0
                if cells.is_blank(raw_paid)
                else parse_money(raw_paid, what="amount paid", allow_zero=True)
            )
        except InvalidValue as exc:
            bad.append(record.error(name, "due", str(exc)))
            due = paid = 0
        paid_on = due_on = None
        try:
            paid_on = cells.parse_date(v.get("paid_on", ""))
            due_on = cells.parse_date(v.get("due_on", ""))
        except InvalidValue as exc:
            bad.append(record.error(name, "paid_on", str(exc)))
        if paid and paid_on is None and end is not None:
            paid_on = end
        if bad:
            self.errors.extend(bad)
            return None
        return _Row(record, code, uid, item, start, end, due, paid, paid_on, due_on)

    def resolve(self, row: _Row) -> bool:
        """Whether the row is new: not overlapping another row of the file, not imported
        before (alike: unchanged; else an error), not overlapping a bill on record."""
        record, uid, item, start, end = row.record, row.unit_id, row.item, row.start, row.end
        clash = next(
            (
                at
                for (u, i, lo, hi), at in self.spans.items()
                if (u, i) == (uid, item.id) and lo <= end and start <= hi
            ),
            None,
        )
        if clash is not None:
            self._error(
                record,
                "unit",
                f"overlaps row {clash} (the same unit and item for some of the same days)",
            )
            return False
        self.spans[(uid, item.id, start, end)] = record.row
        existing = store.opening_bill(self.conn, uid, item.id, row.period)
        if existing is not None:
            if existing[1] and existing[2] == row.due and existing[3] == min(row.paid, row.due):
                self.report.unchanged += 1
            else:
                self._error(
                    record,
                    "due",
                    f"{row.code} {item.code} {row.period} is "
                    f"already billed ({format_money(existing[2])})",
                )
            return False
        overlap = store.overlapping_bill(
            self.conn, uid, item.id, start.isoformat(), end.isoformat()
        )
        if overlap is not None:
            self._error(
                record,
                _days_field(record),
                f"{row.code} {item.code} is already billed for {overlap[0]}～{overlap[1]}, "
                "which overlaps this row",
            )
            return False
        return True

    def write(self, row: _Row) -> None:
        """The row's opening bill and, for what was paid, its opening payment."""
        self.touched.add(row.unit_id)
        unit = self.unit_rows[row.unit_id]
        party = self.run.payer_on(unit, self.run.holdings.get(row.unit_id, ()), row.start)
        bill_id = self._write_bill(row, party)
        if row.paid:
            self._write_payment(row, party, bill_id)

    def _write_bill(self, row: _Row, party: int | None) -> int:
        due, paid, paid_on, start = row.due, row.paid, row.paid_on, row.start
        due_on = row.due_on or max(
            periods.due_date(periods.month_start(start), row.item.due_day), start
        )
        bill_id = store.insert_opening_bill(
            self.conn,
            (
                row.unit_id,
                row.item.id,
                party,
                row.period,
                start.isoformat(),
                row.end.isoformat(),
                due_on.isoformat(),
                due,
                f"期初数据 {row.text('note')}".strip(),
                paid_on.isoformat()
                if paid >= due and paid_on
                else (due_on.isoformat() if due == 0 else None),
                self.stamp,
            ),
        )
        self.report.bills += 1
        self.report.due_fen += due
        return bill_id

    def _write_payment(self, row: _Row, party: int | None, bill_id: int) -> None:
        paid, paid_on = row.paid, row.paid_on
        payment_id = store.insert_opening_payment(
            self.conn,
            (
                row.unit_id,
                party,
                paid,
                f"opening:{row.code}:{row.item.code}:{row.period}",
                paid_on.isoformat(),
                row.text("cashier"),
                row.text("note"),
                self.stamp,
            ),
        )
        allocated = min(paid, row.due)
        if allocated:
            store.insert_allocation(
                self.conn, payment_id, bill_id, allocated, paid_on.isoformat(), self.stamp
            )
        self.report.payments += 1
        self.report.paid_fen += paid
        self.report.credit_fen += paid - allocated

    def apply_credit(self) -> None:
        """An overpayment from the old system pays the oldest open bills."""
        if self.touched:
            self.report.credit_fen -= apply_credit(
                self.conn, on=self.now.date(), now=self.now, unit_ids=sorted(self.touched)
            )


def _days_of(values: dict) -> tuple[date, date]:
    """A row's first and last day: its start and end dates, else its period."""
    if not cells.is_blank(values.get("start", "")):
        start = cells.parse_date(values["start"])
        end = cells.parse_date(values.get("end", "")) or periods.month_end(start)
    else:
        start, end = _period_range(values.get("period", ""))
    if end < start:
        raise InvalidValue(f"ends ({end}) before it starts ({start})")
    return start, end


def _days_field(record: Record) -> str:
    return "start" if "start" in record.labels else "period"
