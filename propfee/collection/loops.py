"""Closing the reminder loops: what came back from the SMS gateway and from the phone.

``mark_sms`` reads the gateway's delivery report (CSV or workbook: a phone and a status per
line, often a time) and marks each SMS still awaiting news sent or failed — as a status event
beside the contact, which never changes. ``import_calls`` reads back the call list a reminder
run wrote, once staff have filled in its result columns, and logs each filled line as a
phone contact with its outcome, reason and promise. Both check the whole file first: a bad
cell is named by row and column and nothing is written; a re-run changes nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from propfee.collection import loopstore, store
from propfee.collection.dunning import OUTCOME_LABELS, REASON_LABELS, label
from propfee.core.errors import InvalidValue, RowError, RowErrors
from propfee.core.i18n import _, zh
from propfee.core.privacy import mask_phone
from propfee.files import cells
from propfee.files.headers import norm_header
from propfee.files.records import Record, read_records
from propfee.roster.payers import Payers


def _words(text: str) -> tuple[str, ...]:
    """The words of a list written as one line: the spellings a column or a status goes by."""
    return tuple(text.split())


# ---------------------------------------------------------------- the SMS delivery report

SMS_FIELDS = {
    "phone": _words("手机号 手机号码 号码 接收号码 接收手机 被叫号码 电话 phone mobile msisdn"),
    "status": _words("状态 发送状态 回执状态 状态报告 回执 发送结果 status report result"),
    "at": ("时间", "发送时间", "回执时间", "报告时间", "送达时间", "提交时间", "time", "send time"),
    "detail": _words("状态说明 状态码 错误码 失败原因 说明 描述 备注 error description"),
}
_SENT = _words("成功 发送成功 已送达 送达 成功送达 接收成功 已接收 delivrd delivered success ok")
_FAILED = _words(
    "失败 发送失败 未送达 送达失败 接收失败 空号 停机 关机 拒收 黑名单 超时 undeliv undelivered "
    "expired rejectd rejected failed fail error"
)
_WAITING = _words("发送中 等待回执 待发送 已提交 提交成功 未知 pending accepted acceptd unknown")
SMS_STATUS = {
    **{norm_header(w): "sent" for w in _SENT},
    **{norm_header(w): "failed" for w in _FAILED},
    **{norm_header(w): "" for w in _WAITING},  # no final news yet
}


@dataclass
class SmsMarks:
    sent: int = 0  # contacts marked sent
    failed: int = 0
    already: int = 0  # phones whose messages were marked already (a re-run)
    waiting: int = 0  # lines with no final status yet
    unknown: list[str] = field(default_factory=list)  # phones with no SMS on record (masked)


@dataclass(frozen=True)
class _Receipt:
    status: str
    at: datetime | None
    detail: str


def mark_sms(conn: sqlite3.Connection, path: Path, *, now: datetime) -> SmsMarks:
    """Mark each SMS awaiting news sent or failed from the gateway's delivery report (inside
    the caller's transaction). A phone's final status is ``sent`` if any line says so, else
    ``failed``; it marks that phone's latest messages logged at or before the report's time."""
    receipts, waiting = _read_receipts(path, now)
    marks = SmsMarks(waiting=waiting)
    by_phone: dict[str, list[tuple]] = {}
    for row in loopstore.sms_contacts_of_phones(conn, list(receipts)):
        by_phone.setdefault(row[1], []).append(row)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    new = []
    for phone, receipt in receipts.items():
        contacts = by_phone.get(phone)
        if not contacts:
            marks.unknown.append(mask_phone(phone))
            continue
        batch = _latest_batch(contacts, receipt.at)
        if not batch:
            marks.already += 1
            continue
        at = (receipt.at or now).isoformat(sep=" ", timespec="seconds")
        new.extend(
            (cid, receipt.status, at, f"回执 {path.name}", receipt.detail, stamp) for cid in batch
        )
        if receipt.status == "sent":
            marks.sent += len(batch)
        else:
            marks.failed += len(batch)
    loopstore.insert_statuses(conn, new)
    return marks


def _latest_batch(contacts: list[tuple], at: datetime | None) -> list[int]:
    """The phone's latest messages (one reminder run logs one per unit, all at one time) at or
    before ``at``, if none of them is marked yet."""
    limit = at.isoformat(sep=" ", timespec="seconds") if at else "9999"
    before = [c for c in contacts if c[2] <= limit]
    if not before:
        return []
    latest = before[-1][2]
    batch = [c for c in before if c[2] == latest]
    return [] if any(c[3] is not None for c in batch) else [c[0] for c in batch]


def _read_receipts(path: Path, now: datetime) -> tuple[dict[str, _Receipt], int]:
    """Each phone's final receipt, and how many lines carried no final status yet."""
    lines: dict[str, list[_Receipt]] = {}
    errors: list[RowError] = []
    waiting = 0
    records = read_records(
        path, SMS_FIELDS, required=[("phone",), ("status",)], what="SMS delivery report"
    )
    for record in records:
        try:
            phone, receipt = _receipt(record, now)
        except _CellError as bad:
            errors.append(record.error(path.name, bad.field, bad.message))
            continue
        if receipt is None:
            waiting += 1
            continue
        lines.setdefault(phone, []).append(receipt)
    if errors:
        raise RowErrors(errors)
    return {phone: _final(found) for phone, found in lines.items()}, waiting


