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
from dataclasses import dataclass, field
from datetime import date, datetime

from propfee.core import workdays
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.workdays import working_hours_between
from propfee.payments.ledger import unit_id_of
from propfee.roster.payers import payer_of
from propfee.roster.units import resolve_code
from propfee.service import store

KINDS = {"complaint": "投诉", "request": "报修/服务请求"}
CATEGORIES = {
    "保洁": "cleaning",
    "安保": "security",
    "维修": "repair",
    "绿化": "greenery",
    "噪音": "noise",
    "停车": "parking",
    "收费": "fees",
    "服务态度": "staff attitude",
    "公共设施": "facilities",
    "其他": "other",
}
CATEGORY_ALIASES = {english: chinese for chinese, english in CATEGORIES.items()} | {
    "staff": "服务态度",
    "attitude": "服务态度",
}
CHANNELS = ("phone", "counter", "wechat", "app", "hotline-12345", "letter")
PRIORITIES = ("urgent", "normal", "low")
# how a channel and a priority read to people (tables, CSV, xlsx); JSON keeps the codes
CHANNEL_LABELS = {
    "phone": "电话",
    "counter": "前台",
    "wechat": "微信",
    "app": "App",
    "hotline-12345": "12345热线",
    "letter": "信函",
}
PRIORITY_LABELS = {"urgent": "紧急", "normal": "普通", "low": "低"}
STATES = {
    "open": "待处理",
    "assigned": "处理中",
    "resolved": "已办结待回访",
    "closed": "已回访关闭",
    "merged": "已合并",
}


def category_of(value: str) -> str:
    text = value.strip()
    if text in CATEGORIES:
        return text
    found = CATEGORY_ALIASES.get(text.lower())
    if found is None:
        raise InvalidValue(
            "--category must be one of " + ", ".join(f"{c} ({e})" for c, e in CATEGORIES.items())
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
        raise NotFound(f"no case {number!r}")
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
        raise InvalidValue(f"--kind must be one of {', '.join(KINDS)}")
    category = category_of(category)
    if channel not in CHANNELS:
        raise InvalidValue(f"--channel must be one of {', '.join(CHANNELS)}")
    if priority not in PRIORITIES:
        raise InvalidValue(f"--priority must be one of {', '.join(PRIORITIES)}")
    if not description.strip():
        raise InvalidValue("--description is required: what the owner reported")
    if fee_dispute and kind != "complaint":
        raise InvalidValue("--fee-dispute goes with --kind complaint")
    if at > now:
        raise InvalidValue(f"--at {at:%Y-%m-%d %H:%M} is in the future")
    unit_id = party_id = None
    if unit_code:
        unit_id = unit_id_of(conn, unit_code)
        party_id = payer_of(conn, unit_id, at.date(), settings)
    elif not contact_name.strip():
        raise InvalidValue("give the unit, or --name for a case from outside the estate's units")
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
        raise InvalidValue(f"--at {at:%Y-%m-%d %H:%M} is in the future")
    last = case.events[-1].at if case.events else case.opened_at
    if _stamp(at) < last:
        raise InvalidValue(
            f"--at {at:%Y-%m-%d %H:%M} is before the case's last change ({last[:16]})"
        )
    if case.state == "merged":
        raise PropfeeError(f"{case.number} was merged into {case.merged_into}: work on that case")
    return case


def assign(conn, number: str, *, to: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if not to.strip():
        raise InvalidValue("--to is required: a department or a person")
    if case.state in ("resolved", "closed"):
        raise PropfeeError(f"{case.number} is {STATES[case.state]}: reopen it first")
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
        raise InvalidValue("--note is required: what was done or found")
    if fee_dispute:
        if case.kind != "complaint":
            raise InvalidValue("only a complaint can be a fee dispute")
        _event(conn, case.id, "fee-dispute", at, now, actor, note=note.strip())
    else:
        _event(conn, case.id, "progress", at, now, actor, note=note.strip())
    return load(conn, case.number)


def resolve(conn, number: str, *, note: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if not note.strip():
        raise InvalidValue("--note is required: what was done to resolve it")
    if case.state in ("resolved", "closed"):
        raise PropfeeError(f"{case.number} is already {STATES[case.state]}")
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
        raise InvalidValue("--score must be 1 to 5")
    if case.state != "resolved":
        raise PropfeeError(
            f"{case.number} is {STATES[case.state]}: a return visit follows resolve "
            f"(propfee complain resolve {case.number} --note …)"
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
            note=f"回访评分 {score} 分（不满意），"
            + ("重新处理" if action == "reopen" else "提请经理跟进"),
        )
    return load(conn, case.number)


def reopen(conn, number: str, *, reason: str, at: datetime, now: datetime, actor: str = "") -> Case:
    case = _ready(conn, number, at, now)
    if case.state not in ("resolved", "closed"):
        raise PropfeeError(f"{case.number} is {STATES[case.state]}: only a resolved case reopens")
    if not reason.strip():
        raise InvalidValue("--reason is required")
    _event(conn, case.id, "reopen", at, now, actor, note=reason.strip())
    return load(conn, case.number)


def merge(conn, number: str, *, into: str, at: datetime, now: datetime, actor: str = "") -> Case:
    """Fold a duplicate into another case; the duplicate keeps its history and points there."""
    case = _ready(conn, number, at, now)
    target = load(conn, into)
    if target.id == case.id:
        raise InvalidValue("a case cannot be merged into itself")
    if target.state == "merged":
        raise PropfeeError(f"{target.number} was itself merged into {target.merged_into}")
    _event(conn, case.id, "merge", at, now, actor, note=f"并入 {target.number}", other_id=target.id)
    _event(
        conn,
        target.id,
        "progress",
        at,
        now,
        actor,
        note=f"{case.number} 并入本件（{case.description[:40]}）",
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
            raise InvalidValue(f"--status must be one of {', '.join(STATES)}")
        found = [c for c in found if c.state == state]
    if overdue:
        found = [c for c in found if c.overdue(at)]
    if awaiting_visit:
        found = [c for c in found if c.state == "resolved"]
    return found


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
