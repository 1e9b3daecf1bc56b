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
    WideOpt,
    emit,
    emit_spooled,
    now,
    open_env,
    parse_day,
    print_csv_rows,
    record_unmasked,
    write_json,
    write_json_listing,
)
from propfee.collection import latefee as core
from propfee.collection import plans
from propfee.collection.agreement import write_agreement
from propfee.collection.legalpack import build
from propfee.core.i18n import _, ngettext
from propfee.core.money import decimal_str, format_money
from propfee.files import workbook, xlsxstream
from propfee.store.db import transaction

STREAM_ROWS = 10_000  # a longer --out .xlsx is written row by row (xlsxstream), never held

plan_app = typer.Typer(
    help=_("Installment plans: record, list, show, print the agreement."), no_args_is_help=True
)


def _example(text: str) -> str:
    """An example command line as the last paragraph of a help page."""
    return "\n\n" + text


def register(app: typer.Typer) -> None:
    app.command(
        "latefee",
        help=_("Late fees by the contract's clause, beside the likely court ceiling.")
        + "\n\n"
        + _(
            "Per bill per overdue day after the grace days, on what the bill still owed that "
            "day. No clause in the settings ([late_fee] daily_rate) means no late fee anywhere. "
            "`post UNIT` makes what has accrued and is not yet posted into late-fee bills (the "
            "same --as-of again posts nothing); they can be waived with `propfee adjust` like "
            "any bill."
        )
        + _example(_("Example: propfee latefee 1-1-1001 --as-of 2026-11-30")),
        short_help=_("Late fees by the contract, beside the court ceiling."),
    )(latefee)
    app.add_typer(plan_app, name="plan")
    app.command(
        "legal-pack",
        help=_("The evidence pack for court or arbitration: one folder and a zip of it.")
        + "\n\n"
        + _(
            "A cover summary, the bills per period with their limitation status, the statement "
            "of account, the fee standard and its publication, the area basis and ownership "
            "history, every contact with its full text and proof of delivery, the late fee by "
            "the contract and by the court-ceiling method. Owner data appears in full: keep it "
            "private."
        )
        + _example(
            _("Example: propfee legal-pack 1-1-1001 --out evidence/1-1-1001 --as-of 2026-11-30")
        ),
        short_help=_("The evidence pack for court or arbitration."),
    )(legal_pack)


# ---------------------------------------------------------------- latefee


