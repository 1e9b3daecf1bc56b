"""Late fees (违约金) by the contract's clause, beside the court's likely ceiling.

LEGAL rule 7: a late fee only with a clause in the contract — without one (no
``late_fee.daily_rate`` in the settings) the late fee is zero everywhere. With one it accrues
per bill per overdue day (after the grace days) on what the bill still owes at the end of that
day, so a partial payment lowers the base from its date; a cap and a minimum apply as the
clause says. It is always called 违约金, never 滞纳金.

Beside it, what a court would likely allow (民法典 第585条; 合同编通则解释 第65条): the loss,
taken as simple interest on the same balances at a reference annual rate (LPR-based) over 365
days, and a ceiling of that loss × 1.3; a clause amount above the ceiling is flagged.

Late fees are not bills until the estate decides: ``post`` turns what has accrued and not yet
been posted into bills of the fee item 违约金 (once per source bill and as-of day), which can be
waived like any bill.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from propfee.collection import latefeestore
from propfee.core.errors import InvalidValue, PropfeeError
from propfee.core.i18n import _
from propfee.core.money import decimal_str, round_div
from propfee.payments.ledger import unit_id_of
from propfee.roster.units import resolve_code

LATE_FEE_CODE = "LATEFEE"
LATE_FEE_NAME = "违约金"
SCALE = 10**12  # rates are held as integers over this, so every sum stays exact
FACTOR_SCALE = 10**6  # the court factor, likewise


def simple_interest(principal_fen: int, annual_rate: Decimal, days: int) -> int:
    """Simple daily interest on 365 days, rounded half up to the fen: 100.00 at 10% a year
    for 15 days is 0.41."""
    return round_div(principal_fen * _scaled(annual_rate) * days, 365 * SCALE)


def _scaled(rate: Decimal) -> int:
    scaled = rate * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {rate} has more than 12 decimal places")
    return int(scaled)


@dataclass
class LateFeeLine:
    bill_id: int
    unit_id: int
    unit: str
    party_id: int | None
    payer: str
    period: str
    item: str
    due_on: str
    principal_fen: int  # what the bill is worth after adjustments, as of the day
    owed_fen: int  # what it still owes as of the day
    days: int  # days charged (overdue, after the grace days, above the minimum)
    clause_fen: int  # by the contract's clause (0 without one)
    loss_fen: int  # interest loss at the reference rate
    ceiling_fen: int  # loss × court factor
    posted_fen: int  # already posted as bills
    demanded_fen: int = 0  # what may be demanded: see ``demanded``

    @property
    def above_ceiling(self) -> bool:
        return self.clause_fen > self.ceiling_fen

    @property
    def capped_fen(self) -> int:
        """The clause amount cut to the court ceiling."""
        return min(self.clause_fen, self.ceiling_fen)

    @property
    def unposted_fen(self) -> int:
        return max(self.demanded_fen - self.posted_fen, 0)

    @property
    def over_posted_fen(self) -> int:
        """Posted beyond what may be demanded — a payment recorded since with an earlier date,
        say: to be taken off with an adjustment of the late-fee bill."""
        return max(self.posted_fen - self.demanded_fen, 0)


def demanded(clause_fen: int, ceiling_fen: int, rules) -> int:
    """What a late fee demands — the one rule every list, letter, pack and posting follows:
    the clause amount, cut to the court ceiling unless ``[late_fee] cap_at_ceiling = false``
    (民法典 第585条; 合同编通则解释 第65条; LEGAL rule 7)."""
    return min(clause_fen, ceiling_fen) if rules.cap_at_ceiling else clause_fen


@dataclass(frozen=True)
class Demand:
    """A late fee as a letter or a pack states it: by the clause, cut to the ceiling, and
    what is demanded (one of the two, by ``cap_at_ceiling``)."""

    clause_fen: int
    capped_fen: int
    demanded_fen: int
    cap_at_ceiling: bool

    @property
    def above_ceiling(self) -> bool:
        return self.clause_fen > self.capped_fen


def demand_of(lines: list[LateFeeLine], rules, *, unposted: bool = True) -> Demand:
    """The late fee of these lines as one demand: what is not yet posted as bills (a letter
    lists posted ones among the bills), or everything (``unposted=False``, the pack)."""
    posted = (lambda line: line.posted_fen) if unposted else (lambda line: 0)
    clause = sum(max(line.clause_fen - posted(line), 0) for line in lines)
    capped = sum(max(line.capped_fen - posted(line), 0) for line in lines)
    asked = sum(
        max(demanded(line.clause_fen, line.ceiling_fen, rules) - posted(line), 0) for line in lines
    )
    return Demand(clause, capped, asked, rules.cap_at_ceiling)


def late_fees(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    settings,
    unit_ids: list[int] | None = None,
    bill_ids: list[int] | None = None,
) -> list[LateFeeLine]:
    """The late fee of every bill that was overdue for some day up to ``as_of`` (also those
    paid late since): by the clause, the loss and the ceiling."""
    day = as_of.isoformat()
    bills = latefeestore.bills_overdue_by(conn, day, LATE_FEE_CODE, unit_ids, bill_ids)
    if not bills:
        return []
    ids = json.dumps([b[0] for b in bills])
    moves: dict[int, list[tuple[str, int, int]]] = {}
    for bill_id, on, fen, adjusting in latefeestore.balance_moves(conn, ids, day):
        moves.setdefault(bill_id, []).append((on, fen, adjusting))
    posted = latefeestore.posted_by_source(conn, ids)
    rates = _Rates(settings.late_fee)
    lines = [
        rates.line(bill, moves.get(bill[0], []), posted.get(bill[0], 0), as_of) for bill in bills
    ]
    return [line for line in lines if line.days > 0 or line.posted_fen > 0]


class _Rates:
    """The clause's rate, cap, minimum and grace days, the reference rate and court factor,
    as exact integers."""

    def __init__(self, rules):
        self.rules = rules
        self.rate = _scaled(rules.rate) if rules.has_clause else 0
        self.reference = _scaled(rules.annual_reference)
        self.factor = int(rules.factor * FACTOR_SCALE)
        self.minimum = rules.minimum_fen

    def line(
        self, bill: tuple, moves: list[tuple[str, int, int]], posted: int, as_of: date
    ) -> LateFeeLine:
        """One bill's late fee: by the clause, the loss and the ceiling."""
        bill_id, unit_id, code, party_id, payer, period, item, due_on, amount = bill
        rules, rate, reference = self.rules, self.rate, self.reference
        due = date.fromisoformat(due_on)
        first = due + timedelta(days=rules.grace_days + 1)
        # (balance × days) summed over the stretches of days the balance stayed the same
        balance_days, charged, principal, owed = _stretches(
            amount, moves, first, as_of, self.minimum
        )
        clause = round_div(balance_days * rate, SCALE) if rate else 0
        cap = rules.cap_fen(principal) if rate else None
        if cap is not None:
            clause = min(clause, cap)
        # the loss runs from the day after the due day, grace or not, with no minimum
        lost_days = _stretches(amount, moves, due + timedelta(days=1), as_of, 0)[0]
        loss = round_div(lost_days * reference, 365 * SCALE)
        ceiling = round_div(lost_days * reference * self.factor, 365 * SCALE * FACTOR_SCALE)
        return LateFeeLine(
            bill_id,
            unit_id,
            code,
            party_id,
            payer,
            period,
            item,
            due_on,
            principal,
            owed,
            charged,
            clause,
            loss,
            ceiling,
            posted,
            demanded(clause, ceiling, rules),
        )


