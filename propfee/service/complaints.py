"""Complaints and service requests (投诉与报修): each case is numbered, gets a deadline in
working hours or days on the mainland calendar, and moves through assign → progress → resolve →
return visit (回访). Every change is an event with its time and actor; nothing is overwritten,
and a case's state is read from its events.

A low return-visit score re-opens the case or flags it for a manager (a setting). A complaint
about fees can be marked a fee dispute: the unit's arrears are then held out of notice and legal
tiers until the case is resolved and visited (fix the service first).
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from propfee.core import workdays
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.i18n import N_, _, zh
from propfee.core.workdays import working_hours_between
from propfee.payments.ledger import unit_id_of
from propfee.roster.payers import payer_of
from propfee.roster.units import resolve_code
from propfee.service import store

# labels are English msgids: ``_()`` where shown to staff, ``zh()`` on documents; JSON and the
# database keep the codes
KINDS = {"complaint": N_("complaint"), "request": N_("repair/service request")}
# a category is stored as its Chinese name; the English word is accepted on input and shown to
# an English reader
CATEGORIES = {
    "保洁": N_("cleaning"),
    "安保": N_("security"),
    "维修": N_("repairs"),
    "绿化": N_("greenery"),
    "噪音": N_("noise"),
    "停车": N_("parking"),
    "收费": N_("fees"),
    "服务态度": N_("staff attitude"),
    "公共设施": N_("facilities"),
    "其他": N_("other"),
}
CATEGORY_ALIASES = {english: chinese for chinese, english in CATEGORIES.items()} | {
    "repair": "维修",
    "staff": "服务态度",
    "attitude": "服务态度",
}
CHANNELS = ("phone", "counter", "wechat", "app", "hotline-12345", "letter")
PRIORITIES = ("urgent", "normal", "low")
CHANNEL_LABELS = {
    "phone": N_("phone"),
    "counter": N_("front desk"),
    "wechat": N_("WeChat"),
    "app": N_("App"),
    "hotline-12345": N_("12345 hotline"),
    "letter": N_("by letter"),
}
PRIORITY_LABELS = {"urgent": N_("urgent"), "normal": N_("normal"), "low": N_("low")}
STATES = {
    "open": N_("awaiting action"),
    "assigned": N_("in hand"),
    "resolved": N_("resolved, awaiting visit"),
    "closed": N_("visited and closed"),
    "merged": N_("merged"),
}
CASE_BATCH = 1_000  # the cases ``every_case`` reads and replays at a time


def category_label(code: str) -> str:
    """A stored category as the reader reads it (an unknown one as it was stored)."""
    return _(CATEGORIES[code]) if code in CATEGORIES else code


def channel_label(code: str) -> str:
    return _(CHANNEL_LABELS[code]) if code in CHANNEL_LABELS else code


def priority_label(code: str) -> str:
    return _(PRIORITY_LABELS[code]) if code in PRIORITY_LABELS else code


def category_of(value: str) -> str:
    text = value.strip()
    if text in CATEGORIES:
        return text
    found = CATEGORY_ALIASES.get(text.lower())
    if found is None:
        raise InvalidValue(
            _("--category must be one of {choices}").format(
                choices=", ".join(f"{c} ({e})" for c, e in CATEGORIES.items())
            )
        )
    return found


@dataclass
class Event:
    at: str
    actor: str
    action: str
    assignee: str = ""
    note: str = ""
    score: int | None = None
    other: str | None = None  # the other case's number, for a merge


@dataclass
class Case:
    id: int
    number: str
    unit: str
    party: str
    kind: str
    category: str
    channel: str
    priority: str
    fee_dispute: bool
    description: str
    opened_at: str
    deadline_at: str
    deadline_rule: str
    calendar: str
    events: list[Event] = field(default_factory=list)
    state: str = "open"
    assignee: str = ""
    resolved_at: str | None = None
    visited_at: str | None = None
    score: int | None = None
    reopened: int = 0
    flagged: bool = False
    merged_into: str | None = None

    def overdue(self, at: datetime) -> bool:
        """Past its deadline and not resolved (or resolved late, for a case resolved since)."""
        return self.state in ("open", "assigned") and self.deadline_at < at.isoformat(sep=" ")

    @property
    def on_time(self) -> bool | None:
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.deadline_at


def _replay(case: Case, events: list[Event]) -> Case:
    """A case's state from its events, in order."""
    case.events = events
    for event in events:
        if event.action == "assign":
            case.assignee = event.assignee
            if case.state == "open":
                case.state = "assigned"
        elif event.action == "resolve":
            case.state = "resolved"
            case.resolved_at = event.at
        elif event.action == "visit":
            case.visited_at = event.at
            case.score = event.score
            case.state = "closed"
        elif event.action == "reopen":
            case.state = "assigned" if case.assignee else "open"
            case.reopened += 1
            case.resolved_at = None
            case.visited_at = None
        elif event.action == "flag":
            case.flagged = True
        elif event.action == "merge":
            case.state = "merged"
            case.merged_into = event.other
        elif event.action == "fee-dispute":
            case.fee_dispute = True
    return case


