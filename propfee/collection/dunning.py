"""Reminders (催缴) and the contact log.

``remind`` takes every overdue party at its tier and produces what that tier asks for: a
message (gentle), a line on the call list with a call script (call), a numbered 催缴通知书
(notice), a line on the list for legal review (legal). Each is logged as a contact with its
full text — a letter as awaiting delivery until ``deliver`` records the proof that makes the
demand count (民法典 第195条). At most one reminder per (unit, tier, oldest unpaid bill): a
re-run produces nothing new unless forced. No message is produced in the quiet hours, nor
more often than the settings allow (LEGAL rule 10).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shlex
import sqlite3
import subprocess
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import chain
from pathlib import Path

from propfee.collection import store
from propfee.collection.arrears import HISTORY_LABELS, HOLDS, TIERS, OverdueRow, overdue
from propfee.collection.latefee import demand_of, late_fees, rate_text
from propfee.collection.limitation import clocks
from propfee.core import lawful
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.gcpause import no_gc
from propfee.core.i18n import N_, _, zh
from propfee.core.money import decimal_str, format_money, price_str
from propfee.files import workbook
from propfee.files.render import documents, printed_alone, render
from propfee.payments.ledger import unit_id_of
from propfee.roster.payers import responsible_party
from propfee.roster.units import building_label, natural_key, print_key

CHANNELS = ("phone", "visit", "sms", "wechat", "letter", "registered-mail", "email")
OUTCOMES = ("reached", "promised", "dispute", "hardship", "refused", "unreachable", "resolved")
REASONS = ("forgot", "dispute", "hardship", "refusal", "other")
# labels: _() where shown to staff, zh() in the lists and documents that stay Chinese
REASON_LABELS = {
    "forgot": N_("forgot to pay"),
    "dispute": N_("service dispute"),
    "hardship": N_("financial hardship"),
    "refusal": N_("refuses to pay"),
    "other": N_("other reason"),
}
CHANNEL_LABELS = {
    "phone": N_("phone"),
    "visit": N_("visit"),
    "sms": N_("SMS"),
    "wechat": N_("WeChat"),
    "letter": N_("letter"),
    "registered-mail": N_("registered mail"),
    "email": N_("email"),
    "call-list": N_("call list"),
    "legal-review": N_("legal review list"),
}
OUTCOME_LABELS = {
    "reached": N_("reached"),
    "promised": N_("promised"),
    "dispute": N_("service dispute"),
    "hardship": N_("financial hardship"),
    "refused": N_("refused to pay"),
    "unreachable": N_("not reached"),
    "resolved": N_("dispute resolved"),
    "sent": N_("sent"),
    "failed": N_("send failed"),
    "prepared": N_("to be sent"),
    "awaiting-delivery": N_("awaiting delivery"),
    "listed": N_("listed"),
    "thanked": N_("thanked"),
    "plan-signed": N_("installment agreement signed"),
}


def label(labels: dict[str, str], key: str | None, tr=_) -> str:
    """The label of ``key`` in ``labels`` in the reader's language (``tr=zh``: in Chinese);
    an unknown or empty key as it is."""
    return tr(labels[key]) if key in labels else (key or "")


#: why a reminder run skipped a party (the keys of ``RemindReport.skipped``), for display
SKIP_LABELS = {
    "the developer (reminded by letter)": N_("the developer (reminded by letter)"),
    "already reminded at this tier": N_("already reminded at this tier"),
    "messaged too recently": N_("messaged too recently"),
    "quiet hours": N_("quiet hours"),
    "no phone": N_("no phone"),
}


def check_overdue_filters(tier: str | None, by: str | None, reason: str | None) -> None:
    """The filters of an overdue list: a tier or hold, a grouping, a recorded reason."""
    if tier and tier not in (*TIERS, *HOLDS):
        raise InvalidValue(
            _("--tier must be one of {names}").format(names=", ".join((*TIERS, *HOLDS)))
        )
    if by not in (None, "building"):
        raise InvalidValue(_("--by takes: building"))
    if reason and reason not in REASONS:
        raise InvalidValue(_("--reason must be one of {names}").format(names=", ".join(REASONS)))


def check_tiers(tiers: list[str]) -> None:
    """The tiers a reminder run is limited to."""
    for name in tiers:
        if name not in TIERS:
            raise InvalidValue(_("--tier must be one of {names}").format(names=", ".join(TIERS)))


# ---------------------------------------------------------------- the contact log


@dataclass
class ContactEntry:
    id: int
    unit: str
    at: str
    channel: str
    outcome: str
    reason: str
    promise_on: str | None
    tier: str
    notice_no: str | None
    deadline_on: str | None
    amount_fen: int | None
    addressee: str
    phone: str
    content: str
    staff: str
    note: str
    source: str
    deliveries: list[tuple[str, str, str]] = field(default_factory=list)  # day, proof, staff


def add_contact(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    channel: str,
    outcome: str,
    at: datetime,
    now: datetime,
    settings,
    reason: str = "",
    promise_on: date | None = None,
    note: str = "",
    staff: str = "",
    content: str = "",
) -> ContactEntry:
    """Log a call, visit or message by staff. Append-only."""

    reason = _checked_reason(channel, outcome, reason, promise_on, at, now)
    unit_id = _unit_id(conn, unit_code)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    party = responsible_party(conn, unit_id, at.date(), settings, stamp)
    name, phones = store.party_name_phones(conn, party)
    oldest = store.oldest_open_bill(conn, unit_id)
    when = at.isoformat(sep=" ", timespec="seconds")
    promised = promise_on.isoformat() if promise_on else None
    same = store.same_staff_contact(
        conn, unit_id, when, channel, outcome, reason, promised, note, content
    )
    if same is not None:  # the same contact logged again: nothing new
        return list_contacts(conn, contact_id=same)[0]
    contact_id = store.insert_staff_contact(
        conn,
        (
            unit_id,
            party,
            when,
            channel,
            outcome,
            reason,
            promised,
            oldest,
            name,
            (phones or "").split("/")[0],
            content,
            staff,
            note,
            stamp,
        ),
    )
    return list_contacts(conn, contact_id=contact_id)[0]


#: contacts that reach a person at the moment they are made: warned of in the quiet hours
_IN_PERSON = ("phone", "visit", "sms", "wechat")


def contact_warnings(settings, channel: str, at: datetime, content: str = "") -> list[str]:
    """What staff are told about a contact they log — which is recorded all the same, as it
    happened: made in the quiet hours (LEGAL rule 10), or a text sent that says what rule 1
    forbids."""
    warnings = []
    rules = settings.dunning
    if channel in _IN_PERSON and rules.quiet(at.time()):
        warnings.append(
            _(
                "{at} is in the quiet hours ({start}–{end}): no dunning at night "
                "(LEGAL rule 10); recorded as it happened"
            ).format(at=f"{at:%Y-%m-%d %H:%M}", start=rules.quiet_start, end=rules.quiet_end)
        )
    phrase = lawful.threat(content)
    if phrase is not None:
        warnings.append(
            _("--content says “{phrase}”: {rule} ({text}); recorded as it happened").format(
                phrase=phrase, rule=lawful.RULE_1, text=lawful.RULE_1_TEXT
            )
        )
    return warnings


_IMPLIED_REASONS = {"dispute": "dispute", "hardship": "hardship", "refused": "refusal"}


def _checked_reason(
    channel: str,
    outcome: str,
    reason: str,
    promise_on: date | None,
    at: datetime,
    now: datetime,
) -> str:
    """Check a contact's values; its reason, the one its outcome implies when none is given."""
    if channel not in CHANNELS:
        raise InvalidValue(_("--channel must be one of {names}").format(names=", ".join(CHANNELS)))
    if outcome not in OUTCOMES:
        raise InvalidValue(_("--outcome must be one of {names}").format(names=", ".join(OUTCOMES)))
    if reason and reason not in REASONS:
        raise InvalidValue(_("--reason must be one of {names}").format(names=", ".join(REASONS)))
    if outcome == "promised" and promise_on is None:
        raise InvalidValue(_("a promise to pay needs --promise-date"))
    if promise_on is not None and outcome != "promised":
        raise InvalidValue(_("--promise-date goes with --outcome promised"))
    if promise_on is not None and promise_on < at.date():
        raise InvalidValue(
            _("--promise-date {day} is before the contact ({contact})").format(
                day=promise_on, contact=at.date()
            )
        )
    if at > now + timedelta(minutes=5):
        raise InvalidValue(_("--at {at} is in the future").format(at=f"{at:%Y-%m-%d %H:%M}"))
    implied = _IMPLIED_REASONS.get(outcome)
    if implied and reason and reason != implied:
        raise InvalidValue(
            _("--outcome {outcome} goes with --reason {implied}, not {reason}").format(
                outcome=outcome, implied=implied, reason=reason
            )
        )
    return reason or _IMPLIED_REASONS.get(outcome, "")


