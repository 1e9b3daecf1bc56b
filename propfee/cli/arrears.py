"""Arrears and dunning: overdue, remind, contact add | deliver | mark-sms | import | list."""

from __future__ import annotations

from datetime import date, datetime, time
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
    NoMaskOpt,
    QuietOpt,
    WideOpt,
    emit,
    listing,
    now,
    open_env,
    parse_day,
    print_csv,
    write_json,
)
from propfee.collection import arrears, dunning, limitation, loops
from propfee.core.errors import InvalidValue
from propfee.core.gcpause import no_gc
from propfee.core.i18n import N_, _, ngettext
from propfee.core.money import decimal_str, format_money
from propfee.files import cells, workbook
from propfee.files.render import render
from propfee.files.workbook import DATE, TALLY
from propfee.files.writers import check_output, write_text
from propfee.store.db import transaction

contact_app = typer.Typer(
    help=_("The contact log: calls, visits, messages, letters."), no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command(
        "overdue",
        help=_("Who owes what as of a day: aging buckets, tier, last contact, reason, promise.")
        + "\n\n"
        + _(
            "Exact as of --as-of: payments after it do not count and bills due on or after it "
            "are not overdue. The table shows the main columns; --wide adds phone, aging "
            "buckets, payment habit, reason and promise (--format csv/json and --out always "
            "have them all). --notice-board prints only room, period and amount (never names "
            "or phones)."
        )
        + "\n\n"
        + _("Example:")
        + "\n\n"
        + _("propfee overdue --as-of 2026-11-30 --min-days 31 --format json"),
        short_help=_("Who owes what: aging, tier, last contact."),
    )(overdue)
    app.command(
        "remind",
        help=_("Produce the reminders due, by tier, and log each one as a contact.")
        + "\n\n"
        + _(
            "gentle: one message per party in sms.csv; call: call-list.xlsx/.csv and call "
            "scripts; notice: numbered 催缴通知书 letters (HTML, one A4 page each), awaiting "
            "proof of delivery; legal: legal-review.xlsx. A re-run produces nothing new; no "
            "message in quiet hours or more often than the settings allow."
        )
        + "\n\n"
        + _(
            "Letters and the call list are in building, entrance, floor and room order; "
            "--by building writes one 催缴通知书 file per building."
        )
        + "\n\n"
        + _("Example:")
        + "\n\n"
        + _("propfee remind --as-of 2026-11-30 --out 催缴/2026-11"),
        short_help=_("Produce the reminders due, by tier, and log them."),
    )(remind)
    app.add_typer(contact_app, name="contact")


#: the overdue table's columns without --wide: what fits a terminal
_NARROW = ("unit", "payer", "outstanding", "oldest_due", "days", "tier", "last")


def _rows_json(rows: list[arrears.OverdueRow], labels: list[str], mask: bool) -> list[dict]:
    """The rows as the JSON listing shows them; an amount seen before is not formatted again."""
    money: dict[int, str] = {}

    def fen_str(fen: int) -> str:
        text = money.get(fen)
        if text is None:
            text = money[fen] = decimal_str(fen)
        return text

    return [_row_json(r, labels, mask, fen_str) for r in rows]


def _row_json(row: arrears.OverdueRow, labels: list[str], mask: bool, fen_str=decimal_str) -> dict:
    last = row.last_contact
    return {
        "unit": row.unit,
        "building": row.building,
        "payer": row.payer,
        "phone": cells.mask_phone(row.phone) if mask else row.phone,
        "outstanding": fen_str(row.outstanding_fen),
        "oldest_due": row.oldest_due,
        "days_overdue": row.days_overdue,
        "buckets": dict(zip(labels, map(fen_str, row.buckets), strict=True)),
        "tier": row.tier,
        "history": row.history,
        "last_contact": (
            {
                "at": last.at,
                "channel": last.channel,
                "outcome": last.outcome,
                "delivered": last.delivered,
            }
            if last
            else None
        ),
        "reason": row.reason or None,
        "promise_date": row.promise_on,
        "periods": [b.period for b in row.bills],
    }


def overdue(
    building: Annotated[str | None, typer.Option(help=_("Only this building."))] = None,
    min_days: Annotated[
        int | None, typer.Option(help=_("Only rows at least this many days overdue."))
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            help=_("Only this tier: gentle, call, notice, legal, dispute, promised, plan.")
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            help=_("Only this recorded reason: forgot, dispute, hardship, refusal, other.")
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help=_("building: a summary per building."))] = None,
    notice_board: Annotated[
        bool,
        typer.Option(
            "--notice-board",
            help=_("Room, period and amount only, for a notice inside the estate."),
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help=_("Also write the list: .xlsx or .csv (the notice board also .html)."),
        ),
    ] = None,
    limitation: Annotated[
        bool,
        typer.Option(
            "--limitation",
            help=_("The bills whose 3-year limitation clock ends within --within days, or ended."),
        ),
    ] = False,
    within: Annotated[int, typer.Option(help=_("Days, for --limitation."))] = 180,
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help=_(
                "All columns in the table: phone, aging buckets, payment habit, reason, promise."
            ),
        ),
    ] = False,
    no_mask: NoMaskOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Who owes what as of a day (help: ``register``)."""
    with no_gc():  # the rows make no cycles (see gcpause)
        env = open_env(db, config)
        day = parse_day(as_of)
        dunning.check_overdue_filters(tier, by, reason)
        settings = env.settings
        rows = arrears.overdue(
            env.connect(create=False),
            as_of=day,
            settings=settings,
            building=building,
            min_days=min_days,
            tier=tier,
            reason=reason,
            listed=not limitation,  # only the limitation clocks read what a letter names
        )
        labels = arrears.bucket_labels(settings.dunning.buckets)
        if limitation:
            _limitation(env, rows, day, within, fmt, out, not no_mask)
            return
        if notice_board:
            _board(env, rows, day, fmt, out)
            return
        if by == "building":
            _by_building(env, rows, labels, fmt, out, day)
            return
        mask = not no_mask
        data = _rows_json(rows, labels, mask)
        if out is not None:
            check_output(out, "--out")
            headers, table = _overdue_sheet(rows, labels, mask)
            if out.suffix.lower() == ".xlsx":
                table = table[:-1]  # the workbook adds its own 合计 row
            _write_list(
                env,
                out,
                _("Overdue list"),
                day,
                headers,
                table,
                kinds={_("Oldest due"): DATE, _("Promised date"): DATE},
                **_overdue_sheet_options(),
            )
        if fmt is Format.json:
            _overdue_json(rows, data, labels, day)
            return
        if fmt is Format.csv:
            print_csv(*_overdue_sheet(rows, labels, mask))  # the same as --out FILE.csv
            return
        _overdue_table(env, rows, data, labels, day, fmt, wide)


def _overdue_json(rows, data: list[dict], labels: list[str], day) -> None:
    total, buckets = arrears.totals(rows, len(labels))
    units = len(rows)
    rows.clear()  # the rows and their bills are written from ``data``: freed before it is
    write_json(
        listing(
            data,
            day,
            total={
                "units": units,
                "outstanding": decimal_str(total),
                "buckets": {label: decimal_str(buckets[i]) for i, label in enumerate(labels)},
            },
        )
    )


def _overdue_table(
    env, rows, data: list[dict], labels: list[str], day, fmt: Format, wide: bool = False
) -> None:
    table = []
    for row, d in zip(rows, data, strict=True):
        last = row.last_contact
        table.append(
            {
                "unit": row.unit,
                "payer": row.payer,
                "phone": d["phone"],
                "outstanding": d["outstanding"],
                "oldest_due": row.oldest_due,
                "days": row.days_overdue,
                **{f"b{i}": decimal_str(f) if f else "" for i, f in enumerate(row.buckets)},
                "tier": dunning.label(arrears.TIER_LABELS, row.tier),
                "history": dunning.label(arrears.HISTORY_LABELS, row.history),
                "last": dunning.contact_text(last)[5:10] + dunning.contact_text(last)[16:],
                "reason": dunning.label(dunning.REASON_LABELS, row.reason),
                "promise": row.promise_on or "",
            }
        )
    total, buckets = arrears.totals(rows, len(labels))
    footer = {
        "unit": _("Total"),
        "payer": ngettext("{n} unit", "{n} units", len(rows)).format(n=len(rows)),
        "outstanding": decimal_str(total),
        **{f"b{i}": decimal_str(fen) for i, fen in enumerate(buckets)},
    }
    columns = [
        Col("unit", _("Unit")),
        Col("payer", _("Payer")),
        Col("phone", _("Phone")),
        Col("outstanding", _("Owed"), "right", money=True),
        Col("oldest_due", _("Oldest due")),
        Col("days", _("Days overdue"), "right"),
        *[Col(f"b{i}", _bucket(label), "right", money=True) for i, label in enumerate(labels)],
        Col("tier", _("Tier")),
        Col("history", _("Payment habit")),
        Col("last", _("Last contact")),
        Col("reason", _("Reason")),
        Col("promise", _("Promised date")),
    ]
    if not wide:
        columns = [c for c in columns if c.key in _NARROW]
    emit(
        env,
        table,
        columns,
        fmt,
        title=_("Overdue as of {day}").format(day=day),
        footer=footer,
    )


def _bucket(label: str) -> str:
    """An aging bucket's header: 「1-15天」."""
    return _("{days} days").format(days=label)


