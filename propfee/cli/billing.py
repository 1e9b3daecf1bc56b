"""Billing commands: bill, adjust, notices, readings import, import-history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from propfee.billing import bills
from propfee.billing.meters import METER_NAMES, import_readings
from propfee.billing.notices import write_notices
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    DryRunOpt,
    Format,
    FormatOpt,
    FromMonthOpt,
    QuietOpt,
    check_month,
    emit,
    moved,
    now,
    open_env,
    parse_day,
    write_json,
)
from propfee.core import periods
from propfee.core.errors import InvalidValue
from propfee.core.i18n import _, ngettext
from propfee.core.money import decimal_str, format_money, parse_money
from propfee.files.headers import load_column_map
from propfee.payments import ledger
from propfee.payments.opening import FIELDS
from propfee.payments.opening import import_history as run
from propfee.store.db import transaction

readings_app = typer.Typer(help=_("Meter readings for metered fee items."), no_args_is_help=True)

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="building",
        help=_("building: one notice file per building (缴费通知单-YYYY-MM-1号楼.html)."),
    ),
]


def _example(*lines: str) -> str:
    return "\n\n".join(_("Example: {example}").format(example=line) for line in lines)


BILL_HELP = (
    _("Bill every unit for every applicable fee item, for a month or a range of months.")
    + "\n\n"
    + _(
        "A cycle already billed is skipped, so re-running creates nothing (safe from cron). "
        "Bills more than 12 months ahead are refused. Only published prices are billed."
    )
    + "\n\n"
    + _example("propfee bill --period 2026-11 --notices 通知单")
)
ADJUST_HELP = (
    _("Adjust a bill: a waiver, discount or correction, recorded as its own row.")
    + "\n\n"
    + _(
        "The bill itself never changes. A waiver never takes a bill below zero or below what "
        "has been paid on it."
    )
    + "\n\n"
    + _example(
        'propfee adjust 1024 --amount -50.00 --kind waiver --reason "电梯停运两周" '
        "--approved-by 王经理"
    )
)
NOTICES_HELP = (
    _("Write bill notices for a period: an A4 page per party and an SMS file.")
    + "\n\n"
    + _(
        "The HTML has one notice per page, each bill with its basis (area × price), earlier "
        "arrears, how to pay and the contact phone; sms-YYYY-MM.csv holds phone,message rows "
        "ready for a bulk-SMS upload."
    )
    + "\n\n"
    + _(
        "Notices are ordered by building, entrance, floor and room (building 2 before building "
        "10); --by building writes one file per building (缴费通知单-2026-11-1号楼.html)."
    )
    + "\n\n"
    + _example(
        "propfee notices --period 2026-11 --out 通知单",
        "propfee notices --period 2026-11 --out 通知单 --by building",
    )
)
IMPORT_HISTORY_HELP = (
    _("Import opening balances from the previous system: bills and what was paid on them.")
    + "\n\n"
    + _(
        "One row per unit, fee item and period: 房号, 收费项目, 开始日期/结束日期 (or 所属期间), "
        "应收金额, 实收金额, 缴费日期, 收款人, 备注. Fee items must exist (propfee fees add). End "
        "dates written as the day after each period (2025-01-01 → 2026-01-01) are recognised."
    )
    + "\n\n"
    + _example("propfee import-history 缴费历史.xlsx --map 历史.toml --dry-run")
)
REBILL_HELP = (
    _("Re-bill a unit's days from a date to the party now responsible for them.")
    + "\n\n"
    + _(
        "For a sale or a delivery recorded after those days were billed: each day billed to "
        "the previous owner or the developer is taken off its bill by a correction and billed "
        "to the new party on a new bill. Nothing is edited or deleted."
    )
    + "\n\n"
    + _example("propfee rebill 1-1-1003 --from 2026-12-10")
)


def register(app: typer.Typer) -> None:
    app.command("bill", help=BILL_HELP, short_help=_("Bill every unit for a month or a range"))(
        bill
    )
    app.command(
        "adjust", help=ADJUST_HELP, short_help=_("Adjust a bill: waiver, discount or correction")
    )(adjust)
    app.command(
        "rebill", help=REBILL_HELP, short_help=_("Re-bill a unit's days to the party now liable")
    )(rebill)
    app.command("notices", help=NOTICES_HELP, short_help=_("Write bill notices and an SMS file"))(
        notices
    )
    app.command(
        "import-history",
        help=IMPORT_HISTORY_HELP,
        short_help=_("Import opening balances from the previous system"),
    )(import_history)
    app.add_typer(readings_app, name="readings")


def bill(
    period: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM",
            callback=check_month,
            help=_("Bill the cycles containing this month (default: this month)."),
        ),
    ] = None,
    first: FromMonthOpt = None,
    through: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", callback=check_month, help=_("Last month of a range.")),
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option(
            help=_("Only this fee item (repeatable); a one-off item is billed only when named.")
        ),
    ] = None,
    building: Annotated[
        list[str] | None, typer.Option(help=_("Only this building (repeatable)."))
    ] = None,
    notices_dir: Annotated[
        Path | None,
        typer.Option(
            "--notices", metavar="DIR", help=_("Also write bill notices for what was billed.")
        ),
    ] = None,
    by: ByOpt = None,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Bill every unit for a month or a range of months."""
    env = open_env(db, config, quiet)
    by_building = _by_building(by, notices_dir is not None)
    day = parse_day(as_of)
    months = bills.months_to_bill(period, first, through, as_of=day)
    conn = env.connect(dry_run=dry_run)
    if not bills.all_billed(conn, months):
        env.backup_first("bill", dry_run=dry_run)
    with env.progress(_("billing")) as tick, transaction(conn, dry_run=dry_run):
        report = ledger.run_bills_and_apply_credit(
            conn,
            months=months,
            as_of=day,
            now=now(),
            settings=env.settings,
            item_codes=item or None,
            building=building or None,
            progress=tick,
        )
        report.dry_run = dry_run
        written = None
        if notices_dir is not None and report.bill_ids and not dry_run:
            written = write_notices(
                conn,
                month=months[0],
                settings=env.settings,
                as_of=day,
                out_dir=notices_dir,
                bill_ids=report.bill_ids,
                by_building=by_building,
            )
    for warning in report.warnings:
        env.warn(warning)
    if fmt is Format.json:
        write_json(_run_document(report, dry_run))
    elif fmt is Format.csv:
        rows = [] if dry_run else bills.created_bills(conn, report.bill_ids)
        emit(env, [_created_row(r) for r in rows], created_headers(), fmt)
    else:
        _show_run(env, report, written, dry_run)


