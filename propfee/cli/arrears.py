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
    emit,
    now,
    open_env,
    parse_day,
    print_csv,
    write_json,
)
from propfee.collection import arrears, dunning, limitation, loops
from propfee.core.errors import InvalidValue
from propfee.core.money import decimal_str, format_money
from propfee.files import cells
from propfee.files.render import render
from propfee.files.writers import check_output, write_table, write_text
from propfee.store.db import transaction

contact_app = typer.Typer(
    help="The contact log: calls, visits, messages, letters.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.command("overdue")(overdue)
    app.command("remind")(remind)
    app.add_typer(contact_app, name="contact")


def _row_json(row: arrears.OverdueRow, labels: list[str], mask: bool) -> dict:
    last = row.last_contact
    return {
        "unit": row.unit,
        "building": row.building,
        "payer": row.payer,
        "phone": cells.mask_phone(row.phone) if mask else row.phone,
        "outstanding": decimal_str(row.outstanding_fen),
        "oldest_due": row.oldest_due,
        "days_overdue": row.days_overdue,
        "buckets": {
            label: decimal_str(fen) for label, fen in zip(labels, row.buckets, strict=True)
        },
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
    building: Annotated[str | None, typer.Option(help="Only this building.")] = None,
    min_days: Annotated[
        int | None, typer.Option(help="Only rows at least this many days overdue.")
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(help="Only this tier: gentle, call, notice, legal, dispute, promised."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Only this recorded reason: forgot, dispute, hardship, refusal, other."),
    ] = None,
    by: Annotated[str | None, typer.Option(help="building: a summary per building.")] = None,
    notice_board: Annotated[
        bool,
        typer.Option(
            "--notice-board", help="Room, period and amount only, for a notice inside the estate."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Also write the list: .xlsx or .csv (the notice board also .html).",
        ),
    ] = None,
    limitation: Annotated[
        bool,
        typer.Option(
            "--limitation",
            help="The bills whose 3-year limitation clock ends within --within days, or ended.",
        ),
    ] = False,
    within: Annotated[int, typer.Option(help="Days, for --limitation.")] = 180,
    no_mask: NoMaskOpt = False,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Who owes what as of a day: aging buckets, tier, last contact, reason, promise.

    Exact as of --as-of: payments after it do not count and bills due on or after it are not
    overdue. --notice-board prints only room, period and amount (never names or phones).

    Example: propfee overdue --as-of 2026-11-30 --min-days 31 --format json
    """
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
    )
    labels = arrears.bucket_labels(settings.dunning.buckets)
    if limitation:
        _limitation(env, rows, day, within, fmt, out, not no_mask)
        return
    if notice_board:
        _board(env, rows, day, fmt, out)
        return
    if by == "building":
        _by_building(env, rows, labels, fmt, out)
        return
    mask = not no_mask
    data = [_row_json(r, labels, mask) for r in rows]
    if out is not None:
        check_output(out, "--out")
        write_table(out, *_overdue_sheet(rows, labels, mask), **_OVERDUE_SHEET)
    if fmt is Format.json:
        _overdue_json(rows, data, labels, day)
        return
    if fmt is Format.csv:
        print_csv(*_overdue_sheet(rows, labels, mask))  # the same as --out FILE.csv
        return
    _overdue_table(env, rows, data, labels, day, fmt)


def _overdue_json(rows, data: list[dict], labels: list[str], day) -> None:
    total, buckets = arrears.totals(rows, len(labels))
    write_json(
        {
            "as_of": day.isoformat(),
            "rows": data,
            "total": {
                "units": len(rows),
                "outstanding": decimal_str(total),
                "buckets": {label: decimal_str(buckets[i]) for i, label in enumerate(labels)},
            },
        }
    )


def _overdue_table(env, rows, data: list[dict], labels: list[str], day, fmt: Format) -> None:
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
                "tier": arrears.TIER_LABELS[row.tier],
                "history": arrears.HISTORY_LABELS[row.history],
                "last": dunning.contact_text(last)[5:10] + dunning.contact_text(last)[16:],
                "reason": dunning.REASON_LABELS.get(row.reason, row.reason),
                "promise": row.promise_on or "",
            }
        )
    total, buckets = arrears.totals(rows, len(labels))
    footer = {
        "unit": "合计",
        "payer": f"{len(rows)}户",
        "outstanding": decimal_str(total),
        **{f"b{i}": decimal_str(fen) for i, fen in enumerate(buckets)},
    }
    emit(
        env,
        table,
        [
            Col("unit", "房号"),
            Col("payer", "缴费人"),
            Col("phone", "电话"),
            Col("outstanding", "欠费", "right"),
            Col("oldest_due", "最早到期"),
            Col("days", "逾期天数", "right"),
            *[Col(f"b{i}", f"{label}天", "right") for i, label in enumerate(labels)],
            Col("tier", "催缴阶段"),
            Col("history", "缴费习惯"),
            Col("last", "最近联系"),
            Col("reason", "原因"),
            Col("promise", "承诺日期"),
        ],
        fmt,
        title=f"截至 {day} 逾期欠费",
        footer=footer,
    )


_OVERDUE_SHEET = {"sheet": "逾期欠费", "text_columns": ("房号", "楼栋", "电话")}


def _overdue_sheet(rows, labels, mask: bool) -> tuple[list[str], list[list]]:
    """The overdue list as ``--out`` and ``--format csv`` write it: Chinese headers and
    labels, money as amounts, a 合计 line."""
    headers = [
        "房号",
        "楼栋",
        "缴费人",
        "电话",
        "欠费",
        "最早到期",
        "逾期天数",
        *[f"{label}天" for label in labels],
        "催缴阶段",
        "缴费习惯",
        "最近联系",
        "原因",
        "承诺日期",
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
                arrears.TIER_LABELS[r.tier],
                arrears.HISTORY_LABELS[r.history],
                dunning.contact_text(last),
                dunning.REASON_LABELS.get(r.reason, r.reason),
                r.promise_on or "",
            ]
        )
    if rows:
        total, buckets = arrears.totals(rows, len(labels))
        table.append(
            [
                "合计",
                "",
                f"{len(rows)}户",
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
        _write_clocks(out, data)
    if fmt is Format.json:
        write_json({"as_of": day.isoformat(), "within": within, "bills": data})
        return
    for d in data:
        d["state"] = "已过时效" if d.pop("time_barred") else f"{d['days_left']}天"
        d["event"] = f"{limitation.EVENT_LABELS[d['last_event']]} {d['last_event_on']}"
    emit(
        env,
        data,
        [
            Col("unit", "房号"),
            Col("payer", "缴费人"),
            Col("period", "期间"),
            Col("item", "项目"),
            Col("owed", "欠费", "right"),
            Col("due_on", "缴费期限"),
            Col("ends_on", "时效届满"),
            Col("state", "剩余"),
            Col("event", "起算/最近中断"),
        ],
        fmt,
        title=f"诉讼时效将届满或已届满的欠费（截至 {day}，{within}天内）",
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


def _write_clocks(out: Path, data: list[dict]) -> None:
    write_table(
        out,
        [
            "房号",
            "缴费人",
            "电话",
            "账单号",
            "期间",
            "收费项目",
            "欠费",
            "缴费期限",
            "时效届满",
            "剩余天数",
            "已过时效",
            "最近中断事由",
            "中断日期",
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
                "是" if d["time_barred"] else "",
                limitation.EVENT_LABELS[d["last_event"]],
                d["last_event_on"],
            ]
            for d in data
        ],
        sheet="诉讼时效",
        text_columns=("房号", "电话"),
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
            write_table(
                out,
                ["房号", "欠费期间", "金额"],
                [[d["unit"], d["periods"], Decimal(d["amount"])] for d in data],
                sheet="欠费公示",
                text_columns=("房号",),
            )
    emit(
        env,
        data,
        (Col("unit", "房号"), Col("periods", "欠费期间"), Col("amount", "金额", "right")),
        fmt,
        title=f"物业费缴纳情况公示（截至 {day}）",
    )


def _by_building(env, rows, labels, fmt: Format, out: Path | None) -> None:
    summary = arrears.by_building(rows, env.settings.dunning.buckets)
    tiers = (*arrears.TIERS, *arrears.HOLDS)
    columns = [
        Col("building", "楼栋"),
        Col("units", "欠费户数", "right"),
        Col("outstanding", "欠费", "right"),
        *[Col(f"bucket:{label}", f"{label}天", "right") for label in labels],
        *[Col(f"tier:{t}", arrears.TIER_LABELS[t], "right") for t in tiers],
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
        write_table(
            out,
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
            sheet="按楼栋汇总",
            text_columns=("楼栋",),
        )
    emit(env, data, columns, fmt, title="按楼栋汇总", document=document)


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
        raise InvalidValue(f"--at {value!r} is not a time (use HH:MM)") from None


def remind(
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the messages, call list and letters (default: 催缴/DATE)."),
    ] = None,
    tier: Annotated[
        list[str] | None,
        typer.Option(help="Only these tiers (repeatable): gentle, call, notice, legal."),
    ] = None,
    thanks: Annotated[
        bool,
        typer.Option(
            "--thanks", help="Thank every party that cleared its arrears since its last reminder."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Remind again at a tier already reminded for the same oldest bill.")
    ] = False,
    send_cmd: Annotated[
        str | None,
        typer.Option(
            metavar="CMD",
            help="Run CMD PHONE TEXT per message (text also on stdin); a message "
            "is logged as sent only if CMD exits 0.",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM", help="The time of day (default: now); no message in quiet hours."
        ),
    ] = None,
    language: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    staff: Annotated[
        str,
        typer.Option(
            envvar="PROPFEE_OPERATOR",
            help="Who runs the reminders, kept with each one as evidence.",
        ),
    ] = "",
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="building",
            help="building：催缴通知书每栋楼一个文件（催缴通知书-DATE-1号楼.html）。",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Produce the reminders due, by tier, and log each one as a contact.

    gentle: one message per party in sms.csv; call: call-list.xlsx/.csv and call scripts;
    notice: numbered 催缴通知书 letters (HTML, one A4 page each), awaiting proof of delivery;
    legal: legal-review.xlsx. A re-run produces nothing new; no message in quiet hours or more
    often than the settings allow.

    信件和电话回访名单按楼栋、单元、楼层、房号排列；--by building 每栋楼一个催缴通知书文件。

    Example: propfee remind --as-of 2026-11-30 --out 催缴/2026-11
    """
    env = open_env(db, config, quiet)
    dunning.check_tiers(tier or [])
    if by not in (None, "building"):
        raise InvalidValue(f"--by {by}：只能是 building（每栋楼一个催缴通知书文件）")
    day = parse_day(as_of)
    out = out if out is not None else Path("催缴") / day.isoformat()
    if out.exists() and not out.is_dir():
        raise InvalidValue(f"--out {out}: is a file; give a folder")
    conn = env.connect(dry_run=dry_run, create=False)
    with transaction(conn, dry_run=dry_run):
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
    made = ", ".join(f"{k} {v}" for k, v in report.produced.items() if v) or "nothing new"
    env.result(
        f"{report.as_of}: {made}"
        + (
            f"; skipped: {', '.join(f'{k} {v}' for k, v in report.skipped.items())}"
            if report.skipped
            else ""
        )
    )
    for path in report.files:
        env.result(f"  {path}")
    if send_cmd:
        env.result(
            f"  sent {report.sent} message(s)"
            + (f", {len(report.failed)} failed" if report.failed else "")
        )
    for failure in report.failed[:10]:
        env.warn(f"not sent: {failure}")
    for warning in report.warnings:
        env.warn(warning)
    if report.failed:
        raise typer.Exit(1)  # some messages were not sent: the next run tries them again
    if dry_run:
        env.result("dry run: nothing was written")


@contact_app.command("add")
def contact_add(
    units: Annotated[
        list[str],
        typer.Argument(
            help="The unit(s) the contact was about, e.g. 1-1-1001 (several: one call about all of a party's units).",
            metavar="UNIT...",
        ),
    ],
    channel: Annotated[
        str, typer.Option(help="phone | visit | sms | wechat | letter | registered-mail | email")
    ],
    outcome: Annotated[
        str,
        typer.Option(
            help="reached | promised | dispute | hardship | refused | unreachable | resolved"
        ),
    ],
    reason: Annotated[str, typer.Option(help="forgot | dispute | hardship | refusal | other")] = "",
    promise_date: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="When they promised to pay.")
    ] = None,
    note: Annotated[str, typer.Option(help="What was said or done.")] = "",
    content: Annotated[str, typer.Option(help="The full text sent, for a message or letter.")] = "",
    staff: Annotated[
        str, typer.Option(envvar="PROPFEE_OPERATOR", help="Who made the contact.")
    ] = "",
    at: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD HH:MM", help="When (default: now).")
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Log a call, visit or message: its outcome, the reason and any promise. Append-only.

    A dispute (服务争议) holds the unit out of notice and legal tiers until a contact with
    --outcome resolved; a promise holds its tier until the promised day.

    Example: propfee contact add 1-1-1001 --channel phone --outcome promised --promise-date 2026-12-05 --note "出差，月初缴"
    """
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
            f"logged: {entry.unit} {entry.at} {entry.channel} {entry.outcome}"
            + (f" ({entry.reason})" if entry.reason else "")
            + (f", promised {entry.promise_on}" if entry.promise_on else "")
        )


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(f"--at {value!r} is not a date and time (YYYY-MM-DD HH:MM)") from None


@contact_app.command("deliver")
def contact_deliver(
    notice_no: Annotated[str, typer.Argument(help="The notice number, e.g. 催2026-0001.")],
    proof: Annotated[
        str,
        typer.Option(
            help="The proof: a signature, an EMS or registered-mail number, a message receipt."
        ),
    ],
    day: Annotated[
        str | None,
        typer.Option(
            "--date", metavar="YYYY-MM-DD", help="When it was delivered (default: today)."
        ),
    ] = None,
    staff: Annotated[str, typer.Option(envvar="PROPFEE_OPERATOR", help="Who recorded it.")] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record the proof that a 催缴通知书 was delivered; from then the demand counts.

    Example: propfee contact deliver 催2026-0001 --proof "EMS 1234567890123" --date 2026-12-03
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        entry = dunning.deliver(
            conn, notice_no, proof=proof, on=parse_day(day, option="--date"), now=now(), staff=staff
        )
    env.result(
        f"{notice_no} ({entry.unit}): delivered {entry.deliveries[-1][0]}, proof "
        f"{entry.deliveries[-1][1]}"
    )


@contact_app.command("mark-sms")
def contact_mark_sms(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="短信平台的发送回执（CSV 或 Excel）：手机号、状态、时间。",
        ),
    ],
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """按短信平台的回执，把待发送的短信标为已发送或发送失败。

    识别常见列名：手机号/号码/接收号码/phone/mobile，状态/发送状态/回执状态/status
    （成功/失败/DELIVRD/UNDELIV/已送达/发送失败 …），时间/发送时间/回执时间。每个号码标记
    回执时间之前最近一次催缴短信；标记是另加的一条记录，短信记录本身不改。看不懂的单元格
    按行、列指出，整份不写入；重复导入同一份回执不会再改动。

    Example: propfee contact mark-sms 短信回执-2026-11-10.csv
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        marks = loops.mark_sms(conn, file, now=now())
    if marks.unknown:
        shown = "、".join(marks.unknown[:10]) + ("…" if len(marks.unknown) > 10 else "")
        env.warn(f"{len(marks.unknown)} 个号码没有发过短信的记录，未标记：{shown}")
    env.result(
        f"{file.name}：已发送 {marks.sent} 条，发送失败 {marks.failed} 条"
        + (f"；{marks.already} 个号码此前已标记" if marks.already else "")
        + (f"；{marks.waiting} 行尚无最终状态" if marks.waiting else "")
    )


@contact_app.command("import")
def contact_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="remind 写出的电话回访名单（call-list.xlsx / .csv），已填好联系结果。",
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD HH:MM",
            help="没填联系时间的行按这个时间记录（默认：名单日期）。",
        ),
    ] = None,
    staff: Annotated[str, typer.Option(envvar="PROPFEE_OPERATOR", help="打电话的人。")] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """读回填好的电话回访名单：每个填了联系结果的行记为一次电话联系（名单上的每个房号一条）。

    联系结果：已接通、承诺缴费、拒绝、有异议、经济困难、无人接听、空号 …；未缴原因：忘记缴费、
    服务争议、经济困难、拒绝缴费、其他；承诺缴费要填承诺缴费日期。有错的单元格按行、列指出，
    整份不写入；重复导入同一份名单不会重复记录。

    Example: propfee contact import 催缴/2026-11-10/call-list.xlsx --staff 王会计
    """
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
    counts = "，".join(f"{label} {n}" for label, n in read.outcomes.items())
    env.result(
        f"{file.name}：{read.lines} 行已填结果（{counts or '无'}），记录联系 {read.logged} 条"
        + (f"；{read.unchanged} 行此前已导入" if read.unchanged else "")
        + (f"；{read.blank} 行未填结果" if read.blank else "")
    )


