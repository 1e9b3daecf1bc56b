"""The printed repair work order (派工单): one A4 page a technician takes to the door — the
case number, the unit, who reported it (phone masked unless asked), what was reported, its
category, priority and deadline, who it is assigned to — with blank fields for the arrival
time, the work done, the materials used, and the owner's signature and satisfaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from propfee.core.i18n import zh
from propfee.core.privacy import mask_in_text, mask_phones
from propfee.files.render import render
from propfee.files.writers import write_text
from propfee.service import complaints, store


@dataclass
class WorkOrder:
    number: str
    unit: str
    assignee: str
    path: Path


def write_work_order(
    conn: sqlite3.Connection,
    number: str,
    out: Path,
    *,
    settings,
    mask: bool = True,
    language: str | None = None,
) -> WorkOrder:
    """Render case ``number``'s work order as A4 HTML into ``out``."""
    case = complaints.load(conn, number)
    contact_name, contact_phone, party_name, party_phones = store.reporter_of(conn, case.id)
    phone = contact_phone or (party_phones or "").split("/")[0]
    notes = [e for e in case.events if e.action in ("assign", "progress", "reopen") and e.note]
    context = {
        "estate": settings.estate,
        "case": {
            "number": case.number,
            "unit": case.unit,
            "kind": zh(complaints.KINDS[case.kind]),
            "request": case.kind == "request",
            "category": case.category,
            "channel": zh(complaints.CHANNEL_LABELS.get(case.channel, case.channel)),
            "priority": zh(complaints.PRIORITY_LABELS.get(case.priority, case.priority)),
            "description": mask_in_text(case.description) if mask else case.description,
            "opened_at": case.opened_at[:16],
            "deadline_at": case.deadline_at[:16],
            "deadline_rule": case.deadline_rule,
            "assignee": case.assignee,
            "state": zh(complaints.STATES[case.state]),
            "reopened": case.reopened,
        },
        "reporter": {
            "name": contact_name or party_name or case.party,
            "phone": mask_phones(phone) if mask else phone,
        },
        "notes": [
            {"at": e.at[:16], "text": mask_in_text(e.note) if mask else e.note} for e in notes[-3:]
        ],
    }
    name = f"{language or settings.language}/work_order.html"
    write_text(out, render(settings, name, context), option="--out")
    return WorkOrder(case.number, case.unit, case.assignee, out)
