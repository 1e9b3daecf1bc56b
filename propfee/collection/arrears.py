"""Arrears: who owes what as of a day, since when, in which aging bucket, and which dunning
tier that puts them in.

Everything is exact as of the day D: a bill is overdue when it was due before D and is not
paid as of D — payments and adjustments made after D do not count, bills due on or after D are
not overdue — and each bill's unpaid amount falls in exactly one bucket, so the buckets of a
row add up to its outstanding total. Only the bills still open at D are read: those never
settled, and those settled after D (``bill.settled_on`` is indexed for this).

The tier follows the seeds' 分阶段、差异化催收: ``gentle`` (a message, 1–15 days), ``call`` (a
call or visit, 16–30), ``notice`` (a formal 催缴通知书 with proof of delivery, 31+), ``legal``
(long overdue after a delivered notice whose deadline passed, or an explicit refusal). A
recorded service dispute holds the unit at ``dispute`` — fix the service first; a promise to
pay holds it at ``promised`` until the promised day, and a broken promise escalates.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from propfee.collection import store
from propfee.collection.plans import honoured_units
from propfee.core.i18n import N_
from propfee.files import cells
from propfee.roster.units import natural_key
from propfee.service.complaints import fee_disputes

TIERS = ("gentle", "call", "notice", "legal")
HOLDS = ("dispute", "promised", "plan")
# labels: _() where shown to staff, zh() in lists and documents that stay Chinese
TIER_LABELS = {
    "gentle": N_("reminder"),
    "call": N_("call/visit"),
    "notice": N_("demand notice"),
    "legal": N_("legal action"),
    "dispute": N_("service dispute"),
    "promised": N_("promised"),
    "plan": N_("installment plan"),
}
HISTORY_LABELS = {
    "good": N_("pays on time"),
    "occasional": N_("sometimes late"),
    "chronic": N_("often late"),
    "none": N_("no payment record yet"),
}


def bucket_labels(edges: tuple[int, ...]) -> list[str]:
    """(15, 30, 90, 365) -> ["1-15", "16-30", "31-90", "91-365", "366+"]."""
    labels, low = [], 1
    for edge in edges:
        labels.append(f"{low}-{edge}")
        low = edge + 1
    labels.append(f"{edges[-1] + 1}+")
    return labels


def bucket_of(days: int, edges: tuple[int, ...]) -> int:
    """The bucket of ``days`` overdue: the first edge it does not exceed, else the last."""
    return bisect_left(edges, days)


class OverdueBill(NamedTuple):
    """A bill owing as of the day; its fields in the order its query reads them, so that
    bills sort oldest first (due day, then id) as plain tuples."""

    due_on: str
    id: int
    period: str
    days: int
    item: str
    covers_from: str
    covers_to: str
    basis: str
    owed_fen: int


class ListedBill(NamedTuple):
    """A bill owing as of the day as the overdue list shows it: an OverdueBill without what
    a letter names (fee item, cycle, basis); sorts the same, owed last as there."""

    due_on: str
    id: int
    period: str
    days: int
    owed_fen: int


@dataclass
class Contact:
    at: str
    channel: str
    outcome: str
    reason: str
    promise_on: str | None
    tier: str
    delivered: str | None = None  # a letter's proof of delivery: its day


@dataclass(slots=True)
class OverdueRow:
    unit_id: int
    unit: str
    building: str
    kind: str
    party_id: int | None
    payer: str
    party_kind: str
    phones: str
    developer: bool
    bills: list[OverdueBill]
    outstanding_fen: int = 0
    oldest_due: str = ""
    days_overdue: int = 0
    buckets: list[int] = field(default_factory=list)
    history: str = "good"
    late_periods: int = 0
    tier: str = "gentle"
    days_tier: str = "gentle"
    last_contact: Contact | None = None
    reason: str = ""
    promise_on: str | None = None
    dispute: bool = False
    notice_deadline_passed: bool = False
    limitation: bool = False  # a bill's 3-year clock is near its end: a letter first
    follow_up: bool = False  # a delivered letter awaits its follow-up call (seed 002)
    delivered_on: str | None = None  # the day the lapse's last letter was delivered
    once_more: bool = False  # said they forgot: one more gentle reminder before escalating
    reasons: list[str] = field(default_factory=list)  # every reason recorded, first first
    # every contact but the lists (call list, legal review): (at, channel, outcome, delivered)
    contacts: list[tuple] = field(default_factory=list)

    @property
    def oldest_bill_id(self) -> int:
        return self.bills[0].id

    @property
    def business(self) -> bool:
        """A company is written to in a business voice (a person who owns a shop is not)."""
        return self.party_kind == "company"

    @property
    def phone(self) -> str:
        return self.phones.split("/")[0] if self.phones else ""


def overdue(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    settings,
    building: str | None = None,
    min_days: int | None = None,
    tier: str | None = None,
    reason: str | None = None,
    due_by: date | None = None,
    listed: bool = False,
    unit_id: int | None = None,
) -> list[OverdueRow]:
    """Every (party, unit) with bills overdue as of ``as_of``, oldest first within each.
    With ``due_by``, only the bills due on or before that day are read (the rows' totals and
    tiers are then of those bills alone: for the limitation clocks near their end). With
    ``listed``, the rows' bills are ListedBills: what the overdue list shows of them. With
    ``unit_id``, only that unit's rows, its bills read by the unit (a payer's other units are
    then not in its total: the tier of a row whose payer owes elsewhere too may differ from
    the whole list's; its bills do not)."""
    groups = _open_bills(conn, as_of, building, due_by, listed, unit_id)
    rows = _rows(conn, groups, as_of, settings)
    rows = [
        r
        for r in rows
        if (min_days is None or r.days_overdue >= min_days)
        and (tier is None or r.tier == tier)
        and (reason is None or r.reason == reason)
    ]
    rows.sort(key=lambda r: (-r.days_overdue, r.unit))
    return rows


