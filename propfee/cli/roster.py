"""Roster commands: import-units, export-units, units list | show, and the edits kept as
history: units set | sell | move-out | move-in."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from propfee import billing, roster
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    DryRunOpt,
    Format,
    FormatOpt,
    NoMaskOpt,
    QuietOpt,
    emit,
    now,
    open_env,
    parse_day,
    record_unmasked,
    safe_markup,
    show_row_errors,
    write_json,
)
from propfee.core.errors import PropfeeError, RowError, RowErrors
from propfee.core.money import decimal_str, format_money, hundredths_str
from propfee.files import cells
from propfee.files.workbook import Title
from propfee.payments import ledger
from propfee.payments.ledger import BillLine, UnitAccount
from propfee.roster.payers import PAYER_LABELS, ROLE_LABELS
from propfee.store import audit

_EMPTY_REPORT = {"added": 0, "updated": 0, "unchanged": 0}

units_app = typer.Typer(help="List and look up units.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("import-units")(import_units)
    app.command("export-units")(export_units)
    app.add_typer(units_app, name="units")


def import_units(
    file: Annotated[Path, typer.Argument(help="Roster file: .xlsx, .xls, .csv (UTF-8 or GBK).")],
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map", metavar="FILE", help="TOML file naming headers propfee does not know."
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help="Read only this sheet (default: every sheet with a roster header)."),
    ] = None,
    owner_pays_from_import: Annotated[
        bool,
        typer.Option(
            "--owner-pays-from-import",
            help="Units with no 交付日期: the owner pays from --as-of (recorded as the delivery "
            "date). Without it the developer pays for them.",
        ),
    ] = False,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import or update the owner roster (业主信息) from a spreadsheet.

    One row per unit, with its owner and optionally a tenant. Columns are found by their
    Chinese or English headers (房号 or 楼号/单元/房间, 建筑面积, 房屋类型, 业主, 手机号, 身份证号,
    交付日期, 租户, 缴费方, 备注 …). Every bad row is reported with its Excel row number and
    nothing is written. Re-importing updates units by code; a new owner is recorded from the
    row's 过户日期, else --as-of. A unit with no 交付日期 is billed to the developer unless
    --owner-pays-from-import; days already billed to the party that paid before a changed
    交付日期 or owner are re-billed to the right one in the same command.

    Example: propfee import-units 业主信息.xlsx --dry-run
    """
    env = open_env(db, config, quiet)
    fresh = not env.db_path.exists()
    try:
        report = _run_import(
            env, file, map_file, as_of, sheet, dry_run, owner_pays=owner_pays_from_import
        )
    except RowErrors as exc:
        _forget_new_database(env, fresh)
        show_row_errors(env, exc, fmt, _EMPTY_REPORT)
        raise typer.Exit(1) from None
    except PropfeeError as exc:
        _forget_new_database(env, fresh)
        if fmt is Format.json:  # scripts read the document, whatever went wrong
            error = RowError(file.name, "", 0, "", "", str(exc)).as_dict()
            write_json({**_EMPTY_REPORT, "errors": [error]})
        raise
    _show_import(env, report, file, fmt, dry_run=dry_run)


def _forget_new_database(env, fresh: bool) -> None:
    """A first import that failed leaves no database behind: an empty one would later read
    as an estate of 0 units."""
    if not fresh or not env.db_path.exists():
        return
    if roster.has_units(env.connect(create=False)):
        return  # another process filled it meanwhile
    env.close()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{env.db_path}{suffix}").unlink(missing_ok=True)


