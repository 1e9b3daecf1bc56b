"""What a roster import knows of the edits made with commands (units set, owners set, units
sell, units move-in/move-out), so that a file older than an edit does not undo it.

An edit is kept as an event: a field of a unit or a party, the value before and the value
after. When a re-imported file gives a value that an edit replaced, and the record still
holds the edit's value, the file is stale there: the edit is kept and the import says so.
The edits of the whole estate are read once per import (one query), not per unit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import propfee.roster.store as store
from propfee.files import cells

#: the key an edit event is remembered under: ("unit", unit_id, field) or ("party", id, field)
_UNIT_FIELDS_OF = {"unit-set": None, "sell": "owner", "move-in": "tenant", "move-out": "tenant"}


@dataclass(frozen=True)
class KeptEdit:
    """A value of the file that an edit had replaced: the edit's value was kept."""

    unit: str
    field: str
    file: str
    kept: str

    def as_dict(self) -> dict[str, str]:
        return {
            "unit": self.unit,
            "field": self.field,
            "file": _masked(self.field, self.file),
            "kept": _masked(self.field, self.kept),
        }


def _masked(field_: str, value: str) -> str:
    if not value:
        return value
    if field_ == "phones":
        return cells.mask_phones(value)
    if field_ == "id_number":
        return cells.mask_id(value)
    return value


class Edits:
    """The edits made with commands, by what they changed: for each, the value the latest
    edit left and every value an edit replaced."""

    def __init__(self, conn: sqlite3.Connection | None = None):
        self.last: dict[tuple, tuple[str, set[str]]] = {}
        self.units: set[int] = set()
        self.parties: set[int] = set()
        if conn is None:
            return
        for unit_id, party_id, action, field_, old, new in store.edit_events(conn):
            key = _key(unit_id, party_id, action, field_)
            if key is None:
                continue
            (self.units if key[0] == "unit" else self.parties).add(key[1])
            _new, olds = self.last.get(key, ("", set()))
            olds.add(old)
            self.last[key] = (new, olds)

    def stale(self, key: tuple, file_value: str, record: str) -> bool:
        """Whether ``file_value`` is one an edit replaced while ``record`` still holds what
        the latest edit left."""
        found = self.last.get(key)
        if found is None or file_value == record:
            return False
        new, olds = found
        return record == new and file_value in olds

    def stale_phones(self, party_id: int, given: list[str], record: str) -> bool:
        """Whether every phone the file gives is one an edit replaced while the record still
        holds the phones the latest edit left."""
        found = self.last.get(("party", party_id, "phones"))
        if found is None:
            return False
        new, olds = found
        replaced = {p for old in olds for p in old.split("/") if p}
        return set(record.split("/")) == set(new.split("/")) and set(given) <= replaced


def _key(unit_id, party_id, action: str, field_: str) -> tuple | None:
    if action in _UNIT_FIELDS_OF and unit_id is not None:
        wanted = _UNIT_FIELDS_OF[action]
        if wanted is None or field_ == wanted:
            return ("unit", unit_id, field_)
    if party_id is not None and action in ("owner-set", "move-in") and field_ != "tenant":
        return ("party", party_id, field_)
    return None
