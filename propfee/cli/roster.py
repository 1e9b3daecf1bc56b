"""Roster commands: import-units, export-units, units list | show, and the edits kept as
history: units set | sell | move-out | move-in."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from propfee.billing.bills import rebill_after_edit, rebill_after_import
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
    WideOpt,
    emit,
    listing,
    moved,
    now,
    open_env,
    parse_day,
    record_unmasked,
    safe_markup,
    show_row_errors,
    write_json,
)
from propfee.core.errors import PropfeeError, RowError, RowErrors
from propfee.core.i18n import _, ngettext
from propfee.core.money import decimal_str, format_money, hundredths_str
from propfee.files import cells
from propfee.files.workbook import Title
from propfee.payments import ledger
from propfee.payments.ledger import BillLine, UnitAccount
from propfee.roster import contacts, edits, feedraft, merge, migration, reading, units
from propfee.roster.payers import payer_label
from propfee.store import audit

_EMPTY_REPORT = {"added": 0, "updated": 0, "unchanged": 0}

units_app = typer.Typer(help=_("List and look up units."), no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command(
        "import-units",
        help=_(
            "Import or update the owner roster (业主信息) from a spreadsheet. One row per unit, "
            "with its owner and optionally a tenant. Columns are found by their Chinese or "
            "English headers (房号 or 楼号/单元/房间, 建筑面积, 房屋类型, 业主, 手机号, 身份证号, "
            "交付日期, 租户, 缴费方, 备注 …). Every bad row is reported with its Excel row number "
            "and nothing is written. Re-importing updates units by code; a new owner is "
            "recorded from the row's 过户日期, else --as-of. A unit with no 交付日期 is billed to "
            "the developer unless --owner-pays-from-import; days already billed to the party "
            "that paid before a changed 交付日期 or owner are re-billed to the right one in the "
            "same command."
        )
        + "\n\n"
        + _("Example: propfee import-units 业主信息.xlsx --dry-run"),
        short_help=_("Import or update the owner roster from a spreadsheet."),
    )(import_units)
    app.command(
        "export-units",
        help=_(
            "Export the roster with current owners and tenants, under Chinese headers. The "
            "file imports back unchanged (export → import-units reports no change). Text that "
            "a spreadsheet could run as a formula is neutralised."
        )
        + "\n\n"
        + _("Example: propfee export-units 业主信息.xlsx"),
        short_help=_("Export the roster with current owners and tenants."),
    )(export_units)
    app.add_typer(units_app, name="units", help=_("List and look up units."))


def import_units(
    file: Annotated[
        Path | None,
        typer.Argument(help=_("Roster file: .xlsx, .xls, .csv (UTF-8 or GBK).")),
    ] = None,
    list_profiles: Annotated[
        bool,
        typer.Option(
            "--list-profiles",
            help=_(
                "List the other systems whose files propfee recognises (HC, pigcms …) and the "
                "headers that tell them apart, then stop."
            ),
        ),
    ] = False,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map",
            metavar="FILE",
            help=_("TOML file naming headers propfee does not know."),
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(help=_("Read only this sheet (default: every sheet with a roster header).")),
    ] = None,
    owner_pays_from_import: Annotated[
        bool,
        typer.Option(
            "--owner-pays-from-import",
            help=_(
                "Units with no 交付日期: the owner pays from --as-of (recorded as the delivery "
                "date). Without it the developer pays for them."
            ),
        ),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help=_(
                "Refuse the file on an ID number with a wrong check digit or birth date "
                "(without it such a number is left out with a warning and the unit imports)."
            ),
        ),
    ] = False,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help=_(
                "Also write a migration report (.xlsx or .csv): per sheet the rows read, units "
                "added and updated, the columns used and left out, then every warning and note."
            ),
        ),
    ] = None,
    fees_draft: Annotated[
        Path | None,
        typer.Option(
            "--fees-draft",
            metavar="FILE",
            help=_(
                "Write the file's fee settings (HC 费用设置) as propfee fees add lines to review "
                "and run; nothing is added or published. With --report and no --fees-draft, "
                "the draft goes next to the report as 收费标准草稿.sh."
            ),
        ),
    ] = None,
    units_only: Annotated[
        bool,
        typer.Option(
            "--units-only",
            help=_(
                "The file lists units without owners on purpose (a unit or parking-space "
                "list): they are added with the developer paying until the owner roster is "
                "imported, without the no-owner-column warning."
            ),
        ),
    ] = False,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Import or update the owner roster from a spreadsheet."""
    if list_profiles:
        _show_profiles(fmt)
        return
    if file is None:
        raise typer.BadParameter(_("give the roster file to import"), param_hint="FILE")
    env = open_env(db, config, quiet)
    fresh = not env.database_exists()
    try:
        report = _run_import(
            env,
            file,
            map_file,
            as_of,
            sheet,
            dry_run,
            owner_pays=owner_pays_from_import,
            strict=strict,
            units_only=units_only,
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
    if not report.rows:  # a vehicle list or estate settings: nothing of it is kept
        _forget_new_database(env, fresh)
    if report_file is not None and fees_draft is None and report.fee_settings:
        fees_draft = report_file.with_name("收费标准草稿.sh")
    if fees_draft is not None:
        _write_fees_draft(report, fees_draft, file)
    if report_file is not None:  # the report names the draft too
        migration.write_report(report_file, report)
    _show_import(env, report, file, fmt, dry_run=dry_run)


def _write_fees_draft(report: merge.ImportReport, path: Path, file: Path) -> None:
    """The fee settings as fees add lines to review; said in the summary."""
    fees = feedraft.FeeDraft()
    for sheet, settings in report.fee_settings.items():
        one = feedraft.draft(settings, sheet)
        fees.lines.extend(one.lines)
        fees.left.extend(one.left)
    feedraft.write_draft(path, fees, file.name)
    report.notices.append(feedraft.summary(fees, path))
    report.notices.extend(fees.left)


def _show_profiles(fmt: Format) -> None:
    rows = [
        {"name": p.name, "system": p.system, "signature": "、".join(p.signature)}
        for p in reading.shipped_profiles()
    ]
    if fmt is Format.json:
        write_json(listing(rows))
        return
    columns = (
        Col("name", _("Source profile")),
        Col("system", _("Source system")),
        Col("signature", _("Recognising headers")),
    )
    emit(open_env(None, None, False), rows, columns, fmt)


def _forget_new_database(env, fresh: bool) -> None:
    """A first import that failed leaves no database behind: an empty one would later read
    as an estate of 0 units."""
    if not fresh or not env.database_exists():
        return
    if units.has_units(env.connect(create=False)):
        return  # another process filled it meanwhile
    env.forget_database()


def _run_import(
    env,
    file: Path,
    map_file: Path | None,
    as_of: str | None,
    sheet: str | None,
    dry_run: bool,
    *,
    owner_pays: bool,
    strict: bool = False,
    units_only: bool = False,
) -> merge.ImportReport:
    """Read the map, back up a roster about to be updated, and import the file; days that
    now belong to another party are re-billed in the same transaction."""
    column_map = reading.load_map(map_file)
    column_map.strict, column_map.units_only = strict, units_only
    conn = env.connect(dry_run=dry_run)
    if units.has_units(conn):
        env.backup_first("import-units", dry_run=dry_run)  # a re-import may update rows
    day, clock = parse_day(as_of), now()
    call = audit.current()
    rebill = functools.partial(
        rebill_after_import,
        as_of=day,
        now=clock,
        settings=env.settings,
        operator=call.operator if call else "",
    )
    with env.progress(_("reading {file}").format(file=file.name)) as tick:
        return merge.import_roster(
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


def _show_import(env, report: merge.ImportReport, file: Path, fmt: Format, *, dry_run: bool):
    for notice in report.notices:
        env.info(_("note: {notice}").format(notice=notice))
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
                Col("added", _("Added"), "right"),
                Col("updated", _("Updated"), "right"),
                Col("unchanged", _("Unchanged"), "right"),
                Col("owner_changes", _("Owner changes"), "right"),
                Col("tenant_changes", _("Tenant changes"), "right"),
            ],
            fmt,
        )
        return
    sheets = ", ".join(report.sheets)
    line = _(
        "{file} [{sheets}]: {rows} units — added {added}, updated {updated}, unchanged {unchanged}"
    ).format(
        file=file.name,
        sheets=sheets,
        rows=report.rows,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
    )
    if report.owner_changes or report.tenant_changes:
        line += _(" (owner changes {owners}, tenant changes {tenants})").format(
            owners=report.owner_changes, tenants=report.tenant_changes
        )
    env.result(line)
    if report.undelivered and not report.owner_pays_from:
        env.result(
            ngettext(
                "  no delivery date, the developer pays: {n} unit",
                "  no delivery date, the developer pays: {n} units",
                report.undelivered,
            ).format(n=report.undelivered)
        )
    for m in report.rebilled:
        env.result(
            _(
                "  re-billed bill {bill} {item} {period}: {first}～{last} {amount} from "
                "{old} to {new} (new bill {new_bill})"
            ).format(**moved(m))
        )
    if report.kept:
        which = "、".join(f"{k.unit} {units.field_label(k.field)}" for k in report.kept[:3]) + (
            "…" if len(report.kept) > 3 else ""
        )
        env.result(
            ngettext(
                "  {n} value is what an edit replaced: the edit is kept ({which}; see propfee "
                "units show)",
                "  {n} values are what edits replaced: the edits are kept ({which}; see propfee "
                "units show)",
                len(report.kept),
            ).format(n=len(report.kept), which=which)
        )
    if dry_run:
        env.result(_("dry run: nothing was written"))


