"""The legal evidence pack of one unit (LEGAL rule 12): one folder, and a zip of it, with what
a court asks an estate to show — the fee standard and its publication, the unit's area basis
and ownership, the bill ledger per period, every demand with its full text and proof of
delivery, the service record, the late fee by the contract and by the court-ceiling method, and
the limitation status of every bill. Owner data appears in full here: it is for the court,
never for posting anywhere.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from propfee.collection import latefee, limitation, packstore
from propfee.collection.dunning import (
    CHANNEL_LABELS,
    OUTCOME_LABELS,
    REASON_LABELS,
    label,
    list_contacts,
)
from propfee.collection.latefee import rate_text
from propfee.core.errors import NotFound, PropfeeError
from propfee.core.i18n import _, zh
from propfee.core.money import decimal_str, price_str
from propfee.files import workbook
from propfee.files.render import render
from propfee.files.workbook import BALANCE, CODE, COUNT, DATE, NUMBER
from propfee.files.writers import write_text
from propfee.payments import ledger
from propfee.roster.payers import ROLE_LABELS
from propfee.roster.units import KINDS, resolve_code
from propfee.service.complaints import STATES, cases_of_unit


@dataclass
class LegalPack:
    unit: str
    folder: Path
    zip_path: Path
    files: list[Path] = field(default_factory=list)
    owed_fen: int = 0
    late_fee_fen: int = 0
    ceiling_fen: int = 0
    demanded_fen: int = 0  # what the pack claims: see latefee.demanded
    barred: int = 0
    contacts: int = 0
    delivered: int = 0
    title: workbook.Title | None = None  # what heads each workbook of the pack


def _write(pack: LegalPack, path: Path, report: str, headers, rows, **options) -> None:
    """One workbook of the pack through the workbook writer, headed by the estate, the unit
    and the report's name."""
    title = pack.title or workbook.Title("", "")
    title = workbook.Title(
        title.estate, f"{pack.unit} {report}", as_of=title.as_of, produced_at=title.produced_at
    )
    workbook.write_table(path, headers, rows, title=title, **options)
    pack.files.append(path)


class _Unit(NamedTuple):
    id: int
    code: str
    building: str
    kind: str
    area_x100: int | None
    inner_area_x100: int | None
    delivered_on: str | None
    area_basis: str | None

    @property
    def area(self):
        return Decimal(self.area_x100) / 100 if self.area_x100 is not None else ""

    @property
    def inner_area(self):
        return Decimal(self.inner_area_x100) / 100 if self.inner_area_x100 is not None else ""


def _money(fen: int) -> Decimal:
    return Decimal(decimal_str(fen))


def build(
    conn: sqlite3.Connection,
    unit_code: str,
    *,
    out_dir: Path,
    as_of: date,
    settings,
    now: datetime | None = None,
) -> LegalPack:
    """Write the pack for ``unit_code`` into ``out_dir`` (made if missing; refused if it holds
    other files) and zip it beside the folder."""

    code = resolve_code(conn, unit_code)
    found = packstore.unit_by_code(conn, code)
    if found is None:
        raise NotFound(_("no unit {unit!r}").format(unit=code))
    unit = _Unit(*found)
    pack = LegalPack(code, out_dir, _new_folder(out_dir))
    pack.title = workbook.Title(settings.estate.name, "", as_of=as_of, produced_at=now)
    day = as_of.isoformat()
    statement = ledger.statement(conn, code, last=as_of)
    clocks = {
        c.bill_id: c
        for c in limitation.clocks(conn, as_of=as_of, settings=settings, unit_id=unit.id)
    }
    fees = {
        line.bill_id: line
        for line in latefee.late_fees(conn, as_of=as_of, settings=settings, unit_ids=[unit.id])
    }
    rows = _bill_ledger(conn, pack, unit, day, clocks)  # 01
    _statement_of_account(pack, statement)  # 02
    publications = _fee_standard(conn, pack, day)  # 03
    history = _area_and_ownership(conn, pack, unit)  # 04
    contacts = _contact_record(conn, pack, day)  # 05
    _late_fee(pack, fees, clocks, settings.late_fee)  # 06
    complaints = _service_record(conn, pack, unit, contacts)  # 07
    _cover(
        conn,
        pack,
        settings,
        unit,
        day,
        _CoverFacts(rows, history, fees, contacts, complaints, publications),
    )  # 00
    _zip(pack)
    return pack