def overdue_totals(conn: sqlite3.Connection, *, as_of: date, settings) -> list[OverdueRow]:
    """The rows of ``overdue`` — every (party, unit) owing as of ``as_of`` — with their
    outstanding total, oldest due day, history, reason, promise and tier, the same as there,
    but without their bills or buckets: the sums are made in SQL (for counts and sums, as
    ``propfee today`` shows them)."""
    rows = _rows(conn, _owing_groups(conn, as_of), as_of, settings)
    rows.sort(key=lambda r: (-r.days_overdue, r.unit))
    return rows


class Owing(NamedTuple):
    """What ``propfee today`` counts of an overdue row."""

    tier: str
    promise_on: str | None
    outstanding_fen: int
    oldest_due: str


def owing_tiers(conn: sqlite3.Connection, *, as_of: date, settings) -> list[Owing]:
    """The tier, promised day, outstanding total and oldest due day of each of
    ``overdue_totals``'s rows, the same as there. A row nobody has heard from (no contact,
    plan or complaint) whose days give a payer of any history the same tier has that tier,
    and its unit, party and history are not read; the others are made as there."""
    rules = settings.dunning
    groups = _owing_groups(conn, as_of)
    if not groups:
        return []
    heard = _heard_of(conn, {uid for _pid, uid in groups}, as_of, settings)
    contacts, planned, complained = heard
    plain, rest = [], {}
    owed: dict = defaultdict(int)  # what each payer owes in all (see _below_legal_min)
    for (pid, uid), (fen, oldest, days) in groups.items():
        owed[pid if pid is not None else ("unit", uid)] += fen
        tier = days_tier(days, "good", rules)
        pair = (uid, pid)
        if (
            pair in contacts
            or pair in planned
            or pair in complained
            or tier != days_tier(days, "chronic", rules)
        ):
            rest[(pid, uid)] = (fen, oldest, days)
        else:
            plain.append(Owing(tier, None, fen, oldest))
    rows = _rows(conn, rest, as_of, settings, heard, owed)
    return plain + [Owing(r.tier, r.promise_on, r.outstanding_fen, r.oldest_due) for r in rows]


def _owing_groups(conn: sqlite3.Connection, as_of: date) -> dict[tuple, tuple]:
    """(party, unit) -> (outstanding, oldest due day, days overdue) of every (party, unit)
    owing as of ``as_of``, summed in SQL."""
    ordinal = as_of.toordinal()
    days_since: dict[str, int] = {}  # by due day: a few dozen of them
    groups = {}
    for pid, uid, owed, oldest in store.owing_totals_as_of(conn, as_of.isoformat()):
        days = days_since.get(oldest)
        if days is None:
            days = days_since[oldest] = ordinal - date.fromisoformat(oldest).toordinal()
        groups[(pid, uid)] = (owed, oldest, days)
    return groups


