"""Owner relations: owners show | set | tag | care, and complain add | list | show | assign |
progress | resolve | visit | reopen | merge | report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from propfee import roster
from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
    Format,
    FormatOpt,
    NoMaskOpt,
    QuietOpt,
    emit,
    now,
    open_env,
    parse_day,
    print_csv,
    record_unmasked,
    safe_markup,
    today,
    write_json,
)
from propfee.cli.roster import event_json, print_events, show_edit
from propfee.collection import arrears, dunning
from propfee.core.errors import InvalidValue
from propfee.core.money import decimal_str, format_money
from propfee.core.workdays import SOURCE_NOTES
from propfee.files import cells
from propfee.files.writers import write_table
from propfee.insight import profile
from propfee.roster.payers import ROLE_LABELS
from propfee.service import complaints, deadlines, owners
from propfee.service.complaints import (
    CATEGORIES,
    CHANNEL_LABELS,
    KINDS,
    PRIORITY_LABELS,
    STATES,
)
from propfee.service.workorder import write_work_order
from propfee.store import audit
from propfee.store.db import transaction

owners_app = typer.Typer(help="Owner profiles, tags and the care list.", no_args_is_help=True)
complain_app = typer.Typer(
    help="Complaints and service requests (投诉与报修).", no_args_is_help=True
)

AtOpt = Annotated[
    str | None,
    typer.Option("--at", metavar="YYYY-MM-DD HH:MM", help="When it happened (default: now)."),
]
ByOpt = Annotated[
    str, typer.Option("--by", envvar="PROPFEE_OPERATOR", help="Who did it (kept with the event).")
]


def register(app: typer.Typer) -> None:
    app.add_typer(owners_app, name="owners")
    app.add_typer(complain_app, name="complain")


def _when(value: str | None) -> datetime:
    if not value:
        return now()
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(f"--at {value!r} is not a date and time (YYYY-MM-DD HH:MM)") from None


# ---------------------------------------------------------------- owners


@owners_app.command("show")
def owners_show(
    query: Annotated[str, typer.Argument(metavar="NAME|PHONE|UNIT", help="Who to look up.")],
    as_of: AsOfOpt = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """An owner's profile: units and roles, what they owe, how they pay, recent contacts,
    complaints and requests, tags.

    Example: propfee owners show 1-1-1001
    """
    env = open_env(db, config)
    conn = env.connect(create=False)
    found = profile.find(conn, query)
    if not found:
        raise InvalidValue(f"nobody matches {query!r} (a name, a phone number or a unit code)")
    day = parse_day(as_of)
    mask = not no_mask
    profiles = [profile.profile(conn, pid, as_of=day, settings=env.settings) for pid in found]
    if fmt is Format.json:
        write_json([_profile_json(p, mask) for p in profiles])
        return
    if fmt is Format.csv:  # one table: every match's units
        emit(env, [r for p in profiles for r in _holding_rows(p)], HOLDING_COLUMNS, fmt)
        return
    for p in profiles[:5]:
        _print_profile(env, p, mask, fmt)
    if len(profiles) > 5:
        env.warn(f"{len(profiles)} parties match {query!r}; the first 5 are shown")


def _profile_json(p: profile.Profile, mask: bool) -> dict:
    return {
        "name": p.name,
        "kind": p.kind,
        "phones": cells.mask_phones(p.phones) if mask else p.phones,
        "id_number": cells.mask_id(p.id_number) if mask else p.id_number,
        "units": [
            {
                "unit": h.unit,
                "role": h.role,
                "from": h.start,
                "to": h.end,
                "pays": h.pays,
                "owed": decimal_str(h.owed_fen),
                "credit": decimal_str(h.credit_fen),
            }
            for h in p.holdings
        ],
        "owed": decimal_str(p.owed_fen),
        "credit": decimal_str(p.credit_fen),
        "history": p.history,
        "late_periods": p.late_periods,
        "tags": p.tags,
        "changes": [event_json(e, mask=mask) for e in p.changes],
        "contacts": [
            {"at": c.at, "unit": c.unit, "channel": c.channel, "outcome": c.outcome}
            for c in p.contacts
        ],
        "cases": [
            {
                "number": c.number,
                "unit": c.unit,
                "category": c.category,
                "state": c.state,
                "opened_at": c.opened_at,
            }
            for c in p.cases
        ],
    }


HOLDING_COLUMNS = (
    Col("name", "姓名/名称"),
    Col("unit", "房号"),
    Col("role", "身份"),
    Col("period", "期间"),
    Col("owed", "欠费", "right"),
)


def _holding_rows(p: profile.Profile) -> list[dict]:
    return [
        {
            "name": p.name,
            "unit": h.unit,
            "role": ROLE_LABELS.get(h.role, h.role) + ("（缴费）" if h.pays else ""),
            "period": f"{h.start or '—'} 至 {h.end or '今'}",
            "owed": decimal_str(h.owed_fen),
        }
        for h in p.holdings
    ]


def _print_profile(env, p: profile.Profile, mask: bool, fmt: Format) -> None:
    _print_profile_head(env, p, mask)
    emit(env, _holding_rows(p), HOLDING_COLUMNS[1:], fmt)
    if p.changes:
        print_events(env, p.changes, fmt, mask=mask)
    for c in p.contacts[-5:]:
        env.out.print(f"  联系 {safe_markup(dunning.contact_text(c))}（{safe_markup(c.unit)}）")
    for case in p.cases[-5:]:
        env.out.print(
            f"  {case.number} {safe_markup(case.unit)} {safe_markup(case.category)} "
            f"{STATES[case.state]}  {safe_markup(case.description[:30])}"
        )


def _print_profile_head(env, p: profile.Profile, mask: bool) -> None:
    env.out.print(
        f"[bold]{safe_markup(p.name)}[/bold]  {'单位' if p.kind == 'company' else '个人'}  "
        f"电话 {safe_markup(cells.mask_phones(p.phones) if mask else p.phones or '—')}  "
        f"缴费习惯 {arrears.HISTORY_LABELS[p.history]}  "
        f"欠费 {format_money(p.owed_fen)}  预存 {format_money(p.credit_fen)}"
        + (f"  标签 {safe_markup('、'.join(p.tags))}" if p.tags else "")
    )


@owners_app.command("tag")
def owners_tag(
    unit: Annotated[str, typer.Argument(help="A unit of the owner, e.g. 1-1-1001.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A tag to add (repeatable).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag to remove (repeatable).")
    ] = None,
    at: AtOpt = None,
    by: ByOpt = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Tag the unit's owner: elderly, hardship, disabled, vip, sick, new, or any one word.

    Example: propfee owners tag 1-1-1001 --add elderly --add 独居
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        name, tags = owners.tag(
            conn, unit, add=add or [], remove=remove or [], at=_when(at), now=now(), actor=by
        )
    env.result(f"{name}: {'、'.join(tags) if tags else 'no tags'}")


@owners_app.command("set")
def owners_set(
    who: Annotated[
        str,
        typer.Argument(metavar="OWNER_OR_UNIT", help="房号（其现业主）、业主姓名或电话。"),
    ],
    name: Annotated[str | None, typer.Option("--name", help="新的姓名或名称。")] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="新的电话（多个用 / 分开，替换原有号码）。")
    ] = None,
    id_number: Annotated[
        str | None, typer.Option("--id-number", help="新的身份证号或证件号码（校验位须正确）。")
    ] = None,
    company: Annotated[
        bool | None, typer.Option("--company/--person", help="企业（单位）或个人。")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="变更原因（记入变更记录）。")] = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """更正业主信息（姓名、电话、证件号码、个人/企业），原值保留在变更记录中。

    电话和证件号码按导入名册的规则校验（手机号位数、身份证校验位），不合格时拒绝并指明
    选项。同一更正再运行一次不会有任何改动。

    Example: propfee owners set 1-1-1001 --phone 13912345678 --reason 业主来电更换号码
    """
    env = open_env(db, config, quiet)
    call = audit.current()
    result = roster.set_owner(
        env.connect(create=False),
        who,
        name=name,
        phone=phone,
        id_number=id_number,
        company=company,
        on=parse_day(as_of),
        now=now(),
        operator=call.operator if call else "",
        reason=reason,
    )
    show_edit(env, result, fmt)


@owners_app.command("care")
def owners_care(
    month: Annotated[
        str | None, typer.Option(metavar="YYYY-MM|M", help="The month (default: this month).")
    ] = None,
    out: Annotated[Path | None, typer.Option(metavar="FILE.xlsx", help="Also write it.")] = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The care list: the month's birthdays (on record or from an ID number) and the owners
    whose tags ask for attention. Phones masked unless --no-mask.

    Example: propfee owners care --month 2026-12
    """
    env = open_env(db, config)
    year, number = _month(month)
    lines = owners.care(env.connect(create=False), month=number, year=year)
    mask = not no_mask
    data = [
        {
            "name": line.party,
            "units": line.units,
            "phone": cells.mask_phone(line.phone) if mask else line.phone,
            "birthday": line.birthday,
            "age": line.age,
            "tags": line.tags,
            "why": line.reason,
        }
        for line in lines
    ]
    if out is not None:
        _write_care(out, data)
    if fmt is Format.json:
        write_json({"year": year, "month": number, "people": data})
        return
    emit(
        env,
        [{**d, "tags": "、".join(d["tags"])} for d in data],
        [
            Col("name", "姓名"),
            Col("units", "房号"),
            Col("phone", "电话"),
            Col("birthday", "生日"),
            Col("age", "年龄", "right"),
            Col("why", "关怀原因"),
        ],
        fmt,
        title=f"{year}年{number}月 关怀名单",
    )


