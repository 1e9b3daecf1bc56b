"""Ledger commands: pay, reverse, apply-credit, statement, report daily, check."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

import propfee.cli.reports as reports
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    QuietOpt,
    emit,
    now,
    open_env,
    parse_day,
    parse_past_day,
    print_csv,
    safe_markup,
    write_json,
)
from propfee.core.errors import InvalidValue
from propfee.core.money import chinese_amount, decimal_str, format_money, parse_money
from propfee.files import workbook
from propfee.files.render import render, require
from propfee.files.workbook import Title
from propfee.files.writers import check_output, write_table, write_text
from propfee.payments import ledger, reconciliation
from propfee.store.db import transaction

report_app = typer.Typer(
    help="Reports: the daily close, the collection rate.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("pay")(pay)
    app.command("reverse")(reverse)
    app.command("apply-credit")(apply_credit)
    app.command("statement")(statement)
    app.command("check")(check)
    app.command("reconcile")(reconcile)
    app.add_typer(report_app, name="report")

    reports.register(report_app)


def _payment_json(p: ledger.Payment) -> dict:
    return {
        "receipt": p.receipt_no,
        "unit": p.unit,
        "party": p.party,
        "amount": decimal_str(p.amount_fen),
        "channel": p.channel,
        "ref": p.ref,
        "paid_on": p.paid_on,
        "cashier": p.cashier,
        "note": p.note,
        "allocations": [
            {
                "bill": a.bill_id,
                "item": a.item_name,
                "period": a.period,
                "amount": decimal_str(a.amount_fen),
                "left": decimal_str(a.left_fen),
            }
            for a in p.allocations
        ],
        "credit": decimal_str(p.credit_fen),
        "discount": decimal_str(p.discount_fen),
        "already_recorded": p.already,
    }


def pay(
    unit: Annotated[str, typer.Argument(help="The unit paid for, e.g. 1-1-1001.")],
    amount: Annotated[str, typer.Argument(help="The amount in yuan, e.g. 450.00.")],
    channel: Annotated[
        str, typer.Option(help="wechat | alipay | bank | cash | pos | autodebit | other")
    ],
    ref: Annotated[
        str | None,
        typer.Option(help="The channel's transaction number (required except for cash)."),
    ] = None,
    paid_on: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="When it was paid (default: --as-of)."),
    ] = None,
    cashier: Annotated[str, typer.Option(help="Who took the money.")] = "",
    note: Annotated[str, typer.Option(help="A note on the receipt.")] = "",
    bill: Annotated[
        list[int] | None,
        typer.Option(help="The payer's choice of bill (repeatable); else oldest due first."),
    ] = None,
    invoice: Annotated[
        bool, typer.Option(help="The payer asks for an official invoice (发票).")
    ] = False,
    receipt: Annotated[
        Path | None, typer.Option(metavar="FILE.html", help="Also write a print-ready receipt.")
    ] = None,
    language: Annotated[str, typer.Option(help="zh or en, for the receipt.")] = "zh",
    large: Annotated[
        bool,
        typer.Option("--large", help="Allow one payment over ¥10,000,000 (up to ¥1,000,000,000)."),
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record a payment and print its receipt.

    The money goes to the bills the payer names, else to the oldest due bills first; what is
    left stays as credit and pays the next bills. Recording the same channel and --ref again
    records nothing and names the receipt that holds it.

    Example: propfee pay 1-1-1001 450.00 --channel wechat --ref 4200001234202611150001 --cashier 李娜
    """
    env = open_env(db, config, quiet)
    day = parse_past_day(as_of)
    fen = parse_money(amount)
    # everything that could fail after the payment is checked before it is recorded
    require(
        env.settings, [f"{language}/receipt.txt"] + ([f"{language}/receipt.html"] * bool(receipt))
    )
    if receipt is not None:
        check_output(receipt, "--receipt")
    conn = env.connect(create=False)
    written = False
    try:
        with transaction(conn):
            payment = ledger.record_payment(
                conn,
                unit,
                fen,
                channel=channel,
                ref=ref,
                paid_on=parse_past_day(paid_on, option="--date") if paid_on else day,
                as_of=day,
                now=now(),
                settings=env.settings,
                cashier=cashier,
                note=note,
                bill_ids=bill or None,
                invoice="requested" if invoice else "",
                large=large,
            )
            text, written = _render_receipt(env, payment, language, receipt)
    except BaseException:
        if written and receipt is not None:  # the commit failed: no receipt for no payment
            receipt.unlink(missing_ok=True)
        raise
    if fmt is Format.json:
        write_json(_payment_json(payment))
        return
    if payment.already:
        env.info(f"already recorded as receipt {payment.receipt_no}; nothing new was recorded")
    if not quiet:
        env.out.print(text, markup=False, end="")