def deliver(
    conn: sqlite3.Connection,
    notice_no: str,
    *,
    proof: str,
    on: date,
    now: datetime,
    staff: str = "",
) -> ContactEntry:
    """Record the proof that a notice was delivered (a signature, an EMS or registered-mail
    number, a message receipt): from then the demand counts."""
    if not proof.strip():
        raise InvalidValue(_("--proof is required: a signature, EMS or registered-mail number …"))
    found = store.contacts_of_notice(conn, notice_no.strip())
    if not found:
        raise NotFound(_("no notice {notice!r}").format(notice=notice_no))
    made = found[0][1][:10]
    if on.isoformat() < made:
        raise InvalidValue(
            _("delivered on {day}, before the notice was made ({made})").format(day=on, made=made)
        )
    if on > now.date():
        raise InvalidValue(_("delivered on {day}, which is in the future").format(day=on))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    already = store.delivery_of_proof(conn, found[0][0], proof.strip())
    if already:
        if already[0] == on.isoformat():  # the same proof recorded again: nothing new
            return list_contacts(conn, contact_id=found[0][0])[0]
        raise InvalidValue(
            _("proof {proof!r} is already recorded for {notice} on {day}").format(
                proof=proof.strip(), notice=notice_no, day=already[0]
            )
        )
    store.insert_deliveries(
        conn, [(cid, on.isoformat(), proof.strip(), staff, stamp) for cid, _at in found]
    )
    return list_contacts(conn, contact_id=found[0][0])[0]


def list_contacts(
    conn: sqlite3.Connection,
    *,
    unit_code: str | None = None,
    contact_id: int | None = None,
    since: date | None = None,
    party_id: int | None = None,
) -> list[ContactEntry]:
    entries = [
        ContactEntry(*row)
        for row in store.contact_rows(
            conn,
            party_id=party_id,
            unit_id=_unit_id(conn, unit_code) if unit_code is not None else None,
            contact_id=contact_id,
            since=since.isoformat() if since is not None else None,
        )
    ]
    if entries:
        ids = {e.id: e for e in entries}
        for cid, day, proof, staff in store.deliveries_of(conn, list(ids)):
            ids[cid].deliveries.append((day, proof, staff))
    return entries


def contact_text(last, tr=_) -> str:
    """「2026-11-09 16:00 电话 承诺缴费」 for lists and tables: ``tr`` is ``_`` for staff at
    the terminal, ``zh`` for a list that stays Chinese."""
    if last is None:
        return ""
    outcome = label(OUTCOME_LABELS, last.outcome, tr)
    if getattr(last, "delivered", None):
        outcome = tr(N_("delivered ({day})")).format(day=last.delivered)
    return f"{last.at[:16]} {label(CHANNEL_LABELS, last.channel, tr)} {outcome}"


def _unit_id(conn: sqlite3.Connection, unit_code: str) -> int:

    return unit_id_of(conn, unit_code)


# ---------------------------------------------------------------- reminders


