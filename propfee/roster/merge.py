"""Writing a roster into the database: each row compared with the unit on record, new units,
parties and occupancies added in batches, changed ones updated (an upsert by unit code that
keeps ownership history), and the report of what changed.

``apply_roster`` writes a read roster inside the caller's transaction; ``import_roster`` reads
and writes a file as one command.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import propfee.roster.contacts as contacts
import propfee.roster.others as others
import propfee.roster.store as store
from propfee.core.errors import RowError, RowErrors
from propfee.core.gcpause import no_gc
from propfee.core.i18n import _, ngettext
from propfee.core.money import hundredths_str
from propfee.files import cells
from propfee.roster.history import Edits, KeptEdit
from propfee.roster.reading import (
    ColumnMap,
    PartyIn,
    Progress,
    Roster,
    RosterRow,
    read_roster,
)
from propfee.roster.units import NEEDS_AREA
from propfee.store import audit
from propfee.store.db import transaction


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    owner_changes: int = 0
    tenant_changes: int = 0
    not_in_file: int = 0
    developer_paid: int = 0  # units of this file left with no owner: the developer pays
    rows: int = 0
    sheets: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changed_codes: list[str] = field(default_factory=list)
    dry_run: bool = False
    undelivered: int = 0  # units of this file with no delivery date: the developer pays
    owner_pays_from: str = ""  # the day the owner pays from for those, when the user said so
    rebill_from: list[tuple[str, str]] = field(default_factory=list)  # (unit, day) to re-bill
    rebilled: list = field(default_factory=list)  # what the re-billing moved (billing's Move)
    by_sheet: dict[str, list[int]] = field(default_factory=dict)  # sheet -> added, updated, same
    kept: list[KeptEdit] = field(default_factory=list)  # the file's values an edit replaced
    #: per sheet: rows read, the columns used and left out, the profile recognised
    sheet_facts: dict[str, tuple[int, list[str], list[str], str]] = field(default_factory=dict)
    #: fee settings sheets (HC 费用设置), for a draft fee list the user reviews
    fee_settings: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "owner_changes": self.owner_changes,
            "tenant_changes": self.tenant_changes,
            "not_in_file": self.not_in_file,
            "developer_paid": self.developer_paid,
            "rows": self.rows,
            "sheets": self.sheets,
            "notices": self.notices,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "billed_to_developer": 0 if self.owner_pays_from else self.undelivered,
            "owner_pays_from_import": self.undelivered if self.owner_pays_from else 0,
            "rebilled": len(self.rebilled),
            "kept_edits": [k.as_dict() for k in self.kept],
            "errors": [],
        }


# ---------------------------------------------------------------- writing


class Holder(NamedTuple):
    """Who holds a unit now in a role (owner, tenant), as a merge compares with."""

    occupancy_id: int
    party_id: int
    start_on: str | None
    pays: int
    name: str
    kind: str
    phones: str
    id_number: str
    birthday: str | None


_UNIT_FIELDS = (
    "vacant",
    "building",
    "entrance",
    "room",
    "floor",
    "kind",
    "area_x100",
    "area_basis",
    "inner_area_x100",
    "delivered_on",
    "notes",
    "zone",
)
_DELIVERED = _UNIT_FIELDS.index("delivered_on")
_PLACE_FIELDS = frozenset({"building", "entrance", "room"})
_FIELD_OF_COLUMN = {
    "vacant": "vacant",
    "building": "building",
    "entrance": "entrance",
    "room": "room",
    "floor": "floor",
    "kind": "kind",
    "area_x100": "area",
    "area_basis": "area",
    "inner_area_x100": "inner_area",
    "delivered_on": "delivered_on",
    "notes": "notes",
    "zone": "zone",
}


class RosterMerge:
    """The state of one roster merge: what is on record, and what this file changes. An edit
    of one unit (roster/edits.py) goes through it too, reading only that unit."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        roster: Roster,
        *,
        as_of: date,
        now: datetime,
        owner_pays_from_import: bool = False,
        only: str | None = None,
        operator: str | None = None,
    ):
        """``only``: the code of the one unit an edit is about (read just that unit).
        ``operator``: who runs the import, for the change history (else the command's)."""
        self.conn = conn
        self.owner_pays_from_import = owner_pays_from_import
        self.roster = roster  # its sheets, columns and labels; rows arrive through merge()
        self.report = ImportReport()
        self.present: frozenset[str] = frozenset()  # the fields of the row being merged
        self.effective = as_of.isoformat()
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.source = f"import {roster.file}"
        # A 100k-unit estate is read here in full: plain tuples, and the many repeated
        # strings (kinds, buildings, dates) shared rather than held 100k times over.
        pool: dict[object, object] = {}
        share = pool.setdefault
        self.units = {
            row[1]: (row[0], row[1], *map(share, row[2:], row[2:]))
            for row in store.units_on_record(conn, only)
        }
        self.current: dict[tuple[int, str], Holder] = {
            (row[0], row[1]): Holder(
                row[2],
                row[3],
                share(row[4], row[4]),
                row[5],
                row[6],
                share(row[7], row[7]),
                row[8],
                row[9],
                share(row[10], row[10]),
            )
            for row in store.current_holders(conn, only)
        }
        self._keys: dict[tuple[str, str], int] | None = None  # read when first needed
        self._names_read: set[str] = set()  # an edit's: the names whose parties are in _keys
        self.phones: dict[int, str] = {}
        self.next_unit = store.next_unit_id(conn)
        self.next_party = store.next_party_id(conn)
        self.new_units: list[tuple] = []
        self.new_parties: dict[int, list] = {}
        self.new_occupancies: list[tuple] = []
        self.ended: list[tuple[str, int]] = []
        self.unit_updates: list[tuple] = []
        self.party_updates: dict[int, tuple[tuple, RosterRow]] = {}  # (kind, ID, birthday)
        self.more_phones: dict[int, str] = {}  # parties on record that gain phones
        self.file_phones: dict[int, list[str]] = {}  # every phone this file gives a party
        self.phone_changes: set[int] = set()
        self.errors: list[RowError] = []
        self.needs_area: list[RosterRow] = []
        self.needs_owner: list[RosterRow] = []
        self.tenant_paid: set[str] = set()
        self.changed_on: list[tuple[int, str, str]] = []  # (unit, code, day) who pays changed
        # An import (not one edit) keeps the edits a stale file would undo, and records
        # what it changes as history; the edits of the estate are read once, here.
        self.history = only is None
        self.edits = Edits(conn) if self.history else Edits()
        call = audit.current()
        self.operator = operator if operator is not None else (call.operator if call else "")
        self.events: list[tuple] = []  # unit_event rows of what this import changed
        self.details_was: dict[int, Holder] = {}  # parties whose details change, as on record
        self._kept_seen: set[tuple[str, str]] = set()
        #: the units' contacts now, and those a command removed (not added back by a file)
        only_id = next(iter(self.units.values()))[0] if only and self.units else None
        events = store.contact_events(conn, only_id) if only is None or only_id else ()
        self.contacts, self.contacts_removed = contacts.fold(events)
        self.new_contacts: list[tuple] = []

    def error(self, row: RosterRow, field_: str, value: str, message: str) -> None:
        label = self.roster.label(row.sheet, field_)
        self.errors.append(RowError(self.roster.file, row.sheet, row.row, label, value, message))

    def occupy(self, uid: int, pid: int | None, role: str, start: str | None, pays: bool) -> None:
        self.new_occupancies.append(
            (uid, pid, role, start, None, int(pays), self.source, self.stamp)
        )

    # -- a new unit

    def add(self, row: RosterRow) -> None:
        if row.area_x100 is None and row.kind in NEEDS_AREA:
            self.needs_area.append(row)
        if "owner" not in self.present and not self.roster.units_only:
            self.needs_owner.append(row)
        uid = self.next_unit
        self.next_unit += 1
        self.new_units.append((uid, row.code, *_unit_values(row), self.stamp, self.stamp))
        if row.contacts:
            self.merge_contacts(uid, row)
        tenant_pays = row.tenant is not None and row.tenant_pays
        if row.owner is not None:
            pid = self.party_for(row.owner, row, "owner")
            self.occupy(uid, pid, "owner", row.changed_on or row.delivered_on, not tenant_pays)
        if row.tenant is not None:
            pid = self.party_for(row.tenant, row, "tenant")
            self.occupy(uid, pid, "tenant", row.tenant_from, tenant_pays)

    def party_for(self, person: PartyIn, row: RosterRow, role: str) -> int | None:
        """The party a new occupancy belongs to: one already known by name and ID number or
        name and phone, else a new one. The same person on several rows keeps every phone."""
        if person.phones_masked or person.id_masked:
            masked_field = "phone" if role == "owner" else "tenant_phone"
            if person.id_masked:
                masked_field = "id_number" if role == "owner" else "tenant_id_number"
            self.error(
                row,
                masked_field,
                person.phones if person.phones_masked else person.id_number,
                _(
                    "a masked value cannot be imported for a new owner or tenant; use an "
                    "unmasked file"
                ),
            )
            return None
        name, kind, phones, id_number, birthday = person[:5]
        known = self.keys if self.history else self.keys_named(name)
        id_key = (name, "id:" + id_number) if id_number else None
        tel_key = (name, "tel:" + phones.partition("/")[0]) if phones else None
        for key in (id_key, tel_key):
            if key is not None and (pid := known.get(key)) is not None:
                self._add_phones(pid, phones)
                return pid
        pid = self.next_party
        self.next_party += 1
        self.new_parties[pid] = [
            pid,
            kind,
            name,
            phones,
            id_number,
            birthday,
            self.stamp,
            self.stamp,
        ]
        self.phones[pid] = phones
        if id_key is not None:
            known[id_key] = pid
        if tel_key is not None:
            known[tel_key] = pid
        return pid

    @property
    def keys(self) -> dict[tuple[str, str], int]:
        """Parties on record by (name, "id:" ID number) and (name, "tel:" first phone)."""
        if self._keys is None:
            self._keys = {}
            self._add_keys(self._keys, store.people(self.conn))
        return self._keys

    def keys_named(self, name: str) -> dict[tuple[str, str], int]:
        """``keys`` as an edit of one unit needs them: the parties named ``name`` are read
        the first time that name is asked for, not every party on record."""
        if self._keys is None:
            self._keys = {}
        if name not in self._names_read:
            self._names_read.add(name)
            self._add_keys(self._keys, store.people_named(self.conn, name))
        return self._keys

    def _add_keys(self, keys: dict[tuple[str, str], int], people) -> None:
        """Key each (id, name, phones, ID number) of ``people``, oldest first: the first party
        of a key keeps it."""
        for pid, name, phones, id_number in people:
            self.phones[pid] = phones
            if id_number:
                keys.setdefault((name, "id:" + id_number), pid)
            if phones:
                keys.setdefault((name, "tel:" + phones.split("/")[0]), pid)

    def _add_phones(self, pid: int, phones: str) -> None:
        known = self.phones.get(pid, "")
        extra = [p for p in phones.split("/") if p and p not in known.split("/")]
        if not extra:
            return
        merged = "/".join([p for p in known.split("/") if p] + extra)
        self.phones[pid] = merged
        if pid in self.new_parties:
            self.new_parties[pid][3] = merged
        else:
            self.more_phones[pid] = merged

    # -- a unit on record

    def same(self, row: RosterRow, existing: tuple) -> bool:
        """Whether ``update`` would find the unit as on record, told without its detours: the
        unit's values, its owner's name, phones, ID number, kind and birthday, and who pays,
        as on record. False also where a glance cannot tell (an edit of the unit or its
        owner, contacts, a tenant or payer column, a masked cell): ``update`` decides those.
        Like ``update``, it keeps the phones the file gives the owner."""
        present, uid = self.present, existing[0]
        if row.contacts or "tenant" in present or "payer" in present or uid in self.edits.units:
            return False
        values, old = _unit_values(row), existing[2:]
        if values != old and (values[0] is not None or values[1:] != old[1:]):
            return False
        held, person = self.current.get((uid, "owner")), row.owner
        if person is None:
            return held is None or "owner" not in present
        if (
            held is None
            or person.name != held.name
            or person.phones_masked
            or person.id_masked
            or held.party_id in self.edits.parties
        ):
            return False
        phones = person.phones.split("/") if person.phones and "phone" in present else ()
        if phones and not set(phones) <= set(held.phones.split("/")):
            return False
        wanted = (
            person.kind if "owner_kind" in present else held.kind,
            person.id_number if person.id_number and "id_number" in present else held.id_number,
            person.birthday if person.birthday and "birthday" in present else held.birthday,
        )
        tenant = self.current.get((uid, "tenant"))
        if wanted != (held.kind, held.id_number, held.birthday) or held.pays != (
            not (tenant is not None and tenant.pays)
        ):
            return False
        if phones:
            union = self.file_phones.setdefault(held.party_id, [])
            union.extend(p for p in phones if p not in union)
        return True

    def update(self, row: RosterRow, existing: tuple, report: ImportReport) -> bool:
        uid = existing[0]
        changed = False
        if self.history and uid in self.edits.units:
            row = self._keep_unit_edits(row, existing)
        old = tuple(existing[2:])
        values = _unit_values(row)
        if values == old or (values[0] is None and values[1:] == old[1:]):
            merged = old  # the usual re-import: every value as on record (a blank 空置 keeps it)
        else:
            given = self.present if not row.room else self.present | _PLACE_FIELDS
            merged = tuple(
                was
                if _FIELD_OF_COLUMN[name] not in given or (new in (None, "") and name in _KEEP)
                else new
                for name, new, was in zip(_UNIT_FIELDS, values, old, strict=True)
            )
        if merged != old:
            self.unit_updates.append((*merged, self.stamp, uid))
            changed = True
            if self.history:
                self._unit_events(uid, old, merged)
            delivered_was, delivered_now = old[_DELIVERED], merged[_DELIVERED]
            if delivered_now != delivered_was:
                day = (
                    min(d for d in (delivered_was, delivered_now) if d)
                    if (delivered_was or delivered_now)
                    else None
                )
                if day:
                    self.changed_on.append((uid, row.code, day))
        if row.contacts and self.merge_contacts(uid, row):
            changed = True
        held_owner = self.current.get((uid, "owner"))
        held_tenant = self.current.get((uid, "tenant"))
        tenant_kept = (
            self.history
            and "tenant" in self.present
            and uid in self.edits.units
            and self._tenant_kept(uid, row, held_tenant)
        )
        if tenant_kept:
            tenant_pays = bool(held_tenant and held_tenant.pays)
        elif "payer" in self.present:
            tenant_pays = row.tenant is not None and row.tenant_pays
        elif "tenant" in self.present:  # a new tenant takes over the old one's arrangement
            tenant_pays = row.tenant is not None and bool(held_tenant and held_tenant.pays)
        else:
            tenant_pays = bool(held_tenant and held_tenant.pays)
        on = row.changed_on or self.effective
        owner_pays = not tenant_pays
        if tenant_kept and held_owner is not None:  # who pays stays as the edit left it
            owner_pays = bool(held_owner.pays)
        if self._owner(uid, row, held_owner, on, owner_pays, report):
            changed = True
        if (
            "tenant" in self.present
            and not tenant_kept
            and self._tenant(uid, row, held_tenant, on, tenant_pays, report)
        ):
            changed = True
        return changed

    def _owner(self, uid, row, held, on, pays, report) -> bool:
        if row.owner is None:
            if held is not None and "owner" in self.present:
                self.error(
                    row,
                    "owner",
                    "",
                    _(
                        "the owner {name} on record is missing; an owner cannot be removed "
                        "by import"
                    ).format(name=held.name),
                )
            return False
        person = row.owner
        if held is not None and person.name != held.name and self.history:
            kept = self._owner_kept(uid, row, held)
            if kept == "sale":  # the row is the seller's: nothing of it is the buyer's
                return self._pays(uid, held, on, pays, "owner")
            if kept == "name":
                person = person._replace(name=held.name)
        if held is None or person.name != held.name:
            start = on if held is not None else (row.changed_on or row.delivered_on or on)
            if held is not None:
                if held.start_on and start < held.start_on:
                    self.error(
                        row,
                        "owner",
                        row.owner.name,
                        _(
                            "owner change dated {day}, before the current owner {name} took "
                            "over on {start}; give a 过户日期 or --as-of on or after it"
                        ).format(day=start, name=held.name, start=held.start_on),
                    )
                self.ended.append((start, held.occupancy_id))
            pid = self.party_for(row.owner, row, "owner")
            self.occupy(uid, pid, "owner", start, pays)
            report.owner_changes += 1
            if start:
                self.changed_on.append((uid, row.code, start))
            if self.history:
                seller = held.name if held is not None else ""
                self.event(uid, pid, "sell", "owner", seller, person.name, start or on)
            return True
        changed = self._details(person, held, row, "owner")
        return self._pays(uid, held, on, pays, "owner") or changed

    def _pays(self, uid: int, held: Holder, on: str, pays: bool, role: str) -> bool:
        """Whether the holder pays for the unit changes: the occupancy is renewed from ``on``."""
        if held.pays == pays:
            return False
        self.ended.append((on, held.occupancy_id))
        self.occupy(uid, held.party_id, role, on, pays)
        return True

    def _tenant(self, uid, row, held, on, pays, report) -> bool:
        if row.tenant is None:
            if held is None:
                return False
            self.ended.append((on, held.occupancy_id))
            report.tenant_changes += 1
            if self.history:
                self.event(uid, held.party_id, "move-out", "tenant", held.name, "", on)
            return True
        person = row.tenant
        if (
            held is not None
            and person.name != held.name
            and self.history
            and self.edits.stale(("party", held.party_id, "name"), person.name, held.name)
        ):  # the file gives the name a correction replaced: the same tenant, name kept
            self.keep(row.code, "name", person.name, held.name)
            person = person._replace(name=held.name)
        if held is None or person.name != held.name:
            start = row.tenant_from or self.effective
            if held is not None:
                self.ended.append((start, held.occupancy_id))
            pid = self.party_for(row.tenant, row, "tenant")
            self.occupy(uid, pid, "tenant", start, pays)
            report.tenant_changes += 1
            if self.history:
                was = held.name if held is not None else ""
                self.event(uid, pid, "move-in", "tenant", was, row.tenant.name, start)
            return True
        changed = self._details(person, held, row, "tenant")
        return self._pays(uid, held, on, pays, "tenant") or changed

    # -- a unit's contacts

    def merge_contacts(self, uid: int, row: RosterRow) -> bool:
        """Add the row's contacts a unit does not have, or give one on record the details the
        file brings (a blank or masked cell keeps what is on record); never removes one, and
        never adds back one a command removed. Whether anything changed."""
        held = self.contacts.setdefault(uid, {})
        changed = False
        for person in row.contacts:
            was = held.get(person.name)
            if was is None and (uid, person.name) in self.contacts_removed:
                self.keep(row.code, "contacts", person.name, "")
                continue
            if was is None and person.phones_masked:
                self.error(
                    row,
                    "contacts",
                    person.phones,
                    _("a masked value cannot be imported for a new contact; use an unmasked file"),
                )
                continue
            phones = person.phones if person.phones and not person.phones_masked else ""
            new = contacts.Contact(
                person.relation,
                person.name,
                phones or (was.phones if was else ""),
                person.id_number or (was.id_number if was else ""),
                person.gender or (was.gender if was else ""),
                self.source,
            )
            if was is not None and new[:5] == was[:5]:
                continue
            held[person.name] = new
            self.new_contacts.append(
                (uid, "add", *new[:5], self.effective, "", self.operator, self.source, self.stamp)
            )
            changed = True
        return changed

    # -- edits a stale file would undo, and the history of what an import changes

    def keep(self, code: str, field_: str, file_value: str, kept: str) -> None:
        """Note a value of the file that an edit replaced: the edit's value stays."""
        if (code, field_) not in self._kept_seen:
            self._kept_seen.add((code, field_))
            self.report.kept.append(KeptEdit(code, field_, file_value, kept))

    def event(self, uid, pid, action: str, field_: str, old: str, new: str, on: str) -> None:
        """A change this import makes, for the unit's change history."""
        self.events.append(
            (uid, pid, action, field_, old, new, on, "", self.operator, self.stamp, self.source)
        )

    def _keep_unit_edits(self, row: RosterRow, existing: tuple) -> RosterRow:
        """The row with the floor, kind and area an edit set kept where the file still
        gives the value the edit replaced."""
        uid, values = existing[0], {}
        for name, field_ in _TRACKED:
            index = 2 + _UNIT_FIELDS.index(name)
            new, was = getattr(row, name), existing[index]
            if field_ not in self.present or new in (None, ""):
                continue
            given, held = _stored(name, new), _stored(name, was)
            if self.edits.stale(("unit", uid, field_), given, held):
                values[name] = was
                if name == "area_x100":
                    values["area_basis"] = existing[index + 1]
                self.keep(row.code, field_, given, held)
        return row._replace(**values) if values else row

    def _unit_events(self, uid: int, old: tuple, merged: tuple) -> None:
        for name, field_ in _TRACKED:
            index = _UNIT_FIELDS.index(name)
            if old[index] != merged[index]:
                was, now = _stored(name, old[index]), _stored(name, merged[index])
                self.event(uid, None, "unit-set", field_, was, now, self.effective)

    def _owner_kept(self, uid: int, row: RosterRow, held: Holder) -> str:
        """ "sale" where the file names the owner a recorded sale replaced, "name" where it
        gives the name an owner's correction replaced; else ""."""
        name = row.owner.name
        if self.edits.stale(("unit", uid, "owner"), name, held.name):
            self.keep(row.code, "owner", name, held.name)
            return "sale"
        if self.edits.stale(("party", held.party_id, "name"), name, held.name):
            self.keep(row.code, "name", name, held.name)
            return "name"
        return ""

    def _tenant_kept(self, uid: int, row: RosterRow, held: Holder | None) -> bool:
        """Whether the file names the tenant a recorded move-in or move-out replaced."""
        given = row.tenant.name if row.tenant is not None else ""
        on_record = held.name if held is not None else ""
        if not self.edits.stale(("unit", uid, "tenant"), given, on_record):
            return False
        self.keep(row.code, "tenant", given, on_record)
        return True

    def _details(self, person: PartyIn, held: Holder, row: RosterRow, role: str) -> bool:
        """Contact details of a party on record: phones, ID number, kind, birthday. A blank
        cell keeps what is on record and a masked one must match it. A person on several
        rows keeps every phone the rows give; the phones change only when a row brings a
        number not on record."""
        phone_field = "phone" if role == "owner" else "tenant_phone"
        id_field = "id_number" if role == "owner" else "tenant_id_number"
        pid = held.party_id
        changed = False
        if phone_field in self.present and person.phones:
            if person.phones_masked:
                if cells.mask_phones(held.phones) != person.phones:
                    self.error(
                        row,
                        phone_field,
                        person.phones,
                        _(
                            "a masked phone that does not match the phone on record; use an "
                            "unmasked file"
                        ),
                    )
            else:
                given = person.phones.split("/")
                new_phone = not set(given) <= set(held.phones.split("/"))
                if new_phone and self._stale(pid, "phones", given, held.phones):
                    self.keep(row.code, "phones", person.phones, held.phones)
                else:
                    union = self.file_phones.setdefault(pid, [])
                    union.extend(p for p in given if p not in union)
                    if new_phone:
                        self.phone_changes.add(pid)
                        self.details_was.setdefault(pid, held)
                        changed = True
        id_number = held.id_number
        if id_field in self.present and person.id_number:
            if not person.id_masked:
                id_number = person.id_number
                if self._stale(pid, "id_number", id_number, held.id_number):
                    self.keep(row.code, "id_number", id_number, held.id_number)
                    id_number = held.id_number
            elif cells.mask_id(held.id_number) != person.id_number:
                self.error(
                    row,
                    id_field,
                    person.id_number,
                    _(
                        "a masked ID number that does not match the one on record; use an "
                        "unmasked file"
                    ),
                )
        kind = person.kind if (role == "tenant" or "owner_kind" in self.present) else held.kind
        if self._stale(pid, "party_kind", kind, held.kind):
            self.keep(row.code, "party_kind", kind, held.kind)
            kind = held.kind
        birthday = held.birthday
        if role == "owner" and "birthday" in self.present and person.birthday:
            birthday = person.birthday
        wanted = (kind, id_number, birthday)
        if wanted == (held.kind, held.id_number, held.birthday):
            return changed
        earlier = self.party_updates.get(pid)
        if earlier is not None and earlier[0] != wanted:
            self.error(
                row,
                id_field if id_number != earlier[0][1] else "owner",
                held.name,
                _(
                    "{name} has different details on row {row}; one person's ID number and "
                    "type must agree"
                ).format(name=held.name, row=earlier[1].row),
            )
        self.party_updates[pid] = (wanted, row)
        self.details_was.setdefault(pid, held)
        return True

    def _stale(self, pid: int, field_: str, given, on_record: str) -> bool:
        """Whether a party's detail in the file is one an edit replaced."""
        if not self.history or pid not in self.edits.parties or not given:
            return False
        if field_ == "phones":
            return self.edits.stale_phones(pid, given, on_record)
        return given != on_record and self.edits.stale(("party", pid, field_), given, on_record)

    # -- finishing

    def check_missing_area(self) -> None:
        """A file without an area or owner column imports what it has and says what is
        missing: new units without an area are skipped by area-based fees, new units without
        an owner are billed to the developer."""
        if self.needs_area:
            self.report.warnings.append(
                ngettext(
                    "the file has no area column: {n} new unit has no area ({where}); `propfee "
                    "bill` skips it for fees charged by area (reason: no area) until its area "
                    "is set with `propfee units set CODE --area` or a roster file with an area "
                    "column",
                    "the file has no area column: {n} new units have no area ({where}); "
                    "`propfee bill` skips them for fees charged by area (reason: no area) until "
                    "their area is set with `propfee units set CODE --area` or a roster file "
                    "with an area column",
                    len(self.needs_area),
                ).format(n=len(self.needs_area), where=_rows_and_codes(self.needs_area))
            )
        unread = self._unread_owner_column()
        if self.needs_owner and unread:
            self.error(
                self.needs_owner[0],
                "owner",
                unread,
                _(
                    "the file has no column read as the owner, and column {column} looks like "
                    'one; name it with --map ([columns] "{column}" = "owner") so no owner '
                    "is dropped"
                ).format(column=unread),
            )
        elif self.needs_owner:
            self.report.warnings.append(
                ngettext(
                    "the file has no owner column: {n} unit imported without an owner ({where}); "
                    "`propfee bill` bills it to the developer (开发建设单位) until an owner is "
                    "added — import a roster file with owners, or record one with `propfee units "
                    "sell CODE --to NAME --phone PHONE --date DAY`",
                    "the file has no owner column: {n} units imported without owners ({where}); "
                    "`propfee bill` bills them to the developer (开发建设单位) until owners are "
                    "added — import a roster file with owners, or record each with `propfee "
                    "units sell CODE --to NAME --phone PHONE --date DAY`",
                    len(self.needs_owner),
                ).format(n=len(self.needs_owner), where=_rows_and_codes(self.needs_owner))
            )

    def _unread_owner_column(self) -> str:
        """A column left out whose header names a person (业主, 户主, 姓名 …): a file with one
        is refused rather than imported without owners."""
        sheets = {row.sheet for row in self.needs_owner}
        for sheet in sheets:
            for header in self.roster.facts.get(sheet, (0, [], [], ""))[2]:
                if any(word in header for word in _OWNER_WORDS):
                    return header
        return ""

    def merge(self, rows: list[RosterRow]) -> None:
        """Compare a batch of rows with what is on record, then write what is new."""
        report = self.report
        presence = self.roster.presence
        for row in rows:
            self.present = presence[row.sheet]
            if row.owner is None and row.tenant_pays:
                self.tenant_paid.add(row.code)  # a space the developer lets: its tenant pays
            existing = self.units.get(row.code)
            counts = report.by_sheet.setdefault(row.sheet, [0, 0, 0])  # added, updated, same
            if existing is None:
                self.add(row)
                report.added += 1
                counts[0] += 1
            elif self.same(row, existing):  # the usual re-import: told at a glance
                report.unchanged += 1
                counts[2] += 1
            elif self.update(row, existing, report):
                report.updated += 1
                report.changed_codes.append(row.code)
                counts[1] += 1
            else:
                report.unchanged += 1
                counts[2] += 1
        if not self.errors:
            self.flush()

    def flush(self) -> None:
        """Write the new units, parties and occupancies merged so far."""
        conn = self.conn
        store.insert_units(conn, self.new_units)
        store.update_units(conn, self.unit_updates)
        store.insert_parties(conn, self.new_parties.values())
        store.end_occupancies(conn, self.ended)
        store.insert_occupancies(conn, self.new_occupancies)
        store.insert_unit_events(conn, self.events)
        store.insert_contact_events(conn, self.new_contacts)
        self.events, self.new_contacts = [], []
        for pid, party in self.new_parties.items():
            self.phones[pid] = party[3]  # a later row may add phones: then it is an update
        self.new_units, self.unit_updates, self.ended, self.new_occupancies = [], [], [], []
        self.new_parties = {}

    def write_details(self) -> None:
        """Write the contact details merged (they settle only once every row is seen)."""
        store.update_party_details(
            self.conn,
            [(*wanted, self.stamp, pid) for pid, (wanted, _row) in self.party_updates.items()],
        )
        for pid in self.phone_changes:
            self.more_phones[pid] = "/".join(self.file_phones[pid])
        store.update_party_phones(
            self.conn, [(phones, self.stamp, pid) for pid, phones in self.more_phones.items()]
        )
        if self.history:
            self._detail_events()
            store.insert_unit_events(self.conn, self.events)
            self.events = []

    def _detail_events(self) -> None:
        """The owners' and tenants' phones, ID numbers and kinds this import changed."""
        day = self.effective
        for pid, held in self.details_was.items():
            wanted = self.party_updates.get(pid)
            if wanted is not None:
                kind, id_number, _birthday = wanted[0]
                if kind != held.kind:
                    self.event(None, pid, "owner-set", "party_kind", held.kind, kind, day)
                if id_number != held.id_number:
                    self.event(None, pid, "owner-set", "id_number", held.id_number, id_number, day)
            phones = self.more_phones.get(pid)
            if pid in self.phone_changes and phones and phones != held.phones:
                self.event(None, pid, "owner-set", "phones", held.phones, phones, day)

    def note_developer_paid(self, codes: set[str]) -> None:
        """Count the file's units left with no owner: the developer pays for them, which is
        right for unsold units and wrong when an owner column was not read."""
        warned = {row.code for row in self.needs_owner}  # said already: no owner column
        left = [
            c
            for c in store.codes_without_owner(self.conn)
            if c in codes and c not in self.tenant_paid and c not in warned
        ]
        self.report.developer_paid = len(left)
        if left:
            shown = "、".join(left[:5]) + ("…" if len(left) > 5 else "")
            self.report.warnings.append(
                _(
                    "{n} units have no owner and the developer pays for them ({codes}); if "
                    "they are not unsold units, check the owner column"
                ).format(n=len(left), codes=shown)
            )

    def finish(self) -> ImportReport:
        """The last writes (contact details settle only once every row is seen) and the
        report; RowErrors if anything could not be merged."""
        self.check_missing_area()
        if self.errors:
            raise RowErrors(self.errors)
        self.flush()
        self.write_details()
        conn = self.conn
        report = self.report
        roster = self.roster
        report.rows = roster.count
        report.sheets = list(roster.sheets)
        report.notices = list(roster.notices)
        report.warnings.extend(roster.warnings)
        report.sheet_facts = dict(roster.facts)
        report.fee_settings = dict(roster.fee_settings)
        codes = roster.codes or {row.code for row in roster.rows}
        report.not_in_file = sum(1 for code in self.units if code not in codes)
        if report.not_in_file:
            report.notices.append(
                ngettext(
                    "{n} unit on record is not in this file; it is kept as it is",
                    "{n} units on record are not in this file; they are kept as they are",
                    report.not_in_file,
                ).format(n=report.not_in_file)
            )
        self.note_developer_paid(codes)
        if roster.skipped_footer:
            report.notices.append(
                ngettext(
                    "{n} total/footnote row skipped",
                    "{n} total/footnote rows skipped",
                    roster.skipped_footer,
                ).format(n=roster.skipped_footer)
            )
        self.note_undelivered(codes)
        for uid, code, day in self.changed_on:
            if store.billed_from(conn, uid, day):
                report.rebill_from.append((code, day))
        return report

    def note_undelivered(self, codes) -> None:
        """Units of this file without a delivery date are the developer's to pay (LEGAL rule
        9) — unless the user said the owner pays from the import's day, which is then recorded
        as their delivery date."""
        report = self.report
        units = [(uid, code) for uid, code in store.undelivered_units(self.conn) if code in codes]
        report.undelivered = len(units)
        if not units:
            return
        if self.owner_pays_from_import:
            store.set_delivered(
                self.conn, [uid for uid, _code in units], self.effective, self.stamp
            )
            report.owner_pays_from = self.effective
            report.notices.append(
                _(
                    "{n} units have no delivery date: as --owner-pays-from-import asks, the "
                    "owner pays from {day} (recorded as the delivery date {day})"
                ).format(n=len(units), day=self.effective)
            )
            return
        report.notices.append(
            ngettext(
                "{n} unit has no delivery date, so the developer pays its property fee (LEGAL "
                "rule 9); where the owner has taken the keys, add the delivery date to the "
                "roster and import again, or add --owner-pays-from-import for the owner to pay "
                "from the day of the import (e.g. {codes})",
                "{n} units have no delivery date, so the developer pays their property fee "
                "(LEGAL rule 9); where the owner has taken the keys, add the delivery date to "
                "the roster and import again, or add --owner-pays-from-import for the owner to "
                "pay from the day of the import (e.g. {codes})",
                len(units),
            ).format(n=len(units), codes=", ".join(code for _uid, code in units[:5]))
        )