def _receipt(record: Record, now: datetime) -> tuple[str, _Receipt | None]:
    raw_phone = record.values.get("phone")
    try:
        phones = cells.phones(raw_phone)
    except InvalidValue:
        phones = []
    if len(phones) != 1:
        raise _CellError("phone", _("not one mobile number"))
    word = norm_header(cells.text(record.values.get("status")))
    if word not in SMS_STATUS:
        raise _CellError(
            "status",
            _(
                "a status not understood (expected 成功/失败/DELIVRD/UNDELIV/已送达/发送失败 "
                "or the like)"
            ),
        )
    at = _when(record, "at", now)
    status = SMS_STATUS[word]
    detail = cells.text(record.values.get("detail"))
    return phones[0], (_Receipt(status, at, detail) if status else None)


def _final(receipts: list[_Receipt]) -> _Receipt:
    """Sent if any line says sent (the latest such), else the latest failure."""
    sent = [r for r in receipts if r.status == "sent"] or receipts
    return max(sent, key=lambda r: r.at or datetime.min)


class _CellError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _when(record: Record, name: str, now: datetime) -> datetime | None:
    """A date-time cell (``2026-11-10 10:05``, an Excel date-time, a date alone), not in the
    future; None when blank."""
    value = record.values.get(name)
    if cells.is_blank(value):
        return None
    if isinstance(value, datetime):
        found = value.replace(microsecond=0)
    else:
        try:
            day = cells.parse_date(value)
        except InvalidValue:
            raise _CellError(name, _("not a date and time (YYYY-MM-DD HH:MM)")) from None
        found = datetime.combine(day, _time_of(cells.text(value)))
    if found > now + timedelta(minutes=5):
        raise _CellError(name, _("the time is in the future"))
    return found


def _time_of(text: str) -> time:
    """The ``HH:MM[:SS]`` after a date in a cell, midnight when there is none."""
    tail = text.strip().split()[-1] if " " in text.strip() else ""
    try:
        return time.fromisoformat(tail) if tail else time(0, 0)
    except ValueError:
        raise _CellError("at", _("a time not understood (HH:MM)")) from None


# ---------------------------------------------------------------- the call list read back

