"""Who answers for a unit on a day (LEGAL rule 9): the developer (开发建设单位) before delivery
and for unsold units; from delivery (or the month after, by the settings) the owner; a tenant
instead of the owner while a lease says the tenant pays."""

from __future__ import annotations

import itertools
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple

import propfee.roster.store as store
from propfee.core import periods
from propfee.core.i18n import N_, _

# how a role and a payer read to people (tables, CSV, xlsx); JSON keeps the codes
ROLE_LABELS = {"owner": "业主", "tenant": "租户"}
PAYER_LABELS = {**ROLE_LABELS, "developer": "开发建设单位"}
#: the same, as staff read them at the terminal (the labels above are for documents)
PAYER_NAMES = {"owner": N_("owner"), "tenant": N_("tenant"), "developer": N_("developer")}


def payer_label(payer: str) -> str:
    """Owner, tenant or developer in the reader's language."""
    return _(PAYER_NAMES[payer]) if payer in PAYER_NAMES else payer


class Unit(NamedTuple):
    id: int
    code: str
    building: str
    kind: str
    area_x100: int | None
    start: date | None  # the owner pays from this day (delivery, or the month after)
    vacant: bool


class Holding(NamedTuple):
    role: str
    party_id: int
    start: date | None
    end: date | None  # exclusive
    pays: bool


def payer(start: date | None, holdings, day: date) -> int | None:
    """Who pays for ``day``: nobody but the developer before the owner's start (None) — and
    for a unit with no delivery date on record, which is not yet the owner's — then the
    tenant who pays, else the owner, else the developer (None)."""
    if start is None or day < start:
        return None
    owner = tenant = None
    for h in holdings:
        if (h.start is None or h.start <= day) and (h.end is None or day < h.end):
            if h.role == "owner":
                owner = h
            elif h.pays:
                tenant = h
    if tenant is not None:
        return tenant.party_id
    if owner is not None:
        return owner.party_id
    return None


def _start_and_holdings(
    conn: sqlite3.Connection, unit_id: int, settings
) -> tuple[date | None, list[Holding]]:
    """The day a unit's owner starts paying, and who held it when."""
    delivered = store.delivered_on(conn, unit_id)
    start = date.fromisoformat(delivered) if delivered else None
    if start is not None and settings.billing.owner_pays_from == "next_month":
        start = periods.add_months(periods.month_start(start), 1)
    holdings = [
        Holding(
            role,
            pid,
            date.fromisoformat(a) if a else None,
            date.fromisoformat(b) if b else None,
            bool(pays),
        )
        for role, pid, a, b, pays in store.unit_occupancies(conn, unit_id)
    ]
    return start, holdings


def payer_of(conn: sqlite3.Connection, unit_id: int, day: date, settings) -> int | None:
    """The party responsible for a unit on a day, without writing anything: None when it is
    the developer and the developer has no party row yet."""
    party = payer(*_start_and_holdings(conn, unit_id, settings), day)
    if party is None:
        return store.developer_id(conn)
    return party


def responsible_party(
    conn: sqlite3.Connection, unit_id: int, day: date, settings, stamp: str
) -> int:
    """The party responsible for a unit on a day (the developer when nobody else is)."""
    party = payer(*_start_and_holdings(conn, unit_id, settings), day)
    return developer_party(conn, settings, stamp) if party is None else party


def developer_party(conn: sqlite3.Connection, settings, stamp: str) -> int:
    """The developer (开发建设单位), who pays for unsold and undelivered units."""
    row = store.developer(conn)
    name = settings.estate.developer
    if row is not None:
        if row[1] != name:
            store.rename_party(conn, row[0], name, stamp)
        return row[0]
    return store.insert_developer(conn, name, stamp)