def _run_import(
    env,
    file: Path,
    map_file: Path | None,
    as_of: str | None,
    sheet: str | None,
    dry_run: bool,
    *,
    owner_pays: bool,
) -> roster.ImportReport:
    """Read the map, back up a roster about to be updated, and import the file; days that
    now belong to another party are re-billed in the same transaction."""
    column_map = roster.load_map(map_file)
    conn = env.connect(dry_run=dry_run)
    if roster.has_units(conn):
        env.backup_first("import-units", dry_run=dry_run)  # a re-import may update rows
    day, clock = parse_day(as_of), now()
    call = audit.current()
    rebill = functools.partial(
        billing.rebill_after_import,
        as_of=day,
        now=clock,
        settings=env.settings,
        operator=call.operator if call else "",
    )
    with env.progress(f"reading {file.name}") as tick:
        return roster.import_roster(
            conn,
            file,
            as_of=day,
            now=clock,
            column_map=column_map,
            sheet=sheet,
            dry_run=dry_run,
            progress=tick,
            owner_pays_from_import=owner_pays,
            rebill=rebill,
        )


def _show_import(env, report: roster.ImportReport, file: Path, fmt: Format, *, dry_run: bool):
    for notice in report.notices:
        env.info(f"note: {notice}")
    for warning in report.warnings:
        env.warn(warning)
    if fmt is Format.json:
        write_json(report.as_dict())
        return
    if fmt is Format.csv:
        emit(
            env,
            [report.as_dict()],
            [
                Col("added", "新增", "right"),
                Col("updated", "更新", "right"),
                Col("unchanged", "未变", "right"),
                Col("owner_changes", "业主变更", "right"),
                Col("tenant_changes", "租户变更", "right"),
            ],
            fmt,
        )
        return
    sheets = ", ".join(report.sheets)
    line = (
        f"{file.name} [{sheets}]: {report.rows} units — added {report.added}, "
        f"updated {report.updated}, unchanged {report.unchanged}"
    )
    if report.owner_changes or report.tenant_changes:
        line += f" (owner changes {report.owner_changes}, tenant changes {report.tenant_changes})"
    env.result(line)
    if report.undelivered and not report.owner_pays_from:
        env.result(f"  无交付日期、由开发建设单位缴费：{report.undelivered} 套")
    for m in report.rebilled:
        env.result(
            f"  改开 bill {m.bill_id} {m.item} {m.period}: {m.first}～{m.last} "
            f"{format_money(m.amount_fen)} 由 {m.from_party or '—'} 改为 {m.to_party}"
            f"（新账单 {m.new_bill_id}）"
        )
    if dry_run:
        env.result("dry run: nothing was written")


