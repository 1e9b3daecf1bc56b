"""Bill notices (缴费通知单): per responsible party, a text for SMS/WeChat (collected in one
CSV of phone,message for a bulk-SMS upload) and a print-ready A4 page, listing each bill
with how it was reached, earlier arrears, how to pay and whom to call."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import propfee.billing.store as store
from propfee.core import periods
from propfee.files.render import render
from propfee.roster.units import building_label, natural_key, print_key


@dataclass
class NoticeReport:
    period: str
    notices: int = 0
    sms: int = 0
    no_phone: list[str] = field(default_factory=list)
    html_path: Path | None = None
    sms_path: Path | None = None
    by_building: list[tuple[str, Path, int]] = field(default_factory=list)  # label, file, notices
    total_fen: int = 0


def _write_private(path: Path, text: str) -> None:
    """Files holding owners' phones are readable by their owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(
        fd, "w", encoding="utf-8-sig" if path.suffix == ".csv" else "utf-8", newline=""
    ) as handle:
        handle.write(text)


def notice_data(
    conn: sqlite3.Connection,
    *,
    month: date,
    settings,
    as_of: date,
    bill_ids: list[int] | None = None,
) -> list[dict]:
    """One dict per responsible party: its bills for the period (or for ``bill_ids``), its
    earlier arrears grouped by unit and item, and its credit."""
    parties = _bills_by_party(conn, month, bill_ids)
    ids = {line["bill_id"] for n in parties.values() for line in n["lines"]}
    # arrears are what fell due before this month's bills: a quarterly bill billed in the same
    # run (due at its cycle's start) must not hide the month before it
    label = periods.period_label(month)
    lines = [line for n in parties.values() for line in n["lines"]]
    first_due = min(
        (line["due_on"] for line in lines if line["period"] == label),
        default=min((line["due_on"] for line in lines), default=month.isoformat()),
    )
    # one query each for the whole run, not one per party (that made notices quadratic)
    party_ids = _json(p for p in parties if p is not None)
    with_no_party = None in parties
    arrears = _arrears(conn, party_ids, with_no_party, first_due, ids)
    credits = store.unallocated_credits(conn, party_ids, with_no_party)
    result = []
    ordered = sorted(parties.items(), key=lambda pair: print_key(pair[1]["units"]))
    for number, (party_id, notice) in enumerate(ordered, start=1):
        notice["arrears"] = arrears.get(party_id, [])
        result.append(_summary(notice, number, credits.get(party_id, 0), as_of))
    return result


def _bills_by_party(
    conn: sqlite3.Connection, month: date, bill_ids: list[int] | None
) -> dict[int | None, dict]:
    """The bills the notices show, gathered per party: who it is, its units, item names, unit
    kinds, periods and one line per bill."""
    parties: dict[int | None, dict] = {}
    buildings: dict[str, str] = {}
    for row in store.notice_bills(
        conn,
        bill_ids_json=_json(bill_ids) if bill_ids is not None else None,
        period=periods.period_label(month),
    ):
        notice = parties.setdefault(
            row[1],
            {
                "party": {
                    "name": row[12] or "",
                    "kind": row[13] or "person",
                    "phone": (row[14] or "").split("/")[0],
                    "developer": bool(row[15]),
                },
                "units": [],
                "building": "",
                "lines": [],
                "arrears": [],
                "kinds": set(),
                "item_names": [],
                "periods": set(),
            },
        )
        if row[2] not in notice["units"]:
            notice["units"].append(row[2])
            buildings[row[2]] = row[17]
        if row[4] not in notice["item_names"]:
            notice["item_names"].append(row[4])
        notice["kinds"].add(row[3])
        notice["periods"].add(row[16])
        notice["lines"].append(_line(row))
    for notice in parties.values():  # print order: building, entrance, floor, room
        notice["units"].sort(key=natural_key)
        notice["lines"].sort(key=lambda line: natural_key(line["unit"]))  # stable: item order
        notice["building"] = buildings[notice["units"][0]]
    return parties


def _line(row: tuple) -> dict:
    """One bill of a notice: what it covers, how it was reached and what is due on it."""
    net = row[9] + row[10]
    return {
        "bill_id": row[0],
        "unit": row[2],
        "item": row[4],
        "covers_from": row[5],
        "covers_to": row[6],
        "due_on": row[7],
        "period": row[16],
        "basis": row[8],
        "amount_fen": row[9],
        "adjusted_fen": row[10],
        "net_fen": net,
        "paid_fen": row[11],
        "due_fen": net - row[11],
    }


