"""The bill run and adjustments.

``run_bills`` bills, for every unit and every fee item that applies to it, the cycle that
contains each requested month — unless that (unit, item, cycle) is billed already, so a
re-run creates nothing. Each bill names the party responsible for the days it covers: the
developer (开发建设单位) before delivery, then the owner, or the tenant when the tenant pays;
when responsibility changes inside a cycle, each party gets a bill for its own days.

Amounts are exact: monthly price × area (or × 1 for a fixed fee) × months in the cycle ×
days covered ÷ days in the cycle, summed over price changes inside the cycle and rounded
half-up to the fen once per bill. Bills are never edited: waivers, discounts and corrections
are adjustment rows (``adjust``).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from propfee.billing.balances import bill_balance, refresh_settled
from propfee.billing.fees import FeeItem, Price, load_items, short_notice_warning
from propfee.core import periods
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.money import format_money, hundredths_str, price_str, round_div
from propfee.files import cells
from propfee.roster.payers import Payers, Unit
from propfee.roster.units import resolve_code

ONE = 100  # a fixed fee is "1.00 unit" in hundredths


@dataclass
class Skip:
    unit: str
    item: str
    reason: str


@dataclass
class BillRunReport:
    months: list[str]
    created: int = 0
    total_fen: int = 0
    units: set[int] = field(default_factory=set)
    by_item: dict[str, list[int]] = field(default_factory=dict)  # code -> [bills, fen]
    skipped: list[Skip] = field(default_factory=list)
    already: int = 0  # (unit, item, cycle) already billed
    discounts: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    bill_ids: list[int] = field(default_factory=list)
    credit_applied: int = 0

    def skip_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for skip in self.skipped:
            counts[skip.reason] += 1
        return dict(counts)


def months_to_bill(
    period: str | None, first: str | None, through: str | None, *, as_of: date
) -> list[date]:
    """The months a run covers: ``--period`` or ``--from``…``--through``; never more than
    12 months ahead of ``as_of`` (the prepayment limit)."""
    if period and (first or through):
        raise InvalidValue("give --period, or --from and --through, not both")
    if period:
        months = [periods.parse_period(period)]
    elif first and through:
        start = periods.parse_period(first, option="--from")
        end = periods.parse_period(through, option="--through")
        if end < start:
            raise InvalidValue(f"--through {through} is before --from {first}")
        months = periods.months_in_range(start, end)
    elif first or through:
        raise InvalidValue("give both --from and --through")
    else:
        months = [periods.month_start(as_of)]
    limit = periods.add_months(periods.month_start(as_of), 12)
    if months[-1] > limit:
        raise InvalidValue(
            f"{periods.period_label(months[-1])} is more than 12 months ahead of {as_of}; "
            "bills may be made at most 12 months ahead (prepayment limit)"
        )
    return months


def all_billed(conn: sqlite3.Connection, months: list[date]) -> bool:
    """Whether every one of ``months`` already has bills (a re-run, not a new period)."""
    return all(
        conn.execute(
            "SELECT 1 FROM bill WHERE period = ? LIMIT 1", (periods.period_label(month),)
        ).fetchone()
        for month in months
    )


def run_bills(
    conn: sqlite3.Connection,
    *,
    months: list[date],
    as_of: date,
    now: datetime,
    settings,
    item_codes: list[str] | None = None,
    building: str | None = None,
    progress=None,
) -> BillRunReport:
    """Bill the cycles containing ``months``, inside the caller's transaction."""

    report = BillRunReport([periods.period_label(m) for m in months])
    items = load_items(conn, item_codes or None)
    if not items:
        raise PropfeeError("no fee items yet; add one with: propfee fees add CODE …")
    if not item_codes:
        items = [i for i in items if i.basis != "one_off"]  # a one-off charge is named with --item
    run = BillRun(conn, settings, now, as_of)
    place = cells.building_part(building) if building else None
    work = [(item, periods.cycle_of(m, item.cycle)) for item in items for m in months]
    work = list(dict.fromkeys(work))  # a quarterly item is one cycle however many months
    limit = periods.month_end(periods.add_months(periods.month_start(as_of), 12))
    ahead = [(item, cycle) for item, cycle in work if cycle[1] > limit]
    for item, (start, end) in ahead:
        report.warnings.append(
            f"{item.code} {item.name} {periods.period_label(start)}: the cycle ends on {end}, "
            f"more than 12 months ahead of {as_of}; not billed (prepayment limit)"
        )
    work = [w for w in work if w not in ahead]
    _check_prices(work, report, as_of)
    units = None
    for done, (item, cycle) in enumerate(work, start=1):
        applicable, pending = _pending(conn, item, cycle, place)
        if pending == 0:  # every unit's cycle is billed: nothing to read, nothing to do
            report.already += applicable
        else:
            if units is None:
                units = [u for u in run.units if place is None or u.building == place]
            run.bill_cycle(item, cycle, units, report)
            run.flush(report)
        if progress is not None:
            progress(done, len(work))
    return report