@dataclass
class RemindReport:
    as_of: str
    produced: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("gentle", "call", "notice", "legal", "thanks"), 0)
    )
    skipped: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # notice numbers made
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _context(settings, as_of: date) -> dict:
    """What every reminder shows: who the company is and how to pay (as plain dicts, which
    templates read fastest)."""
    return {
        "estate": dataclasses.asdict(settings.estate),
        "payment": dataclasses.asdict(settings.payment),
        "as_of": as_of.isoformat(),
    }


_HISTORY_RANK = {"none": 0, "good": 1, "occasional": 2, "chronic": 3}


@dataclass
class PartyDue:
    """One responsible party's overdue units that a reminder run takes up together: one
    message, one call, one letter per party, however many units it holds."""

    tier: str
    rows: list[OverdueRow]

    @property
    def first(self) -> OverdueRow:
        return self.rows[0]

    @property
    def unit_ids(self) -> list[int]:
        return [r.unit_id for r in self.rows]

    @property
    def units(self) -> str:
        rows = self.rows
        if len(rows) == 1:  # most parties hold one unit
            return rows[0].unit
        return "、".join(sorted((r.unit for r in rows), key=natural_key))

    @property
    def outstanding_fen(self) -> int:
        return sum(r.outstanding_fen for r in self.rows)

    @property
    def days(self) -> int:
        return max(r.days_overdue for r in self.rows)

    @property
    def history(self) -> str:
        return max((r.history for r in self.rows), key=_HISTORY_RANK.__getitem__)

    @property
    def reason(self) -> str:
        return next((r.reason for r in self.rows if r.reason), "")

    def context(self, *, letter: bool = False) -> dict:
        """What the templates see; ``letter`` adds the letter's table rows."""
        rows = self.rows
        bills = [
            {
                "unit": row.unit,
                "period": b.period,
                "item": b.item,
                "covers_from": b.covers_from,
                "covers_to": b.covers_to,
                "due_on": b.due_on,
                "owed_fen": b.owed_fen,
                "basis": b.basis,
                "periods": 1,
                "each_fen": b.owed_fen,
                "last_due": b.due_on,
            }
            for row in rows
            for b in row.bills
        ]
        if len(rows) == 1:  # most parties: the row's own figures
            row = rows[0]
            context = {
                "unit": row.unit,
                "units": row.unit.split("、"),
                "payer": row.payer,
                "business": row.business,
                "history": row.history,
                "late_periods": row.late_periods,
                "outstanding_fen": row.outstanding_fen,
                "oldest_due": row.oldest_due,
                "days": row.days_overdue,
                "tier": self.tier,
                "reason": row.reason,
                "follow_up": row.follow_up,
                "delivered_on": row.delivered_on or "",
                "bills": bills,
            }
        else:
            bills.sort(key=lambda b: (b["due_on"], b["unit"]))
            units = self.units
            context = {
                "unit": units,
                "units": units.split("、"),
                "payer": rows[0].payer,
                "business": any(r.business for r in rows),
                "history": self.history,
                "late_periods": max(r.late_periods for r in rows),
                "outstanding_fen": sum(r.outstanding_fen for r in rows),
                "oldest_due": min(r.oldest_due for r in rows),
                "days": max(r.days_overdue for r in rows),
                "tier": self.tier,
                "reason": self.reason,
                "follow_up": any(r.follow_up for r in rows),
                "delivered_on": max((r.delivered_on or "" for r in rows), default=""),
                "bills": bills,
            }
        if letter:
            lines = context["lines"] = letter_lines(bills)
            context["summary"] = _summary(lines) if len(lines) > LETTER_LINES else None
        return context


LETTER_LINES = 18  # more rows than this: the letter sums per item and an annex lists them


def _summary(lines: list[dict]) -> list[dict]:
    """Per fee item: the units, the first and last day, the periods and the amount."""
    items: dict[str, dict] = {}
    for line in lines:
        entry = items.setdefault(
            line["item"],
            {
                "item": line["item"],
                "units": set(),
                "covers_from": line["covers_from"],
                "covers_to": line["covers_to"],
                "periods": 0,
                "owed_fen": 0,
            },
        )
        entry["units"].add(line["unit"])
        entry["covers_from"] = min(entry["covers_from"], line["covers_from"])
        entry["covers_to"] = max(entry["covers_to"], line["covers_to"])
        entry["periods"] += line["periods"]
        entry["owed_fen"] += line["owed_fen"]
    for entry in items.values():
        entry["units"] = len(entry["units"])
    return list(items.values())


def letter_lines(bills: list[dict], limit: int = LETTER_LINES) -> list[dict]:
    """The rows of a letter's table: one per bill, or — when there are more than ``limit`` —
    runs of back-to-back periods of the same unit, item and amount in one row that still
    states the amount of each period (LEGAL rule 2) and keeps a letter on one page."""
    if len(bills) <= limit:
        return bills
    lines = bills
    merged: list[dict] = []
    for line in sorted(lines, key=lambda b: (b["unit"], b["item"], b["covers_from"])):
        last = merged[-1] if merged else None
        if (
            last is not None
            and (last["unit"], last["item"], last["each_fen"], last["basis"])
            == (line["unit"], line["item"], line["each_fen"], line["basis"])
            and line["covers_from"] == _day_after(last["covers_to"])
        ):
            last["covers_to"] = line["covers_to"]
            last["last_due"] = line["due_on"]
            last["periods"] += 1
            last["owed_fen"] += line["owed_fen"]
        else:
            merged.append(dict(line))
    return sorted(merged, key=lambda b: (b["due_on"], b["unit"], b["item"]))


