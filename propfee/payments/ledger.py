"""The ledger: what each bill and unit owes, derived from bills, adjustments, payments and
allocations (never stored as a number that could drift).

    net         = bill amount + its adjustments
    paid        = its allocations (a reversal adds negative allocations)
    outstanding = net − paid
    credit      = a unit's payments (not reversed) − their allocations

``bill.settled_on`` caches the day a bill became fully paid, so that aging scans only open
bills; it is written in the same transaction as what settles it and re-derived by ``check``.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from propfee.billing.balances import bill_balance
from propfee.billing.bills import BillRunReport, run_bills
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.i18n import N_, _, zh
from propfee.core.money import format_money, round_div
from propfee.payments import check_store, statement_store, store
from propfee.roster.payers import Payers, payer_of, responsible_party
from propfee.roster.units import resolve_code
from propfee.store import audit


@dataclass(frozen=True)
class OpenBill:
    id: int
    unit_id: int
    unit: str
    item: str
    item_name: str
    party_id: int | None
    period: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    outstanding_fen: int
    basis: str


def open_bills(
    conn: sqlite3.Connection, *, unit_ids: list[int] | None = None, due_before: date | None = None
) -> list[OpenBill]:
    """Bills not yet fully paid, oldest due first, optionally for some units / due before a day."""
    rows = store.open_bill_rows(
        conn, unit_ids, due_before.isoformat() if due_before is not None else None
    )
    return [OpenBill(*row) for row in rows if row[11] > 0]


@dataclass(frozen=True)
class BillLine:
    id: int
    period: str
    item: str
    item_name: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    adjusted_fen: int
    paid_fen: int
    settled_on: str | None
    party: str
    basis: str
    opening: bool

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen + self.adjusted_fen - self.paid_fen


def unit_bills(conn: sqlite3.Connection, unit_id: int) -> list[BillLine]:
    """A unit's bills, oldest first, with adjustments and payments applied."""
    rows = store.unit_bill_rows(conn, unit_id)
    return [BillLine(*row[:13], bool(row[13])) for row in rows]


# ---------------------------------------------------------------- payments

#: each payment channel's name (English msgid; ``channel_label`` gives it in a language)
CHANNEL_NAMES = {
    "wechat": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "bank": N_("bank transfer"),
    "cash": N_("cash"),
    "pos": N_("card"),
    "autodebit": N_("direct debit"),
    "other": N_("other"),
    "opening": N_("opening balance"),
}
#: the channels' Chinese names, as documents handed to owners print them
CHANNELS = {code: zh(name) for code, name in CHANNEL_NAMES.items()}


def channel_label(code: str, lang: str | None = None) -> str:
    """A channel's name for people: in the active language, or ``zh``/``en`` for a document."""
    name = CHANNEL_NAMES.get(code)
    if name is None:
        return code
    if lang == "zh":
        return zh(name)
    return name if lang == "en" else _(name)


@dataclass
class Allocation:
    bill_id: int
    item_name: str
    period: str
    covers_from: str
    covers_to: str
    amount_fen: int
    left_fen: int  # what the bill still owes afterwards


@dataclass
class Payment:
    id: int
    receipt_no: str | None
    unit: str
    unit_id: int
    party: str
    amount_fen: int
    channel: str
    ref: str | None
    paid_on: str
    cashier: str
    note: str
    allocations: list[Allocation]
    credit_fen: int  # what stayed on the account
    discount_fen: int = 0  # a prepayment discount booked with it
    already: bool = False  # the same channel + ref was recorded before

    @property
    def allocated_fen(self) -> int:
        return sum(a.amount_fen for a in self.allocations)


@dataclass(frozen=True, slots=True)
class HeldRef:
    """A payment that holds a channel's reference (one that is not reversed)."""

    id: int
    receipt_no: str | None
    channel: str
    unit_id: int
    unit: str
    amount_fen: int
    paid_on: str


def held_refs(
    conn: sqlite3.Connection, refs: list[str] | None = None, *, reversed_: bool = False
) -> dict[str, list[HeldRef]]:
    """{ref: the payments holding it}, over payments not reversed (a reversed payment gives
    its reference back, so the same money can be recorded again correctly); every reference
    when ``refs`` is None. One payment per channel + reference is enforced here, by the code
    that records payments inside its write transaction (see migration m004). With
    ``reversed_``: the reversed payments instead."""
    rows = store.held_ref_rows(conn, refs, reversed_)
    held: dict[str, list[HeldRef]] = {}
    for ref, *rest in rows:
        held.setdefault(ref, []).append(HeldRef(*rest))
    return held


#: no payment is older than this
EARLIEST_PAID_ON = date(2000, 1, 1)
#: one payment above this is refused unless --large: an amount typed into the wrong field
#: (a transaction number as the amount) must not become a receipt
MAX_PAYMENT_FEN = 10_000_000_00  # ¥10,000,000
#: the most one payment may be even with --large (far below SQLite's 64-bit limit, so sums
#: of many payments never overflow)
MAX_LARGE_PAYMENT_FEN = 1_000_000_000_00  # ¥1,000,000,000


def check_amount(amount_fen: int, *, large: bool = False) -> None:
    """Refuse an absurd amount for one payment."""
    if amount_fen > MAX_LARGE_PAYMENT_FEN:
        raise InvalidValue(
            _("{amount} is more than one payment can be ({most}); check the amount").format(
                amount=format_money(amount_fen), most=format_money(MAX_LARGE_PAYMENT_FEN)
            )
        )
    if amount_fen > MAX_PAYMENT_FEN and not large:
        raise InvalidValue(
            _(
                "{amount} is more than {most}: check the amount (a reference typed as the "
                "amount?); give --large if it is right"
            ).format(amount=format_money(amount_fen), most=format_money(MAX_PAYMENT_FEN))
        )