def export_units(
    file: Annotated[Path, typer.Argument(help=_("Where to write: .xlsx or .csv."))],
    mask: Annotated[
        bool,
        typer.Option(
            "--mask/--no-mask",
            help=_(
                "Phone and ID numbers masked (138****1234, the default); --no-mask writes "
                "them in full and is recorded in the audit trail with the operator."
            ),
        ),
    ] = True,
    building: Annotated[str | None, typer.Option(help=_("Only this building."))] = None,
    kind: Annotated[
        str | None, typer.Option(help=_("Only this kind (residential, 住宅, 车位 …)."))
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Export the roster with current owners and tenants."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    count = units.export_units(
        conn,
        file,
        mask=mask,
        building=building,
        kind=units.resolve_kind(kind) if kind else None,
        title=Title(env.settings.estate.name, _("Owner roster"), "", None, now()),
    )
    if not mask:
        record_unmasked(conn, "export-units", file, count)
    env.result(_("wrote {n} units to {file}").format(n=count, file=file))


_LIST_COLUMNS = (
    Col("code", _("Unit code")),
    Col("kind", _("Type")),
    Col("area", _("Area ㎡"), "right"),
    Col("owner", _("Owner")),
    Col("phone", _("Phone")),
    Col("delivered_on", _("Delivery date"), optional=2),
    Col("tenant", _("Tenant"), optional=1),
    Col("payer", _("Paying party")),
)


@units_app.command(
    "list",
    help=_("List units with their current owner; phones are masked unless --no-mask.")
    + "\n\n"
    + _("Example: propfee units list --building 1 --kind 住宅 --format csv"),
    short_help=_("List units with their current owner."),
)
def units_list(
    building: Annotated[
        str | None, typer.Option(help=_("Only this building (1, 1栋, 1号楼 …)."))
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help=_("Only this kind (residential, 住宅, 车位 …)."))
    ] = None,
    owner: Annotated[str | None, typer.Option(help=_("Owner name contains this text."))] = None,
    zone: Annotated[
        str | None, typer.Option(help=_("Only this zone (北二区 …), as the roster names it."))
    ] = None,
    wide: WideOpt = False,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List units with their current owner."""
    env = open_env(db, config)
    found = units.list_units(
        env.connect(create=False),
        building=building,
        kind=units.resolve_kind(kind) if kind else None,
        owner=owner,
        zone=zone,
    )
    rows = [_unit_json(u, mask=not no_mask) for u in found]
    if fmt is not Format.json:  # a table and CSV show the Chinese labels
        for row in rows:
            row["kind"] = units.kind_label(row["kind"])
            row["payer"] = payer_label(row["payer"])
    title = _("{n} units").format(n=len(rows)) if fmt is Format.table else None
    emit(env, rows, _LIST_COLUMNS, fmt, title=title, wide=wide)


def _unit_json(u: units.UnitView, *, mask: bool) -> dict[str, object]:
    phones = cells.mask_phones(u.phones) if mask else u.phones
    return {
        "code": u.code,
        "zone": u.zone,
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


@units_app.command(
    "show",
    help=_("Show one unit: area, kind, owner and tenant history.")
    + "\n\n"
    + _(
        "The change history lists every correction, transfer and tenant move: date, operator, "
        "what changed, old value → new value."
    )
    + "\n\n"
    + _("Example: propfee units show 1-1-1001"),
    short_help=_("Show one unit: area, kind, owner and tenant history."),
)
def units_show(
    code: Annotated[str, typer.Argument(help=_("The unit code, e.g. 1-1-1001."))],
    no_mask: NoMaskOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show one unit: area, kind, owner and tenant history."""
    env = open_env(db, config)
    conn = env.connect(create=False)
    detail = units.unit_detail(conn, code)
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
                "contacts": [_contact_json(c, mask=mask) for c in detail.contacts],
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
    if detail.contacts:
        _print_contacts(env, [_contact_json(c, mask=mask) for c in detail.contacts], fmt)
    if detail.events:
        print_events(env, detail.events, fmt, mask=mask)
    if bills:
        _print_bills(env, bills, account, fmt)


def _occupancy_json(h: units.Occupancy, *, mask: bool) -> dict[str, object]:
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


def _contact_json(c: contacts.Contact, *, mask: bool) -> dict[str, object]:
    return {
        "relation": c.relation,
        "name": c.name,
        "gender": c.gender,
        "phones": cells.mask_phones(c.phones) if mask else c.phones,
        "id_number": cells.mask_id(c.id_number) if mask else c.id_number,
        "source": c.source,
    }


def _print_contacts(env, others: list[dict[str, object]], fmt: Format) -> None:
    rows = [
        {
            **c,
            "relation": contacts.relation_label(str(c["relation"])),
            "gender": contacts.gender_label(str(c["gender"])),
        }
        for c in others
    ]
    emit(
        env,
        rows,
        (
            Col("relation", _("Relation")),
            Col("name", _("Full name")),
            Col("gender", _("Gender")),
            Col("phones", _("Phone")),
        ),
        fmt,
        title=_("Other contacts (not payers)"),
    )


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


def _print_unit(env, u: units.UnitView) -> None:
    place = [
        ("  " + label).format(value=safe_markup(value))
        for label, value in (
            (_("Zone {value}"), u.zone),
            (_("Building {value}"), u.building),
            (_("Entrance {value}"), u.entrance),
            (_("Room {value}"), u.room),
            (_("Floor {value}"), u.floor),
        )
        if value
    ]
    lines = [
        f"[bold]{safe_markup(u.code)}[/bold]  {units.kind_label(u.kind)}" + "".join(place),
        _("Billing area {area} ㎡").format(area=hundredths_str(u.area_x100) or "—")
        + (f" ({safe_markup(u.area_basis)})" if u.area_basis else "")
        + (
            "  " + _("Inner area {area} ㎡").format(area=hundredths_str(u.inner_area_x100))
            if u.inner_area_x100
            else ""
        ),
        _("Delivery date {day}  Payer {payer}").format(
            day=u.delivered_on or "—", payer=payer_label(u.payer)
        ),
    ]
    if u.notes:
        lines.append(_("Notes {notes}").format(notes=safe_markup(u.notes, newlines=True)))
    for line in lines:
        env.out.print(line, highlight=False)


def _print_history(env, history: list[dict[str, object]], fmt: Format) -> None:
    rows = [
        {
            **h,
            "role": payer_label(h["role"]),
            "pays": "✓" if h["pays"] else "",
            "from": h["from"] or _("(before records)"),
            "to": h["to"] or _("to date"),
        }
        for h in history
    ]
    emit(
        env,
        rows,
        (
            Col("role", _("Role on unit")),
            Col("name", _("Name of person or company")),
            Col("phones", _("Phone")),
            Col("from", _("Held from")),
            Col("to", _("Held until")),
            Col("pays", _("Pays")),
        ),
        fmt,
        title=_("Owners and tenants"),
    )


def _print_bills(env, bills: list[dict[str, object]], account: UnitAccount, fmt: Format) -> None:
    shown = bills[-24:]
    for b in shown:
        b["covers"] = f"{b['covers_from']}～{b['covers_to']}"
        b["state"] = (
            _("settled")
            if b["settled_on"]
            else (_("unpaid") if b["paid"] == "0.00" else _("partly paid"))
        )
    emit(
        env,
        shown,
        (
            Col("id", _("Bill no."), "right"),
            Col("item_name", _("Fee item")),
            Col("covers", _("Billing period")),
            Col("amount", _("Amount"), "right", money=True),
            Col("adjusted", _("Adjusted"), "right", money=True),
            Col("paid", _("Paid"), "right", money=True),
            Col("outstanding", _("Unpaid"), "right", money=True),
            Col("due_on", _("Due date")),
            Col("party", _("Billed to")),
            Col("state", _("State")),
        ),
        fmt,
        title=(
            _("Bills (last {n} of {total})").format(n=len(shown), total=len(bills))
            if len(bills) > 24
            else _("Bills")
        ),
    )
    credit = account.credit
    env.out.print(
        _("Unpaid in all {owed} (overdue {overdue})").format(
            owed=format_money(account.owed), overdue=format_money(account.overdue)
        )
        + ("  " + _("Credit {credit}").format(credit=format_money(credit)) if credit else ""),
        highlight=False,
    )


def print_events(env, events: list[units.Event], fmt: Format, *, mask: bool) -> None:
    emit(
        env,
        [event_json(e, mask=mask, shown=True) for e in events],
        (
            Col("on", _("Date")),
            Col("operator", _("Recorded by")),
            Col("what", _("What changed")),
            Col("change", _("Old → new")),
            Col("reason", _("Reason")),
            Col("source", _("Source")),
        ),
        fmt,
        title=_("Change history"),
    )


def event_json(e: units.Event, *, mask: bool, shown: bool = False) -> dict[str, object]:
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
        "source": e.source,
    }
    if shown:
        party = _(" ({party})").format(party=e.party) if e.action == "owner-set" and e.party else ""
        row["what"] = e.what + party
        row["change"] = f"{units.value_text(e.field, old)} → {units.value_text(e.field, new)}"
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
        help=_(
            "The day the change takes effect (default --as-of); bills already issued from "
            "then on are credited and re-billed at the new area."
        ),
    ),
]
DateOpt = Annotated[
    str, typer.Option("--date", metavar="YYYY-MM-DD", help=_("The day it takes effect."))
]
ReasonOpt = Annotated[str, typer.Option("--reason", help=_("Why (kept in the change history)."))]
IdOpt = Annotated[
    str,
    typer.Option("--id-number", help=_("ID card or other document number (checked, then kept).")),
]