def _render_receipt(
    env, payment: ledger.Payment, language: str, receipt: Path | None
) -> tuple[str, bool]:
    """The receipt's text, and whether its HTML file was written (before the commit, so
    that a failure records nothing)."""
    context = {
        "estate": env.settings.estate,
        "p": payment,
        "channel": ledger.CHANNELS.get(payment.channel, payment.channel),
        "amount_words": chinese_amount(payment.amount_fen),
    }
    text = render(env.settings, f"{language}/receipt.txt", context)
    if receipt is None:
        return text, False
    write_text(
        receipt,
        render(env.settings, f"{language}/receipt.html", context),
        option="--receipt",
    )
    return text, True


def reverse(
    receipt: Annotated[str, typer.Argument(help="The receipt number, e.g. 2026-000123.")],
    reason: Annotated[str, typer.Option(help="Why it is reversed.")],
    operator: Annotated[str, typer.Option(help="Who reverses it.")] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Reverse a payment (冲正): a linked reversal entry; its bills re-open. Nothing is deleted.

    Example: propfee reverse 2026-000123 --reason "重复收款"
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        result = ledger.reverse_payment(
            conn, receipt, reason=reason, on=parse_past_day(as_of), now=now(), operator=operator
        )
    env.result(
        f"reversed receipt {result.receipt_no} ({result.unit}, "
        f"{format_money(result.amount_fen)}): {len(result.reopened)} bill(s) re-opened"
        + (
            f", {format_money(result.credit_removed_fen)} credit removed"
            if result.credit_removed_fen
            else ""
        )
    )
    if result.credit_left_fen:
        env.result(
            f"{result.unit} still has {format_money(result.credit_left_fen)} of credit: "
            f"propfee apply-credit {result.unit} applies it to the re-opened bills"
        )


def apply_credit(
    unit: Annotated[
        str | None, typer.Argument(help="Only this unit (default: every unit).")
    ] = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Apply credit (money paid ahead) to open bills, oldest due first.

    The bill run does this by itself for the bills it makes.

    Example: propfee apply-credit 1-1-1001
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        ids = [ledger.unit_id_of(conn, unit)] if unit else None
        applied = ledger.apply_credit(conn, on=parse_day(as_of), now=now(), unit_ids=ids)
    env.result(f"applied {format_money(applied)} of credit to open bills")


def statement(
    unit: Annotated[str, typer.Argument(help="The unit, e.g. 1-1-1001.")],
    first: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD")] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE.xlsx|.html", help="Also write it as a file.")
    ] = None,
    party: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Whose account: an earlier owner or a tenant who paid (default: who pays now).",
        ),
    ] = None,
    all_parties: Annotated[
        bool,
        typer.Option(
            "--all-parties", help="The whole unit's ledger, every party's (for staff only)."
        ),
    ] = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The statement of account (对账单) of a unit: bills, adjustments, payments, reversals.

    It is the account of the party who pays for the unit now (or --party NAME): a new owner
    never sees what an earlier owner or a tenant owed or paid. --all-parties gives staff the
    whole unit's ledger.

    Example: propfee statement 1-1-1001 --from 2026-01-01 --out 对账单.xlsx
    """
    env = open_env(db, config)
    if out is not None:
        check_output(out, "--out")
    if party and all_parties:
        raise InvalidValue("give --party or --all-parties, not both")
    conn = env.connect(create=False)
    result = ledger.account_statement(
        conn,
        unit,
        first=parse_day(first, option="--from") if first else None,
        last=parse_day(last, option="--to") if last else None,
        party=party,
        all_parties=all_parties,
        today=parse_day(None),
        settings=env.settings,
    )
    rows = _statement_rows(result)
    if out is not None:
        _write_statement(env, result, rows, out)
    if fmt is Format.json:
        write_json(_statement_document(result, rows))
        return
    if fmt is Format.csv:
        print_csv(*_statement_sheet(result, rows))  # the same as --out FILE.csv
        return
    _print_statement(env, result, rows)


def _statement_rows(result: ledger.Statement) -> list[dict]:
    return [
        {
            "date": line.day,
            "kind": line.kind,
            "ref": line.ref,
            "text": line.text,
            "debit": decimal_str(line.debit_fen),
            "credit": decimal_str(line.credit_fen),
            "balance": decimal_str(line.balance_fen),
        }
        for line in result.lines
    ]


def _statement_document(result: ledger.Statement, rows: list[dict]) -> dict:
    return {
        "unit": result.unit,
        "owner": result.owner,
        "party": result.party,
        "from": result.first,
        "to": result.last,
        "opening_balance": decimal_str(result.opening_balance_fen),
        "lines": rows,
        "closing_balance": decimal_str(result.owed_fen),
        "credit": decimal_str(result.credit_fen),
    }


def _print_statement(env, result: ledger.Statement, rows: list[dict]) -> None:
    env.out.print(
        f"[bold]{safe_markup(result.unit)} 对账单[/bold]  "
        + (
            f"缴费人 {safe_markup(result.party)}  "
            if result.party is not None
            else "全部缴费人（内部）  "
        )
        + f"期初余额 {format_money(result.opening_balance_fen)}"
    )
    if result.others:
        env.warn(
            f"{result.unit} also holds the account of {result.others} other party(ies), "
            "not shown: --party NAME or --all-parties (staff only)"
        )
    emit(
        env,
        [{**row, "kind": STATEMENT_KINDS[row["kind"]]} for row in rows],
        (
            Col("date", "日期"),
            Col("kind", "类别"),
            Col("ref", "单号"),
            Col("text", "摘要"),
            Col("debit", "应收", "right"),
            Col("credit", "实收", "right"),
            Col("balance", "余额", "right"),
        ),
        Format.table,
    )
    env.out.print(
        f"期末欠费 {format_money(result.owed_fen)}  预存 {format_money(result.credit_fen)}"
    )


STATEMENT_KINDS = {"bill": "应收", "adjustment": "调整", "payment": "实收", "reversal": "冲正"}


def _write_statement(env, result: ledger.Statement, rows: list[dict], out: Path) -> None:

    if out.suffix.lower() == ".html":
        write_text(
            out,
            render(env.settings, "zh/statement.html", {"estate": env.settings.estate, "s": result}),
            option="--out",
        )
        return
    headers, table = _statement_sheet(result, rows)
    if out.suffix.lower() != ".xlsx":
        write_table(out, headers, table, sheet=f"{result.unit} 对账单")
        return
    # the workbook: the closing line under the table, and a 合计 row of 应收 and 实收
    payer = f"缴费人 {result.party}" if result.party is not None else "全部缴费人（内部）"
    workbook.write_table(
        out,
        headers,
        table[:-1],
        title=Title(
            env.settings.estate.name,
            f"{result.unit} 对账单（{payer}）",
            f"{result.first or '开户'} 至 {result.last or '今'}",
            _day_or_none(result.last),
            now(),
        ),
        sheet=f"{result.unit} 对账单",
        kinds={"日期": workbook.DATE, "单号": workbook.CODE, "余额": workbook.BALANCE},
        notes=[f"期末欠费 {format_money(result.owed_fen)}　预存 {format_money(result.credit_fen)}"],
    )


def _day_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _statement_sheet(result: ledger.Statement, rows: list[dict]) -> tuple[list[str], list[list]]:
    """The statement as ``--out`` and ``--format csv`` write it: opening line, one line per
    entry with its Chinese kind, closing line."""
    table = [
        [
            r["date"],
            STATEMENT_KINDS[r["kind"]],
            r["ref"],
            r["text"],
            Decimal(r["debit"]),
            Decimal(r["credit"]),
            Decimal(r["balance"]),
        ]
        for r in rows
    ]
    table.insert(
        0,
        ["", "期初", "", "期初余额", None, None, Decimal(decimal_str(result.opening_balance_fen))],
    )
    table.append(
        [
            "",
            "期末",
            "",
            "期末欠费 / 预存",
            Decimal(decimal_str(result.owed_fen)),
            Decimal(decimal_str(result.credit_fen)),
            None,
        ]
    )
    return ["日期", "类别", "单号", "摘要", "应收", "实收", "余额"], table


@report_app.command("daily")
def report_daily(
    day: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="The day (default: today).")
    ] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The daily close (日结): the day's payments by channel and cashier.

    The payments recorded that day (入账日: a statement reconciled today counts today, whatever
    day its money was paid) by channel and by cashier, reversals, and totals that equal the
    day's ledger.

    Example: propfee report daily --date 2026-11-15
    """
    env = open_env(db, config)
    close = ledger.daily_close(env.connect(create=False), parse_day(day, option="--date"))
    channels = [
        {"channel": ledger.CHANNELS.get(c, c), "count": n, "amount": decimal_str(f)}
        for c, (n, f) in sorted(close.by_channel.items())
    ]
    cashiers = [
        {"cashier": c, "count": n, "amount": decimal_str(f)}
        for c, (n, f) in sorted(close.by_cashier.items())
    ]
    if fmt is Format.json:
        write_json(_daily_json(close, channels, cashiers))
        return
    if fmt is Format.csv:
        emit(
            env,
            [
                {
                    **p,
                    "amount": decimal_str(p["amount_fen"]),
                    "channel": ledger.CHANNELS.get(p["channel"], p["channel"]),
                }
                for p in close.payments
            ],
            DAILY_PAYMENT_COLUMNS,
            fmt,
        )
        return
    _print_daily(env, close, channels, cashiers)


