"""Owners' tags and the care list (客户关怀); the profile that reads them is insight/profile.py.

Tags are kept as events, so it is known who added or removed one and
when. The care list is the month's birthdays — from the birthday on record, or read from a
mainland ID number — and the parties whose tags ask for attention.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from propfee.core.errors import InvalidValue, NotFound
from propfee.core.i18n import N_, _, current
from propfee.files import cells
from propfee.roster.units import resolve_code
from propfee.service import store

CARE_TAGS = {
    "elderly": N_("elderly or living alone"),
    "hardship": N_("financial hardship"),
    "disabled": N_("disability"),
    "vip": N_("important client"),
    "sick": N_("ill"),
    "new": N_("newly moved in"),
}
TAG_PATTERN = re.compile(r"[\w\-\u4e00-\u9fff]{1,20}")


def _join(items: list[str], chinese: str, english: str) -> str:
    return (chinese if current() == "zh" else english).join(items)


def tag_label(tag: str) -> str:
    """A tag as the reader reads it: a known tag's label, any other word as it was given."""
    return _(CARE_TAGS[tag]) if tag in CARE_TAGS else tag


def tag_list(tags: list[str]) -> str:
    """Tags for people: 高龄/独居老人、独居 (or, in English, "elderly or living alone, 独居")."""
    return _join([tag_label(t) for t in tags], "、", ", ")


def tags_of(conn: sqlite3.Connection, party_id: int) -> list[str]:
    current: dict[str, bool] = {}
    for tag, action in store.tag_events(conn, party_id):
        current[tag] = action == "add"
    return sorted(t for t, on in current.items() if on)


def tags_by_party(conn: sqlite3.Connection) -> dict[int, list[str]]:
    """``tags_of`` every party that has a tag now, read in one query."""
    current: dict[int, dict[str, bool]] = {}
    for party_id, tag, action in store.all_tag_events(conn):
        current.setdefault(party_id, {})[tag] = action == "add"
    return {
        party_id: sorted(t for t, on in tags.items() if on)
        for party_id, tags in current.items()
        if any(tags.values())
    }


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
    if not add and not remove:
        raise InvalidValue(_("give --add TAG or --remove TAG"))
    for value in (*add, *remove):
        if not TAG_PATTERN.fullmatch(value):
            raise InvalidValue(
                _("tag {value!r}: one word, e.g. elderly, hardship, vip, lives-alone").format(
                    value=value
                )
            )
    code = resolve_code(conn, unit_code)
    row = store.current_owner(conn, code)
    if row is None:
        raise NotFound(_("no unit {code!r} with a current owner").format(code=code))
    party_id, name = row
    current = set(tags_of(conn, party_id))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    when = at.isoformat(sep=" ", timespec="seconds")
    for value in add:
        if value not in current:
            store.add_tag(conn, party_id, value, when, actor, stamp)
            current.add(value)
    for value in remove:
        if value in current:
            store.remove_tag(conn, party_id, value, when, actor, stamp)
            current.discard(value)
    return name, sorted(current)


def _id_month(id_number: str | None) -> str | None:
    """The month digits where an 18- or 15-digit ID number carries its birth date (a quick
    look before ``cells.birthday_from_id`` reads the date)."""
    if not id_number:
        return None
    if len(id_number) == 18:
        return id_number[10:12]
    if len(id_number) == 15:
        return id_number[8:10]
    return None


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
        raise InvalidValue(_("--month must be 1 to 12 (or YYYY-MM)"))
    lines = []
    tags = tags_by_party(conn)  # one query, not one per party
    month_digits = f"{month:02d}"
    birthday_text = _("birthday {month}/{day}")  # translated once, not once a person
    for party_id, name, phones, id_number, birthday, units in store.current_people(
        conn, month_digits
    ):
        marks = [t for t in tags.get(party_id, ()) if t in CARE_TAGS]
        if not (marks or birthday or _id_month(id_number) == month_digits):
            continue  # born in another month, by the ID number: not on the list (the
            # query leaves most of them out already)
        born = None
        if birthday:
            try:
                born = date.fromisoformat(birthday)
            except ValueError:
                born = None
        if born is None and id_number:
            born = cells.birthday_from_id(id_number)
        reasons = []
        if born is not None and born.month == month:
            reasons.append(birthday_text.format(month=born.month, day=born.day))
        if marks:
            reasons.append(tag_list(marks))
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
                _join(reasons, "；", "; "),
            )
        )
    lines.sort(key=lambda line: (line.birthday or "99", line.party))
    return lines