def _arrears(
    conn: sqlite3.Connection, party_ids: str, with_no_party: bool, first_due: str, shown: set[int]
) -> dict[int | None, list]:
    """Each party's earlier bills still owing (apart from those the notices show), one entry
    per unit and item."""
    grouped: dict[int | None, dict[tuple[str, str], dict]] = {}
    for party_id, bill_id, code, item, frm, to, due_on, owed in store.earlier_open_bills_of(
        conn, party_ids, with_no_party, first_due
    ):
        if owed <= 0 or bill_id in shown:
            continue
        entry = grouped.setdefault(party_id, {}).setdefault(
            (code, item),
            {
                "unit": code,
                "item": item,
                "covers_from": frm,
                "covers_to": to,
                "due_on": due_on,
                "bills": 0,
                "due_fen": 0,
            },
        )
        entry["covers_to"] = max(entry["covers_to"], to)
        entry["bills"] += 1
        entry["due_fen"] += owed
    return {party_id: list(entries.values()) for party_id, entries in grouped.items()}


def _summary(notice: dict, number: int, credit: int, as_of: date) -> dict:
    """A party's notice with its totals: this period, arrears, credit, what to pay and when."""
    current = sum(line["due_fen"] for line in notice["lines"])
    arrears = sum(a["due_fen"] for a in notice["arrears"])
    due_on = min(line["due_on"] for line in notice["lines"])
    labels = sorted(notice["periods"])
    business = notice["party"]["kind"] == "company" or bool(
        notice["kinds"] & {"commercial", "office"}
    )
    return {
        **notice,
        "number": number,
        "kinds": sorted(notice["kinds"]),
        "periods": labels,
        "period_text": _period_text(labels[0], labels[-1]),
        "business": business,
        "current_fen": current,
        "arrears_fen": arrears,
        "credit_fen": credit,
        "total_fen": max(current + arrears - credit, 0),
        "due_on": due_on,
        "overdue": due_on < as_of.isoformat(),
    }


def _period_text(first: str, last: str) -> str:
    """``2026-09``, ``2026-11`` -> ``2026年9月至11月``; one month -> ``2026年11月``."""
    y1, m1 = int(first[:4]), int(first[5:7])
    y2, m2 = int(last[:4]), int(last[5:7])
    if (y1, m1) == (y2, m2):
        return f"{y1}年{m1}月"
    if y1 == y2:
        return f"{y1}年{m1}月至{m2}月"
    return f"{y1}年{m1}月至{y2}年{m2}月"


def _json(values) -> str:
    return json.dumps(list(values or []))


def write_notices(
    conn: sqlite3.Connection,
    *,
    month: date,
    settings,
    as_of: date,
    out_dir: Path,
    language: str = "zh",
    bill_ids: list[int] | None = None,
    by_building: bool = False,
) -> NoticeReport:
    """Write ``缴费通知单-YYYY-MM.html`` (one A4 page per party, in print order: building,
    entrance, floor, room) and ``sms-YYYY-MM.csv``; ``by_building`` writes one HTML file per
    building instead (``缴费通知单-YYYY-MM-1号楼.html``)."""
    label = periods.period_label(month)
    notices = notice_data(conn, month=month, settings=settings, as_of=as_of, bill_ids=bill_ids)
    report = NoticeReport(label, notices=len(notices))
    common = {
        "estate": settings.estate,
        "payment": settings.payment,
        "period": label,
        "month": month,
        "as_of": as_of.isoformat(),
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["phone", "message"])
    for notice in notices:
        report.total_fen += notice["total_fen"]
        phone = notice["party"]["phone"]
        if not phone:
            report.no_phone.append(notice["party"]["name"] or "?")
            continue
        message = render(settings, f"{language}/bill_notice_sms.txt", {**common, "n": notice})
        writer.writerow([phone, " ".join(message.split())])
        report.sms += 1
    groups = _building_groups(notices) if by_building else [("", notices)]
    pages = [
        (building, render(settings, f"{language}/bill_notice.html", {**common, "notices": group}))
        for building, group in groups
    ]
    out_dir.mkdir(parents=True, exist_ok=True)  # everything rendered and past the gate
    for (building, html), (_, group) in zip(pages, groups, strict=True):
        suffix = f"-{building}" if by_building else ""
        path = out_dir / f"缴费通知单-{label}{suffix}.html"
        _write_private(path, html)
        report.by_building.append((building, path, len(group)))
    report.html_path = report.by_building[0][1] if report.by_building else None
    report.sms_path = out_dir / f"sms-{label}.csv"
    _write_private(report.sms_path, buffer.getvalue())
    return report


def _building_groups(notices: list[dict]) -> list[tuple[str, list[dict]]]:
    """The notices (in print order) by the building of each one's first unit."""
    groups: dict[str, list[dict]] = {}
    for notice in notices:
        groups.setdefault(building_label(notice["building"]), []).append(notice)
    return list(groups.items())