def _write_care(out: Path, data: list[dict]) -> None:
    write_table(
        out,
        ["姓名", "房号", "电话", "生日", "年龄", "关怀原因"],
        [
            [d["name"], d["units"], d["phone"], d["birthday"], d["age"] or "", d["why"]]
            for d in data
        ],
        sheet="关怀名单",
        text_columns=("房号", "电话"),
    )


def _month(value: str | None) -> tuple[int, int]:
    if not value:
        day = today()
        return day.year, day.month
    text = value.strip()
    try:
        if "-" in text:
            year, month = (int(x) for x in text.split("-"))
        else:
            year, month = today().year, int(text)
    except ValueError:
        raise InvalidValue(f"--month {value!r}: give YYYY-MM or a month number") from None
    if not 1 <= month <= 12:
        raise InvalidValue(f"--month {value!r}: the month must be 1 to 12")
    return year, month


# ---------------------------------------------------------------- complaints


EVENT_LABELS = {
    "open": "受理",
    "assign": "派单",
    "progress": "进展",
    "resolve": "办结",
    "visit": "回访",
    "reopen": "重开",
    "merge": "合并",
    "flag": "提请经理",
    "fee-dispute": "列为收费争议",
}


def _show_case(env, case, fmt: Format, *, approximate: bool = False) -> None:
    if fmt is Format.json:
        write_json(_case_json(case))
        return
    _print_case_head(env, case)
    emit(
        env,
        [_event_line(e) for e in case.events],
        [Col("at", "时间"), Col("action", "事项"), Col("who", "经办人"), Col("what", "内容")],
        fmt,
    )
    if approximate:
        _warn_approximate(env, case)