def _no_units(conn, path: Path, other: others.OtherFile, now: datetime) -> ImportReport:
    """The report of a file that lists no units: plates attached, or what the file is."""
    report = ImportReport(sheets=[other.sheet.name])
    if other.kind == others.SETTINGS:
        report.warnings.append(others.settings_warning(path.name))
        return report
    attached, report.warnings = others.attach_plates(conn, path.name, other, now)
    report.updated = attached
    if attached:
        report.notices.append(
            ngettext(
                "{file} is a vehicle list: plates added to the notes of {n} unit",
                "{file} is a vehicle list: plates added to the notes of {n} units",
                attached,
            ).format(file=path.name, n=attached)
        )
    return report


def rebill_notices(report: ImportReport) -> None:
    """Name the re-billing a change of who pays needs, when it is not run in the command."""
    for code, day in report.rebill_from:
        report.notices.append(
            _(
                "{code}: days from {day} are already billed to whoever was responsible before "
                "this change; bill them to the right party with: propfee rebill {code} --from "
                "{day}"
            ).format(code=code, day=day)
        )


#: words of a header that names the person holding a unit
_OWNER_WORDS = ("业主", "户主", "姓名", "产权人", "房主", "客户", "owner", "name")


def _rows_and_codes(rows: list[RosterRow]) -> str:
    """Where the rows are, for a warning: ``Sheet1 row 2 5-1-1102, …`` (the first five)."""
    shown = [
        _("{sheet} row {row} {code}").format(sheet=r.sheet, row=r.row, code=r.code)
        for r in rows[:5]
    ]
    return "、".join(shown) + ("…" if len(rows) > 5 else "")


