"""Owner relations: owners show | set | tag | care, and complain add | list | show | assign |
progress | resolve | visit | reopen | merge | report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    DbOpt,
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
    record_unmasked,
    safe_markup,
    today,
    write_json,
)
from propfee.cli.roster import event_json, print_events, show_edit
from propfee.collection import arrears, dunning
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _, current, ngettext
from propfee.core.money import decimal_str, format_money
from propfee.core.workdays import SOURCE_NOTES
from propfee.files import cells, workbook
from propfee.insight import profile
from propfee.roster import contacts, edits
from propfee.roster.payers import ROLE_LABELS
from propfee.service import complaints, deadlines, owners
from propfee.service.complaints import (
    CATEGORIES,
    CHANNELS,
    KINDS,
    STATES,
    category_label,
    channel_label,
    priority_label,
)
from propfee.service.owners import tag_list
from propfee.service.workorder import write_work_order
from propfee.store import audit
from propfee.store.db import transaction

owners_app = typer.Typer(help=_("Owner profiles, tags and the care list."), no_args_is_help=True)
complain_app = typer.Typer(
    help=_("Complaints and service requests: register, assign, resolve, visit, report."),
    no_args_is_help=True,
)


def _example(text: str) -> str:
    """An example command line as the last paragraph of a help page."""
    return "\n\n" + text


AtOpt = Annotated[
    str | None,
    typer.Option("--at", metavar="YYYY-MM-DD HH:MM", help=_("When it happened (default: now).")),
]
ByOpt = Annotated[
    str,
    typer.Option("--by", envvar="PROPFEE_OPERATOR", help=_("Who did it (kept with the event).")),
]
NumberArg = Annotated[str, typer.Argument(help=_("The case number, e.g. TS2026-0001."))]


def register(app: typer.Typer) -> None:
    app.add_typer(owners_app, name="owners")
    app.add_typer(complain_app, name="complain")


def _when(value: str | None) -> datetime:
    if not value:
        return now()
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidValue(
            _("--at {value!r} is not a date and time (YYYY-MM-DD HH:MM)").format(value=value)
        ) from None


# ---------------------------------------------------------------- owners


@owners_app.command(
    "show",
    help=_(
        "An owner's profile: units and roles, what they owe, how they pay, recent contacts, "
        "complaints and requests, tags."
    )
    + _example(_("Example: propfee owners show 1-1-1001")),
    short_help=_("An owner's profile: units, arrears, contacts, cases, tags."),
)
def owners_show(
    query: Annotated[
        str,
        typer.Argument(
            metavar="NAME|PHONE|UNIT", help=_("Who to look up: a name, a phone or a unit.")
        ),
    ],
    as_of: AsOfOpt = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    env = open_env(db, config)
    conn = env.connect(create=False)
    found = profile.find(conn, query)
    if not found:
        raise InvalidValue(
            _("nobody matches {query!r} (a name, a phone number or a unit code)").format(
                query=query
            )
        )
    day = parse_day(as_of)
    mask = not no_mask
    profiles = [profile.profile(conn, pid, as_of=day, settings=env.settings) for pid in found]
    if fmt is Format.json:
        write_json(listing([_profile_json(p, mask) for p in profiles], day))
        return
    if fmt is Format.csv:  # one table: every match's units
        emit(env, [r for p in profiles for r in _holding_rows(p)], _holding_columns(), fmt)
        return
    for p in profiles[:5]:
        _print_profile(env, p, mask, fmt)
    if len(profiles) > 5:
        env.warn(
            _("{n} parties match {query!r}; the first 5 are shown").format(
                n=len(profiles), query=query
            )
        )


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
        "household": [
            {
                "unit": unit,
                "relation": c.relation,
                "name": c.name,
                "gender": c.gender,
                "phones": cells.mask_phones(c.phones) if mask else c.phones,
            }
            for unit, c in p.household
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


def _holding_columns() -> tuple[Col, ...]:
    return (
        Col("name", _("Name/company")),
        Col("unit", _("Unit no.")),
        Col("role", _("Role")),
        Col("period", _("Period")),
        Col("owed", _("Arrears"), "right"),
    )


def _holding_rows(p: profile.Profile) -> list[dict]:
    return [
        {
            "name": p.name,
            "unit": h.unit,
            "role": _(ROLE_LABELS.get(h.role, h.role)) + (_(" (pays)") if h.pays else ""),
            "period": _("{start} to {end}").format(
                start=h.start or "—", end=h.end or _("the present")
            ),
            "owed": decimal_str(h.owed_fen),
        }
        for h in p.holdings
    ]


def _print_profile(env, p: profile.Profile, mask: bool, fmt: Format) -> None:
    _print_profile_head(env, p, mask)
    emit(env, _holding_rows(p), _holding_columns()[1:], fmt)
    if p.changes:
        print_events(env, p.changes, fmt, mask=mask)
    for unit, c in p.household:
        env.out.print(
            "  "
            + _("other contact {name} ({relation}, {unit}) {phones}").format(
                name=safe_markup(c.name),
                relation=contacts.relation_label(c.relation),
                unit=safe_markup(unit),
                phones=safe_markup(cells.mask_phones(c.phones) if mask else c.phones),
            )
        )
    for c in p.contacts[-5:]:
        env.out.print(
            "  "
            + _("contact {text} ({unit})").format(
                text=safe_markup(dunning.contact_text(c)), unit=safe_markup(c.unit)
            )
        )
    for case in p.cases[-5:]:
        env.out.print(
            f"  {case.number} {safe_markup(case.unit)} {category_label(case.category)} "
            f"{_(STATES[case.state])}  {safe_markup(case.description[:30])}"
        )


def _print_profile_head(env, p: profile.Profile, mask: bool) -> None:
    phones = cells.mask_phones(p.phones) if mask else p.phones
    line = _(
        "{name}  {kind}  phone {phones}  payment record {history}  arrears {owed}  credit {credit}"
    ).format(
        name=f"[bold]{safe_markup(p.name)}[/bold]",
        kind=_("company") if p.kind == "company" else _("person"),
        phones=safe_markup(phones or "—"),
        history=_(arrears.HISTORY_LABELS[p.history]),
        owed=format_money(p.owed_fen),
        credit=format_money(p.credit_fen),
    )
    if p.tags:
        line += "  " + _("tags {tags}").format(tags=safe_markup(tag_list(p.tags)))
    env.out.print(line)


@owners_app.command(
    "tag",
    help=_(
        "Tag the unit's owner: elderly, hardship, disabled, vip, sick, new, or any one word. "
        "The six known tags put the owner on the care list."
    )
    + _example(_("Example: propfee owners tag 1-1-1001 --add elderly --add lives-alone")),
    short_help=_("Add or remove tags of a unit's owner."),
)
def owners_tag(
    unit: Annotated[str, typer.Argument(help=_("A unit of the owner, e.g. 1-1-1001."))],
    add: Annotated[
        list[str] | None, typer.Option("--add", help=_("A tag to add (repeatable)."))
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help=_("A tag to remove (repeatable)."))
    ] = None,
    at: AtOpt = None,
    by: ByOpt = "",
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    env = open_env(db, config, quiet)
    conn = env.connect(create=False)
    with transaction(conn):
        name, tags = owners.tag(
            conn, unit, add=add or [], remove=remove or [], at=_when(at), now=now(), actor=by
        )
    env.result(_("{name}: {tags}").format(name=name, tags=tag_list(tags) if tags else _("no tags")))


@owners_app.command(
    "set",
    help=_(
        "Correct an owner's details (name, phone, ID number, person or company); the old "
        "values stay in the change record."
    )
    + "\n\n"
    + _(
        "Phones and ID numbers are checked as a roster import checks them (mobile number "
        "length, ID check digit); a bad one is refused, naming the option. Running the same "
        "correction again changes nothing."
    )
    + _example(
        _(
            "Example: propfee owners set 1-1-1001 --phone 13912345678 --reason owner-called-with-a-new-number"
        )
    ),
    short_help=_("Correct an owner's name, phone or ID number."),
)
def owners_set(
    who: Annotated[
        str,
        typer.Argument(
            metavar="OWNER_OR_UNIT",
            help=_("A unit (its current owner), an owner's name or phone."),
        ),
    ],
    name: Annotated[str | None, typer.Option("--name", help=_("The new name."))] = None,
    phone: Annotated[
        str | None,
        typer.Option(
            "--phone", help=_("The new phone (several separated by /; replaces the old ones).")
        ),
    ] = None,
    id_number: Annotated[
        str | None,
        typer.Option(
            "--id-number",
            help=_("The new ID card or document number (the check digit must be right)."),
        ),
    ] = None,
    company: Annotated[
        bool | None,
        typer.Option("--company/--person", help=_("A company (organisation) or a person.")),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help=_("Why it changed (kept in the change record)."))
    ] = "",
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    env = open_env(db, config, quiet)
    call = audit.current()
    result = edits.set_owner(
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


@owners_app.command(
    "care",
    help=_(
        "The care list: the month's birthdays (on record or from an ID number) and the owners "
        "whose tags ask for attention. Phones masked unless --no-mask."
    )
    + _example(_("Example: propfee owners care --month 2026-12")),
    short_help=_("The care list: the month's birthdays and tagged owners."),
)
def owners_care(
    month: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM|M", help=_("The month (default: this month).")),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE.xlsx", help=_("Also write it to this file."))
    ] = None,
    no_mask: NoMaskOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
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
        title = workbook.Title(
            env.settings.estate.name, _("Care list"), f"{year}-{number:02d}", None, now()
        )
        _write_care(out, data, title)
    if fmt is Format.json:
        write_json(listing(data, year=year, month=number))
        return
    emit(
        env,
        [{**d, "tags": tag_list(d["tags"])} for d in data],
        [
            Col("name", _("Full name")),
            Col("units", _("Unit no.")),
            Col("phone", _("Phone")),
            Col("birthday", _("Birthday")),
            Col("age", _("Age"), "right"),
            Col("why", _("Why")),
        ],
        fmt,
        title=_("Care list, {year}-{month:02d}").format(year=year, month=number),
    )


def _write_care(out: Path, data: list[dict], title: workbook.Title) -> None:
    unit, phone = _("Unit no."), _("Phone")
    workbook.write_table(
        out,
        [_("Full name"), unit, phone, _("Birthday"), _("Age"), _("Why")],
        [
            [d["name"], d["units"], d["phone"], d["birthday"], d["age"] or "", d["why"]]
            for d in data
        ],
        title=title,
        sheet=_("Care list"),
        text_columns=(unit, phone),
        kinds={_("Birthday"): workbook.DATE},
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
        raise InvalidValue(
            _("--month {value!r}: give YYYY-MM or a month number").format(value=value)
        ) from None
    if not 1 <= month <= 12:
        raise InvalidValue(_("--month {value!r}: the month must be 1 to 12").format(value=value))
    return year, month


# ---------------------------------------------------------------- complaints


EVENT_LABELS = {
    "open": N_("registered"),
    "assign": N_("assigned"),
    "progress": N_("progress note"),
    "resolve": N_("resolved"),
    "visit": N_("return visit"),
    "reopen": N_("reopened"),
    "merge": N_("merged into another"),
    "flag": N_("referred to a manager"),
    "fee-dispute": N_("marked a fee dispute"),
}


def _show_case(env, case, fmt: Format, *, approximate: bool = False) -> None:
    if fmt is Format.json:
        write_json(_case_json(case))
        return
    _print_case_head(env, case)
    emit(
        env,
        [_event_line(e) for e in case.events],
        [
            Col("at", _("Time")),
            Col("action", _("Action")),
            Col("who", _("By")),
            Col("what", _("Content")),
        ],
        fmt,
    )
    if approximate:
        _warn_approximate(env, case)


def _warn_approximate(env, case) -> None:
    env.warn(
        _(
            "{number}'s deadline is {how}, and may be a day or two off: once the State "
            "Council's General Office publishes the holiday schedule, fill it into the "
            "settings file's [calendar] table (propfee calendar checks it)"
        ).format(number=case.number, how=_(SOURCE_NOTES.get(case.calendar, case.calendar)))
    )


def _print_case_head(env, case) -> None:
    marks = ""
    if case.fee_dispute:
        marks += "  [red]" + _("fee dispute") + "[/red]"
    if case.flagged:
        marks += "  [red]" + _("awaiting a manager") + "[/red]"
    env.out.print(
        f"[bold]{case.number}[/bold]  {_(KINDS[case.kind])}  {category_label(case.category)}  "
        f"{safe_markup(case.unit or '—')} {safe_markup(case.party)}  {_(STATES[case.state])}"
        + marks
    )
    rule = case.deadline_rule
    if case.calendar in SOURCE_NOTES:
        rule = _("{rule}, {note}").format(rule=rule, note=_(SOURCE_NOTES[case.calendar]))
    line = _("opened {opened} ({channel}, {priority})  due {due} ({rule})").format(
        opened=case.opened_at[:16],
        channel=channel_label(case.channel),
        priority=priority_label(case.priority),
        due=case.deadline_at[:16],
        rule=rule,
    )
    if case.assignee:
        line += "  " + _("assigned to {who}").format(who=safe_markup(case.assignee))
    if case.reopened:
        line += "  " + ngettext("reopened {n} time", "reopened {n} times", case.reopened).format(
            n=case.reopened
        )
    env.out.print("  " + line)
    env.out.print(f"  {safe_markup(case.description, newlines=True)}")


def _event_line(e) -> dict:
    return {
        "at": e.at[:16],
        "action": _(EVENT_LABELS.get(e.action, e.action)),
        "who": e.actor,
        "what": " ".join(
            x
            for x in (
                e.assignee and f"→ {e.assignee}",
                (e.score is not None and _("score {score}").format(score=e.score)) or "",
                e.note,
                (e.other and _("({number})").format(number=e.other)) or "",
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


@complain_app.command(
    "add",
    help=_(
        "Register a complaint or service request; it gets a number and a deadline in working "
        "hours or days on the mainland calendar (public holidays and make-up working days)."
    )
    + _example(
        _(
            'Example: propfee complain add 1-1-1001 --kind request --category repair --priority normal --description "bathroom leaking"'
        )
    ),
    short_help=_("Register a complaint or service request."),
)
def complain_add(
    unit: Annotated[
        str | None, typer.Argument(help=_("The unit, e.g. 1-1-1001 (omit with --name)."))
    ] = None,
    kind: Annotated[str, typer.Option(help=_("complaint or request."))] = "complaint",
    category: Annotated[
        str,
        typer.Option(
            help=_("One of: {categories} (in Chinese or English).").format(
                categories=("、" if current() == "zh" else ", ").join(
                    category_label(c) for c in CATEGORIES
                )
            )
        ),
    ] = "其他",
    channel: Annotated[
        str,
        typer.Option(help=_("How it came in: {channels}.").format(channels=" | ".join(CHANNELS))),
    ] = "phone",
    priority: Annotated[str, typer.Option(help=_("urgent, normal or low."))] = "normal",
    description: Annotated[str, typer.Option(help=_("What was reported."))] = "",
    fee_dispute: Annotated[
        bool,
        typer.Option(
            "--fee-dispute",
            help=_("A dispute about fees: holds the unit's arrears out of notice and legal tiers."),
        ),
    ] = False,
    name: Annotated[str, typer.Option(help=_("Who reported it, without a unit."))] = "",
    phone: Annotated[str, typer.Option(help=_("Their phone, without a unit."))] = "",
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
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
        text = _("{number}: {category} {who}, due {due} ({rule})").format(
            number=case.number,
            category=category_label(case.category),
            who=case.unit or case.party,
            due=case.deadline_at[:16],
            rule=case.deadline_rule,
        )
        if case.fee_dispute:
            text += _("; the unit's arrears are held as a fee dispute")
        env.result(text)
    if approximate:
        _warn_approximate(env, case)
    if warning:
        env.warn(warning)


@complain_app.command(
    "list",
    help=_("Cases with their state as of now (or --at), filtered.")
    + _example(_("Example: propfee complain list --overdue --out overdue-cases.xlsx")),
    short_help=_("List cases: by state, category, unit, overdue."),
)
def complain_list(
    status: Annotated[
        str | None,
        typer.Option(help=_("Only this state: {states}.").format(states=" | ".join(STATES))),
    ] = None,
    category: Annotated[str | None, typer.Option(help=_("Only this category."))] = None,
    unit: Annotated[str | None, typer.Option(help=_("Only this unit."))] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help=_("Past the deadline and not resolved."))
    ] = False,
    awaiting_visit: Annotated[
        bool, typer.Option("--awaiting-visit", help=_("Resolved, not yet visited."))
    ] = False,
    out: Annotated[
        Path | None, typer.Option(metavar="FILE.xlsx", help=_("Also write it to this file."))
    ] = None,
    at: AtOpt = None,
    wide: WideOpt = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
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
    headers = case_headers()
    if out is not None:
        workbook.write_table(
            out,
            headers,
            _case_sheet(found),
            title=workbook.Title(
                env.settings.estate.name, _("Complaints and requests"), "", when.date(), now()
            ),
            sheet=_("Complaints and requests"),
            text_columns=(headers[0], headers[1]),
        )
    if fmt is Format.json:
        write_json(listing([_case_json(c) for c in found], when.date()))
        return
    if fmt is Format.csv:
        print_csv(headers, _case_sheet(found))  # the same as --out FILE.csv
        return
    emit(
        env,
        [_case_line(c, when) for c in found],
        [
            Col("number", _("Number")),
            Col("unit", _("Unit no.")),
            Col("category", _("Category")),
            Col("opened", _("Opened"), optional=2),
            Col("due", _("Due")),
            Col("state", _("State")),
            Col("who", _("Assigned to"), optional=1),
            Col("what", _("Content")),
        ],
        fmt,
        title=_("Complaints and requests ({when})").format(when=f"{when:%Y-%m-%d %H:%M}"),
        wide=wide,
    )


def _case_line(c, when: datetime) -> dict:
    state = _(STATES[c.state])
    if c.overdue(when):
        state += _(", overdue")
    if c.flagged:
        state += _(", for a manager")
    return {
        "number": c.number,
        "unit": c.unit,
        "category": category_label(c.category),
        "opened": c.opened_at[:16],
        "due": c.deadline_at[:16],
        "state": state,
        "who": c.assignee,
        "what": c.description[:24],
    }


CASE_HEADERS = (
    N_("Number"),
    N_("Unit no."),
    N_("Full name"),
    N_("Type"),
    N_("Category"),
    N_("Intake channel"),
    N_("Priority"),
    N_("Opened at"),
    N_("Due"),
    N_("State"),
    N_("Assigned to"),
    N_("Resolved at"),
    N_("On time"),
    N_("Visit score"),
    N_("Times reopened"),
    N_("Fee dispute"),
    N_("Content"),
)


def case_headers() -> list[str]:
    """The headers of ``--out`` and ``--format csv``, in the reader's language."""
    return [_(h) for h in CASE_HEADERS]


