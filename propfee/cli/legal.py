"""Late fees, installment plans and the legal evidence pack: latefee, plan, legal-pack."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    DryRunOpt,
    Format,
    FormatOpt,
    QuietOpt,
    emit,
    now,
    open_env,
    parse_day,
    record_unmasked,
    write_json,
)
from propfee.collection import latefee as core
from propfee.collection import plans
from propfee.collection.agreement import write_agreement
from propfee.collection.legalpack import build
from propfee.core.money import decimal_str, format_money
from propfee.files.writers import write_table
from propfee.store.db import transaction

plan_app = typer.Typer(help="Installment plans (分期缴费协议).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("latefee")(latefee)
    app.add_typer(plan_app, name="plan")
    app.command("legal-pack")(legal_pack)


# ---------------------------------------------------------------- latefee


def latefee(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[post] [UNIT]",
            help="UNIT to show one unit; post UNIT to post its late fees as bills.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE.xlsx", help="Also write the table (.xlsx/.csv).")
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Late fees (违约金) by the contract's clause, beside the likely court ceiling.

    Per bill per overdue day after the grace days, on what the bill still owed that day. No
    clause in the settings ([late_fee] daily_rate) means no late fee anywhere. `post UNIT`
    makes what has accrued and is not yet posted into 违约金 bills (the same --as-of again
    posts nothing); they can be waived with `propfee adjust` like any bill.

    Example: propfee latefee 1-1-1001 --as-of 2026-11-30
    """

    env = open_env(db, config, quiet)
    day = parse_day(as_of)
    posting, unit = core.command_words(list(words or []))
    if posting:
        _post(env, unit, day, dry_run, fmt)
        return
    found = core.late_fee_list(
        env.connect(create=False), as_of=day, settings=env.settings, unit_code=unit
    )
    rules = env.settings.late_fee
    data = [_late_fee_json(line) for line in found.lines]
    for warning in found.warnings:
        env.warn(warning)
    totals = {key: decimal_str(fen) for key, fen in found.totals.items()}
    if out is not None:
        _write_late_fees(out, data)
    if not rules.has_clause:
        env.warn(
            "no late-fee clause in the settings ([late_fee] daily_rate): no late fee is charged "
            "(LEGAL rule 7); the loss is shown for reference"
        )
    if fmt is Format.json:
        write_json(
            {
                "as_of": day.isoformat(),
                "clause": rules.has_clause,
                "daily_rate": rules.daily_rate or None,
                "reference_rate": rules.reference_rate,
                "court_factor": rules.court_factor,
                "cap_at_ceiling": rules.cap_at_ceiling,
                "lines": data,
                "total": totals,
            }
        )
        return
    _late_fee_table(env, data, totals, day, fmt)


def _late_fee_table(env, data: list[dict], totals: dict, day, fmt: Format) -> None:
    for row in data:
        row["above_ceiling"] = "超" if row["above_ceiling"] else ""
    emit(
        env,
        data,
        [
            Col("unit", "房号"),
            Col("payer", "缴费人"),
            Col("period", "期间"),
            Col("item", "项目"),
            Col("due_on", "缴费期限"),
            Col("owed", "尚欠", "right"),
            Col("days", "天数", "right"),
            Col("late_fee", "合同违约金", "right"),
            Col("loss", "利息损失", "right"),
            Col("ceiling", "法院上限", "right"),
            Col("above_ceiling", "超上限"),
            Col("demanded", "可主张", "right"),
            Col("posted", "已入账", "right"),
        ],
        fmt,
        title=f"违约金（截至 {day}）",
        footer={"unit": "合计", **totals},
    )


def _post(env, unit: str, day, dry_run: bool, fmt: Format) -> None:
    """latefee post UNIT: post the unit's late fees as bills, and say what was posted."""
    conn = env.connect(dry_run=dry_run, create=False)
    with transaction(conn, dry_run=dry_run):
        report = core.post(conn, unit, as_of=day, now=now(), settings=env.settings)
    total = report.total_fen
    if fmt is Format.json:
        write_json(
            {
                "unit": report.unit,
                "as_of": report.as_of,
                "posted": [
                    {"bill": b, "for_bill": s, "amount": decimal_str(f)}
                    for b, s, f in report.posted
                ],
                "total": decimal_str(total),
                "already_posted": report.already,
                "dry_run": dry_run,
            }
        )
        return
    env.result(
        f"{report.unit} {report.as_of}: posted {len(report.posted)} 违约金 bill(s), "
        f"{format_money(total)}"
        + (f"; {report.already} already posted for this day" if report.already else "")
        + ("; dry run: nothing was written" if dry_run else "")
    )


