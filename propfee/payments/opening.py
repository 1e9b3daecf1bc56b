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
from propfee.billing.fees import load_items
from propfee.core import periods
from propfee.core.errors import InvalidValue, RowErrors
from propfee.core.money import format_money, parse_money
from propfee.files import cells
from propfee.files.records import read_records
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


def import_history(
    conn: sqlite3.Connection, path: Path, *, now: datetime, settings, dry_run: bool = False
) -> HistoryReport:

    report = HistoryReport()
    errors = []
    with transaction(conn, dry_run=dry_run):
        items = load_items(conn)
        by_name = {}
        for item in items:
            by_name[item.code.lower()] = item
            by_name.setdefault(item.name, item)
        units = dict(conn.execute("SELECT code, id FROM unit"))
        run = BillRun(conn, settings, now)
        unit_rows = {u.id: u for u in run.units}
        stamp = now.isoformat(sep=" ", timespec="seconds")
        spans: dict[tuple, int] = {}  # (unit, item, first day, last day) -> row
        touched: set[int] = set()
        for record in read_records(
            path,
            FIELDS,
            required=[("unit",), ("item",), ("start", "period"), ("due",)],
            what="opening balance",
        ):
            v = record.values
            bad = []
            code = cells.unit_code(v.get("unit", ""))
            uid = units.get(code)
            if uid is None:
                bad.append(record.error(path.name, "unit", f"no unit {code!r} on record"))
            item_name = cells.text(v.get("item", ""))
            item = by_name.get(item_name) or by_name.get(item_name.lower())
            if item is None:
                known = ", ".join(f"{i.code} ({i.name})" for i in items) or "none yet"
                bad.append(record.error(path.name, "item", f"unknown fee item; known: {known}"))
            try:
                if not cells.is_blank(v.get("start", "")):
                    start = cells.parse_date(v["start"])
                    end = cells.parse_date(v.get("end", "")) or periods.month_end(start)
                else:
                    start, end = _period_range(v.get("period", ""))
                if end < start:
                    raise InvalidValue(f"ends ({end}) before it starts ({start})")
            except InvalidValue as exc:
                bad.append(
                    record.error(
                        path.name, "start" if "start" in record.labels else "period", str(exc)
                    )
                )
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
                bad.append(record.error(path.name, "due", str(exc)))
                due = paid = 0
            paid_on = due_on = None
            try:
                paid_on = cells.parse_date(v.get("paid_on", ""))
                due_on = cells.parse_date(v.get("due_on", ""))
            except InvalidValue as exc:
                bad.append(record.error(path.name, "paid_on", str(exc)))
            if paid and paid_on is None and end is not None:
                paid_on = end
            if bad:
                errors.extend(bad)
                continue
            period = periods.period_label(periods.month_start(start))
            key = (uid, item.id, period)
            clash = next(
                (
                    row
                    for (u, i, lo, hi), row in spans.items()
                    if (u, i) == (uid, item.id) and lo <= end and start <= hi
                ),
                None,
            )
            if clash is not None:
                errors.append(
                    record.error(
                        path.name,
                        "unit",
                        f"overlaps row {clash} (the same unit and item for some of the same days)",
                    )
                )
                continue
            spans[(uid, item.id, start, end)] = record.row
            existing = conn.execute(
                "SELECT b.id, b.opening, b.amount_fen, coalesce((SELECT sum(a.amount_fen) FROM "
                "allocation a WHERE a.bill_id = b.id), 0) FROM bill b WHERE b.unit_id = ? AND "
                "b.fee_item_id = ? AND b.period = ? AND b.seq = 0",
                key,
            ).fetchone()
            if existing is not None:
                if existing[1] and existing[2] == due and existing[3] == min(paid, due):
                    report.unchanged += 1
                else:
                    errors.append(
                        record.error(
                            path.name,
                            "due",
                            f"{code} {item.code} {period} is "
                            f"already billed ({format_money(existing[2])})",
                        )
                    )
                continue
            overlap = conn.execute(
                "SELECT covers_from, covers_to FROM bill WHERE unit_id = ? AND fee_item_id = ? "
                "AND covers_from <= ? AND covers_to >= ? LIMIT 1",
                (uid, item.id, end.isoformat(), start.isoformat()),
            ).fetchone()
            if overlap is not None:
                errors.append(
                    record.error(
                        path.name,
                        "start" if "start" in record.labels else "period",
                        f"{code} {item.code} is already billed for {overlap[0]}～{overlap[1]}, "
                        "which overlaps this row",
                    )
                )
                continue
            touched.add(uid)
            unit = unit_rows[uid]
            party = run.payer_on(unit, run.holdings.get(uid, ()), start)
            due_on = due_on or max(
                periods.due_date(periods.month_start(start), item.due_day), start
            )
            cursor = conn.execute(
                "INSERT INTO bill (unit_id, fee_item_id, party_id, period, seq, covers_from, "
                "covers_to, due_on, amount_fen, basis, opening, settled_on, created_at) "
                "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, 1, ?, ?)",
                (
                    uid,
                    item.id,
                    party,
                    period,
                    start.isoformat(),
                    end.isoformat(),
                    due_on.isoformat(),
                    due,
                    f"期初数据 {cells.text(v.get('note', ''))}".strip(),
                    paid_on.isoformat()
                    if paid >= due and paid_on
                    else (due_on.isoformat() if due == 0 else None),
                    stamp,
                ),
            )
            report.bills += 1
            report.due_fen += due
            if paid:
                payment = conn.execute(
                    "INSERT INTO payment (unit_id, party_id, amount_fen, channel, ref, paid_on, "
                    "cashier, note, created_at) VALUES (?, ?, ?, 'opening', ?, ?, ?, ?, ?)",
                    (
                        uid,
                        party,
                        paid,
                        f"opening:{code}:{item.code}:{period}",
                        paid_on.isoformat(),
                        cells.text(v.get("cashier", "")),
                        cells.text(v.get("note", "")),
                        stamp,
                    ),
                )
                allocated = min(paid, due)
                if allocated:
                    conn.execute(
                        "INSERT INTO allocation (payment_id, bill_id, amount_fen, allocated_on, "
                        "created_at) VALUES (?, ?, ?, ?, ?)",
                        (
                            payment.lastrowid,
                            cursor.lastrowid,
                            allocated,
                            paid_on.isoformat(),
                            stamp,
                        ),
                    )
                report.payments += 1
                report.paid_fen += paid
                report.credit_fen += paid - allocated
        if errors:
            raise RowErrors(errors)
        if touched:  # an overpayment from the old system pays the oldest open bills

            report.credit_fen -= apply_credit(
                conn, on=now.date(), now=now, unit_ids=sorted(touched)
            )
    return report