def _pending(
    conn: sqlite3.Connection, item: FeeItem, cycle: tuple[date, date], building: str | None
) -> tuple[int, int]:
    """(units the item applies to, those without one bill covering the whole cycle)."""
    where = [f"u.kind IN ({','.join('?' * len(item.kinds))})"]
    params: list[object] = list(item.kinds)
    for column, values in (("u.building", item.buildings), ("u.code", item.units)):
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    if building is not None:
        where.append("u.building = ?")
        params.append(building)
    # "+b.fee_item_id": find bills by unit (the unique index), never scan them by fee item
    covered = (
        "EXISTS (SELECT 1 FROM bill b WHERE b.unit_id = u.id AND +b.fee_item_id = ? "
        + (
            "AND b.period = ?"
            if item.basis == "one_off"
            else "AND b.covers_from <= ? AND b.covers_to >= ?"
        )
        + ")"
    )
    cover_params = (
        [item.id, periods.period_label(cycle[0])]
        if item.basis == "one_off"
        else [item.id, cycle[0].isoformat(), cycle[1].isoformat()]
    )
    row = conn.execute(
        f"SELECT count(*), count(*) - coalesce(sum({covered}), 0) FROM unit u "
        f"WHERE {' AND '.join(where)}",
        [*cover_params, *params],
    ).fetchone()
    return row[0], row[1]


def _check_prices(
    work: list[tuple[FeeItem, tuple[date, date]]], report: BillRunReport, as_of: date
) -> None:
    """Refuse a price that was never published; warn of a change posted late or less than a
    month before it applies (LEGAL rule 8)."""
    for item, (start, end) in work:
        for price in _prices_in(item, start, end):
            if price.published_on is None:
                superseded = any(
                    start < p.effective_from <= as_of
                    for p in item.prices
                    if p.effective_from > price.effective_from
                )
                how = (
                    f"propfee fees publish --as-of {price.effective_from} (the date it was "
                    "really published, if it was)"
                    if superseded
                    else "propfee fees publish"
                )
                raise PropfeeError(
                    f"{item.code} {item.name}: the price ¥{price.text} from "
                    f"{price.effective_from} was never published; publish the fee standard "
                    f"first with: {how}"
                )
            warning = short_notice_warning(item, price, price.published_on)
            if warning and warning not in report.warnings:
                report.warnings.append(warning)


def _prices_in(item: FeeItem, start: date, end: date) -> list[Price]:
    """The prices the fee standard puts in effect on some day of start..end."""
    return [
        p
        for p in item.prices
        if p.effective_from <= end and (item.price_on(start) is p or p.effective_from >= start)
    ]


