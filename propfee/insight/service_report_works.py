"""The notable works of a period (本期主要工作) that the office lists for the owners' service
report: a spreadsheet or CSV with the columns 日期 and 事项, or a text file of one work a line
(``2026-10-12 更换3号楼电梯钢丝绳``; the day, then a space, a tab or a comma, then the work).

The file is checked like any file handed in: every bad row is refused, naming the file, the
row and the column, and nothing is written. A work must fall inside the report's period, say
something (at most ``MAX_TEXT`` characters), and name no owner: no person's name on record, no
unit number, no mobile phone or ID number (LEGAL rule 10) — the report is posted where anyone
reads it. Nor may it say what LEGAL rule 1 forbids (the page passes the lawful gate; a planned
water stop is written as 二次供水水箱清洗, not as a threat)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from propfee.core import lawful
from propfee.core.errors import FileFormatError, InvalidValue, RowError, RowErrors
from propfee.core.i18n import _
from propfee.files.cells import parse_date, text
from propfee.files.records import read_records
from propfee.files.tabular import decode_text
from propfee.insight import service_report_store
from propfee.insight.service_report import Span, Work

MAX_TEXT = 200
MAX_ROWS = 200
FIELDS = {
    "day": ("日期", "时间", "完成日期", "date", "day"),
    "text": ("事项", "工作", "工作事项", "内容", "主要工作", "item", "work"),
}
TEXT_SUFFIXES = (".txt", ".text")
_LINE = re.compile(r"\s*(\S+?)(?:\s*[\t,，、;；]\s*|\s+)(.+?)\s*")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z#_-]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def read_works(conn: sqlite3.Connection, path: Path, span: Span) -> list[Work]:
    """The works listed in ``path``, checked; RowErrors naming every bad row."""
    rows = _text_rows(path) if path.suffix.lower() in TEXT_SUFFIXES else _table_rows(path)
    if len(rows) > MAX_ROWS:
        raise FileFormatError(
            _("{file}: {n} works listed; a report lists at most {limit}").format(
                file=path.name, n=len(rows), limit=MAX_ROWS
            )
        )
    private = _Private(conn)
    works, errors = [], []
    for sheet, row, day_cell, text_cell, labels in rows:
        day_label, text_label = labels
        try:
            day = _day(day_cell, span)
        except InvalidValue as exc:
            errors.append(RowError(path.name, sheet, row, day_label, text(day_cell), str(exc)))
            day = None
        problem = _text_problem(text(text_cell), private)
        if problem:
            errors.append(RowError(path.name, sheet, row, text_label, text(text_cell), problem))
        elif day is not None:
            works.append(Work(day, text(text_cell)))
    if errors:
        raise RowErrors(errors)
    if not works:
        raise FileFormatError(_("{file}: no works listed").format(file=path.name))
    return works


def _table_rows(path: Path) -> list[tuple]:
    """(sheet, row, day cell, text cell, (day column, text column)) of a spreadsheet or CSV."""
    return [
        (
            record.sheet,
            record.row,
            record.values.get("day"),
            record.values.get("text"),
            (record.label("day"), record.label("text")),
        )
        for record in read_records(
            path, FIELDS, required=[("day",), ("text",)], what=_("works list")
        )
    ]


def _text_rows(path: Path) -> list[tuple]:
    """(sheet, line, day, text, (day column, text column)) of a text file: one work a line; a first line of headers
    (日期 事项) and blank lines are skipped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(
            _("{path}: cannot be read ({error})").format(path=path, error=exc.strerror)
        ) from None
    if b"\x00" in data[:4096]:
        raise FileFormatError(
            _("{path}: not a spreadsheet or CSV file (binary data)").format(path=path)
        )
    rows = []
    for number, line in enumerate(decode_text(data, path).splitlines(), start=1):
        if not line.strip():
            continue
        found = _LINE.fullmatch(line)
        day, rest = (found[1], found[2]) if found else (line.strip(), "")
        if not rows and day in FIELDS["day"] and rest in FIELDS["text"]:
            continue  # the header line
        rows.append(("", number, day, rest, (_("Date"), _("Work"))))
    return rows


def _day(cell: object, span: Span):
    day = parse_date(cell)
    if day is None:
        raise InvalidValue(_("the date is missing"))
    if not span.first <= day <= span.last:
        raise InvalidValue(
            _("{day} is outside the report's period {period} ({first}～{last})").format(
                day=day, period=span.name, first=span.first, last=span.last
            )
        )
    return day


class _Private:
    """What an owner's personal data looks like in a text: the names and unit codes on record
    (read once), mobile phone and ID numbers."""

    def __init__(self, conn: sqlite3.Connection):
        names = service_report_store.person_names(conn)
        self.names = {n for n in names if len(n) >= 2}
        self.longest = max((len(n) for n in self.names), default=0)
        codes = service_report_store.unit_codes(conn)
        self.codes = {c for c in codes if _TOKEN.fullmatch(c)}
        self.other_codes = codes - self.codes  # written with other characters: few

    def found(self, value: str) -> str | None:
        """The piece of ``value`` that names an owner, or None."""
        for pattern in (_MOBILE, _ID):
            hit = pattern.search(value)
            if hit:
                return hit[0]
        for token in _TOKEN.findall(value):
            if token in self.codes:
                return token
        for code in self.other_codes:
            if code in value:
                return code
        for start in range(len(value)):
            for end in range(start + 2, min(len(value), start + self.longest) + 1):
                if value[start:end] in self.names:
                    return value[start:end]
        return None


def _text_problem(value: str, private: _Private) -> str | None:
    """Why a work's text cannot be posted, or None."""
    if not value:
        return _("the work is missing")
    if len(value) > MAX_TEXT:
        return _("longer than {limit} characters").format(limit=MAX_TEXT)
    if _CONTROL.search(value):
        return _("holds control characters")
    hit = private.found(value)
    if hit is not None:
        return _(
            "“{piece}” would name an owner (a name, unit number, phone or ID number on "
            "record): the report is posted to every owner (LEGAL rule 10)"
        ).format(piece=hit)
    phrase = lawful.threat(value)
    if phrase is not None:
        return _("{rule} does not allow “{phrase}” in a text to owners").format(
            rule=lawful.RULE_1, phrase=phrase
        )
    return None
