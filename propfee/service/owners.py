"""Owner profiles, tags and the care list (客户档案与关怀).

A profile gathers what staff need before they call or visit: the party's units and roles, what
it owes and its credit, how it pays, its recent contacts, complaints and requests, and its tags
(elderly, hardship, vip …). Tags are kept as events, so it is known who added or removed one and
when. The care list is the month's birthdays — from the birthday on record, or read from a
mainland ID number — and the parties whose tags ask for attention.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime

from propfee.core.errors import InvalidValue, NotFound
from propfee.files import cells

CARE_TAGS = {
    "elderly": "高龄/独居老人",
    "hardship": "经济困难",
    "disabled": "残障",
    "vip": "重要客户",
    "sick": "患病",
    "new": "新入住",
}
TAG_PATTERN = re.compile(r"[\w\-\u4e00-\u9fff]{1,20}")


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

    @property
    def owed_fen(self) -> int:
        return sum(h.owed_fen for h in self.holdings)

    @property
    def credit_fen(self) -> int:
        return sum(h.credit_fen for h in self.holdings)


def find(conn: sqlite3.Connection, query: str) -> list[int]:
    """Parties by unit code, phone number or name (exact first, then part of it)."""
    from propfee.roster.units import resolve_code

    text = query.strip()
    if not text:
        raise InvalidValue("give a name, a phone number or a unit code")
    code = resolve_code(conn, text)
    unit = conn.execute("SELECT id FROM unit WHERE code = ?", (code,)).fetchone()
    if unit is not None:
        found = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT party_id FROM occupancy WHERE unit_id = ? AND end_on IS NULL "
                "ORDER BY role, id",
                (unit[0],),
            )
        ]
        if found:
            return found
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7 and len(digits) >= len(text) - 3:
        found = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM party WHERE replace(replace(phones, '-', ''), ' ', '') LIKE ?",
                (f"%{digits}%",),
            )
        ]
        if found:
            return found
    exact = [r[0] for r in conn.execute("SELECT id FROM party WHERE name = ?", (text,))]
    if exact:
        return exact
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM party WHERE name LIKE ? ORDER BY name LIMIT 20", (f"%{text}%",)
        )
    ]


def profile(conn: sqlite3.Connection, party_id: int, *, as_of: date, settings) -> Profile:
    from propfee.collection import arrears, dunning
    from propfee.payments import ledger
    from propfee.service import complaints

    row = conn.execute(
        "SELECT id, name, kind, phones, id_number, birthday, is_developer FROM party WHERE id = ?",
        (party_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no party {party_id}")
    found = Profile(*row[:6], bool(row[6]))
    for code, unit_id, role, start, end, pays in conn.execute(
        "SELECT u.code, u.id, o.role, o.start_on, o.end_on, o.pays FROM occupancy o "
        "JOIN unit u ON u.id = o.unit_id WHERE o.party_id = ? ORDER BY o.end_on IS NOT NULL, "
        "u.code, o.start_on",
        (party_id,),
    ):
        holding = Holding(code, unit_id, role, start, end, bool(pays))
        holding.owed_fen = conn.execute(
            "SELECT coalesce(sum(b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM "
            "adjustment a WHERE a.bill_id = b.id), 0) - coalesce((SELECT sum(l.amount_fen) "
            "FROM allocation l WHERE l.bill_id = b.id), 0)), 0) FROM bill b "
            "WHERE b.unit_id = ? AND b.party_id = ? AND b.settled_on IS NULL",
            (unit_id, party_id),
        ).fetchone()[0]
        if end is None:
            holding.credit_fen = ledger.credit_of(conn, unit_id, as_of)
        found.holdings.append(holding)
    history = arrears._history(conn, {party_id}, as_of)
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
    rows = conn.execute(
        complaints._CASE_SQL + " WHERE c.party_id = ? ORDER BY c.opened_at", (party_id,)
    ).fetchall()
    found.cases = complaints._cases(conn, rows, None)
    found.tags = tags_of(conn, party_id)
    return found


def tags_of(conn: sqlite3.Connection, party_id: int) -> list[str]:
    current: dict[str, bool] = {}
    for tag, action in conn.execute(
        "SELECT tag, action FROM party_tag WHERE party_id = ? ORDER BY id", (party_id,)
    ):
        current[tag] = action == "add"
    return sorted(t for t, on in current.items() if on)


def tag(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    add: list[str],
    remove: list[str],
    at: datetime,
    now: datetime,
    actor: str = "",
) -> tuple[str, list[str]]:
    """Add or remove tags of the unit's current owner; returns (owner, tags now)."""
    from propfee.roster.units import resolve_code

    if not add and not remove:
        raise InvalidValue("give --add TAG or --remove TAG")
    for value in (*add, *remove):
        if not TAG_PATTERN.fullmatch(value):
            raise InvalidValue(f"tag {value!r}: one word, e.g. elderly, hardship, vip, 独居")
    code = resolve_code(conn, unit_code)
    row = conn.execute(
        "SELECT o.party_id, p.name FROM unit u JOIN occupancy o ON o.unit_id = u.id "
        "AND o.role = 'owner' AND o.end_on IS NULL JOIN party p ON p.id = o.party_id "
        "WHERE u.code = ?",
        (code,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no unit {code!r} with a current owner")
    party_id, name = row
    current = set(tags_of(conn, party_id))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    when = at.isoformat(sep=" ", timespec="seconds")
    for value in add:
        if value not in current:
            conn.execute(
                "INSERT INTO party_tag (party_id, tag, action, at, actor, created_at) "
                "VALUES (?, ?, 'add', ?, ?, ?)",
                (party_id, value, when, actor, stamp),
            )
            current.add(value)
    for value in remove:
        if value in current:
            conn.execute(
                "INSERT INTO party_tag (party_id, tag, action, at, actor, created_at) "
                "VALUES (?, ?, 'remove', ?, ?, ?)",
                (party_id, value, when, actor, stamp),
            )
            current.discard(value)
    return name, sorted(current)


@dataclass
class CareLine:
    party: str
    units: str
    phone: str
    birthday: str  # MM-DD, or ""
    age: int | None
    tags: list[str]
    reason: str


def care(conn: sqlite3.Connection, *, month: int, year: int) -> list[CareLine]:
    """The month's birthdays (on record, or from a mainland ID number) and every party whose
    tags ask for attention — current owners and tenants only."""
    if not 1 <= month <= 12:
        raise InvalidValue("--month must be 1 to 12 (or YYYY-MM)")
    lines = []
    for party_id, name, phones, id_number, birthday, units in conn.execute(
        "SELECT p.id, p.name, p.phones, p.id_number, p.birthday, group_concat(u.code, '、') "
        "FROM party p JOIN occupancy o ON o.party_id = p.id AND o.end_on IS NULL "
        "JOIN unit u ON u.id = o.unit_id WHERE p.is_developer = 0 AND p.kind = 'person' "
        "GROUP BY p.id ORDER BY p.name"
    ):
        born = None
        if birthday:
            try:
                born = date.fromisoformat(birthday)
            except ValueError:
                born = None
        if born is None and id_number:
            born = cells.birthday_from_id(id_number)
        marks = [t for t in tags_of(conn, party_id) if t in CARE_TAGS]
        reasons = []
        if born is not None and born.month == month:
            reasons.append(f"{born.month}月{born.day}日生日")
        if marks:
            reasons.append("、".join(CARE_TAGS[t] for t in marks))
        if not reasons:
            continue
        age = None
        if born is not None:
            age = year - born.year
        lines.append(
            CareLine(
                name,
                units,
                (phones or "").split("/")[0],
                f"{born.month:02d}-{born.day:02d}" if born is not None else "",
                age,
                marks,
                "；".join(reasons),
            )
        )
    lines.sort(key=lambda line: (line.birthday or "99", line.party))
    return lines
