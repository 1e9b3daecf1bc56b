"""Units of the estate: their kinds, codes as typed and as sorted, the current roster listed,
one unit with its owner and tenant history, and the roster exported to a file."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import propfee.roster.contacts as contacts
import propfee.roster.store as store
from propfee.core.errors import InvalidValue, NotFound
from propfee.core.i18n import N_, _
from propfee.core.money import hundredths_to_decimal
from propfee.files import cells, workbook, xlsxstream
from propfee.files.headers import norm_header

# ---------------------------------------------------------------- kinds

KINDS = {
    "residential": "住宅",
    "commercial": "商铺",
    "office": "写字楼",
    "parking": "车位",
    "storage": "储藏室",
}

KIND_ALIASES: dict[str, str] = {}
for _kind, _words in {
    "residential": "住宅 住房 普通住宅 高层住宅 多层住宅 小高层 洋房 叠拼 别墅 联排 公寓 复式 跃层 "
    "平层 住宅楼 商品房 安置房 回迁房 经适房 residential home house apartment flat",
    "commercial": "商铺 商业 门面 门市 底商 商铺房 商业用房 店面 店铺 商场 商服 shop store commercial retail",
    "office": "写字楼 办公 办公楼 办公用房 写字间 office",
    "parking": "车位 停车位 地下车位 地上车位 机械车位 产权车位 人防车位 车库 parking carpark garage parkingspace",
    "storage": "储藏室 储藏间 储物间 地下室 杂物间 仓库 储物室 storage storageroom",
}.items():
    for _word in _words.split():
        KIND_ALIASES[norm_header(_word)] = _kind


#: the kinds as staff read them at the terminal and in files for them (KINDS stays the Chinese
#: of documents handed to owners)
KIND_NAMES = {
    "residential": N_("residential"),
    "commercial": N_("commercial"),
    "office": N_("office"),
    "parking": N_("parking space"),
    "storage": N_("storage room"),
}

NEEDS_AREA = frozenset({"residential", "commercial", "office"})


def kind_label(kind: str) -> str:
    return _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


# ---------------------------------------------------------------- listing and export


class UnitView(NamedTuple):
    code: str
    building: str
    entrance: str
    room: str
    floor: str
    kind: str
    area_x100: int | None
    area_basis: str
    inner_area_x100: int | None
    delivered_on: str | None
    notes: str
    owner: str
    owner_kind: str
    phones: str
    id_number: str
    birthday: str | None
    tenant: str
    tenant_phones: str
    payer: str  # "owner" / "tenant" / "developer"
    vacant: int = 0
    zone: str = ""  # 北二区 of 北二区30栋三单元1102


def natural_key(code: str) -> tuple:
    """Sort ``1-1-902`` before ``1-1-1001`` and ``2-…`` after ``1-…``: the print order of
    units (building, entrance, floor, room; 2 before 10) used by every list and document."""
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", code) if p
    )


def print_key(codes) -> tuple:
    """Where a document for these units goes in a printed pile: after every document whose
    first unit comes earlier by building, entrance, floor and room (``natural_key``)."""
    return min((natural_key(code) for code in codes), default=())


def building_label(building: str) -> str:
    """``1`` -> ``1号楼``, for file names and headings; no building -> ``未分楼栋``."""
    if not building:
        return "未分楼栋"
    label = building if re.search(r"[楼栋幢座]$", building) else f"{building}号楼"
    return re.sub(r'[\\/:*?"<>|\s]+', "_", label)


def list_units(
    conn: sqlite3.Connection,
    *,
    building: str | None = None,
    kind: str | None = None,
    owner: str | None = None,
    zone: str | None = None,
) -> list[UnitView]:
    rows = [
        UnitView(*row)
        for row in store.roster_rows(
            conn,
            building=cells.building_part(building) if building else None,
            kind=resolve_kind(kind) if kind else None,
            owner_contains=owner or None,
            zone=zone.strip() if zone else None,
        )
    ]
    rows.sort(key=lambda r: natural_key(r.code))
    return rows


def resolve_kind(value: str) -> str:
    """A kind given on the command line, in English or Chinese."""
    if value in KINDS:
        return value
    kind = KIND_ALIASES.get(norm_header(value))
    if kind is None:
        raise InvalidValue(
            _("unknown kind {value}; use one of {kinds}").format(
                value=repr(value), kinds=", ".join(f"{k} ({v})" for k, v in KINDS.items())
            )
        )
    return kind


@dataclass
class Occupancy:
    role: str
    name: str
    kind: str
    phones: str
    id_number: str
    start_on: str | None
    end_on: str | None
    pays: bool
    source: str


# ---------------------------------------------------------------- the change history

ACTIONS = {
    "unit-set": N_("unit details corrected"),
    "owner-set": N_("owner details corrected"),
    "move-out": N_("tenant moved out"),
    "move-in": N_("tenant moved in"),
    "sell": N_("ownership transferred"),
}
FIELDS = {
    "area": N_("billing area"),
    "kind": N_("unit type"),
    "floor": N_("floor"),
    "name": N_("name"),
    "phones": N_("phone"),
    "id_number": N_("ID or document number"),
    "party_kind": N_("person/company"),
    "owner": N_("owner"),
    "tenant": N_("tenant"),
    "payer": N_("payer"),
    "plate": N_("plate"),
}
PARTY_KINDS = {"person": N_("person"), "company": N_("organisation")}


def field_label(field_: str) -> str:
    """A recorded field's name as staff read it."""
    return _(FIELDS[field_]) if field_ in FIELDS else field_