def _write_list(env, out: Path, report: str, day: date, headers, rows, **options) -> None:
    """A list to ``--out``: an .xlsx through the workbook writer (a title block naming the
    estate, the list and the day, fitted widths, typed cells, 合计, A4 print setup), a .csv as
    plain rows."""
    title = workbook.Title(env.settings.estate.name, report, "", day, now())
    workbook.write_table(out, headers, rows, title=title, **options)


def _overdue_sheet_options() -> dict:
    return {
        "sheet": _("Overdue"),
        "text_columns": (_("Unit"), _("Building"), _("Phone")),
    }


def _overdue_sheet(rows, labels, mask: bool) -> tuple[list[str], list[list]]:
    """The overdue list as ``--out`` and ``--format csv`` write it: headers and labels in
    the reader's language, money as amounts, a total line."""
    headers = [
        _("Unit"),
        _("Building"),
        _("Payer"),
        _("Phone"),
        _("Owed"),
        _("Oldest due"),
        _("Days overdue"),
        *[_bucket(label) for label in labels],
        _("Tier"),
        _("Payment habit"),
        _("Last contact"),
        _("Reason"),
        _("Promised date"),
    ]
    table = []
    for r in rows:
        last = r.last_contact
        table.append(
            [
                r.unit,
                r.building,
                r.payer,
                cells.mask_phone(r.phone) if mask else r.phone,
                Decimal(decimal_str(r.outstanding_fen)),
                r.oldest_due,
                r.days_overdue,
                *[Decimal(decimal_str(f)) for f in r.buckets],
                dunning.label(arrears.TIER_LABELS, r.tier),
                dunning.label(arrears.HISTORY_LABELS, r.history),
                dunning.contact_text(last),
                dunning.label(dunning.REASON_LABELS, r.reason),
                r.promise_on or "",
            ]
        )
    if rows:
        total, buckets = arrears.totals(rows, len(labels))
        table.append(
            [
                _("Total"),
                "",
                ngettext("{n} unit", "{n} units", len(rows)).format(n=len(rows)),
                "",
                Decimal(decimal_str(total)),
                "",
                "",
                *[Decimal(decimal_str(fen)) for fen in buckets],
                "",
                "",
                "",
                "",
                "",
            ]
        )
    return headers, table