def owed_by_age(conn: sqlite3.Connection, *, as_of: date, edges: tuple[int, ...]) -> list:
    """(units, owed) in each aging bucket of ``edges`` (see ``bucket_of``) of what is
    overdue as of ``as_of`` — the bucket totals of ``overdue``'s rows, summed in SQL; a unit
    is counted once in each bucket it owes in."""
    found = {
        bucket: (units, owed)
        for bucket, units, owed in store.owing_by_age(
            conn, as_of.isoformat(), aging_since(as_of, edges)
        )
    }
    return aged(found, edges)


def aging_since(as_of: date, edges: tuple[int, ...]) -> list[str]:
    """The first due day of each aging bucket of ``edges`` but the oldest, as of ``as_of``:
    what ``store.aging_bucket`` sorts the bills' due days by."""
    return [(as_of - timedelta(days=edge)).isoformat() for edge in edges]


def aged(found: dict[int, tuple[int, int]], edges: tuple[int, ...]) -> list[tuple[int, int]]:
    """(units, owed) in each bucket of ``edges``, from those found by bucket."""
    return [found.get(i, (0, 0)) for i in range(len(edges) + 1)]


def _rows(
    conn: sqlite3.Connection,
    groups: dict,
    as_of: date,
    settings,
    heard: tuple | None = None,
    owed: dict | None = None,
) -> list[OverdueRow]:
    """The rows of ``groups`` — (party, unit) -> its bills, or (outstanding, oldest due,
    days) — with what is known of each unit, party and contact, and the tier. ``heard``:
    the units' contacts, plans and complaints (``_heard_of``), when read already; ``owed``:
    what each payer owes in all, when ``groups`` are not all of it."""
    if not groups:
        return []
    units = {k[1] for k in groups}
    parties = {k[0] for k in groups if k[0] is not None}
    contacts, planned, complained = heard or _heard_of(conn, units, as_of, settings)
    found = _Found(
        units=store.units_by_id(conn, units),
        parties=store.parties_by_id(conn, parties),
        history=payment_history(conn, parties, as_of),
        contacts=contacts,
        planned=planned,
        complained=complained,
    )
    rows = [
        _row(pid, uid, bills, found, as_of, settings.dunning)
        for (pid, uid), bills in groups.items()
    ]
    _below_legal_min(rows, settings.dunning.legal_min_fen, owed)
    return rows


def _heard_of(conn: sqlite3.Connection, units: set, as_of: date, settings) -> tuple:
    """The units' contacts (by unit and party), the (unit, party) of their plans being
    honoured and of their open fee-dispute complaints, as of ``as_of``."""
    return (
        contacts_as_of(conn, units, as_of),
        honoured_units(conn, units, as_of=as_of, settings=settings),
        fee_disputes(conn, units, as_of),
    )


def _below_legal_min(rows: list[OverdueRow], legal_min_fen: int, owed: dict | None = None) -> None:
    """A party owing less than ``legal_min`` in all (``owed``: by party, else as the rows
    add up) is never put up for legal review: its rows stop at ``notice`` (seed 001:
    根据欠费金额、欠费时间)."""
    if legal_min_fen <= 0:
        return
    if owed is None:
        owed = defaultdict(int)
        for row in rows:
            owed[row.party_id if row.party_id is not None else ("unit", row.unit_id)] += (
                row.outstanding_fen
            )
    for row in rows:
        key = row.party_id if row.party_id is not None else ("unit", row.unit_id)
        if row.tier == "legal" and owed[key] < legal_min_fen:
            row.tier = "notice"


def _open_bills(
    conn: sqlite3.Connection,
    as_of: date,
    building: str | None,
    due_by: date | None = None,
    listed: bool = False,
    unit_id: int | None = None,
) -> dict[tuple, list]:
    """The bills still owing something at the end of ``as_of``, by (party, unit): each an
    OverdueBill, or with ``listed`` a ListedBill; only ``unit_id``'s when it is given."""
    place = cells.building_part(building) if building else None
    names = store.fee_item_names(conn)
    groups: dict[tuple, list] = defaultdict(list)
    ordinal = as_of.toordinal()
    days_since: dict[str, int] = {}
    bill = tuple.__new__  # an OverdueBill without its keyword-argument __new__
    found = store.open_bills_as_of(
        conn,
        as_of.isoformat(),
        place,
        due_by.isoformat() if due_by else None,
        listed=listed,
        unit_id=unit_id,
    )
    if listed:
        for pid, uid, due_on, bid, period, owed in found:
            if owed > 0:
                days = days_since.get(due_on)
                if days is None:
                    days = days_since[due_on] = ordinal - date.fromisoformat(due_on).toordinal()
                groups[(pid, uid)].append(bill(ListedBill, (due_on, bid, period, days, owed)))
        return groups
    for pid, uid, due_on, bid, period, item, frm, to, basis, owed in found:
        if owed > 0:
            days = days_since.get(due_on)
            if days is None:
                days = days_since[due_on] = ordinal - date.fromisoformat(due_on).toordinal()
            groups[(pid, uid)].append(
                bill(OverdueBill, (due_on, bid, period, days, names[item], frm, to, basis, owed))
            )
    return groups