class BillRun(Payers):
    """What a bill run reads once (units, who held them when, the developer) and what it
    writes (new bills, vacancy discounts, metered readings billed)."""

    def __init__(
        self, conn: sqlite3.Connection, settings, now: datetime, as_of: date | None = None
    ):
        super().__init__(conn, settings, now, as_of)
        self.new_bills: list[tuple] = []
        self.discounts: list[tuple] = []  # (bill id, amount_fen)
        self.metered: list[tuple[int, int]] = []  # (bill id, reading id) billed
        self.next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM bill").fetchone()[0]
        self.vacancy_share = settings.billing.vacancy_discount_share

    # -- one item, one cycle

    def bill_cycle(
        self, item: FeeItem, cycle: tuple[date, date], units: list[Unit], report: BillRunReport
    ) -> None:
        start, end = cycle
        period = periods.period_label(start)
        covered = self.covered(item, start, end, period)
        prices = _price_runs(item, start, end)
        due = periods.due_date(start, item.due_day)
        readings = self.readings(item, end) if item.basis == "metered" else {}
        whole_price = prices[0][2] if len(prices) == 1 and prices[0][:2] == (start, end) else None
        fast: dict[int, tuple[int, str, str]] = {}  # base -> (amount, quantity, basis)
        start_iso, end_iso, due_iso = start.isoformat(), end.isoformat(), due.isoformat()
        in_effect = item.price_on(end)
        not_billable = (
            "fee not in effect yet"
            if in_effect is None
            else f"price published only on {in_effect.published_on}"
        )
        for unit in units:
            if not item.applies_to(unit.kind, unit.building, unit.code):
                continue
            spans, seq = covered.get(unit.id, ([(start, end)], 0))
            if not spans:
                report.already += 1
                continue
            if not prices:
                report.skipped.append(Skip(unit.code, item.code, not_billable))
                continue
            if item.basis == "area" and unit.area_x100 is None:
                report.skipped.append(Skip(unit.code, item.code, "no area"))
                continue
            if item.basis == "metered":
                self._bill_metered(item, unit, period, due, readings.get(unit.id), report)
                continue
            if item.basis == "one_off":
                party = self.payer_on(unit, self.holdings.get(unit.id, ()), start)
                price = prices[0][2]
                self._add(
                    item,
                    unit,
                    party,
                    period,
                    0,
                    start_iso,
                    start_iso,
                    due_iso,
                    round_div(price.price_x10000 * ONE, 10000),
                    "1",
                    price.price_x10000,
                    f"{price.text}{item.unit_label}",
                    report,
                )
                continue
            base = unit.area_x100 if item.basis == "area" else ONE
            owner = (
                self.simple_owner(unit, start, end)
                if whole_price and unit.id not in covered
                else None
            )
            if owner is not None:  # the common case: one owner, one price, the whole cycle
                known = fast.get(base)
                if known is None:
                    known = fast[base] = (
                        round_div(whole_price.price_x10000 * base * item.months, 10000),
                        hundredths_str(base),
                        _basis_text(item, base, [(whole_price, 1, 1)], item.months),
                    )
                self._add(
                    item,
                    unit,
                    owner,
                    period,
                    0,
                    start_iso,
                    end_iso,
                    due_iso,
                    known[0],
                    known[1],
                    whole_price.price_x10000,
                    known[2],
                    report,
                )
                continue
            for span_from, span_to in spans:
                for first, last, party in self.payer_segments(unit, span_from, span_to):
                    if self._add_segment(
                        item,
                        unit,
                        party,
                        period,
                        seq,
                        first,
                        last,
                        cycle,
                        prices,
                        base,
                        due,
                        report,
                    ):
                        seq += 1

    def _add_segment(
        self, item, unit, party, period, seq, first, last, cycle, prices, base, due, report
    ) -> bool:
        """Bill ``first``..``last`` of a cycle, summed over the prices in effect; False if no
        price covers any of those days."""
        start, end = cycle
        cycle_days = periods.days(start, end)
        parts = []
        numerator = 0
        for p_first, p_last, price in prices:
            lo, hi = max(first, p_first), min(last, p_last)
            if lo > hi:
                continue
            days = periods.days(lo, hi)
            numerator += price.price_x10000 * base * item.months * days
            parts.append((price, days, cycle_days))
        if not parts:
            return False
        covers_from = max(first, prices[0][0])
        single = parts[0][0].price_x10000 if len(parts) == 1 else None
        self._add(
            item,
            unit,
            party,
            period,
            seq,
            covers_from.isoformat(),
            last.isoformat(),
            max(due, covers_from).isoformat(),
            round_div(numerator, 10000 * cycle_days),
            hundredths_str(base),
            single,
            _basis_text(item, base, parts, item.months),
            report,
        )
        return True

    def covered(self, item: FeeItem, start: date, end: date, period: str):
        """For each unit with bills of this item touching the cycle: the days still to bill
        and the next free bill number in this period. A one-off item is billed once a period."""
        if item.basis == "one_off":
            return {
                uid: ([], 0)
                for (uid,) in self.conn.execute(
                    "SELECT DISTINCT unit_id FROM bill WHERE fee_item_id = ? AND period = ?",
                    (item.id, period),
                )
            }
        start_iso, end_iso = start.isoformat(), end.isoformat()
        full: set[int] = set()
        partial: dict[int, list[tuple[str, str]]] = defaultdict(list)
        next_seq: dict[int, int] = defaultdict(int)
        fast = self.conn.cursor()
        fast.row_factory = None
        for uid, first, last, bill_period, seq in fast.execute(
            "SELECT unit_id, covers_from, covers_to, period, seq FROM bill "
            "WHERE fee_item_id = ? AND covers_to >= ? AND covers_from <= ?",
            (item.id, start_iso, end_iso),
        ):  # ISO dates compare as text
            if first <= start_iso and last >= end_iso:
                full.add(uid)
            else:
                partial[uid].append((first, last))
            if bill_period == period:
                next_seq[uid] = max(next_seq[uid], seq + 1)
        spans: dict[int, list[tuple[date, date]] | tuple] = dict.fromkeys(full, ())
        for uid, taken in partial.items():
            if uid in full:
                continue
            if item.basis == "metered":
                spans[uid] = []  # a metered cycle is billed once, from its readings
                continue
            free, cursor = [], start
            for first, last in sorted(taken):
                first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
                if first_day > cursor:
                    free.append((cursor, min(first_day - timedelta(days=1), end)))
                cursor = max(cursor, last_day + timedelta(days=1))
            if cursor <= end:
                free.append((cursor, end))
            spans[uid] = free
        return {uid: (free, next_seq[uid]) for uid, free in spans.items()}

    def readings(self, item: FeeItem, end: date) -> dict[int, list[tuple]]:
        """Each unit's readings not billed yet up to ``end`` (a reading that arrives after its
        month was billed is billed with the next cycle): (id, date, usage, reading, the date
        of the reading before it)."""
        found: dict[int, list[tuple]] = defaultdict(list)
        for rid, uid, read_on, usage, reading, before in self.conn.execute(
            "SELECT m.id, m.unit_id, m.read_on, m.usage_x1000, m.reading, (SELECT max(p.read_on) "
            "FROM meter_reading p WHERE p.unit_id = m.unit_id AND p.meter = m.meter "
            "AND p.read_on < m.read_on) FROM meter_reading m "
            "WHERE m.meter = ? AND m.bill_id IS NULL AND m.read_on <= ? ORDER BY m.read_on",
            (item.meter, end.isoformat()),
        ):
            found[uid].append(
                (
                    rid,
                    date.fromisoformat(read_on),
                    usage,
                    reading,
                    date.fromisoformat(before) if before else None,
                )
            )
        return found

    def _bill_metered(self, item, unit, period, due, readings, report) -> None:
        if not readings:
            report.skipped.append(Skip(unit.code, item.code, "no meter reading"))
            return
        numerator = usage_total = 0
        prices = []
        for _rid, read_on, usage, _reading, _before in readings:
            price = item.billable_on(read_on)
            if price is None:
                continue
            numerator += price.price_x10000 * usage
            usage_total += usage
            prices.append(price)
        if not prices:
            report.skipped.append(Skip(unit.code, item.code, "fee not in effect yet"))
            return
        if usage_total == 0:
            report.skipped.append(Skip(unit.code, item.code, "no usage (a first reading)"))
            return
        _, last_read, _, last_reading, _ = readings[-1]
        after_previous = [r[4] + timedelta(days=1) for r in readings if r[4] is not None]
        first = min(after_previous) if after_previous else readings[0][1]
        party = self.payer_on(unit, self.holdings.get(unit.id, ()), last_read)
        usage_text = _usage_text(usage_total)
        price_text = "/".join(dict.fromkeys(p.text for p in prices))
        bill_id = self.next_id
        self._add(
            item,
            unit,
            party,
            period,
            0,
            first.isoformat(),
            last_read.isoformat(),
            max(due, last_read).isoformat(),
            round_div(numerator, 100000),
            usage_text,
            prices[0].price_x10000 if len(set(prices)) == 1 else None,
            f"{usage_text} × {price_text}{item.unit_label}（{last_read} 读数 {last_reading}）",
            report,
        )
        self.metered.extend((bill_id, r[0]) for r in readings)

    def _add(
        self,
        item,
        unit,
        party,
        period,
        seq,
        first: str,
        last: str,
        due: str,
        amount: int,
        quantity: str,
        price,
        basis: str,
        report: BillRunReport,
    ) -> None:
        """Queue one bill (dates as ISO text); ``flush`` writes the queue."""
        bill_id = self.next_id
        self.next_id += 1
        self.new_bills.append(
            (
                bill_id,
                unit.id,
                item.id,
                party,
                period,
                seq,
                first,
                last,
                due,
                amount,
                quantity,
                price,
                basis,
                self.stamp,
            )
        )
        report.created += 1
        report.total_fen += amount
        report.units.add(unit.id)
        counts = report.by_item.setdefault(item.code, [0, 0])
        counts[0] += 1
        counts[1] += amount
        if (
            self.vacancy_share
            and unit.vacant
            and unit.kind == "residential"  # a vacant home (空置房), not an empty shop
            and item.basis == "area"
            and party != self._developer
            and amount
        ):
            discount = round_div(amount * int(self.vacancy_share * 10000), 10000)
            if discount:
                self.discounts.append((bill_id, discount))

    def flush(self, report: BillRunReport) -> None:
        """Write the queued bills (and their vacancy discounts)."""
        if self.new_bills:
            self.conn.executemany(
                "INSERT INTO bill (id, unit_id, fee_item_id, party_id, period, seq, covers_from, "
                "covers_to, due_on, amount_fen, quantity, price_x10000, basis, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.new_bills,
            )
            report.bill_ids.extend(bill[0] for bill in self.new_bills)
        if self.discounts:
            percent = self.settings.billing.vacancy_discount_percent
            self.conn.executemany(
                "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, "
                "made_on, created_at) VALUES (?, ?, 'discount', ?, 'settings', ?, ?)",
                [
                    (bill_id, -fen, f"空置房优惠 {percent}%", self.as_of, self.stamp)
                    for bill_id, fen in self.discounts
                ],
            )
            report.discounts += len(self.discounts)
        if self.metered:
            self.conn.executemany("UPDATE meter_reading SET bill_id = ? WHERE id = ?", self.metered)
        self.new_bills, self.discounts, self.metered = [], [], []


