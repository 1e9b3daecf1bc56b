"""Many payments recorded at once, exactly as ``ledger.record_payment`` records them one after
another — the same receipts, ids, payers, allocations, settled days and counted changes —
with what they read loaded in a few statements and what they write written in bulk.

On an SQLite file a statement costs microseconds; on a PostgreSQL server each is a round trip,
and a year of payments recorded one by one (the demo's) makes some thirty thousand of them.
Here a batch takes about ten, however many payments it holds.

The rare cases the bulk path does not cover — a unit code that is not written as the roster
writes it, a reference already recorded (here or earlier in the batch), a prepayment discount
to book — go one by one through ``record_payment``, whose checks and messages they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from propfee.payments import ledger, store
from propfee.roster.payers import Payers


@dataclass(frozen=True, slots=True)
class NewPayment:
    """One payment to record: what ``record_payment`` takes, but the estate's settings."""

    unit_code: str
    amount_fen: int
    channel: str
    ref: str | None
    paid_on: date
    as_of: date
    cashier: str = ""
    note: str = ""
    payer: str = ""
    source: str = "counter"
    invoice: str = ""
    large: bool = False


def record_payments(conn, payments: list[NewPayment], *, now, settings) -> list[str]:
    """Record ``payments`` in order inside the caller's transaction, as many calls of
    ``record_payment`` would; their receipt numbers."""
    refs = [
        ledger.checked_payment(
            p.amount_fen,
            channel=p.channel,
            ref=p.ref,
            paid_on=p.paid_on,
            as_of=p.as_of,
            large=p.large,
        )
        for p in payments
    ]
    run = Payers(conn, settings, now, codes={p.unit_code for p in payments})
    units = {u.code: u for u in run.units}
    if _one_by_one(conn, payments, refs, units, settings):
        return [_one(conn, p, now, settings).receipt_no for p in payments]
    stamp = now.isoformat(sep=" ", timespec="seconds")
    holdings = run.holdings if payments else {}
    next_id = store.next_payment_id(conn)
    counters: dict[int, int] = {}
    rows, years = [], []
    for index, (p, ref) in enumerate(zip(payments, refs, strict=True)):
        unit = units[p.unit_code]
        year = p.as_of.year
        if year not in counters:
            counters[year] = store.last_receipt_number(conn, year) or 0
        counters[year] += 1
        years.append(year)
        rows.append(
            (
                next_id + index,
                f"{year}-{counters[year]:06d}",
                unit.id,
                run.payer_on(unit, holdings.get(unit.id, ()), p.paid_on),
                p.amount_fen,
                p.channel,
                ref,
                p.paid_on.isoformat(),
                p.cashier.strip(),
                p.note.strip(),
                p.payer.strip(),
                p.source,
                p.invoice,
                p.as_of.isoformat(),
                stamp,
            )
        )
    allocations, settled = _allocate(conn, rows, stamp)
    store.step_receipt_counters(conn, years)  # once a receipt, as record_payment takes them
    store.insert_payments(conn, rows)
    store.insert_allocations(conn, allocations)
    store.settle_bills(conn, settled)
    return [row[1] for row in rows]


def _one_by_one(conn, payments, refs, units, settings) -> bool:
    """Whether the batch needs ``record_payment``'s own path (see the module's note)."""
    billing = settings.billing
    if billing.prepay_months and billing.prepay_discount_share:
        return True
    if any(p.unit_code not in units for p in payments):
        return True
    keys = [(p.channel, ref) for p, ref in zip(payments, refs, strict=True) if ref is not None]
    if len(set(keys)) < len(keys):
        return True
    held = ledger.held_refs(conn, [ref for _channel, ref in keys]) if keys else {}
    return any(h.channel == channel for channel, ref in keys for h in held.get(ref, ()))


def _one(conn, p: NewPayment, now, settings) -> ledger.Payment:
    return ledger.record_payment(
        conn,
        p.unit_code,
        p.amount_fen,
        channel=p.channel,
        ref=p.ref,
        paid_on=p.paid_on,
        as_of=p.as_of,
        now=now,
        settings=settings,
        cashier=p.cashier,
        note=p.note,
        payer=p.payer,
        source=p.source,
        invoice=p.invoice,
        large=p.large,
    )


def _allocate(
    conn, rows: list[tuple], stamp: str
) -> tuple[list[tuple], list[tuple[int, str, int]]]:
    """(allocations, (payment, day, bill) settled) of the payments ``rows``, in their order: each
    payment's money to its party's open bills of its unit oldest due first, as the bills
    stand after the payments before it."""
    bills: dict[int, list[list]] = {}
    for bill_id, party_id, owed, *_rest, unit_id in store.open_bills_of_units(
        conn, sorted({row[2] for row in rows})
    ):
        if owed > 0:
            bills.setdefault(unit_id, []).append([bill_id, party_id, owed])
    allocations, settled = [], []
    for row in rows:
        payment = (row[0], row[3], row[4], row[7], stamp)
        ledger.take_bills(bills.get(row[2], ()), payment, allocations, settled)
    return allocations, settled