@lru_cache(maxsize=1024)  # a run's letters end their periods on a few hundred days
def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _by_party(rows: list[OverdueRow], tiers: list[str] | None, report) -> list[PartyDue]:
    """Group the overdue rows by responsible party; a party is reminded at the highest tier
    among its units. Units on hold (a dispute, a promise not yet due) are left out."""

    groups: dict[object, list[OverdueRow]] = {}
    for row in rows:
        if row.tier not in TIERS:
            report.skip(f"held: {row.tier}")
            continue
        key = row.party_id if row.party_id is not None else ("unit", row.unit_id)
        groups.setdefault(key, []).append(row)
    parties = []
    for members in groups.values():
        members.sort(key=lambda r: (-r.days_overdue, r.unit))
        tier = max((r.tier for r in members), key=TIERS.index)
        if tiers and tier not in tiers:
            continue
        parties.append(PartyDue(tier, members))
    parties.sort(key=lambda p: print_key(r.unit for r in p.rows))  # letters, calls: print order
    return parties


def remind(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    at: time,
    now: datetime,
    settings,
    out_dir: Path | None,
    tiers: list[str] | None = None,
    force: bool = False,
    send_cmd: str | None = None,
    language: str = "zh",
    dry_run: bool = False,
    thanks: bool = False,
    staff: str = "",
    by_building: bool = False,
) -> RemindReport:
    """Produce and log the reminders due as of ``as_of`` (inside the caller's transaction);
    ``by_building`` writes the letters one file per building."""
    settings.dunning.check_floors(settings.source or "内置设置")
    with no_gc():  # rows, letters and contacts make no cycles (see core/gcpause)
        run = _Reminders(
            conn,
            as_of=as_of,
            at=at,
            now=now,
            settings=settings,
            force=force,
            language=language,
            dry_run=dry_run,
            staff=staff,
        )
        # messages are sent last, once everything else is rendered, logged and written: a run
        # that fails never leaves a message sent and unlogged
        if thanks:
            _thanks(conn, as_of, settings, run.report, run.pending, run.quiet, language, run.common)
        else:
            run.remind_overdue(tiers, out_dir, by_building)
        run.send_messages(send_cmd, thanks, out_dir)
        run.finish()
    return run.report