def _operator() -> str:
    call = audit.current()
    return call.operator if call else ""


def _rebill_for(env, day, clock, operator: str):
    """Billing's re-billing, for an edit's own transaction."""
    return functools.partial(
        rebill_after_edit, as_of=day, now=clock, settings=env.settings, operator=operator
    )


def show_edit(env, result: edits.EditResult, fmt: Format) -> None:
    """What an edit changed (phones and ID numbers masked), what billing re-did, and notes."""
    for notice in result.notices:
        env.info(_("Note: {notice}").format(notice=notice))
    if fmt is Format.json:
        document = result.as_dict()
        for change in document["changes"]:
            change["old"] = masked(change["field"], change["old"], True)
            change["new"] = masked(change["field"], change["new"], True)
        write_json(document)
        return
    who = result.unit or result.party
    if not result.changed:
        env.result(_("{who}: no change, nothing to record").format(who=who))
        return
    for c in result.changes:
        old, new = masked(c.field, c.old, True), masked(c.field, c.new, True)
        env.result(
            _("{who} {field}: {old} → {new} (from {day})").format(
                who=who,
                field=units.field_label(c.field),
                old=units.value_text(c.field, old),
                new=units.value_text(c.field, new),
                day=result.on,
            )
        )
    for m in result.rebilled:
        to = _("{party}, {area} ㎡").format(party=m.to_party, area=m.area) if m.area else m.to_party
        env.result(
            _(
                "  re-billed bill {bill} {item} {period}: {first}～{last} credited {credited}, "
                "new bill {new_bill} {amount} ({to})"
            ).format(
                bill=m.bill_id,
                item=m.item,
                period=m.period,
                first=m.first,
                last=m.last,
                credited=format_money(m.credited_fen),
                new_bill=m.new_bill_id,
                amount=format_money(m.amount_fen),
                to=to,
            )
        )


