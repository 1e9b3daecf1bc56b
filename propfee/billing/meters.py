"""Meter readings (抄表) for metered fee items: usage = this reading − the previous one.

A reading lower than the previous one is refused unless its row marks a meter replacement
(换表); the new meter then counts from its start reading (新表起始读数, default 0). The first
reading of a meter is its baseline (usage 0) unless the row gives the previous reading
(上次读数). Re-importing the same readings changes nothing.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import propfee.billing.store as store
from propfee.core.errors import InvalidValue, RowError, RowErrors
from propfee.core.i18n import N_, _
from propfee.core.money import parse_decimal
from propfee.files import cells
from propfee.files.headers import norm_header
from propfee.files.records import read_records
from propfee.store.db import transaction

#: each meter's name as shown to staff
METER_NAMES = {
    "water": N_("water"),
    "electricity": N_("electricity"),
    "gas": N_("gas"),
    "heat": N_("heat"),
}

FIELDS = {
    "unit": ("房号", "房屋编号", "房间号", "户号", "房屋编码", "unit", "unit code"),
    "meter": ("表类型", "表计类型", "仪表类型", "表具类型", "类型", "meter", "meter type"),
    "read_on": ("抄表日期", "读数日期", "抄表时间", "日期", "read on", "date"),
    "reading": ("本次读数", "本期读数", "本月读数", "读数", "止码", "表底数", "reading"),
    "previous": ("上次读数", "上期读数", "上月读数", "起码", "previous reading"),
    "replaced": ("换表", "是否换表", "换表标记", "replaced", "meter replaced"),
    "start": ("新表起始读数", "新表底数", "新表起码", "start reading"),
}
METER_WORDS = {
    **{norm_header(w): "water" for w in ("水表", "水", "冷水", "自来水", "water")},
    **{norm_header(w): "electricity" for w in ("电表", "电", "电力", "electricity", "power")},
    **{norm_header(w): "gas" for w in ("燃气表", "燃气", "气表", "天然气", "gas")},
    **{norm_header(w): "heat" for w in ("热表", "热量表", "暖气", "heat")},
}
YES = {norm_header(w) for w in ("是", "y", "yes", "换表", "已换", "1", "true", "√", "✓")}


#: a meter shows at most this many units (a reference read as a reading is refused)
MAX_READING = 100_000_000
#: no reading is older than this
EARLIEST_READ_ON = date(2000, 1, 1)


@dataclass
class ReadingsReport:
    added: int = 0
    unchanged: int = 0
    replaced: int = 0
    usage_x1000: dict[str, int] = field(default_factory=dict)  # meter -> total usage added


def _reading(value: object, what: str) -> Decimal:
    number = parse_decimal(value, places=3, what=what, marks=("吨", "度", "kwh", "kWh", "m³", "m3"))
    if abs(number) > MAX_READING:
        raise InvalidValue(
            _("{what}: {number} is above the reading limit {limit}: check the reading").format(
                what=what, number=number, limit=f"{MAX_READING:,}"
            )
        )
    return Decimal(format(number.normalize(), "f"))  # 112.750 -> 112.75, as written


def import_readings(
    conn: sqlite3.Connection,
    path: Path,
    *,
    now: datetime,
    meter: str | None = None,
    dry_run: bool = False,
) -> ReadingsReport:
    """Read a readings file and record new readings, as one transaction."""
    rows, errors = _read(path, meter, now.date() + timedelta(days=366))
    report = ReadingsReport()
    with transaction(conn, dry_run=dry_run):
        codes = store.unit_ids_by_code(conn)
        history = _History(conn)
        stamp = now.isoformat(sep=" ", timespec="seconds")
        new = []
        for record, code, kind, read_on, reading, previous, replaced, start in sorted(
            rows, key=lambda r: (r[1], r[2], r[3])
        ):
            uid = codes.get(code)
            if uid is None:
                errors.append(
                    record.error(
                        path.name, "unit", _("no unit {code} on record").format(code=repr(code))
                    )
                )
                continue
            try:
                usage = history.usage(uid, kind, read_on, reading, previous, replaced, start)
            except _Refused as refused:
                errors.append(record.error(path.name, refused.field, refused.message))
                continue
            if usage is None:
                report.unchanged += 1
                continue
            usage_x1000 = int(usage * 1000)
            new.append(
                (
                    uid,
                    kind,
                    read_on.isoformat(),
                    str(reading),
                    usage_x1000,
                    int(replaced),
                    f"import {path.name}",
                    stamp,
                )
            )
            history.record(uid, kind, read_on, reading)
            report.added += 1
            report.replaced += int(replaced)
            report.usage_x1000[kind] = report.usage_x1000.get(kind, 0) + usage_x1000
        if errors:
            raise RowErrors(errors)
        store.insert_readings(conn, new)
    return report


class _Refused(Exception):
    """A reading that cannot be recorded: the column to blame and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class _History:
    """Each meter's readings so far — on record, then as imported: the last one of each meter
    and every (unit, meter, day) read."""

    def __init__(self, conn: sqlite3.Connection):
        self.last: dict[tuple[int, str], tuple[date, Decimal]] = {}
        self.recorded: dict[tuple[int, str, str], str] = {}
        for uid, kind, read_on, reading in store.recorded_readings(conn):
            self.last[(uid, kind)] = (date.fromisoformat(read_on), Decimal(reading))
            self.recorded[(uid, kind, read_on)] = reading

    def usage(
        self,
        uid: int,
        kind: str,
        read_on: date,
        reading: Decimal,
        previous: Decimal | None,
        replaced: bool,
        start: Decimal | None,
    ) -> Decimal | None:
        """The usage a new reading adds; None if the same reading is on record already.
        Raises ``_Refused`` for a different reading of the same day, a reading older than the
        meter's last one, or one lower than the previous reading of an unreplaced meter."""
        same_day = self.recorded.get((uid, kind, read_on.isoformat()))
        if same_day is not None:
            if Decimal(same_day) == reading:
                return None
            raise _Refused(
                "reading",
                _("a reading of {reading} is already recorded for {day}").format(
                    reading=same_day, day=read_on
                ),
            )
        before = self.last.get((uid, kind))
        if before is not None and before[0] > read_on:
            raise _Refused(
                "read_on",
                _(
                    "a later reading ({day}) is already recorded; import readings in date order"
                ).format(day=before[0]),
            )
        base = before[1] if before is not None else previous
        if replaced:
            usage = reading - (start or Decimal(0))
        elif base is None:
            usage = Decimal(0)  # the meter's first reading: its baseline
        elif reading < base:
            raise _Refused(
                "reading",
                _(
                    "lower than the previous reading {reading}; mark the row 换表 if the meter "
                    "was replaced"
                ).format(reading=base),
            )
        else:
            usage = reading - base
        if usage < 0:
            raise _Refused("reading", _("lower than the new meter's start reading"))
        return usage

    def record(self, uid: int, kind: str, read_on: date, reading: Decimal) -> None:
        self.last[(uid, kind)] = (read_on, reading)
        self.recorded[(uid, kind, read_on.isoformat())] = str(reading)