def load(conn: sqlite3.Connection, number: str, *, until: datetime | None = None) -> Case:
    row = store.case_by_number(conn, number.strip().upper())
    if row is None:
        raise NotFound(_("no case {number!r}").format(number=number))
    return _cases(conn, [row], until)[0]


def cases_of_unit(conn: sqlite3.Connection, unit_id: int) -> list[Case]:
    """Every complaint and service request about a unit, oldest first."""
    return _cases(conn, store.case_rows_of_unit(conn, unit_id), None)


def cases_of_party(conn: sqlite3.Connection, party_id: int) -> list[Case]:
    """Every complaint and service request a party made, oldest first."""
    return _cases(conn, store.case_rows_of_party(conn, party_id), None)


def _cases(conn: sqlite3.Connection, rows: list, until: datetime | None) -> list[Case]:
    cases = {row[0]: Case(*row[:8], bool(row[8]), *row[9:]) for row in rows}
    if not cases:
        return []
    events: dict[int, list[Event]] = {cid: [] for cid in cases}
    limit = until.isoformat(sep=" ") if until else "9999"
    for cid, at, actor, action, assignee, note, score, other in store.case_events(
        conn, list(cases), limit
    ):
        events[cid].append(Event(at, actor, action, assignee, note, score, other))
    return [_replay(case, events[cid]) for cid, case in cases.items()]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _next_number(conn: sqlite3.Connection, year: int, prefix: str) -> str:
    last = store.next_case_count(conn, year)
    return f"{prefix}{year}-{last:04d}"