DAILY_PAYMENT_COLUMNS = (
    Col("receipt", "收据号"),
    Col("unit", "房号"),
    Col("amount", "金额", "right"),
    Col("channel", "缴费方式"),
    Col("ref", "交易单号"),
    Col("paid_on", "付款日期"),
    Col("cashier", "收款人"),
)


def _daily_json(close: ledger.DailyClose, channels: list[dict], cashiers: list[dict]) -> dict:
    return {
        "date": close.day,
        "received": decimal_str(close.received_fen),
        "reversed": decimal_str(close.reversed_fen),
        "net": decimal_str(close.net_fen),
        "by_channel": channels,
        "by_cashier": cashiers,
        "payments": [{**p, "amount": decimal_str(p.pop("amount_fen"))} for p in close.payments],
        "reversals": [{**r, "amount": decimal_str(r.pop("amount_fen"))} for r in close.reversals],
    }


def _print_daily(env, close: ledger.DailyClose, channels: list[dict], cashiers: list[dict]) -> None:
    fmt = Format.table
    emit(
        env,
        channels,
        (Col("channel", "缴费方式"), Col("count", "笔数", "right"), Col("amount", "金额", "right")),
        fmt,
        title=f"{close.day} 日结：按缴费方式",
    )
    emit(
        env,
        cashiers,
        (Col("cashier", "收款人"), Col("count", "笔数", "right"), Col("amount", "金额", "right")),
        fmt,
        title="按收款人",
    )
    env.out.print(
        f"收款 {len(close.payments)} 笔 {format_money(close.received_fen)}，"
        f"冲正 {len(close.reversals)} 笔 {format_money(close.reversed_fen)}，"
        f"净额 {format_money(close.net_fen)}"
    )
    earlier = close.paid_earlier
    if earlier:
        env.out.print(
            f"按入账日统计：其中 {len(earlier)} 笔 "
            f"{format_money(sum(p['amount_fen'] for p in earlier))} 付款日期早于当天"
            "（对账单导入的以往付款）；--format csv 列出每笔的付款日期"
        )