class Payers:
    """Who pays for every unit on any day, read once for many units: the units with the day
    each owner starts paying, who held them when, and the developer. With ``codes``, only
    the units with those codes (a statement's, read in one statement however many)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings,
        now: datetime,
        as_of: date | None = None,
        *,
        codes: Iterable[str] | None = None,
    ):
        self.conn = conn
        self.codes = None if codes is None else sorted(set(codes))
        self.settings = settings
        self.as_of = (as_of or now.date()).isoformat()
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self._units: list[Unit] | None = None
        self._holdings: dict[int, list[Holding]] | None = None
        self._developer: int | None = None

    @property
    def units(self) -> list[Unit]:
        """Every unit, with the day its owner starts paying (read when first needed)."""
        if self._units is None:
            settings = self.settings
            next_month = settings.billing.owner_pays_from == "next_month"
            self._units = []
            starts: dict[str | None, date | None] = {None: None}
            rows = (
                store.units_for_billing(self.conn)
                if self.codes is None
                else store.units_for_billing_named(self.conn, self.codes)
            )
            once = {}.setdefault  # the few buildings and kinds, each text held once
            for uid, code, building, kind, area, delivered, vacant in rows:
                start = starts.get(delivered, False)
                if start is False:
                    start = date.fromisoformat(delivered)
                    if next_month:  # 自交付次月起: from the first day of the next month
                        start = periods.add_months(periods.month_start(start), 1)
                    starts[delivered] = start
                self._units.append(
                    Unit(
                        uid,
                        code,
                        once(building, building),
                        once(kind, kind),
                        area,
                        start,
                        bool(vacant),
                    )
                )
        return self._units

    @property
    def holdings(self) -> dict[int, list[Holding]]:
        """Who held each unit when: read the first time a bill needs it (a re-run that finds
        everything billed never does)."""
        if self._holdings is None:
            self._holdings = defaultdict(list)
            rows = (
                store.live_occupancies(self.conn)
                if self.codes is None
                else store.live_occupancies_of(self.conn, [u.id for u in self.units])
            )
            days: dict[str | None, date | None] = {None: None, "": None}  # each day made once
            roles: dict[str, str] = {}
            for uid, role, pid, start, end, pays in rows:
                first = days.get(start, False)
                if first is False:
                    first = days[start] = date.fromisoformat(start)
                last = days.get(end, False)
                if last is False:
                    last = days[end] = date.fromisoformat(end)
                self._holdings[uid].append(
                    Holding(roles.setdefault(role, role), pid, first, last, bool(pays))
                )
        return self._holdings

    @property
    def developer(self) -> int:
        """The developer's party, created the first time a bill needs it."""
        if self._developer is None:
            self._developer = developer_party(self.conn, self.settings, self.stamp)
        return self._developer

    def payer_segments(self, unit: Unit, start: date, end: date) -> list[tuple[date, date, int]]:
        """(first day, last day, party) runs covering ``start``..``end``."""
        cuts = {start, end + timedelta(days=1)}
        if unit.start is not None and start < unit.start <= end:
            cuts.add(unit.start)
        holdings = self.holdings.get(unit.id, ())
        for h in holdings:
            for day in (h.start, h.end):
                if day is not None and start < day <= end:
                    cuts.add(day)
        ordered = sorted(cuts)
        runs: list[list] = []
        for first, after in itertools.pairwise(ordered):
            party = self.payer_on(unit, holdings, first)
            last = after - timedelta(days=1)
            if runs and runs[-1][2] == party:
                runs[-1][1] = last
            else:
                runs.append([first, last, party])
        return [tuple(r) for r in runs]

    def payer_on(self, unit: Unit, holdings, day: date) -> int:
        party = payer(unit.start, holdings, day)
        return self.developer if party is None else party

    def simple_owner(self, unit: Unit, start: date, end: date) -> int | None:
        """The one owner who pays a whole cycle in the common case, else None."""
        if unit.start is None or unit.start > start:
            return None  # not delivered (the developer's), or delivered inside the cycle
        known = self._holdings  # read once (see holdings): this runs for every bill
        holdings = (self.holdings if known is None else known).get(unit.id)
        if not holdings or len(holdings) != 1:
            return None
        h = holdings[0]
        if h.role != "owner" or (h.start is not None and h.start > start) or h.end is not None:
            return None
        return h.party_id