_TRACKED = (("floor", "floor"), ("kind", "kind"), ("area_x100", "area"))


def _stored(name: str, value: object) -> str:
    """A unit's value as its change history keeps it (an area as 89.37)."""
    if name == "area_x100":
        return hundredths_str(value)  # type: ignore[arg-type]
    return "" if value is None else str(value)


_KEEP = frozenset(
    {
        "vacant",
        "floor",
        "area_x100",
        "area_basis",
        "inner_area_x100",
        "delivered_on",
        "notes",
        "zone",
    }
)


def _unit_values(row: RosterRow) -> tuple:
    return (
        row.vacant,
        row.building,
        row.entrance,
        row.room,
        row.floor,
        row.kind,
        row.area_x100,
        row.area_basis if row.area_x100 is not None else "",
        row.inner_area_x100,
        row.delivered_on,
        row.notes,
        row.zone,
    )


def apply_roster(
    conn: sqlite3.Connection, roster: Roster, *, as_of: date, now: datetime
) -> ImportReport:
    """Merge a validated roster into the database, inside the caller's transaction.

    New units are added with their owner (and tenant); existing units are compared field by
    field — only for the columns their sheet has, and a blank cell never erases what is on
    record — and updated. A different owner or tenant ends the current occupancy and starts
    a new one on the row's 过户日期, else ``as_of``. Raises RowErrors (and the caller rolls
    back) for conflicts only the database reveals.
    """
    state = RosterMerge(conn, roster, as_of=as_of, now=now)
    state.merge(roster.rows)
    report = state.finish()
    rebill_notices(report)
    return report