def check(
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Verify every ledger invariant and the database file; exit 1 with details if any fails.

    Allocations never exceed a bill after adjustments, each payment equals its allocations
    plus credit, credit is never negative, receipts are gapless, no orphan rows, the
    settled-on cache is true, the audit trail is unbroken, and PRAGMA integrity_check passes.

    Example: propfee check
    """
    env = open_env(db, config, quiet)
    problems = ledger.check(env.connect(create=False))
    rows = [{"what": p.what, "detail": p.detail} for p in problems]
    if fmt is not Format.table:
        emit(
            env,
            rows,
            (Col("what", "检查项"), Col("detail", "详情")),
            fmt,
            document={"ok": not problems, "problems": rows},
        )
    elif problems:
        for p in problems:
            env.err.print(
                f"[red]✗[/red] {safe_markup(p.what)}: {safe_markup(p.detail)}", highlight=False
            )
    else:
        env.result("ok: every check passed")
    if problems:
        env.err.print(f"[red]error:[/red] {len(problems)} problem(s) found")
        raise typer.Exit(1)


def reconcile(
    file: Annotated[
        Path, typer.Argument(help="A WeChat Pay or Alipay export, or a bank statement.")
    ],
    profile: Annotated[
        str,
        typer.Option(
            help="auto | wechat | alipay | bank | a profile .toml (or its name in profiles/ beside "
            "the database)."
        ),
    ] = "auto",
    confirm: Annotated[
        list[str] | None,
        typer.Option(
            metavar="LINE=UNIT",
            help="Record a line needing review for this unit (repeatable); "
            "LINE is its row number or transaction number.",
        ),
    ] = None,
    review_out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.csv",
            help="Write the lines needing review; fill in 房号 and pass it back with --review-in.",
        ),
    ] = None,
    review_in: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.csv", help="A filled-in review file: record its lines for their units."
        ),
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do everything, report it, roll back.")
    ] = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a payment statement and record the incoming money as payments.

    A line whose memo names a unit code (e.g. "1-1-1001 物业费") becomes a payment with its
    transaction number as reference; a line without one is listed for review with candidate
    units and never guessed. Lines already recorded (same reference, amount and unit) are
    skipped, so overlapping statements are safe; a reference already recorded with another
    amount or unit is listed for review. A bank serial number can repeat: such a line is
    recorded as a payment of its own only when confirmed.

    Example: propfee reconcile 微信支付账单(20261101-20261130).csv --review-out 待确认.csv
    """
    env = open_env(db, config, quiet)
    chosen = reconciliation.parse_confirm(confirm or [])
    selected = reconciliation.load_profile(profile, beside=env.db_path.parent)
    conn = env.connect(dry_run=dry_run, create=False)
    env.backup_first("reconcile", dry_run=dry_run)
    with env.progress(f"reconciling {file.name}") as tick:
        report = reconciliation.reconcile(
            conn,
            file,
            profile=selected,
            as_of=parse_day(as_of),
            now=now(),
            settings=env.settings,
            confirm=chosen,
            review_in=review_in,
            review_out=review_out,
            dry_run=dry_run,
            progress=tick,
        )
    review = _review_rows(report)
    refunds = _refund_rows(report)
    for warning in report.warnings:
        env.warn(warning)
    for r in report.refunds:  # on stderr whatever the format: someone has to act on it
        env.warn(
            f"line {r.line.row}: {format_money(r.line.amount_fen)} of {r.line.ref} "
            f"({r.unit}) was "
            + ("refunded" if r.line.flag == "refund" else "not completed")
            + f" on {r.line.day} — {r.action}: "
            f'propfee reverse {r.receipt} --reason "退款"'
        )
    if fmt is Format.json:
        write_json(_reconcile_json(report, review, refunds, dry_run))
        return
    env.result(_reconcile_summary(report, refunds))
    if review and not quiet:
        _print_review(env, review)
    if dry_run:
        env.result("dry run: nothing was written")


def _review_rows(report: reconciliation.ReconcileReport) -> list[dict]:
    return [
        {
            "line": r.line.row,
            "ref": r.line.ref,
            "date": r.line.day.isoformat(),
            "amount": decimal_str(r.line.amount_fen),
            "payer": r.line.counterparty,
            "memo": r.line.memo,
            "reason": r.reason,
            "candidates": r.candidates,
            "conflict": r.conflict,
        }
        for r in report.review
    ]


def _refund_rows(report: reconciliation.ReconcileReport) -> list[dict]:
    return [
        {
            "line": r.line.row,
            "ref": r.line.ref,
            "date": r.line.day.isoformat(),
            "amount": decimal_str(r.line.amount_fen),
            "receipt": r.receipt,
            "unit": r.unit,
            "action": r.action,
        }
        for r in report.refunds
    ]


def _reconcile_json(
    report: reconciliation.ReconcileReport, review: list[dict], refunds: list[dict], dry_run: bool
) -> dict:
    return {
        "file": report.file,
        "channel": report.channel,
        "recorded": [
            {
                "line": line.row,
                "ref": line.ref,
                "unit": unit,
                "receipt": receipt,
                "amount": decimal_str(line.amount_fen),
            }
            for line, unit, receipt in report.recorded
        ],
        "recorded_total": decimal_str(report.recorded_fen),
        "already_recorded": report.already,
        "needs_review": review,
        "conflicts": report.conflicts,
        "refunds": refunds,
        "refunds_to_reverse": len(refunds),
        "warnings": report.warnings,
        "ignored": report.ignored,
        "dry_run": dry_run,
    }


def _reconcile_summary(report: reconciliation.ReconcileReport, refunds: list[dict]) -> str:
    conflicts = report.conflicts
    return (
        f"{report.file} ({report.channel}): recorded {len(report.recorded)} payments "
        f"{format_money(report.recorded_fen)}, already recorded {report.already}, "
        f"needs review {len(report.review)}"
        + (f" (of them {conflicts} with a reference already recorded)" if conflicts else "")
        + (f", refunds to reverse {len(refunds)}" if refunds else "")
        + ", ignored "
        f"{sum(report.ignored.values())}"
        + (
            f" ({', '.join(f'{k} {v}' for k, v in report.ignored.items())})"
            if report.ignored
            else ""
        )
    )


def _print_review(env, review: list[dict]) -> None:
    for row in review:
        row["candidates"] = " ".join(row["candidates"]) or "—"
    emit(
        env,
        review,
        (
            Col("line", "行号", "right"),
            Col("date", "日期"),
            Col("amount", "金额", "right"),
            Col("payer", "付款方"),
            Col("memo", "备注"),
            Col("reason", "原因"),
            Col("candidates", "候选房号"),
        ),
        Format.table,
        title="needs review: --confirm LINE=UNIT, or --review-out / --review-in",
    )