def latefee(
    words: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[post] [UNIT]",
            help=_("UNIT to show one unit; post UNIT to post its late fees as bills."),
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="FILE.xlsx", help=_("Also write the table (.xlsx or .csv).")),
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    wide: WideOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Late fees: a table, or ``post UNIT``."""
    env = open_env(db, config, quiet)
    day = parse_day(as_of)
    posting, unit = core.command_words(list(words or []))
    if posting:
        _post(env, unit, day, dry_run, fmt)
        return
    conn = env.connect(create=False)
    if unit is None:  # a whole estate: worked out a few hundred units at a time, never held
        with core.SpooledLateFees(conn, as_of=day, settings=env.settings) as spooled:
            _show_late_fees(env, spooled, out, day, fmt, wide)
        return
    found = core.late_fee_list(conn, as_of=day, settings=env.settings, unit_code=unit)
    _show_late_fees(env, found, out, day, fmt, wide)


def _show_late_fees(env, found, out: Path | None, day, fmt: Format, wide: bool) -> None:
    """The late fees (a ``LateFeeList`` or ``SpooledLateFees``: read as they go by) as a
    table, JSON or CSV, and to ``--out``."""
    rules = env.settings.late_fee
    for warning in found.warnings:
        env.warn(warning)
    totals = {key: decimal_str(fen) for key, fen in found.totals.items()}
    if out is not None:
        title = workbook.Title(env.settings.estate.name, _("Late fee calculation"), "", day, now())
        _write_late_fees(out, found, title)
    if not rules.has_clause:
        env.warn(
            _(
                "no late-fee clause in the settings ([late_fee] daily_rate): no late fee is "
                "charged (LEGAL rule 7); the loss is shown for reference"
            )
        )
    if fmt is Format.json:
        write_json_listing(
            (_late_fee_json(line) for line in found),
            day,
            total=totals,
            clause=rules.has_clause,
            daily_rate=rules.daily_rate or None,
            reference_rate=rules.reference_rate,
            court_factor=rules.court_factor,
            cap_at_ceiling=rules.cap_at_ceiling,
        )
        return
    _late_fee_table(env, found, totals, day, fmt, wide)


def _late_fee_table(env, found, totals: dict, day, fmt: Format, wide: bool) -> None:
    """The table (or its CSV, written as the lines go by): only the cells it shows are held."""
    over = _("over")
    columns = [
        Col("unit", _("Unit no.")),
        Col("payer", _("Payer"), optional=1),
        Col("period", _("Period")),
        Col("item", _("Item")),
        Col("due_on", _("Due by")),
        Col("owed", _("Still owed"), "right", money=True),
        Col("days", _("Days"), "right"),
        Col("late_fee", _("By the contract"), "right", money=True),
        Col("loss", _("Interest loss"), "right", money=True, optional=4),
        Col("ceiling", _("Court ceiling"), "right", money=True, optional=3),
        Col("above_ceiling", _("Over ceiling"), optional=3),
        Col("demanded", _("Claimable"), "right", money=True),
        Col("posted", _("Posted"), "right", money=True, optional=2),
    ]

    def rows():  # a row of the table for each line (its JSON, flags as words), read anew
        return (
            {**_late_fee_json(line), "above_ceiling": over if line.above_ceiling else ""}
            for line in found
        )

    if fmt is Format.csv:  # emit's CSV, a row at a time
        print_csv_rows(
            [_(c.header) for c in columns],
            ([row[c.key] for c in columns] for row in rows()),  # no flags: as emit writes them
            number_columns=[i for i, c in enumerate(columns) if c.justify == "right" or c.money],
        )
        return
    emit_spooled(  # a whole estate's lines, never all held (see SpooledLateFees)
        env,
        rows,
        columns,
        title=_("Late fees (as of {day})").format(day=day),
        footer={"unit": _("Total"), **totals},
        wide=wide,
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
    text = ngettext(
        "{unit} {day}: posted {n} late-fee bill, {amount}",
        "{unit} {day}: posted {n} late-fee bills, {amount}",
        len(report.posted),
    ).format(unit=report.unit, day=report.as_of, n=len(report.posted), amount=format_money(total))
    if report.already:
        text += _("; {n} already posted for this day").format(n=report.already)
    if dry_run:
        text += _("; dry run: nothing was written")
    env.result(text)


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


def _write_late_fees(out: Path, found, title: workbook.Title) -> None:
    """The table to ``--out``: a .csv and a long .xlsx written as the lines go by
    (``xlsxstream.write_table``, the same cells), a short .xlsx through ``workbook``."""
    unit = _("Unit no.")
    headers = [
        unit,
        _("Payer"),
        _("Bill"),
        _("Period"),
        _("Fee item"),
        _("Due by"),
        _("Still owed"),
        _("Days charged"),
        _("By the contract"),
        _("Interest loss"),
        _("Likely court ceiling"),
        _("Over the ceiling"),
        _("Claimable"),
        _("Posted"),
    ]
    yes = _("yes")

    def rows():
        for line in found:
            yield [
                line.unit,
                line.payer,
                line.bill_id,
                line.period,
                line.item,
                line.due_on,
                Decimal(decimal_str(line.owed_fen)),
                line.days,
                Decimal(decimal_str(line.clause_fen)),
                Decimal(decimal_str(line.loss_fen)),
                Decimal(decimal_str(line.ceiling_fen)),
                yes if line.above_ceiling else "",
                Decimal(decimal_str(line.demanded_fen)),
                Decimal(decimal_str(line.posted_fen)),
            ]

    sheet = _("Late fees")
    kinds = {_("Due by"): workbook.DATE, _("Days charged"): workbook.COUNT}
    text_columns = (unit, _("Bill"))
    if out.suffix.lower() == ".xlsx" and len(found) > STREAM_ROWS:
        xlsxstream.write_table(
            out, headers, rows, title=title, sheet=sheet, kinds=kinds, text_columns=text_columns
        )
        return
    workbook.write_table(
        out,
        headers,
        rows() if out.suffix.lower() == ".csv" else list(rows()),
        title=title,
        sheet=sheet,
        text_columns=text_columns,
        kinds=kinds,
    )


# ---------------------------------------------------------------- plans


@plan_app.command(
    "create",
    help=_(
        "Record a signed installment plan: the schedule sums exactly to the debt covered "
        "(every open bill, or the bills given with --bill)."
    )
    + "\n\n"
    + _(
        "Signing is logged as the debtor's acknowledgement of the debt (it restarts the "
        "limitation clock). While the plan is honoured the unit is held at tier plan; an "
        "installment unpaid dunning.plan_grace_days after its due day breaks it and dunning "
        "resumes."
    )
    + _example(
        _(
            "Example: propfee plan create 1-1-1001 --installments 3 --first-due 2026-12-15 --signed 2026-11-25"
        )
    ),
    short_help=_("Record a signed installment plan."),
)
def plan_create(
    unit: Annotated[str, typer.Argument(help=_("The unit, e.g. 1-1-1001."))],
    installments: Annotated[int, typer.Option(help=_("How many installments."))],
    first_due: Annotated[
        str, typer.Option(metavar="YYYY-MM-DD", help=_("The first one's due day."))
    ],
    every: Annotated[str, typer.Option(help=_("month or week."))] = "month",
    signed: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help=_("When it was signed (default: today).")),
    ] = None,
    bill: Annotated[
        list[int] | None,
        typer.Option(help=_("Cover only these bills (repeatable; default: every open bill).")),
    ] = None,
    note: Annotated[str, typer.Option(help=_("Anything to keep with it."))] = "",
    staff: Annotated[str, typer.Option(envvar="PROPFEE_OPERATOR", help=_("Who recorded it."))] = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
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


@plan_app.command(
    "list",
    help=_("Every plan with its state as of a day: honoured, broken or completed.")
    + _example(_("Example: propfee plan list --as-of 2026-12-31")),
    short_help=_("Every plan and its state."),
)
def plan_list(
    unit: Annotated[str | None, typer.Argument(help=_("Only this unit."))] = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    env = open_env(db, config)
    day = parse_day(as_of)
    found = plans.plans(env.connect(create=False), as_of=day, settings=env.settings, unit_code=unit)
    emit(
        env,
        [_plan_line(p) for p in found],
        [
            Col("id", _("Plan no."), "right"),
            Col("unit", _("Unit no.")),
            Col("party", _("Payer")),
            Col("signed", _("Signed on")),
            Col("installments", _("Installments"), "right"),
            Col("total", _("Amount"), "right", money=True),
            Col("paid", _("Paid so far"), "right", money=True),
            Col("state", _("State")),
        ],
        fmt,
        title=_("Installment plans (as of {day})").format(day=day),
        as_of=day,
        json_rows=[_plan_json(p) for p in found],
    )


@plan_app.command(
    "show",
    help=_("One plan: the bills it covers and each installment, paid or not, as of a day.")
    + _example(_("Example: propfee plan show 3 --as-of 2026-12-31")),
    short_help=_("One plan: its bills and installments."),
)
def plan_show(
    plan_id: Annotated[int, typer.Argument(metavar="ID", help=_("The plan number."))],
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    env = open_env(db, config)
    plan = plans.plan_status(
        env.connect(create=False), plan_id, as_of=parse_day(as_of), settings=env.settings
    )
    _show_plan(env, plan, fmt)


@plan_app.command(
    "agreement",
    help=_(
        "Print the installment agreement (A4 HTML) for both sides to sign: both parties, the "
        "home, the arrears the payer acknowledges, the schedule (its installments sum to the "
        "arrears), how to pay, and signature and date fields."
    )
    + "\n\n"
    + _("Phones and ID numbers are masked; --no-mask prints them in full and logs it.")
    + _example(_("Example: propfee plan agreement 3 --out agreement-3.html")),
    short_help=_("Print the installment agreement (A4 HTML) to sign."),
)
def plan_agreement(
    plan_id: Annotated[
        int, typer.Argument(metavar="ID", help=_("The plan number (see propfee plan list)."))
    ],
    out: Annotated[
        Path,
        typer.Option(metavar="FILE.html", help=_("The HTML file to write the agreement to (A4).")),
    ],
    language: Annotated[
        str | None,
        typer.Option(help=_("zh or en (default: the language in the settings).")),
    ] = None,
    no_mask: Annotated[
        bool,
        typer.Option(
            "--no-mask",
            help=_(
                "Print phones and ID numbers in full; this is kept in the audit log with the "
                "operator."
            ),
        ),
    ] = False,
    operator: Annotated[
        str,
        typer.Option(
            metavar="NAME", help=_("The operator, kept in the audit log (with --no-mask).")
        ),
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    made = write_agreement(
        conn, plan_id, out, settings=env.settings, mask=not no_mask, language=language
    )
    if no_mask:
        record_unmasked(conn, "plan agreement", out, 1)
    text = _("installment agreement no. {id}  {unit} {party}  {amount} in {n} installments").format(
        id=made.plan_id,
        unit=made.unit,
        party=made.party,
        amount=format_money(made.total_fen),
        n=made.installments,
    )
    env.result(f"{text} → {made.path}")


def _plan_line(plan) -> dict:
    return {
        "id": plan.id,
        "unit": plan.unit,
        "party": plan.party,
        "signed": plan.signed_on,
        "installments": len(plan.installments),
        "total": decimal_str(plan.total_fen),
        "paid": decimal_str(plan.paid_fen),
        "state": _(plans.STATE_LABELS[plan.state])
        + (_(" ({day})").format(day=plan.broken_on) if plan.broken_on else ""),
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
    state = _(plans.STATE_LABELS[plan.state])
    if plan.broken_on:
        state += _(" (since {day})").format(day=plan.broken_on)
    env.result(
        _(
            "installment agreement no. {id}  {unit} {party}  signed {signed}  {amount}, "
            "paid {paid}  {state}"
        ).format(
            id=plan.id,
            unit=plan.unit,
            party=plan.party,
            signed=plan.signed_on,
            amount=format_money(plan.total_fen),
            paid=format_money(plan.paid_fen),
            state=state,
        )
    )
    emit(
        env,
        [
            {
                "seq": i.seq,
                "due_on": i.due_on,
                "amount": decimal_str(i.amount_fen),
                "paid": decimal_str(i.paid_fen),
                "state": _("paid") if i.paid else (_("part paid") if i.paid_fen else ""),
            }
            for i in plan.installments
        ],
        [
            Col("seq", _("No."), "right"),
            Col("due_on", _("Installment due")),
            Col("amount", _("Amount"), "right", money=True),
            Col("paid", _("Paid so far"), "right", money=True),
            Col("state", _("State")),
        ],
        fmt,
    )


# ---------------------------------------------------------------- the legal pack


def legal_pack(
    unit: Annotated[str, typer.Argument(help=_("The unit, e.g. 1-1-1001."))],
    out: Annotated[Path, typer.Option(metavar="DIR", help=_("A new folder for the pack."))],
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """The evidence pack for one unit."""
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
        _(
            "{unit}: owed {owed}, {contacts} contacts ({delivered} with proof of delivery), "
            "{barred} periods time-barred"
        ).format(
            unit=pack.unit,
            owed=format_money(pack.owed_fen),
            contacts=pack.contacts,
            delivered=pack.delivered,
            barred=pack.barred,
        )
    )
    for path in pack.files:
        env.result(f"  {path}")
    env.result(f"  {pack.zip_path}")