class _Reminders:
    """One reminder run: what it reads once, what it produces party by party, and the
    contacts it logs."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        as_of: date,
        at: time,
        now: datetime,
        settings,
        force: bool,
        language: str,
        dry_run: bool,
        staff: str,
    ):
        self.conn = conn
        self.as_of = as_of
        self.settings = settings
        self.rules = rules = settings.dunning
        self.force = force
        self.language = language
        self.dry_run = dry_run
        self.staff = staff
        self.report = RemindReport(as_of.isoformat(), dry_run=dry_run)
        self.day = as_of.isoformat()
        # what every letter of the run says alike: its last day to pay, its late fee clause
        self.deadline = (as_of + timedelta(days=rules.deadline_days)).isoformat()
        self.late_fee_rule = _late_fee_rule(settings)
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.at_text = datetime.combine(as_of, at).isoformat(sep=" ", timespec="seconds")
        self.quiet = rules.quiet(at)
        self.common = _context(settings, as_of)
        self.last_message = store.last_message_days(conn)
        self.done_keys = store.reminded_keys(conn)
        self.last_listed = store.last_listed_days(conn)
        self.limit = (as_of - timedelta(days=rules.min_days_between)).isoformat()
        self.pending: list[tuple[str, str, dict]] = []  # (phone, text, log entry)
        self.rows: list[OverdueRow] = []
        self.calls: list[tuple[PartyDue, str, dict]] = []
        self.letters: deque[dict] = deque()  # made, not yet handed on
        self.legal: list[PartyDue] = []
        self.bases: dict[tuple, dict] = {}
        self.late: dict | None = None
        self.no_phone: list[str] = []
        self.contacts: list[tuple] = []  # logged, not yet inserted: see flush
        self.last_notice: int | None = None  # the year's last notice number, once read
        # letters made, logged once their text as printed is known: (letter, its log entry,
        # what rule 2 asks of it) by the letter itself (a template may change what a letter
        # holds, never which letter it is)
        self.unprinted: dict[int, tuple[dict, dict, lawful.FormalNotice]] = {}

    CONTACT_BATCH = 5000

    def flush(self) -> None:
        """Insert the contacts logged so far, in the order they were logged."""
        if self.contacts:
            store.insert_remind_contacts(self.conn, self.contacts)
            self.contacts = []

    def next_notice(self) -> str:
        """The next notice number of the year, taken in memory (the run holds the write
        transaction) and recorded by finish."""
        year = self.as_of.year
        if self.last_notice is None:
            self.last_notice = store.notice_counter(self.conn, year)
        self.last_notice += 1
        return f"{self.rules.notice_prefix}{year}-{self.last_notice:04d}"

    def finish(self) -> None:
        """Insert the contacts still pending and record the last notice number taken."""
        self.flush()
        if self.last_notice is not None:
            store.set_notice_counter(self.conn, self.as_of.year, self.last_notice)

    def may_message(self, party_id, *, letter: bool = False) -> bool:
        """No more than one message or letter in min_days_between days; a letter also waits
        that long after the party was put on the call list (the call comes first)."""
        last = self.last_message.get(party_id)
        if last is not None and last > self.limit:
            return False
        listed = self.last_listed.get(party_id)
        return not (
            letter
            and listed is not None
            and listed > self.limit
            and listed < self.day
        )

    def log(
        self,
        unit_ids: list[int],
        party_id,
        *,
        channel: str,
        outcome: str,
        tier: str,
        content: str,
        bill_ids: list | None = None,
        notice_no=None,
        deadline=None,
        amounts: list | None = None,
        addressee="",
        phone="",
    ) -> None:
        """One contact per unit, each with the full text that went out (LEGAL rule 3);
        inserted in batches (see flush)."""
        self.contacts.extend(
            [
                (
                    unit_id,
                    party_id,
                    self.at_text,
                    channel,
                    outcome,
                    tier,
                    bill_ids[index] if bill_ids else None,
                    notice_no,
                    deadline,
                    amounts[index] if amounts else None,
                    addressee,
                    phone,
                    content,
                    self.staff,
                    int(self.force),
                    self.stamp,
                )
                for index, unit_id in enumerate(unit_ids)
            ]
        )
        if len(self.contacts) >= self.CONTACT_BATCH:
            self.flush()

    def remind_overdue(
        self, tiers: list[str] | None, out_dir: Path | None, by_building: bool = False
    ) -> None:
        """Every overdue party at its tier: a message, a call, a letter or a legal review.
        The letters go into their file as they are made (see letters_as_made)."""
        conn, as_of, settings, report = self.conn, self.as_of, self.settings, self.report
        _unused_log_template(settings, self.language, report)
        self.rows = rows = overdue(conn, as_of=as_of, settings=settings)
        _limitation_first(conn, rows, as_of, settings, report)
        letters = self.letters_as_made(_by_party(rows, tiers, report))
        if out_dir is not None and not self.dry_run:
            _write_outputs(
                out_dir,
                settings,
                as_of,
                self.language,
                self.common,
                self.calls,
                letters,
                self.legal,
                report,
                by_building,
                made_at=datetime.fromisoformat(self.stamp),
                notice_of=self.formal_of,
                printed=self.printed,
            )
        else:
            deque(letters, maxlen=0)  # every party reminded, nothing written
        self.log_unprinted()

    def formal_of(self, letter: dict) -> lawful.FormalNotice:
        """What the gate checks the letter's HTML for: made with the letter (see letter),
        before any template could change what the letter holds."""
        return self.unprinted[id(letter)][2]

    def printed(self, letter: dict, text: str) -> None:
        """Log the letter with its text as printed (LEGAL rule 3: the full content sent),
        once the gate has passed it."""
        _letter, entry, _notice = self.unprinted.pop(id(letter))
        self.log(**entry, content=text)

    def log_unprinted(self) -> None:
        """Log the letters not printed on their own — none written (a dry run), left out by
        the template or printed together with others — each with its own text, as the
        letters' template prints it alone (through the gate, as any letter)."""
        name = f"{self.language}/notice_letter.html"
        for letter, entry, notice in self.unprinted.values():
            text = printed_alone(
                self.settings, name, self.common, each="letters", part=letter, notice=notice
            )
            self.log(**entry, content=text)
        self.unprinted.clear()

    def letters_as_made(self, parties: list[PartyDue]) -> Iterator[dict]:
        """Remind each party in turn, handing on each letter as it is made: the letters'
        file is written while the run goes on, and a letter is let go once it is written."""
        for party in parties:
            self.remind_party(party)
            while self.letters:
                yield self.letters.popleft()
        if self.no_phone:
            no_phone = self.no_phone
            shown = "、".join(no_phone[:10]) + ("…" if len(no_phone) > 10 else "")
            self.report.warnings.append(
                _("no phone on record, no message: {units}").format(units=shown)
            )

    def held_back(self, party: PartyDue) -> str | None:
        """Why the party gets nothing this run, if it does not."""
        first, tier = party.first, party.tier
        if first.developer and tier in ("gentle", "call"):
            return "the developer (reminded by letter)"
        # at most one reminder per (unit, tier, oldest unpaid bill); when any unit of the
        # party is due one, the reminder covers all of the party's arrears
        # a follow-up call after a delivered letter, and the gentle reminder once more after
        # "forgot", are due once each whatever came before at that tier (the contact log says
        # when they are done)
        if (
            not self.force
            and not any(r.limitation or r.follow_up or r.once_more for r in party.rows)
            and all((r.unit_id, tier, r.oldest_bill_id) in self.done_keys for r in party.rows)
        ):
            return "already reminded at this tier"
        if tier in ("gentle", "notice") and not self.may_message(
            first.party_id, letter=tier == "notice"
        ):  # --force does not lift this
            return "messaged too recently"
        if tier == "gentle":
            if self.quiet:
                return "quiet hours"
            if not first.phone:
                return "no phone"
        return None

    def remind_party(self, party: PartyDue) -> None:
        """What the party's tier asks for, logged."""
        reason = self.held_back(party)
        if reason is not None:
            self.report.skip(reason)
            if reason == "no phone":
                self.no_phone.append(party.units)
            return
        first, tier = party.first, party.tier
        r = party.context(letter=tier == "notice")
        context = {**self.common, "r": r}
        entry = {
            "unit_ids": party.unit_ids,
            "party_id": first.party_id,
            "tier": tier,
            "bill_ids": [row.oldest_bill_id for row in party.rows],
            "amounts": [row.outstanding_fen for row in party.rows],
            "addressee": first.payer,
            "phone": first.phone,
        }
        if tier == "gentle":
            self.message(party, context, entry)
        elif tier == "call":
            self.call(party, context, entry, r)
        elif tier == "notice":
            self.letter(party, context, entry)
        else:
            self.legal_review(party, entry)
        if tier != "gentle":
            self.report.produced[tier] += 1

    def message(self, party: PartyDue, context: dict, entry: dict) -> None:
        """A message, sent at the end of the run."""
        first = party.first
        text = " ".join(render(self.settings, f"{self.language}/remind_sms.txt", context).split())
        self.pending.append((first.phone, text, entry))
        self.last_message[first.party_id] = self.day

    def call(self, party: PartyDue, context: dict, entry: dict, r: dict) -> None:
        """A line on the call list, with its script."""
        script = render(self.settings, f"{self.language}/call_script.txt", context)
        self.calls.append((party, script, r))
        self.log(**entry, channel="call-list", outcome="listed", content=script)

    def letter(self, party: PartyDue, context: dict, entry: dict) -> None:
        """A numbered 催缴通知书, awaiting proof of delivery."""
        conn, as_of, settings, deadline = self.conn, self.as_of, self.settings, self.deadline
        first = party.first
        number = self.next_notice()
        if self.late is None:
            self.late = _late_fees_by_bill(conn, self.rows, as_of, settings)
        late = self.late
        fee = demand_of(
            [late[b.id] for row in party.rows for b in row.bills if b.id in late],
            settings.late_fee,
        )
        letter = {
            **context,
            "notice_no": number,
            "deadline": deadline,
            "basis": _fee_basis(conn, party, as_of, self.bases),
            "late_fee_fen": fee.demanded_fen,
            "late_fee_clause_fen": fee.clause_fen,
            "late_fee_capped_fen": fee.capped_fen,
            "late_fee_cap": fee.cap_at_ceiling,
            "late_fee_rule": self.late_fee_rule,
            "building": min(party.rows, key=lambda r: natural_key(r.unit)).building
            if len(party.rows) > 1
            else first.building,
        }
        self.letters.append(letter)
        self.unprinted[id(letter)] = (
            letter,
            dict(
                entry,
                channel="letter",
                outcome="awaiting-delivery",
                notice_no=number,
                deadline=deadline,
            ),
            formal(letter),
        )
        self.last_message[first.party_id] = self.day
        self.report.notices.append(number)
        if first.developer and first.payer == "开发建设单位":
            self.report.warnings.append(
                _("a letter to the developer has no name: set estate.developer in the settings")
            )

    def legal_review(self, party: PartyDue, entry: dict) -> None:
        """A line on the list for legal review."""
        first = party.first
        self.legal.append(party)
        text = (
            f"{party.units} {first.payer} {format_money(party.outstanding_fen)} 逾期{party.days}天"
        )
        self.log(**entry, channel="legal-review", outcome="listed", content=text)

    def send_messages(self, send_cmd: str | None, thanks: bool, out_dir: Path | None) -> None:
        """Send (or prepare) the messages, log each one sent, and write them to a CSV."""
        report, dry_run = self.report, self.dry_run
        sms_rows = []
        for phone, text, entry in self.pending:
            if send_cmd and not dry_run and not _send(send_cmd, phone, text, report):
                continue  # not logged: the next run tries again
            sms_rows.append((phone, text))
            self.log(
                **entry,
                channel="sms",
                outcome=("thanked" if thanks else "sent")
                if send_cmd
                else ("thanked" if thanks else "prepared"),
                content=text,
            )
            report.produced["thanks" if thanks else "gentle"] += 1
        if out_dir is not None and not dry_run and sms_rows:
            name = "thanks.csv" if thanks else "sms.csv"
            out_dir.mkdir(parents=True, exist_ok=True)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(["phone", "message"])
            writer.writerows(sms_rows)
            _private(out_dir / name, buffer.getvalue())
            report.files.append(out_dir / name)