@contact_app.command("list")
def contact_list(
    unit: Annotated[str | None, typer.Argument(help="Only this unit.")] = None,
    since: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD")] = None,
    full: Annotated[bool, typer.Option("--full", help="Show the full text sent.")] = False,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The contact log: every reminder, call, visit and letter with its proof of delivery.

    Example: propfee contact list 1-1-1001 --full
    """
    env = open_env(db, config)
    entries = dunning.list_contacts(
        env.connect(create=False),
        unit_code=unit,
        since=parse_day(since, option="--since") if since else None,
    )
    data = [_contact_json(e, not no_mask) for e in entries]
    if fmt is Format.json:
        write_json(data)
        return
    emit(
        env,
        [_contact_line(d, full) for d in data],
        (
            Col("unit", "房号"),
            Col("at", "时间"),
            Col("channel", "方式"),
            Col("outcome", "结果"),
            Col("reason", "原因"),
            Col("notice", "通知书编号"),
            Col("amount", "金额", "right"),
            Col("delivered", "送达"),
            Col("note", "内容" if full else "备注"),
        ),
        fmt,
        title="联系记录",
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
        "channel": dunning.CHANNEL_LABELS.get(d["channel"], d["channel"]),
        "outcome": f"已送达（{d['delivered'][0]['date']}）"
        if d["delivered"]
        else dunning.OUTCOME_LABELS.get(d["outcome"], d["outcome"]),
        "reason": dunning.REASON_LABELS.get(d["reason"] or "", d["reason"] or ""),
        "notice": d["notice_no"] or "",
        "amount": d["amount"] or "",
        "delivered": "; ".join(f"{x['date']} {x['proof']}" for x in d["delivered"]),
        "note": (d["content"] if full else d["note"]) or "",
    }


__all__ = ["format_money"]