def _late_fee_json(line: core.LateFeeLine) -> dict:
    return {
        "unit": line.unit,
        "payer": line.payer,
        "bill": line.bill_id,
        "period": line.period,
        "item": line.item,
        "due_on": line.due_on,
        "owed": decimal_str(line.owed_fen),
        "days": line.days,
        "late_fee": decimal_str(line.clause_fen),
        "loss": decimal_str(line.loss_fen),
        "ceiling": decimal_str(line.ceiling_fen),
        "above_ceiling": line.above_ceiling,
        "demanded": decimal_str(line.demanded_fen),
        "posted": decimal_str(line.posted_fen),
        "over_posted": decimal_str(line.over_posted_fen),
    }


def _write_late_fees(out: Path, data: list[dict]) -> None:
    write_table(
        out,
        [
            "房号",
            "缴费人",
            "账单号",
            "期间",
            "收费项目",
            "缴费期限",
            "尚欠",
            "计费天数",
            "合同违约金",
            "利息损失",
            "法院可能支持上限",
            "超过上限",
            "可主张",
            "已入账",
        ],
        [
            [
                d["unit"],
                d["payer"],
                d["bill"],
                d["period"],
                d["item"],
                d["due_on"],
                Decimal(d["owed"]),
                d["days"],
                Decimal(d["late_fee"]),
                Decimal(d["loss"]),
                Decimal(d["ceiling"]),
                "是" if d["above_ceiling"] else "",
                Decimal(d["demanded"]),
                Decimal(d["posted"]),
            ]
            for d in data
        ],
        sheet="违约金",
        text_columns=("房号",),
    )


# ---------------------------------------------------------------- plans


@plan_app.command("create")
def plan_create(
    unit: Annotated[str, typer.Argument(help="The unit, e.g. 1-1-1001.")],
    installments: Annotated[int, typer.Option(help="How many installments.")],
    first_due: Annotated[str, typer.Option(metavar="YYYY-MM-DD", help="The first one's due day.")],
    every: Annotated[str, typer.Option(help="month or week.")] = "month",
    signed: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="When it was signed (default: today).")
    ] = None,
    bill: Annotated[
        list[int] | None,
        typer.Option(help="Cover only these bills (repeatable) (default: every open bill)."),
    ] = None,
    note: Annotated[str, typer.Option(help="Anything to keep with it.")] = "",
    staff: Annotated[str, typer.Option(envvar="PROPFEE_OPERATOR", help="Who recorded it.")] = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record a signed installment plan: the schedule sums exactly to the debt covered.

    Signing is logged as the debtor's acknowledgement of the debt (it restarts the limitation
    clock). While the plan is honoured the unit is held at tier plan; an installment unpaid
    dunning.plan_grace_days after its due day breaks it and dunning resumes.

    Example: propfee plan create 1-1-1001 --installments 3 --first-due 2026-12-15 --signed 2026-11-25
    """

    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        plan = plans.create(
            conn,
            unit,
            installments=installments,
            first_due=parse_day(first_due, option="--first-due"),
            every=every,
            signed_on=parse_day(signed, option="--signed"),
            now=now(),
            settings=env.settings,
            bill_ids=bill or None,
            note=note,
            staff=staff,
        )
    if quiet and fmt is not Format.json:
        return
    _show_plan(env, plan, fmt)


@plan_app.command("list")
def plan_list(
    unit: Annotated[str | None, typer.Argument(help="Only this unit.")] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Every plan with its state as of a day: honoured, broken or completed.

    Example: propfee plan list --as-of 2026-12-31
    """

    env = open_env(db, config)
    day = parse_day(as_of)
    found = plans.plans(env.connect(create=False), as_of=day, settings=env.settings, unit_code=unit)
    data = [_plan_json(p) for p in found]
    if fmt is Format.json:
        write_json(data)
        return
    emit(
        env,
        [_plan_line(p) for p in found],
        [
            Col("id", "协议号", "right"),
            Col("unit", "房号"),
            Col("party", "缴费人"),
            Col("signed", "签订日期"),
            Col("installments", "期数", "right"),
            Col("total", "金额", "right"),
            Col("paid", "已缴", "right"),
            Col("state", "状态"),
        ],
        fmt,
        title=f"分期缴费协议（截至 {day}）",
    )