def _limitation(env, rows, day, within: int, fmt: Format, out: Path | None, mask: bool) -> None:
    clocks = limitation.clocks_within(
        env.connect(create=False), as_of=day, settings=env.settings, within=within, rows=rows
    )
    phones = {(r.unit_id, r.party_id): r.phone for r in rows}
    data = [_clock_json(c, phones.get((c.unit_id, c.party_id), ""), mask) for c in clocks]
    if out is not None:
        _write_clocks(env, out, data, day)
    if fmt is Format.json:
        write_json(listing(data, day, within=within))
        return
    for d in data:
        d["state"] = (
            _("time-barred")
            if d.pop("time_barred")
            else _("{days} days").format(days=d["days_left"])
        )
        d["event"] = (
            f"{dunning.label(limitation.EVENT_LABELS, d['last_event'])} {d['last_event_on']}"
        )
    emit(
        env,
        data,
        [
            Col("unit", _("Unit")),
            Col("payer", _("Payer")),
            Col("period", _("Period")),
            Col("item", _("Item")),
            Col("owed", _("Owed"), "right", money=True),
            Col("due_on", _("Payment deadline")),
            Col("ends_on", _("Limitation ends")),
            Col("state", _("Left")),
            Col("event", _("Start / last interruption")),
        ],
        fmt,
        title=_(
            "Arrears whose limitation period ends soon or has ended (as of {day}, within "
            "{within} days)"
        ).format(day=day, within=within),
    )