CREATED_COLUMNS = (
    "bill",
    "unit",
    "item",
    "period",
    "covers_from",
    "covers_to",
    "amount",
    "party",
    "due_on",
)


def created_headers() -> tuple[Col, ...]:
    """The columns of the bills a run created, in the active language."""
    return (
        Col("bill", _("Bill no."), "right"),
        Col("unit", _("Unit")),
        Col("item", _("Fee item")),
        Col("period", _("Period")),
        Col("covers_from", _("Covers from")),
        Col("covers_to", _("Covers to")),
        Col("amount", _("Amount"), "right"),
        Col("party", _("Payer")),
        Col("due_on", _("Due on")),
    )


def _by_building(by: str | None, writes_notices: bool) -> bool:
    """Whether notices go one file per building; anything but ``building`` is refused."""
    if by is None:
        return False
    if by != "building":
        raise InvalidValue(
            _("--by {by}: only building (one notice file per building)").format(by=by)
        )
    if not writes_notices:
        raise InvalidValue(_("--by building goes with a --notices folder"))
    return True


def _notice_files(report) -> str:
    """The notice file, or each building's file with its count."""
    if len(report.by_building) <= 1:
        return str(report.html_path)
    return _(", ").join(
        _("{file} ({count})").format(file=path.name, count=count)
        for _label, path, count in report.by_building
    )


def _run_document(report: bills.BillRunReport, dry_run: bool) -> dict:
    return {
        "months": report.months,
        "created": report.created,
        "total": decimal_str(report.total_fen),
        "units": len(report.units),
        "already_billed": report.already,
        "vacancy_discounts": report.discounts,
        "credit_applied": decimal_str(report.credit_applied),
        "by_item": {
            code: {"bills": n, "total": decimal_str(fen)}
            for code, (n, fen) in report.by_item.items()
        },
        "skipped": [{"unit": s.unit, "item": s.item, "reason": s.reason} for s in report.skipped],
        "warnings": report.warnings,
        "dry_run": dry_run,
    }


def _created_row(row: tuple) -> dict:
    return {**dict(zip(CREATED_COLUMNS, row, strict=True)), "amount": decimal_str(row[6])}