def _warn_approximate(env, case) -> None:
    env.warn(
        f"{case.number} 的时限{SOURCE_NOTES.get(case.calendar, case.calendar)}，可能差一两天："
        "国务院办公厅公布节假日安排后，填入设置文件的 [calendar] 表（propfee calendar 可核对）"
    )


def _print_case_head(env, case) -> None:
    env.out.print(
        f"[bold]{case.number}[/bold]  {KINDS[case.kind]}  {safe_markup(case.category)}"
        f"（{CATEGORIES.get(case.category, '')}）  {safe_markup(case.unit or '—')} "
        f"{safe_markup(case.party)}  "
        f"{STATES[case.state]}"
        + ("  [red]收费争议[/red]" if case.fee_dispute else "")
        + ("  [red]待经理跟进[/red]" if case.flagged else "")
    )
    env.out.print(
        f"  受理 {case.opened_at[:16]}"
        f"（{CHANNEL_LABELS.get(case.channel, case.channel)}，"
        f"{PRIORITY_LABELS.get(case.priority, case.priority)}）  "
        f"时限 {case.deadline_at[:16]}（{case.deadline_rule}"
        + (f"，{SOURCE_NOTES[case.calendar]}" if case.calendar in SOURCE_NOTES else "")
        + "）"
        + (f"  承办 {safe_markup(case.assignee)}" if case.assignee else "")
        + (f"  重开 {case.reopened} 次" if case.reopened else "")
    )
    env.out.print(f"  {safe_markup(case.description, newlines=True)}")


def _event_line(e) -> dict:
    return {
        "at": e.at[:16],
        "action": EVENT_LABELS.get(e.action, e.action),
        "who": e.actor,
        "what": " ".join(
            x
            for x in (
                e.assignee and f"→ {e.assignee}",
                (e.score is not None and f"{e.score}分") or "",
                e.note,
                (e.other and f"（{e.other}）") or "",
            )
            if x
        ),
    }