def unit_id_of(conn: sqlite3.Connection, unit_code: str) -> int:
    """A unit's id by its code as typed (letter case as the roster has it)."""
    code = resolve_code(conn, unit_code)
    unit_id = store.unit_id_by_code(conn, code)
    if unit_id is None:
        raise NotFound(_("no unit {code}").format(code=repr(code)))
    return unit_id


def _next_receipt(conn: sqlite3.Connection, year: int) -> str:
    """The next receipt number of the year, gapless: taken inside the payment's transaction."""
    last = store.next_receipt_number(conn, year)
    return f"{year}-{last:06d}"


def _open_bills_of(
    conn: sqlite3.Connection, unit_id: int, party_id: int | None, bill_ids: list[int] | None = None
) -> list[tuple[int, int]]:
    """(bill id, outstanding) of a unit's open bills: the payer's choice in its order, else
    the party's bills oldest due first, then by fee item order (民法典 第560条)."""
    if bill_ids is not None:
        owed = store.owed_on_bills(conn, unit_id, bill_ids)
        return [(bid, owed[bid]) for bid in bill_ids if owed.get(bid, 0) > 0]
    rows = store.open_bills_of_party(conn, unit_id, party_id)
    return [(bid, left) for bid, left in rows if left > 0]


def _allocate(
    conn: sqlite3.Connection,
    payment_id: int,
    plan: list[tuple[int, int]],
    money: int,
    on: str,
    stamp: str,
) -> tuple[list[tuple[int, int, int]], int]:
    """Spread ``money`` over ``plan`` in order; return ((bill, amount, left)…, unspent)."""
    done = []
    for bill_id, left in plan:
        if money <= 0:
            break
        amount = min(money, left)
        store.insert_allocation(conn, payment_id, bill_id, amount, on, stamp)
        if amount == left:
            store.settle_bill(conn, on, bill_id)
        done.append((bill_id, amount, left - amount))
        money -= amount
    return done, money


def record_payment(
    conn: sqlite3.Connection,
    unit_code: str,
    amount_fen: int,
    *,
    channel: str,
    ref: str | None,
    paid_on: date,
    as_of: date,
    now,
    settings,
    cashier: str = "",
    note: str = "",
    bill_ids: list[int] | None = None,
    payer: str = "",
    source: str = "counter",
    invoice: str = "",
    large: bool = False,
) -> Payment:
    """Record a payment inside the caller's transaction: a gapless receipt number, the money
    allocated to the payer's choice of bills or else oldest due first, and the rest kept as
    credit. The same channel + reference again records nothing and returns the first one."""
    ref = checked_payment(
        amount_fen, channel=channel, ref=ref, paid_on=paid_on, as_of=as_of, large=large
    )
    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    if ref is not None:
        found = _held_for(conn, ref, channel, code, unit_id, amount_fen)
        if found is not None:
            return found
    stamp = now.isoformat(sep=" ", timespec="seconds")
    party = responsible_party(conn, unit_id, paid_on, settings, stamp)
    if bill_ids:
        debtor = _debtor_of_chosen(conn, code, unit_id, bill_ids)
        if debtor is not None:
            party = debtor
    receipt = _next_receipt(conn, as_of.year)
    payment_id = store.insert_payment(
        conn,
        (
            receipt,
            unit_id,
            party,
            amount_fen,
            channel,
            ref,
            paid_on.isoformat(),
            cashier.strip(),
            note.strip(),
            payer.strip(),
            source,
            invoice,
            as_of.isoformat(),
            stamp,
        ),
    )
    plan = _payment_plan(conn, unit_id, party, bill_ids)
    discount = _prepay_discount(conn, plan, amount_fen, paid_on, settings, stamp)
    if discount:
        plan = [(b, _outstanding(conn, b)) for b, _ in plan]
    _allocate(conn, payment_id, plan, amount_fen, paid_on.isoformat(), stamp)
    result = payment_detail(conn, payment_id)
    result.discount_fen = discount
    return result


def checked_payment(
    amount_fen: int, *, channel: str, ref: str | None, paid_on: date, as_of: date, large: bool
) -> str | None:
    """Refuse a payment whose channel, amount, reference or day cannot be; its reference,
    stripped (None when blank)."""
    if channel not in CHANNELS or channel == "opening":
        raise InvalidValue(
            _("--channel must be one of {choices}").format(
                choices=", ".join(c for c in CHANNELS if c != "opening")
            )
        )
    if amount_fen <= 0:
        raise InvalidValue(_("the amount must be greater than zero"))
    check_amount(amount_fen, large=large)
    ref = (ref or "").strip() or None
    if ref is None and channel != "cash":
        raise InvalidValue(
            _("--ref is required for {channel}: the channel's transaction number").format(
                channel=channel_label(channel)
            )
        )
    if paid_on > as_of:
        raise InvalidValue(
            _("--date {day} is in the future (today is {today})").format(day=paid_on, today=as_of)
        )
    if paid_on < EARLIEST_PAID_ON:
        raise InvalidValue(
            _("--date {day} is before {earliest}: check the date").format(
                day=paid_on, earliest=EARLIEST_PAID_ON
            )
        )
    return ref