@dataclass
class _Found:
    """What the rows of an overdue list are made from, read once for every unit."""

    units: dict
    parties: dict
    history: dict
    contacts: dict
    planned: set
    complained: set


def _row(pid, uid, bills, found: _Found, as_of: date, rules) -> OverdueRow:
    """One (party, unit)'s row: its bills oldest first, the outstanding total by bucket, the
    payer's history and the tier — or, from (outstanding, oldest due day, days), the same
    row without its bills and buckets."""
    code, unit_building, kind = found.units[uid]
    name, party_kind, phones, developer = found.parties.get(pid, ("", "company", "", 1))
    totals = bills if isinstance(bills, tuple) else None
    row = OverdueRow(
        uid,
        code,
        unit_building,
        kind,
        pid,
        name,
        party_kind,
        phones or "",
        bool(developer),
        [] if totals else bills,
    )
    if totals:
        row.outstanding_fen, row.oldest_due, row.days_overdue = totals
    else:
        bills.sort()  # oldest first: by due day, then id (see OverdueBill)
        edges = rules.buckets
        buckets = row.buckets = [0] * (len(edges) + 1)
        for bill in bills:
            buckets[bisect_left(edges, bill[3])] += bill[-1]  # days, owed_fen
        row.outstanding_fen = sum(buckets)
        row.oldest_due = bills[0].due_on
        row.days_overdue = bills[0].days
    # the history is how the payer paid: periods paid late in the last 12 months; what
    # is unpaid now is the current lapse, measured by its days, not held against them
    on_time, row.late_periods = found.history.get(pid, (0, 0))
    row.history = _history(on_time, row.late_periods, rules)
    _decide(
        row,
        found.contacts.get((uid, pid), []),
        as_of,
        rules,
        (uid, pid) in found.planned,
        (uid, pid) in found.complained,
    )
    return row


def _history(on_time: int, late_periods: int, rules) -> str:
    return (
        "chronic"
        if late_periods >= rules.chronic_periods
        else "occasional"
        if late_periods
        else "good"
        if on_time
        else "none"
    )


def payment_history(conn: sqlite3.Connection, parties: set, as_of: date) -> dict[int, tuple]:
    """Each party's (periods paid on time, periods paid late) among the periods due in the
    12 months before ``as_of`` and paid by then."""
    since = (as_of - timedelta(days=365)).isoformat()
    day = as_of.isoformat()
    return {
        pid: (on_time, late) for pid, on_time, late in store.periods_paid(conn, parties, since, day)
    }


def contacts_as_of(conn: sqlite3.Connection, units: set, as_of: date) -> dict[tuple, list[tuple]]:
    """Each (unit, party)'s contacts up to the end of ``as_of``, oldest first, with the day a
    letter's delivery was proved. Per party: a buyer never inherits the seller's record."""
    end = f"{as_of.isoformat()} 23:59:59"
    day = as_of.isoformat()
    found: dict[tuple, list[tuple]] = defaultdict(list)
    for row in store.contacts_up_to(conn, units, end, day):
        found[(row[0], row[1])].append(tuple(row[2:]))
    return found


def days_tier(days: int, history: str, rules) -> str:
    shift = rules.chronic_shift if history == "chronic" else 0
    if days >= rules.notice_from - shift:
        return "notice"
    if days >= rules.call_from - shift:
        return "call"
    return "gentle"


@dataclass
class _Heard:
    """What the contacts of the current lapse said."""

    dispute: bool = False
    refused: bool = False
    promise: tuple | None = None  # (promised day, the tier it was made at)
    notice_passed: bool = False
    forgot_pending: bool = False  # "forgot" recorded and no gentle message since
    forgot_reminded: str = ""  # the day of the gentle message that followed it
    delivered: str | None = None  # the last day a letter of this lapse was delivered
    calls: list[str] = field(default_factory=list)  # days staff called or visited
    listed: list[str] = field(default_factory=list)  # days put on the call list


