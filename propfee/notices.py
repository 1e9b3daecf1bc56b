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

from propfee import periods
from propfee.render import render


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
    """One dict per responsible party: its bills for the period and its earlier arrears."""
    label = periods.period_label(month)
    where, params = (
        ("b.id IN (SELECT value FROM json_each(?))", [_json(bill_ids)])
        if bill_ids is not None
        else ("b.period = ?", [label])
    )
    lines = conn.execute(
        "SELECT b.id, b.party_id, u.code, u.kind, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.basis, b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment "
        "WHERE bill_id = b.id), 0), coalesce((SELECT sum(amount_fen) FROM allocation "
        "WHERE bill_id = b.id), 0), p.name, p.kind, p.phones, p.is_developer "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"LEFT JOIN party p ON p.id = b.party_id WHERE {where} "
        "ORDER BY p.name, u.code, f.position, b.covers_from",
        params,
    ).fetchall()
    parties: dict[int, dict] = {}
    for row in lines:
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
            },
        )
        if row[2] not in notice["units"]:
            notice["units"].append(row[2])
        notice["kinds"].add(row[3])
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
    ids = [line["bill_id"] for n in parties.values() for line in n["lines"]]
    for party_id, notice in parties.items():
        for row in conn.execute(
            "SELECT u.code, f.name, b.covers_from, b.covers_to, b.due_on, "
            "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
            " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0) "
            "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
            "WHERE b.party_id = ? AND b.settled_on IS NULL AND b.due_on < ? "
            "AND b.id NOT IN (SELECT value FROM json_each(?)) ORDER BY b.due_on, f.position",
            (party_id, month.isoformat(), _json(ids)),
        ):
            if row[5] > 0:
                notice["arrears"].append(
                    {
                        "unit": row[0],
                        "item": row[1],
                        "covers_from": row[2],
                        "covers_to": row[3],
                        "due_on": row[4],
                        "due_fen": row[5],
                    }
                )
    result = []
    for number, notice in enumerate(parties.values(), start=1):
        current = sum(line["due_fen"] for line in notice["lines"])
        arrears = sum(a["due_fen"] for a in notice["arrears"])
        business = notice["party"]["kind"] == "company" or bool(
            notice["kinds"] & {"commercial", "office"}
        )
        result.append(
            {
                **notice,
                "number": number,
                "kinds": sorted(notice["kinds"]),
                "business": business,
                "current_fen": current,
                "arrears_fen": arrears,
                "total_fen": current + arrears,
                "due_on": min(line["due_on"] for line in notice["lines"]),
            }
        )
    return result


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
