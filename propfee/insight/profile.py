"""The owner's profile (客户档案): what staff need before they call or visit — the party's units
and roles, what it owes and its credit, how it pays, its recent contacts, complaints and requests,
and its tags (elderly, hardship, vip …). A read model over every domain."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date

from propfee.collection import arrears, dunning
from propfee.core.errors import InvalidValue, NotFound
from propfee.core.i18n import _
from propfee.insight import store
from propfee.payments import ledger
from propfee.roster.contacts import contacts_of_units
from propfee.roster.units import party_events, resolve_code
from propfee.service import complaints
from propfee.service.owners import tags_of


@dataclass
class Holding:
    unit: str
    unit_id: int
    role: str
    start: str | None
    end: str | None
    pays: bool
    owed_fen: int = 0
    credit_fen: int = 0


@dataclass
class Profile:
    id: int
    name: str
    kind: str
    phones: str
    id_number: str
    birthday: str | None
    developer: bool
    holdings: list[Holding] = field(default_factory=list)
    history: str = "none"
    late_periods: int = 0
    contacts: list = field(default_factory=list)
    cases: list = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    changes: list = field(default_factory=list)  # roster's Event: the party's 变更记录
    #: (unit, roster Contact): the other people at the units the party holds now
    household: list = field(default_factory=list)

    @property
    def owed_fen(self) -> int:
        return sum(h.owed_fen for h in self.holdings)

    @property
    def credit_fen(self) -> int:
        return sum(h.credit_fen for h in self.holdings)


def find(conn: sqlite3.Connection, query: str) -> list[int]:
    """Parties by unit code, phone number or name (exact first, then part of it)."""
    text = query.strip()
    if not text:
        raise InvalidValue(_("give a name, a phone number or a unit code"))
    code = resolve_code(conn, text)
    unit_id = store.unit_id_by_code(conn, code)
    if unit_id is not None:
        found = store.current_parties_of_unit(conn, unit_id)
        if found:
            return found
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7 and len(digits) >= len(text) - 3:
        found = store.parties_by_phone(conn, digits)
        if found:
            return found
    exact = store.parties_named(conn, text)
    if exact:
        return exact
    return store.parties_name_like(conn, text)


def profile(conn: sqlite3.Connection, party_id: int, *, as_of: date, settings) -> Profile:
    """The party's profile as of ``as_of``."""
    row = store.party_row(conn, party_id)
    if row is None:
        raise NotFound(_("no party {id}").format(id=party_id))
    found = Profile(*row[:6], bool(row[6]))
    for code, unit_id, role, start, end, pays in store.party_holdings(conn, party_id):
        holding = Holding(code, unit_id, role, start, end, bool(pays))
        holding.owed_fen = store.unsettled_owed(conn, unit_id, party_id)
        if end is None:
            holding.credit_fen = ledger.credit_of(conn, unit_id, as_of)
        found.holdings.append(holding)
    found.changes = party_events(conn, party_id)
    held = {h.unit_id: h.unit for h in found.holdings if h.end is None}
    found.household = [(held[uid], c) for uid, c in contacts_of_units(conn, list(held))]
    history = arrears.payment_history(conn, {party_id}, as_of)
    on_time, found.late_periods = history.get(party_id, (0, 0))
    rules = settings.dunning
    found.history = (
        "chronic"
        if found.late_periods >= rules.chronic_periods
        else "occasional"
        if found.late_periods
        else "good"
        if on_time
        else "none"
    )
    found.contacts = dunning.list_contacts(conn, party_id=party_id)[-10:]
    found.cases = complaints.cases_of_party(conn, party_id)
    found.tags = tags_of(conn, party_id)
    return found