@dataclass(frozen=True)
class Event:
    """One row of a unit's or a party's change history."""

    on: str
    operator: str
    action: str
    field: str
    old: str
    new: str
    reason: str
    at: str
    unit: str
    party: str
    source: str = ""  # "import FILE" for a change a roster import made; blank for an edit

    @property
    def what(self) -> str:
        action = _(ACTIONS[self.action]) if self.action in ACTIONS else self.action
        return _("{action}: {field}").format(action=action, field=field_label(self.field))


def value_text(field_: str, value: str) -> str:
    """A recorded value as staff read it: ``89.37 ㎡``, 住宅, 企业, — for none."""
    if not value:
        return "—"
    if field_ == "area":
        return _("{area} ㎡").format(area=value)
    if field_ == "kind":
        return kind_label(value)
    if field_ == "party_kind":
        return _(PARTY_KINDS[value]) if value in PARTY_KINDS else value
    return value


def unit_events(conn: sqlite3.Connection, code: str) -> list[Event]:
    """A unit's change history, oldest first: its own edits and the edits of its holders."""
    unit_id = store.unit_id_of(conn, code)
    return [] if unit_id is None else [Event(*row) for row in store.unit_events(conn, unit_id)]


def party_events(conn: sqlite3.Connection, party_id: int) -> list[Event]:
    """A party's change history, oldest first."""
    return [Event(*row) for row in store.party_events(conn, party_id)]


@dataclass
class UnitDetail:
    unit: UnitView
    history: list[Occupancy]
    events: list[Event] = field(default_factory=list)
    contacts: list[contacts.Contact] = field(default_factory=list)


def resolve_code(conn: sqlite3.Connection, value: object) -> str:
    """A unit code as typed, as the roster writes it: ``p-041`` is ``P-041`` when the roster
    holds only that one (letter case never tells two units apart). Unknown codes come back
    as typed, for the caller's "no unit" message."""
    code = cells.unit_code(value)
    if code.isascii() and code.lower() == code.upper():
        return code
    if store.code_exists(conn, code):
        return code
    codes = store.codes_ignoring_case(conn, code)
    return codes[0] if len(codes) == 1 else code


def unit_detail(conn: sqlite3.Connection, code: str) -> UnitDetail:
    """One unit with its current owner and tenant, and everyone who held it when; NotFound
    (with the codes it may have meant) for a code the roster does not hold."""
    code = resolve_code(conn, code)
    row = store.roster_row(conn, code)
    if row is None:
        hint = ""
        near = store.codes_containing(conn, code)
        if near:
            hint = _(" (did you mean {codes}?)").format(codes=", ".join(near))
        raise NotFound(_("no unit {code}{hint}").format(code=repr(code), hint=hint))
    history = [
        Occupancy(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8])
        for r in store.occupancy_history(conn, code)
    ]
    unit_id = store.unit_id_of(conn, code)
    people = contacts.unit_contacts(conn, unit_id) if unit_id is not None else []
    return UnitDetail(UnitView(*row), history, unit_events(conn, code), people)