CodeArg = Annotated[str, typer.Argument(help=_("The unit code, e.g. 1-1-1001."))]


@units_app.command(
    "set",
    help=_(
        "Correct a unit's details (area, type, floor), kept as a change in the history; "
        "nothing earlier is overwritten."
    )
    + "\n\n"
    + _(
        "The area is corrected from --from: bills issued after that at the old area are "
        "credited by a correcting adjustment and billed again at the new area; a bill itself is "
        "never changed. Where a bill has money paid on it the command refuses and names the "
        "bill and the receipt to reverse first. Running the same correction again changes "
        "nothing."
    )
    + "\n\n"
    + _("Example: propfee units set 1-1-1001 --area 95.20 --from 2026-10-01 --reason 复测"),
    short_help=_("Correct a unit's area, type or floor (kept as history)."),
)
def units_set(
    code: CodeArg,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", metavar="㎡", help=_("The new billing area (㎡, no more than 100,000).")
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help=_("The new unit type (住宅, 商铺, 写字楼, 车位, 储藏室).")),
    ] = None,
    floor: Annotated[str | None, typer.Option("--floor", help=_("The new floor."))] = None,
    first: FromOpt = None,
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Correct a unit's area, kind or floor, kept as history."""
    env = open_env(db, config, quiet)
    day, clock, operator = parse_day(as_of), now(), _operator()
    result = edits.set_unit(
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


@units_app.command(
    "sell",
    help=_("Record a transfer: from --date the unit belongs to the buyer.")
    + "\n\n"
    + _(
        "Bills before the transfer stay with the former owner: arrears do not pass to the "
        "buyer with the unit, and reminders go only to the former owner. Unpaid bills issued "
        "from the transfer day are credited and billed again to the buyer (new bills; the old "
        "ones are not changed); bills with money paid on them stay with the former owner and "
        "are listed."
    )
    + "\n\n"
    + _("Example: propfee units sell 1-1-1001 --to 李四 --phone 13912345678 --date 2026-12-10"),
    short_help=_("Record a transfer to a buyer."),
)
def units_sell(
    code: CodeArg,
    buyer: Annotated[str, typer.Option("--to", help=_("The buyer's name."))],
    phone: Annotated[
        str, typer.Option("--phone", help=_("The buyer's phone (separate several with /)."))
    ],
    date_: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help=_("The day of the transfer."))
    ],
    id_number: IdOpt = "",
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record a transfer to a buyer."""
    env = open_env(db, config, quiet)
    day, clock, operator = parse_day(as_of), now(), _operator()
    result = edits.sell(
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


@units_app.command(
    "move-out",
    help=_(
        "A tenant moves out: the lease ends on --date, and from then on the owner (or the "
        "developer, where there is no owner) pays."
    )
    + "\n\n"
    + _(
        "Bills already issued stay with the party they were issued to. With no tenant in "
        "residence nothing changes."
    )
    + "\n\n"
    + _("Example: propfee units move-out 1-1-1001 --tenant --date 2026-11-30"),
    short_help=_("A tenant moves out."),
)
def units_move_out(
    code: CodeArg,
    tenant: Annotated[
        bool,
        typer.Option(
            "--tenant",
            help=_("It is the tenant who moves out (only tenants are recorded; optional)."),
        ),
    ] = True,
    date_: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help=_("The day of moving out (default --as-of).")
        ),
    ] = None,
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A tenant moves out."""
    env = open_env(db, config, quiet)
    result = edits.move_out(
        env.connect(create=False),
        code,
        on=parse_day(date_, option="--date") if date_ else parse_day(as_of),
        now=now(),
        operator=_operator(),
        reason=reason,
    )
    show_edit(env, result, fmt)