def _new_folder(out_dir: Path) -> Path:
    """Make the pack's folder, refusing a file, a folder with files, or a zip there already;
    the path of the zip."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PropfeeError(
            _("--out {out}: is a file; give a new folder for the pack").format(out=out_dir)
        )
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PropfeeError(
            _("{out} is not empty: give a new folder for the pack").format(out=out_dir)
        )
    zip_path = out_dir.with_suffix(".zip")
    if zip_path.exists():
        raise PropfeeError(
            _("{path} exists already: give a new folder for the pack").format(path=zip_path)
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    return zip_path


def _bill_ledger(
    conn: sqlite3.Connection, pack: LegalPack, unit: _Unit, day: str, clocks: dict
) -> list[list]:
    """01: the bill ledger per period, with what each still owes and its limitation status."""
    rows = []
    for (
        bid,
        period,
        item,
        frm,
        to,
        due,
        basis,
        payer,
        amount,
        adjusted,
        paid,
    ) in packstore.bills_as_of(conn, unit.id, day):
        owed = amount + adjusted - paid
        clock = clocks.get(bid)
        rows.append(
            [
                bid,
                period,
                item,
                frm,
                to,
                due,
                basis,
                payer,
                _money(amount),
                _money(adjusted),
                _money(paid),
                _money(owed),
                clock.ends_on if clock else "",
                ("已过诉讼时效" if clock.barred else f"剩余{clock.days_left}天") if clock else "",
            ]
        )
        pack.owed_fen += max(owed, 0)
    path = pack.folder / "01-各期账单明细.xlsx"
    _write(
        pack,
        path,
        "各期账单明细",
        [
            "账单号",
            "期间",
            "收费项目",
            "计费起",
            "计费止",
            "缴费期限",
            "计费依据",
            "缴费人",
            "应收",
            "调整",
            "已收",
            "欠费",
            "诉讼时效届满",
            "时效状态",
        ],
        rows,
        sheet="账单明细",
        kinds={
            "账单号": CODE,
            "计费起": DATE,
            "计费止": DATE,
            "缴费期限": DATE,
            "诉讼时效届满": DATE,
        },
    )
    return rows


def _statement_of_account(pack: LegalPack, statement) -> None:
    """02: the statement of account."""
    path = pack.folder / "02-对账单.xlsx"
    _write(
        pack,
        path,
        "对账单",
        ["日期", "类别", "单号", "摘要", "应收", "实收", "余额"],
        [
            [
                line.day,
                {"bill": "应收", "adjustment": "调整", "payment": "实收", "reversal": "冲正"}[
                    line.kind
                ],
                line.ref,
                line.text,
                _money(line.debit_fen),
                _money(line.credit_fen),
                _money(line.balance_fen),
            ]
            for line in statement.lines
        ],
        sheet="对账单",
        kinds={"日期": DATE, "单号": CODE, "余额": BALANCE},
    )


def _fee_standard(conn: sqlite3.Connection, pack: LegalPack, day: str) -> list:
    """03: the fee standard and its publication record; the publications."""
    publications = packstore.publications_by(conn, day)
    prices = packstore.price_history(conn)
    text = "\n\n".join(
        [
            "收费标准（价格历史）",
            "\n".join(
                f"{c} {n}（{b}）{price_str(x)}{label}  执行自 {frm}  "
                f"{'公示于 ' + pub if pub else '未公示'}{'（补录）' if later else ''}"
                for c, n, b, label, x, frm, pub, later in prices
            ),
            *[
                f"—— 公示记录 {on}{f'（补录，凭证：{proof}）' if later else ''} ——\n{content}"
                for on, content, later, proof in publications
            ],
        ]
    )
    path = pack.folder / "03-收费标准及公示.txt"
    write_text(path, text + "\n", option="--out")
    pack.files.append(path)
    return publications


def _area_and_ownership(conn: sqlite3.Connection, pack: LegalPack, unit: _Unit) -> list:
    """04: the unit's area basis and ownership history; the history."""
    history = packstore.occupancy_history(conn, unit.id)
    place = [
        unit.code,
        unit.building,
        KINDS.get(unit.kind, unit.kind),
        unit.area,
        unit.inner_area,
        unit.area_basis or "房产证/购房合同建筑面积",
        unit.delivered_on or "",
    ]
    path = pack.folder / "04-房屋面积及产权.xlsx"
    _write(
        pack,
        path,
        "房屋面积及产权",
        [
            "房号",
            "楼栋",
            "类型",
            "建筑面积",
            "套内面积",
            "面积依据",
            "交付日期",
            "身份",
            "姓名/名称",
            "类别",
            "电话",
            "证件号",
            "起",
            "止",
            "缴费",
        ],
        [
            [
                *place,
                ROLE_LABELS.get(role, role),
                name,
                {"person": "个人", "company": "单位"}.get(kind, kind),
                phones or "",
                id_number or "",
                start or "",
                end or "",
                "是" if pays else "",
            ]
            for role, name, kind, phones, id_number, start, end, pays in history
        ]
        + [
            [*place, "开发建设单位", name, "单位", phones or "", "", "", "", "是"]
            for name, phones in packstore.developers_billed(conn, unit.id)
        ],
        sheet="产权",
        text_columns=("房号", "电话", "证件号"),
        kinds={"建筑面积": NUMBER, "套内面积": NUMBER, "交付日期": DATE, "起": DATE, "止": DATE},
        totals=False,  # one unit's area on every line: nothing adds up
    )
    return history