def _show_run(env, report: bills.BillRunReport, written, dry_run: bool) -> None:
    line = ngettext(
        "{months}: {n} bill line for {units} units, total {total}",
        "{months}: {n} bill lines for {units} units, total {total}",
        report.created,
    ).format(
        months=report.months_text,
        n=report.created,
        units=len(report.units),
        total=format_money(report.total_fen),
    )
    if report.already:
        line += _("; {n} already billed").format(n=report.already)
    env.result(line)
    for code, (count, fen) in report.by_item.items():
        env.result(
            "  "
            + ngettext("{item}: {n} bill, {amount}", "{item}: {n} bills, {amount}", count).format(
                item=code, n=count, amount=format_money(fen)
            )
        )
    if report.discounts:
        env.result("  " + _("vacancy discounts: {n}").format(n=report.discounts))
    if report.credit_applied:
        env.result(
            "  "
            + _("credit applied to the new bills: {amount}").format(
                amount=format_money(report.credit_applied)
            )
        )
    for reason, count in report.skip_counts().items():
        env.result("  " + _("skipped ({reason}): {n}").format(reason=_(reason), n=count))
    if written is not None and written.no_phone:
        env.warn(
            ngettext(
                "{n} notice has no phone to send to (print it): {names}",
                "{n} notices have no phone to send to (print them): {names}",
                len(written.no_phone),
            ).format(n=len(written.no_phone), names=_(", ").join(written.no_phone[:5]))
        )
    if written is not None:
        env.result(
            _("notices: {files} ({parties} parties), {sms} ({messages} messages)").format(
                files=_notice_files(written),
                parties=written.notices,
                sms=written.sms_path,
                messages=written.sms,
            )
        )
    if dry_run:
        env.result(_("dry run: nothing was written"))


def adjust(
    bill_id: Annotated[
        int, typer.Argument(metavar="BILL", help=_("The bill's number (units show)."))
    ],
    amount: Annotated[str, typer.Option(help=_("Change in yuan; negative lowers the bill."))],
    kind: Annotated[str, typer.Option(help=_("waiver | discount | correction"))],
    reason: Annotated[str, typer.Option(help=_("Why."))],
    approved_by: Annotated[str, typer.Option(help=_("Who approved it."))],
    approval_ref: Annotated[
        str,
        typer.Option(
            help=_(
                "The reference of the owners' decision, required under the commission system "
                "for every reduction: waiver, discount, correction down."
            )
        ),
    ] = "",
    approved_on: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help=_("The day it was approved (default: --as-of).")),
    ] = None,
    basis_ref: Annotated[
        str,
        typer.Option(help=_("For a correction upward: the published fee item it rests on (PROP).")),
    ] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Adjust a bill: a waiver, discount or correction, recorded as its own row."""
    env = open_env(db, config, quiet)
    fen = parse_money(amount, allow_negative=True, allow_zero=True)
    conn = env.connect()
    with transaction(conn):
        result = bills.adjust(
            conn,
            bill_id,
            amount_fen=fen,
            kind=kind,
            reason=reason,
            approved_by=approved_by,
            approval_ref=approval_ref,
            approved_on=parse_day(approved_on, option="--approved-on") if approved_on else None,
            basis_ref=basis_ref,
            on=parse_day(as_of),
            now=now(),
            settings=env.settings,
        )
    env.result(
        _("bill {bill}: {kind} {amount}; now {net}, outstanding {outstanding}").format(
            bill=bill_id,
            kind=_(bills.ADJUSTMENT_KINDS[kind]),
            amount=format_money(fen),
            net=format_money(result.net_fen),
            outstanding=format_money(result.outstanding_fen),
        )
    )


def notices(
    period: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM",
            callback=check_month,
            help=_("The bills of cycles starting in this month (default: this month)."),
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help=_("Folder for the notices."))] = Path("."),
    language: Annotated[str, typer.Option(help=_("zh or en."))] = "zh",
    by: ByOpt = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write bill notices for a period: an A4 page per party and an SMS file."""
    env = open_env(db, config, quiet)
    by_building = _by_building(by, True)
    day = parse_day(as_of)
    month = periods.parse_period(period) if period else periods.month_start(day)
    report = write_notices(
        env.connect(),
        month=month,
        settings=env.settings,
        as_of=day,
        out_dir=out,
        language=language,
        by_building=by_building,
    )
    if report.no_phone:
        env.warn(
            ngettext(
                "{n} party has no phone (print their notice): {names}",
                "{n} parties have no phone (print their notice): {names}",
                len(report.no_phone),
            ).format(n=len(report.no_phone), names=_(", ").join(report.no_phone[:5]))
        )
    env.result(
        _(
            "{period}: {notices} notices in {files}, {sms} messages in {sms_file}, total {total}"
        ).format(
            period=report.period,
            notices=report.notices,
            files=_notice_files(report),
            sms=report.sms,
            sms_file=report.sms_path,
            total=format_money(report.total_fen),
        )
    )


