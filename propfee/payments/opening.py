"""Opening balances (期初数据): an estate moving to propfee brings its past — rows of unit, fee
item, period, amount due, amount paid, paid date, cashier, note, the shape other property
systems export. Each row becomes an opening bill and, for what was paid, an opening payment
allocated to it. Re-importing the same file changes nothing."""

from __future__ import annotations

import difflib
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from propfee.billing.bills import BillRun
from propfee.billing.fees import FeeItem, load_items
from propfee.core import periods
from propfee.core.errors import InvalidValue, RowError, RowErrors, grouped
from propfee.core.i18n import N_, _
from propfee.core.money import format_money, parse_money
from propfee.files import cells
from propfee.files.headers import ColumnMap, HeaderMatch, norm_header
from propfee.files.records import Record, read_records
from propfee.payments import store
from propfee.payments.ledger import MAX_PAYMENT_FEN, apply_credit
from propfee.store.db import transaction

FIELDS = {
    "unit": ("房号", "房屋编号", "房间号", "户号", "房屋编码", "房屋", "房间", "unit", "unit code"),
    "item": ("收费项目", "费用名称", "费用项目", "收费科目", "项目", "费项", "item", "fee"),
    "start": (
        "开始日期",
        "计费开始日期",
        "费用开始日期",
        "起始日期",
        "开始时间",
        "计费开始时间",
        "起始时间",
        "账期开始",
        "起",
        "from",
    ),
    "end": (
        "结束日期",
        "计费结束日期",
        "费用结束日期",
        "截止日期",
        "结束时间",
        "计费结束时间",
        "截止时间",
        "账期结束",
        "止",
        "to",
    ),
    "period": ("所属期间", "账期", "费用期间", "所属月份", "月份", "期间", "period"),
    "due": ("应收金额", "应缴金额", "应收", "应缴", "金额", "amount due", "due"),
    "paid": (
        "实收金额",
        "实缴金额",
        "已缴金额",
        "实收",
        "实缴",
        "已收金额",
        "已缴",
        "amount paid",
        "paid",
    ),
    "paid_on": ("缴费日期", "收款日期", "实收日期", "付款日期", "缴费时间", "收款时间", "paid on"),
    "due_on": ("应缴日期", "缴费期限", "到期日", "due on"),
    "cashier": ("收款人", "收费员", "收银员", "收款员", "经办人", "操作员", "cashier"),
    "note": ("备注", "说明", "note", "notes"),
}

#: what each field is called in the summary
FIELD_NAMES = {
    "unit": N_("Unit"),
    "item": N_("Fee item"),
    "start": N_("Start date"),
    "end": N_("End date"),
    "period": N_("Period covered"),
    "due": N_("Amount due"),
    "paid": N_("Amount paid"),
    "paid_on": N_("Payment date"),
    "due_on": N_("Date due"),
    "cashier": N_("Cashier"),
    "note": N_("Note"),
}

#: a header propfee does not know that names money: refused unless mapped or ignored
_MONEY_HEADER = re.compile(
    r"金额|款$|元$|余额|欠费|欠款|滞纳金|违约金|减免|优惠|折扣|实收|实缴|应收|应缴|已缴|已收|未缴|"
    r"未收|预收|预缴|实付|应付|付款|收款额|amount|paid|due",
    re.IGNORECASE,
)
#: no opening balance is older than this
EARLIEST = date(2000, 1, 1)
#: one row of the old system's export above this is refused: a reference read as an amount
MAX_ROW_FEN = MAX_PAYMENT_FEN


@dataclass
class HistoryReport:
    bills: int = 0
    payments: int = 0
    unchanged: int = 0
    due_fen: int = 0
    paid_fen: int = 0
    credit_fen: int = 0
    used: list[str] = field(default_factory=list)  # "结束时间 (D) → 结束日期"
    left_out: list[str] = field(default_factory=list)  # headers not read
    exclusive_ends: bool = False  # the file's end dates are the day after each period


def _period_range(value: object) -> tuple[date, date]:
    """``2025-01`` or ``2025-01~2025-03`` / ``2025年1月至3月`` to (first day, last day)."""
    raw = cells.ascii_text(value)
    parts = [p for p in re.split(r"\s*(?:~|至|到|—|–|--)\s*", raw) if p]
    if not parts or len(parts) > 2:
        raise InvalidValue(
            _("'{value}' is not a period (use YYYY-MM or YYYY-MM~YYYY-MM)").format(value=raw)
        )
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
    end_given: bool = False

    @property
    def period(self) -> str:
        return periods.period_label(periods.month_start(self.start))

    def text(self, name: str) -> str:
        return cells.text(self.record.values.get(name, ""))