#: export headers (through _() when written; each also reads back as a roster alias)
EXPORT_HEADERS = (
    N_("Unit code"),
    N_("Building"),
    N_("Entrance"),
    N_("Room"),
    N_("Floor"),
    N_("Unit type"),
    N_("Billing area"),
    N_("Area basis"),
    N_("Inner area"),
    N_("Delivery date"),
    N_("Owner"),
    N_("Owner type"),
    N_("Mobile"),
    N_("ID number"),
    N_("Date of birth"),
    N_("Tenant"),
    N_("Tenant phone"),
    N_("Paying party"),
    N_("Occupancy"),
    N_("Notes"),
    N_("Zone"),
    N_("Other contacts"),
)


def export_rows(
    units: list[UnitView], *, mask: bool, people: dict[str, list] | None = None
) -> list[list[object]]:
    """The roster as export rows under EXPORT_HEADERS (cells as text, dates as ``date``);
    ``people``: each unit's contacts by code."""
    return list(iter_export_rows(units, mask=mask, people=people))


def iter_export_rows(
    units: list[UnitView], *, mask: bool, people: dict[str, list] | None = None
) -> Iterator[list[object]]:
    """``export_rows`` one row at a time."""
    people = people or {}
    for u in units:
        phones = cells.mask_phones(u.phones) if mask else u.phones
        tenant_phones = cells.mask_phones(u.tenant_phones) if mask else u.tenant_phones
        id_number = cells.mask_id(u.id_number) if mask else u.id_number
        yield (
            [
                u.code,
                u.building,
                u.entrance,
                u.room,
                u.floor,
                kind_label(u.kind),
                _area(u.area_x100),
                u.area_basis if u.area_x100 is not None else "",
                _area(u.inner_area_x100),
                date.fromisoformat(u.delivered_on) if u.delivered_on else None,
                u.owner,
                _(PARTY_KINDS[u.owner_kind]) if u.owner_kind in PARTY_KINDS else "",
                phones,
                id_number,
                date.fromisoformat(u.birthday) if u.birthday else None,
                u.tenant,
                tenant_phones,
                _(FIELDS["tenant"])
                if u.payer == "tenant"
                else (_(FIELDS["owner"]) if u.owner else ""),
                _("vacant") if u.vacant else _("lived in"),
                u.notes,
                u.zone,
                contacts.cell_text(people.get(u.code, []), mask=mask),
            ]
        )


def _area(value: int | None) -> Decimal | None:
    return None if value is None else hundredths_to_decimal(value)


def export_units(
    conn: sqlite3.Connection,
    path: Path,
    *,
    mask: bool,
    building: str | None = None,
    kind: str | None = None,
    title: workbook.Title | None = None,
) -> int:
    """Write the current roster to ``path`` (.xlsx or .csv); return the number of units. The
    workbook opens with ``title``; it has no 合计 row, so it imports back as it is. Its rows
    are written as they are made (``xlsxstream.write_table``), never held as cells."""
    units = list_units(conn, building=building, kind=kind)
    people = contacts.contacts_by_code(conn)
    headers = [_(h) for h in EXPORT_HEADERS]
    text = ("Unit code", "Building", "Entrance", "Room", "Floor", "Mobile", "ID number")
    text_columns = tuple(_(h) for h in (*text, "Tenant phone", "Other contacts"))
    kinds = {
        _("Billing area"): workbook.NUMBER,
        _("Inner area"): workbook.NUMBER,
        _("Delivery date"): workbook.DATE,
        _("Date of birth"): workbook.DATE,
    }
    title = title or workbook.Title("", "")
    if path.suffix.lower() != ".xlsx":
        workbook.write_table(
            path, headers, export_rows(units, mask=mask, people=people), title=title,
            sheet=_("Owner roster"), text_columns=text_columns, kinds=kinds, totals=False,
        )  # fmt: skip
        return len(units)
    # every other column holds text (or nothing): declared, its kind is not read from the rows
    declared = {**{h: workbook.TEXT for h in headers if h not in text_columns}, **kinds}
    xlsxstream.write_table(
        path,
        headers,
        lambda: iter_export_rows(units, mask=mask, people=people),
        title=title,
        sheet=_("Owner roster"),
        kinds=declared,
        text_columns=text_columns,
        totals=False,
    )
    return len(units)


def has_units(conn: sqlite3.Connection) -> bool:
    """Whether the roster holds any unit yet."""
    return store.has_units(conn)
