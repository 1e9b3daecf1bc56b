"""Bill notices (缴费通知单): per responsible party, a text for SMS/WeChat (collected in one
CSV of phone,message for a bulk-SMS upload) and a print-ready A4 page, listing each bill
with how it was reached, earlier arrears, how to pay and whom to call."""

from __future__ import annotations

import csv
import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import propfee.billing.store as store
from propfee.core import periods
from propfee.core.gcpause import no_gc
from propfee.files.render import documents, render
from propfee.roster.units import building_label, natural_key


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
    return list(iter_notices(conn, month=month, as_of=as_of, bill_ids=bill_ids))


def iter_notices(
    conn: sqlite3.Connection, *, month: date, as_of: date, bill_ids: list[int] | None = None
) -> Iterator[dict]:
    """The notices of ``notice_data`` one by one, in print order (building, entrance, floor,
    room of each party's first unit): the rows are read in three queries for the whole run
    and kept as plain tuples; each party's notice is made when it is reached and its rows
    let go, so a run of 100,000 homes never holds every notice at once."""
    parties, first_units, keys = _bills_by_party(conn, month, bill_ids)
    # arrears are what fell due before this month's bills: a quarterly bill billed in the same
    # run (due at its cycle's start) must not hide the month before it
    label = periods.period_label(month)
    first_due = min(
        (row[7] for rows in parties.values() for row in rows if row[16] == label), default=None
    )
    if first_due is None:
        first_due = min(
            (row[7] for rows in parties.values() for row in rows), default=month.isoformat()
        )
    # a bill on the notices is not among their arrears: only one due before first_due could
    shown = {row[0] for rows in parties.values() for row in rows if row[7] < first_due}
    # one query each for the whole run, not one per party (that made notices quadratic)
    party_ids = _json(p for p in parties if p is not None)
    with_no_party = None in parties
    arrears = _arrears(conn, party_ids, with_no_party, first_due, shown)
    credits = store.unallocated_credits(conn, party_ids, with_no_party)
    ordered = sorted(parties, key=first_units.__getitem__)
    del first_units
    for number, party_id in enumerate(ordered, start=1):
        notice = _notice(parties.pop(party_id), keys)
        notice["arrears"] = _grouped(arrears.pop(party_id, ()))
        yield _summary(notice, number, credits.get(party_id, 0), as_of)


def _bills_by_party(
    conn: sqlite3.Connection, month: date, bill_ids: list[int] | None
) -> tuple[dict[int | None, list[tuple]], dict[int | None, tuple], dict[str, tuple]]:
    """The rows of the bills the notices show (see store.notice_bills) gathered per party,
    where each party's notice goes in the printed pile (``print_key`` of its units), and the
    ``natural_key`` of each unit code (made once a unit). Kept small, a run holding them
    all: the party's name, kind and phones only in its first row, and the texts many rows
    repeat (unit code, unit kind, item, days, basis, period, building) held once."""
    parties: dict[int | None, list[tuple]] = {}
    first_units: dict[int | None, tuple] = {}
    keys: dict[str, tuple] = {}
    same = {}.setdefault  # same(text, text): the first string object equal to text
    for row in store.notice_bills(
        conn,
        bill_ids_json=_json(bill_ids) if bill_ids is not None else None,
        period=periods.period_label(month),
    ):
        code = row[2]
        key = keys.get(code)
        if key is None:
            # its parts (building 1, entrance 2, room 902) are shared with other units'
            key = keys[code] = tuple([same(part, part) for part in natural_key(code)])
        rows = parties.get(row[1])
        if rows is None:
            rows = parties[row[1]] = []
            first_units[row[1]] = key
            who = row[12:16]
        else:
            who = (None, None, None, None)
            if key < first_units[row[1]]:
                first_units[row[1]] = key
        kind, item, frm, to, due, basis = row[3:9]
        rows.append(
            (
                row[0],
                row[1],
                same(code, code),  # a unit's bills share its code, and most their basis
                same(kind, kind),
                same(item, item),
                same(frm, frm),
                same(to, to),
                same(due, due),
                same(basis, basis),
                *row[9:12],
                *who,
                same(row[16], row[16]),
                same(row[17], row[17]),
            )
        )
    return parties, first_units, keys