READINGS_HELP = (
    _(
        "Import meter readings; usage is this reading minus the previous one. "
        "A reading lower than the previous one is an error unless the row marks 换表 (a "
        "replaced meter). Re-importing the same readings changes nothing."
    )
    + "\n\n"
    + _example("propfee readings import 2026-11抄表.xlsx")
)


@readings_app.command("import", help=READINGS_HELP, short_help=_("Import meter readings"))
def readings_import(
    file: Annotated[
        Path, typer.Argument(help=_("Readings: unit, meter, date, reading (xlsx/csv)."))
    ],
    meter: Annotated[
        str | None,
        typer.Option(
            help=_(
                "The meter of every row when the file has no meter column: water, electricity, "
                "gas, heat."
            )
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import meter readings."""
    env = open_env(db, config, quiet)
    report = import_readings(
        env.connect(dry_run=dry_run), file, now=now(), meter=meter, dry_run=dry_run
    )
    usage = _(", ").join(
        f"{_(METER_NAMES.get(kind, kind))} {fen / 1000:g}"
        for kind, fen in report.usage_x1000.items()
    )
    line = _("{file}: {added} readings added, {unchanged} unchanged").format(
        file=file.name, added=report.added, unchanged=report.unchanged
    )
    if report.replaced:
        line += _(", {n} replaced meters").format(n=report.replaced)
    if usage:
        line += _("; usage {usage}").format(usage=usage)
    if dry_run:
        line += _("; dry run: nothing was written")
    env.result(line)


def import_history(
    file: Annotated[Path, typer.Argument(help=_("Opening balances (xlsx/csv)."))],
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            metavar="FILE",
            help=_("TOML file naming headers propfee does not know ([columns] header = field)."),
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import opening balances from the previous system."""
    env = open_env(db, config, quiet)
    column_map = load_column_map(map_file, FIELDS)
    report = run(
        env.connect(dry_run=dry_run),
        file,
        now=now(),
        settings=env.settings,
        column_map=column_map,
        dry_run=dry_run,
    )
    env.info(_("Columns read: {columns}").format(columns=_(", ").join(report.used)))
    if report.left_out:
        env.info(_("Columns not used: {columns}").format(columns=_(", ").join(report.left_out)))
    if report.exclusive_ends:
        env.info(_("End dates are the day after each period (exclusive): read as the day before"))
    line = _(
        "{file}: {bills} opening bills ({due}), {payments} payments ({paid}), {unchanged} unchanged"
    ).format(
        file=file.name,
        bills=report.bills,
        due=format_money(report.due_fen),
        payments=report.payments,
        paid=format_money(report.paid_fen),
        unchanged=report.unchanged,
    )
    if report.credit_fen:
        line += _(", {amount} left as credit").format(amount=format_money(report.credit_fen))
    if dry_run:
        line += _("; dry run: nothing was written")
    env.result(line)


def rebill(
    unit: Annotated[str, typer.Argument(help=_("The unit, e.g. 1-1-1001."))],
    first: Annotated[
        str,
        typer.Option(
            "--from", metavar="YYYY-MM-DD", help=_("The day the sale or delivery took effect.")
        ),
    ],
    operator: Annotated[str, typer.Option(help=_("Who made the correction."))] = "",
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-bill a unit's days from a date to the party now responsible for them."""
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn, dry_run=dry_run):
        moves = bills.rebill(
            conn,
            unit,
            first_day=parse_day(first, option="--from"),
            as_of=parse_day(as_of),
            now=now(),
            settings=env.settings,
            operator=operator,
        )
    if not moves:
        env.result(
            _("{unit}: every bill from {day} already names the right party").format(
                unit=unit, day=first
            )
        )
        return
    for m in moves:
        env.result(
            _(
                "bill {bill} {item} {period}: {first}～{last} {amount} moved from {old} to "
                "{new} (new bill {new_bill})"
            ).format(**moved(m))
        )
    if dry_run:
        env.result(_("dry run: nothing was written"))