def export_units(
    file: Annotated[Path, typer.Argument(help="Where to write: .xlsx or .csv.")],
    mask: Annotated[
        bool,
        typer.Option(
            "--mask/--no-mask",
            help="Phone and ID numbers masked (138****1234, the default); --no-mask writes "
            "them in full and is recorded in the audit trail with the operator.",
        ),
    ] = True,
    building: Annotated[str | None, typer.Option(help="Only this building.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (residential, 住宅, 车位 …).")
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Export the roster with current owners and tenants, under Chinese headers.

    The file imports back unchanged (export → import-units reports no change). Text that a
    spreadsheet could run as a formula is neutralised.

    Example: propfee export-units 业主信息.xlsx
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    count = roster.export_units(
        conn,
        file,
        mask=mask,
        building=building,
        kind=roster.resolve_kind(kind) if kind else None,
        title=Title(env.settings.estate.name, "业主信息", "", None, now()),
    )
    if not mask:
        record_unmasked(conn, "export-units", file, count)
    env.result(f"wrote {count} units to {file}")


_LIST_COLUMNS = (
    Col("code", "房号"),
    Col("kind", "类型"),
    Col("area", "面积㎡", "right"),
    Col("owner", "业主"),
    Col("phone", "电话"),
    Col("delivered_on", "交付日期"),
    Col("tenant", "租户"),
    Col("payer", "缴费方"),
)


@units_app.command("list")
def units_list(
    building: Annotated[
        str | None, typer.Option(help="Only this building (1, 1栋, 1号楼 …).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (residential, 住宅, 车位 …).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Owner name contains this text.")] = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List units with their current owner; phones are masked unless --no-mask.

    Example: propfee units list --building 1 --kind 住宅 --format csv
    """
    env = open_env(db, config)
    units = roster.list_units(
        env.connect(create=False),
        building=building,
        kind=roster.resolve_kind(kind) if kind else None,
        owner=owner,
    )
    rows = [_unit_json(u, mask=not no_mask) for u in units]
    if fmt is not Format.json:  # a table and CSV show the Chinese labels
        for row in rows:
            row["kind"] = roster.kind_label(row["kind"])
            row["payer"] = PAYER_LABELS.get(row["payer"], row["payer"])
    emit(env, rows, _LIST_COLUMNS, fmt, title=f"共 {len(rows)} 套" if fmt is Format.table else None)


def _unit_json(u: roster.UnitView, *, mask: bool) -> dict[str, object]:
    phones = cells.mask_phones(u.phones) if mask else u.phones
    return {
        "code": u.code,
        "building": u.building,
        "entrance": u.entrance,
        "room": u.room,
        "floor": u.floor,
        "kind": u.kind,
        "area": hundredths_to_text(u.area_x100),
        "area_basis": u.area_basis,
        "inner_area": hundredths_to_text(u.inner_area_x100),
        "delivered_on": u.delivered_on,
        "owner": u.owner,
        "phone": phones.split("/")[0] if phones else "",
        "phones": phones,
        "id_number": (cells.mask_id(u.id_number) if mask else u.id_number),
        "tenant": u.tenant,
        "tenant_phone": cells.mask_phones(u.tenant_phones) if mask else u.tenant_phones,
        "payer": u.payer,
        "vacant": bool(u.vacant),
        "notes": u.notes,
    }


def hundredths_to_text(value: int | None) -> str | None:
    if value is None:
        return None
    whole, part = divmod(value, 100)
    return f"{whole}.{part:02d}"


@units_app.command("show")
def units_show(
    code: Annotated[str, typer.Argument(help="The unit code, e.g. 1-1-1001.")],
    no_mask: NoMaskOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one unit: area, kind, owner and tenant history.

    变更记录列出每次更正、过户和租户迁入迁出：日期、经办人、变更内容、原值 → 新值。

    Example: propfee units show 1-1-1001
    """
    env = open_env(db, config)
    conn = env.connect(create=False)
    detail = roster.unit_detail(conn, code)
    mask = not no_mask
    unit = _unit_json(detail.unit, mask=mask)
    history = [_occupancy_json(h, mask=mask) for h in detail.history]
    account = ledger.unit_account(conn, detail.unit.code, parse_day(as_of))
    bills = [_bill_json(b) for b in account.bills]
    if fmt is Format.csv:
        _print_history(env, history, fmt)
        return
    if fmt is Format.json:
        write_json(
            {
                **unit,
                "occupancy": history,
                "changes": [event_json(e, mask=mask) for e in detail.events],
                "bills": bills,
                "owed": decimal_str(account.owed),
                "overdue": decimal_str(account.overdue),
                "credit": decimal_str(account.credit),
            },
        )
        return
    _print_unit(env, detail.unit)
    _print_history(env, history, fmt)
    if detail.events:
        print_events(env, detail.events, fmt, mask=mask)
    if bills:
        _print_bills(env, bills, account, fmt)


def _occupancy_json(h: roster.Occupancy, *, mask: bool) -> dict[str, object]:
    return {
        "role": h.role,
        "name": h.name,
        "kind": h.kind,
        "phones": cells.mask_phones(h.phones) if mask else h.phones,
        "from": h.start_on,
        "to": h.end_on,
        "pays": h.pays,
        "source": h.source,
    }


def _bill_json(b: BillLine) -> dict[str, object]:
    return {
        "id": b.id,
        "period": b.period,
        "item": b.item,
        "item_name": b.item_name,
        "covers_from": b.covers_from,
        "covers_to": b.covers_to,
        "due_on": b.due_on,
        "amount": decimal_str(b.amount_fen),
        "adjusted": decimal_str(b.adjusted_fen),
        "paid": decimal_str(b.paid_fen),
        "outstanding": decimal_str(b.outstanding_fen),
        "settled_on": b.settled_on,
        "party": b.party,
        "basis": b.basis,
        "opening": b.opening,
    }


def _print_unit(env, u: roster.UnitView) -> None:
    lines = [
        f"[bold]{safe_markup(u.code)}[/bold]  {roster.kind_label(u.kind)}"
        + (f"  楼栋 {safe_markup(u.building)}" if u.building else "")
        + (f"  单元 {safe_markup(u.entrance)}" if u.entrance else "")
        + (f"  房间 {safe_markup(u.room)}" if u.room else "")
        + (f"  楼层 {safe_markup(u.floor)}" if u.floor else ""),
        f"计费面积 {hundredths_str(u.area_x100) or '—'} ㎡"
        + (f" ({safe_markup(u.area_basis)})" if u.area_basis else "")
        + (f"  套内面积 {hundredths_str(u.inner_area_x100)} ㎡" if u.inner_area_x100 else ""),
        f"交付日期 {u.delivered_on or '—'}  缴费方 {PAYER_LABELS.get(u.payer, u.payer)}",
    ]
    if u.notes:
        lines.append(f"备注 {safe_markup(u.notes, newlines=True)}")
    for line in lines:
        env.out.print(line, highlight=False)


def _print_history(env, history: list[dict[str, object]], fmt: Format) -> None:
    rows = [
        {
            **h,
            "role": ROLE_LABELS[h["role"]],
            "pays": "✓" if h["pays"] else "",
            "from": h["from"] or "(建档前)",
            "to": h["to"] or "至今",
        }
        for h in history
    ]
    emit(
        env,
        rows,
        (
            Col("role", "角色"),
            Col("name", "姓名/名称"),
            Col("phones", "电话"),
            Col("from", "起"),
            Col("to", "止"),
            Col("pays", "缴费"),
        ),
        fmt,
        title="业主/租户记录",
    )


def _print_bills(env, bills: list[dict[str, object]], account: UnitAccount, fmt: Format) -> None:
    shown = bills[-24:]
    for b in shown:
        b["covers"] = f"{b['covers_from']}～{b['covers_to']}"
        b["state"] = "已结清" if b["settled_on"] else ("未缴" if b["paid"] == "0.00" else "部分缴")
    emit(
        env,
        shown,
        (
            Col("id", "账单号", "right"),
            Col("item_name", "收费项目"),
            Col("covers", "计费期间"),
            Col("amount", "金额", "right"),
            Col("adjusted", "调整", "right"),
            Col("paid", "已缴", "right"),
            Col("outstanding", "未缴", "right"),
            Col("due_on", "缴费期限"),
            Col("party", "缴费人"),
            Col("state", "状态"),
        ),
        fmt,
        title=f"账单（最近 {len(shown)} 条，共 {len(bills)} 条）" if len(bills) > 24 else "账单",
    )
    credit = account.credit
    env.out.print(
        f"未缴合计 {format_money(account.owed)}（已到期 {format_money(account.overdue)}）"
        + (f"  预存 {format_money(credit)}" if credit else ""),
        highlight=False,
    )


def print_events(env, events: list[roster.Event], fmt: Format, *, mask: bool) -> None:
    emit(
        env,
        [event_json(e, mask=mask, shown=True) for e in events],
        (
            Col("on", "日期"),
            Col("operator", "经办人"),
            Col("what", "变更内容"),
            Col("change", "原值 → 新值"),
            Col("reason", "原因"),
        ),
        fmt,
        title="变更记录",
    )


def event_json(e: roster.Event, *, mask: bool, shown: bool = False) -> dict[str, object]:
    old, new = masked(e.field, e.old, mask), masked(e.field, e.new, mask)
    row: dict[str, object] = {
        "on": e.on,
        "operator": e.operator,
        "action": e.action,
        "field": e.field,
        "old": old,
        "new": new,
        "reason": e.reason,
        "recorded_at": e.at,
        "unit": e.unit,
        "party": e.party,
    }
    if shown:
        row["what"] = e.what + (f"（{e.party}）" if e.action == "owner-set" and e.party else "")
        row["change"] = f"{roster.value_text(e.field, old)} → {roster.value_text(e.field, new)}"
    return row


def masked(field: str, value: str, mask: bool) -> str:
    if not mask or not value:
        return value
    if field == "phones":
        return cells.mask_phones(value)
    if field == "id_number":
        return cells.mask_id(value)
    return value


# ---------------------------------------------------------------- edits kept as history

FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="YYYY-MM-DD",
        help="自哪天起生效（默认 --as-of）；此后已开出的账单按新面积冲减并改开。",
    ),
]
DateOpt = Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="生效日期。")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="变更原因（记入变更记录）。")]
IdOpt = Annotated[str, typer.Option("--id-number", help="身份证号或其他证件号码（校验后保存）。")]


