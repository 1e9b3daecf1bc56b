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
    WideOpt,
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
from propfee.core.i18n import N_, _, ngettext
from propfee.core.money import chinese_amount, decimal_str, format_money, parse_money
from propfee.files import workbook
from propfee.files.render import render, require
from propfee.files.workbook import Title
from propfee.files.writers import check_output, write_table, write_text
from propfee.payments import ledger, reconciliation
from propfee.store.db import transaction

report_app = typer.Typer(
    help=_("Reports: the daily close, the collection rate."), no_args_is_help=True
)


def _example(*lines: str) -> str:
    return "\n\n".join(_("Example: {example}").format(example=line) for line in lines)


PAY_HELP = (
    _("Record a payment and print its receipt.")
    + "\n\n"
    + _(
        "The money goes to the bills the payer names, else to the oldest due bills first; what "
        "is left stays as credit and pays the next bills. Recording the same channel and --ref "
        "again records nothing and names the receipt that holds it."
    )
    + "\n\n"
    + _example(
        "propfee pay 1-1-1001 450.00 --channel wechat --ref 4200001234202611150001 --cashier 李娜"
    )
)
REVERSE_HELP = (
    _("Reverse a payment: a linked reversal entry; its bills re-open. Nothing is deleted.")
    + "\n\n"
    + _example('propfee reverse 2026-000123 --reason "重复收款"')
)
APPLY_CREDIT_HELP = (
    _("Apply credit (money paid ahead) to open bills, oldest due first.")
    + "\n\n"
    + _("The bill run does this by itself for the bills it makes.")
    + "\n\n"
    + _example("propfee apply-credit 1-1-1001")
)
STATEMENT_HELP = (
    _("The statement of account of a unit: bills, adjustments, payments, reversals.")
    + "\n\n"
    + _(
        "It is the account of the party who pays for the unit now (or --party NAME): a new "
        "owner never sees what an earlier owner or a tenant owed or paid. --all-parties gives "
        "staff the whole unit's ledger."
    )
    + "\n\n"
    + _example("propfee statement 1-1-1001 --from 2026-01-01 --out 对账单.xlsx")
)
DAILY_HELP = (
    _("The daily close: the day's payments by channel and cashier.")
    + "\n\n"
    + _(
        "The payments recorded that day (the booking day: a statement reconciled today counts "
        "today, whatever day its money was paid) by channel and by cashier, reversals, and "
        "totals that equal the day's ledger."
    )
    + "\n\n"
    + _example("propfee report daily --date 2026-11-15")
)
CHECK_HELP = (
    _("Verify every ledger invariant and the database file; exit 1 with details if any fails.")
    + "\n\n"
    + _(
        "Allocations never exceed a bill after adjustments, each payment equals its allocations "
        "plus credit, credit is never negative, receipts are gapless, no orphan rows, the "
        "settled-on cache is true, the audit trail is unbroken, and PRAGMA integrity_check "
        "passes."
    )
    + "\n\n"
    + _example("propfee check")
)
RECONCILE_HELP = (
    _("Import a payment statement and record the incoming money as payments.")
    + "\n\n"
    + _(
        'A line whose memo names a unit code (e.g. "1-1-1001 物业费") becomes a payment with its '
        "transaction number as reference; a line without one is listed for review with "
        "candidate units and never guessed. Lines already recorded (same reference, amount and "
        "unit) are skipped, so overlapping statements are safe; a reference already recorded "
        "with another amount or unit is listed for review. A bank serial number can repeat: "
        "such a line is recorded as a payment of its own only when confirmed."
    )
    + "\n\n"
    + _example("propfee reconcile 微信支付账单(20261101-20261130).csv --review-out 待确认.csv")
)