def _notice(rows: list[tuple], keys: dict[str, tuple]) -> dict:
    """A party's notice from its bill rows: who it is, its units and their building, item
    names, unit kinds, periods and one line per bill, in print order (``keys``: each unit
    code's ``natural_key``)."""
    first = rows[0]
    # dicts as ordered sets: a developer may hold thousands of units
    units = list(dict.fromkeys(row[2] for row in rows))
    lines = [_line(row) for row in rows]
    if len(units) > 1:  # one unit: already in print order (stable: item order within it)
        units.sort(key=keys.__getitem__)
        lines.sort(key=lambda line: keys[line["unit"]])
    return {
        "party": {
            "name": first[12] or "",
            "kind": first[13] or "person",
            "phone": (first[14] or "").split("/")[0],
            "developer": bool(first[15]),
        },
        "units": units,
        "building": next(row[17] for row in rows if row[2] == units[0]),
        "lines": lines,  # stable: item order within a unit
        "arrears": [],
        "kinds": {row[3] for row in rows},
        "item_names": list(dict.fromkeys(row[4] for row in rows)),
        "periods": {row[16] for row in rows},
    }


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
) -> dict[int | None, list[tuple]]:
    """Each party's earlier bills still owing (not among the ``shown`` ones), oldest first:
    (unit, item, covers_from, covers_to, due_on, owed fen); read in one query for the run."""
    found: dict[int | None, list[tuple]] = {}
    same = {}.setdefault  # same(text, text): the first string object equal to text
    for party_id, bill_id, code, item, frm, to, due_on, owed in store.earlier_open_bills_of(
        conn, party_ids, with_no_party, first_due
    ):
        if owed > 0 and bill_id not in shown:
            found.setdefault(party_id, []).append(
                (code, same(item, item), same(frm, frm), same(to, to), same(due_on, due_on), owed)
            )
    return found


def _grouped(bills) -> list[dict]:
    """A party's earlier bills still owing, one entry per unit and item."""
    grouped: dict[tuple[str, str], dict] = {}
    for code, item, frm, to, due_on, owed in bills:
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
    return list(grouped.values())


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
    building instead (``缴费通知单-YYYY-MM-1号楼.html``). Each notice passes the gate on its way
    into the file; a refusal leaves no file."""
    label = periods.period_label(month)
    report = NoticeReport(label)
    common = {  # plain dicts, which templates read fastest
        "estate": dataclasses.asdict(settings.estate),
        "payment": dataclasses.asdict(settings.payment),
        "period": label,
        "month": month,
        "as_of": as_of.isoformat(),
    }
    sms = f"{language}/bill_notice_sms.txt"
    writer = None  # the messages' CSV, once its file is open

    def with_messages(notices: Iterable[dict]) -> Iterator[dict]:
        """Each notice on its way into the HTML, its message made and counted."""
        for notice in notices:
            report.notices += 1
            report.total_fen += notice["total_fen"]
            phone = notice["party"]["phone"]
            if not phone:
                report.no_phone.append(notice["party"]["name"] or "?")
            else:
                message = render(settings, sms, {**common, "n": notice})
                writer.writerow([phone, " ".join(message.split())])
                report.sms += 1
            yield notice

    notices: Iterable[dict] = iter_notices(conn, month=month, as_of=as_of, bill_ids=bill_ids)
    groups = _building_groups(notices) if by_building else [("", notices)]
    # the parties' bills and notices make no cycles (see core/gcpause)
    with no_gc(), documents(out_dir) as files:
        report.sms_path = out_dir / f"sms-{label}.csv"
        # each message is written as it is made (it passed the gate in render): a run of
        # 100,000 homes never holds them all
        with files.open(report.sms_path, encoding="utf-8-sig") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["phone", "message"])
            for building, group in groups:
                suffix = f"-{building}" if by_building else ""
                path = out_dir / f"缴费通知单-{label}{suffix}.html"
                before = report.notices
                files.write(
                    settings,
                    f"{language}/bill_notice.html",
                    {**common, "notices": with_messages(group)},
                    path,
                    each="notices",
                )
                report.by_building.append((building, path, report.notices - before))
        report.html_path = report.by_building[0][1] if report.by_building else None
    return report


def _building_groups(notices: Iterable[dict]) -> list[tuple[str, list[dict]]]:
    """The notices (in print order) by the building of each one's first unit."""
    groups: dict[str, list[dict]] = {}
    for notice in notices:
        groups.setdefault(building_label(notice["building"]), []).append(notice)
    return list(groups.items())