def _held_for(
    conn: sqlite3.Connection, ref: str, channel: str, code: str, unit_id: int, amount_fen: int
) -> Payment | None:
    """The payment already recorded for this channel + reference, unit and amount (marked
    ``already``); None when nobody holds it; an error when another payment does."""
    held = [h for h in held_refs(conn, [ref]).get(ref, []) if h.channel == channel]
    same = [h for h in held if h.unit_id == unit_id and h.amount_fen == amount_fen]
    if same:
        found = payment_detail(conn, same[0].id)
        found.already = True
        return found
    if held:
        raise PropfeeError(
            _(
                "{channel} {ref} is already recorded as receipt {receipt} for {unit} {amount}; "
                "not {code} {this} (if that receipt is wrong, reverse it and record the payment "
                "again)"
            ).format(
                channel=channel_label(channel),
                ref=ref,
                receipt=held[0].receipt_no,
                unit=held[0].unit,
                amount=format_money(held[0].amount_fen),
                code=code,
                this=format_money(amount_fen),
            )
        )
    return None


def _debtor_of_chosen(
    conn: sqlite3.Connection, code: str, unit_id: int, bill_ids: list[int]
) -> int | None:
    """The party whose debt the payer's chosen bills are, after checking each is an open
    bill of the unit and all are one party's."""
    owned = store.bills_of_unit_among(conn, unit_id, bill_ids)
    strangers = [b for b in bill_ids if b not in owned]
    if strangers:
        raise InvalidValue(
            _("bill {bill} is not a bill of {unit}").format(bill=strangers[0], unit=code)
        )
    for bill_id in dict.fromkeys(bill_ids):
        if _outstanding(conn, bill_id) <= 0:
            name, period, *_rest = store.bill_labels(conn, [bill_id])[bill_id]
            raise InvalidValue(
                _(
                    "--bill {bill} ({item} {period} of {unit}) is already paid; name an open "
                    "bill, or leave --bill out to pay the oldest open bills first"
                ).format(bill=bill_id, item=name, period=period, unit=code)
            )
    # bills of an earlier owner or a tenant are that party's debt: the payment goes on
    # their account (and their receipt), never on whoever holds the unit now
    debtors = store.parties_of_bills(conn, bill_ids)
    if len(debtors) > 1:
        raise InvalidValue(
            _(
                "--bill names bills of different parties (an earlier owner and a later one); "
                "pay each party's bills separately"
            )
        )
    (debtor,) = debtors
    return debtor


def _payment_plan(
    conn: sqlite3.Connection, unit_id: int, party: int | None, bill_ids: list[int] | None
) -> list[tuple[int, int]]:
    """The bills a payment pays, in order: the payer's choice first, then the rest oldest
    due first."""
    plan = _open_bills_of(conn, unit_id, party, list(dict.fromkeys(bill_ids)) if bill_ids else None)
    if bill_ids:  # then the rest, oldest first
        chosen = {b for b, _ in plan}
        plan += [p for p in _open_bills_of(conn, unit_id, party) if p[0] not in chosen]
    return plan


def _outstanding(conn: sqlite3.Connection, bill_id: int) -> int:
    balance = bill_balance(conn, bill_id)
    return balance.outstanding_fen if balance else 0


def _prepay_discount(conn, plan, money: int, paid_on: date, settings, stamp: str) -> int:
    """Paying ``billing.prepay_months`` or more months ahead in full earns
    ``billing.prepay_discount`` off those months, booked as discount adjustments. The payer
    pays the discounted amount, so the months are counted at their discounted price."""
    months = settings.billing.prepay_months
    share = settings.billing.prepay_discount_share
    if not months or not share or not plan:
        return 0
    rate = int(share * 10000)
    info = store.bill_due_and_period(conn, [b for b, _ in plan])
    covered, left = [], money
    for bill_id, owed in plan:
        due_on, _period = info[bill_id]
        ahead = due_on > paid_on.isoformat()
        cost = owed - round_div(owed * rate, 10000) if ahead else owed
        if left < cost:
            break
        left -= cost
        if ahead:
            covered.append((bill_id, owed))
    if len({info[b][1] for b, _ in covered}) < months:
        return 0
    total = 0
    for bill_id, owed in covered:
        fen = round_div(owed * rate, 10000)
        if fen:
            store.insert_discount(
                conn,
                bill_id,
                fen,
                f"预缴{len(covered)}期优惠",
                paid_on.isoformat(),
                stamp,
                settings.billing.discount_approval_ref.strip(),
            )
            total += fen
    return total


def payment_detail(conn: sqlite3.Connection, payment_id: int) -> Payment:
    row = store.payment_row(conn, payment_id)
    allocations = []
    for bill_id, amount in store.payment_allocations(conn, payment_id):
        label = store.bill_labels(conn, [bill_id])[bill_id]
        allocations.append(
            Allocation(
                bill_id, label[0], label[1], label[2], label[3], amount, _outstanding(conn, bill_id)
            )
        )
    reversed_ = store.is_reversed(conn, payment_id)
    credit = 0 if reversed_ else row[5] - sum(a.amount_fen for a in allocations)
    return Payment(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        allocations,
        credit,
    )


def find_payment(conn: sqlite3.Connection, receipt: str) -> int:
    """A payment by its receipt number (``2026-000123``; ``123`` means this year's)."""
    text = receipt.strip()
    payment_id = store.payment_id_by_receipt(conn, text)
    if payment_id is None and text.isdigit():
        payment_id = store.latest_payment_id_numbered(conn, int(text))
    if payment_id is None:
        raise NotFound(_("no receipt {receipt}").format(receipt=repr(receipt)))
    return payment_id