def register(app: typer.Typer) -> None:
    app.command("pay", help=PAY_HELP, short_help=_("Record a payment and print its receipt"))(pay)
    app.command("reverse", help=REVERSE_HELP, short_help=_("Reverse a payment; its bills re-open"))(
        reverse
    )
    app.command("apply-credit", help=APPLY_CREDIT_HELP, short_help=_("Apply credit to open bills"))(
        apply_credit
    )
    app.command("statement", help=STATEMENT_HELP, short_help=_("A unit's statement of account"))(
        statement
    )
    app.command("check", help=CHECK_HELP, short_help=_("Verify the ledger and the database file"))(
        check
    )
    app.command(
        "reconcile",
        help=RECONCILE_HELP,
        short_help=_("Import a payment statement and record its payments"),
    )(reconcile)
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
    unit: Annotated[str, typer.Argument(help=_("The unit paid for, e.g. 1-1-1001."))],
    amount: Annotated[str, typer.Argument(help=_("The amount in yuan, e.g. 450.00."))],
    channel: Annotated[
        str,
        typer.Option(
            help=_(
                "wechat (WeChat Pay) | alipay (Alipay) | bank (bank transfer) | cash | pos (card) "
                "| autodebit (direct debit) | other"
            )
        ),
    ],
    ref: Annotated[
        str | None,
        typer.Option(help=_("The channel's transaction number (required except for cash).")),
    ] = None,
    paid_on: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help=_("When it was paid (default: --as-of).")
        ),
    ] = None,
    cashier: Annotated[str, typer.Option(help=_("Who took the money."))] = "",
    note: Annotated[str, typer.Option(help=_("A note on the receipt."))] = "",
    bill: Annotated[
        list[int] | None,
        typer.Option(help=_("The payer's choice of bill (repeatable); else oldest due first.")),
    ] = None,
    invoice: Annotated[
        bool, typer.Option(help=_("The payer asks for an official invoice."))
    ] = False,
    receipt: Annotated[
        Path | None, typer.Option(metavar="FILE.html", help=_("Also write a print-ready receipt."))
    ] = None,
    language: Annotated[str, typer.Option(help=_("zh or en, for the receipt."))] = "zh",
    large: Annotated[
        bool,
        typer.Option(
            "--large", help=_("Allow one payment over ¥10,000,000 (up to ¥1,000,000,000).")
        ),
    ] = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record a payment and print its receipt."""
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
        env.info(
            _("already recorded as receipt {receipt}; nothing new was recorded").format(
                receipt=payment.receipt_no
            )
        )
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
        "channel": ledger.channel_label(payment.channel, language),
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
    receipt: Annotated[str, typer.Argument(help=_("The receipt number, e.g. 2026-000123."))],
    reason: Annotated[str, typer.Option(help=_("Why it is reversed."))],
    operator: Annotated[str, typer.Option(help=_("Who reverses it."))] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Reverse a payment: a linked reversal entry; its bills re-open."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        result = ledger.reverse_payment(
            conn, receipt, reason=reason, on=parse_past_day(as_of), now=now(), operator=operator
        )
    line = ngettext(
        "reversed receipt {receipt} ({unit}, {amount}): {n} bill re-opened",
        "reversed receipt {receipt} ({unit}, {amount}): {n} bills re-opened",
        len(result.reopened),
    ).format(
        receipt=result.receipt_no,
        unit=result.unit,
        amount=format_money(result.amount_fen),
        n=len(result.reopened),
    )
    if result.credit_removed_fen:
        line += _(", {amount} credit removed").format(
            amount=format_money(result.credit_removed_fen)
        )
    env.result(line)
    if result.credit_left_fen:
        env.result(
            _(
                "{unit} still has {amount} of credit: {command} applies it to the re-opened bills"
            ).format(
                unit=result.unit,
                amount=format_money(result.credit_left_fen),
                command=f"propfee apply-credit {result.unit}",
            )
        )


def apply_credit(
    unit: Annotated[
        str | None, typer.Argument(help=_("Only this unit (default: every unit)."))
    ] = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Apply credit (money paid ahead) to open bills, oldest due first."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        ids = [ledger.unit_id_of(conn, unit)] if unit else None
        applied = ledger.apply_credit(conn, on=parse_day(as_of), now=now(), unit_ids=ids)
    env.result(_("applied {amount} of credit to open bills").format(amount=format_money(applied)))


def statement(
    unit: Annotated[str, typer.Argument(help=_("The unit, e.g. 1-1-1001."))],
    first: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help=_("First day (default: the start).")),
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", metavar="YYYY-MM-DD", help=_("Last day (default: today)."))
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE.xlsx|.html", help=_("Also write it as a file."))
    ] = None,
    party: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help=_("Whose account: an earlier owner or a tenant who paid (default: who pays now)."),
        ),
    ] = None,
    all_parties: Annotated[
        bool,
        typer.Option(
            "--all-parties", help=_("The whole unit's ledger, every party's (for staff only).")
        ),
    ] = False,
    wide: WideOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The statement of account of a unit: bills, adjustments, payments, reversals."""
    env = open_env(db, config)
    if out is not None:
        check_output(out, "--out")
    if party and all_parties:
        raise InvalidValue(_("give --party or --all-parties, not both"))
    conn = env.connect(create=False)
    query = {
        "first": parse_day(first, option="--from") if first else None,
        "last": parse_day(last, option="--to") if last else None,
        "party": party,
        "all_parties": all_parties,
        "today": parse_day(None),
        "settings": env.settings,
    }
    # the reader's language at the terminal and in files for staff; Chinese in the page
    # handed to the owner
    result = ledger.account_statement(conn, unit, words=_, **query)
    rows = _statement_rows(result)
    if out is not None:
        page = out.suffix.lower() == ".html"
        _write_statement(
            env, ledger.account_statement(conn, unit, **query) if page else result, rows, out
        )
    if fmt is Format.json:
        write_json(_statement_document(result, rows))
        return
    if fmt is Format.csv:
        print_csv(*_statement_sheet(result, rows))  # the same as --out FILE.csv
        return
    _print_statement(env, result, rows, wide)


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