def _decide(
    row: OverdueRow,
    contacts: list[tuple],
    as_of: date,
    rules,
    planned: bool = False,
    complained: bool = False,
) -> None:
    """The tier, from the days overdue and the history of contacts."""
    row.days_tier = days_tier(row.days_overdue, row.history, rules)
    if not contacts and not planned and not complained and not row.reason:
        # nothing heard, no plan, no complaint: the tier is the days' (what _heard makes of
        # it, without the work; most rows of a large estate are these)
        row.tier = row.days_tier
        return
    _heard(row, contacts, as_of, rules, planned, complained)


def _heard(
    row: OverdueRow, contacts: list[tuple], as_of: date, rules, planned: bool, complained: bool
) -> None:
    """The tier, from the days' tier (``row.days_tier``) and what was heard and done."""
    day = as_of.isoformat()
    heard = _Heard()
    for contact in contacts:
        _hear(row, heard, contact, day, rules)
    if complained:  # a fee-dispute complaint not yet resolved and visited
        heard.dispute = True
        row.reason = "dispute"
    row.dispute = heard.dispute
    row.notice_deadline_passed = heard.notice_passed
    row.delivered_on = heard.delivered
    row.tier = _tier(row, heard, day, rules, planned)


def _hear(row: OverdueRow, heard: _Heard, contact: tuple, day: str, rules) -> None:
    """Take one contact into account, oldest first."""
    at, channel, outcome, reason, promise_on, contact_tier, deadline, _bill_id, delivered = contact
    if channel not in ("call-list", "legal-review"):
        row.last_contact = Contact(
            at, channel, outcome, reason, promise_on, contact_tier, delivered
        )
        row.contacts.append((at, channel, outcome, delivered))
    if reason and reason not in row.reasons:
        row.reasons.append(reason)
    # a service dispute holds until it is resolved; the rest is about the arrears of its
    # day, so what was said in an earlier lapse (since paid) no longer counts
    if outcome == "dispute" or reason == "dispute":
        heard.dispute = True
        row.reason = "dispute"
    if outcome == "resolved":
        heard.dispute = False
        if row.reason == "dispute":
            row.reason = ""
    if at[:10] < row.oldest_due:  # the current arrears began at the oldest due day
        return
    if reason and reason != "dispute":
        row.reason = reason
    if outcome == "refused" or reason == "refusal":
        heard.refused = True
    _hear_differences(heard, at, channel, reason, contact_tier, delivered)
    if outcome == "promised" and promise_on:
        heard.promise = (
            promise_on,
            contact_tier
            or days_tier(
                (date.fromisoformat(at[:10]) - date.fromisoformat(row.oldest_due)).days,
                row.history,
                rules,
            ),
        )
        row.promise_on = promise_on
    if channel == "letter" and delivered and deadline:
        # the final deadline runs from the delivery when the letter arrived late
        late_arrival = date.fromisoformat(delivered) + timedelta(days=rules.deadline_days)
        if max(deadline, late_arrival.isoformat()) < day:
            heard.notice_passed = True  # a bill the letter demanded is still unpaid


def _hear_differences(
    heard: _Heard, at: str, channel: str, reason: str, contact_tier: str, delivered
) -> None:
    """What differentiates the collection (seeds 000–002): a "forgot" awaiting its gentle
    reminder, a delivered letter awaiting its follow-up call."""
    if reason == "forgot":
        heard.forgot_pending, heard.forgot_reminded = True, ""
    elif channel == "sms" and contact_tier == "gentle" and heard.forgot_pending:
        heard.forgot_pending, heard.forgot_reminded = False, at[:10]
    if channel == "letter" and delivered and delivered > (heard.delivered or ""):
        heard.delivered = delivered
    if channel in ("phone", "visit"):
        heard.calls.append(at[:10])
    elif channel == "call-list":
        heard.listed.append(at[:10])