def _clock_json(c: limitation.Clock, phone: str, mask: bool) -> dict:
    return {
        "unit": c.unit,
        "payer": c.payer,
        "phone": cells.mask_phone(phone) if mask else phone,
        "bill": c.bill_id,
        "period": c.period,
        "item": c.item,
        "owed": decimal_str(c.owed_fen),
        "due_on": c.due_on,
        "ends_on": c.ends_on,
        "days_left": c.days_left,
        "time_barred": c.barred,
        "last_event": c.last_event,
        "last_event_on": c.last_event_on,
    }


def _write_clocks(env, out: Path, data: list[dict], day: date) -> None:
    _write_list(
        env,
        out,
        _("Limitation clocks"),
        day,
        [
            _("Unit"),
            _("Payer"),
            _("Phone"),
            _("Bill no."),
            _("Period"),
            _("Fee item"),
            _("Owed"),
            _("Payment deadline"),
            _("Limitation ends"),
            _("Days left"),
            _("Time-barred"),
            _("Last interruption"),
            _("Interrupted on"),
        ],
        [
            [
                d["unit"],
                d["payer"],
                d["phone"],
                d["bill"],
                d["period"],
                d["item"],
                Decimal(d["owed"]),
                d["due_on"],
                d["ends_on"],
                d["days_left"],
                _("yes") if d["time_barred"] else "",
                dunning.label(limitation.EVENT_LABELS, d["last_event"]),
                d["last_event_on"],
            ]
            for d in data
        ],
        sheet=_("Limitation"),
        text_columns=(_("Unit"), _("Phone"), _("Bill no.")),
        kinds={_("Payment deadline"): DATE, _("Limitation ends"): DATE, _("Interrupted on"): DATE},
    )


def _board(env, rows, day, fmt: Format, out: Path | None) -> None:

    if out is not None:
        check_output(out, "--out")
    lines = arrears.notice_board(rows)
    data = [
        {"unit": line.unit, "periods": line.periods, "amount": decimal_str(line.amount_fen)}
        for line in lines
    ]
    if out is not None:
        if out.suffix.lower() == ".html":
            write_text(
                out,
                render(
                    env.settings,
                    "zh/notice_board.html",
                    {"estate": env.settings.estate, "as_of": day.isoformat(), "lines": lines},
                ),
                option="--out",
            )
        else:
            _write_list(
                env,
                out,
                _("Property fee payment notice"),
                day,
                [_("Unit"), _("Periods owed"), _("Amount")],
                [[d["unit"], d["periods"], Decimal(d["amount"])] for d in data],
                sheet=_("Arrears notice"),
                text_columns=(_("Unit"),),
            )
    emit(
        env,
        data,
        (
            Col("unit", _("Unit")),
            Col("periods", _("Periods owed")),
            Col("amount", _("Amount"), "right", money=True),
        ),
        fmt,
        title=_("Property fee payment notice (as of {day})").format(day=day),
        as_of=day,
    )


def _by_building(env, rows, labels, fmt: Format, out: Path | None, day: date) -> None:
    summary = arrears.by_building(rows, env.settings.dunning.buckets)
    tiers = (*arrears.TIERS, *arrears.HOLDS)
    columns = [
        Col("building", _("Building")),
        Col("units", _("Units owing"), "right"),
        Col("outstanding", _("Owed"), "right", money=True),
        *[Col(f"bucket:{label}", _bucket(label), "right", money=True) for label in labels],
        *[Col(f"tier:{t}", _(arrears.TIER_LABELS[t]), "right") for t in tiers],
    ]
    data = [
        {
            "building": s.building,
            "units": s.units,
            "outstanding": decimal_str(s.outstanding_fen),
            **{f"bucket:{label}": decimal_str(s.buckets[i]) for i, label in enumerate(labels)},
            **{f"tier:{t}": s.tiers.get(t, 0) for t in tiers},
        }
        for s in summary
    ]
    document = [
        {
            "building": s.building,
            "units": s.units,
            "outstanding": decimal_str(s.outstanding_fen),
            "buckets": {label: decimal_str(s.buckets[i]) for i, label in enumerate(labels)},
            "tiers": {t: s.tiers.get(t, 0) for t in tiers},
        }
        for s in summary
    ]
    if out is not None:
        _write_list(
            env,
            out,
            _("Overdue by building"),
            day,
            [c.header for c in columns],
            [
                [
                    d[c.key]
                    if c.key in ("building", "units") or c.key.startswith("tier:")
                    else Decimal(d[c.key])
                    for c in columns
                ]
                for d in data
            ],
            sheet=_("By building"),
            text_columns=(_("Building"),),
            kinds={c.header: TALLY for c in columns if c.key == "units" or c.key[:5] == "tier:"},
        )
    total, buckets = arrears.totals(rows, len(labels))
    emit(
        env,
        data,
        columns,
        fmt,
        title=_("By building"),
        as_of=day,
        json_rows=document,
        extra={
            "by": "building",
            "total": {
                "units": len(rows),
                "outstanding": decimal_str(total),
                "buckets": {label: decimal_str(buckets[i]) for i, label in enumerate(labels)},
            },
        },
    )