def bills_between(conn: sqlite3.Connection, first: int, last: int) -> list[tuple]:
    """(id, unit, item, period, from, to, fen, party, due) of the bills first..last by id: what
    a run made."""
    return conn.execute(
        "SELECT b.id, u.code, f.code, b.period, b.covers_from, b.covers_to, b.amount_fen, "
        "coalesce(p.name, ''), b.due_on FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.id BETWEEN ? AND ? ORDER BY b.id",
        (first, last),
    ).fetchall()


def _price_runs(item: FeeItem, start: date, end: date) -> list[tuple[date, date, Price]]:
    """(first day, last day, price) runs of the billable prices inside start..end: each price
    from the later of its effective and publication dates (see FeeItem.billable_on)."""
    cuts = {start}
    for price in item.prices:
        for day in (price.effective_from, price.published_on):
            if day is not None and start < day <= end:
                cuts.add(day)
    ordered = sorted(cuts)
    runs: list[tuple[date, date, Price]] = []
    for first, after in itertools.zip_longest(ordered, ordered[1:]):
        last = after - timedelta(days=1) if after else end
        price = item.billable_on(first)
        if price is None:
            continue
        if runs and runs[-1][2] is price and runs[-1][1] == first - timedelta(days=1):
            runs[-1] = (runs[-1][0], last, price)
        else:
            runs.append((first, last, price))
    return runs