@units_app.command(
    "move-in",
    help=_(
        "A tenant moves in: resident from --date (a tenant before them moves out that day); "
        "with --pays the tenant pays."
    )
    + "\n\n"
    + _("Bills already issued stay with the party they were issued to.")
    + "\n\n"
    + _(
        "Example: propfee units move-in 1-1-1001 --tenant 王五 --phone 13700001111 "
        "--date 2026-12-01 --pays"
    ),
    short_help=_("A tenant moves in (--pays: the tenant pays)."),
)
def units_move_in(
    code: CodeArg,
    tenant: Annotated[str, typer.Option("--tenant", help=_("The tenant's name."))],
    phone: Annotated[
        str, typer.Option("--phone", help=_("The tenant's phone (separate several with /)."))
    ],
    date_: Annotated[
        str, typer.Option("--date", metavar="YYYY-MM-DD", help=_("The day of moving in."))
    ],
    pays: Annotated[
        bool,
        typer.Option(
            "--pays",
            help=_("The lease says the tenant pays: bills go to the tenant from moving in."),
        ),
    ] = False,
    id_number: IdOpt = "",
    reason: ReasonOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A tenant moves in."""
    env = open_env(db, config, quiet)
    result = edits.move_in(
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


@units_app.command(
    "contact",
    help=_(
        "Add a contact to a unit (a family member, a further tenant), give one new details, "
        "or remove one with --remove; each change is kept in the history, nothing is "
        "overwritten. A contact never pays: bills and reminders go to the owner or the paying "
        "tenant."
    )
    + "\n\n"
    + _(
        "Example: propfee units contact 1-1-1001 --name 李梅 --relation 家庭成员 --phone 13900139000"
    ),
    short_help=_("Add or remove a unit's contact (family, tenant)."),
)
def units_contact(
    code: CodeArg,
    name: Annotated[str, typer.Option("--name", help=_("The contact's name."))],
    relation: Annotated[
        str, typer.Option("--relation", help=_("family (家庭成员), tenant (租客) or other (其他)."))
    ] = "family",
    phone: Annotated[
        str, typer.Option("--phone", help=_("The contact's phone (separate several with /)."))
    ] = "",
    gender: Annotated[str, typer.Option("--gender", help=_("男 or 女."))] = "",
    remove: Annotated[
        bool, typer.Option("--remove", help=_("Remove the contact (kept in the history)."))
    ] = False,
    reason: ReasonOpt = "",
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add, change or remove a unit's contact."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    changed = contacts.change_contact(
        conn,
        units.resolve_code(conn, code),
        name,
        remove=remove,
        relation=relation,
        phone=phone,
        gender=gender,
        on=parse_day(as_of),
        now=now(),
        operator=_operator(),
        reason=reason,
    )
    if not changed:
        env.result(_("{code}: nothing to change").format(code=code))
    elif remove:
        env.result(_("{code}: contact {name} removed").format(code=code, name=name))
    else:
        env.result(_("{code}: contact {name} recorded").format(code=code, name=name))