def add(
    conn: sqlite3.Connection,
    unit_code: str | None,
    *,
    kind: str,
    category: str,
    channel: str,
    priority: str,
    description: str,
    at: datetime,
    now: datetime,
    settings,
    fee_dispute: bool = False,
    actor: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> tuple[Case, bool]:
    """Register a case (inside the caller's transaction); returns it and whether its deadline
    is approximate: counted where no published calendar covers the year (the statutory
    holidays computed, or weekends alone; ``case.calendar`` says which)."""
    if kind not in KINDS:
        raise InvalidValue(_("--kind must be one of {choices}").format(choices=", ".join(KINDS)))
    category = category_of(category)
    if channel not in CHANNELS:
        raise InvalidValue(
            _("--channel must be one of {choices}").format(choices=", ".join(CHANNELS))
        )
    if priority not in PRIORITIES:
        raise InvalidValue(
            _("--priority must be one of {choices}").format(choices=", ".join(PRIORITIES))
        )
    if not description.strip():
        raise InvalidValue(_("--description is required: what the owner reported"))
    if fee_dispute and kind != "complaint":
        raise InvalidValue(_("--fee-dispute goes with --kind complaint"))
    if at > now:
        raise InvalidValue(_("--at {at} is in the future").format(at=f"{at:%Y-%m-%d %H:%M}"))
    unit_id = party_id = None
    if unit_code:
        unit_id = unit_id_of(conn, unit_code)
        party_id = payer_of(conn, unit_id, at.date(), settings)
    elif not contact_name.strip():
        raise InvalidValue(_("give the unit, or --name for a case from outside the estate's units"))
    rules = settings.complaints
    rule = rules.deadline_for(category, priority)
    due = workdays.deadline(at, rule, rules.work_start, rules.work_end, settings.calendar.days())
    number = _next_number(conn, at.year, rules.number_prefix)
    stamp = _stamp(now)
    case_id = store.insert_case(
        conn,
        (
            number,
            unit_id,
            party_id,
            kind,
            category,
            channel,
            priority,
            int(fee_dispute),
            description.strip(),
            contact_name.strip(),
            contact_phone.strip(),
            _stamp(at),
            _stamp(due.at),
            rule,
            due.calendar,
            actor,
            stamp,
        ),
    )
    _event(conn, case_id, "open", at, now, actor, note=description.strip())
    return load(conn, number), due.approximate


def _event(
    conn: sqlite3.Connection,
    case_id: int,
    action: str,
    at: datetime,
    now: datetime,
    actor: str,
    *,
    assignee: str = "",
    note: str = "",
    score: int | None = None,
    other_id: int | None = None,
) -> None:
    store.insert_event(
        conn, (case_id, _stamp(at), actor, action, assignee, note, score, other_id, _stamp(now))
    )


def _ready(conn: sqlite3.Connection, number: str, at: datetime, now: datetime) -> Case:
    case = load(conn, number)
    if at > now:
        raise InvalidValue(_("--at {at} is in the future").format(at=f"{at:%Y-%m-%d %H:%M}"))
    last = case.events[-1].at if case.events else case.opened_at
    if _stamp(at) < last:
        raise InvalidValue(
            _("--at {at} is before the case's last change ({last})").format(
                at=f"{at:%Y-%m-%d %H:%M}", last=last[:16]
            )
        )
    if case.state == "merged":
        raise PropfeeError(
            _("{number} was merged into {other}: work on that case").format(
                number=case.number, other=case.merged_into
            )
        )
    return case


def assign(conn, number: str, *, to: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if not to.strip():
        raise InvalidValue(_("--to is required: a department or a person"))
    if case.state in ("resolved", "closed"):
        raise PropfeeError(
            _("{number} is {state}: reopen it first").format(
                number=case.number, state=_(STATES[case.state])
            )
        )
    _event(conn, case.id, "assign", at, now, actor, assignee=to.strip())
    return load(conn, case.number)


def progress(
    conn,
    number: str,
    *,
    note: str,
    at: datetime,
    now: datetime,
    actor: str = "",
    fee_dispute: bool = False,
) -> Case:
    case = _ready(conn, number, at, now)
    if not note.strip() and not fee_dispute:
        raise InvalidValue(_("--note is required: what was done or found"))
    if fee_dispute:
        if case.kind != "complaint":
            raise InvalidValue(_("only a complaint can be a fee dispute"))
        _event(conn, case.id, "fee-dispute", at, now, actor, note=note.strip())
    else:
        _event(conn, case.id, "progress", at, now, actor, note=note.strip())
    return load(conn, case.number)


def resolve(conn, number: str, *, note: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if not note.strip():
        raise InvalidValue(_("--note is required: what was done to resolve it"))
    if case.state in ("resolved", "closed"):
        raise PropfeeError(
            _("{number} is already {state}").format(number=case.number, state=_(STATES[case.state]))
        )
    _event(conn, case.id, "resolve", at, now, actor, note=note.strip())
    return load(conn, case.number)


def visit(
    conn,
    number: str,
    *,
    score: int,
    comment: str,
    at: datetime,
    now: datetime,
    settings,
    actor: str = "",
) -> Case:
    """The return visit: a score of 1–5. At or below the settings' low score the case is
    re-opened, or flagged for a manager."""
    case = _ready(conn, number, at, now)
    if not 1 <= score <= 5:
        raise InvalidValue(_("--score must be 1 to 5"))
    if case.state != "resolved":
        raise PropfeeError(
            _(
                "{number} is {state}: a return visit follows resolve "
                "(propfee complain resolve {number} --note …)"
            ).format(number=case.number, state=_(STATES[case.state]))
        )
    _event(conn, case.id, "visit", at, now, actor, note=comment.strip(), score=score)
    rules = settings.complaints
    if score <= rules.low_score:
        action = "reopen" if rules.low_score_action == "reopen" else "flag"
        _event(
            conn,
            case.id,
            action,
            at,
            now,
            actor,
            note=(
                zh("return-visit score {score} (dissatisfied), reopened")
                if action == "reopen"
                else zh("return-visit score {score} (dissatisfied), referred to a manager")
            ).format(score=score),
        )
    return load(conn, case.number)


def reopen(conn, number: str, *, reason: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if case.state not in ("resolved", "closed"):
        raise PropfeeError(
            _("{number} is {state}: only a resolved case reopens").format(
                number=case.number, state=_(STATES[case.state])
            )
        )
    if not reason.strip():
        raise InvalidValue(_("--reason is required: why it is reopened"))
    _event(conn, case.id, "reopen", at, now, actor, note=reason.strip())
    return load(conn, case.number)


def merge(conn, number: str, *, into: str, at: datetime, now: datetime, actor: str = "") -> Case:
    """Fold a duplicate into another case; the duplicate keeps its history and points there."""
    case = _ready(conn, number, at, now)
    target = load(conn, into)
    if target.id == case.id:
        raise InvalidValue(_("a case cannot be merged into itself"))
    if target.state == "merged":
        raise PropfeeError(
            _("{number} was itself merged into {other}").format(
                number=target.number, other=target.merged_into
            )
        )
    _event(
        conn,
        case.id,
        "merge",
        at,
        now,
        actor,
        note=zh("merged into {number}").format(number=target.number),
        other_id=target.id,
    )
    _event(
        conn,
        target.id,
        "progress",
        at,
        now,
        actor,
        note=zh("{number} merged into this case ({description})").format(
            number=case.number, description=case.description[:40]
        ),
    )
    return load(conn, case.number)


def cases(
    conn: sqlite3.Connection,
    *,
    at: datetime,
    state: str | None = None,
    category: str | None = None,
    unit_code: str | None = None,
    overdue: bool = False,
    awaiting_visit: bool = False,
    since: date | None = None,
    until: date | None = None,
) -> list[Case]:
    """Cases opened by ``at`` with their state as of ``at``, filtered."""
    rows = store.case_rows(
        conn,
        opened_by=_stamp(at),
        category=category_of(category) if category else None,
        unit_code=resolve_code(conn, unit_code) if unit_code else None,
        since=since.isoformat() if since else None,
        until=f"{until.isoformat()} 23:59:59" if until else None,
    )
    found = _cases(conn, rows, at)
    if state:
        if state not in STATES:
            raise InvalidValue(
                _("--status must be one of {choices}").format(choices=", ".join(STATES))
            )
        found = [c for c in found if c.state == state]
    if overdue:
        found = [c for c in found if c.overdue(at)]
    if awaiting_visit:
        found = [c for c in found if c.state == "resolved"]
    return found


def every_case(conn: sqlite3.Connection, *, at: datetime) -> Iterator[Case]:
    """Every case opened by ``at`` with its state as of ``at``, as ``cases`` gives them
    unfiltered, read and replayed ``CASE_BATCH`` at a time: a long history's cases and
    events are never all held (the full export)."""
    rows = store.every_case_row(conn, opened_by=_stamp(at))
    while batch := list(islice(rows, CASE_BATCH)):
        yield from _cases(conn, batch, at)


def fee_disputes(conn: sqlite3.Connection, unit_ids: set[int], as_of: date) -> set[tuple]:
    """(unit, party) of every fee-dispute complaint open as of the end of ``as_of``: not yet
    resolved and visited."""
    if not unit_ids:
        return set()
    end = datetime.combine(as_of, datetime.max.time()).replace(microsecond=0)
    rows = store.fee_dispute_rows(conn, unit_ids, _stamp(end))
    if not rows:
        return set()
    parties = store.case_parties(conn, [r[0] for r in rows])
    units = store.case_units(conn, [r[0] for r in rows])
    return {
        (units[case.id], parties[case.id])
        for case in _cases(conn, rows, end)
        if case.fee_dispute and case.state not in ("closed", "merged")
    }


@dataclass
class Report:
    first: str | None
    last: str | None
    cases: int
    by_category: dict[str, int]
    by_channel: dict[str, int]
    resolved: int
    on_time: int
    mean_hours: float | None  # working hours from opening to resolution
    median_hours: float | None
    visited: int
    mean_score: float | None
    overdue_now: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.resolved if self.resolved else None

    @property
    def visit_rate(self) -> float | None:
        return self.visited / self.resolved if self.resolved else None

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.first,
            "to": self.last,
            "cases": self.cases,
            "by_category": self.by_category,
            "by_channel": self.by_channel,
            "resolved": self.resolved,
            "on_time": self.on_time,
            "on_time_rate": self.on_time_rate,
            "mean_hours_to_resolve": self.mean_hours,
            "median_hours_to_resolve": self.median_hours,
            "visited": self.visited,
            "visit_rate": self.visit_rate,
            "mean_score": self.mean_score,
            "overdue_now": self.overdue_now,
        }


def report(
    conn: sqlite3.Connection,
    *,
    at: datetime,
    settings,
    since: date | None = None,
    until: date | None = None,
) -> Report:
    found = [c for c in cases(conn, at=at, since=since, until=until) if c.state != "merged"]
    rules = settings.complaints
    resolved = [c for c in found if c.resolved_at is not None]
    hours = [
        working_hours_between(
            datetime.fromisoformat(c.opened_at),
            datetime.fromisoformat(c.resolved_at),
            rules.work_start,
            rules.work_end,
            settings.calendar.days(),
        )
        for c in resolved
    ]
    scores = [e.score for c in found for e in c.events if e.action == "visit"]
    return Report(
        since.isoformat() if since else None,
        until.isoformat() if until else None,
        len(found),
        dict(Counter(c.category for c in found).most_common()),
        dict(Counter(c.channel for c in found).most_common()),
        len(resolved),
        sum(1 for c in resolved if c.on_time),
        round(statistics.fmean(hours), 1) if hours else None,
        round(statistics.median(hours), 1) if hours else None,
        # a resolved case whose latest resolution was visited: a low-score visit that
        # reopened a case no longer counts, so the rate never passes 100%
        sum(1 for c in resolved if c.visited_at is not None),
        round(statistics.fmean(scores), 2) if scores else None,
        sum(1 for c in found if c.overdue(at)),
    )
