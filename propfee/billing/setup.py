"""The setup path of a new estate, and the ways out of a fee item added by mistake.

``SETUP_STEPS`` is the order a new estate is set up in (shown by ``propfee init`` and by the
first ``fees add``). A fee item is never deleted: it is **ended** (``end_item``: nothing is
billed after a day, its bills and prices stay) or, while it was never billed nor published,
**removed** (``remove_item``: it leaves every list and run, its code is free again, and the
removal stays on record as an event).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

import propfee.billing.store as store
from propfee.billing.fees import FeeItem, get_item
from propfee.core.errors import PropfeeError
from propfee.core.i18n import N_, _
from propfee.core.money import format_money

#: the lines of the setup path (English msgids: ``_()`` each where printed)
SETUP_STEPS = (
    N_("Setting up a new estate, in this order:"),
    N_("  1. Import units and owners: propfee import-units owners.xlsx"),
    N_(
        "  2. Add fee items: propfee fees add PROP --name 物业服务费 --basis area --price 2.50 "
        "--kinds residential --from YYYY-MM-DD"
    ),
    N_(
        "  3. Publish the fee standard: propfee fees publish --out notices (billing from the "
        "day of publication); a notice posted at the estate before propfee was in use is "
        "recorded with propfee fees publish --recorded-later --published-on YYYY-MM-DD "
        '--evidence "notice photo IMG_0231.jpg", and then earlier periods can be billed'
    ),
    N_(
        "  4. Import arrears from the previous system (if any): propfee import-history opening.xlsx"
    ),
    N_("  5. Bill and print the notices: propfee bill --period YYYY-MM --notices notices"),
    N_("  6. Take payments: propfee pay / propfee reconcile; reminders: propfee remind"),
    N_(
        "A fee item added by mistake: never billed and never published, remove it with "
        "propfee fees remove CODE; once used, stop it with propfee fees end CODE --to "
        "YYYY-MM-DD (history kept)."
    ),
)

#: bills named in a refusal at most (the rest are counted)
NAMED_BILLS = 10


@dataclass(frozen=True)
class Change:
    code: str
    name: str
    ends_on: date | None
    changed: bool  # False: the same change was recorded already (a re-run)


def end_item(
    conn: sqlite3.Connection, code: str, *, to: date, reason: str, now: datetime
) -> Change:
    """End a fee item after ``to``: no bill covers a later day. Refused while a bill covers a
    later day and is not brought to zero by an adjustment — the message names them."""
    item = get_item(conn, code)
    if item.ends_on == to:
        return Change(item.code, item.name, to, False)
    later = store.bills_of_item_after(conn, item.id, to.isoformat())
    if later:
        raise PropfeeError(_bills_after_message(item, to, later))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    store.insert_fee_item_event(
        conn, (item.id, "end", item.code, to.isoformat(), reason.strip(), stamp, stamp)
    )
    return Change(item.code, item.name, to, True)


def _bills_after_message(item: FeeItem, to: date, later: list[tuple]) -> str:
    named = _("; ").join(
        _("bill {id} ({unit} {period}, {start} to {end}, {amount})").format(
            id=bill_id, unit=unit, period=period, start=frm, end=upto, amount=format_money(net)
        )
        for bill_id, unit, period, frm, upto, net in later[:NAMED_BILLS]
    )
    more = _(" and more, {n} in all").format(n=len(later)) if len(later) > NAMED_BILLS else ""
    return _(
        "{code} {name}: there are bills after {to}, so billing cannot stop on that day: "
        "{bills}{more}. First bring each to zero (propfee adjust BILL --amount -AMOUNT --kind "
        'correction --reason "fee item ended" --approved-by APPROVER), or stop after these '
        "bills"
    ).format(code=item.code, name=item.name, to=to, bills=named, more=more)


def remove_item(conn: sqlite3.Connection, code: str, *, reason: str, now: datetime) -> Change:
    """Remove a fee item added by mistake: only while it was never billed and no price of it
    was ever published (otherwise it is ended, keeping its history). Removing an item
    removed already changes nothing."""
    removed = None if store.fee_item_exists(conn, code) else store.removed_item_name(conn, code)
    if removed is not None:
        return Change(code, removed, None, False)
    item = get_item(conn, code)
    published = [p for p in item.prices if p.published_on is not None]
    if published:
        raise PropfeeError(
            _(
                "{code} {name} was published on {day}; a published fee item cannot be "
                "removed: stop it with propfee fees end {code} --to YYYY-MM-DD (history kept)"
            ).format(code=item.code, name=item.name, day=published[0].published_on)
        )
    if store.item_has_bills(conn, item.id):
        raise PropfeeError(
            _(
                "{code} {name} has been billed and cannot be removed: stop it with propfee "
                "fees end {code} --to YYYY-MM-DD (its bills stay; nothing is billed after)"
            ).format(code=item.code, name=item.name)
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    store.insert_fee_item_event(
        conn, (item.id, "remove", item.code, None, reason.strip(), stamp, stamp)
    )
    store.free_item_code(conn, item.id)
    return Change(item.code, item.name, None, True)