def _operator() -> str:
    call = audit.current()
    return call.operator if call else ""


def _rebill_for(env, day, clock, operator: str):
    """Billing's re-billing, for an edit's own transaction."""
    return functools.partial(
        billing.rebill_after_edit, as_of=day, now=clock, settings=env.settings, operator=operator
    )


def show_edit(env, result: roster.EditResult, fmt: Format) -> None:
    """What an edit changed (phones and ID numbers masked), what billing re-did, and notes."""
    for notice in result.notices:
        env.info(f"注意：{notice}")
    if fmt is Format.json:
        document = result.as_dict()
        for change in document["changes"]:
            change["old"] = masked(change["field"], change["old"], True)
            change["new"] = masked(change["field"], change["new"], True)
        write_json(document)
        return
    who = result.unit or result.party
    if not result.changed:
        env.result(f"{who}：没有变化，无需记录")
        return
    for c in result.changes:
        old, new = masked(c.field, c.old, True), masked(c.field, c.new, True)
        env.result(
            f"{who} {roster.FIELDS.get(c.field, c.field)}：{roster.value_text(c.field, old)} → "
            f"{roster.value_text(c.field, new)}（自 {result.on} 起）"
        )
    for m in result.rebilled:
        env.result(
            f"  改开 账单 {m.bill_id} {m.item} {m.period}：{m.first}～{m.last} 冲减 "
            f"{format_money(m.credited_fen)}，新账单 {m.new_bill_id} {format_money(m.amount_fen)}"
            f"（{m.to_party}" + (f"，{m.area} ㎡" if m.area else "") + "）"
        )