# ---------------------------------------------------------------- reversals


@dataclass
class Reversal:
    receipt_no: str
    unit: str
    amount_fen: int
    reopened: list[int]  # bills that are open again
    credit_removed_fen: int
    credit_left_fen: int = 0  # the unit's other credit, which could pay the re-opened bills


def reverse_payment(
    conn: sqlite3.Connection, receipt: str, *, reason: str, on: date, now, operator: str = ""
) -> Reversal:
    """Reverse a payment: a reversal row linked to it, and negative allocations that undo each
    of its allocations; the bills re-open and its credit is gone. Nothing is deleted."""
    if not reason.strip():
        raise InvalidValue(_("--reason is required: say why the payment is reversed"))
    payment_id = find_payment(conn, receipt)
    held = payment_detail(conn, payment_id)
    done = store.reversal_day(conn, payment_id)
    if done is not None:
        raise PropfeeError(
            _("receipt {receipt} was already reversed on {day}").format(
                receipt=held.receipt_no, day=done
            )
        )
    if held.channel == "opening":
        raise PropfeeError(_("an opening balance is not a receipt; correct it with propfee adjust"))
    recorded_on, last_allocated = store.recorded_and_last_allocated(conn, payment_id)
    earliest = max(held.paid_on, recorded_on or "", last_allocated or "")
    if on.isoformat() < earliest:
        raise InvalidValue(
            _("--as-of {day}: receipt {receipt} was paid on {paid}").format(
                day=on, receipt=held.receipt_no, paid=held.paid_on
            )
            + (
                _(" and recorded on {day}").format(day=recorded_on)
                if recorded_on and recorded_on != held.paid_on
                else ""
            )
            + (
                _(" and applied to bills on {day}").format(day=last_allocated)
                if last_allocated and last_allocated > max(held.paid_on, recorded_on or "")
                else ""
            )
            + _("; a reversal cannot come before it (reverse it on {day} or later)").format(
                day=earliest
            )
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    reversal_id = store.insert_reversal(
        conn, payment_id, reason.strip(), on.isoformat(), operator, stamp
    )
    for allocation in held.allocations:
        store.insert_reversing_allocation(
            conn,
            payment_id,
            allocation.bill_id,
            allocation.amount_fen,
            reversal_id,
            on.isoformat(),
            stamp,
        )
        store.unsettle_bill(conn, allocation.bill_id)
    left = credit_of(conn, held.unit_id) if held.allocations else 0
    return Reversal(
        held.receipt_no,
        held.unit,
        held.amount_fen,
        [a.bill_id for a in held.allocations],
        held.credit_fen,
        max(left, 0),
    )


# ---------------------------------------------------------------- credit


def run_bills_and_apply_credit(conn: sqlite3.Connection, **run) -> BillRunReport:
    """The bill run (``bills.run_bills``, same arguments), then credit — money paid ahead —
    pays the new bills at once."""
    report = run_bills(conn, **run)
    if report.units:
        report.credit_applied = apply_credit(
            conn, on=run["as_of"], now=run["now"], unit_ids=_with_credit(conn, report.units)
        )
    return report


def _with_credit(conn: sqlite3.Connection, units: set[int]) -> list[int]:
    """Of these units, those holding money not yet allocated."""
    return sorted(store.units_with_credit(conn) & units)


def apply_credit(
    conn: sqlite3.Connection, *, on: date, now, unit_ids: list[int] | None = None
) -> int:
    """Spend unallocated payments on open bills of the same unit and party, oldest payment
    and oldest due bill first. Returns the fen applied."""
    stamp = now.isoformat(sep=" ", timespec="seconds")
    if unit_ids is not None and not unit_ids:
        return 0
    credits = store.unspent_payments(conn, unit_ids)
    applied = 0
    for payment_id, unit_id, party_id, left in credits:
        plan = _open_bills_of(conn, unit_id, party_id)
        if not plan:
            continue
        _done, unspent = _allocate(conn, payment_id, plan, left, on.isoformat(), stamp)
        applied += left - unspent
    return applied


@dataclass
class UnitAccount:
    """A unit's bills, what it owes (and of that what is past due) and its unallocated credit."""

    bills: list[BillLine]
    owed: int
    overdue: int
    credit: int


def unit_account(conn: sqlite3.Connection, code: str, as_of: date) -> UnitAccount:
    """A unit's account as of a day: every bill, the open balance, the part of it past due."""
    unit_id = unit_id_of(conn, code)
    bills = unit_bills(conn, unit_id)
    day = as_of.isoformat()
    owed = sum(b.outstanding_fen for b in bills)
    overdue = sum(b.outstanding_fen for b in bills if b.due_on < day)
    return UnitAccount(bills, owed, overdue, credit_of(conn, unit_id))


def credit_of(conn: sqlite3.Connection, unit_id: int, as_of: date | None = None) -> int:
    """Money paid for a unit and not yet allocated to any bill (as of a day)."""
    day = (as_of or date.max).isoformat()
    paid, allocated = store.paid_and_allocated(conn, unit_id, day)
    return paid - allocated


def owed_by_unit(conn: sqlite3.Connection, unit_id: int) -> int:
    return sum(b.outstanding_fen for b in unit_bills(conn, unit_id))


# ---------------------------------------------------------------- statement of account


@dataclass
class StatementLine:
    day: str
    kind: str  # bill | adjustment | payment | reversal
    ref: str
    text: str
    debit_fen: int  # raises what is owed
    credit_fen: int  # lowers it
    balance_fen: int  # the account after this line: owed (+) or in credit (−)


@dataclass
class Statement:
    unit: str
    owner: str
    first: str | None
    last: str | None
    opening_balance_fen: int
    lines: list[StatementLine]
    owed_fen: int  # closing: what the bills in range still owe
    credit_fen: int  # closing: money paid and not applied to them
    party: str | None = None  # whose account it is; None: every party's, the whole unit
    others: int = 0  # for one party's statement: how many other parties the unit's ledger holds

    @property
    def closing_balance_fen(self) -> int:
        return self.owed_fen

    @property
    def account_fen(self) -> int:
        return self.owed_fen - self.credit_fen


def statement_party(
    conn: sqlite3.Connection, unit_code: str, *, name: str | None, day: date, settings
) -> int | None:
    """The party whose statement it is: the one named, else who pays for the unit on ``day``."""
    code = resolve_code(conn, unit_code)
    unit_id = unit_id_of(conn, code)
    if name is None:
        return payer_of(conn, unit_id, day, settings)
    found = statement_store.parties_named_at_unit(conn, name.strip(), unit_id)
    if not found:
        raise NotFound(
            _("{name} has no account at {unit} (see: {command})").format(
                name=repr(name), unit=code, command=f"propfee units show {code}"
            )
        )
    if len(found) > 1:
        raise InvalidValue(
            _("{name} names {n} parties at {unit}; use --all-parties").format(
                name=repr(name), n=len(found), unit=code
            )
        )
    return found[0][0]


def account_statement(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    first: date | None,
    last: date | None,
    party: str | None,
    all_parties: bool,
    today: date,
    settings,
    words: Callable[[str], str] = zh,
) -> Statement:
    """The statement of account a user asks for: of the party named, else of who pays for
    the unit on ``last`` (or today), or with ``all_parties`` the whole unit's ledger. Its
    lines are worded by ``words`` (Chinese, for documents; ``_`` for the reader's language)."""
    if first and last and first > last:
        raise InvalidValue(_("--from {first} is after --to {last}").format(first=first, last=last))
    party_id = (
        None
        if all_parties
        else statement_party(conn, unit_code, name=party, day=last or today, settings=settings)
    )
    return statement(conn, unit_code, first=first, last=last, party_id=party_id, words=words)


#: a statement's entries: (day, order within the day, kind, ref, text, fen)
_Entry = tuple[str, int, str, str, str, int]

#: how a statement words its lines (English msgids, worded by the statement's ``words``)
STATEMENT_WORDS = (
    N_("{kind}: {reason} (bill {bill})"),
    OPENING_RECEIPT := N_("opening-{id}"),
    PAYMENT_TEXT := N_("Payment ({via})"),
    REVERSAL_TEXT := N_("Reversal: {reason}"),
)

_ADJUSTMENT_KINDS = {
    "waiver": N_("waiver"),
    "discount": N_("discount"),
    "correction": N_("correction"),
}


def statement(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    first: date | None = None,
    last: date | None = None,
    party_id: int | None = None,
    words: Callable[[str], str] = zh,
) -> Statement:
    """The statement of account (对账单) of a unit: bills, adjustments, payments and reversals
    in date order with a running balance, the opening balance before ``first`` and the
    closing balance and credit as of ``last``.

    With ``party_id`` only that party's bills and payments: what may be handed to an owner,
    who never sees what a previous owner or a tenant owed or paid (个人信息保护法; LEGAL rule
    10). Without it, the whole unit's ledger, for staff."""
    code = resolve_code(conn, unit_code)
    row = statement_store.unit_and_owner(conn, code)
    if row is None:
        raise NotFound(_("no unit {code}").format(code=repr(code)))
    unit_id, owner = row
    others = 0
    if party_id is not None:
        owner = statement_store.party_name(conn, party_id)
        others = statement_store.other_parties(conn, unit_id, party_id)
    end = (last or date.max).isoformat()
    bill_days: dict[int, str] = {}
    entries = _statement_entries(conn, unit_id, party_id, end, bill_days, words)
    opening, lines = _running_balance(entries, first.isoformat() if first else "")
    balance = lines[-1].balance_fen if lines else opening
    owed = sum(statement_store.bill_owed_as_of(conn, bid, end) for bid in bill_days)
    credit = owed - balance
    return Statement(
        code,
        owner,
        first.isoformat() if first else None,
        last.isoformat() if last else None,
        opening,
        lines,
        owed,
        credit,
        owner if party_id is not None else None,
        others,
    )


def _statement_entries(
    conn: sqlite3.Connection,
    unit_id: int,
    party_id: int | None,
    end: str,
    bill_days: dict,
    words: Callable[[str], str],
) -> list[_Entry]:
    """A unit's bills, adjustments, payments and reversals up to ``end`` in date order;
    ``bill_days`` gets {bill id: day} of the bills among them."""
    entries: list[_Entry] = []
    for bid, day, name, frm, to, fen, basis in statement_store.statement_bills(
        conn, unit_id, party_id
    ):
        if day > end:
            continue
        bill_days[bid] = day
        entries.append((day, 0, "bill", str(bid), f"{name} {frm}～{to} {basis}".strip(), fen))
    for bid, day, fen, kind, reason in statement_store.statement_adjustments(conn, unit_id):
        if bid in bill_days and day <= end:
            text = words("{kind}: {reason} (bill {bill})").format(
                kind=words(_ADJUSTMENT_KINDS[kind]), reason=reason, bill=bid
            )
            entries.append((day, 1, "adjustment", str(bid), text, fen))
    for pid, receipt, day, fen, channel, ref in statement_store.statement_payments(
        conn, unit_id, party_id
    ):
        if day <= end:
            via = words(CHANNEL_NAMES.get(channel, channel))
            via += f" {ref}" if ref and channel != "opening" else ""
            number = receipt or words(OPENING_RECEIPT).format(id=pid)
            text = words(PAYMENT_TEXT).format(via=via)
            entries.append((day, 2, "payment", number, text, -fen))
    for receipt, day, fen, reason in statement_store.statement_reversals(conn, unit_id, party_id):
        if day <= end:
            text = words(REVERSAL_TEXT).format(reason=reason)
            entries.append((day, 3, "reversal", receipt or "", text, fen))
    entries.sort(key=lambda e: (e[0], e[1], e[3]))
    return entries


def _running_balance(entries: list[_Entry], start: str) -> tuple[int, list[StatementLine]]:
    """The balance before ``start`` and the lines from it on, each with the balance after it."""
    balance = sum(e[5] for e in entries if e[0] < start)
    opening = balance
    lines = []
    for day, _order, kind, ref, text, fen in entries:
        if day < start:
            continue
        balance += fen
        lines.append(StatementLine(day, kind, ref, text, max(fen, 0), max(-fen, 0), balance))
    return opening, lines


# ---------------------------------------------------------------- the daily close


@dataclass
class DailyClose:
    day: str
    payments: list[dict]
    reversals: list[dict]
    by_channel: dict[str, list[int]]  # channel -> [count, fen]
    by_cashier: dict[str, list[int]]
    received_fen: int
    reversed_fen: int

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.reversed_fen

    @property
    def paid_earlier(self) -> list[dict]:
        """The day's payments whose money was paid on an earlier day (a statement read late)."""
        return [p for p in self.payments if p["paid_on"] < self.day]


def daily_close(conn: sqlite3.Connection, day: date) -> DailyClose:
    """日结: the payments recorded on a day by channel and by cashier, and its reversals."""
    iso = day.isoformat()
    payments = [
        {
            "receipt": r[0],
            "unit": r[1],
            "amount_fen": r[2],
            "channel": r[3],
            "ref": r[4],
            "paid_on": r[5],
            "cashier": r[6] or "—",
        }
        for r in statement_store.payments_recorded_on(conn, iso)
    ]
    reversals = [
        {
            "receipt": r[0],
            "unit": r[1],
            "amount_fen": r[2],
            "channel": r[3],
            "reason": r[4],
            "cashier": r[5] or "—",
        }
        for r in statement_store.reversals_on(conn, iso)
    ]
    by_channel: dict[str, list[int]] = {}
    by_cashier: dict[str, list[int]] = {}
    for p in payments:
        for table, key in ((by_channel, p["channel"]), (by_cashier, p["cashier"])):
            entry = table.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += p["amount_fen"]
    for r in reversals:
        for table, key in ((by_channel, r["channel"]), (by_cashier, r["cashier"])):
            entry = table.setdefault(key, [0, 0])
            entry[1] -= r["amount_fen"]
    return DailyClose(
        iso,
        payments,
        reversals,
        by_channel,
        by_cashier,
        sum(p["amount_fen"] for p in payments),
        sum(r["amount_fen"] for r in reversals),
    )


# ---------------------------------------------------------------- check


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str


#: what each kind of problem is called where staff read it (``Problem.what`` stays the key)
PROBLEM_KINDS = {
    "integrity": N_("file integrity"),
    "orphan": N_("orphan row"),
    "settled": N_("settled-on day"),
    "bill": N_("bill"),
    "plan": N_("payment plan"),
    "late fee": N_("late fee"),
    "payment": N_("payment"),
    "receipts": N_("receipt numbers"),
    "allocation": N_("allocation"),
    "occupancy": N_("occupancy"),
    "audit": N_("audit trail"),
}


def problem_label(what: str) -> str:
    return _(PROBLEM_KINDS[what]) if what in PROBLEM_KINDS else what


def check(conn: sqlite3.Connection) -> list[Problem]:
    """Verify every ledger invariant and the file itself; an empty list means all is well."""
    problems: list[Problem] = []
    for step in (
        _file_problems,
        _bill_problems,
        _plan_problems,
        _late_fee_problems,
        _payment_problems,
        _receipt_problems,
        _ref_problems,
        _allocation_problems,
        _occupancy_problems,
    ):
        problems.extend(Problem(what, detail) for what, detail in step(conn))
    problems.extend(Problem("audit", detail) for detail in audit.verify(conn))
    return problems


def _file_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """The database file: SQLite's integrity check and rows pointing at missing rows."""
    for (result,) in check_store.integrity_results(conn):
        if result != "ok":
            yield "integrity", result
    for table, rowid, parent, _key in check_store.foreign_key_faults(conn):
        yield (
            "orphan",
            _("{table} row {row} points at a missing {parent}").format(
                table=table, row=rowid, parent=parent
            ),
        )


def _bill_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """Each bill: never adjusted below zero nor paid beyond what it is, and its settled-on
    cache true."""
    for bid, amount, adjusted, paid, settled, last_move in check_store.bill_totals(conn):
        if settled is not None and settled < last_move:
            yield (
                "settled",
                _(
                    "bill {bill}: settled_on {day} is before its last payment or adjustment "
                    "({last})"
                ).format(bill=bid, day=settled, last=last_move),
            )
        net = amount + adjusted
        if net < 0:
            yield (
                "bill",
                _("bill {bill}: adjustments take it below zero ({amount})").format(
                    bill=bid, amount=format_money(net)
                ),
            )
        if paid < 0:
            yield (
                "bill",
                _("bill {bill}: allocations are negative ({amount})").format(
                    bill=bid, amount=format_money(paid)
                ),
            )
        if paid > net:
            yield (
                "bill",
                _("bill {bill}: {paid} allocated to a bill of {net}").format(
                    bill=bid, paid=format_money(paid), net=format_money(net)
                ),
            )
        if (settled is None) != (net - paid > 0) and not net == paid == 0:  # ¥0.00 owes nothing
            yield (
                "settled",
                _("bill {bill}: settled_on is {day} but it owes {amount}").format(
                    bill=bid, day=settled or _("empty"), amount=format_money(net - paid)
                ),
            )


def _plan_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """Each payment plan: its installments and its bills both sum to its total."""
    for plan_id, total, scheduled, covered in check_store.plan_totals(conn):
        if scheduled != total or covered != total:
            yield (
                "plan",
                _(
                    "plan {plan}: {total} but its installments sum to {scheduled} and its "
                    "bills to {covered}"
                ).format(
                    plan=plan_id,
                    total=format_money(total),
                    scheduled=format_money(scheduled or 0),
                    covered=format_money(covered or 0),
                ),
            )


def _late_fee_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """Each late fee: its bill is a LATEFEE bill of the same amount."""
    for late_id, fen, billed, code in check_store.late_fee_bills(conn):
        if fen != billed or code != "LATEFEE":
            yield (
                "late fee",
                _("late fee {id}: its bill is {code} {amount}").format(
                    id=late_id, code=code, amount=format_money(billed)
                ),
            )


def _payment_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """Each payment: allocations between nothing and its amount, nothing when reversed."""
    for pid, receipt, amount, allocated, reversed_ in check_store.payment_totals(conn):
        name = receipt or _("payment {id}").format(id=pid)
        if allocated < 0:
            yield "payment", _("{payment}: allocations are negative").format(payment=name)
        if allocated > amount:
            yield (
                "payment",
                _("{payment}: {allocated} allocated of {amount}").format(
                    payment=name, allocated=format_money(allocated), amount=format_money(amount)
                ),
            )
        if reversed_ and allocated != 0:
            yield (
                "payment",
                _("{payment}: reversed but {amount} is still allocated").format(
                    payment=name, amount=format_money(allocated)
                ),
            )


def _receipt_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """Each year's receipts: numbered without gaps, and its counter at the last."""
    for (year,) in check_store.receipt_years(conn):
        held = [r[0] for r in check_store.receipt_numbers(conn, year)]
        ours = [n for n in held if year.isdigit() and n[4:5] == "-" and n[5:].isdigit()]
        numbers = sorted(int(n[5:]) for n in ours)
        if len(ours) != len(held):  # not numbered as propfee numbers them
            odd = sorted(set(held) - set(ours))
            yield (
                "receipts",
                _("receipt numbers not in the form YYYY-NNNNNN: {numbers}").format(
                    numbers=", ".join(odd[:10])
                ),
            )
            if not numbers:
                continue
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        if missing:
            yield (
                "receipts",
                _("{year}: receipt numbers missing: {numbers}").format(
                    year=year, numbers=", ".join(f"{year}-{n:06d}" for n in missing[:10])
                ),
            )
        counter = check_store.receipt_counter(conn, int(year))
        if counter is None or counter[0] != numbers[-1]:
            yield (
                "receipts",
                _("{year}: the counter says {counter}, the last receipt is {last}").format(
                    year=year,
                    counter=counter[0] if counter else _("nothing"),
                    last=numbers[-1],
                ),
            )


def _ref_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """A WeChat or Alipay transaction number held by one payment not reversed at most."""
    for channel, ref, count in check_store.app_refs_held_twice(conn):
        yield (
            "payment",
            _("{channel} {ref} is held by {n} payments that are not reversed").format(
                channel=channel_label(channel), ref=ref, n=count
            ),
        )


def _allocation_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """A negative allocation is always a reversal's."""
    for aid, reversal in check_store.negative_allocations(conn):
        if reversal is None:
            yield (
                "allocation",
                _("allocation {id} is negative without a reversal").format(id=aid),
            )


def _occupancy_problems(conn: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """One current holder of each role at a unit."""
    for unit, role, count in check_store.occupancies_held_twice(conn):
        yield (
            "occupancy",
            _("unit {unit} has {n} current holders of the role {role}").format(
                unit=unit, n=count, role=role
            ),
        )


def take_bills(
    bills: Iterable[list], payment: tuple[int, int, int, str, str], allocations: list, settled: list
) -> None:
    """A payment ``(id, party, fen, day, stamp)`` takes its party's ``bills`` ([bill id, party
    id, owed …], owed lowered in place) in the order given until its money is spent: an
    allocation ``(payment, bill, fen, day, stamp)`` for each, ``(payment, day, bill)`` in
    ``settled`` for each bill it pays off."""
    payment_id, party, money, day, stamp = payment
    for bill in bills:
        if money <= 0:
            break
        if bill[1] != party or bill[2] <= 0:
            continue
        amount = min(money, bill[2])
        bill[2] -= amount
        money -= amount
        allocations.append((payment_id, bill[0], amount, day, stamp))
        if bill[2] == 0:
            settled.append((payment_id, day, bill[0]))


def _payer_first(bills: list[list], months: list[str], words: str) -> list[list]:
    """Open bills with those of the months the payer named first (and of them, the fee
    items the memo names, when it names any); otherwise as they are."""
    if not months:
        return bills

    def covers(bill: list) -> bool:
        return any(bill[3][:7] <= month <= bill[4][:7] for month in months)

    chosen = [b for b in bills if covers(b)]
    named = [b for b in chosen if _item_named(b[5], words)]
    first = named or chosen
    return first + [b for b in bills if b not in first]


def _item_named(name: str, words: str) -> bool:
    """Whether a memo names a fee item: 停车费 in "2026年3月停车费" (物业服务费 by 物业费 too)."""
    short = name.replace("服务", "").replace("管理", "")
    return bool(name) and (name in words or (len(short) >= 2 and short in words))


class PaymentBatch:
    """Many payments in one transaction (a reconciled statement): the same rules as
    ``record_payment`` — gapless receipts, the responsible party, oldest due first, credit —
    with what they read loaded once and what they write written in bulk by ``flush``: the
    open bills of the units paid are read in one statement there, and each payment's money
    goes to them in the order the payments were recorded."""

    def __init__(
        self, conn: sqlite3.Connection, *, settings, now, as_of: date, codes: set[str] | None = None
    ):
        self.conn = conn
        self.as_of = as_of
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.run = Payers(conn, settings, now, as_of, codes=codes)  # codes: the units paid
        self.units = {u.code: u for u in self.run.units}
        self.next_id = store.next_payment_id(conn)
        self.receipt = store.last_receipt_number(conn, as_of.year) or 0
        self.first_receipt = self.receipt
        self.recorded_on = as_of.isoformat()
        self.days: dict[date, str] = {}  # a day's ISO text, made once per day
        self.payments: list[tuple] = []
        #: payment id -> (months named, memo) of the payments whose memo names a month
        self.named: dict[int, tuple[list[str], str]] = {}
        self.holdings: dict | None = None  # who held the units paid, when

    def record(
        self,
        code: str,
        amount_fen: int,
        *,
        channel: str,
        ref: str | None,
        paid_on: date,
        note: str = "",
        payer: str = "",
        source: str = "",
        cashier: str = "",
        months: list[str] | None = None,
        words: str = "",
    ) -> str:
        """Queue one payment; return its receipt number. The money goes first to the bills of
        the ``months`` the payer named (``2026-03``; of the fee items ``words`` names, when it
        names any), then oldest due first (民法典 第560条: the payer's choice comes first)."""
        unit = self.units[code]
        if self.holdings is None:
            self.holdings = self.run.holdings  # read with the first payment
        party = self.run.payer_on(unit, self.holdings.get(unit.id, ()), paid_on)
        self.receipt += 1
        receipt = f"{self.as_of.year}-{self.receipt:06d}"
        payment_id = self.next_id
        self.next_id += 1
        day = self.day_text(paid_on)
        self.payments.append(
            (
                payment_id,
                receipt,
                unit.id,
                party,
                amount_fen,
                channel,
                ref,
                day,
                cashier,
                note,
                payer,
                source,
                "",
                self.recorded_on,
                self.stamp,
            )
        )
        if months:
            self.named[payment_id] = (months, words)
        return receipt

    def day_text(self, day: date) -> str:
        """``day`` as ISO text, one string for every payment of that day."""
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = day.isoformat()
        return text

    def _open_bills(self) -> Iterator[tuple[int, list[list]]]:
        """(unit id, its open bills as [bill id, party id, owed, covers from, covers to, fee
        item name, unit id], oldest due first) of the units paid, unit by unit in the order of
        their ids, read as they stream from the database (one unit's bills held at a time)."""
        units = sorted({p[2] for p in self.payments})
        rows = store.open_bills_of_units(self.conn, units)
        for unit, bills in itertools.groupby(rows, key=operator.itemgetter(6)):
            yield unit, [list(bill) for bill in bills if bill[2] > 0]

    def _allocate(self) -> tuple[list[tuple], list[tuple[int, str, int]]]:
        """(allocations, settled bills) of the queued payments. A unit's payments take its
        bills in the order they were recorded, unit after unit as the bills are read; the
        allocations are then put back in the order of the payments."""
        allocations: list[tuple] = []
        settled: list[tuple[int, str, int]] = []
        stamp, named = self.stamp, self.named
        streamed = self._open_bills()
        unit, bills = 0, []
        # (id, receipt, unit, party, amount, channel, ref, day…), by unit then as recorded
        fields = operator.itemgetter(0, 2, 3, 4, 7)
        for payment in sorted(self.payments, key=operator.itemgetter(2)):
            payment_id, unit_id, party, money, day = fields(payment)
            while unit < unit_id:
                unit, bills = next(streamed, (unit_id + 1, []))
            months, words = named.get(payment_id, ((), ""))
            ordered = _payer_first(bills if unit == unit_id else [], months, words)
            take_bills(ordered, (payment_id, party, money, day, stamp), allocations, settled)
        for _left in streamed:  # read to the end: the statement is done before the writes
            pass
        allocations.sort(key=operator.itemgetter(0))  # stable: a payment's own stay in bill order
        settled.sort(key=operator.itemgetter(0))
        return allocations, settled  # (payment id, day, bill id), by payment

    def flush(self) -> None:
        conn = self.conn
        allocations, settled = self._allocate()
        store.insert_payments(conn, self.payments)
        store.insert_allocations(conn, allocations)
        store.settle_bills(conn, settled)
        if self.receipt != self.first_receipt:
            store.set_receipt_counter(conn, self.as_of.year, self.receipt)
        self.payments, self.named = [], {}