def _case_json(case) -> dict:
    return {
        "number": case.number,
        "unit": case.unit,
        "party": case.party,
        "kind": case.kind,
        "category": case.category,
        "channel": case.channel,
        "priority": case.priority,
        "fee_dispute": case.fee_dispute,
        "description": case.description,
        "opened_at": case.opened_at,
        "deadline_at": case.deadline_at,
        "deadline_rule": case.deadline_rule,
        "calendar": case.calendar,
        "state": case.state,
        "assignee": case.assignee,
        "resolved_at": case.resolved_at,
        "on_time": case.on_time,
        "visited_at": case.visited_at,
        "score": case.score,
        "reopened": case.reopened,
        "flagged": case.flagged,
        "merged_into": case.merged_into,
        "events": [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "assignee": e.assignee or None,
                "note": e.note or None,
                "score": e.score,
                "other": e.other,
            }
            for e in case.events
        ],
    }


@complain_app.command("add")
def complain_add(
    unit: Annotated[
        str | None, typer.Argument(help="The unit, e.g. 1-1-1001 (omit with --name).")
    ] = None,
    kind: Annotated[str, typer.Option(help="complaint | request")] = "complaint",
    category: Annotated[
        str,
        typer.Option(
            help="保洁 维修 安保 绿化 噪音 停车 收费 服务态度 公共设施 其他 (or in English)."
        ),
    ] = "其他",
    channel: Annotated[
        str, typer.Option(help="phone | counter | wechat | app | hotline-12345 | letter")
    ] = "phone",
    priority: Annotated[str, typer.Option(help="urgent | normal | low")] = "normal",
    description: Annotated[str, typer.Option(help="What was reported.")] = "",
    fee_dispute: Annotated[
        bool,
        typer.Option(
            "--fee-dispute",
            help="A dispute about fees: holds the unit's arrears out of notice and legal tiers.",
        ),
    ] = False,
    name: Annotated[str, typer.Option(help="Who reported it, without a unit.")] = "",
    phone: Annotated[str, typer.Option(help="Their phone, without a unit.")] = "",
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Register a complaint or service request; it gets a number and a deadline in working
    hours or days on the mainland calendar (holidays and 调休 make-up days).

    Example: propfee complain add 1-1-1001 --kind request --category 维修 --priority normal --description "卫生间漏水"
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        case, approximate = complaints.add(
            conn,
            unit,
            kind=kind,
            category=category,
            channel=channel,
            priority=priority,
            description=description,
            at=_when(at),
            now=now(),
            settings=env.settings,
            fee_dispute=fee_dispute,
            actor=by,
            contact_name=name,
            contact_phone=phone,
        )
        warning = deadlines.warn_once_a_day(conn, env.settings.calendar.days(), now().date())
    if fmt is Format.json:
        write_json(_case_json(case))
    else:
        env.result(
            f"{case.number}: {case.category} {case.unit or case.party}, due {case.deadline_at[:16]}"
            f" ({case.deadline_rule})"
            + ("; unit's arrears held as a fee dispute" if case.fee_dispute else "")
        )
    if approximate:
        _warn_approximate(env, case)
    if warning:
        env.warn(warning)


@complain_app.command("list")
def complain_list(
    status: Annotated[
        str | None, typer.Option(help="open | assigned | resolved | closed | merged")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Past the deadline and not resolved.")
    ] = False,
    awaiting_visit: Annotated[
        bool, typer.Option("--awaiting-visit", help="Resolved, not yet visited.")
    ] = False,
    out: Annotated[Path | None, typer.Option(metavar="FILE.xlsx", help="Also write it.")] = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Cases with their state as of now (or --at), filtered.

    Example: propfee complain list --overdue --out 超期工单.xlsx
    """
    env = open_env(db, config)
    when = _when(at)
    found = complaints.cases(
        env.connect(create=False),
        at=when,
        state=status,
        category=category,
        unit_code=unit,
        overdue=overdue,
        awaiting_visit=awaiting_visit,
    )
    if out is not None:
        write_table(
            out, CASE_HEADERS, _case_sheet(found), sheet="投诉报修", text_columns=("编号", "房号")
        )
    if fmt is Format.json:
        write_json([_case_json(c) for c in found])
        return
    if fmt is Format.csv:
        print_csv(CASE_HEADERS, _case_sheet(found))  # the same as --out FILE.csv
        return
    emit(
        env,
        [_case_line(c, when) for c in found],
        [
            Col("number", "编号"),
            Col("unit", "房号"),
            Col("category", "类别"),
            Col("opened", "受理"),
            Col("due", "时限"),
            Col("state", "状态"),
            Col("who", "承办"),
            Col("what", "内容"),
        ],
        fmt,
        title=f"投诉与报修（{when:%Y-%m-%d %H:%M}）",
    )


def _case_line(c, when: datetime) -> dict:
    return {
        "number": c.number,
        "unit": c.unit,
        "category": c.category,
        "opened": c.opened_at[:16],
        "due": c.deadline_at[:16],
        "state": STATES[c.state]
        + (" 超期" if c.overdue(when) else "")
        + (" 待经理" if c.flagged else ""),
        "who": c.assignee,
        "what": c.description[:24],
    }


CASE_HEADERS = [
    "编号",
    "房号",
    "姓名",
    "类型",
    "类别",
    "渠道",
    "优先级",
    "受理时间",
    "时限",
    "状态",
    "承办",
    "办结时间",
    "按时",
    "回访评分",
    "重开次数",
    "收费争议",
    "内容",
]


def _case_sheet(found: list) -> list[list]:
    """The cases as ``--out`` and ``--format csv`` write them, with Chinese labels."""
    return [
        [
            c.number,
            c.unit,
            c.party,
            KINDS.get(c.kind, c.kind),
            c.category,
            CHANNEL_LABELS.get(c.channel, c.channel),
            PRIORITY_LABELS.get(c.priority, c.priority),
            c.opened_at[:16],
            c.deadline_at[:16],
            STATES[c.state],
            c.assignee,
            (c.resolved_at or "")[:16],
            "" if c.on_time is None else ("是" if c.on_time else "否"),
            c.score if c.score is not None else "",
            c.reopened,
            "是" if c.fee_dispute else "",
            c.description,
        ]
        for c in found
    ]


@complain_app.command("show")
def complain_show(
    number: Annotated[str, typer.Argument(help="The case number, e.g. TS2026-0001.")],
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """One case and its full history.

    Example: propfee complain show TS2026-0001
    """
    env = open_env(db, config)
    _show_case(env, complaints.load(env.connect(create=False), number), fmt)


@complain_app.command("work-order")
def complain_work_order(
    number: Annotated[str, typer.Argument(help="案件编号，例如 TS2026-0001。")],
    out: Annotated[Path, typer.Option(metavar="FILE.html", help="派工单写入的 HTML 文件（A4）。")],
    language: Annotated[str | None, typer.Option(help="zh 或 en（默认：设置中的语言）。")] = None,
    no_mask: Annotated[
        bool,
        typer.Option("--no-mask", help="报修人电话完整印出；此操作连同操作人记入审计日志。"),
    ] = False,
    operator: Annotated[
        str, typer.Option(metavar="NAME", help="操作人，记入审计日志（--no-mask 时）。")
    ] = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """打印维修派工单（A4 HTML）：编号、房号、报修人（电话默认打码）、报修内容、类别、时限、
    承办人，并留出到场时间、处理情况、使用材料、业主签字和满意度评价栏。

    Example: propfee complain work-order TS2026-0001 --out 派工单-TS2026-0001.html
    """
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    made = write_work_order(
        conn, number, out, settings=env.settings, mask=not no_mask, language=language
    )
    if no_mask:
        record_unmasked(conn, "complain work-order", out, 1)
    env.result(
        f"派工单 {made.number}  {made.unit or '—'}"
        + (f"  承办 {made.assignee}" if made.assignee else "")
        + f" → {made.path}"
    )


def _change(action: str, number: str, fmt: Format, db, config, quiet, **values) -> None:
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        function = getattr(complaints, action)
        if action == "visit":
            values["settings"] = env.settings
        case = function(conn, number, now=now(), **values)
    if fmt is Format.json:
        write_json(_case_json(case))
        return

    env.result(
        f"{case.number}: {STATES[case.state]}"
        + (f", reopened {case.reopened}×" if case.reopened else "")
        + (", flagged for a manager" if case.flagged else "")
    )


@complain_app.command("assign")
def complain_assign(
    number: Annotated[str, typer.Argument(help="The case number.")],
    to: Annotated[str, typer.Option(help="A department or a person.")],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Assign a case to a department or a person.

    Example: propfee complain assign TS2026-0001 --to 工程部王师傅
    """
    _change("assign", number, fmt, db, config, quiet, to=to, at=_when(at), actor=by)


@complain_app.command("progress")
def complain_progress(
    number: Annotated[str, typer.Argument(help="The case number.")],
    note: Annotated[str, typer.Option(help="What was done or found.")] = "",
    fee_dispute: Annotated[
        bool, typer.Option("--fee-dispute", help="Mark the complaint a fee dispute.")
    ] = False,
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Add a progress note (or mark a complaint a fee dispute).

    Example: propfee complain progress TS2026-0001 --note "已上门查看，需更换管件"
    """
    _change(
        "progress",
        number,
        fmt,
        db,
        config,
        quiet,
        note=note,
        fee_dispute=fee_dispute,
        at=_when(at),
        actor=by,
    )


@complain_app.command("resolve")
def complain_resolve(
    number: Annotated[str, typer.Argument(help="The case number.")],
    note: Annotated[str, typer.Option(help="What was done.")],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Resolve a case, saying what was done; a return visit follows.

    Example: propfee complain resolve TS2026-0001 --note "已更换管件，试水无渗漏"
    """
    _change("resolve", number, fmt, db, config, quiet, note=note, at=_when(at), actor=by)


@complain_app.command("visit")
def complain_visit(
    number: Annotated[str, typer.Argument(help="The case number.")],
    score: Annotated[int, typer.Option(help="Satisfaction, 1 (very poor) to 5 (very good).")],
    comment: Annotated[str, typer.Option(help="What the owner said.")] = "",
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Record the return visit (回访). A low score re-opens the case or flags it for a
    manager, as the settings say.

    Example: propfee complain visit TS2026-0001 --score 5 --comment "很满意"
    """
    _change(
        "visit",
        number,
        fmt,
        db,
        config,
        quiet,
        score=score,
        comment=comment,
        at=_when(at),
        actor=by,
    )


@complain_app.command("reopen")
def complain_reopen(
    number: Annotated[str, typer.Argument(help="The case number.")],
    reason: Annotated[str, typer.Option(help="Why it is reopened.")],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Reopen a resolved case (counted).

    Example: propfee complain reopen TS2026-0001 --reason "业主反映仍有渗水"
    """
    _change("reopen", number, fmt, db, config, quiet, reason=reason, at=_when(at), actor=by)


@complain_app.command("merge")
def complain_merge(
    number: Annotated[str, typer.Argument(help="The duplicate case.")],
    into: Annotated[str, typer.Option(help="The case it duplicates.")],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Fold a duplicate into another case; both keep their history.

    Example: propfee complain merge TS2026-0007 --into TS2026-0005
    """
    _change("merge", number, fmt, db, config, quiet, into=into, at=_when(at), actor=by)


@complain_app.command("report")
def complain_report(
    first: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD")] = None,
    last: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD")] = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Counts by category and channel, on-time resolution, time to resolve (working hours),
    return-visit rate and mean satisfaction, for cases opened in the range.

    Example: propfee complain report --from 2026-01-01 --to 2026-12-31
    """
    env = open_env(db, config)
    result = complaints.report(
        env.connect(create=False),
        at=_when(at),
        settings=env.settings,
        since=parse_day(first, option="--from") if first else None,
        until=parse_day(last, option="--to") if last else None,
    )
    if fmt is Format.json:
        write_json(result.as_dict())
        return
    if fmt is Format.table:
        env.out.print(_report_line(result))
    emit(
        env,
        [{"what": f"类别 {k}", "count": v} for k, v in result.by_category.items()]
        + [
            {"what": f"渠道 {CHANNEL_LABELS.get(k, k)}", "count": v}
            for k, v in result.by_channel.items()
        ],
        [Col("what", "分类"), Col("count", "件数", "right")],
        fmt,
    )


def _share(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _report_line(result: complaints.Report) -> str:
    return (
        f"[bold]投诉与报修统计[/bold] {result.first or '建档起'} 至 {result.last or '今'}：共 "
        f"{result.cases} 件，办结 {result.resolved} 件，按时办结率 {_share(result.on_time_rate)}，"
        f"平均办结 {result.mean_hours if result.mean_hours is not None else '—'} 工作小时"
        f"（中位数 {result.median_hours if result.median_hours is not None else '—'}），"
        f"回访率 {_share(result.visit_rate)}，平均满意度 "
        f"{result.mean_score if result.mean_score is not None else '—'}，当前超期 "
        f"{result.overdue_now} 件"
    )