def _basis_text(item: FeeItem, base: int, parts: list[tuple[Price, int, int]], months: int) -> str:
    """How the amount was reached, for notices: ``89.37㎡ × 2.50元/㎡·月 × 15/30天``."""
    pieces = []
    for price, covered, cycle_days in parts:
        text = f"{price.text}{item.unit_label}"
        if item.basis == "area":
            text = f"{hundredths_str(base)}㎡ × {text}"
        if months > 1:
            text += f" × {months}个月"
        if covered != cycle_days:
            text += f" × {covered}/{cycle_days}天"
        pieces.append(text)
    return " + ".join(pieces)


def _usage_text(usage_x1000: int) -> str:
    whole, part = divmod(usage_x1000, 1000)
    return f"{whole}.{part:03d}".rstrip("0").rstrip(".") if part else str(whole)




# ---------------------------------------------------------------- adjustments


ADJUSTMENT_KINDS = {"waiver": "减免", "discount": "优惠", "correction": "更正"}


@dataclass
class Adjustment:
    id: int
    bill_id: int
    amount_fen: int
    kind: str
    net_fen: int  # the bill's amount after every adjustment
    outstanding_fen: int


def adjust(
    conn: sqlite3.Connection,
    bill_id: int,
    *,
    amount_fen: int,
    kind: str,
    reason: str,
    approved_by: str,
    approval_ref: str = "",
    on: date,
    now: datetime,
    settings,
) -> Adjustment:
    """Add an adjustment row to a bill (the bill itself never changes).

    A waiver or discount lowers the bill and never takes it below zero, nor below what has
    been paid on it; a correction may go either way. Every adjustment records its reason and
    who approved it; under 酬金制 a waiver also needs the owners' approval reference (业委会
    决议), because the money belongs to the owners (LEGAL rule 11)."""

    if kind not in ADJUSTMENT_KINDS:
        raise InvalidValue(f"--kind must be one of {', '.join(ADJUSTMENT_KINDS)}")
    if amount_fen == 0:
        raise InvalidValue("--amount must not be zero")
    if kind in ("waiver", "discount") and amount_fen > 0:
        raise InvalidValue(f"a {kind} lowers the bill: give a negative --amount such as -50.00")
    if not reason.strip():
        raise InvalidValue("--reason is required: say why")
    if not approved_by.strip():
        raise InvalidValue("--approved-by is required: who approved it")
    if (
        kind in ("waiver", "discount")
        and settings.billing.fee_model == "酬金制"
        and not approval_ref.strip()
    ):
        raise InvalidValue(
            f"under 酬金制 the fees belong to the owners: a {kind} needs --approval-ref naming "
            "the owners' committee (业委会) decision"
        )
    balance = bill_balance(conn, bill_id)
    if balance is None:
        raise NotFound(f"no bill {bill_id}")
    new_net = balance.net_fen + amount_fen
    if new_net < 0:
        raise PropfeeError(
            f"bill {bill_id} is {format_money(balance.net_fen)} after adjustments; "
            f"{format_money(amount_fen)} would take it below zero"
        )
    if new_net < balance.paid_fen:
        raise PropfeeError(
            f"bill {bill_id} has {format_money(balance.paid_fen)} paid on it; it cannot be "
            f"lowered to {format_money(new_net)} (the most it can be lowered by now is "
            f"{format_money(balance.net_fen - balance.paid_fen)}); reverse the payment first"
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    cursor = conn.execute(
        "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, approval_ref, "
        "made_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            bill_id,
            amount_fen,
            kind,
            reason.strip(),
            approved_by.strip(),
            approval_ref.strip(),
            on.isoformat(),
            stamp,
        ),
    )
    refresh_settled(conn, [bill_id], on)
    return Adjustment(
        cursor.lastrowid, bill_id, amount_fen, kind, new_net, new_net - balance.paid_fen
    )