def _contact_record(conn: sqlite3.Connection, pack: LegalPack, day: str) -> list:
    """05: every demand, call and letter, with its full text and proof of delivery; the
    contacts."""
    contacts = [c for c in list_contacts(conn, unit_code=pack.unit) if c.at[:10] <= day]
    pack.contacts = len(contacts)
    pack.delivered = sum(1 for c in contacts if c.deliveries)
    path = pack.folder / "05-催缴及联系记录.xlsx"
    _write(
        pack,
        path,
        "催缴及联系记录",
        [
            "时间",
            "方式",
            "结果",
            "原因",
            "承诺日期",
            "通知书编号",
            "缴费期限",
            "金额",
            "对象",
            "电话",
            "经办人",
            "送达情况",
            "备注",
            "发送内容全文",
        ],
        [
            [
                c.at,
                label(CHANNEL_LABELS, c.channel, zh),
                "已送达" if c.deliveries else label(OUTCOME_LABELS, c.outcome, zh),
                label(REASON_LABELS, c.reason, zh),
                c.promise_on or "",
                c.notice_no or "",
                c.deadline_on or "",
                _money(c.amount_fen) if c.amount_fen is not None else "",
                c.addressee,
                c.phone,
                c.staff,
                "；".join(f"{d} {proof}（{staff}）" for d, proof, staff in c.deliveries),
                c.note,
                c.content,
            ]
            for c in contacts
        ],
        sheet="催缴记录",
        text_columns=("电话", "通知书编号"),
        kinds={"承诺日期": DATE, "缴费期限": DATE},
        totals=False,  # each demand states what was owed then: the amounts do not add up
    )
    return contacts


def _late_fee(pack: LegalPack, fees: dict, clocks: dict, rules) -> None:
    """06: the late fee by the contract and by the court-ceiling method."""
    path = pack.folder / "06-违约金计算.xlsx"
    _write(
        pack,
        path,
        "违约金计算",
        [
            "账单号",
            "期间",
            "收费项目",
            "缴费期限",
            "本金",
            "尚欠",
            "计费天数",
            "合同违约金",
            "利息损失",
            "法院可能支持上限",
            "超过上限",
            "主张金额",
            "已入账",
        ],
        [
            [
                f.bill_id,
                f.period,
                f.item,
                f.due_on,
                _money(f.principal_fen),
                _money(f.owed_fen),
                f.days,
                _money(f.clause_fen),
                _money(f.loss_fen),
                _money(f.ceiling_fen),
                "是" if f.above_ceiling else "",
                _money(f.demanded_fen),
                _money(f.posted_fen),
            ]
            for f in fees.values()
        ],
        sheet="违约金",
        kinds={"账单号": CODE, "缴费期限": DATE, "计费天数": COUNT},
    )
    pack.late_fee_fen = sum(f.clause_fen for f in fees.values())
    pack.ceiling_fen = sum(f.ceiling_fen for f in fees.values())
    pack.demanded_fen = latefee.demand_of(list(fees.values()), rules, unposted=False).demanded_fen
    pack.barred = sum(1 for c in clocks.values() if c.barred)


def _service_record(
    conn: sqlite3.Connection, pack: LegalPack, unit: _Unit, contacts: list
) -> list[dict]:
    """07: the service record — every complaint and request with its history — when there
    is one; the complaints and the service disputes staff logged while collecting."""
    complaints = _complaints(conn, unit.id)
    disputes = [
        {
            "at": c.at[:16],
            "number": "",
            "text": f"服务争议：{c.note or c.content[:60]}",
            "status": label(OUTCOME_LABELS, c.outcome, zh),
        }
        for c in contacts
        if c.outcome in ("dispute", "resolved")
    ]
    if complaints:
        path = pack.folder / "07-投诉及服务记录.xlsx"
        _write(
            pack,
            path,
            "投诉及服务记录",
            ["编号", "类别", "受理时间", "时限", "时间", "事项", "经办人", "承办", "评分", "内容"],
            [
                [
                    case.number,
                    case.category,
                    case.opened_at[:16],
                    case.deadline_at[:16],
                    event.at[:16],
                    event.action,
                    event.actor,
                    event.assignee,
                    event.score if event.score is not None else "",
                    event.note,
                ]
                for case in cases_of_unit(conn, unit.id)
                for event in case.events
            ],
            sheet="服务记录",
            text_columns=("编号",),
            totals=False,
        )
    return complaints + disputes


