"""Billing commands: bill, adjust, notices, readings import, import-history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from propfee import billing
from propfee.billing.meters import import_readings
from propfee.billing.notices import write_notices
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    DryRunOpt,
    Format,
    FormatOpt,
    QuietOpt,
    check_month,
    emit,
    now,
    open_env,
    parse_day,
    write_json,
)
from propfee.core import periods
from propfee.core.errors import InvalidValue
from propfee.core.money import decimal_str, format_money, parse_money
from propfee.files.headers import load_column_map
from propfee.payments import ledger
from propfee.payments.opening import FIELDS
from propfee.payments.opening import import_history as run
from propfee.store.db import transaction

readings_app = typer.Typer(help="Meter readings for metered fee items.", no_args_is_help=True)

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="building",
        help="building：通知单每栋楼一个文件（缴费通知单-YYYY-MM-1号楼.html）。",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("bill")(bill)
    app.command("adjust")(adjust)
    app.command("rebill")(rebill)
    app.command("notices")(notices)
    app.command("import-history")(import_history)
    app.add_typer(readings_app, name="readings")


def bill(
    period: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM",
            callback=check_month,
            help="Bill the cycles containing this month (default: this month).",
        ),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="YYYY-MM", callback=check_month, help="First month of a range."
        ),
    ] = None,
    through: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM", callback=check_month, help="Last month of a range."),
    ] = None,
    item: Annotated[
        list[str] | None,
        typer.Option(
            help="Only this fee item (repeatable); a one-off item is billed only when named."
        ),
    ] = None,
    building: Annotated[
        list[str] | None, typer.Option(help="Only this building (repeatable).")
    ] = None,
    notices_dir: Annotated[
        Path | None,
        typer.Option(
            "--notices", metavar="DIR", help="Also write bill notices for what was billed."
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
    """Bill every unit for every applicable fee item, for a month or a range of months.

    A cycle already billed is skipped, so re-running creates nothing (safe from cron). Bills
    more than 12 months ahead are refused. Only published prices are billed.

    Example: propfee bill --period 2026-11 --notices 通知单
    """
    env = open_env(db, config, quiet)
    by_building = _by_building(by, notices_dir is not None)
    day = parse_day(as_of)
    months = billing.months_to_bill(period, first, through, as_of=day)
    conn = env.connect(dry_run=dry_run)
    if not billing.all_billed(conn, months):
        env.backup_first("bill", dry_run=dry_run)
    with env.progress("billing") as tick, transaction(conn, dry_run=dry_run):
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
        rows = [] if dry_run else billing.created_bills(conn, report.bill_ids)
        emit(env, [_created_row(r) for r in rows], CREATED_HEADERS, fmt)
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

CREATED_HEADERS = (
    Col("bill", "账单号", "right"),
    Col("unit", "房号"),
    Col("item", "收费项目"),
    Col("period", "期间"),
    Col("covers_from", "计费起"),
    Col("covers_to", "计费止"),
    Col("amount", "金额", "right"),
    Col("party", "缴费人"),
    Col("due_on", "缴费期限"),
)


def _by_building(by: str | None, writes_notices: bool) -> bool:
    """Whether notices go one file per building; anything but ``building`` is refused."""
    if by is None:
        return False
    if by != "building":
        raise InvalidValue(f"--by {by}：只能是 building（每栋楼一个通知单文件）")
    if not writes_notices:
        raise InvalidValue("--by building 要与 --notices 目录一起用")
    return True


def _notice_files(report) -> str:
    """The notice file, or each building's file with its count."""
    if len(report.by_building) <= 1:
        return str(report.html_path)
    return "、".join(f"{path.name}（{count}）" for _label, path, count in report.by_building)


def _run_document(report: billing.BillRunReport, dry_run: bool) -> dict:
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