def command_words(words: list[str]) -> tuple[bool, str | None]:
    """``[post] [UNIT]`` of the latefee command: whether to post, and the unit."""
    if words and words[0] == "post":
        if len(words) != 2:
            raise InvalidValue(_("give the unit: propfee latefee post UNIT --as-of YYYY-MM-DD"))
        return True, words[1]
    if len(words) > 1:
        raise InvalidValue(_("give at most one unit (or: propfee latefee post UNIT)"))
    return False, words[0] if words else None


_TOTALS = (
    ("late_fee", "clause_fen"),
    ("loss", "loss_fen"),
    ("ceiling", "ceiling_fen"),
    ("demanded", "demanded_fen"),
    ("posted", "posted_fen"),
)
BATCH_UNITS = 500  # units whose late fees a whole-estate listing works out at a time


def _warning(line: LateFeeLine) -> str:
    """A late fee posted beyond what may be demanded: how to take the difference off."""
    return _(
        "{unit} {period} {item}: late fee posted {posted}, now {demanded} may be "
        "demanded (an earlier payment was entered since, or the court ceiling is "
        "exceeded): take the difference off its late-fee bill with propfee adjust "
        "BILL --amount -{over} --kind correction"
    ).format(
        unit=line.unit,
        period=line.period,
        item=line.item,
        posted=decimal_str(line.posted_fen),
        demanded=decimal_str(line.demanded_fen),
        over=decimal_str(line.over_posted_fen),
    )


