"""The legal evidence pack of one unit (LEGAL rule 12): one folder, and a zip of it, with what
a court asks an estate to show — the fee standard and its publication, the unit's area basis
and ownership, the bill ledger per period, every demand with its full text and proof of
delivery, the service record, the late fee by the contract and by the court-ceiling method, and
the limitation status of every bill. Owner data appears in full here: it is for the court,
never for posting anywhere.
"""

from __future__ import annotations

import sqlite3
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from propfee.collection import latefee, limitation
from propfee.collection.dunning import CHANNEL_LABELS, OUTCOME_LABELS, REASON_LABELS, list_contacts
from propfee.collection.latefee import rate_text
from propfee.core.errors import NotFound, PropfeeError
from propfee.core.money import decimal_str, price_str
from propfee.files.render import render
from propfee.files.writers import write_table, write_text
from propfee.payments import ledger
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
    barred: int = 0
    contacts: int = 0
    delivered: int = 0


def build(
    conn: sqlite3.Connection, unit_code: str, *, out_dir: Path, as_of: date, settings
) -> LegalPack:
    """Write the pack for ``unit_code`` into ``out_dir`` (made if missing; refused if it holds
    other files) and zip it beside the folder."""

    code = resolve_code(conn, unit_code)
    unit = conn.execute(
        "SELECT id, code, building, kind, area_x100, inner_area_x100, delivered_on, area_basis "
        "FROM unit WHERE code = ?",
        (code,),
    ).fetchone()
    if unit is None:
        raise NotFound(f"no unit {code!r}")
    unit_id = unit[0]
    if out_dir.exists() and not out_dir.is_dir():
        raise PropfeeError(f"--out {out_dir}: is a file; give a new folder for the pack")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PropfeeError(f"{out_dir} is not empty: give a new folder for the pack")
    zip_path = out_dir.with_suffix(".zip")
    if zip_path.exists():
        raise PropfeeError(f"{zip_path} exists already: give a new folder for the pack")
    out_dir.mkdir(parents=True, exist_ok=True)
    pack = LegalPack(code, out_dir, zip_path)
    day = as_of.isoformat()

    # 1. the bill ledger per period, with what each still owes and its limitation status
    statement = ledger.statement(conn, code, last=as_of)
    clocks = {
        c.bill_id: c
        for c in limitation.clocks(conn, as_of=as_of, settings=settings, unit_ids={unit_id})
    }
    fees = {
        line.bill_id: line
        for line in latefee.late_fees(conn, as_of=as_of, settings=settings, unit_ids=[unit_id])
    }
    bills = conn.execute(
        "SELECT b.id, b.period, f.name, b.covers_from, b.covers_to, b.due_on, b.basis, "
        "coalesce(p.name, ''), b.amount_fen, coalesce((SELECT sum(a.amount_fen) FROM adjustment a "
        "WHERE a.bill_id = b.id AND a.made_on <= ?2), 0), coalesce((SELECT sum(l.amount_fen) "
        "FROM allocation l WHERE l.bill_id = b.id AND l.allocated_on <= ?2), 0) FROM bill b "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ?1 AND b.covers_from <= ?2 ORDER BY b.due_on, b.id",
        (unit_id, day),
    ).fetchall()
    money = lambda fen: Decimal(decimal_str(fen))  # noqa: E731
    rows = []
    for bid, period, item, frm, to, due, basis, payer, amount, adjusted, paid in bills:
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
                money(amount),
                money(adjusted),
                money(paid),
                money(owed),
                clock.ends_on if clock else "",
                ("已过诉讼时效" if clock.barred else f"剩余{clock.days_left}天") if clock else "",
            ]
        )
        pack.owed_fen += max(owed, 0)
    path = out_dir / "01-各期账单明细.xlsx"
    write_table(
        path,
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
    )
    pack.files.append(path)
    path = out_dir / "02-对账单.xlsx"
    write_table(
        path,
        ["日期", "类别", "单号", "摘要", "应收", "实收", "余额"],
        [
            [
                line.day,
                {"bill": "应收", "adjustment": "调整", "payment": "实收", "reversal": "冲正"}[
                    line.kind
                ],
                line.ref,
                line.text,
                money(line.debit_fen),
                money(line.credit_fen),
                money(line.balance_fen),
            ]
            for line in statement.lines
        ],
        sheet="对账单",
    )
    pack.files.append(path)

    # 2. the fee standard and its publication record
    publications = conn.execute(
        "SELECT published_on, content, recorded_later, evidence FROM publication "
        "WHERE published_on <= ? ORDER BY id",
        (day,),
    ).fetchall()
    prices = conn.execute(
        "SELECT f.code, f.name, f.basis, f.unit_label, p.price_x10000, p.effective_from, "
        "p.published_on, coalesce(pb.recorded_later, 0) FROM fee_price p "
        "JOIN fee_item f ON f.id = p.fee_item_id "
        "LEFT JOIN publication pb ON pb.id = p.publication_id "
        "ORDER BY f.position, p.effective_from"
    ).fetchall()

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
    path = out_dir / "03-收费标准及公示.txt"
    write_text(path, text + "\n", option="--out")
    pack.files.append(path)

    # 3. the unit's area basis and ownership history
    history = conn.execute(
        "SELECT o.role, p.name, p.kind, p.phones, p.id_number, o.start_on, o.end_on, o.pays "
        "FROM occupancy o JOIN party p ON p.id = o.party_id WHERE o.unit_id = ? "
        "ORDER BY o.start_on, o.id",
        (unit_id,),
    ).fetchall()
    area = Decimal(unit[4]) / 100 if unit[4] is not None else ""
    inner = Decimal(unit[5]) / 100 if unit[5] is not None else ""
    path = out_dir / "04-房屋面积及产权.xlsx"
    write_table(
        path,
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
                code,
                unit[2],
                KINDS.get(unit[3], unit[3]),
                area,
                inner,
                unit[7] or "房产证/购房合同建筑面积",
                unit[6] or "",
                {"owner": "业主", "tenant": "租户"}.get(role, role),
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
            [
                code,
                unit[2],
                KINDS.get(unit[3], unit[3]),
                area,
                inner,
                unit[7] or "房产证/购房合同建筑面积",
                unit[6] or "",
                "开发建设单位",
                name,
                "单位",
                phones or "",
                "",
                "",
                "",
                "是",
            ]
            for name, phones in conn.execute(
                "SELECT DISTINCT p.name, p.phones FROM bill b JOIN party p ON p.id = b.party_id "
                "WHERE b.unit_id = ? AND p.is_developer = 1",
                (unit_id,),
            )
        ],
        sheet="产权",
        text_columns=("房号", "电话", "证件号"),
    )
    pack.files.append(path)

    # 4. every demand, call and letter, with its full text and proof of delivery
    contacts = [c for c in list_contacts(conn, unit_code=code) if c.at[:10] <= day]
    pack.contacts = len(contacts)
    pack.delivered = sum(1 for c in contacts if c.deliveries)
    path = out_dir / "05-催缴及联系记录.xlsx"
    write_table(
        path,
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
                CHANNEL_LABELS.get(c.channel, c.channel),
                "已送达" if c.deliveries else OUTCOME_LABELS.get(c.outcome, c.outcome),
                REASON_LABELS.get(c.reason, c.reason),
                c.promise_on or "",
                c.notice_no or "",
                c.deadline_on or "",
                money(c.amount_fen) if c.amount_fen is not None else "",
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
    )
    pack.files.append(path)

    # 5. the late fee by the contract and by the court-ceiling method
    rules = settings.late_fee
    path = out_dir / "06-违约金计算.xlsx"
    write_table(
        path,
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
            "已入账",
        ],
        [
            [
                f.bill_id,
                f.period,
                f.item,
                f.due_on,
                money(f.principal_fen),
                money(f.owed_fen),
                f.days,
                money(f.clause_fen),
                money(f.loss_fen),
                money(f.ceiling_fen),
                "是" if f.above_ceiling else "",
                money(f.posted_fen),
            ]
            for f in fees.values()
        ],
        sheet="违约金",
    )
    pack.files.append(path)
    pack.late_fee_fen = sum(f.clause_fen for f in fees.values())
    pack.ceiling_fen = sum(f.ceiling_fen for f in fees.values())
    pack.barred = sum(1 for c in clocks.values() if c.barred)

    # 6. the service record: every complaint and request with its history, and the service
    # disputes staff logged while collecting
    complaints = _complaints(conn, unit_id)
    disputes = [
        {
            "at": c.at[:16],
            "number": "",
            "text": f"服务争议：{c.note or c.content[:60]}",
            "status": OUTCOME_LABELS.get(c.outcome, c.outcome),
        }
        for c in contacts
        if c.outcome in ("dispute", "resolved")
    ]
    if complaints:

        path = out_dir / "07-投诉及服务记录.xlsx"
        write_table(
            path,
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
                for case in cases_of_unit(conn, unit_id)
                for event in case.events
            ],
            sheet="服务记录",
            text_columns=("编号",),
        )
        pack.files.append(path)

    # 7. the cover summary
    language = "en" if settings.language == "en" else "zh"
    owners = [h for h in history if h[0] == "owner"]
    debtors: dict[str, int] = {}
    for row in rows:
        if row[11] > 0:
            debtors[row[7] or settings.estate.developer] = debtors.get(
                row[7] or settings.estate.developer, 0
            ) + int(row[11] * 100)
    posted = sum(f.posted_fen for f in fees.values())
    waived = -sum(
        fen
        for (fen,) in conn.execute(
            "SELECT a.amount_fen FROM adjustment a JOIN late_fee l ON l.bill_id = a.bill_id "
            "JOIN bill b ON b.id = l.bill_id WHERE b.unit_id = ? AND a.made_on <= ?",
            (unit_id, day),
        )
    )
    context = {
        "estate": settings.estate,
        "as_of": day,
        "unit": code,
        "kind": KINDS.get(unit[3], unit[3]) if language == "zh" else unit[3],
        "area": str(area),
        "inner_area": str(inner),
        "area_basis": unit[7] or "",
        "delivered_on": unit[6] or "",
        "owners": [
            {"name": h[1], "start": h[5] or "", "end": h[6] or "", "id_number": h[4] or ""}
            for h in owners
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
            for r in rows
            if r[11] > 0
        ],
        "clause": rules.has_clause,
        "late_fee_rule": _rule_text(rules),
        "late_fee_fen": pack.late_fee_fen,
        "late_fee_posted_fen": posted,
        "late_fee_waived_fen": waived,
        "late_fee_unposted_fen": max(pack.late_fee_fen - posted, 0),
        "debtors": [{"name": n, "owed_fen": fen} for n, fen in debtors.items()],
        "loss_fen": sum(f.loss_fen for f in fees.values()),
        "ceiling_fen": pack.ceiling_fen,
        "above_ceiling": sum(1 for f in fees.values() if f.above_ceiling),
        "contacts": pack.contacts,
        "delivered": pack.delivered,
        "letters": sum(1 for c in contacts if c.channel == "letter"),
        "barred": pack.barred,
        "complaints": complaints + disputes,
        "publications": sorted({row[0] for row in publications}),
        "publications_later": sorted({row[0] for row in publications if row[2]}),
        "files": [p.name for p in pack.files],
    }
    path = out_dir / "00-摘要.html"
    write_text(path, render(settings, f"{language}/legal_pack.html", context), option="--out")
    pack.files.insert(0, path)

    import os

    descriptor = os.open(pack.zip_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with (
        os.fdopen(descriptor, "wb") as handle,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive,
    ):  # it holds names, phones and ID numbers: owner-only
        for file in pack.files:
            archive.write(file, f"{out_dir.name}/{file.name}")
    return pack


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