def _clock(value: str | None, day: date | None = None, settings=None) -> time:
    """--at; without it, the time now — or, for a run as of another day, the end of that
    day's quiet hours (the wall clock says nothing about a day already past)."""
    if not value:
        if day is not None and settings is not None and day != now().date():
            return time.fromisoformat(settings.dunning.quiet_end)
        return now().time()
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidValue(
            _("--at {value!r} is not a time (use HH:MM)").format(value=value)
        ) from None


def remind(
    out: Annotated[
        Path | None,
        typer.Option(
            help=_("Folder for the messages, call list and letters (default: 催缴/DATE).")
        ),
    ] = None,
    tier: Annotated[
        list[str] | None,
        typer.Option(help=_("Only these tiers (repeatable): gentle, call, notice, legal.")),
    ] = None,
    thanks: Annotated[
        bool,
        typer.Option(
            "--thanks",
            help=_("Thank every party that cleared its arrears since its last reminder."),
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(help=_("Remind again at a tier already reminded for the same oldest bill.")),
    ] = False,
    send_cmd: Annotated[
        str | None,
        typer.Option(
            metavar="CMD",
            help=_(
                "Run CMD PHONE TEXT per message (text also on stdin); a message is logged as "
                "sent only if CMD exits 0."
            ),
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM",
            help=_("The time of day (default: now); no message in quiet hours."),
        ),
    ] = None,
    language: Annotated[
        str, typer.Option(help=_("Language of the messages and letters: zh or en."))
    ] = "zh",
    staff: Annotated[
        str,
        typer.Option(
            envvar="PROPFEE_OPERATOR",
            help=_("Who runs the reminders, kept with each one as evidence."),
        ),
    ] = "",
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="building",
            help=_("building: one 催缴通知书 file per building (催缴通知书-DATE-1号楼.html)."),
        ),
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Produce the reminders due, by tier (help: ``register``)."""
    env = open_env(db, config, quiet)
    dunning.check_tiers(tier or [])
    if by not in (None, "building"):
        raise InvalidValue(
            _("--by {by}: only building (one 催缴通知书 file per building)").format(by=by)
        )
    day = parse_day(as_of)
    out = out if out is not None else Path("催缴") / day.isoformat()
    if out.exists() and not out.is_dir():
        raise InvalidValue(_("--out {out}: is a file; give a folder").format(out=out))
    conn = env.connect(dry_run=dry_run, create=False)
    # its inserts: the contacts, some thousands at a time (see transaction)
    with transaction(conn, dry_run=dry_run, journal_in_memory=True):
        report = dunning.remind(
            conn,
            as_of=day,
            at=_clock(at, day, env.settings),
            now=now(),
            settings=env.settings,
            out_dir=out,
            tiers=tier or None,
            force=force,
            send_cmd=send_cmd,
            language=language,
            dry_run=dry_run,
            thanks=thanks,
            staff=staff,
            by_building=by == "building",
        )
    _show_remind(env, report, fmt, dry_run, send_cmd)


def _show_remind(env, report: dunning.RemindReport, fmt: Format, dry_run: bool, send_cmd) -> None:
    """What a reminder run produced, skipped, wrote and sent; exit 1 when a message failed."""
    if fmt is Format.json:
        write_json(
            {
                "as_of": report.as_of,
                "produced": report.produced,
                "skipped": report.skipped,
                "files": [str(f) for f in report.files],
                "notices": report.notices,
                "sent": report.sent,
                "failed": report.failed,
                "warnings": report.warnings,
                "dry_run": dry_run,
            }
        )
        if report.failed:
            raise typer.Exit(1)
        return
    sep = _(", ")
    made = sep.join(f"{_produced_label(k)} {v}" for k, v in report.produced.items() if v) or _(
        "nothing new"
    )
    skipped = sep.join(f"{_skip_label(k)} {v}" for k, v in report.skipped.items())
    env.result(
        _("{day}: {made}").format(day=report.as_of, made=made)
        + (_("; skipped: {skipped}").format(skipped=skipped) if report.skipped else "")
    )
    for path in report.files:
        env.result(f"  {path}")
    if send_cmd:
        env.result(
            "  "
            + ngettext("sent {n} message", "sent {n} messages", report.sent).format(n=report.sent)
            + (_(", {n} failed").format(n=len(report.failed)) if report.failed else "")
        )
    for failure in report.failed[:10]:
        env.warn(_("not sent: {failure}").format(failure=failure))
    for warning in report.warnings:
        env.warn(warning)
    if report.failed:
        raise typer.Exit(1)  # some messages were not sent: the next run tries them again
    if dry_run:
        env.result(_("dry run: nothing was written"))


#: what a reminder run produced, by tier (the keys of ``RemindReport.produced``)
_PRODUCED = {**arrears.TIER_LABELS, "thanks": N_("thanks")}


def _produced_label(key: str) -> str:
    return dunning.label(_PRODUCED, key)


def _skip_label(key: str) -> str:
    """A skip reason: 「held: dispute」 → 「暂缓：服务争议」."""
    if key.startswith("held: "):
        tier = key.removeprefix("held: ")
        return _("held: {tier}").format(tier=dunning.label(arrears.TIER_LABELS, tier))
    return dunning.label(dunning.SKIP_LABELS, key)


@contact_app.command(
    "add",
    help=_("Log a call, visit or message: its outcome, the reason and any promise. Append-only.")
    + "\n\n"
    + _(
        "A dispute (服务争议) holds the unit out of the notice and legal tiers until a contact "
        "with --outcome resolved; a promise holds its tier until the promised day."
    )
    + "\n\n"
    + _("Example:")
    + "\n\n"
    + _(
        'propfee contact add 1-1-1001 --channel phone --outcome promised --promise-date 2026-12-05 --note "出差，月初缴"'
    ),
    short_help=_("Log a call, visit or message and its outcome."),
)
def contact_add(
    units: Annotated[
        list[str],
        typer.Argument(
            help=_(
                "The unit(s) the contact was about, e.g. 1-1-1001 (several: one call about all "
                "of a party's units)."
            ),
            metavar="UNIT...",
        ),
    ],
    channel: Annotated[
        str,
        typer.Option(
            help=_("How: phone | visit | sms | wechat | letter | registered-mail | email")
        ),
    ],
    outcome: Annotated[
        str,
        typer.Option(
            help=_(
                "The result: reached | promised | dispute | hardship | refused | unreachable | "
                "resolved"
            )
        ),
    ],
    reason: Annotated[
        str, typer.Option(help=_("Why unpaid: forgot | dispute | hardship | refusal | other"))
    ] = "",
    promise_date: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help=_("When they promised to pay."))
    ] = None,
    note: Annotated[str, typer.Option(help=_("What was said or done."))] = "",
    content: Annotated[
        str, typer.Option(help=_("The full text sent, for a message or letter."))
    ] = "",
    staff: Annotated[
        str, typer.Option(envvar="PROPFEE_OPERATOR", help=_("Who made the contact."))
    ] = "",
    at: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD HH:MM", help=_("When (default: now)."))
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Log a contact (help: the decorator)."""
    env = open_env(db, config, quiet)
    when = now() if not at else _when(at)
    conn = env.connect(create=False)
    with transaction(conn):
        entries = [
            dunning.add_contact(
                conn,
                unit,
                channel=channel,
                outcome=outcome,
                at=when,
                now=now(),
                settings=env.settings,
                reason=reason,
                promise_on=parse_day(promise_date, option="--promise-date")
                if promise_date
                else None,
                note=note,
                staff=staff,
                content=content,
            )
            for unit in units
        ]
    for warning in dunning.contact_warnings(env.settings, channel, when, content):
        env.warn(warning)
    for entry in entries:
        env.result(
            _("logged: {unit} {at} {channel} {outcome}").format(
                unit=entry.unit,
                at=entry.at,
                channel=dunning.label(dunning.CHANNEL_LABELS, entry.channel),
                outcome=dunning.label(dunning.OUTCOME_LABELS, entry.outcome),
            )
            + (
                _(" ({reason})").format(reason=dunning.label(dunning.REASON_LABELS, entry.reason))
                if entry.reason
                else ""
            )
            + (_(", promised {day}").format(day=entry.promise_on) if entry.promise_on else "")
        )


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(
            _("--at {value!r} is not a date and time (YYYY-MM-DD HH:MM)").format(value=value)
        ) from None


@contact_app.command(
    "deliver",
    help=_("Record the proof that a 催缴通知书 was delivered; from then the demand counts.")
    + "\n\n"
    + _("Example:")
    + "\n\n"
    + _('propfee contact deliver 催2026-0001 --proof "EMS 1234567890123" --date 2026-12-03'),
    short_help=_("Record the proof a notice was delivered."),
)
def contact_deliver(
    notice_no: Annotated[str, typer.Argument(help=_("The notice number, e.g. 催2026-0001."))],
    proof: Annotated[
        str,
        typer.Option(
            help=_("The proof: a signature, an EMS or registered-mail number, a message receipt.")
        ),
    ],
    day: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help=_("When it was delivered (default: today).")
        ),
    ] = None,
    staff: Annotated[str, typer.Option(envvar="PROPFEE_OPERATOR", help=_("Who recorded it."))] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record a notice's proof of delivery (help: the decorator)."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        entry = dunning.deliver(
            conn, notice_no, proof=proof, on=parse_day(day, option="--date"), now=now(), staff=staff
        )
    env.result(
        _("{notice} ({unit}): delivered {day}, proof {proof}").format(
            notice=notice_no,
            unit=entry.unit,
            day=entry.deliveries[-1][0],
            proof=entry.deliveries[-1][1],
        )
    )


