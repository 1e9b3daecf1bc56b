"""Writing a roster into the database: each row compared with the unit on record, new units,
parties and occupancies added in batches, changed ones updated (an upsert by unit code that
keeps ownership history), and the report of what changed.

``apply_roster`` writes a read roster inside the caller's transaction; ``import_roster`` reads
and writes a file as one command.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import propfee.roster.store as store
from propfee.core.errors import RowError, RowErrors
from propfee.core.i18n import N_, _, ngettext
from propfee.files import cells
from propfee.roster.reading import (
    FIELD_LABELS,
    ColumnMap,
    PartyIn,
    Progress,
    Roster,
    RosterRow,
    read_roster,
)
from propfee.roster.units import NEEDS_AREA
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
    #: per sheet: rows read, the columns used and left out, the profile recognised
    sheet_facts: dict[str, tuple[int, list[str], list[str], str]] = field(default_factory=dict)

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
)
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
    ):
        """``only``: the code of the one unit an edit is about (read just that unit)."""
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
            row[1]: tuple(share(v, v) if i not in (0, 1) else v for i, v in enumerate(row))
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
        keys = []
        if person.id_number:
            keys.append((person.name, "id:" + person.id_number))
        if person.phones:
            keys.append((person.name, "tel:" + person.phones.split("/")[0]))
        known = self.keys
        for key in keys:
            pid = known.get(key)
            if pid is not None:
                self._add_phones(pid, person.phones)
                return pid
        pid = self.next_party
        self.next_party += 1
        self.new_parties[pid] = [
            pid,
            person.kind,
            person.name,
            person.phones,
            person.id_number,
            person.birthday,
            self.stamp,
            self.stamp,
        ]
        self.phones[pid] = person.phones
        for key in keys:
            self.keys[key] = pid
        return pid

    @property
    def keys(self) -> dict[tuple[str, str], int]:
        """Parties on record by (name, "id:" ID number) and (name, "tel:" first phone)."""
        if self._keys is None:
            self._keys = {}
            for pid, name, phones, id_number in store.people(self.conn):
                self.phones[pid] = phones
                if id_number:
                    self._keys.setdefault((name, "id:" + id_number), pid)
                if phones:
                    self._keys.setdefault((name, "tel:" + phones.split("/")[0]), pid)
        return self._keys

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

    def update(self, row: RosterRow, existing: tuple, report: ImportReport) -> bool:
        uid = existing[0]
        changed = False
        old = tuple(existing[2:])
        given = self.present if not row.room else self.present | _PLACE_FIELDS
        merged = tuple(
            was
            if _FIELD_OF_COLUMN[name] not in given or (new in (None, "") and name in _KEEP)
            else new
            for name, new, was in zip(_UNIT_FIELDS, _unit_values(row), old, strict=True)
        )
        if merged != old:
            self.unit_updates.append((*merged, self.stamp, uid))
            changed = True
            delivered_was, delivered_now = old[-2], merged[-2]
            if delivered_now != delivered_was:
                day = (
                    min(d for d in (delivered_was, delivered_now) if d)
                    if (delivered_was or delivered_now)
                    else None
                )
                if day:
                    self.changed_on.append((uid, row.code, day))
        held_owner = self.current.get((uid, "owner"))
        held_tenant = self.current.get((uid, "tenant"))
        if "payer" in self.present:
            tenant_pays = row.tenant is not None and row.tenant_pays
        elif "tenant" in self.present:  # a new tenant takes over the old one's arrangement
            tenant_pays = row.tenant is not None and bool(held_tenant and held_tenant.pays)
        else:
            tenant_pays = bool(held_tenant and held_tenant.pays)
        on = row.changed_on or self.effective
        if self._owner(uid, row, held_owner, on, not tenant_pays, report):
            changed = True
        if "tenant" in self.present and self._tenant(
            uid, row, held_tenant, on, tenant_pays, report
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
        if held is None or row.owner.name != held.name:
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
            self.occupy(uid, self.party_for(row.owner, row, "owner"), "owner", start, pays)
            report.owner_changes += 1
            if start:
                self.changed_on.append((uid, row.code, start))
            return True
        changed = self._details(row.owner, held, row, "owner")
        if held.pays != pays:
            self.ended.append((on, held.occupancy_id))
            self.occupy(uid, held.party_id, "owner", on, pays)
            changed = True
        return changed

    def _tenant(self, uid, row, held, on, pays, report) -> bool:
        if row.tenant is None:
            if held is None:
                return False
            self.ended.append((on, held.occupancy_id))
            report.tenant_changes += 1
            return True
        if held is None or row.tenant.name != held.name:
            start = row.tenant_from or self.effective
            if held is not None:
                self.ended.append((start, held.occupancy_id))
            self.occupy(uid, self.party_for(row.tenant, row, "tenant"), "tenant", start, pays)
            report.tenant_changes += 1
            return True
        changed = self._details(row.tenant, held, row, "tenant")
        if held.pays != pays:
            self.ended.append((on, held.occupancy_id))
            self.occupy(uid, held.party_id, "tenant", on, pays)
            changed = True
        return changed

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
                union = self.file_phones.setdefault(pid, [])
                union.extend(p for p in given if p not in union)
                if not set(given) <= set(held.phones.split("/")):
                    self.phone_changes.add(pid)
                    changed = True
        id_number = held.id_number
        if id_field in self.present and person.id_number:
            if not person.id_masked:
                id_number = person.id_number
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
        return True

    # -- finishing

    def check_missing_area(self) -> None:
        for rows, column in ((self.needs_area, "area"), (self.needs_owner, "owner")):
            if rows:
                codes = ", ".join(r.code for r in rows[:3]) + ("…" if len(rows) > 3 else "")
                self.error(
                    rows[0],
                    column,
                    "",
                    ngettext(
                        "the file has no {column} column, and {n} new unit needs one ({codes})",
                        "the file has no {column} column, and {n} new units need one ({codes})",
                        len(rows),
                    ).format(column=_(FIELD_LABELS[column]), n=len(rows), codes=codes)
                    + (_(UNITS_ONLY_HINT) if column == "owner" else ""),
                )

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

    def note_developer_paid(self, codes: set[str]) -> None:
        """Count the file's units left with no owner: the developer pays for them, which is
        right for unsold units and wrong when an owner column was not read."""
        left = [
            c
            for c in store.codes_without_owner(self.conn)
            if c in codes and c not in self.tenant_paid
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


UNITS_ONLY_HINT = N_(
    "; a list of units without owners (unsold units, parking spaces) imports with --units-only: "
    "the developer pays for them until their owners are imported"
)

_KEEP = frozenset(
    {"vacant", "floor", "area_x100", "area_basis", "inner_area_x100", "delivered_on", "notes"}
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


@contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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

    with _no_gc(), transaction(conn, dry_run=dry_run):
        try:
            roster = read_roster(
                path, column_map=column_map, sheet=sheet, progress=progress, sink=sink
            )
        except RowErrors as exc:  # bad cells, and what the rows read before them revealed
            raise RowErrors(exc.errors + (merge.errors if merge else [])) from None
        report = (merge or RosterMerge(conn, roster, as_of=as_of, now=now)).finish()
        if rebill is not None and report.rebill_from:
            rebill(conn, report)
        else:
            rebill_notices(report)
    report.dry_run = dry_run
    return report