def import_history(
    conn: sqlite3.Connection,
    path: Path,
    *,
    now: datetime,
    settings,
    column_map: ColumnMap | None = None,
    dry_run: bool = False,
) -> HistoryReport:
    """Import an estate's opening balances: each row an opening bill and, for what was paid,
    an opening payment allocated to it; an overpayment then pays the oldest open bills. Rows
    already imported alike change nothing; any bad row and nothing is written (every cause
    reported once, with the rows it touches)."""
    column_map = column_map or ColumnMap()
    with transaction(conn, dry_run=dry_run):
        run = _HistoryImport(conn, path, now=now, settings=settings)
        headers: list[tuple[str, HeaderMatch]] = []
        records = list(
            read_records(
                path,
                FIELDS,
                required=[("unit",), ("item",), ("start", "period"), ("due",)],
                what=_("opening balances"),
                column_map=column_map,
                found_headers=headers,
            )
        )
        run.take_headers(headers, column_map)
        rows = [row for row in map(run.read, records) if row is not None]
        run.report.exclusive_ends = _ends_are_exclusive(rows)
        for row in rows:
            if run.report.exclusive_ends:
                row.end -= timedelta(days=1)
            if run.resolve(row):
                run.write(row)
        if run.errors:
            raise RowErrors(grouped(run.errors))
        run.apply_credit()
    return run.report