def formal(letter: dict) -> lawful.FormalNotice:
    """What the gate checks a letter's text for (LEGAL rule 2): its deadline, and every row's
    period and amount per period."""
    return lawful.FormalNotice(
        letter["deadline"],
        tuple(
            lawful.NoticeLine((b["period"], b["covers_from"], b["covers_to"]), b["each_fen"])
            for b in letter["r"]["lines"]
        ),
    )


def _late_fees_by_bill(conn, rows: list[OverdueRow], as_of: date, settings) -> dict:
    """Each overdue bill's late fee line (none without a clause: LEGAL rule 7)."""
    if not settings.late_fee.has_clause:
        return {}

    ids = [b.id for row in rows for b in row.bills]
    return {
        line.bill_id: line for line in late_fees(conn, as_of=as_of, settings=settings, bill_ids=ids)
    }


def _late_fee_rule(settings) -> str:
    if not settings.late_fee.has_clause:
        return ""

    return f"按合同约定{rate_text(settings.late_fee.rate)}计"


def _unused_log_template(settings, language: str, report: RemindReport) -> None:
    """An office's own notice_letter.txt, which earlier versions logged beside each letter:
    the log now keeps the letter's text as printed, so the file is no longer read."""
    folder = settings.template_path
    if folder is not None and (Path(folder) / language / "notice_letter.txt").exists():
        report.warnings.append(
            _(
                "{path} is no longer used: the contact log keeps each letter's text as printed "
                "from notice_letter.html"
            ).format(path=Path(folder) / language / "notice_letter.txt")
        )


def _limitation_first(conn, rows: list[OverdueRow], as_of: date, settings, report) -> None:
    """A debt whose 3-year clock ends within the warning days gets a written notice first —
    only its proved delivery restarts the clock (民法典 第195条) — whatever its tier, a
    dispute aside (warned of). Periods already time-barred are left out of every reminder."""

    found = clocks(
        conn,
        as_of=as_of,
        settings=settings,
        within=settings.dunning.limitation_warn_days,
        rows=rows,
    )
    if not found:
        return
    barred = {c.bill_id for c in found if c.barred}
    near = {(c.unit_id, c.party_id) for c in found if not c.barred}
    disputed = lettered = left_out = 0
    for row in rows:
        if barred & {b.id for b in row.bills}:
            kept = [b for b in row.bills if b.id not in barred]
            left_out += len(row.bills) - len(kept)
            row.bills = kept
            if kept:
                row.outstanding_fen = sum(b.owed_fen for b in kept)
                row.oldest_due = kept[0].due_on
                row.days_overdue = kept[0].days
        if (row.unit_id, row.party_id) not in near or not row.bills:
            continue
        if row.tier in ("gentle", "call", "notice", "legal"):
            row.tier = "notice"
            row.limitation = True
            lettered += 1
        elif row.tier == "dispute":
            disputed += 1
    rows[:] = [r for r in rows if r.bills]
    if lettered:
        report.warnings.append(
            _(
                "{n} debt(s) near the end of their limitation clock get a letter: deliver it "
                "with proof (signature, EMS, registered mail) and record it with propfee "
                "contact deliver — only a proved delivery restarts the clock"
            ).format(n=lettered)
        )
    if disputed:
        report.warnings.append(
            _(
                "{n} disputed unit(s) have bills whose limitation clock ends within {days} "
                "days; a written notice keeps the claim (propfee overdue --limitation)"
            ).format(n=disputed, days=settings.dunning.limitation_warn_days)
        )
    if left_out:
        report.warnings.append(
            _(
                "{n} time-barred period(s) left out of the reminders (propfee overdue "
                "--limitation lists them)"
            ).format(n=left_out)
        )