def _show_run(env, report: billing.BillRunReport, written, dry_run: bool) -> None:
    env.result(
        f"{report.months_text}: {report.created} bill lines for {len(report.units)} units, "
        f"total {format_money(report.total_fen)}"
        + (f"; {report.already} already billed" if report.already else "")
    )
    for code, (count, fen) in report.by_item.items():
        env.result(f"  {code}: {count} bills, {format_money(fen)}")
    if report.discounts:
        env.result(f"  vacancy discounts: {report.discounts}")
    if report.credit_applied:
        env.result(f"  credit applied to the new bills: {format_money(report.credit_applied)}")
    for reason, count in report.skip_counts().items():
        env.result(f"  skipped ({reason}): {count}")
    if written is not None and written.no_phone:
        env.warn(
            f"{len(written.no_phone)} notice(s) have no phone to send to (print them): "
            f"{', '.join(written.no_phone[:5])}"
        )
    if written is not None:
        env.result(
            f"notices: {_notice_files(written)} ({written.notices} parties), "
            f"{written.sms_path} ({written.sms} messages)"
        )
    if dry_run:
        env.result("dry run: nothing was written")


def adjust(
    bill_id: Annotated[int, typer.Argument(metavar="BILL", help="The bill's number (units show).")],
    amount: Annotated[str, typer.Option(help="Change in yuan; negative lowers the bill.")],
    kind: Annotated[str, typer.Option(help="waiver (减免) | discount (优惠) | correction (更正)")],
    reason: Annotated[str, typer.Option(help="Why.")],
    approved_by: Annotated[str, typer.Option(help="Who approved it.")],
    approval_ref: Annotated[
        str,
        typer.Option(
            help="The owners' decision (业委会决议〔2026〕3号), required under 酬金制 for every "
            "reduction: waiver, discount, correction down."
        ),
    ] = "",
    approved_on: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="The day it was approved (default: --as-of)."),
    ] = None,
    basis_ref: Annotated[
        str,
        typer.Option(help="For a correction upward: the published fee item it rests on (PROP)."),
    ] = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Adjust a bill: a waiver, discount or correction, recorded as its own row.

    The bill itself never changes. A waiver never takes a bill below zero or below what has
    been paid on it.

    Example: propfee adjust 1024 --amount -50.00 --kind waiver --reason "电梯停运两周" --approved-by 王经理
    """
    env = open_env(db, config, quiet)
    fen = parse_money(amount, allow_negative=True, allow_zero=True)
    conn = env.connect()
    with transaction(conn):
        result = billing.adjust(
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
        f"bill {bill_id}: {billing.ADJUSTMENT_KINDS[kind]} {format_money(fen)}; "
        f"now {format_money(result.net_fen)}, outstanding "
        f"{format_money(result.outstanding_fen)}"
    )


def notices(
    period: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM",
            callback=check_month,
            help="The bills of cycles starting in this month (default: this month).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the notices.")] = Path("."),
    language: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    by: ByOpt = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write bill notices (缴费通知单) for a period: an A4 page per party and an SMS file.

    The HTML has one notice per page, each bill with its basis (area × price), earlier
    arrears, how to pay and the contact phone; sms-YYYY-MM.csv holds phone,message rows
    ready for a bulk-SMS upload.

    通知单按楼栋、单元、楼层、房号排列（2 号楼在 10 号楼之前）；--by building 每栋楼一个文件
    （缴费通知单-2026-11-1号楼.html）。

    Example: propfee notices --period 2026-11 --out 通知单
    Example: propfee notices --period 2026-11 --out 通知单 --by building
    """
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
            f"{len(report.no_phone)} part{'y has' if len(report.no_phone) == 1 else 'ies have'}"
            f" no phone (print their notice): {', '.join(report.no_phone[:5])}"
        )
    env.result(
        f"{report.period}: {report.notices} notices in {_notice_files(report)}, "
        f"{report.sms} messages in {report.sms_path}, total {format_money(report.total_fen)}"
    )


