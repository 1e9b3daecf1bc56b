"""A unit's contacts: the family members and further tenants an old system lists beside the
owner (HC's 业主类型 1002/1003/1004/1005 rows, a 家庭成员 column, later rows at one address).

A contact is kept as events — added, removed — and never overwritten: the contacts of a unit
now are those added and not removed since (the latest addition of a name gives its details).
A contact is personal data (masked in listings and exports like an owner's phone) and never
a party: no bill, payment or payer points at one, so a contact's phone never pays.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import NamedTuple

import propfee.roster.sources as sources
import propfee.roster.store as store
from propfee.core.errors import InvalidValue, NotFound
from propfee.core.i18n import N_, _
from propfee.files import cells
from propfee.store.db import transaction

RELATIONS = {
    sources.FAMILY: N_("family member"),
    sources.TENANT: N_("tenant"),
    "other": N_("other"),
}
#: the words propfee writes a relation with in a 其他联系人 cell (read back by import-units)
RELATION_WORDS = {sources.FAMILY: "家庭成员", sources.TENANT: "租客", "other": "其他"}
GENDER_WORDS = {"male": "男", "female": "女"}


class Contact(NamedTuple):
    relation: str
    name: str
    phones: str
    id_number: str
    gender: str
    source: str  # "import FILE", or "" for one added with a command


def fold(events) -> tuple[dict[int, dict[str, Contact]], set[tuple[int, str]]]:
    """The contacts now, by unit and name, from their events (oldest first); and the
    (unit, name) of contacts removed with a command, which a re-imported file does not add
    back."""
    now: dict[int, dict[str, Contact]] = {}
    removed: set[tuple[int, str]] = set()
    for unit_id, action, relation, name, phones, id_number, gender, source in events:
        people = now.setdefault(unit_id, {})
        if action == "add":
            people[name] = Contact(relation, name, phones, id_number, gender, source)
            removed.discard((unit_id, name))
        else:
            people.pop(name, None)
            if not source:
                removed.add((unit_id, name))
    return now, removed


def unit_contacts(conn: sqlite3.Connection, unit_id: int) -> list[Contact]:
    """A unit's contacts now, in the order they were added."""
    now, _removed = fold(store.contact_events(conn, unit_id))
    return list(now.get(unit_id, {}).values())


def contacts_of_units(conn: sqlite3.Connection, unit_ids: list[int]) -> list[tuple[int, Contact]]:
    """(unit id, contact) of the contacts of these units now (one read)."""
    now, _removed = fold(store.contact_events_of_units(conn, unit_ids))
    return [(uid, c) for uid in unit_ids for c in now.get(uid, {}).values()]


def contacts_by_code(conn: sqlite3.Connection) -> dict[str, list[Contact]]:
    """Every unit's contacts now, by unit code (one read of the events)."""
    codes = store.unit_ids_by_code(conn)
    now, _removed = fold(store.contact_events(conn))
    return {codes[uid]: list(people.values()) for uid, people in now.items() if people}


def cell_text(contacts: list[Contact], *, mask: bool) -> str:
    """A 其他联系人 cell: ``家庭成员 李梅（女） 139****9000；租客 王五``; import-units reads it
    back."""
    parts = []
    for c in contacts:
        phones = cells.mask_phones(c.phones) if mask else c.phones
        gender = f"（{GENDER_WORDS[c.gender]}）" if c.gender in GENDER_WORDS else ""
        text = f"{RELATION_WORDS.get(c.relation, '其他')} {c.name}{gender}"
        parts.append(f"{text} {phones}" if phones else text)
    return "；".join(parts)


def relation_label(relation: str) -> str:
    return _(RELATIONS[relation]) if relation in RELATIONS else relation


def gender_label(gender: str) -> str:
    return _(sources.GENDER_LABELS[gender]) if gender in sources.GENDER_LABELS else ""


def _relation(value: str) -> str:
    words = {
        **{w: sources.FAMILY for w in ("family", "家庭成员", "家属", "成员")},
        **{w: sources.TENANT for w in ("tenant", "租客", "租户")},
        **{w: "other" for w in ("other", "其他", "联系人")},
    }
    found = words.get(value.strip().lower())
    if found is None:
        raise InvalidValue(
            _("--relation {value}: use family (家庭成员), tenant (租客) or other (其他)").format(
                value=value
            )
        )
    return found


def _gender(value: str) -> str:
    if not value.strip():
        return ""
    found = sources.GENDERS.get(value.strip().lower())
    if found is None:
        raise InvalidValue(_("--gender {value}: use 男 or 女").format(value=value))
    return "" if found == "unknown" else found


def change_contact(
    conn: sqlite3.Connection,
    code: str,
    name: str,
    *,
    remove: bool = False,
    relation: str = "family",
    phone: str = "",
    gender: str = "",
    on: date,
    now: datetime,
    operator: str = "",
    reason: str = "",
) -> bool:
    """Add a contact to a unit (or give one on record new details), or remove one; the
    change is a new event. False when it changes nothing (safe to run again)."""
    name = name.strip()
    if not name:
        raise InvalidValue(_("--name cannot be empty"))
    phones = "/".join(cells.phones(phone)) if phone.strip() else ""
    wanted = (_relation(relation), _gender(gender))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    with transaction(conn):
        unit_id = store.unit_id_of(conn, code)
        if unit_id is None:
            raise NotFound(_("no unit {code}").format(code=repr(code)))
        held = {c.name: c for c in unit_contacts(conn, unit_id)}.get(name)
        if remove:
            if held is None:
                return False
            row = (unit_id, "remove", held.relation, name, "", "", "")
        else:
            phones = phones or (held.phones if held else "")
            row = (unit_id, "add", wanted[0], name, phones, held.id_number if held else "")
            row = (*row, wanted[1] or (held.gender if held else ""))
            if held is not None and (held.relation, held.phones, held.gender) == (
                row[2],
                row[4],
                row[6],
            ):
                return False
        store.insert_contact_events(
            conn, [(*row, on.isoformat(), reason.strip(), operator, "", stamp)]
        )
    return True