@contact_app.command(
    "mark-sms",
    help=_(
        "Mark the messages waiting to be sent as sent or failed, from the SMS gateway's "
        "delivery report."
    )
    + "\n\n"
    + _(
        "Common column names are recognised: 手机号/号码/接收号码/phone/mobile, "
        "状态/发送状态/回执状态/status (成功/失败/DELIVRD/UNDELIV/已送达/发送失败 …), "
        "时间/发送时间/回执时间. Each number marks its latest reminder SMS before the report's "
        "time; a mark is a record added beside the message, which itself is never changed. A "
        "cell not understood is named by row and column and nothing is written; importing the "
        "same report again changes nothing."
    )
    + "\n\n"
    + _("Example:")
    + "\n\n"
    + _("propfee contact mark-sms 短信回执-2026-11-10.csv"),
    short_help=_("Mark SMS sent or failed from the gateway's report."),
)
def contact_mark_sms(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help=_("The SMS gateway's delivery report (CSV or Excel): phone, status, time."),
        ),
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Mark SMS sent or failed from a delivery report (help: the decorator)."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        marks = loops.mark_sms(conn, file, now=now())
    if marks.unknown:
        shown = _(", ").join(marks.unknown[:10]) + ("…" if len(marks.unknown) > 10 else "")
        env.warn(
            ngettext(
                "{n} number has no SMS on record, not marked: {phones}",
                "{n} numbers have no SMS on record, not marked: {phones}",
                len(marks.unknown),
            ).format(n=len(marks.unknown), phones=shown)
        )
    env.result(
        _("{file}: {sent} sent, {failed} failed").format(
            file=file.name, sent=marks.sent, failed=marks.failed
        )
        + (_("; {n} number(s) marked before").format(n=marks.already) if marks.already else "")
        + (
            _("; {n} line(s) with no final status yet").format(n=marks.waiting)
            if marks.waiting
            else ""
        )
    )