@units_app.command("set")
def units_set(
    code: Annotated[str, typer.Argument(help="房号，如 1-1-1001。")],
    area: Annotated[
        str | None, typer.Option("--area", metavar="㎡", help="新的计费面积（㎡，不超过 100,000）。")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="新的房屋类型（住宅、商铺、写字楼、车位、储藏室）。")
    ] = None,
    floor: Annotated[str | None, typer.Option("--floor", help="新的楼层。")] = None,
    first: FromOpt = None,
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """更正房屋信息（面积、类型、楼层），作为变更记录保存，不覆盖历史。

    面积自 --from 起更正：此后按原面积开出的账单以更正调整冲减，并按新面积另开新账单；
    账单本身从不修改。涉及已缴款的账单时拒绝执行，并指明账单号和需先冲正的收据。
    同一更正再运行一次不会有任何改动。

    Example: propfee units set 1-1-1001 --area 95.20 --from 2026-10-01 --reason 复测
    """
    env = open_env(db, config, quiet)
    day, clock, operator = parse_day(as_of), now(), _operator()
    result = roster.set_unit(
        env.connect(create=False),
        code,
        area=area,
        kind=kind,
        floor=floor,
        on=parse_day(first, option="--from") if first else day,
        now=clock,
        operator=operator,
        reason=reason,
        rebill=_rebill_for(env, day, clock, operator),
    )
    show_edit(env, result, fmt)