@plan_app.command("show")
def plan_show(
    plan_id: Annotated[int, typer.Argument(metavar="ID", help="The plan number.")],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """One plan: the bills it covers and each installment, paid or not, as of a day.

    Example: propfee plan show 3 --as-of 2026-12-31
    """

    env = open_env(db, config)
    plan = plans.plan_status(
        env.connect(create=False), plan_id, as_of=parse_day(as_of), settings=env.settings
    )
    _show_plan(env, plan, fmt)


@plan_app.command("agreement")
def plan_agreement(
    plan_id: Annotated[
        int, typer.Argument(metavar="ID", help="协议号（propfee plan list 可查）。")
    ],
    out: Annotated[Path, typer.Option(metavar="FILE.html", help="协议写入的 HTML 文件（A4）。")],
    language: Annotated[str | None, typer.Option(help="zh 或 en（默认：设置中的语言）。")] = None,
    no_mask: Annotated[
        bool,
        typer.Option("--no-mask", help="电话、证件号完整印出；此操作连同操作人记入审计日志。"),
    ] = False,
    operator: Annotated[
        str, typer.Option(metavar="NAME", help="操作人，记入审计日志（--no-mask 时）。")
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """打印分期缴费协议（A4 HTML），供双方签字：双方信息、房屋、乙方确认的各期欠费、
    分期计划（各期之和等于欠费总额）、缴费方式，以及双方签字和日期栏。

    电话、证件号默认打码；--no-mask 完整印出并记入审计日志。

    Example: propfee plan agreement 3 --out 分期协议-3.html
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    made = write_agreement(
        conn, plan_id, out, settings=env.settings, mask=not no_mask, language=language
    )
    if no_mask:
        record_unmasked(conn, "plan agreement", out, 1)
    env.result(
        f"分期缴费协议 第{made.plan_id}号  {made.unit} {made.party}  "
        f"{format_money(made.total_fen)}，分{made.installments}期 → {made.path}"
    )


def _plan_line(plan) -> dict:
    return {
        "id": plan.id,
        "unit": plan.unit,
        "party": plan.party,
        "signed": plan.signed_on,
        "installments": len(plan.installments),
        "total": decimal_str(plan.total_fen),
        "paid": decimal_str(plan.paid_fen),
        "state": plans.STATE_LABELS[plan.state]
        + (f"（{plan.broken_on}）" if plan.broken_on else ""),
    }


def _plan_json(plan) -> dict:
    return {
        "id": plan.id,
        "unit": plan.unit,
        "party": plan.party,
        "signed_on": plan.signed_on,
        "every": plan.every,
        "total": decimal_str(plan.total_fen),
        "paid": decimal_str(plan.paid_fen),
        "state": plan.state,
        "broken_on": plan.broken_on,
        "as_of": plan.as_of,
        "bills": [
            {"bill": b, "item": item, "period": period, "amount": decimal_str(fen)}
            for b, item, period, fen in plan.bills
        ],
        "installments": [
            {
                "seq": i.seq,
                "due_on": i.due_on,
                "amount": decimal_str(i.amount_fen),
                "paid": decimal_str(i.paid_fen),
            }
            for i in plan.installments
        ],
    }


def _show_plan(env, plan, fmt: Format) -> None:
    if fmt is Format.json:
        write_json(_plan_json(plan))
        return
    state = plans.STATE_LABELS[plan.state]
    env.result(
        f"分期缴费协议 第{plan.id}号  {plan.unit} {plan.party}  签订 {plan.signed_on}  "
        f"{format_money(plan.total_fen)}，已缴 {format_money(plan.paid_fen)}  {state}"
        + (f"（{plan.broken_on} 起）" if plan.broken_on else "")
    )
    emit(
        env,
        [
            {
                "seq": i.seq,
                "due_on": i.due_on,
                "amount": decimal_str(i.amount_fen),
                "paid": decimal_str(i.paid_fen),
                "state": "已缴" if i.paid else ("部分" if i.paid_fen else ""),
            }
            for i in plan.installments
        ],
        [
            Col("seq", "期", "right"),
            Col("due_on", "到期日"),
            Col("amount", "金额", "right"),
            Col("paid", "已缴", "right"),
            Col("state", "状态"),
        ],
        fmt,
    )


# ---------------------------------------------------------------- the legal pack


def legal_pack(
    unit: Annotated[str, typer.Argument(help="The unit, e.g. 1-1-1001.")],
    out: Annotated[Path, typer.Option(metavar="DIR", help="A new folder for the pack.")],
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """The evidence pack for court or arbitration: one folder and a zip of it.

    A cover summary, the bills per period with their limitation status, the statement of
    account, the fee standard and its publication, the area basis and ownership history,
    every contact with its full text and proof of delivery, the late fee by the contract and
    by the court-ceiling method. Owner data appears in full: keep it private.

    Example: propfee legal-pack 1-1-1001 --out 证据/1-1-1001 --as-of 2026-11-30
    """

    env = open_env(db, config, quiet)
    pack = build(
        env.connect(create=False),
        unit,
        out_dir=out,
        as_of=parse_day(as_of),
        settings=env.settings,
        now=now(),
    )
    env.result(
        f"{pack.unit}: owed {format_money(pack.owed_fen)}, {pack.contacts} contact(s) "
        f"({pack.delivered} with proof of delivery), {pack.barred} period(s) time-barred"
    )
    for path in pack.files:
        env.result(f"  {path}")
    env.result(f"  {pack.zip_path}")