@contact_app.command(
    "import",
    help=_(
        "Read back a filled-in call list: each line with a contact result is logged as a "
        "phone contact (one per unit on the line)."
    )
    + "\n\n"
    + _(
        "Contact results: 已接通, 承诺缴费, 拒绝, 有异议, 经济困难, 无人接听, 空号 …; reasons "
        "unpaid: 忘记缴费, 服务争议, 经济困难, 拒绝缴费, 其他; a promise to pay needs the promised "
        "date. A wrong cell is named by row and column and nothing is written; importing the "
        "same list again logs nothing twice."
    )
    + "\n\n"
    + _("Example:")
    + "\n\n"
    + _("propfee contact import 催缴/2026-11-10/call-list.xlsx --staff 王会计"),
    short_help=_("Read back a filled-in call list and log the calls."),
)
def contact_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help=_(
                "The call list remind wrote (call-list.xlsx / .csv), with the contact results "
                "filled in."
            ),
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD HH:MM",
            help=_(
                "Lines with no contact time are logged at this time (default: the list's date)."
            ),
        ),
    ] = None,
    staff: Annotated[
        str, typer.Option(envvar="PROPFEE_OPERATOR", help=_("Who made the calls."))
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Read back a filled-in call list (help: the decorator)."""
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        read = loops.import_calls(
            conn,
            file,
            now=now(),
            settings=env.settings,
            at=_when(at) if at else None,
            staff=staff,
        )
    counts = _(", ").join(
        f"{dunning.label(dunning.OUTCOME_LABELS, outcome)} {n}"
        for outcome, n in read.outcomes.items()
    )
    env.result(
        _("{file}: {lines} line(s) with a result ({counts}), {logged} contact(s) logged").format(
            file=file.name, lines=read.lines, counts=counts or _("none"), logged=read.logged
        )
        + (_("; {n} line(s) imported before").format(n=read.unchanged) if read.unchanged else "")
        + (_("; {n} line(s) with no result").format(n=read.blank) if read.blank else "")
    )


@contact_app.command(
    "list",
    help=_("The contact log: every reminder, call, visit and letter with its proof of delivery.")
    + "\n\n"
    + _("Example:")
    + "\n\n"
    + _("propfee contact list 1-1-1001 --full"),
    short_help=_("The contact log, with proof of delivery."),
)
def contact_list(
    unit: Annotated[str | None, typer.Argument(help=_("Only this unit."))] = None,
    since: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help=_("Only contacts from this day."))
    ] = None,
    full: Annotated[bool, typer.Option("--full", help=_("Show the full text sent."))] = False,
    wide: WideOpt = False,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The contact log (help: the decorator)."""
    env = open_env(db, config)
    entries = dunning.list_contacts(
        env.connect(create=False),
        unit_code=unit,
        since=parse_day(since, option="--since") if since else None,
    )
    data = [_contact_json(e, not no_mask) for e in entries]
    emit(
        env,
        [_contact_line(d, full) for d in data],
        (
            Col("unit", _("Unit")),
            Col("at", _("Time")),
            Col("channel", _("Channel")),
            Col("outcome", _("Result")),
            Col("reason", _("Reason"), optional=2),
            Col("notice", _("Notice no."), optional=3),
            Col("amount", _("Amount"), "right", money=True),
            Col("delivered", _("Delivered"), optional=1),
            Col("note", _("Text sent") if full else _("Note")),
        ),
        fmt,
        title=_("Contact log"),
        json_rows=data,
        wide=wide or full,
    )


def _contact_json(e: dunning.ContactEntry, mask: bool) -> dict:
    return {
        "unit": e.unit,
        "at": e.at,
        "channel": e.channel,
        "outcome": e.outcome,
        "reason": e.reason or None,
        "promise_date": e.promise_on,
        "tier": e.tier or None,
        "notice_no": e.notice_no,
        "deadline": e.deadline_on,
        "amount": decimal_str(e.amount_fen) if e.amount_fen is not None else None,
        "addressee": e.addressee,
        "phone": cells.mask_phone(e.phone) if mask else e.phone,
        "staff": e.staff,
        "note": e.note,
        "content": e.content,
        "source": e.source,
        "delivered": [{"date": d, "proof": p, "staff": s} for d, p, s in e.deliveries],
    }


def _contact_line(d: dict, full: bool) -> dict:
    return {
        "unit": d["unit"],
        "at": d["at"][:16],
        "channel": dunning.label(dunning.CHANNEL_LABELS, d["channel"]),
        "outcome": _("delivered ({day})").format(day=d["delivered"][0]["date"])
        if d["delivered"]
        else dunning.label(dunning.OUTCOME_LABELS, d["outcome"]),
        "reason": dunning.label(dunning.REASON_LABELS, d["reason"]),
        "notice": d["notice_no"] or "",
        "amount": d["amount"] or "",
        "delivered": "; ".join(f"{x['date']} {x['proof']}" for x in d["delivered"]),
        "note": (d["content"] if full else d["note"]) or "",
    }


__all__ = ["format_money"]
