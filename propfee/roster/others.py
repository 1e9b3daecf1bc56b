"""Files other systems ship beside their rosters that list no units: a vehicle list (pigcms
``village_import_vehicle_add.xls``) and estate settings (pigcms ``village_sample.xls``).

Given to ``import-units`` they import as shipped (exit 0): a vehicle list attaches each plate
to the notes of the unit it names (车位编号 is a unit code on record) or of the units its 车主 owns
(name and phone on record), and names the rows nothing matched; estate settings are named for
what they are, with the command or setting that takes what they hold, and nothing is written.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

import propfee.roster.store as store
from propfee.core.errors import RowError, RowErrors
from propfee.core.i18n import _, ngettext
from propfee.files import cells
from propfee.files.headers import norm_header
from propfee.files.tabular import Sheet, column_letter
from propfee.store import audit

VEHICLES, SETTINGS = "vehicles", "settings"

#: headers that make a sheet estate settings rather than a roster
_SETTINGS = (("小区名称", "物业公司名称"), ("小区名称", "物业费平米单价"))
#: a vehicle list's columns: field -> the headers it goes by
_VEHICLE_COLUMNS = {
    "province": ("省份", "省"),
    "plate": ("车牌号码", "车牌号", "车牌"),
    "space": ("车位编号", "车位号", "车位"),
    "name": ("车主姓名", "车主", "姓名"),
    "phone": ("车主手机号", "车主电话", "手机号", "联系电话", "电话"),
}
#: headers that make a sheet with a plate column a unit roster after all (HC 车位信息)
_ROSTER_WORDS = ("面积", "业主编号", "房号", "房间")
_PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{5,6}$")


@dataclass
class OtherFile:
    """A file that lists no units: what it is, its sheet, header row and columns."""

    kind: str
    sheet: Sheet
    header_row: int
    columns: dict[str, int] = field(default_factory=dict)  # field -> column index


class NotARoster(Exception):
    def __init__(self, other: OtherFile):
        super().__init__(other.kind)
        self.other = other


def recognise(sheets: list[Sheet]) -> OtherFile | None:
    """A one-sheet file whose header is estate settings or a vehicle list, else None."""
    shown = [s for s in sheets if not s.hidden]
    if len(shown) != 1:
        return None
    sheet = shown[0]
    for number, row in sheet.rows():
        headers = [norm_header(c) for c in row]
        present = set(headers)
        if any(all(norm_header(h) in present for h in pair) for pair in _SETTINGS):
            return OtherFile(SETTINGS, sheet, number)
        columns = _vehicle_columns(headers)
        if "plate" in columns and not any(w in h for h in present for w in _ROSTER_WORDS):
            return OtherFile(VEHICLES, sheet, number, columns)
        if number >= 10:
            return None
    return None


def _vehicle_columns(headers: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for name, words in _VEHICLE_COLUMNS.items():
        for word in words:
            if norm_header(word) in headers:
                columns[name] = headers.index(norm_header(word))
                break
    return columns


def settings_warning(file: str) -> str:
    return _(
        "{file} is estate settings (小区名称, 物业公司, fee unit prices), not a roster: nothing "
        "was imported. Put the estate's name, address, company and phone in propfee.toml "
        "[estate] (name, address, company, phone); set up the property fee, water, power, gas "
        "and parking prices as fee items with `propfee fees add`; the login and password are "
        "not kept"
    ).format(file=file)


@dataclass
class _Plate:
    row: int
    plate: str
    units: list[int]


def attach_plates(conn: sqlite3.Connection, file: str, other: OtherFile, now: datetime) -> tuple:
    """Add each plate to the notes of the units it belongs to; (plates attached, warnings).
    A plate that is not a plate on a row that matched is refused (RowErrors)."""
    units = {row[1]: (row[0], row[12] or "") for row in store.units_on_record(conn)}
    owned: dict[tuple[str, str], list[int]] = {}
    for unit_id, role, *rest in store.current_holders(conn):
        if role == "owner":
            name, phones = rest[4], rest[6]
            for phone in (phones or "").split("/"):
                owned.setdefault((name, phone), []).append(unit_id)
    found, unmatched, errors = _read_plates(file, other, units, owned)
    if errors:
        raise RowErrors(errors)
    notes = {uid: text for uid, text in units.values()}
    changed: dict[int, str] = {}
    plates: list[tuple[int, str]] = []
    for one in found:
        for uid in one.units:
            text = changed.get(uid, notes[uid])
            if one.plate not in text:
                changed[uid] = (text + "；" if text else "") + _("plate {plate}").format(
                    plate=one.plate
                )
                plates.append((uid, one.plate))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    store.set_unit_notes(conn, [(text, stamp, uid) for uid, text in changed.items()])
    call = audit.current()
    operator, source = (call.operator if call else ""), f"import {file}"
    day = now.date().isoformat()
    events = [(uid, None, "unit-set", "plate", "", plate, day) for uid, plate in plates]
    store.insert_unit_events(  # each plate in the unit's change history, with its file
        conn, [(*event, "", operator, stamp, source) for event in events]
    )
    warnings = []
    if unmatched:
        rows = "、".join(str(n) for n in unmatched[:10]) + ("…" if len(unmatched) > 10 else "")
        warnings.append(
            ngettext(
                "{file} is a vehicle list: {n} row matched no unit or owner on record "
                "(row {rows}), its plate was not attached; import the units and owners first "
                "(车位编号 must be a unit code, 车主 an owner's name and phone), then this file",
                "{file} is a vehicle list: {n} rows matched no unit or owner on record "
                "(rows {rows}), their plates were not attached; import the units and owners "
                "first (车位编号 must be a unit code, 车主 an owner's name and phone), then this "
                "file",
                len(unmatched),
            ).format(file=file, n=len(unmatched), rows=rows)
        )
    return len(changed), warnings


def _read_plates(file: str, other: OtherFile, units: dict, owned: dict) -> tuple:
    columns, sheet = other.columns, other.sheet
    found: list[_Plate] = []
    unmatched: list[int] = []
    errors: list[RowError] = []

    def cell(row: list, name: str) -> str:
        index = columns.get(name)
        return cells.without_note(cells.text(row[index])) if index is not None else ""

    for number, row in sheet.rows():
        if number <= other.header_row or all(cells.is_blank(c) for c in row):
            continue
        raw = cell(row, "plate")
        if not raw:
            continue
        space, name, phone = cell(row, "space"), cell(row, "name"), cell(row, "phone")
        matched = [units[space][0]] if space in units else owned.get((name, phone), [])
        if not matched:
            unmatched.append(number)
            continue
        plate = re.sub(r"[\s\-·.]", "", cell(row, "province") + raw).upper()
        if not _PLATE.match(plate) or len(set(plate[2:])) == 1:  # 皖A-xxxxx: a placeholder
            column = column_letter(columns["plate"] + sheet.first_column)
            errors.append(
                RowError(
                    file,
                    sheet.name,
                    number,
                    f"{sheet_header(sheet, other, 'plate')} ({column})",
                    plate,
                    _("not a licence plate such as 粤B12345"),
                )
            )
            continue
        found.append(_Plate(number, plate, matched))
    return found, unmatched, errors


def sheet_header(sheet: Sheet, other: OtherFile, name: str) -> str:
    for number, row in sheet.rows():
        if number == other.header_row:
            return cells.text(row[other.columns[name]])
    return name