def _print_statement(env, result: ledger.Statement, rows: list[dict], wide: bool) -> None:
    env.out.print(
        "[bold]"
        + _("{unit} statement of account").format(unit=safe_markup(result.unit))
        + "[/bold]  "
        + (
            _("Payer {name}").format(name=safe_markup(result.party))
            if result.party is not None
            else _("Every payer (internal)")
        )
        + "  "
        + _("Opening balance {amount}").format(amount=format_money(result.opening_balance_fen))
    )
    if result.others:
        env.warn(
            ngettext(
                "{unit} also holds the account of {n} other party, not shown: "
                "--party NAME or --all-parties (staff only)",
                "{unit} also holds the accounts of {n} other parties, not shown: "
                "--party NAME or --all-parties (staff only)",
                result.others,
            ).format(unit=result.unit, n=result.others)
        )
    columns = statement_columns()
    emit(
        env,
        [{**row, "kind": _(STATEMENT_KINDS[row["kind"]])} for row in rows],
        tuple(
            Col(key, header, money=key in ("debit", "credit", "balance"), optional=key == "ref")
            for key, header in columns
        ),
        Format.table,
        wide=wide,
    )
    env.out.print(
        _("Closing arrears {owed}  credit {credit}").format(
            owed=format_money(result.owed_fen), credit=format_money(result.credit_fen)
        )
    )


#: a statement line's kind as staff read it (the JSON keeps the English key)
STATEMENT_KINDS = {
    "bill": N_("Charge"),
    "adjustment": N_("Adjustment"),
    "payment": N_("Payment"),
    "reversal": N_("Reversal"),
}


def statement_columns() -> list[tuple[str, str]]:
    """The statement's columns (row key, header) in the active language."""
    return [
        ("date", _("Date")),
        ("kind", _("Kind")),
        ("ref", _("Ref. no.")),
        ("text", _("Description")),
        ("debit", _("Charged")),
        ("credit", _("Received")),
        ("balance", _("Balance")),
    ]


def _write_statement(env, result: ledger.Statement, rows: list[dict], out: Path) -> None:

    if out.suffix.lower() == ".html":
        write_text(
            out,
            render(env.settings, "zh/statement.html", {"estate": env.settings.estate, "s": result}),
            option="--out",
        )
        return
    headers, table = _statement_sheet(result, rows)
    sheet = _("{unit} statement of account").format(unit=result.unit)
    if out.suffix.lower() != ".xlsx":
        write_table(out, headers, table, sheet=sheet)
        return
    # the workbook: the closing line under the table, and a total row of charged and received
    if result.party is not None:
        payer = _("payer {name}").format(name=result.party)
    else:
        payer = _("every payer (internal)")
    columns = dict(statement_columns())
    workbook.write_table(
        out,
        headers,
        table[:-1],
        title=Title(
            env.settings.estate.name,
            _("{unit} statement of account ({payer})").format(unit=result.unit, payer=payer),
            _("{first} to {last}").format(
                first=result.first or _("account opened"), last=result.last or _("up to now")
            ),
            _day_or_none(result.last),
            now(),
        ),
        sheet=sheet,
        kinds={
            columns["date"]: workbook.DATE,
            columns["ref"]: workbook.CODE,
            columns["balance"]: workbook.BALANCE,
        },
        notes=[
            _("Arrears at the end {owed}　credit {credit}").format(
                owed=format_money(result.owed_fen), credit=format_money(result.credit_fen)
            )
        ],
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
            _(STATEMENT_KINDS[r["kind"]]),
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
        [
            "",
            _("Opening"),
            "",
            _("Opening balance"),
            None,
            None,
            Decimal(decimal_str(result.opening_balance_fen)),
        ],
    )
    table.append(
        [
            "",
            _("Closing"),
            "",
            _("Closing arrears / credit"),
            Decimal(decimal_str(result.owed_fen)),
            Decimal(decimal_str(result.credit_fen)),
            None,
        ]
    )
    return [header for _key, header in statement_columns()], table