@units_app.command("sell")
def units_sell(
    code: Annotated[str, typer.Argument(help="房号，如 1-1-1001。")],
    buyer: Annotated[str, typer.Option("--to", help="买方姓名或名称。")],
    phone: Annotated[str, typer.Option("--phone", help="买方电话（多个用 / 分开）。")],
    date_: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="过户日期。")],
    id_number: IdOpt = "",
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """记录过户：--date 起房屋归买方。

    过户日之前的账单仍归原业主，欠费不随房屋转给买方，催缴也只找原业主；过户日起已开出
    且未缴的账单冲减后改开给买方（新账单，原账单不修改），已缴款的账单仍归原业主并列出。

    Example: propfee units sell 1-1-1001 --to 李四 --phone 13912345678 --date 2026-12-10
    """
    env = open_env(db, config, quiet)
    day, clock, operator = parse_day(as_of), now(), _operator()
    result = roster.sell(
        env.connect(create=False),
        code,
        buyer=buyer,
        phone=phone,
        id_number=id_number,
        on=parse_day(date_, option="--date"),
        now=clock,
        operator=operator,
        reason=reason,
        rebill=_rebill_for(env, day, clock, operator),
    )
    show_edit(env, result, fmt)


@units_app.command("move-out")
def units_move_out(
    code: Annotated[str, typer.Argument(help="房号，如 1-1-1001。")],
    tenant: Annotated[
        bool, typer.Option("--tenant", help="迁出的是租户（目前只记录租户迁出，可省略）。")
    ] = True,
    date_: Annotated[
        str | None,
        typer.Option("--date", metavar="YYYY-MM-DD", help="迁出日期（默认 --as-of）。"),
    ] = None,
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """租户迁出：租约在 --date 结束，此后由业主（无业主时由开发建设单位）缴费。

    已开出的账单仍由开具时的缴费人负责。没有在租租户时不做任何改动。

    Example: propfee units move-out 1-1-1001 --tenant --date 2026-11-30
    """
    env = open_env(db, config, quiet)
    result = roster.move_out(
        env.connect(create=False),
        code,
        on=parse_day(date_, option="--date") if date_ else parse_day(as_of),
        now=now(),
        operator=_operator(),
        reason=reason,
    )
    show_edit(env, result, fmt)


@units_app.command("move-in")
def units_move_in(
    code: Annotated[str, typer.Argument(help="房号，如 1-1-1001。")],
    tenant: Annotated[str, typer.Option("--tenant", help="租户姓名或名称。")],
    phone: Annotated[str, typer.Option("--phone", help="租户电话（多个用 / 分开）。")],
    date_: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="入住日期。")],
    pays: Annotated[
        bool, typer.Option("--pays", help="租约约定由租户缴费：自入住日起账单开给租户。")
    ] = False,
    id_number: IdOpt = "",
    reason: ReasonOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """租户入住：自 --date 起租住（原租户当天迁出）；加 --pays 则由租户缴费。

    已开出的账单仍由开具时的缴费人负责。

    Example: propfee units move-in 1-1-1001 --tenant 王五 --phone 13700001111 --date 2026-12-01 --pays
    """
    env = open_env(db, config, quiet)
    result = roster.move_in(
        env.connect(create=False),
        code,
        tenant=tenant,
        phone=phone,
        id_number=id_number,
        pays=pays,
        on=parse_day(date_, option="--date"),
        now=now(),
        operator=_operator(),
        reason=reason,
    )
    show_edit(env, result, fmt)