CALL_FIELDS = {
    "unit": ("房号", "房屋编号", "unit"),
    "outcome": ("联系结果", "通话结果", "回访结果", "结果", "outcome"),
    "reason": ("未缴原因", "欠费原因", "本次原因", "reason"),
    "promise_on": ("承诺缴费日期", "承诺日期", "承诺缴费日", "promise date"),
    "at": ("联系时间", "通话时间", "回访时间", "called at"),
    "note": ("备注", "说明", "note"),
    "listed_on": ("名单日期", "listed on"),
}
_OUTCOME_WORDS = {
    "reached": _words("已接通 接通 已联系 联系上 已沟通 reached"),
    "promised": _words("承诺缴费 承诺 答应缴费 同意缴费 promised"),
    "refused": _words("拒绝 拒绝缴费 拒缴 拒交 refused"),
    "dispute": _words("有异议 服务争议 争议 dispute"),
    "hardship": _words("经济困难 困难 hardship"),
    "unreachable": _words(
        "无人接听 未接通 未接 空号 停机 关机 拒接 错号 号码错误 打错 未联系上 unreachable"
    ),
    "resolved": _words("已解决 争议已解决 resolved"),
}
CALL_OUTCOMES = {norm_header(w): key for key, words in _OUTCOME_WORDS.items() for w in words}
_REASON_WORDS = {
    "forgot": _words("忘记 忘记缴费 忘了 forgot"),
    "dispute": _words("服务争议 争议 对服务不满 dispute"),
    "hardship": _words("经济困难 困难 hardship"),
    "refusal": _words("拒绝缴费 拒缴 拒绝 refusal"),
    "other": _words("其他 other"),
}
CALL_REASONS = {norm_header(w): key for key, words in _REASON_WORDS.items() for w in words}
_IMPLIED = {"dispute": "dispute", "hardship": "hardship", "refused": "refusal"}


@dataclass
class CallsRead:
    logged: int = 0  # contacts logged (one per unit of a filled line)
    lines: int = 0  # filled lines
    unchanged: int = 0  # filled lines read back already
    blank: int = 0  # lines with no result yet
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome -> lines


@dataclass(frozen=True)
class _Call:
    record: Record
    codes: tuple[str, ...]
    at: datetime
    outcome: str
    reason: str
    promise_on: date | None
    note: str


def import_calls(
    conn: sqlite3.Connection,
    path: Path,
    *,
    now: datetime,
    settings,
    at: datetime | None = None,
    staff: str = "",
) -> CallsRead:
    """Log each filled line of a call list as a phone contact of each of its units (inside the
    caller's transaction). A line's time is its 联系时间, else ``at``, else its 名单日期."""
    calls, read = _read_calls(path, now, at)
    payers = Payers(conn, settings, now, codes=[code for c in calls for code in c.codes])
    units = {u.code: u for u in payers.units}
    errors = [
        c.record.error(path.name, "unit", f"没有房号 {code}")
        for c in calls
        for code in c.codes
        if code not in units
    ]
    if errors:
        raise RowErrors(errors)
    ids = [units[code].id for c in calls for code in c.codes]
    done = loopstore.call_list_contacts(conn, ids)
    oldest = loopstore.oldest_open_bills(conn, ids)
    rows, parties = _call_rows(calls, units, payers, done, oldest, read)
    names = store.parties_by_id(conn, set(parties))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    loopstore.insert_call_contacts(
        conn,
        [
            (
                *row[:7],
                _name(names.get(row[1])),
                _first_phone(names.get(row[1])),
                staff,
                row[7],
                stamp,
            )
            for row in rows
        ],
    )
    read.logged = len(rows)
    return read


def _call_rows(calls, units, payers, done, oldest, read) -> tuple[list[tuple], set[int]]:
    """(unit, party, at, outcome, reason, promise, bill, note) of each contact not logged
    already; and the parties named."""
    rows, parties = [], set()
    for call in calls:
        when = call.at.isoformat(sep=" ", timespec="seconds")
        promise = call.promise_on.isoformat() if call.promise_on else None
        new = []
        for code in call.codes:
            unit = units[code]
            key = (unit.id, when, call.outcome, call.reason, promise, call.note)
            if key in done:
                continue
            done.add(key)
            party = payers.payer_on(unit, payers.holdings.get(unit.id, ()), call.at.date())
            parties.add(party)
            new.append(
                (
                    unit.id,
                    party,
                    when,
                    call.outcome,
                    call.reason,
                    promise,
                    oldest.get(unit.id),
                    call.note,
                )
            )
        if not new:
            read.unchanged += 1
        rows.extend(new)
    return rows, parties


