"""The bill run, adjustments and re-billing after a late change of responsible party.

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
from decimal import Decimal, InvalidOperation

import propfee.billing.store as store
from propfee.billing.balances import bill_balance, refresh_settled
from propfee.billing.fees import (
    PENALTY_RULE,
    RECORD_LATER_HINT,
    FeeItem,
    Price,
    before_publication_message,
    load_items,
    never_published_message,
    reads_as_penalty,
    too_early_message,
)
from propfee.billing.store import bills_between
from propfee.core import periods
from propfee.core.approvals import APPROVER_RULE, REFERENCE_RULE, approver_ok, reference_ok
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.gcpause import no_gc
from propfee.core.i18n import N_, _
from propfee.core.money import (
    MAX_LINE_FEN,
    check_line,
    format_money,
    hundredths_str,
    price_str,
    round_div,
)
from propfee.files import cells
from propfee.roster.payers import Payers, Unit
from propfee.roster.units import kind_label, resolve_code

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

    @property
    def months_text(self) -> str:
        """``2026-11``, or ``2026-11…2027-01`` for a range."""
        if len(self.months) == 1:
            return self.months[0]
        return f"{self.months[0]}…{self.months[-1]}"

    def count(self, item: str, bills: int, fen: int) -> None:
        """Add ``bills`` new bills of ``item`` for ``fen`` in all."""
        self.created += bills
        self.total_fen += fen
        counts = self.by_item.setdefault(item, [0, 0])
        counts[0] += bills
        counts[1] += fen

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
        raise InvalidValue(_("give --period, or --from and --through, not both"))
    if period:
        months = [periods.parse_period(period)]
    elif first and through:
        start = periods.parse_period(first, option="--from")
        end = periods.parse_period(through, option="--through")
        if end < start:
            raise InvalidValue(
                _("--through {through} is before --from {first}").format(
                    through=through, first=first
                )
            )
        months = periods.months_in_range(start, end)
    elif first or through:
        raise InvalidValue(_("give both --from and --through"))
    else:
        months = [periods.month_start(as_of)]
    limit = periods.add_months(periods.month_start(as_of), 12)
    if months[-1] > limit:
        raise InvalidValue(
            _(
                "{month} is more than 12 months ahead of {day}; bills may be made at most 12 "
                "months ahead (prepayment limit)"
            ).format(month=periods.period_label(months[-1]), day=as_of)
        )
    return months


def all_billed(conn: sqlite3.Connection, months: list[date]) -> bool:
    """Whether every one of ``months`` already has bills (a re-run, not a new period)."""
    return all(store.period_has_bills(conn, periods.period_label(month)) for month in months)


def run_bills(
    conn: sqlite3.Connection,
    *,
    months: list[date],
    as_of: date,
    now: datetime,
    settings,
    item_codes: list[str] | None = None,
    building: str | list[str] | None = None,
    progress=None,
) -> BillRunReport:
    """Bill the cycles containing ``months``, inside the caller's transaction; ``building``
    names one building or several (every one of them is billed)."""
    report = BillRunReport([periods.period_label(m) for m in months])
    items = load_items(conn, item_codes or None)
    if not items:
        raise PropfeeError(_("no fee items yet; add one with: propfee fees add CODE …"))
    if not item_codes:
        items = [i for i in items if i.basis != "one_off"]  # a one-off charge is named with --item
    run = BillRun(conn, settings, now, as_of)
    named = [building] if isinstance(building, str) else list(building or [])
    place = tuple(dict.fromkeys(cells.building_part(b) for b in named if b)) or None
    work = [(item, periods.cycle_of(m, item.cycle)) for item in items for m in months]
    work = list(dict.fromkeys(work))  # a quarterly item is one cycle however many months
    limit = periods.month_end(periods.add_months(periods.month_start(as_of), 12))
    ahead = [(item, cycle) for item, cycle in work if cycle[1] > limit]
    for item, (start, end) in ahead:
        report.warnings.append(
            _(
                "{item} {name} {period}: the cycle ends on {end}, more than 12 months ahead of "
                "{day}; not billed (prepayment limit)"
            ).format(
                item=item.code,
                name=item.name,
                period=periods.period_label(start),
                end=end,
                day=as_of,
            )
        )
    work = [w for w in work if w not in ahead]
    work = [(item, c) for item, c in work if item.ends_on is None or c[0] <= item.ends_on]
    _check_prices(work, report)
    units = None
    with no_gc():  # units, holders and bills make no cycles (see core/gcpause)
        for done, (item, cycle) in enumerate(work, start=1):
            counted = _pending(conn, item, cycle, place)
            if counted is not None and counted[1] == 0:  # every unit's cycle is billed already
                report.already += counted[0]
            else:
                if units is None:
                    units = [u for u in run.units if place is None or u.building in place]
                run.bill_cycle(item, cycle, units, report)
                run.flush(report)
            if progress is not None:
                progress(done, len(work))
    return report


def _pending(
    conn: sqlite3.Connection,
    item: FeeItem,
    cycle: tuple[date, date],
    building: tuple[str, ...] | None,
) -> tuple[int, int] | None:
    """(units the item applies to, those without one bill covering the whole cycle); None
    when no bill of the item covers a day of the cycle (every unit's cycle is to bill: a
    month's first run counts nothing)."""
    if not store.item_billed_within(conn, item.id, cycle[0].isoformat(), cycle[1].isoformat()):
        return None
    return store.pending_cycle_count(
        conn,
        item_id=item.id,
        one_off=item.basis == "one_off",
        kinds=item.kinds,
        buildings=item.buildings,
        units=item.units,
        building=building,
        period=periods.period_label(cycle[0]),
        start=cycle[0].isoformat(),
        end=cycle[1].isoformat(),
    )


def _check_prices(work: list[tuple[FeeItem, tuple[date, date]]], report: BillRunReport) -> None:
    """Refuse a price that was never published, and a period billed at a price change before
    one month after its publication (LEGAL rule 8); say how a period before a price's
    publication can lawfully be billed."""
    before: set[tuple[str, str]] = set()
    for item, (start, end) in work:
        if item.ends_on is not None:
            end = min(end, item.ends_on)
        for price in _prices_in(item, start, end):
            if price.published_on is None:
                raise PropfeeError(never_published_message(item, price))
            lawful = item.lawful_from(price)
            first = max(price.effective_from, start)
            if lawful > first and lawful > price.published_on:
                raise PropfeeError(too_early_message(item, price, periods.period_label(start)))
            if first < lawful <= end:
                report.warnings.append(
                    _(
                        "{item} {name} {period}: the price was published only on {day}; the "
                        "{n} days before are not billed ({hint})"
                    ).format(
                        item=item.code,
                        name=item.name,
                        period=periods.period_label(start),
                        day=price.published_on,
                        n=(lawful - first).days,
                        hint=RECORD_LATER_HINT,
                    )
                )
            elif lawful > end and (item.code, str(price.published_on)) not in before:
                before.add((item.code, str(price.published_on)))
                report.warnings.append(
                    before_publication_message(item, price, periods.period_label(start))
                )


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
        self,
        conn: sqlite3.Connection,
        settings,
        now: datetime,
        as_of: date | None = None,
        *,
        codes: list[str] | None = None,
    ):
        super().__init__(conn, settings, now, as_of, codes=codes)
        self.new_bills: list[tuple] = []
        self.discounts: list[tuple] = []  # (bill id, amount_fen)
        self.metered: list[tuple[int, int]] = []  # (bill id, reading id) billed
        self.next_id = store.next_bill_id(conn)
        self.vacancy_share = settings.billing.vacancy_discount_share

    # -- one item, one cycle

    def bill_cycle(
        self, item: FeeItem, cycle: tuple[date, date], units: list[Unit], report: BillRunReport
    ) -> None:
        """Queue the bills of one item's cycle for each unit it applies to: skip what is billed
        already or cannot be billed; bill a metered or one-off item by its own rule; bill the
        common case — one owner, one price, the whole cycle — from an amount worked out once
        per area; bill anything else day by day, per party and price."""
        start, end = cycle
        period = periods.period_label(start)
        covered = self.covered(item, start, end, period)
        prices = _price_runs(item, start, end)
        if prices and item.basis not in ("metered", "one_off"):
            self._bill_priced(item, cycle, period, covered, prices, units, report)
            return
        due = periods.due_date(start, item.due_day)
        readings = self.readings(item, end) if item.basis == "metered" else {}
        due_iso = due.isoformat()
        not_billable = _not_billable(item, end)
        for unit in units:
            if not item.applies_to(unit.kind, unit.building, unit.code):
                continue
            touched = covered.get(unit.id)
            if touched is not None and not touched[0]:  # no day of the cycle left to bill
                report.already += 1
                continue
            if not prices:
                report.skipped.append(Skip(unit.code, item.code, not_billable))
                continue
            if item.basis == "metered":
                self._bill_metered(item, unit, period, due, readings.get(unit.id), report)
                continue
            self._bill_one_off(item, unit, period, start, due_iso, prices[0][2], report)

    def _bill_priced(self, item, cycle, period, covered, prices, units, report) -> None:
        """``bill_cycle`` of an item by area or per unit with a price in the cycle. The common
        case — one owner, one price, the whole cycle — is queued right here (the loop runs for
        every unit and item); anything else is billed day by day (``_bill_days``)."""
        start, end = cycle
        due = periods.due_date(start, item.due_day)
        whole_price = prices[0][2] if len(prices) == 1 and prices[0][:2] == (start, end) else None
        price_x10000 = whole_price.price_x10000 if whole_price is not None else None
        fast: dict[int, tuple[int, str, str]] = {}  # base -> (amount, quantity, basis)
        start_iso, end_iso, due_iso = start.isoformat(), end.isoformat(), due.isoformat()
        by_area = item.basis == "area"
        kinds = item.kinds
        applies = item.applies_to if item.buildings or item.units else None
        item_id, stamp, share = item.id, self.stamp, self.vacancy_share
        simple_owner = self.simple_owner
        queue = self.new_bills.append
        billed = report.units.add
        whole = [(start, end)]
        bill_id = self.next_id
        created = total = 0
        for unit in units:
            if applies is None:
                if unit.kind not in kinds:
                    continue
            elif not applies(unit.kind, unit.building, unit.code):
                continue
            unit_id = unit.id
            spans = None
            if covered and unit_id in covered:  # some bill of the item touches the cycle
                spans, seq = covered[unit_id]
                if not spans:
                    report.already += 1
                    continue
            base = unit.area_x100 if by_area else ONE
            if base is None:
                report.skipped.append(Skip(unit.code, item.code, N_("no area")))
                continue
            owner = None
            if spans is None:
                spans, seq = whole, 0
                if whole_price is not None:
                    owner = simple_owner(unit, start, end)
            if owner is None:  # day by day, numbered on from the bills queued here
                self.next_id = bill_id
                self._bill_days(item, unit, period, seq, spans, cycle, prices, base, due, report)
                bill_id = self.next_id
                continue
            # the common case: one owner, one price, the whole cycle (as ``_add`` queues it)
            known = fast.get(base)
            if known is None:
                known = fast[base] = _whole_cycle(item, base, whole_price)
                _check_amount(known[0], unit, item, period)  # the same for every base
            amount = known[0]
            queue(
                (
                    bill_id,
                    unit_id,
                    item_id,
                    owner,
                    period,
                    0,
                    start_iso,
                    end_iso,
                    due_iso,
                    amount,
                    known[1],
                    price_x10000,
                    known[2],
                    stamp,
                )
            )
            if share and amount:
                self._vacancy_discount(item, unit, owner, bill_id, amount)
            bill_id += 1
            created += 1
            total += amount
            billed(unit_id)
        self.next_id = bill_id
        if created:
            report.count(item.code, created, total)

    def _bill_one_off(self, item, unit, period, start, due_iso, price, report) -> None:
        """A one-off charge: one bill on the cycle's first day, to whoever is responsible then."""
        party = self.payer_on(unit, self.holdings.get(unit.id, ()), start)
        start_iso = start.isoformat()
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

    def _bill_days(self, item, unit, period, seq, spans, cycle, prices, base, due, report) -> None:
        """Bill the days still unbilled, one bill per party responsible for some of them."""
        for span_from, span_to in spans:
            for first, last, party in self.payer_segments(unit, span_from, span_to):
                if self._add_segment(
                    item, unit, party, period, seq, first, last, cycle, prices, base, due, report
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
        covers_to = min(last, prices[-1][1])  # an item ended inside the cycle stops there
        single = parts[0][0].price_x10000 if len(parts) == 1 else None
        self._add(
            item,
            unit,
            party,
            period,
            seq,
            covers_from.isoformat(),
            covers_to.isoformat(),
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
                uid: ([], 0) for (uid,) in store.units_billed_in_period(self.conn, item.id, period)
            }
        start_iso, end_iso = start.isoformat(), end.isoformat()
        full: set[int] = set()
        partial: dict[int, list[tuple[str, str]]] = defaultdict(list)
        next_seq: dict[int, int] = defaultdict(int)
        for uid, first, last, bill_period, seq in store.bills_touching(
            self.conn, item.id, start_iso, end_iso
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
            spans[uid] = _free_days(_date_spans(taken), start, end)
        return {uid: (free, next_seq[uid]) for uid, free in spans.items()}

    def readings(self, item: FeeItem, end: date) -> dict[int, list[tuple]]:
        """Each unit's readings not billed yet up to ``end`` (a reading that arrives after its
        month was billed is billed with the next cycle): (id, date, usage, reading, the date
        of the reading before it)."""
        found: dict[int, list[tuple]] = defaultdict(list)
        for rid, uid, read_on, usage, reading, before in store.unbilled_readings(
            self.conn, item.meter, end.isoformat()
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
            report.skipped.append(Skip(unit.code, item.code, N_("no meter reading")))
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
            report.skipped.append(Skip(unit.code, item.code, NOT_IN_EFFECT))
            return
        if usage_total == 0:
            report.skipped.append(Skip(unit.code, item.code, N_("no usage (a first reading)")))
            return
        _u, last_read, _m, last_reading, _x = readings[-1]
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
        _check_amount(amount, unit, item, period)
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
        report.count(item.code, 1, amount)
        report.units.add(unit.id)
        if self.vacancy_share and amount:
            self._vacancy_discount(item, unit, party, bill_id, amount)

    def _vacancy_discount(self, item, unit, party, bill_id: int, amount: int) -> None:
        """The discount of a vacant home's bill (空置房), when the settings give one."""
        if (
            unit.vacant
            and unit.kind == "residential"  # a vacant home (空置房), not an empty shop
            and item.basis == "area"
            and party != self._developer
        ):
            discount = round_div(amount * int(self.vacancy_share * 10000), 10000)
            if discount:
                self.discounts.append((bill_id, discount))

    def flush(self, report: BillRunReport) -> None:
        """Write the queued bills (and their vacancy discounts)."""
        if self.new_bills:
            store.insert_bills(self.conn, self.new_bills)
            report.bill_ids.extend(bill[0] for bill in self.new_bills)
        if self.discounts:
            percent = self.settings.billing.vacancy_discount_percent
            approval = self.settings.billing.discount_approval_ref.strip()
            store.insert_vacancy_discounts(
                self.conn,
                [
                    (bill_id, -fen, f"空置房优惠 {percent}%", approval, self.as_of, self.stamp)
                    for bill_id, fen in self.discounts
                ],
            )
            report.discounts += len(self.discounts)
        if self.metered:
            store.mark_readings_billed(self.conn, self.metered)
        self.new_bills, self.discounts, self.metered = [], [], []


def created_bills(conn: sqlite3.Connection, bill_ids: list[int]) -> list[tuple]:
    """(id, unit, item, period, from, to, fen, party, due) of the bills a run made."""
    if not bill_ids:
        return []
    return bills_between(conn, min(bill_ids), max(bill_ids))


def _price_runs(item: FeeItem, start: date, end: date) -> list[tuple[date, date, Price]]:
    """(first day, last day, price) runs of the billable prices inside start..end: each price
    from the later of its effective and publication dates (see FeeItem.billable_on)."""
    cuts = {start}
    for price in item.prices:
        for day in (price.effective_from, price.published_on):
            if day is not None and start < day <= end:
                cuts.add(day)
    if item.ends_on is not None and start <= item.ends_on < end:
        cuts.add(item.ends_on + timedelta(days=1))  # ended: nothing billed after its last day
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


def _not_billable(item: FeeItem, end: date) -> str:
    """Why a cycle ending on ``end`` has no billable price."""
    in_effect = item.price_on(end)
    if in_effect is None:
        return NOT_IN_EFFECT
    return _("the price was published only on {day}; not billed before").format(
        day=in_effect.published_on
    )


#: why a cycle was not billed (the JSON keeps the English)
NOT_IN_EFFECT = N_("fee not in effect yet")


def _check_amount(amount: int, unit, item: FeeItem, period: str) -> None:
    """Refuse a bill above the ceiling of one line (worded only when refused)."""
    if not -MAX_LINE_FEN <= amount <= MAX_LINE_FEN:
        check_line(
            amount,
            what=_("the bill of {unit} {item} {period}").format(
                unit=unit.code, item=item.code, period=period
            ),
            hint=_("check the area, the price or the readings"),
        )


def _whole_cycle(item: FeeItem, base: int, price: Price) -> tuple[int, str, str]:
    """(amount, quantity, basis) of a bill for a whole cycle at one price."""
    return (
        round_div(price.price_x10000 * base * item.months, 10000),
        hundredths_str(base),
        _basis_text(item, base, [(price, 1, 1)], item.months),
    )


def _date_spans(spans) -> list[tuple[date, date]]:
    """(first, last) ISO text pairs as dates, in order."""
    return sorted((date.fromisoformat(a), date.fromisoformat(b)) for a, b in spans)


def _free_days(taken: list[tuple[date, date]], start: date, end: date) -> list[tuple[date, date]]:
    """The runs of start..end that no span of ``taken`` (in order) covers."""
    free, cursor = [], start
    for first, last in taken:
        if first > cursor:
            free.append((cursor, min(first - timedelta(days=1), end)))
        cursor = max(cursor, last + timedelta(days=1))
    if cursor <= end:
        free.append((cursor, end))
    return free


# ---------------------------------------------------------------- adjustments


#: each kind of adjustment (English msgid; shown through ``_()``)
ADJUSTMENT_KINDS = {
    "waiver": N_("waiver"),
    "discount": N_("discount"),
    "correction": N_("correction"),
}


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
    approved_on: date | None = None,
    basis_ref: str = "",
    on: date,
    now: datetime,
    settings,
) -> Adjustment:
    """Add an adjustment row to a bill (the bill itself never changes).

    A waiver or discount lowers the bill and never takes it below zero, nor below what has
    been paid on it; a correction may go either way. Every adjustment records its reason and
    who approved it. A correction upward rests on a published fee (``basis_ref``, LEGAL rule
    8); under 酬金制 every reduction — waiver, discount, correction down — carries the owners'
    approval: who, the decision's reference and its date (LEGAL rule 11)."""
    _check_request(kind, amount_fen, reason, approved_by)
    approved_on = approved_on or on
    if approved_on > on:
        raise InvalidValue(
            _(
                "--approved-on {approved} is after the adjustment's day {day}: approve first, "
                "then adjust"
            ).format(approved=approved_on, day=on)
        )
    basis = _upward_basis(conn, basis_ref, on) if amount_fen > 0 else ""
    if amount_fen > 0 or settings.billing.fee_model == "酬金制":
        _check_approval(kind, amount_fen, approved_by, approval_ref, settings)
    balance = bill_balance(conn, bill_id)
    if balance is None:
        raise NotFound(_("no bill {bill}").format(bill=bill_id))
    new_net = balance.net_fen + amount_fen
    if new_net < 0:
        raise PropfeeError(
            _("bill {bill} is {net} after adjustments; {amount} would take it below zero").format(
                bill=bill_id, net=format_money(balance.net_fen), amount=format_money(amount_fen)
            )
        )
    if new_net < balance.paid_fen:
        raise PropfeeError(
            _(
                "bill {bill} has {paid} paid on it; it cannot be lowered to {net} (the most it "
                "can be lowered by now is {most}); reverse the payment first"
            ).format(
                bill=bill_id,
                paid=format_money(balance.paid_fen),
                net=format_money(new_net),
                most=format_money(balance.net_fen - balance.paid_fen),
            )
        )
    adjustment_id = store.insert_adjustment(
        conn,
        bill_id,
        amount_fen,
        kind,
        reason.strip(),
        approved_by.strip(),
        approval_ref.strip(),
        on.isoformat(),
        now.isoformat(sep=" ", timespec="seconds"),
        approved_on=approved_on.isoformat(),
        basis_ref=basis,
    )
    refresh_settled(conn, [bill_id], on)
    return Adjustment(adjustment_id, bill_id, amount_fen, kind, new_net, new_net - balance.paid_fen)


def _check_request(kind: str, amount_fen: int, reason: str, approved_by: str) -> None:
    """An adjustment's kind, sign, reason and approver, before anything is read."""
    if kind not in ADJUSTMENT_KINDS:
        raise InvalidValue(
            _("--kind must be one of {choices}").format(choices=", ".join(ADJUSTMENT_KINDS))
        )
    if amount_fen == 0:
        raise InvalidValue(_("--amount must not be zero"))
    check_line(amount_fen, what="--amount")
    if kind in ("waiver", "discount") and amount_fen > 0:
        raise InvalidValue(
            _("a {kind} lowers the bill: give a negative --amount such as -50.00").format(
                kind=_(ADJUSTMENT_KINDS[kind])
            )
        )
    if not reason.strip():
        raise InvalidValue(_("--reason is required: say why"))
    if amount_fen > 0 and reads_as_penalty(reason):
        raise InvalidValue(
            _(
                "--reason {reason}: charging a late fee or a penalty by a correction is not "
                "allowed. {rule}"
            ).format(reason=repr(reason.strip()), rule=PENALTY_RULE)
        )
    if not approved_by.strip():
        raise InvalidValue(_("--approved-by is required: who approved it"))


def _upward_basis(conn: sqlite3.Connection, basis_ref: str, on: date) -> str:
    """What an upward correction rests on: a fee item with a price published by ``on``, as
    the record shows it (``PROP 物业服务费 ¥2.50元/㎡·月，2026-10-01 公示``). Refused without one:
    nothing beyond the posted fees is charged (LEGAL rule 8)."""
    code = basis_ref.strip()
    if not code:
        raise InvalidValue(
            _(
                "an upward correction (--kind correction with a positive amount) names the "
                "published fee item it rests on: --basis-ref and the item's code (such as PROP), "
                "and who approved it, --approved-by (LEGAL rule 8: no fee that is not published)"
            )
        )
    known = {item.code: item for item in load_items(conn)}
    item = known.get(code) or known.get(code.upper())
    published = [
        p for p in (item.prices if item else ()) if p.published_on and p.published_on <= on
    ]
    if not published:
        raise InvalidValue(
            _(
                "--basis-ref {code}: {why}; an upward correction rests only on a published fee "
                "item and price (see propfee fees list)"
            ).format(
                code=code,
                why=_("no such fee item")
                if item is None
                else _("the item has no published price yet"),
            )
        )
    price = item.price_on(on) if item.price_on(on) in published else published[-1]
    return f"{item.code} {item.name} ¥{price.text}{item.unit_label}，{price.published_on} 公示"


def _check_approval(kind: str, amount_fen: int, approved_by: str, ref: str, settings) -> None:
    """An approval record has a shape: someone named, and a reference to find again. Under
    酬金制 every reduction needs the owners' decision; an upward correction needs an
    approver everywhere."""
    label = (
        _("an upward correction")
        if amount_fen > 0
        else _("a {kind} (lowering what is due)").format(kind=_(ADJUSTMENT_KINDS[kind]))
    )
    if not approver_ok(approved_by):
        raise InvalidValue(
            _("--approved-by {name}: {rule}").format(
                name=repr(approved_by.strip()), rule=APPROVER_RULE
            )
        )
    if amount_fen > 0:
        return
    if not ref.strip():
        raise InvalidValue(
            _(
                "under the commission system (酬金制) the fees belong to the owners: {what} "
                "names the owners' assembly's or committee's decision, --approval-ref, and its "
                "date, --approved-on (LEGAL rule 11)"
            ).format(what=label)
        )
    if not reference_ok(ref):
        raise InvalidValue(
            _("--approval-ref {ref} does not look like a decision's reference: {rule}").format(
                ref=repr(ref.strip()), rule=REFERENCE_RULE
            )
        )


__all__ = ["adjust", "bills_between", "created_bills", "months_to_bill", "price_str", "run_bills"]


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
    credited_fen: int = 0  # taken off the old bill (differs from amount_fen for a new area)
    area: str = ""  # the area the new bill is at, when an area correction moved it


@dataclass(frozen=True)
class Kept:
    """A bill left with whom it was issued to, because money is paid on it."""

    bill_id: int
    item: str
    period: str
    party: str


def rebill(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    first_day: date,
    as_of: date,
    now,
    settings,
    operator: str = "",
    area: bool = False,
    kept: list[Kept] | None = None,
) -> list[Move]:
    """Bring a unit's bills from ``first_day`` in line with who is responsible now — after a
    sale or a delivery recorded once those days were already billed. Each day billed to the
    wrong party is taken off its bill by a correction adjustment and billed to the right one
    on a new bill of the same period; nothing is edited or deleted.

    With ``area``, days billed at an area other than the unit's (an area corrected from
    ``first_day``) are re-billed the same way at its area. A bill with money paid on it is
    refused (the message names it and the reversal to make first) — unless ``kept`` is a
    list: then it stays with whom it was issued to and is named there."""
    rebilling = _Rebilling(conn, unit_code, first_day, as_of, now, settings, operator)
    rebilling.area, rebilling.kept = area, kept
    for bill in store.unit_bills_from(conn, rebilling.unit.id, first_day.isoformat()):
        rebilling.correct(*bill)
    return rebilling.finish()


def rebill_after_import(
    conn: sqlite3.Connection, report, *, as_of: date, now, settings, operator: str = ""
) -> None:
    """Re-bill, in the roster import's own transaction, the days a changed delivery date or
    owner moved to another party (LEGAL rule 9): dunning never reaches a buyer for the
    developer's days. A unit whose bills cannot be moved (money paid on them) is left as it
    is, and the report says what to do."""
    for code, day in report.rebill_from:
        try:
            with store.savepoint(conn, "rebill_unit"):
                report.rebilled.extend(
                    rebill(
                        conn,
                        code,
                        first_day=date.fromisoformat(day),
                        as_of=as_of,
                        now=now,
                        settings=settings,
                        operator=operator,
                    )
                )
        except PropfeeError as exc:
            report.notices.append(
                _(
                    "{unit}: the bills from {day} went to the earlier payer and could not be "
                    "re-billed ({error}); once that is dealt with, run {command}"
                ).format(
                    unit=code, day=day, error=exc, command=f"propfee rebill {code} --from {day}"
                )
            )


def rebill_after_edit(
    conn: sqlite3.Connection,
    unit_code: str,
    first_day: date,
    *,
    change: str,
    as_of: date,
    now,
    settings,
    operator: str = "",
    kind_was: str = "",
) -> tuple[list[Move], list[Kept]]:
    """Bring a unit's bills in line after an edit (``propfee units set`` / ``units sell``),
    inside the edit's transaction. ``change`` says which: ``area`` (corrected from
    ``first_day``: re-billed at the new area, a paid bill refused), ``sale`` (the days from
    ``first_day`` re-billed to the buyer, a paid bill kept with the seller and named), or
    ``kind`` (from ``kind_was``: refused while a bill from ``first_day`` is of a fee item the
    change would add or take away — re-billing a kind is not done for the user)."""
    if change == "kind":
        _refuse_kind_change(conn, unit_code, first_day, kind_was, as_of, now, settings)
        return [], []
    kept: list[Kept] | None = None if change == "area" else []
    moves = rebill(
        conn,
        unit_code,
        first_day=first_day,
        as_of=as_of,
        now=now,
        settings=settings,
        operator=operator,
        area=change == "area",
        kept=kept,
    )
    return moves, kept or []


def _refuse_kind_change(conn, unit_code, first_day: date, kind_was: str, as_of, now, settings):
    """Refuse a new kind while bills from ``first_day`` still charge a fee item that applies
    to one kind and not the other (the bill run would otherwise charge both)."""
    rebilling = _Rebilling(conn, unit_code, first_day, as_of, now, settings, "")
    unit, items = rebilling.unit, rebilling.items
    affected = []
    for bill_id, item_id, _u, period, _a, _b, _c, opening, _d in store.unit_bills_from(
        conn, unit.id, first_day.isoformat()
    ):
        item = items[item_id]
        before = item.applies_to(kind_was, unit.building, unit.code)
        if opening or before == item.applies_to(unit.kind, unit.building, unit.code):
            continue
        if bill_balance(conn, bill_id).net_fen > 0:
            affected.append(
                _("bill {bill} ({item} {period})").format(
                    bill=bill_id, item=item.name, period=period
                )
            )
    if affected:
        raise PropfeeError(
            _(
                "making {unit} {kind} changes the fee items that apply, and {bills}{more} have "
                "been billed from {day}: set --from after those bills, or first correct them with "
                "propfee adjust BILL --kind correction, then correct the unit's kind"
            ).format(
                unit=unit.code,
                kind=kind_label(unit.kind),
                bills=_(", ").join(affected[:5]),
                more=_(" and more") if len(affected) > 5 else "",
                day=first_day,
            )
        )


class _Rebilling:
    """One unit's re-billing: what it reads once (the unit and who held it, fee items, the
    names of its parties) and the moves made so far; the new bills wait in the bill run's
    queue until ``finish``. Nothing of the other units is read: an import that re-bills many
    units costs each of them what one costs."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        unit_code: str,
        first_day: date,
        as_of: date,
        now,
        settings,
        operator: str,
    ):
        code = resolve_code(conn, unit_code)
        self.run = run = BillRun(conn, settings, now, as_of, codes=[code])
        unit = next((u for u in run.units if u.code == code), None)
        if unit is None:
            raise NotFound(_("no unit {code}").format(code=repr(code)))
        self.conn, self.unit, self.settings = conn, unit, settings
        self.first_day, self.as_of, self.operator = first_day, as_of, operator
        self.items = {item.id: item for item in load_items(conn)}
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.names = store.party_names_of_unit(conn, unit.id)
        self.moves: list[Move] = []
        self.area = False  # re-bill days billed at another area too
        self.kept: list[Kept] | None = None  # where paid bills go instead of a refusal

    def correct(self, bill_id, item_id, party, period, seq, frm, to, opening, quantity) -> None:
        """Move the days of one bill that are now another party's, or (with ``area``) billed
        at another area, onto new bills."""
        item = self.items[item_id]
        if opening or item.basis in ("metered", "one_off"):
            return
        old_base = self.wrong_area(item, quantity)
        segments = self.wrong_days(item, party, period, seq, frm, to, every=old_base is not None)
        if not segments:
            return
        base = self.unit.area_x100 if item.basis == "area" else ONE
        if base is None:
            return
        queued = self.queue_new_bills(item, period, base, segments)
        moved = sum(bill[9] for bill, _party in queued)
        credit = moved
        if old_base is not None:  # what those days came to at the old area, and never more
            credit = min(  # than the bill holds (a vacancy discount took some off)
                self.amount_at(item, period, old_base, segments),
                bill_balance(self.conn, bill_id).net_fen,
            )
        if (not moved and not credit) or not self.movable(bill_id, item, period, party, credit):
            self.run.new_bills = [b for b in self.run.new_bills if b not in {q[0] for q in queued}]
            return
        reason = (
            f"{self.first_day}起面积更正，按新面积改开"
            if old_base is not None
            else f"{self.first_day}起责任方变更，改由新账单收取"
        )
        if credit:
            store.insert_correction(
                self.conn,
                bill_id,
                -credit,
                reason,
                self.operator or "rebill",
                self.as_of.isoformat(),
                self.stamp,
            )
        for number, (bill, new_party) in enumerate(queued):
            self.moves.append(
                Move(
                    bill_id,
                    period,
                    item.code,
                    bill[6],
                    bill[7],
                    self.names.get(party, ""),
                    self.names.get(new_party, "") or self.settings.estate.developer,
                    bill[9],
                    bill[0],
                    credit if number == 0 else 0,
                    bill[10] if old_base is not None else "",
                )
            )

    def wrong_area(self, item: FeeItem, quantity: str) -> int | None:
        """The area (hundredths) a bill was made at, when re-billing by area and it is not
        the unit's area now; else None."""
        if not self.area or item.basis != "area" or self.unit.area_x100 is None:
            return None
        if not quantity or quantity == hundredths_str(self.unit.area_x100):
            return None
        try:
            return int(Decimal(quantity) * 100)
        except (InvalidOperation, ValueError):
            return None

    def amount_at(self, item: FeeItem, period: str, base: int, segments) -> int:
        """What the days of ``segments`` came to at ``base``: the credit that takes them off a
        bill made at that area (rounded once per run of days, as the bill was)."""
        cycle = periods.cycle_of(date.fromisoformat(period + "-01"), item.cycle)
        prices = _price_runs(item, *cycle)
        cycle_days = periods.days(*cycle)
        runs: list[list[date]] = []
        for first, last, _party in segments:
            if runs and runs[-1][1] + timedelta(days=1) == first:
                runs[-1][1] = last
            else:
                runs.append([first, last])
        total = 0
        for first, last in runs:
            numerator = 0
            for p_first, p_last, price in prices:
                lo, hi = max(first, p_first), min(last, p_last)
                if lo <= hi:
                    numerator += price.price_x10000 * base * item.months * periods.days(lo, hi)
            total += round_div(numerator, 10000 * cycle_days)
        return total

    def movable(self, bill_id: int, item: FeeItem, period: str, party, moved: int) -> bool:
        """Whether ``moved`` may come off the bill; a paid bill is refused, or kept (and
        named) when the caller asked for that."""
        try:
            self.check_movable(bill_id, item, period, moved)
        except PropfeeError:
            if self.kept is None:
                raise
            self.kept.append(Kept(bill_id, item.name, period, self.names.get(party, "")))
            return False
        return True

    def wrong_days(self, item, party, period, seq, frm: str, to: str, *, every: bool = False):
        """(first, last, party) runs of the bill's days from ``first_day`` that another party
        is responsible for now (``every``: all of them, billed at another area) — apart from
        days a later bill of the period already took over (an earlier re-bill)."""
        taken = _date_spans(store.later_bill_spans(self.conn, self.unit.id, item.id, period, seq))
        start, end = max(date.fromisoformat(frm), self.first_day), date.fromisoformat(to)
        return [
            (a, b, p)
            for lo, hi in _free_days(taken, start, end)
            if lo <= hi
            for a, b, p in self.run.payer_segments(self.unit, lo, hi)
            if every or p != party
        ]

    def queue_new_bills(self, item, period, base, segments) -> list[tuple[tuple, int]]:
        """Queue a new bill of the period for each segment; (bill, party) of those queued."""
        cycle = periods.cycle_of(date.fromisoformat(period + "-01"), item.cycle)
        prices = _price_runs(item, *cycle)
        due = periods.due_date(cycle[0], item.due_day)
        seq = store.next_seq(self.conn, self.unit.id, item.id, period)
        report = BillRunReport([period])
        queued = []
        for a, b, new_party in segments:
            before = len(self.run.new_bills)
            if self.run._add_segment(
                item, self.unit, new_party, period, seq, a, b, cycle, prices, base, due, report
            ):
                queued.append((self.run.new_bills[before], new_party))
                seq += 1
        return queued

    def check_movable(self, bill_id: int, item: FeeItem, period: str, moved: int) -> None:
        """Refuse to move money off a bill that has it paid, or more than the bill holds."""
        balance = bill_balance(self.conn, bill_id)
        if balance.net_fen - moved < balance.paid_fen:
            receipts = store.receipts_paying(self.conn, bill_id)
            why = _("area correction") if self.area else _("change of payer")
            how = (
                " ".join(f"propfee reverse {r} --reason {why}" for r in receipts)
                if receipts
                else "propfee reverse RECEIPT"
            )
            paid = format_money(balance.paid_fen)
            held_by = (
                _(" (receipt {receipts})").format(receipts=_(", ").join(receipts))
                if receipts
                else ""
            )
            if self.area:
                raise PropfeeError(
                    _("bill {bill} ({item} {period}) has {paid} paid on it").format(
                        bill=bill_id, item=item.name, period=period, paid=paid
                    )
                    + held_by
                    + _(
                        "; re-billing by the new area takes {amount} off this paid bill: first "
                        "reverse that payment ({how}), then correct the area again; the money "
                        "reversed can be taken again or kept as credit"
                    ).format(amount=format_money(moved), how=how)
                )
            raise PropfeeError(
                _("bill {bill} ({item} {period}) has {paid} paid on it").format(
                    bill=bill_id, item=item.name, period=period, paid=paid
                )
                + held_by
                + _(
                    "; {amount} of it belongs to another party now. Reverse that payment first "
                    "({how}), then re-bill"
                ).format(amount=format_money(moved), how=how)
            )
        if moved > balance.net_fen:
            moved_text = format_money(moved)
            raise PropfeeError(
                _("bill {bill}: {amount} cannot be moved off a bill of {net}").format(
                    bill=bill_id, amount=moved_text, net=format_money(balance.net_fen)
                )
            )

    def finish(self) -> list[Move]:
        """Write the new bills and keep the corrected bills' settled-on days true."""
        self.run.flush(BillRunReport([]))
        if self.moves:
            refresh_settled(self.conn, sorted({m.bill_id for m in self.moves}), self.as_of)
        return self.moves