@readings_app.command("import")
def readings_import(
    file: Annotated[Path, typer.Argument(help="Readings: unit, meter, date, reading (xlsx/csv).")],
    meter: Annotated[
        str | None,
        typer.Option(
            help="The meter of every row when the file has no meter column: water, electricity, "
            "gas, heat."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import meter readings (抄表); usage is this reading minus the previous one.

    A reading lower than the previous one is an error unless the row marks 换表 (a replaced
    meter). Re-importing the same readings changes nothing.

    Example: propfee readings import 2026-11抄表.xlsx
    """
    env = open_env(db, config, quiet)
    report = import_readings(
        env.connect(dry_run=dry_run), file, now=now(), meter=meter, dry_run=dry_run
    )
    usage = ", ".join(f"{kind} {fen / 1000:g}" for kind, fen in report.usage_x1000.items())
    env.result(
        f"{file.name}: {report.added} readings added, {report.unchanged} unchanged"
        + (f", {report.replaced} replaced meters" if report.replaced else "")
        + (f"; usage {usage}" if usage else "")
        + ("; dry run: nothing was written" if dry_run else "")
    )


def import_history(
    file: Annotated[Path, typer.Argument(help="Opening balances (xlsx/csv).")],
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            metavar="FILE",
            help="TOML file naming headers propfee does not know ([columns] header = field).",
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import opening balances from the previous system: bills and what was paid on them.

    One row per unit, fee item and period: 房号, 收费项目, 开始日期/结束日期 (or 所属期间),
    应收金额, 实收金额, 缴费日期, 收款人, 备注. Fee items must exist (propfee fees add). End
    dates written as the day after each period (2025-01-01 → 2026-01-01) are recognised.

    Example: propfee import-history 缴费历史.xlsx --map 历史.toml --dry-run
    """
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
    env.info("读取的列：" + "，".join(report.used))
    if report.left_out:
        env.info("未使用的列：" + "，".join(report.left_out))
    if report.exclusive_ends:
        env.info("结束日期是各期的次日（不含当天）：按前一天读取")
    env.result(
        f"{file.name}: {report.bills} opening bills ({format_money(report.due_fen)}), "
        f"{report.payments} payments ({format_money(report.paid_fen)}), "
        f"{report.unchanged} unchanged"
        + (f", {format_money(report.credit_fen)} left as credit" if report.credit_fen else "")
        + ("; dry run: nothing was written" if dry_run else "")
    )


def rebill(
    unit: Annotated[str, typer.Argument(help="The unit, e.g. 1-1-1001.")],
    first: Annotated[
        str,
        typer.Option(
            "--from", metavar="YYYY-MM-DD", help="The day the sale or delivery took effect."
        ),
    ],
    operator: Annotated[str, typer.Option(help="Who made the correction.")] = "",
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-bill a unit's days from a date to the party now responsible for them.

    For a sale (过户) or a delivery recorded after those days were billed: each day billed to
    the previous owner or the developer is taken off its bill by a correction and billed to
    the new party on a new bill. Nothing is edited or deleted.

    Example: propfee rebill 1-1-1003 --from 2026-12-10
    """
    env = open_env(db, config, quiet)
    conn = env.connect()
    with transaction(conn, dry_run=dry_run):
        moves = billing.rebill(
            conn,
            unit,
            first_day=parse_day(first, option="--from"),
            as_of=parse_day(as_of),
            now=now(),
            settings=env.settings,
            operator=operator,
        )
    if not moves:
        env.result(f"{unit}: every bill from {first} already names the right party")
        return
    for m in moves:
        env.result(
            f"bill {m.bill_id} {m.item} {m.period}: {m.first}～{m.last} "
            f"{format_money(m.amount_fen)} moved from {m.from_party or '—'} to "
            f"{m.to_party} (new bill {m.new_bill_id})"
        )
    if dry_run:
        env.result("dry run: nothing was written")
