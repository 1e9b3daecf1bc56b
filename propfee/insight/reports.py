"""The collection report (收缴率): how much of what was billed has been collected, how much of
the arrears carried in was cleared, who has not paid and why, and the trend.

For a range of periods P1…P2 (one month when P1 = P2), its first day S, its last day E, the
as-of day D and the window's end C = min(E, D):

    current bills   the bills of periods P1…P2 whose cycle has begun by D (covers_from <= D):
                    a bill of a later cycle, billed ahead, is not due as of D
    billed          their amounts                                       应收（原始）
    adjusted        their adjustments made on or before D               减免/调整
    due             billed + adjusted                                   当期应收
    collected       allocations to them dated on or before D            当期实收
    当期收缴率       collected ÷ due

    arrears bills   bills of periods before P1 that still owed something on S, or that a
                    reversal dated from S to C re-opened
    arrears         what they owed at the start of S (adjustments and allocations before S)
    re-opened       allocations to them dated before S that a reversal dated from S to C
                    took back (money collected before the period, un-collected in it)
    arrears due     arrears + re-opened + their adjustments made from S to C     往期欠费
    cleared         allocations to them dated from S to C, less reversals of those
                    (a reversal of money collected before S is re-opened, not cleared) 清欠实收
    清欠率           cleared ÷ arrears due

    综合收缴率       (collected + cleared) ÷ (due + arrears due)

When D is before S the arrears window is empty (there are no arrears yet) and no bill of
P1…P2 whose cycle starts in its period is due: the rates are None, as for a month with nothing
billed. Every figure depends only on
business dates (covers_from, made_on, allocated_on, reversed_on), never on when a row was
written, so a report as of D reads the same whenever it is run.

"Collected" is money allocated to a bill: an allocation is dated the day the payment was
received (or, for credit applied later, the day it was applied), and a reversal adds negative
allocations dated the reversal day — so a payment reversed on or before the day counts for
nothing, one reversed later still counts. Credit not yet applied to a bill is not collection,
and a waiver or discount is not collection either: it lowers what is due. Late fees (违约金,
fee item LATEFEE) are left out unless ``late_fees`` is set.

Everything is summed in SQL over integer fen; a rate is kept as its two integers and rounded
(half up, two places) only when shown; a rate over nothing is None ("—").
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from propfee.collection.arrears import (
    aged,
    aging_since,
    bucket_labels,
    contacts_as_of,
    owed_by_age,
)
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.core.periods import add_months, month_end, parse_period, period_label
from propfee.insight import report_store
from propfee.roster.units import KINDS, kind_label, natural_key
from propfee.service.complaints import fee_disputes

GROUPINGS = ("building", "fee", "kind")
TREND_PERIODS = 12
NO_REASON = "none"
REASON_LABELS = {
    "forgot": N_("forgot to pay"),
    "dispute": N_("service dispute"),
    "hardship": N_("financial hardship"),
    "refusal": N_("refuses to pay"),
    "other": N_("other reason"),
    NO_REASON: N_("no reason recorded"),
}


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator as a percentage rounded half up to two places, exactly (integer
    arithmetic); None when the denominator is zero."""
    if not denominator:
        return None
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    quotient, remainder = divmod(abs(numerator) * 10000, abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return Decimal(sign * quotient).scaleb(-2).quantize(Decimal("0.01"))


@dataclass
class Figures:
    """The figures of one group (a building, a fee item, a kind of unit) or of the total."""

    key: str
    label: str
    billed_fen: int = 0
    adjusted_fen: int = 0
    collected_fen: int = 0
    households: int = 0  # units with a current bill
    unpaid_households: int = 0  # units still owing on a current bill as of D
    unpaid_fen: int = 0
    arrears_fen: int = 0
    arrears_adjusted_fen: int = 0
    reopened_fen: int = 0  # taken back from arrears bills by reversals in the window
    cleared_fen: int = 0

    @property
    def due_fen(self) -> int:
        return self.billed_fen + self.adjusted_fen

    @property
    def arrears_due_fen(self) -> int:
        return self.arrears_fen + self.arrears_adjusted_fen + self.reopened_fen

    @property
    def all_due_fen(self) -> int:
        return self.due_fen + self.arrears_due_fen

    @property
    def all_collected_fen(self) -> int:
        return self.collected_fen + self.cleared_fen

    @property
    def current_rate(self) -> Decimal | None:
        return percent(self.collected_fen, self.due_fen)

    @property
    def clearance_rate(self) -> Decimal | None:
        return percent(self.cleared_fen, self.arrears_due_fen)

    @property
    def overall_rate(self) -> Decimal | None:
        return percent(self.all_collected_fen, self.all_due_fen)

    def add(self, other: Figures) -> None:
        for name in (
            "billed_fen",
            "adjusted_fen",
            "collected_fen",
            "unpaid_fen",
            "arrears_fen",
            "arrears_adjusted_fen",
            "reopened_fen",
            "cleared_fen",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class ReasonLine:
    reason: str
    label: str
    households: int
    unpaid_fen: int


@dataclass(frozen=True)
class AgingLine:
    """One aging bucket of what is overdue as of the day: its days (``1-15``, ``366+``), the
    households with money in it, and the money."""

    days: str
    households: int
    owed_fen: int


@dataclass(frozen=True)
class TrendPoint:
    """One period's own bills: 当期收缴率 as of D, and as it stood on the period's last day
    (or D, if earlier) — adjustments and allocations up to that day."""

    period: str
    due_fen: int
    collected_fen: int
    due_at_end_fen: int
    collected_at_end_fen: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.collected_fen, self.due_fen)

    @property
    def rate_at_end(self) -> Decimal | None:
        return percent(self.collected_at_end_fen, self.due_at_end_fen)


@dataclass
class Collection:
    first_period: str
    last_period: str
    as_of: str
    window_end: str  # C = min(last day of the range, as-of): the end of the arrears window
    by: str | None
    late_fees: bool
    total: Figures
    groups: list[Figures] = field(default_factory=list)
    reasons: list[ReasonLine] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    aging: list[AgingLine] | None = None  # what is overdue on the day, when it was asked for

    @property
    def period(self) -> str:
        if self.first_period == self.last_period:
            return self.first_period
        return f"{self.first_period}～{self.last_period}"


class _Tally:
    """The figures as the sums come in: each group's, the households billed and still unpaid
    in all groups, and what each (unit, party) owes on a current bill and the oldest day it
    fell due."""

    def __init__(self, label_of: Callable[[str], str]):
        self.label_of = label_of
        self.groups: dict[str, Figures] = {}
        self.households: tuple[int, int] | None = None  # (billed, unpaid) in all groups
        self.owing: dict[tuple[int, int | None], int] = {}  # (unit, party) -> unpaid
        self.lapse: dict[tuple[int, int | None], str] = {}  # (unit, party) -> oldest unpaid due day

    def group(self, key: object) -> Figures:
        text = "" if key is None else str(key)
        found = self.groups.get(text)
        if found is None:
            found = self.groups[text] = Figures(text, self.label_of(text))
        return found

    def add_current(self, sums: Iterable[tuple]) -> None:
        """The current bills, summed per group and per (unit, party) owing (see
        ``report_store.current_bill_sums``)."""
        for (
            kind,
            key,
            unit_id,
            party_id,
            billed,
            adjusted,
            paid,
            unpaid,
            units,
            unpaid_units,
            oldest,
        ) in sums:
            if kind == report_store.OWING:
                self.owing[(unit_id, party_id)] = unpaid
                self.lapse[(unit_id, party_id)] = oldest
            elif kind == report_store.ALL_GROUPS:
                self.households = (units, unpaid_units)
            else:
                figures = self.group(key)
                figures.billed_fen += billed
                figures.adjusted_fen += adjusted
                figures.collected_fen += paid
                figures.unpaid_fen += unpaid
                figures.households += units
                figures.unpaid_households += unpaid_units

    def add_arrears(self, sums: Iterable[tuple]) -> dict[int, tuple[int, int]]:
        """The arrears bills, summed per unit, party and group: a group counts those that owed
        something on S or were re-opened; the oldest day still unpaid moves back for a
        (unit, party) already owing on a current bill. Returns the aging that came with them
        (units, owed) by bucket, if it did (see ``report_store.arrears_bill_sums``)."""
        aging: dict[int, tuple[int, int]] = {}
        for kind, unit_id, party_id, key, opening, adjusted, back, cleared, oldest in sums:
            if kind == report_store.AGING:  # bucket, units, -, owed
                aging[unit_id] = (party_id, opening)
                continue
            if opening > 0 or (back or 0) > 0:
                figures = self.group(key)
                figures.arrears_fen += opening
                figures.arrears_adjusted_fen += adjusted or 0
                figures.reopened_fen += back or 0
                figures.cleared_fen += cleared or 0
            pair = (unit_id, party_id)
            if oldest and pair in self.lapse:
                self.lapse[pair] = min(self.lapse[pair], oldest)
        return aging

    def totals(self, order_of: Callable[[str], tuple]) -> tuple[list[Figures], Figures]:
        """The groups in order, and their total: a unit is in one group, unless the
        households in all groups were counted (grouped by fee item)."""
        total = Figures("", _("Total"))
        ordered = sorted(self.groups.values(), key=lambda g: order_of(g.key))
        for figures in ordered:
            total.add(figures)
            total.households += figures.households
            total.unpaid_households += figures.unpaid_households
        if self.households is not None:
            total.households, total.unpaid_households = self.households
        return ordered, total


def _months(first: date, last: date, by: str | None) -> tuple[date, date]:
    """The range's first and last month starts, checked with the grouping."""
    if by is not None and by not in GROUPINGS:
        raise InvalidValue(_("--by must be one of {values}").format(values=", ".join(GROUPINGS)))
    first, last = first.replace(day=1), last.replace(day=1)
    if last < first:
        raise InvalidValue(
            _("--to {last} is before --from {first}").format(
                last=period_label(last), first=period_label(first)
            )
        )
    return first, last


def collection(
    conn: sqlite3.Connection,
    *,
    first: date,
    last: date,
    as_of: date,
    by: str | None = None,
    late_fees: bool = False,
    trend: int = TREND_PERIODS,
    aging_edges: tuple[int, ...] | None = None,
) -> Collection:
    """The collection report for the periods from ``first`` to ``last`` (month starts) as of
    ``as_of``, grouped ``by`` building, fee or kind (or not), with the trend of the ``trend``
    periods ending at ``last``; with ``aging_edges``, and what is overdue on the day in the
    aging buckets of those edges (``aging``: read with the arrears where it can be)."""
    first, last = _months(first, last, by)
    start = first.isoformat()
    window_end = min(month_end(last), as_of).isoformat()
    day = as_of.isoformat()
    p1, p2 = period_label(first), period_label(last)
    late_id = -1 if late_fees else report_store.late_fee_item_id(conn)
    label_of, order_of = _grouping(conn, by)
    tally = _Tally(label_of)
    # the current bills: those whose cycle has begun by D (covers_from <= D) — a bill of a
    # later cycle, billed ahead, is not due yet, and money paid on it is paid in advance, not
    # collected
    tally.add_current(report_store.current_bill_sums(conn, by, p1, p2, day, late_id))
    # the arrears bills: only a bill still open on S can have owed anything then (a bill
    # settled before S has had no movement since: see ledger.SETTLE_SQL), or one a reversal
    # in the window has re-opened (it is open again). What each owed on the day before S, what
    # was adjusted and allocated from S to C, what reversals in the window took back of
    # allocations made before S (re-opened arrears: added to what is due, not taken from what
    # was cleared), and what it owes on D. When D is before S the window is empty: there are
    # no arrears yet.
    lines = None
    if as_of >= first:
        since = aging_since(as_of, aging_edges) if aging_edges else None
        sums, shared = report_store.arrears_bill_sums(
            conn, by, start, window_end, day, p1, p2, late_id, since
        )
        found = tally.add_arrears(sums)
        if shared and aging_edges:
            lines = _aging_lines(aging_edges, aged(found, aging_edges))
    if aging_edges and lines is None:
        lines = _aging_lines(aging_edges, owed_by_age(conn, as_of=as_of, edges=aging_edges))
    ordered, total = tally.totals(order_of)
    # the trend's last month is the report's own when it covers that month alone as of a day
    # in it: its figures are the totals above, not read again
    known = None
    if first == last and as_of <= month_end(last):
        due, paid = total.billed_fen + total.adjusted_fen, total.collected_fen
        known = TrendPoint(p2, due, paid, due, paid)
    return Collection(
        p1,
        p2,
        day,
        window_end,
        by,
        late_fees,
        total,
        ordered if by else [],
        _reasons(conn, tally.owing, tally.lapse, as_of),
        _trend(conn, last, as_of, late_id, trend, known) if trend else [],
        lines,
    )


def _grouping(conn: sqlite3.Connection, by: str | None):
    """(key -> label, key -> sort key) of a bill's group (its key: report_store.GROUP_KEYS)."""
    if by == "building":
        # a "building" of parking spaces only (the demo's P-036 is in building P) is not a 栋
        parking = report_store.parking_buildings(conn)

        def label(key: str) -> str:
            if not key:
                return _("(no building)")
            if key in parking:
                return _("{building} (parking)").format(building=key)
            return _("Building {building}").format(building=key)

        return label, lambda key: (key == "", key in parking, natural_key(key))
    if by == "kind":
        return kind_label, lambda key: (list(KINDS).index(key) if key in KINDS else 99,)
    if by == "fee":
        items = {
            code: (position, f"{code} {name}")
            for code, name, position in report_store.fee_items(conn)
        }
        return (
            lambda key: items.get(key, (0, key))[1],
            lambda key: (items.get(key, (0, key))[0], key),
        )
    return lambda key: _("Total"), lambda key: (0,)


def _reasons(
    conn: sqlite3.Connection,
    owing: dict[tuple[int, int | None], int],
    lapse: dict[tuple[int, int | None], str],
    as_of: date,
) -> list[ReasonLine]:
    """The reason recorded for each household still owing on a current bill, read as
    ``propfee overdue`` reads it (see ``_reason``; an open fee-dispute complaint makes it a
    dispute). A unit owed by two parties (a sold unit, a tenant) counts once, under the party
    that owes more — or, when they owe the same, under one with a reason recorded."""
    if not owing:
        return []

    units = {unit for unit, _ in owing}
    contacts = contacts_as_of(conn, units, as_of)
    disputes = fee_disputes(conn, units, as_of)
    per_unit: dict[int, tuple[int, str]] = {}
    fen_of_unit: dict[int, int] = defaultdict(int)
    for pair, fen in owing.items():
        reason = _reason(contacts.get(pair, []), lapse.get(pair, ""))
        if pair in disputes:
            reason = "dispute"
        unit = pair[0]
        fen_of_unit[unit] += fen
        rank = (fen, reason != "")  # on a tie, the party with a recorded reason
        if unit not in per_unit or rank > per_unit[unit][0]:
            per_unit[unit] = (rank, reason or NO_REASON)
    households: dict[str, int] = defaultdict(int)
    amounts: dict[str, int] = defaultdict(int)
    for unit, (_rank, reason) in per_unit.items():
        households[reason] += 1
        amounts[reason] += fen_of_unit[unit]
    order = list(REASON_LABELS)
    return [
        ReasonLine(r, _(REASON_LABELS.get(r, r)), households[r], amounts[r])
        for r in sorted(households, key=lambda r: (-households[r], order.index(r)))
    ]


def _reason(contacts: list[tuple], lapse: str) -> str:
    """The reason ``arrears.overdue`` gives a (unit, party): a service dispute counts from
    whenever it was recorded until it is resolved; any other reason only if recorded since
    ``lapse``, the day the oldest bill they still owe fell due; the latest one wins."""
    reason = ""
    for at, _channel, outcome, said, *_rest in contacts:
        if outcome == "dispute" or said == "dispute":
            reason = "dispute"
        if outcome == "resolved" and reason == "dispute":
            reason = ""
        if at[:10] < lapse:
            continue
        if said and said != "dispute":
            reason = said
    return reason


def _trend(
    conn: sqlite3.Connection,
    last: date,
    as_of: date,
    late_id: int,
    count: int,
    known: TrendPoint | None = None,
) -> list[TrendPoint]:
    """The ``count`` periods ending at ``last``; ``known``: the last one's point, if it is
    known already."""
    first = add_months(last, -(count - 1))
    day = as_of.isoformat()
    # the bills whose cycle has begun by the day (see ``collection``): amounts, and what was
    # allocated to them (a bill settled by the day was paid its amount and adjustments in
    # full, so only the others are looked up). One query a period, with its last day (or D
    # if earlier) as a constant: an indexed range, no date arithmetic per bill.
    found = {}
    for i in range(count):
        month = add_months(first, i)
        period = period_label(month)
        if known is not None and period == known.period:
            continue
        end = min(as_of, month_end(month)).isoformat()
        found[period] = report_store.trend_period_sums(conn, period, day, end, late_id)
    # the adjustments, few: what is due, and the part of it that settled bills paid
    adjusted = {
        period: (adj, adj_end, settled, settled_end)
        for period, adj, adj_end, settled, settled_end in report_store.trend_adjustment_sums(
            conn, period_label(first), period_label(last), day, late_id
        )
    }
    points = []
    for i in range(count):
        period = period_label(add_months(first, i))
        if known is not None and period == known.period:
            points.append(known)
            continue
        billed, billed_end, paid, paid_end = found.get(period, (0, 0, 0, 0))
        adj, adj_end, settled, settled_end = adjusted.get(period, (0, 0, 0, 0))
        points.append(
            TrendPoint(
                period, billed + adj, paid + settled, billed_end + adj_end, paid_end + settled_end
            )
        )
    return points


def parse_range(
    period: str | None, first: str | None, last: str | None, *, as_of: date
) -> tuple[date, date]:
    """--period, or --from/--to (either alone means that one month), else the as-of month."""
    if period and (first or last):
        raise InvalidValue(_("give --period or --from/--to, not both"))
    if period:
        month = parse_period(period)
        return month, month
    if first or last:
        start = parse_period(first or last, option="--from" if first else "--to")
        end = parse_period(last or first, option="--to" if last else "--from")
        return start, end
    month = as_of.replace(day=1)
    return month, month


def aging(conn: sqlite3.Connection, *, as_of: date, settings) -> list[AgingLine]:
    """What is overdue as of ``as_of`` by how long it has been overdue, in the buckets of the
    settings (``propfee overdue`` reads the same bills: its bucket totals are these), summed
    in SQL."""
    edges = settings.dunning.buckets
    return _aging_lines(edges, owed_by_age(conn, as_of=as_of, edges=edges))


def _aging_lines(edges: tuple[int, ...], totals: list[tuple[int, int]]) -> list[AgingLine]:
    return [
        AgingLine(label, units, owed)
        for label, (units, owed) in zip(bucket_labels(edges), totals, strict=True)
    ]