def _tier(row: OverdueRow, heard: _Heard, day: str, rules, planned: bool) -> str:
    """A dispute holds, then a plan being honoured; hardship holds at a call (with a plan
    offered); a delivered letter is followed by a call before anything else; a notice
    ignored or a refusal goes to legal; a promise holds until its day and, broken,
    escalates; who forgot gets one more gentle reminder before any escalation."""
    if heard.dispute:
        return "dispute"  # fix the service first: never escalated to notice or legal
    if planned:
        return "plan"  # an installment plan being honoured: not escalated
    pending = heard.promise is not None and heard.promise[0] >= day
    if row.reason == "hardship":
        return "promised" if pending else "call"  # 经济困难: a call offering a plan, no more
    if _follow_up_due(row, heard, day):
        if pending:
            return "promised"
        # 發送書面通知後，再次進行電話溝通 (seed 002): listed once, then a day for the call
        row.follow_up = not any(d >= heard.delivered for d in heard.listed)
        return "call"
    tier = _escalated(row, heard, day, rules)
    if tier in TIERS[1:] and _gentle_once_more(row, heard, day, rules):
        row.once_more = heard.forgot_pending  # else sent: the usual days between messages
        return "gentle"
    return tier


def _gentle_once_more(row: OverdueRow, heard: _Heard, day: str, rules) -> bool:
    """Who said they forgot gets one more gentle reminder before any escalation, and the
    usual days between messages to act on it (seed 001: 保持耐心并持续提醒) — when it can be
    sent at all (a phone on record, not the developer)."""
    if row.reason != "forgot" or not row.phone or row.developer:
        return False
    if heard.forgot_pending:
        return True
    if not heard.forgot_reminded:
        return False
    waited = date.fromisoformat(day) - date.fromisoformat(heard.forgot_reminded)
    return waited.days < rules.min_days_between


def _follow_up_due(row: OverdueRow, heard: _Heard, day: str) -> bool:
    """A letter was delivered and no call has followed it: none logged by staff since the
    delivery, and no listing on the call list on an earlier day than this (the developer is
    written to, not called)."""
    if not heard.delivered or row.developer:
        return False
    since = heard.delivered
    return not any(d >= since for d in heard.calls) and not any(
        since <= d < day for d in heard.listed
    )


def _escalated(row: OverdueRow, heard: _Heard, day: str, rules) -> str:
    """The tier by the days overdue, a notice ignored, a refusal and a promise."""
    if (heard.notice_passed and row.days_overdue >= rules.legal_from) or (
        heard.refused and row.days_overdue >= rules.notice_from
    ):
        return "legal"
    tier = row.days_tier
    if heard.promise is not None:
        promised_on, held = heard.promise
        if promised_on >= day:
            return "promised"
        # a broken promise escalates: at least one step above where it stood
        step = TIERS.index(held) + 1 if held in TIERS else 1
        tier = max(tier, TIERS[min(step, 2)], key=TIERS.index)
    return tier


# ---------------------------------------------------------------- summaries


def totals(rows: list[OverdueRow], buckets: int) -> tuple[int, list[int]]:
    """The rows' outstanding total and the total of each of their ``buckets`` buckets."""
    sums = [sum(column) for column in zip(*(r.buckets for r in rows), strict=True)]
    return sum(r.outstanding_fen for r in rows), sums or [0] * buckets


@dataclass
class BuildingSummary:
    building: str
    units: int
    outstanding_fen: int
    buckets: list[int]
    tiers: dict[str, int]


def by_building(rows: list[OverdueRow], edges: tuple[int, ...]) -> list[BuildingSummary]:
    summary: dict[str, BuildingSummary] = {}
    for row in rows:
        entry = summary.setdefault(
            row.building,
            BuildingSummary(row.building, 0, 0, [0] * (len(edges) + 1), defaultdict(int)),
        )
        entry.units += 1
        entry.outstanding_fen += row.outstanding_fen
        for index, fen in enumerate(row.buckets):
            entry.buckets[index] += fen
        entry.tiers[row.tier] += 1

    return sorted(summary.values(), key=lambda s: natural_key(s.building or "~"))


@dataclass
class BoardLine:
    unit: str
    periods: str
    amount_fen: int


def notice_board(rows: list[OverdueRow]) -> list[BoardLine]:
    """Room, periods and amount only: what may be posted inside the estate — no names, no
    phones (个人信息保护法 第25条; LEGAL rule 10). A unit whose service is in dispute, or whose
    plan is being honoured, is not posted."""

    lines = []
    for row in sorted(rows, key=lambda r: natural_key(r.unit)):
        if row.tier in ("dispute", "plan"):
            continue
        months = sorted({b.period for b in row.bills})
        text = months[0] if len(months) == 1 else f"{months[0]}至{months[-1]}"
        lines.append(BoardLine(row.unit, text, row.outstanding_fen))
    return lines