@dataclass
class LateFeeList:
    """Every bill's late fee as of a day, their totals, and what to warn of."""

    lines: list[LateFeeLine]

    def __iter__(self) -> Iterator[LateFeeLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def totals(self) -> dict[str, int]:
        """Σ by the clause, the loss, the ceiling, what is demanded and what was posted."""
        return {key: sum(getattr(line, attr) for line in self.lines) for key, attr in _TOTALS}

    @property
    def warnings(self) -> list[str]:
        """A late fee posted beyond what may be demanded: how to take the difference off."""
        return [_warning(line) for line in self.lines if line.over_posted_fen]


class SpooledLateFees:
    """A whole estate's late fees, worked out ``BATCH_UNITS`` units at a time and kept in a
    temporary file rather than in memory: iterate it (as often as needed) for the lines in
    the order ``late_fees`` gives them; ``totals`` and ``warnings`` as ``LateFeeList``'s.
    Close it (or use it in a ``with``) to drop the file."""

    def __init__(self, conn: sqlite3.Connection, *, as_of: date, settings) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._sums = {attr: 0 for _key, attr in _TOTALS}
        self.warnings: list[str] = []
        self.count = 0
        try:
            ids = latefeestore.unit_ids_by_code(conn)
            for start in range(0, len(ids), BATCH_UNITS):
                batch = ids[start : start + BATCH_UNITS]
                lines = late_fees(conn, as_of=as_of, settings=settings, unit_ids=batch)
                if lines:
                    self._add(lines)
        except BaseException:
            self.close()
            raise

    def _add(self, lines: list[LateFeeLine]) -> None:
        for line in lines:
            for attr in self._sums:
                self._sums[attr] += getattr(line, attr)
            if line.over_posted_fen:
                self.warnings.append(_warning(line))
        self.count += len(lines)
        pickle.dump([tuple(vars(line).values()) for line in lines], self._file, protocol=5)

    @property
    def totals(self) -> dict[str, int]:
        return {key: self._sums[attr] for key, attr in _TOTALS}

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[LateFeeLine]:
        self._file.seek(0)
        while True:
            try:
                batch = pickle.load(self._file)
            except EOFError:
                return
            for fields in batch:
                yield LateFeeLine(*fields)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpooledLateFees:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def late_fee_list(
    conn: sqlite3.Connection, *, as_of: date, settings, unit_code: str | None = None
) -> LateFeeList:
    """The late fees as of a day, of one unit or of all (for a whole estate's listing see
    ``SpooledLateFees``, which never holds them all)."""
    unit_ids = [unit_id_of(conn, unit_code)] if unit_code is not None else None
    return LateFeeList(late_fees(conn, as_of=as_of, settings=settings, unit_ids=unit_ids))


def _stretches(
    amount: int, moves: list[tuple[str, int, int]], first: date, last: date, minimum: int
) -> tuple[int, int, int, int]:
    """Over the charged days first..last: Σ balance × days (a day's balance is the one at its
    end) and the number of days charged; then the bill's worth after adjustments and what it
    still owes, both at ``last``. ``moves`` are (day, fen, 1 for an adjustment)."""
    moves = sorted(moves)
    worth = amount + sum(
        fen for on, fen, adjusting in moves if adjusting and on <= last.isoformat()
    )
    balance = amount
    index = 0
    total = days = 0
    day = first
    while day <= last:
        while index < len(moves) and moves[index][0] <= day.isoformat():
            balance += moves[index][1]
            index += 1
        upto = last
        if index < len(moves):
            upto = min(last, date.fromisoformat(moves[index][0]) - timedelta(days=1))
        span = (upto - day).days + 1
        if balance > 0 and balance >= minimum:
            total += balance * span
            days += span
        day = upto + timedelta(days=1)
    owed = amount + sum(fen for on, fen, _ in moves if on <= last.isoformat())
    return total, days, worth, owed


# ---------------------------------------------------------------- posting


@dataclass
class PostReport:
    unit: str
    as_of: str
    posted: list[tuple[int, int, int]]  # (new bill, source bill, fen)
    already: int = 0

    @property
    def total_fen(self) -> int:
        return sum(fen for _, _, fen in self.posted)


def post(
    conn: sqlite3.Connection, unit_code: str, *, as_of: date, now: datetime, settings
) -> PostReport:
    """Post what has accrued by the clause — cut to the court ceiling unless the settings say
    otherwise (``demanded``) — and is not yet posted as 违约金 bills (inside the caller's
    transaction). The same as-of day again posts nothing."""

    if not settings.late_fee.has_clause:
        raise PropfeeError(
            _(
                "the settings hold no late-fee clause ([late_fee] daily_rate): without one in "
                "the contract no late fee is charged (Civil Code art. 585; LEGAL rule 7)"
            )
        )
    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    day = as_of.isoformat()
    stamp = now.isoformat(sep=" ", timespec="seconds")
    report = PostReport(code, day, [])
    latest = latefeestore.latest_posting_of_unit(conn, unit_id)
    if latest is not None and day < latest:
        raise PropfeeError(
            _(
                "{unit}'s late fees are posted up to {day} already; post for that day or later"
            ).format(unit=code, day=latest)
        )
    item_id = _late_fee_item(conn, stamp)
    clause = rate_text(settings.late_fee.rate)
    for line in late_fees(conn, as_of=as_of, settings=settings, unit_ids=[unit_id]):
        if latefeestore.posted_on(conn, line.bill_id, day):
            report.already += 1
            continue
        fen = line.unposted_fen
        if fen <= 0:
            continue
        bill_id = _post_line(conn, line, unit_id, item_id, clause, as_of, fen, stamp)
        report.posted.append((bill_id, line.bill_id, fen))
    return report


def _post_line(
    conn: sqlite3.Connection,
    line: LateFeeLine,
    unit_id: int,
    item_id: int,
    clause: str,
    as_of: date,
    fen: int,
    stamp: str,
) -> int:
    """One 违约金 bill for what a bill's late fee accrued since it was last posted."""
    day = as_of.isoformat()
    period = day[:7]
    seq = latefeestore.next_bill_seq(conn, unit_id, item_id, period)
    last = latefeestore.last_posting_of_bill(conn, line.bill_id)
    start = (
        date.fromisoformat(last) + timedelta(days=1)
        if last
        else date.fromisoformat(line.due_on) + timedelta(days=1)
    )
    basis = (
        f"{line.item} {line.period} 逾期违约金（按合同约定{clause}，"
        f"{min(start, as_of).isoformat()}至{day}"
        f"{'，超过法院可能支持的上限，按上限计' if line.demanded_fen < line.clause_fen else ''}）"
    )
    return latefeestore.insert_late_fee_bill(
        conn,
        (
            unit_id,
            item_id,
            line.party_id,
            period,
            seq,
            day,  # a late fee is a debt from the day it is posted
            day,
            day,
            fen,
            basis,
            stamp,
        ),
        source_bill_id=line.bill_id,
        day=day,
        fen=fen,
        stamp=stamp,
    )


def _late_fee_item(conn: sqlite3.Connection, stamp: str) -> int:
    """The fee item late-fee bills belong to (made on first use; never published, never part
    of a bill run)."""
    found = latefeestore.fee_item_id(conn, LATE_FEE_CODE)
    if found is not None:
        return found
    return latefeestore.insert_contract_fee_item(conn, LATE_FEE_CODE, LATE_FEE_NAME, stamp)


def rate_text(rate: Decimal) -> str:
    """0.0005 -> 每日万分之五; 0.003 -> 每日千分之三; else 每日0.0005."""
    for unit, word in ((Decimal("0.0001"), "万分之"), (Decimal("0.001"), "千分之")):
        count = rate / unit
        if count == count.to_integral_value() and 1 <= count <= 9:
            return f"每日{word}{'一二三四五六七八九'[int(count) - 1]}"
    return f"每日{rate.normalize()}"