def _ends_are_exclusive(rows: list[_Row]) -> bool:
    """Whether the file writes each period's end as the day after it (2025-01-01 →
    2026-01-01 for a year): a row ends on the day the next row of the same unit and item
    starts, or every row ends on the same day of the month it starts."""
    if not rows:
        return False
    starts = {(r.unit_id, r.item.id, r.start) for r in rows}
    if any((r.unit_id, r.item.id, r.end) in starts for r in rows):
        return True
    return all(r.end_given and r.end > r.start and r.end.day == r.start.day for r in rows)


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
        #: (unit, item) -> (first day, last day, row) of the file's rows so far, in order
        self.spans: dict[tuple[int, int], list[tuple[date, date, int]]] = {}
        self.touched: set[int] = set()

    def _error(self, record: Record, field: str, message: str) -> None:
        self.errors.append(record.error(self.path.name, field, message))

    def take_headers(self, headers: list[tuple[str, HeaderMatch]], column_map: ColumnMap) -> None:
        """Note the columns read and those left out; a column left out that holds money is
        an error unless the map names it or sets it to ignore."""
        for sheet, match in headers:
            for name, column in match.columns.items():
                self.report.used.append(f"{column.label} → {_(FIELD_NAMES[name])}")
            for header in match.ignored:
                self.report.left_out.append(header)
                if norm_header(header) in column_map.columns or not _MONEY_HEADER.search(header):
                    continue
                self.errors.append(
                    RowError(
                        self.path.name,
                        sheet,
                        match.row,
                        header,
                        "",
                        _(
                            "column {header} looks like money, but whether it is due or paid is "
                            'not known: with --map set it to due or paid in [columns], or to "ignore"'
                        ).format(header=repr(header)),
                    )
                )
        if self.errors:
            raise RowErrors(self.errors)

    def read(self, record: Record) -> _Row | None:
        """A row's unit, fee item, days and amounts; None (its errors noted) when bad."""
        v = record.values
        bad: list[tuple[str, str]] = []
        code = cells.unit_code(v.get("unit", ""))
        uid = self.units.get(code)
        if uid is None:
            bad.append(("unit", _("unit {code} is not on the roster").format(code=repr(code))))
        item = self._item(cells.text(v.get("item", "")), bad)
        start = end = None
        try:
            start, end = _days_of(v)
            self._check_day(
                start, _(FIELD_NAMES["start"]), latest=self.now.date() + timedelta(days=366)
            )
        except InvalidValue as exc:
            bad.append((_days_field(record), str(exc)))
        due, paid = self._amounts(v, bad)
        paid_on = due_on = None
        try:
            paid_on = cells.parse_date(v.get("paid_on", ""))
            due_on = cells.parse_date(v.get("due_on", ""))
            if paid_on is not None:
                self._check_day(paid_on, _(FIELD_NAMES["paid_on"]), latest=self.now.date())
        except InvalidValue as exc:
            bad.append(("paid_on", str(exc)))
        if paid and paid_on is None and end is not None:
            paid_on = min(end, self.now.date())
        if bad:
            self.errors.extend(record.error(self.path.name, f, m) for f, m in bad)
            return None
        end_given = not cells.is_blank(v.get("end", "")) and not cells.is_blank(v.get("start", ""))
        return _Row(record, code, uid, item, start, end, due, paid, paid_on, due_on, end_given)

    def _item(self, name: str, bad: list) -> FeeItem | None:
        item = self.by_name.get(name) or self.by_name.get(name.lower())
        if item is None:
            bad.append(("item", _unknown_item(name, self.items)))
        return item

    def _amounts(self, values: dict, bad: list) -> tuple[int, int]:
        due = paid = 0
        for field_ in ("due", "paid"):
            what = _(FIELD_NAMES[field_])
            raw = values.get(field_, "")
            if field_ == "paid" and cells.is_blank(raw):
                continue
            try:
                fen = parse_money(raw, what=what, allow_zero=True)
            except InvalidValue as exc:
                bad.append((field_, str(exc)))
                continue
            if fen > MAX_ROW_FEN:
                bad.append(
                    (
                        field_,
                        _(
                            "{what} is above the limit for one row, {most}: check it (a reference "
                            "typed as the amount?)"
                        ).format(what=what, most=format_money(MAX_ROW_FEN)),
                    )
                )
                continue
            if field_ == "due":
                due = fen
            else:
                paid = fen
        return due, paid

    @staticmethod
    def _check_day(day: date, what: str, *, latest: date) -> None:
        if day < EARLIEST:
            raise InvalidValue(
                _("{what} {day} is before {earliest}: check the date").format(
                    what=what, day=day, earliest=EARLIEST
                )
            )
        if day > latest:
            raise InvalidValue(
                _("{what} {day} is after {latest}: check the date").format(
                    what=what, day=day, latest=latest
                )
            )

    def resolve(self, row: _Row) -> bool:
        """Whether the row is new: not overlapping another row of the file, not imported
        before (alike: unchanged; else an error), not overlapping a bill on record."""
        record, uid, item, start, end = row.record, row.unit_id, row.item, row.start, row.end
        spans = self.spans.setdefault((uid, item.id), [])
        clash = next((at for lo, hi, at in spans if lo <= end and start <= hi), None)
        if clash is not None:
            self._error(
                record,
                "unit",
                _("overlaps row {row} (the same unit and item for some of the same days)").format(
                    row=clash
                ),
            )
            return False
        spans.append((start, end, record.row))
        existing = store.opening_bill(self.conn, uid, item.id, row.period)
        if existing is not None:
            if existing[1] and existing[2] == row.due and existing[3] == min(row.paid, row.due):
                self.report.unchanged += 1
            else:
                self._error(
                    record,
                    "due",
                    _("{unit} {item} {period} is already billed ({amount})").format(
                        unit=row.code,
                        item=item.code,
                        period=row.period,
                        amount=format_money(existing[2]),
                    ),
                )
            return False
        overlap = store.overlapping_bill(
            self.conn, uid, item.id, start.isoformat(), end.isoformat()
        )
        if overlap is not None:
            self._error(
                record,
                _days_field(record),
                _(
                    "{unit} {item} is already billed for {first}～{last}, which overlaps this row"
                ).format(unit=row.code, item=item.code, first=overlap[0], last=overlap[1]),
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


def _unknown_item(name: str, items: list[FeeItem]) -> str:
    """An unknown fee item, with the item it most likely means."""
    names = {i.name: i for i in items} | {i.code: i for i in items}
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.5)
    if close:
        guess = names[close[0]]
        return _("{name} is not a fee item — did you mean {code} {item}?").format(
            name=repr(name), code=guess.code, item=guess.name
        )
    known = _(", ").join(f"{i.code} {i.name}" for i in items) or _(
        "(none yet; add one with propfee fees add)"
    )
    return _("{name} is not a fee item; there are: {known}").format(name=repr(name), known=known)


def _days_of(values: dict) -> tuple[date, date]:
    """A row's first and last day: its start and end dates, else its period."""
    if not cells.is_blank(values.get("start", "")):
        start = cells.parse_date(values["start"])
        end = cells.parse_date(values.get("end", "")) or periods.month_end(start)
    else:
        start, end = _period_range(values.get("period", ""))
    if end < start:
        raise InvalidValue(
            _("ends ({end}) before it starts ({start})").format(end=end, start=start)
        )
    return start, end


def _days_field(record: Record) -> str:
    return "start" if "start" in record.labels else "period"
