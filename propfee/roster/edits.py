"""Edits of the roster kept as history (变更记录): a unit's area, kind or floor corrected from a
day, an owner's details, a tenant moving in or out, a sale.

Each edit goes through the roster merge an import uses (reading the one unit it is about, not
the estate), is kept as events with the value before and after, the day, who made it and why,
and runs as one transaction; the same edit again changes nothing. What billing must re-do —
an area corrected from a day, the days after a sale — is handed to ``rebill`` (billing's, given
by the command) in the same transaction. Bills are never edited here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import propfee.roster.store as store
from propfee.core.errors import InvalidValue, NotFound, RowErrors
from propfee.core.i18n import _
from propfee.core.money import hundredths_str, parse_area
from propfee.files import cells
from propfee.roster.merge import Holder, RosterMerge
from propfee.roster.reading import PartyIn, Roster, RosterRow, party_kind
from propfee.roster.units import resolve_code, resolve_kind
from propfee.store.db import transaction

#: billing's re-billing, as the command hands it in: (conn, unit code, first day, change=
#: "area" | "sale" | "kind", kind_was=…) → (moves, bills kept with whom they were issued to)
Rebill = Callable[..., tuple[list, list]]


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass
class EditResult:
    """What one edit changed, and what billing did about it."""

    unit: str
    party: str
    on: str
    changes: list[Change] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rebilled: list = field(default_factory=list)  # billing's Move
    kept: list = field(default_factory=list)  # billing's Kept

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.rebilled)

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "party": self.party,
            "on": self.on,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "rebilled": [
                {
                    "bill": m.bill_id,
                    "new_bill": m.new_bill_id,
                    "period": m.period,
                    "item": m.item,
                    "from": m.first,
                    "to": m.last,
                    "credited": m.credited_fen,
                    "amount": m.amount_fen,
                    "party": m.to_party,
                }
                for m in self.rebilled
            ],
            "kept": [k.bill_id for k in self.kept],
            "notices": self.notices,
        }


# ---------------------------------------------------------------- one edit


class _Edit:
    """One edit of one unit: the merge that writes it, and the events that keep it."""

    def __init__(self, conn, code, *, action, on: date, now: datetime, operator, reason):
        code = resolve_code(conn, code)
        self.merge = RosterMerge(conn, Roster(file=f"units {action}"), as_of=on, now=now, only=code)
        self.existing = self.merge.units.get(code)
        if self.existing is None:
            raise NotFound(
                _("no unit with code {code} (propfee units list shows the codes)").format(code=code)
            )
        self.merge.source = f"units {action}"
        self.conn, self.code, self.uid = conn, code, self.existing[0]
        self.action, self.on, self.operator, self.reason = action, on, operator, reason.strip()
        self.result = EditResult(code, "", on.isoformat())

    def holder(self, role: str) -> Holder | None:
        return self.merge.current.get((self.uid, role))

    def row(self, **values) -> RosterRow:
        """The unit as on record (its floor, kind, areas, delivery date and notes), with
        ``values`` changed; the room is left blank, so its place is kept."""
        _uid, code, _vacant, building, entrance, _room, *details, zone = self.existing
        nobody = (None, None, False, None, None)  # owner, tenant, tenant pays, from, changed on
        row = RosterRow("", 0, code, building, entrance, "", *details, *nobody, zone=zone)
        return row._replace(**values)

    def apply(self, row: RosterRow, present: set[str]) -> None:
        merge = self.merge
        merge.present = frozenset(present)
        merge.update(row, self.existing, merge.report)
        if merge.errors:
            raise RowErrors(merge.errors)
        merge.flush()
        merge.write_details()

    def record(self, changes: list[Change], party_id: int | None = None) -> None:
        self.result.changes.extend(changes)
        store.insert_unit_events(
            self.conn,
            [
                (
                    self.uid,
                    party_id,
                    self.action,
                    c.field,
                    c.old,
                    c.new,
                    self.on.isoformat(),
                    self.reason,
                    self.operator,
                    self.merge.stamp,
                )
                for c in changes
            ],
        )

    def refuse_before(self, held: Holder | None, option: str) -> None:
        if held is not None and held.start_on and self.on.isoformat() < held.start_on:
            raise InvalidValue(
                _(
                    "{option} {day} is before {name}'s start date {start}: a change to {code} "
                    "cannot be dated before it"
                ).format(
                    option=option, day=self.on, name=held.name, start=held.start_on, code=self.code
                )
            )

    def billed_from_day(self) -> bool:
        return store.billed_from(self.conn, self.uid, self.on.isoformat())

    def rebill(self, rebill: Rebill | None, change: str, **more) -> None:
        if rebill is None or not self.billed_from_day():
            return
        moves, kept = rebill(self.conn, self.code, self.on, change=change, **more)
        self.result.rebilled.extend(moves)
        self.result.kept.extend(kept)


# ---------------------------------------------------------------- the edits


def set_unit(
    conn: sqlite3.Connection,
    code: str,
    *,
    area: str | None = None,
    kind: str | None = None,
    floor: str | None = None,
    on: date,
    now: datetime,
    operator: str = "",
    reason: str = "",
    rebill: Rebill | None = None,
) -> EditResult:
    """Correct a unit's area, kind or floor from ``on``. A new area re-bills, as new events,
    the days from ``on`` billed at the old one (refused where a bill has money paid on it); a
    new kind is refused while bills from ``on`` charge a fee item it adds or takes away."""
    if area is None and kind is None and floor is None:
        raise InvalidValue(_("give at least one thing to correct: --area, --kind or --floor"))
    values: dict[str, object] = {}
    if area is not None:
        values["area_x100"] = _area(area)
    if kind is not None:
        values["kind"] = _kind(kind)
    if floor is not None:
        values["floor"] = floor.strip()
        if not values["floor"]:
            raise InvalidValue(_("--floor cannot be empty"))
    with transaction(conn):
        edit = _Edit(
            conn, code, action="unit-set", on=on, now=now, operator=operator, reason=reason
        )
        old = dict(zip(("floor", "kind", "area_x100"), edit.existing[6:9], strict=True))
        edit.apply(edit.row(**values), {_PRESENT[name] for name in values})
        changes = [
            Change(_PRESENT[name], _stored(name, old[name]), _stored(name, value))
            for name, value in values.items()
            if old[name] != value
        ]
        edit.record(changes)
        if "kind" in values and old["kind"] != values["kind"]:
            edit.rebill(rebill, "kind", kind_was=old["kind"])
        if area is not None:
            edit.rebill(rebill, "area")
    return edit.result


_PRESENT = {"area_x100": "area", "kind": "kind", "floor": "floor"}


def _stored(name: str, value: object) -> str:
    if name == "area_x100":
        return hundredths_str(value)  # type: ignore[arg-type]
    return "" if value is None else str(value)


def _area(value: str) -> int:
    try:
        return parse_area(value, what="--area")
    except InvalidValue:
        raise InvalidValue(
            _(
                "--area {value}: the area must be above 0, with at most two decimals and no "
                "more than 100,000 ㎡"
            ).format(value=value)
        ) from None


def _kind(value: str) -> str:
    try:
        return resolve_kind(value)
    except InvalidValue:
        raise InvalidValue(
            _("--kind {value}: unknown unit type; use 住宅, 商铺, 写字楼, 车位 or 储藏室").format(
                value=value
            )
        ) from None


def sell(
    conn: sqlite3.Connection,
    code: str,
    *,
    buyer: str,
    phone: str,
    on: date,
    now: datetime,
    id_number: str = "",
    operator: str = "",
    reason: str = "",
    rebill: Rebill | None = None,
) -> EditResult:
    """Record a sale (过户) on ``on``: the seller's ownership ends, the buyer's starts. Bills
    before ``on`` stay the seller's — arrears do not pass to a buyer; unpaid bills for days
    from ``on`` are re-billed to the buyer as new events, and paid ones stay with the seller
    (named, with what to do)."""
    name = _name(buyer, "--to")
    phones = _phones(phone, "--phone")
    ident = _id_number(id_number, "--id-number")
    with transaction(conn):
        edit = _Edit(conn, code, action="sell", on=on, now=now, operator=operator, reason=reason)
        held = edit.holder("owner")
        edit.result.party = name
        if held is not None and held.name == name:
            edit.result.notices.append(
                _("{name} already owns {code}: no transfer needed").format(
                    name=name, code=edit.code
                )
            )
            return edit.result
        edit.refuse_before(held, "--date")
        person = PartyIn(name, party_kind(name, ident), phones, ident, None, False, False)
        edit.apply(
            edit.row(owner=person, changed_on=on.isoformat()), {"owner", "phone", "id_number"}
        )
        buyer_id = store.current_holder_id(conn, edit.code, "owner")
        seller = held.name if held is not None else "开发建设单位"
        edit.record([Change("owner", seller, name)], buyer_id)
        edit.rebill(rebill, "sale")
        _sale_notices(edit, seller)
    return edit.result


def _sale_notices(edit: _Edit, seller: str) -> None:
    notices = edit.result.notices
    notices.append(
        _(
            "bills before {day} stay with {seller}: arrears do not pass to the buyer with the "
            "unit, and reminders go only to the former owner"
        ).format(day=edit.on, seller=seller)
    )
    for k in edit.result.kept:
        notices.append(
            _(
                "bill {bill} ({item} {period}) has money paid on it and stays with {party}; "
                "for the buyer to bear it, reverse that payment first, then run propfee rebill "
                "{code} --from {day}"
            ).format(
                bill=k.bill_id,
                item=k.item,
                period=k.period,
                party=k.party or seller,
                code=edit.code,
                day=edit.on,
            )
        )


def move_out(
    conn: sqlite3.Connection,
    code: str,
    *,
    on: date,
    now: datetime,
    operator: str = "",
    reason: str = "",
) -> EditResult:
    """The tenant moves out on ``on``: the tenancy ends, and whoever pays for the unit from
    then on follows (the owner, else the developer). Bills already issued stay with whom they
    were issued to."""
    with transaction(conn):
        edit = _Edit(
            conn, code, action="move-out", on=on, now=now, operator=operator, reason=reason
        )
        held = edit.holder("tenant")
        if held is None:
            edit.result.notices.append(
                _("{code} has no tenant in residence: nothing to move out").format(code=edit.code)
            )
            return edit.result
        edit.result.party = held.name
        edit.refuse_before(held, "--date")
        edit.apply(edit.row(tenant=None, changed_on=on.isoformat()), {"tenant"})
        changes = [Change("tenant", held.name, "")]
        if held.pays:
            changes.append(Change("payer", "租户", "业主"))
        edit.record(changes, held.party_id)
        _issued_stay(edit)
    return edit.result


def move_in(
    conn: sqlite3.Connection,
    code: str,
    *,
    tenant: str,
    phone: str,
    on: date,
    now: datetime,
    pays: bool = False,
    id_number: str = "",
    operator: str = "",
    reason: str = "",
) -> EditResult:
    """A tenant moves in on ``on`` (a tenant before them moves out that day); with ``pays``
    the tenant pays for the unit from then on. Bills already issued stay with whom they were
    issued to."""
    name = _name(tenant, "--tenant")
    phones = _phones(phone, "--phone")
    ident = _id_number(id_number, "--id-number")
    with transaction(conn):
        edit = _Edit(conn, code, action="move-in", on=on, now=now, operator=operator, reason=reason)
        held = edit.holder("tenant")
        edit.result.party = name
        same = held is not None and held.name == name
        if (
            same
            and bool(held.pays) == pays
            and set(phones.split("/")) <= set(held.phones.split("/"))
        ):
            edit.result.notices.append(
                _("{name} is already the tenant of {code}: nothing to change").format(
                    name=name, code=edit.code
                )
            )
            return edit.result
        edit.refuse_before(held, "--date")
        person = PartyIn(name, party_kind(name, ident), phones, ident, None, False, False)
        row = edit.row(
            tenant=person, tenant_pays=pays, tenant_from=on.isoformat(), changed_on=on.isoformat()
        )
        edit.apply(row, {"tenant", "tenant_phone", "tenant_id_number", "payer"})
        changes = [] if same else [Change("tenant", held.name if held else "", name)]
        if same and not set(phones.split("/")) <= set(held.phones.split("/")):
            changes.append(Change("phones", held.phones, phones))
        paid_by = "租户" if held is not None and held.pays else "业主"
        if paid_by != ("租户" if pays else "业主"):
            changes.append(Change("payer", paid_by, "租户" if pays else "业主"))
        edit.record(changes, store.current_holder_id(conn, edit.code, "tenant"))
        _issued_stay(edit)
    return edit.result


def _issued_stay(edit: _Edit) -> None:
    if edit.billed_from_day():
        edit.result.notices.append(
            _(
                "{code}: bills already issued from {day} stay with the party they were issued "
                "to (whoever a bill is issued to pays it); bills issued from now on go to the "
                "new payer"
            ).format(code=edit.code, day=edit.on)
        )


def set_owner(
    conn: sqlite3.Connection,
    who: str,
    *,
    name: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
    company: bool | None = None,
    on: date,
    now: datetime,
    operator: str = "",
    reason: str = "",
) -> EditResult:
    """Correct an owner's (or a tenant's) name, phones, ID number or kind — found by a unit
    code (its owner), an exact name or a phone — validated as an import validates them; the
    old values stay in the history."""
    if name is None and phone is None and id_number is None and company is None:
        raise InvalidValue(
            _(
                "give at least one thing to correct: --name, --phone, --id-number or "
                "--company/--person"
            )
        )
    wanted: dict[str, str] = {}
    if name is not None:
        wanted["name"] = _name(name, "--name")
    if phone is not None:
        wanted["phones"] = _phones(phone, "--phone")
    if id_number is not None:
        wanted["id_number"] = _id_number(id_number, "--id-number")
    if company is not None:
        wanted["party_kind"] = "company" if company else "person"
    stamp = now.isoformat(sep=" ", timespec="seconds")
    with transaction(conn):
        party_id, unit = _find_party(conn, who)
        _pid, kind, old_name, old_phones, old_id, _more = store.party_row(conn, party_id)
        old = {"name": old_name, "phones": old_phones, "id_number": old_id, "party_kind": kind}
        changes = [Change(f, old[f], v) for f, v in wanted.items() if old[f] != v]
        new = {**old, **wanted}
        result = EditResult(unit, new["name"], on.isoformat(), changes)
        if changes:
            store.update_party(
                conn,
                party_id,
                kind=new["party_kind"],
                name=new["name"],
                phones=new["phones"],
                id_number=new["id_number"],
                stamp=stamp,
            )
            store.insert_unit_events(
                conn,
                [
                    (
                        None,
                        party_id,
                        "owner-set",
                        c.field,
                        c.old,
                        c.new,
                        on.isoformat(),
                        reason.strip(),
                        operator,
                        stamp,
                    )
                    for c in changes
                ],
            )
    return result


def _find_party(conn: sqlite3.Connection, who: str) -> tuple[int, str]:
    """(party, unit code or "") by a unit code (its owner now), an exact name, or a phone."""
    text = who.strip()
    code = resolve_code(conn, text) if text else ""
    if code and store.code_exists(conn, code):
        party_id = store.current_holder_id(conn, code, "owner")
        if party_id is None:
            raise NotFound(
                _(
                    "{code} has no owner at present (the developer pays): there are no owner "
                    "details to correct"
                ).format(code=code)
            )
        return party_id, code
    found = store.parties_named(conn, text)
    digits = re.sub(r"\D", "", text)
    if not found and len(digits) >= 7:
        found = store.parties_with_phone(conn, digits)
    if len(found) > 1:
        raise InvalidValue(
            _("{n} owners or tenants match {text}: name the unit code instead").format(
                n=len(found), text=repr(text)
            )
        )
    if not found:
        raise NotFound(
            _("{text} not found: give a unit code, an owner's name or a phone").format(
                text=repr(text)
            )
        )
    return found[0], ""


# ---------------------------------------------------------------- checked like an import


def _name(value: str, option: str) -> str:
    text = cells.text(value).strip()
    if not text:
        raise InvalidValue(_("{option}: write the name").format(option=option))
    return text


def _phones(value: str, option: str) -> str:
    if "*" in value or "＊" in value:
        raise InvalidValue(
            _("{option} {value}: this number is masked; give the full number").format(
                option=option, value=value
            )
        )
    try:
        found = cells.phones(value)
    except InvalidValue:
        found = None
    if not found:
        raise InvalidValue(
            _(
                "{option} {value}: not a valid phone number (an 11-digit mobile, or a landline "
                "with its area code such as 0931-8123456; separate several with /)"
            ).format(option=option, value=value)
        )
    return "/".join(found)


def _id_number(value: str, option: str) -> str:
    if not value.strip():
        return ""
    if cells.is_masked(value.strip()):
        raise InvalidValue(
            _("{option} {value}: this ID number is masked; give the full number").format(
                option=option, value=value
            )
        )
    try:
        return cells.id_number(value)
    except InvalidValue:
        raise InvalidValue(
            _(
                "{option} {value}: not a valid ID number (18 digits with a correct check digit "
                "and birth date) or document number"
            ).format(option=option, value=value)
        ) from None