def import_roster(
    conn: sqlite3.Connection,
    path: Path,
    *,
    as_of: date,
    now: datetime,
    column_map: ColumnMap | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    owner_pays_from_import: bool = False,
    rebill: Callable[[sqlite3.Connection, ImportReport], None] | None = None,
) -> ImportReport:
    """Read, validate and merge a roster file as one transaction: committed whole, or rolled
    back on any bad row (and at the end of a dry run). Rows are merged in batches as they
    are read, so a 100k-unit roster is never held in memory twice. Days already billed to
    whoever paid before a change (a corrected delivery date, a sale) are handed to
    ``rebill`` in the same transaction; without it the report names the command to run."""
    merge: RosterMerge | None = None

    def sink(roster: Roster, rows: list[RosterRow]) -> None:
        nonlocal merge
        if merge is None:
            merge = RosterMerge(
                conn,
                roster,
                as_of=as_of,
                now=now,
                owner_pays_from_import=owner_pays_from_import,
            )
        merge.merge(rows)

    with no_gc(), transaction(conn, dry_run=dry_run):  # rows make no cycles (see core/gcpause)
        try:
            roster = read_roster(
                path, column_map=column_map, sheet=sheet, progress=progress, sink=sink
            )
        except RowErrors as exc:  # bad cells, and what the rows read before them revealed
            raise RowErrors(exc.errors + (merge.errors if merge else [])) from None
        except others.NotARoster as exc:  # a vehicle list or estate settings
            report = _no_units(conn, path, exc.other, now)
            report.dry_run = dry_run
            return report
        report = (merge or RosterMerge(conn, roster, as_of=as_of, now=now)).finish()
        if rebill is not None and report.rebill_from:
            rebill(conn, report)
        else:
            rebill_notices(report)
    report.dry_run = dry_run
    return report