class _CoverFacts(NamedTuple):
    """What the cover summarises, from the pack's other files."""

    rows: list[list]  # the bill ledger's rows
    history: list  # who held the unit
    fees: dict  # late-fee lines by bill
    contacts: list
    complaints: list[dict]  # complaints, then service disputes
    publications: list


def _cover(
    conn: sqlite3.Connection,
    pack: LegalPack,
    settings,
    unit: _Unit,
    day: str,
    facts: _CoverFacts,
) -> None:
    """00: the cover summary, first in the pack."""
    language = "en" if settings.language == "en" else "zh"
    rules = settings.late_fee
    fees = facts.fees.values()
    posted = sum(f.posted_fen for f in fees)
    waived = -sum(fen for (fen,) in packstore.late_fee_adjustments(conn, unit.id, day))
    context = {
        "estate": settings.estate,
        "as_of": day,
        "unit": pack.unit,
        "kind": KINDS.get(unit.kind, unit.kind) if language == "zh" else unit.kind,
        "area": str(unit.area),
        "inner_area": str(unit.inner_area),
        "area_basis": unit.area_basis or "",
        "delivered_on": unit.delivered_on or "",
        "owners": [
            {"name": h[1], "start": h[5] or "", "end": h[6] or "", "id_number": h[4] or ""}
            for h in facts.history
            if h[0] == "owner"
        ],
        "owed_fen": pack.owed_fen,
        "open_bills": [
            {
                "period": r[1],
                "item": r[2],
                "due_on": r[5],
                "owed": r[11],
                "ends": r[12],
                "status": r[13],
            }
            for r in facts.rows
            if r[11] > 0
        ],
        "clause": rules.has_clause,
        "late_fee_rule": _rule_text(rules),
        "late_fee_fen": pack.late_fee_fen,
        "late_fee_posted_fen": posted,
        "late_fee_waived_fen": waived,
        "late_fee_unposted_fen": max(pack.demanded_fen - posted, 0),
        "debtors": _debtors(facts.rows, settings.estate.developer),
        "loss_fen": sum(f.loss_fen for f in fees),
        "ceiling_fen": pack.ceiling_fen,
        "above_ceiling": sum(1 for f in fees if f.above_ceiling),
        "late_fee_demanded_fen": pack.demanded_fen,
        "contacts": pack.contacts,
        "delivered": pack.delivered,
        "letters": sum(1 for c in facts.contacts if c.channel == "letter"),
        "barred": pack.barred,
        "complaints": facts.complaints,
        "publications": sorted({row[0] for row in facts.publications}),
        "publications_later": sorted({row[0] for row in facts.publications if row[2]}),
        "files": [p.name for p in pack.files],
    }
    path = pack.folder / "00-摘要.html"
    write_text(path, render(settings, f"{language}/legal_pack.html", context), option="--out")
    pack.files.insert(0, path)


def _debtors(rows: list[list], developer: str) -> list[dict]:
    """Who owes what of the open bills: the payer of each, the developer for a bill without."""
    debtors: dict[str, int] = {}
    for row in rows:
        if row[11] > 0:
            debtors[row[7] or developer] = debtors.get(row[7] or developer, 0) + int(row[11] * 100)
    return [{"name": n, "owed_fen": fen} for n, fen in debtors.items()]


def _zip(pack: LegalPack) -> None:
    """The zip of the folder beside it: it holds names, phones and ID numbers, owner-only."""
    descriptor = os.open(pack.zip_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with (
        os.fdopen(descriptor, "wb") as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for file in pack.files:
            archive.write(file, f"{pack.folder.name}/{file.name}")


def _complaints(conn: sqlite3.Connection, unit_id: int) -> list[dict]:
    """The unit's complaints and service requests, with what became of them."""

    return [
        {
            "at": case.opened_at[:16],
            "number": case.number,
            "text": f"{case.category}：{case.description}",
            "status": STATES[case.state]
            + (f"（回访 {case.score} 分）" if case.score is not None else ""),
        }
        for case in cases_of_unit(conn, unit_id)
    ]


def _rule_text(rules) -> str:
    if not rules.has_clause:
        return ""

    text = rate_text(rules.rate)
    if rules.grace_days:
        text += f"，宽限{rules.grace_days}天"
    if rules.cap.strip():
        text += f"，上限{rules.cap.strip()}"
    return text
