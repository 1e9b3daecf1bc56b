"""Bill notices (缴费通知单): per responsible party, a text for SMS/WeChat (collected in one
CSV of phone,message for a bulk-SMS upload) and a print-ready A4 page, listing each bill
with how it was reached, earlier arrears, how to pay and whom to call."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from propfee.core import periods
from propfee.files.render import render


@dataclass
class NoticeReport:
    period: str
    notices: int = 0
    sms: int = 0
    no_phone: list[str] = field(default_factory=list)
    html_path: Path | None = None
    sms_path: Path | None = None
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
    where, params = (
        ("b.id IN (SELECT value FROM json_each(?))", [_json(bill_ids)])
        if bill_ids is not None
        else ("b.period = ?", [periods.period_label(month)])
    )
    parties: dict[int, dict] = {}
    for row in conn.execute(
        "SELECT b.id, b.party_id, u.code, u.kind, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.basis, b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0), coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0), p.name, p.kind, p.phones, p.is_developer, b.period "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"LEFT JOIN party p ON p.id = b.party_id WHERE {where} "
        "ORDER BY p.name, u.code, f.position, b.covers_from",
        params,
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
                "lines": [],
                "arrears": [],
                "kinds": set(),
                "item_names": [],
                "periods": set(),
            },
        )
        if row[2] not in notice["units"]:
            notice["units"].append(row[2])
        if row[4] not in notice["item_names"]:
            notice["item_names"].append(row[4])
        notice["kinds"].add(row[3])
        notice["periods"].add(row[16])
        net = row[9] + row[10]
        notice["lines"].append(
            {
                "bill_id": row[0],
                "unit": row[2],
                "item": row[4],
                "covers_from": row[5],
                "covers_to": row[6],
                "due_on": row[7],
                "basis": row[8],
                "amount_fen": row[9],
                "adjusted_fen": row[10],
                "net_fen": net,
                "paid_fen": row[11],
                "due_fen": net - row[11],
            }
        )
    ids = _json(line["bill_id"] for n in parties.values() for line in n["lines"])
    first_due = min(
        (line["due_on"] for n in parties.values() for line in n["lines"]), default=month.isoformat()
    )
    result = []
    for number, (party_id, notice) in enumerate(parties.items(), start=1):
        grouped: dict[tuple[str, str], dict] = {}
        for code, item, frm, to, due_on, owed in conn.execute(
            "SELECT u.code, f.name, b.covers_from, b.covers_to, b.due_on, "
            "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
            " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0) "
            "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
            "WHERE b.party_id IS ? AND b.settled_on IS NULL AND b.due_on < ? "
            "AND b.id NOT IN (SELECT value FROM json_each(?)) ORDER BY b.due_on, f.position",
            (party_id, first_due, ids),
        ):
            if owed <= 0:
                continue
            entry = grouped.setdefault(
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
        notice["arrears"] = list(grouped.values())
        credit = _credit(conn, party_id)
        current = sum(line["due_fen"] for line in notice["lines"])
        arrears = sum(a["due_fen"] for a in notice["arrears"])
        due_on = min(line["due_on"] for line in notice["lines"])
        labels = sorted(notice["periods"])
        business = notice["party"]["kind"] == "company" or bool(
            notice["kinds"] & {"commercial", "office"}
        )
        result.append(
            {
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
        )
    return result


def _credit(conn: sqlite3.Connection, party_id: int | None) -> int:
    """Money this party paid and that no bill has taken yet."""
    row = conn.execute(
        "SELECT coalesce(sum(p.amount_fen - coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE payment_id = p.id), 0)), 0) FROM payment p WHERE p.party_id IS ? "
        "AND NOT EXISTS (SELECT 1 FROM reversal r WHERE r.payment_id = p.id)",
        (party_id,),
    ).fetchone()
    return row[0]


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
    import json

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
) -> NoticeReport:
    """Write ``缴费通知单-YYYY-MM.html`` (one A4 page per party) and ``sms-YYYY-MM.csv``."""
    label = periods.period_label(month)
    notices = notice_data(conn, month=month, settings=settings, as_of=as_of, bill_ids=bill_ids)
    report = NoticeReport(label, notices=len(notices))
    out_dir.mkdir(parents=True, exist_ok=True)
    common = {
        "estate": settings.estate,
        "payment": settings.payment,
        "period": label,
        "month": month,
        "as_of": as_of.isoformat(),
    }
    html = render(settings, f"{language}/bill_notice.html", {**common, "notices": notices})
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
    report.html_path = out_dir / f"缴费通知单-{label}.html"
    report.sms_path = out_dir / f"sms-{label}.csv"
    _write_private(report.html_path, html)
    _write_private(report.sms_path, buffer.getvalue())
    return report