__all__ = ["adjust", "months_to_bill", "price_str", "run_bills"]


# ---------------------------------------------------------------- re-billing after a late change


@dataclass
class Move:
    bill_id: int
    period: str
    item: str
    first: str
    last: str
    from_party: str
    to_party: str
    amount_fen: int
    new_bill_id: int


def rebill(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    first_day: date,
    as_of: date,
    now,
    settings,
    operator: str = "",
) -> list[Move]:
    """Bring a unit's bills from ``first_day`` in line with who is responsible now — after a
    sale or a delivery recorded once those days were already billed. Each day billed to the
    wrong party is taken off its bill by a correction adjustment and billed to the right one
    on a new bill of the same period; nothing is edited or deleted."""

    code = resolve_code(conn, unit_code)
    run = BillRun(conn, settings, now, as_of)
    unit = next((u for u in run.units if u.code == code), None)
    if unit is None:
        raise NotFound(f"no unit {code!r}")
    items = {item.id: item for item in load_items(conn)}
    stamp = now.isoformat(sep=" ", timespec="seconds")
    names = dict(conn.execute("SELECT id, name FROM party"))
    moves: list[Move] = []
    for bill_id, item_id, party, period, seq_of_bill, frm, to, opening in conn.execute(
        "SELECT id, fee_item_id, party_id, period, seq, covers_from, covers_to, opening FROM bill "
        "WHERE unit_id = ? AND covers_to >= ? ORDER BY covers_from, id",
        (unit.id, first_day.isoformat()),
    ).fetchall():
        item = items[item_id]
        if opening or item.basis in ("metered", "one_off"):
            continue
        start = max(date.fromisoformat(frm), first_day)
        end = date.fromisoformat(to)
        taken = sorted(  # days a later bill of this period already took over (an earlier rebill)
            (date.fromisoformat(a), date.fromisoformat(b))
            for a, b in conn.execute(
                "SELECT covers_from, covers_to FROM bill WHERE unit_id = ? AND fee_item_id = ? "
                "AND period = ? AND seq > ?",
                (unit.id, item_id, period, seq_of_bill),
            )
        )
        spans, cursor = [], start
        for a, b in taken:
            if a > cursor:
                spans.append((cursor, min(a - timedelta(days=1), end)))
            cursor = max(cursor, b + timedelta(days=1))
        if cursor <= end:
            spans.append((cursor, end))
        segments = [
            (a, b, p)
            for lo, hi in spans
            if lo <= hi
            for a, b, p in run.payer_segments(unit, lo, hi)
            if p != party
        ]
        if not segments:
            continue
        cycle = periods.cycle_of(date.fromisoformat(period + "-01"), item.cycle)
        prices = _price_runs(item, *cycle)
        base = unit.area_x100 if item.basis == "area" else ONE
        if base is None:
            continue
        seq = conn.execute(
            "SELECT max(seq) + 1 FROM bill WHERE unit_id = ? AND fee_item_id = ? AND period = ?",
            (unit.id, item.id, period),
        ).fetchone()[0]
        report = BillRunReport([period])
        moved = 0
        queued = []
        for a, b, new_party in segments:
            before = len(run.new_bills)
            if run._add_segment(
                item,
                unit,
                new_party,
                period,
                seq,
                a,
                b,
                cycle,
                prices,
                base,
                periods.due_date(cycle[0], item.due_day),
                report,
            ):
                bill = run.new_bills[before]
                moved += bill[9]
                queued.append((bill, new_party))
                seq += 1
        if not moved:
            run.new_bills = [b for b in run.new_bills if b not in {q[0] for q in queued}]
            continue
        balance = bill_balance(conn, bill_id)
        if balance.net_fen - moved < balance.paid_fen:
            receipts = [
                r[0]
                for r in conn.execute(
                    "SELECT p.receipt_no FROM allocation a JOIN payment p ON p.id = a.payment_id "
                    "WHERE a.bill_id = ? AND p.receipt_no IS NOT NULL GROUP BY p.id "
                    "HAVING sum(a.amount_fen) > 0 ORDER BY p.id",
                    (bill_id,),
                )
            ]
            how = (
                " ".join(f"propfee reverse {r} --reason 责任方变更" for r in receipts)
                if receipts
                else "propfee reverse RECEIPT"
            )
            raise PropfeeError(
                f"bill {bill_id} ({item.name} {period}) has {format_money(balance.paid_fen)} "
                f"paid on it"
                + (f" (receipt {', '.join(receipts)})" if receipts else "")
                + f"; {format_money(moved)} of it belongs to another party now. Reverse "
                f"that payment first ({how}), then re-bill"
            )
        if moved > balance.net_fen:
            moved_text = format_money(moved)
            raise PropfeeError(
                f"bill {bill_id}: {moved_text} cannot be moved off a bill of "
                f"{format_money(balance.net_fen)}"
            )
        conn.execute(
            "INSERT INTO adjustment (bill_id, amount_fen, kind, reason, approved_by, made_on, "
            "created_at) VALUES (?, ?, 'correction', ?, ?, ?, ?)",
            (
                bill_id,
                -moved,
                f"{first_day}起责任方变更，改由新账单收取",
                operator or "rebill",
                as_of.isoformat(),
                stamp,
            ),
        )
        for bill, new_party in queued:
            moves.append(
                Move(
                    bill_id,
                    period,
                    item.code,
                    bill[6],
                    bill[7],
                    names.get(party, ""),
                    names.get(new_party, "") or settings.estate.developer,
                    bill[9],
                    bill[0],
                )
            )
    run.flush(BillRunReport([]))
    if moves:

        refresh_settled(conn, sorted({m.bill_id for m in moves}), as_of)
    return moves