def _case_sheet(found: list) -> list[list]:
    """The cases as ``--out`` and ``--format csv`` write them, with labels for people."""
    yes, no = _("yes"), _("no")
    return [
        [
            c.number,
            c.unit,
            c.party,
            _(KINDS.get(c.kind, c.kind)),
            category_label(c.category),
            channel_label(c.channel),
            priority_label(c.priority),
            c.opened_at[:16],
            c.deadline_at[:16],
            _(STATES[c.state]),
            c.assignee,
            (c.resolved_at or "")[:16],
            "" if c.on_time is None else (yes if c.on_time else no),
            c.score if c.score is not None else "",
            c.reopened,
            yes if c.fee_dispute else "",
            c.description,
        ]
        for c in found
    ]


@complain_app.command(
    "show",
    help=_("One case and its full history.")
    + _example(_("Example: propfee complain show TS2026-0001")),
    short_help=_("One case and its full history."),
)
def complain_show(
    number: NumberArg,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    env = open_env(db, config)
    _show_case(env, complaints.load(env.connect(create=False), number), fmt)


@complain_app.command(
    "work-order",
    help=_(
        "Print a repair work order (A4 HTML): number, unit, who reported it (phone masked by "
        "default), what was reported, category, deadline and assignee, with fields for the "
        "arrival time, the work done, materials used, the owner's signature and satisfaction."
    )
    + _example(
        _("Example: propfee complain work-order TS2026-0001 --out work-order-TS2026-0001.html")
    ),
    short_help=_("Print a repair work order (A4 HTML)."),
)
def complain_work_order(
    number: NumberArg,
    out: Annotated[
        Path,
        typer.Option(metavar="FILE.html", help=_("The HTML file to write the work order to (A4).")),
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
                "Print the reporter's phone in full; this is kept in the audit log with the "
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
    made = write_work_order(
        conn, number, out, settings=env.settings, mask=not no_mask, language=language
    )
    if no_mask:
        record_unmasked(conn, "complain work-order", out, 1)
    text = _("work order {number}  {unit}").format(number=made.number, unit=made.unit or "—")
    if made.assignee:
        text += "  " + _("assigned to {who}").format(who=made.assignee)
    env.result(f"{text} → {made.path}")


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
    text = _("{number}: {state}").format(number=case.number, state=_(STATES[case.state]))
    if case.reopened:
        text += _(", reopened {n}×").format(n=case.reopened)
    if case.flagged:
        text += _(", referred to a manager")
    env.result(text)


@complain_app.command(
    "assign",
    help=_("Assign a case to a department or a person.")
    + _example(_('Example: propfee complain assign TS2026-0001 --to "Wang, maintenance"')),
    short_help=_("Assign a case to a department or a person."),
)
def complain_assign(
    number: NumberArg,
    to: Annotated[str, typer.Option(help=_("A department or a person."))],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    _change("assign", number, fmt, db, config, quiet, to=to, at=_when(at), actor=by)


@complain_app.command(
    "progress",
    help=_("Add a progress note (or mark a complaint a fee dispute).")
    + _example(
        _(
            'Example: propfee complain progress TS2026-0001 --note "visited; the pipe fitting needs replacing"'
        )
    ),
    short_help=_("Add a progress note to a case."),
)
def complain_progress(
    number: NumberArg,
    note: Annotated[str, typer.Option(help=_("What was done or found."))] = "",
    fee_dispute: Annotated[
        bool, typer.Option("--fee-dispute", help=_("Mark the complaint a fee dispute."))
    ] = False,
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
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


@complain_app.command(
    "resolve",
    help=_("Resolve a case, saying what was done; a return visit follows.")
    + _example(
        _(
            'Example: propfee complain resolve TS2026-0001 --note "fitting replaced, no leak on testing"'
        )
    ),
    short_help=_("Resolve a case, saying what was done."),
)
def complain_resolve(
    number: NumberArg,
    note: Annotated[str, typer.Option(help=_("What was done."))],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    _change("resolve", number, fmt, db, config, quiet, note=note, at=_when(at), actor=by)


@complain_app.command(
    "visit",
    help=_(
        "Record the return visit. A low score reopens the case or refers it to a manager, as "
        "the settings say."
    )
    + _example(
        _('Example: propfee complain visit TS2026-0001 --score 5 --comment "very satisfied"')
    ),
    short_help=_("Record the return visit and its score."),
)
def complain_visit(
    number: NumberArg,
    score: Annotated[int, typer.Option(help=_("Satisfaction, 1 (very poor) to 5 (very good)."))],
    comment: Annotated[str, typer.Option(help=_("What the owner said."))] = "",
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
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


@complain_app.command(
    "reopen",
    help=_("Reopen a resolved case (counted).")
    + _example(
        _('Example: propfee complain reopen TS2026-0001 --reason "owner says it still leaks"')
    ),
    short_help=_("Reopen a resolved case."),
)
def complain_reopen(
    number: NumberArg,
    reason: Annotated[str, typer.Option(help=_("Why it is reopened."))],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    _change("reopen", number, fmt, db, config, quiet, reason=reason, at=_when(at), actor=by)


@complain_app.command(
    "merge",
    help=_("Fold a duplicate into another case; both keep their history.")
    + _example(_("Example: propfee complain merge TS2026-0007 --into TS2026-0005")),
    short_help=_("Fold a duplicate case into another."),
)
def complain_merge(
    number: Annotated[str, typer.Argument(help=_("The duplicate case."))],
    into: Annotated[str, typer.Option(help=_("The case it duplicates."))],
    at: AtOpt = None,
    by: ByOpt = "",
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    _change("merge", number, fmt, db, config, quiet, into=into, at=_when(at), actor=by)


@complain_app.command(
    "report",
    help=_(
        "Counts by category and channel, on-time resolution, time to resolve (working hours), "
        "return-visit rate and mean satisfaction, for cases opened in the range."
    )
    + _example(_("Example: propfee complain report --from 2026-01-01 --to 2026-12-31")),
    short_help=_("Statistics: counts, on-time rate, visits, satisfaction."),
)
def complain_report(
    first: Annotated[
        str | None,
        typer.Option("--from", metavar="YYYY-MM-DD", help=_("Cases opened on or after this day.")),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM-DD", help=_("Cases opened on or before this day.")),
    ] = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
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
        [
            {"what": _("category {name}").format(name=category_label(k)), "count": v}
            for k, v in result.by_category.items()
        ]
        + [
            {"what": _("channel {name}").format(name=channel_label(k)), "count": v}
            for k, v in result.by_channel.items()
        ],
        [Col("what", _("Breakdown")), Col("count", _("Cases"), "right")],
        fmt,
    )


def _share(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _or_dash(value) -> str:
    return "—" if value is None else str(value)


def _report_line(result: complaints.Report) -> str:
    return _(
        "{title}, {first} to {last}: {cases} cases, {resolved} resolved, on-time rate "
        "{on_time}, {mean} working hours to resolve on average (median {median}), visit rate "
        "{visits}, mean satisfaction {score}, {overdue} overdue now"
    ).format(
        title="[bold]" + _("Complaint and request statistics") + "[/bold]",
        first=result.first or _("first record"),
        last=result.last or _("the present"),
        cases=result.cases,
        resolved=result.resolved,
        on_time=_share(result.on_time_rate),
        mean=_or_dash(result.mean_hours),
        median=_or_dash(result.median_hours),
        visits=_share(result.visit_rate),
        score=_or_dash(result.mean_score),
        overdue=result.overdue_now,
    )