def _read(path: Path, meter: str | None, latest: date):
    rows, errors = [], []
    required = [("unit",), ("read_on",), ("reading",)] + ([] if meter else [("meter",)])
    for record in read_records(path, FIELDS, required=required, what=_("meter readings")):
        values = record.values
        bad = []
        code = cells.unit_code(values.get("unit", ""))
        if not code:
            bad.append(record.error(path.name, "unit", _("no unit code")))
        kind = meter
        raw_kind = values.get("meter", "")
        if raw_kind not in ("", None):
            kind = METER_WORDS.get(norm_header(cells.text(raw_kind)))
            if kind is None:
                bad.append(
                    record.error(path.name, "meter", _("unknown meter (水表, 电表, 燃气表, 热表)"))
                )
        elif not kind:
            bad.append(record.error(path.name, "meter", _("no meter type (or give --meter)")))
        read_on = reading = previous = start = None
        try:
            read_on = cells.parse_date(values.get("read_on", ""))
            if read_on is None:
                bad.append(record.error(path.name, "read_on", _("no reading date")))
            elif not EARLIEST_READ_ON <= read_on <= latest:
                bad.append(
                    record.error(
                        path.name,
                        "read_on",
                        _(
                            "the reading date must be between {first} and {last}: check the date"
                        ).format(first=EARLIEST_READ_ON, last=latest),
                    )
                )
        except InvalidValue as exc:
            bad.append(record.error(path.name, "read_on", str(exc)))
        try:
            reading = _reading(values.get("reading", ""), "reading")
            if reading < 0:
                raise InvalidValue(_("a reading cannot be negative"))
        except InvalidValue as exc:
            bad.append(
                record.error(path.name, "reading", re.sub(r"^reading\s*[:：]\s*", "", str(exc)))
            )
        for name in ("previous", "start"):
            raw = values.get(name, "")
            if not cells.is_blank(raw):
                try:
                    value = _reading(raw, name)
                except InvalidValue as exc:
                    bad.append(record.error(path.name, name, str(exc)))
                    continue
                if name == "previous":
                    previous = value
                else:
                    start = value
        replaced = norm_header(cells.text(values.get("replaced", ""))) in YES
        if bad:
            errors.extend(bad)
            continue
        rows.append((record, code, kind, read_on, reading, previous, replaced, start))
    return rows, errors


__all__ = ["RowError", "import_readings"]