@report_app.command("daily", help=DAILY_HELP, short_help=_("The daily close"))
def report_daily(
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help=_("The day (default: today).")),
    ] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The daily close: the day's payments by channel and cashier."""
    env = open_env(db, config)
    close = ledger.daily_close(env.connect(create=False), parse_day(day, option="--date"))
    channels = [
        {"channel": ledger.channel_label(c), "count": n, "amount": decimal_str(f)}
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
                    "channel": ledger.channel_label(p["channel"]),
                }
                for p in close.payments
            ],
            daily_payment_columns(),
            fmt,
        )
        return
    _print_daily(env, close, channels, cashiers)


def daily_payment_columns() -> tuple[Col, ...]:
    return (
        Col("receipt", _("Receipt no.")),
        Col("unit", _("Unit")),
        Col("amount", _("Amount"), "right", money=True),
        Col("channel", _("Payment channel")),
        Col("ref", _("Transaction no.")),
        Col("paid_on", _("Paid on")),
        Col("cashier", _("Cashier")),
    )


def _daily_json(close: ledger.DailyClose, channels: list[dict], cashiers: list[dict]) -> dict:
    return {
        "date": close.day,
        "received": decimal_str(close.received_fen),
        "reversed": decimal_str(close.reversed_fen),
        "net": decimal_str(close.net_fen),
        "by_channel": channels,
        "by_cashier": cashiers,
        "payments": [_in_yuan(p) for p in close.payments],
        "reversals": [_in_yuan(r) for r in close.reversals],
    }


def _in_yuan(row: dict) -> dict:
    """A payment or reversal of the daily close for JSON: its money as ``"1234.50"``."""
    shown = {k: v for k, v in row.items() if k != "amount_fen"}
    return {**shown, "amount": decimal_str(row["amount_fen"])}


def _print_daily(env, close: ledger.DailyClose, channels: list[dict], cashiers: list[dict]) -> None:
    fmt = Format.table
    emit(
        env,
        channels,
        (
            Col("channel", _("Payment channel")),
            Col("count", _("Number of payments"), "right"),
            Col("amount", _("Amount"), "right", money=True),
        ),
        fmt,
        title=_("{day} daily close: by channel").format(day=close.day),
    )
    emit(
        env,
        cashiers,
        (
            Col("cashier", _("Cashier")),
            Col("count", _("Number of payments"), "right"),
            Col("amount", _("Amount"), "right", money=True),
        ),
        fmt,
        title=_("By cashier"),
    )
    env.out.print(
        ngettext(
            "received {n} payment {received}",
            "received {n} payments {received}",
            len(close.payments),
        ).format(n=len(close.payments), received=format_money(close.received_fen))
        + ngettext(
            ", reversed {n} payment {amount}",
            ", reversed {n} payments {amount}",
            len(close.reversals),
        ).format(n=len(close.reversals), amount=format_money(close.reversed_fen))
        + _(", net {net}").format(net=format_money(close.net_fen))
    )
    earlier = close.paid_earlier
    if earlier:
        env.out.print(
            _(
                "counted by booking day: {n} of them, {amount}, were paid before the day "
                "(earlier payments imported from a statement); --format csv lists each "
                "payment's paid-on day"
            ).format(n=len(earlier), amount=format_money(sum(p["amount_fen"] for p in earlier)))
        )