def _name(found) -> str:
    return found[0] if found else ""


def _first_phone(found) -> str:
    return (found[2] or "").split("/")[0] if found else ""


def _read_calls(path: Path, now: datetime, at: datetime | None) -> tuple[list[_Call], CallsRead]:
    """The filled lines of a call list, every cell checked; RowErrors naming each bad one."""
    read = CallsRead()
    calls, errors = [], []
    records = read_records(
        path, CALL_FIELDS, required=[("unit",), ("outcome",)], what="call list (电话回访名单)"
    )
    for record in records:
        try:
            call = _call(record, now, at)
        except _CellError as bad:
            errors.append(record.error(path.name, bad.field, bad.message))
            continue
        if call is None:
            read.blank += 1
            continue
        calls.append(call)
        read.lines += 1
        read.outcomes[call.outcome] = read.outcomes.get(call.outcome, 0) + 1
    if errors:
        raise RowErrors(errors)
    return calls, read


def _call(record: Record, now: datetime, at: datetime | None) -> _Call | None:
    """One line of the call list, None while its result is blank."""
    values = record.values
    word = cells.text(values.get("outcome"))
    if not word:
        filled = [f for f in ("reason", "promise_on", "at") if not cells.is_blank(values.get(f))]
        if filled:
            raise _CellError("outcome", _("other columns are filled but the contact result is not"))
        return None
    outcome = CALL_OUTCOMES.get(norm_header(word))
    if outcome is None:
        raise _CellError(
            "outcome",
            _(
                "a contact result not understood (expected 已接通/承诺缴费/拒绝/有异议/经济困难/"
                "无人接听/空号 or the like)"
            ),
        )
    codes = tuple(c for c in (cells.unit_code(p) for p in _split_units(values.get("unit"))) if c)
    if not codes:
        raise _CellError("unit", _("no unit code"))
    when = _when(record, "at", now) or at or _listed(record)
    if when is None:
        raise _CellError("at", _("no contact time: fill it in, or give --at"))
    reason = _reason(record, outcome)
    promise_on = _promise(record, outcome, when)
    note = cells.text(values.get("note"))
    if norm_header(word) not in {norm_header(label(OUTCOME_LABELS, outcome, zh)), outcome}:
        note = f"{word}；{note}" if note else word  # 空号, 无人接听 … kept as written
    return _Call(record, codes, when, outcome, reason, promise_on, note)


def _split_units(value) -> list[str]:
    return [p for p in cells.text(value).replace("，", "、").replace(",", "、").split("、")]


def _listed(record: Record) -> datetime | None:
    value = record.values.get("listed_on")
    try:
        day = cells.parse_date(value)
    except InvalidValue:
        raise _CellError("listed_on", _("not a date")) from None
    return datetime.combine(day, time(0, 0)) if day else None


def _reason(record: Record, outcome: str) -> str:
    word = cells.text(record.values.get("reason"))
    implied = _IMPLIED.get(outcome, "")
    if not word:
        return implied
    reason = CALL_REASONS.get(norm_header(word))
    if reason is None:
        known = "/".join(zh(label) for label in REASON_LABELS.values())
        raise _CellError(
            "reason", _("a reason not understood (expected {known})").format(known=known)
        )
    if implied and reason != implied:
        raise _CellError(
            "reason",
            _("does not go with the contact result (expected {reason})").format(
                reason=zh(REASON_LABELS[implied])
            ),
        )
    return reason


def _promise(record: Record, outcome: str, when: datetime) -> date | None:
    value = record.values.get("promise_on")
    try:
        day = cells.parse_date(value)
    except InvalidValue:
        raise _CellError("promise_on", _("not a date (YYYY-MM-DD)")) from None
    if outcome == "promised" and day is None:
        raise _CellError("promise_on", _("a promise to pay needs the promised date"))
    if day is not None and outcome != "promised":
        raise _CellError(
            "promise_on", _("a promised date goes only with the contact result 承诺缴费")
        )
    if day is not None and day < when.date():
        raise _CellError("promise_on", _("before the contact time {day}").format(day=when.date()))
    return day