def _send(command: str, phone: str, text: str, report: RemindReport) -> bool:
    """Run the estate's SMS gateway script: phone and text as arguments, the text on stdin."""
    try:
        result = subprocess.run(
            [*shlex.split(command), phone, text],
            input=text,
            text=True,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.failed.append(f"{phone}: {exc}")
        return False
    if result.returncode != 0:
        report.failed.append(f"{phone}: exit {result.returncode} {result.stderr.strip()[:100]}")
        return False
    report.sent += 1
    return True


def _fee_basis(conn: sqlite3.Connection, party: PartyDue, as_of: date, cache: dict) -> dict:
    """The fee standard the bills rest on (明码标价): every published price that applied to
    some of the letter's billing periods, with the day it took effect and the day it was
    published; bills carried over from an earlier system are said to be so. Made once for
    each set of items and periods (a run's letters share a few), read-only like the rest of
    what every letter shows."""
    if "prices" not in cache:
        cache["prices"] = _published_prices(conn, as_of)
    bills = frozenset(
        (b.item, b.covers_from, b.covers_to, b.basis.startswith("期初"))
        for row in party.rows
        for b in row.bills
    )
    basis = cache.get(bills)
    if basis is None:
        basis = cache[bills] = _basis_of(bills, cache["prices"])
    return basis


def _basis_of(bills: frozenset[tuple[str, str, str, bool]], prices: dict) -> dict:
    """_fee_basis for bills given as (item, covers from, covers to, carried over)."""
    items, carried = [], False
    names = sorted({item for item, _from, _to, _carried in bills})
    for name in names:
        spans = [(frm, to) for item, frm, to, old in bills if item == name and not old]
        carried = carried or any(old for item, _from, _to, old in bills if item == name)
        for since, until, price, published in prices.get(name, ()):
            if any(frm <= until and to >= since for frm, to in spans):
                items.append(
                    {"name": name, "price": price, "since": since, "published_on": published}
                )
    return {
        "published_on": max((i["published_on"] for i in items), default=""),
        "item_names": names,
        "items": items,
        "carried_over": carried,
    }


def _published_prices(conn: sqlite3.Connection, as_of: date) -> dict[str, list[tuple]]:
    """Each fee item's published prices: (from, until, "2.50元/㎡·月", published on)."""
    found: dict[str, list[tuple]] = {}
    rows = store.published_price_rows(conn, as_of.isoformat())
    for index, (name, price, label, since, published) in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        until = (
            (date.fromisoformat(following[3]) - timedelta(days=1)).isoformat()
            if following and following[0] == name
            else "9999-12-31"
        )
        billable = max(since, published)  # a price is billed only once published
        found.setdefault(name, []).append(
            (billable, until, price_str(price) + (label or ""), published)
        )
    return found


def _thanks(conn, as_of, settings, report, pending, quiet, language, common) -> None:
    """A thank-you to every party that cleared its arrears since its last reminder: one
    message per party, once."""
    still = {r.party_id for r in overdue(conn, as_of=as_of, settings=settings)}
    end = f"{as_of.isoformat()} 23:59:59"
    thanked = store.last_thanks(conn)
    due = []
    for party_id, last, name, phones, party_kind, developer, unit_ids in store.reminded_parties(
        conn, end
    ):
        if party_id in still or developer:
            continue
        if thanked.get(party_id) is not None and thanked[party_id] >= last:
            continue
        phone = (phones or "").split("/")[0]
        if quiet:
            report.skip("quiet hours")
            continue
        if not phone:
            report.skip("no phone")
            continue
        due.append((party_id, name, phone, party_kind, sorted(json.loads(unit_ids))))
    codes = store.unit_codes_by_id(conn, {u for *_, unit_ids in due for u in unit_ids})
    for party_id, name, phone, party_kind, unit_ids in due:
        text = " ".join(
            render(
                settings,
                f"{language}/thanks_sms.txt",
                {
                    **common,
                    "payer": name,
                    "unit": "、".join(sorted(codes[u] for u in unit_ids)),
                    "business": party_kind == "company",
                },
            ).split()
        )
        entry = {
            "unit_ids": unit_ids,
            "party_id": party_id,
            "tier": "thanks",
            "addressee": name,
            "phone": phone,
        }
        pending.append((phone, text, entry))


def _private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(
        fd, "w", encoding="utf-8-sig" if path.suffix == ".csv" else "utf-8", newline=""
    ) as handle:
        handle.write(text)


def _write_outputs(
    out_dir: Path,
    settings,
    as_of: date,
    language: str,
    common: dict,
    calls: list[tuple[PartyDue, str, dict]],
    letters: Iterator[dict],
    legal: list[PartyDue],
    report: RemindReport,
    by_building: bool = False,
    made_at: datetime | None = None,
    notice_of=formal,
    printed=None,
) -> None:
    """The run's files: the letters (one file per building with ``by_building``), the call
    list and its scripts, the legal review list. ``letters`` come as the run makes them (the
    calls and the legal review are complete once they are all made). Each letter passes the
    gate on its way into its file; a refusal leaves no file of the run."""
    groups = _letter_groups(letters, by_building)
    if not (groups or calls or legal):
        return
    with documents(out_dir) as files:
        paths = []
        for building, group in groups:
            name = f"催缴通知书-{as_of.isoformat()}{'-' + building if building else ''}.html"
            files.write(
                settings,
                f"{language}/notice_letter.html",
                {**common, "letters": group},
                out_dir / name,
                each="letters",
                notices=notice_of,
                printed=printed,
            )
            paths.append(out_dir / name)
        deque(letters, maxlen=0)  # a template that stops early: the rest are still reminded
        title = workbook.Title(settings.estate.name, "", as_of=as_of, produced_at=made_at)
        if calls:
            _write_call_list(out_dir, calls, as_of, report, title)
        report.files.extend(paths)
        if legal:
            _write_legal_review(out_dir, legal, report, title)


def _letter_groups(letters: Iterator[dict], by_building: bool) -> list[tuple[str, Iterable]]:
    """The letters' files: by building (each letter in print order, so all are made first),
    or one file read from ``letters`` as they come — none when no letter is made."""
    if by_building:
        groups: dict[str, list[dict]] = {}
        for letter in letters:
            groups.setdefault(building_label(letter["building"]), []).append(letter)
        return list(groups.items())
    first = next(letters, None)
    return [] if first is None else [("", chain([first], letters))]


_CALL_LIST_HEADERS = [
    "房号",
    "缴费人",
    "电话",
    "欠费金额",
    "最早欠费",
    "逾期天数",
    "欠费明细",
    "缴费记录",
    "最近联系",
    "已记录原因",
    "跟进事项",
    "名单日期",
    # filled in by staff after the calls, read back by propfee contact import
    "联系结果",
    "未缴原因",
    "承诺缴费日期",
    "联系时间",
    "备注",
]


def _write_call_list(
    out_dir: Path,
    calls: list[tuple[PartyDue, str, dict]],
    as_of: date,
    report: RemindReport,
    title: workbook.Title,
) -> None:
    """call-list.xlsx and .csv, one line per party in print order, with blank columns for the
    result of each call (read back by ``propfee contact import``), and the call scripts."""
    rows = []
    for party, _script, r in calls:
        detail = "；".join(
            f"{b['unit']} {b['period']} {b['item']} {decimal_str(b['owed_fen'])}"
            for b in r["bills"]
        )
        last = max(
            (row.last_contact for row in party.rows if row.last_contact),
            key=lambda c: c.at,
            default=None,
        )
        rows.append(
            [
                party.units,
                party.first.payer,
                party.first.phone,
                Decimal(decimal_str(party.outstanding_fen)),
                r["oldest_due"],
                party.days,
                detail,
                f"{label(HISTORY_LABELS, party.history, zh)}（12个月内逾期{r['late_periods']}期）",
                contact_text(last, zh),
                label(REASON_LABELS, party.reason, zh),
                _call_purpose(party, r),
                as_of.isoformat(),
                "",
                "",
                "",
                "",
                "",
            ]
        )
    for suffix in (".xlsx", ".csv"):
        path = out_dir / f"call-list{suffix}"
        workbook.write_table(
            path,
            _CALL_LIST_HEADERS,
            rows,
            title=workbook.Title(title.estate, zh("Call list"), "", title.as_of, title.produced_at),
            sheet="电话回访",
            text_columns=("房号", "电话"),
            kinds={"最早欠费": workbook.DATE, "名单日期": workbook.DATE},
            totals=False,  # read back by propfee contact import: no line that is not a call
        )
        report.files.append(path)
    scripts = "\n\n".join(script.strip() for _party, script, _r in calls) + "\n"
    _private(out_dir / "call-scripts.txt", scripts)
    report.files.append(out_dir / "call-scripts.txt")


def _call_purpose(party: PartyDue, r: dict) -> str:
    """What the call is for, beyond the arrears: the follow-up of a delivered letter, a plan
    offered to who is in hardship."""
    purposes = []
    if r["follow_up"]:
        purposes.append(f"催缴通知书送达后回访（{r['delivered_on']}送达）")
    if party.reason == "hardship":
        purposes.append("经济困难：协商分期缴费")
    return "；".join(purposes)


_LEGAL_REVIEW_HEADERS = [
    "房号",
    "缴费人",
    "电话",
    "欠费金额",
    "最早欠费",
    "逾期天数",
    "催缴通知书已送达且逾期",
    "拒绝缴费",
    "记录的原因",
    "联系次数",
    "最近联系",
    "最近结果",
    "已发催缴通知书",
]


def legal_review_history(party: PartyDue) -> list:
    """The reasons recorded, the contact history (count, last contact, its outcome) and the
    letters sent (and delivered) of a party put up for legal review, over all its units."""
    reasons = list(dict.fromkeys(reason for row in party.rows for reason in row.reasons))
    # a reminder to a party with several units is logged once per unit: count it once
    contacts = sorted({c[:3]: c for row in party.rows for c in row.contacts}.values())
    letters = {c[0]: c[3] for c in contacts if c[1] == "letter"}
    last = contacts[-1] if contacts else None
    return [
        "、".join(label(REASON_LABELS, reason, zh) for reason in reasons),
        len(contacts),
        f"{last[0][:16]} {label(CHANNEL_LABELS, last[1], zh)}" if last else "",
        (f"已送达（{last[3]}）" if last[3] else label(OUTCOME_LABELS, last[2], zh)) if last else "",
        f"{len(letters)}份（已送达{sum(1 for d in letters.values() if d)}份）" if letters else "",
    ]


def _write_legal_review(
    out_dir: Path, legal: list[PartyDue], report: RemindReport, title: workbook.Title
) -> None:
    """legal-review.xlsx: the parties whose arrears go to legal review, with what was heard
    from them and how they were contacted."""
    headers = _LEGAL_REVIEW_HEADERS
    rows = [
        [
            p.units,
            p.first.payer,
            p.first.phone,
            Decimal(decimal_str(p.outstanding_fen)),
            min(r.oldest_due for r in p.rows),
            p.days,
            "是" if any(r.notice_deadline_passed for r in p.rows) else "",
            "是" if p.reason == "refusal" else "",
            *legal_review_history(p),
        ]
        for p in legal
    ]
    path = out_dir / "legal-review.xlsx"
    workbook.write_table(
        path,
        headers,
        rows,
        title=workbook.Title(title.estate, zh("Legal review"), "", title.as_of, title.produced_at),
        sheet="法律程序审核",
        text_columns=("房号", "电话"),
        kinds={"最早欠费": workbook.DATE},
    )
    report.files.append(path)


__all__ = ["PropfeeError", "add_contact", "deliver", "list_contacts", "remind"]