def check(
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Verify every ledger invariant and the database file."""
    env = open_env(db, config, quiet)
    problems = ledger.check(env.connect(create=False))
    rows = [{"what": p.what, "detail": p.detail} for p in problems]
    if fmt is not Format.table:
        emit(
            env,
            [{**row, "what": ledger.problem_label(row["what"])} for row in rows],
            (Col("what", _("Check")), Col("detail", _("Details"))),
            fmt,
            document={"ok": not problems, "problems": rows},
        )
    elif problems:
        for p in problems:
            env.err.print(
                f"[red]✗[/red] {safe_markup(ledger.problem_label(p.what))}"
                + _(": ")
                + safe_markup(p.detail),
                highlight=False,
            )
    else:
        env.result(_("ok: every check passed"))
    if problems:
        env.err.print(
            "[red]"
            + _("error:")
            + "[/red] "
            + ngettext("{n} problem found", "{n} problems found", len(problems)).format(
                n=len(problems)
            )
        )
        raise typer.Exit(1)


def reconcile(
    file: Annotated[
        Path, typer.Argument(help=_("A WeChat Pay or Alipay export, or a bank statement."))
    ],
    profile: Annotated[
        str,
        typer.Option(
            help=_(
                "auto | wechat | alipay | bank | a profile .toml (or its name in profiles/ "
                "beside the database)."
            )
        ),
    ] = "auto",
    confirm: Annotated[
        list[str] | None,
        typer.Option(
            metavar="LINE=UNIT",
            help=_(
                "Record a line needing review for this unit (repeatable); "
                "LINE is its row number or transaction number."
            ),
        ),
    ] = None,
    review_out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.csv",
            help=_(
                "Write the lines needing review; fill in their unit column and pass the file "
                "back with --review-in."
            ),
        ),
    ] = None,
    review_in: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.csv", help=_("A filled-in review file: record its lines for their units.")
        ),
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=_("Do everything, report it, roll back."))
    ] = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import a payment statement and record the incoming money as payments."""
    env = open_env(db, config, quiet)
    chosen = reconciliation.parse_confirm(confirm or [])
    selected = reconciliation.load_profile(profile, beside=env.db_path.parent)
    conn = env.connect(dry_run=dry_run, create=False)
    env.backup_first("reconcile", dry_run=dry_run)
    with env.progress(_("reconciling {file}").format(file=file.name)) as tick:
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
        what = (
            _("line {line}: {amount} of {ref} ({unit}) was refunded on {day}")
            if r.line.flag == "refund"
            else _("line {line}: {amount} of {ref} ({unit}) was not completed on {day}")
        )
        env.warn(
            what.format(
                line=r.line.row,
                amount=format_money(r.line.amount_fen),
                ref=r.line.ref,
                unit=r.unit,
                day=r.line.day,
            )
            + _(" — {action}: {command}").format(
                action=r.action,
                command=f'propfee reverse {r.receipt} --reason "{_("refund")}"',
            )
        )
    if fmt is Format.json:
        write_json(_reconcile_json(report, review, refunds, dry_run))
        return
    env.result(_reconcile_summary(report, refunds))
    if review and not quiet:
        _print_review(env, review)
    if dry_run:
        env.result(_("dry run: nothing was written"))


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
    line = ngettext(
        "{file} ({channel}): recorded {n} payment {amount}, already recorded {already}, "
        "needs review {review}",
        "{file} ({channel}): recorded {n} payments {amount}, already recorded {already}, "
        "needs review {review}",
        len(report.recorded),
    ).format(
        file=report.file,
        channel=ledger.channel_label(report.channel),
        n=len(report.recorded),
        amount=format_money(report.recorded_fen),
        already=report.already,
        review=len(report.review),
    )
    if conflicts:
        line += _(" (of them {n} with a reference already recorded)").format(n=conflicts)
    if refunds:
        line += _(", refunds to reverse {n}").format(n=len(refunds))
    line += _(", ignored {n}").format(n=sum(report.ignored.values()))
    if report.ignored:
        line += _(" ({list})").format(
            list=_(", ").join(f"{_(k)} {v}" for k, v in report.ignored.items())
        )
    return line


def _print_review(env, review: list[dict]) -> None:
    for row in review:
        row["candidates"] = " ".join(row["candidates"]) or "—"
    emit(
        env,
        review,
        (
            Col("line", _("Line"), "right"),
            Col("date", _("Date")),
            Col("amount", _("Amount"), "right", money=True),
            Col("payer", _("Counterparty")),
            Col("memo", _("Memo")),
            Col("reason", _("Reason")),
            Col("candidates", _("Candidate units")),
        ),
        Format.table,
        title=_("needs review: --confirm LINE=UNIT, or --review-out / --review-in"),
    )
