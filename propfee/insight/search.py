"""Search (propfee search): one box over owners (name, phones), units (code, notes),
complaints and their events, contacts (notes, reasons) and the notes kept with payments and
installment plans.

Words of three characters or more go through the FTS5 trigram index, which finds 漏水严重
inside 卫生间漏水严重. Trigrams cannot see a word of one or two characters (王, 漏水): then every
searched column is read with LIKE, newest rows first, stopping at the limit. The roster (names,
phones — a tail 1234 inside 13812341234 — and unit codes) is always read that way: it is as
large as the estate and has no index (see migration m012_search_index). Every word must appear
(in any of a row's columns). What is shown is masked (phones, ID numbers) unless the caller
asks otherwise.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.core.privacy import mask_in_text, mask_phones
from propfee.insight import searchstore

#: the kinds searched, with their labels (``_()`` where shown)
KINDS = {
    "owner": N_("owner"),
    "unit": N_("unit"),
    "complaint": N_("complaint"),
    "contact": N_("contact record"),
    "note": N_("note"),
}
# where each kind is looked for: (table, columns read directly, or None for the table's
# columns in the search index); the roster is read directly, everything else has an index
SOURCES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "party": ("party", ("name", "phones")),
    "unit": ("unit", ("code",)),
    "unit_notes": ("unit", None),
    "complaint": ("complaint", None),
    "complaint_event": ("complaint_event", None),
    "contact": ("contact", None),
    "payment": ("payment", None),
    "plan": ("plan", None),
}
SOURCES_OF = {
    "owner": ("party",),
    "unit": ("unit",),
    "complaint": ("complaint", "complaint_event"),
    "contact": ("contact",),
    "note": ("unit_notes", "payment", "plan"),
}
MAX_LIMIT = 1000
SNIPPET_BEFORE, SNIPPET_AFTER = 12, 24  # characters shown around the match


@dataclass
class Hit:
    kind: str  # owner | unit | complaint | contact | note
    label: str  # in the reader's language: owner, tenant, unit, complaint, repair, contact, note
    unit: str
    day: str
    snippet: str
    command: str
    ref: str  # what the command shows: a unit code, a case number, a plan number …


@dataclass
class Found:
    text: str
    words: list[str]
    method: str  # "fts" (the trigram index) or "like" (the tables read)
    hits: list[Hit] = field(default_factory=list)
    more: bool = False  # there were more than the limit


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    kinds: list[str] | None = None,
    limit: int = 50,
    mask: bool = True,
) -> Found:
    """What matches ``text`` (every word of it), grouped by kind, newest first in each."""
    words = _words(text)
    chosen = _kinds(kinds)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue(
            _("--limit {n}: must be between 1 and {most}").format(n=limit, most=MAX_LIMIT)
        )
    use_index = all(len(w) >= 3 for w in words) and searchstore.index_ready(conn)
    found = Found(text=text, words=words, method="fts" if use_index else "like")
    for source in (s for kind in chosen for s in SOURCES_OF[kind]):
        table, scanned = SOURCES[source]
        if scanned is None and use_index:
            ids = searchstore.fts_ids(conn, table, words, limit + 1)
        else:
            columns = scanned or searchstore.indexed_columns(table)
            ids = searchstore.like_ids(conn, table, columns, words, limit + 1)
        found.more = found.more or len(ids) > limit
        found.hits.extend(READERS[source](conn, ids[:limit], words, mask))
    # a case's opening event repeats its description: one line for the two
    found.hits = list({(h.kind, h.ref, h.snippet): h for h in found.hits}.values())
    order = list(KINDS)
    found.hits.sort(key=lambda h: h.day, reverse=True)
    found.hits.sort(key=lambda h: order.index(h.kind))
    if len(found.hits) > limit:
        found.hits, found.more = found.hits[:limit], True
    return found


def _words(text: str) -> list[str]:
    words = list(dict.fromkeys(text.split()))
    if not words:
        raise InvalidValue(
            _(
                "nothing to search for: give words, a name, a unit code or a phone number's last digits"
            )
        )
    if any(len(w) > 100 for w in words):
        raise InvalidValue(_("the search is too long: at most 100 characters a word"))
    return words


def _kinds(kinds: list[str] | None) -> list[str]:
    if not kinds:
        return list(KINDS)
    wrong = [k for k in kinds if k not in KINDS]
    if wrong:
        raise InvalidValue(
            _("--kind {kind}: use {kinds} ({labels})").format(
                kind=wrong[0],
                kinds=" | ".join(KINDS),
                labels=_(", ").join(f"{k} {_(label)}" for k, label in KINDS.items()),
            )
        )
    return list(dict.fromkeys(kinds))


def _shown(mask: bool) -> Callable[[str], str]:
    """Free text as it may be shown: phone and ID numbers in it masked, unless not asked."""
    if not mask:
        return lambda value: value
    return lambda value: str(mask_in_text(value)) if value else value


def snippet(value: str, words: list[str]) -> str:
    """The part of ``value`` around the first word found in it, on one line."""
    flat = " ".join(value.split())
    lower = flat.lower()
    at = min((i for i in (lower.find(w.lower()) for w in words) if i >= 0), default=-1)
    if at < 0:
        at = 0
    start = max(at - SNIPPET_BEFORE, 0)
    end = min(at + SNIPPET_AFTER + max(len(w) for w in words), len(flat))
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _holds(value: str, words: list[str]) -> bool:
    lower = value.lower()
    return any(w.lower() in lower for w in words)


def _first_holding(texts: list[str], words: list[str]) -> str:
    return next((t for t in texts if t and _holds(t, words)), next((t for t in texts if t), ""))


# ---------------------------------------------------------------- what each table shows


def _owners(conn, ids, words, mask) -> list[Hit]:
    if not ids:
        return []
    held: dict[int, list[tuple[str, str, str]]] = {}
    for party_id, code, role, start in searchstore.holdings(conn, ids):
        held.setdefault(party_id, []).append((code, role, start))
    hits = []
    for party_id, name, phones, _kind in searchstore.parties(conn, ids):
        holdings = held.get(party_id, [])
        codes = [code for code, _, _ in holdings]
        owner = any(role == "owner" for _, role, _ in holdings) or not holdings
        phones_shown = mask_phones(phones) if mask else phones
        text = f"{name} {phones_shown}".strip()
        unit = _(", ").join(codes[:3]) + (
            _(" ({n} units in all)").format(n=len(codes)) if len(codes) > 3 else ""
        )
        hits.append(
            Hit(
                "owner",
                _("owner") if owner else _("tenant"),
                unit,
                min((start for _, _, start in holdings if start), default=""),
                snippet(text, words),
                f"propfee owners show {codes[0] if codes else name}",
                codes[0] if codes else name,
            )
        )
    return hits


def _units(conn, ids, words, mask) -> list[Hit]:
    return [
        Hit("unit", _("unit"), code, delivered, code, f"propfee units show {code}", code)
        for _id, code, _notes, delivered in searchstore.units(conn, ids)
    ]


def _unit_notes(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    return [
        Hit(
            "note",
            _("note"),
            code,
            delivered,
            snippet(show(notes), words),
            f"propfee units show {code}",
            code,
        )
        for _id, code, notes, delivered in searchstore.units(conn, ids)
    ]


def _complaints(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    hits = []
    for (
        _id,
        number,
        code,
        opened,
        kind,
        description,
        name,
        phone,
        category,
    ) in searchstore.complaints(conn, ids):
        reporter = f"{name} {mask_phones(phone) if mask else phone}".strip()
        text = _first_holding([description, reporter, category], words)
        label = _("complaint") if kind == "complaint" else _("repair")
        hits.append(
            Hit(
                "complaint",
                label,
                code,
                opened[:10],
                f"{number} " + snippet(show(text), words),
                f"propfee complain show {number}",
                number,
            )
        )
    return hits


def _events(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    hits = []
    for _id, number, code, at, kind, note, assignee in searchstore.complaint_events(conn, ids):
        text = _first_holding([note, assignee], words)
        label = _("complaint") if kind == "complaint" else _("repair")
        hits.append(
            Hit(
                "complaint",
                label,
                code,
                at[:10],
                f"{number} " + snippet(show(text), words),
                f"propfee complain show {number}",
                number,
            )
        )
    return hits


def _contacts(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    hits = []
    for _id, code, at, _channel, note, reason in searchstore.contacts(conn, ids):
        text = _first_holding([note, reason], words)
        hits.append(
            Hit(
                "contact",
                _("contact record"),
                code,
                at[:10],
                snippet(show(text), words),
                f"propfee contact list {code} --since {at[:10]}",
                code,
            )
        )
    return hits


def _payments(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    hits = []
    for _id, code, paid_on, receipt, note in searchstore.payments(conn, ids):
        hits.append(
            Hit(
                "note",
                _("note"),
                code,
                paid_on,
                (_("receipt {number} ").format(number=receipt) if receipt else "")
                + snippet(show(note), words),
                f"propfee statement {code} --from {paid_on}",
                receipt or code,
            )
        )
    return hits


def _plans(conn, ids, words, mask) -> list[Hit]:
    show = _shown(mask)
    return [
        Hit(
            "note",
            _("note"),
            code,
            signed_on,
            _("instalment plan no. {number} ").format(number=plan_id) + snippet(show(note), words),
            f"propfee plan show {plan_id}",
            str(plan_id),
        )
        for plan_id, code, signed_on, note in searchstore.plans(conn, ids)
    ]


READERS = {
    "party": _owners,
    "unit": _units,
    "unit_notes": _unit_notes,
    "complaint": _complaints,
    "complaint_event": _events,
    "contact": _contacts,
    "payment": _payments,
    "plan": _plans,
}
