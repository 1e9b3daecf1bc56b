"""propfee demo: build the demo estate and say what to try next."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import (
    AsOfOpt,
    QuietOpt,
    chosen_estate,
    now,
    open_env,
    parse_day,
    server_target,
)
from propfee.cli.reports import month_summary
from propfee.core.i18n import _
from propfee.core.money import format_money
from propfee.demo.estate import build_demo
from propfee.insight.surveys import fmt, percent
from propfee.store import pg


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help=_("Build a demo estate (翠湖花园, about 200 units) from the shipped sample data.")
        + "\n\n"
        + _(
            "Re-running rebuilds the demo database; a folder holding any other database is refused."
        )
        + "\n\n"
        + _("Example: propfee demo --dir /tmp/demo"),
        short_help=_("Build a demo estate to try propfee on."),
    )(demo)


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help=_("Folder for the demo database and files."))
    ] = Path("propfee-demo"),
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Build a demo estate."""
    server = server_target(None)  # PROPFEE_DB=postgresql://…: the demo estate goes there
    env = open_env(server or folder / "propfee.db", None, quiet)
    day = parse_day(as_of)
    report = build_demo(folder, as_of=day, now=now(), server=server, estate=chosen_estate())
    for line in _built(report, folder):
        env.result(line)
    for line in month_summary(env.connect(create=False), report.bills.months[-1], day):
        env.result(f"  {line}")
    if report.survey is not None:
        _survey_lines(env, report.survey, folder)
    for line in _try_next(report, folder, day):
        env.result(line)


def _built(report, folder: Path) -> list[str]:
    """What the demo built, a line each."""
    lines: list[str] = []
    r = report.roster
    lines.append(
        (
            _("Rebuilt the demo estate in {folder}/")
            if report.replaced
            else _("Built the demo estate in {folder}/")
        ).format(folder=folder)
    )
    lines.append(
        _(
            "  roster: {rows} units imported from {file} (added {added}), settings in {settings}"
        ).format(
            rows=r.rows,
            file=folder / "roster.xlsx",
            added=r.added,
            settings=folder / "propfee.toml",
        )
    )
    for notice in r.notices:
        lines.append(_("  note: {text}").format(text=notice))
    bills = report.bills
    lines.append(
        _("  fees: {n} fee items published (notice in {folder})").format(
            n=report.fees, folder=folder / "公示"
        )
    )
    lines.append(
        _("  bills: {first}…{last}, {n} bill lines, {total}").format(
            first=bills.months[0],
            last=bills.months[-1],
            n=bills.created,
            total=format_money(bills.total_fen),
        )
    )
    lines.append(
        _("  notices: {n} payment notices for {month} in {html}, SMS file {sms}").format(
            n=report.notices.notices,
            month=bills.months[-1],
            html=report.notices.html_path,
            sms=report.notices.sms_path,
        )
    )
    rec = report.reconciled
    lines.append(
        _(
            "  payments: {n} from {file} ({total}), {review} waiting for review, 6 at the counter"
        ).format(
            n=len(rec.recorded),
            file=report.statement.name,
            total=format_money(rec.recorded_fen),
            review=len(rec.review),
        )
    )
    made = report.reminders
    lines.append(
        _(
            "  reminders: {gentle} messages, {calls} calls, {notices} formal demands, "
            "{legal} for legal review in {folder}/"
        ).format(
            gentle=made.produced["gentle"],
            calls=made.produced["call"],
            notices=made.produced["notice"],
            legal=made.produced["legal"],
            folder=report.reminder_dir,
        )
    )
    if report.cases:
        lines.append(
            _(
                "  service: {n} complaints and requests ({first}…), one past its deadline, "
                "one a fee dispute"
            ).format(n=len(report.cases), first=report.cases[0])
        )
    return lines


def _try_next(report, folder: Path, day) -> list[str]:
    """The commands to try next on the demo estate."""
    db, bills, made = report.db_path, report.bills, report.reminders
    nothing_new = _("# nothing new")
    lines: list[str] = []
    lines.append("")
    lines.append(_("Try next:"))
    if pg.is_server(db):  # quoted: an address holds ? and &; no file to find the settings beside
        lines.append(f"  export PROPFEE_DB={shlex.quote(str(db))}")
        lines.append(f"  export PROPFEE_CONFIG={shlex.quote(str(folder / 'propfee.toml'))}")
    else:
        lines.append(f"  export PROPFEE_DB={db}")
    lines.append(f"  propfee today --as-of {day}")
    lines.append("  propfee units list --building 1")
    lines.append("  propfee units show 1-1-101")
    lines.append("  propfee fees list")
    lines.append(
        f"  propfee reconcile {report.statement} --review-out "
        + _("to-confirm.csv")
        + "  "
        + nothing_new
    )
    lines.append(f"  propfee report daily --date {day}")
    lines.append(
        f"  propfee report collection --period {bills.months[-1]} --as-of {day} --by building"
    )
    quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    lines.append(
        f"  propfee report service --period {quarter} --as-of {day} --out "
        + str(folder / _("service-report.html"))
    )
    lines.append("  propfee statement 1-1-101")
    lines.append("  propfee check")
    lines.append(f"  propfee overdue --as-of {day} --by building")
    lines.append(f"  propfee overdue --as-of {day} --min-days 31")
    lines.append(f"  propfee overdue --as-of {day} --limitation")
    lines.append(f"  propfee plan list --as-of {day}")
    lines.append(f"  propfee complain list --at '{day} 18:00'")
    if report.cases:
        lines.append(f"  propfee complain show {report.cases[0]}")
    lines.append(f"  propfee owners care --month {day:%Y-%m}")
    lines.append(
        f"  propfee latefee --as-of {day}        " + _("# none: the demo's contract has no clause")
    )
    lines.append(
        f"  propfee legal-pack {report.legal_unit} --as-of {day} --out "
        + str(folder / _("evidence"))
    )
    if made.notices:
        lines.append(
            f"  propfee contact deliver {made.notices[0]} --proof 'EMS 1234567890123' --date {day}"
        )
    lines.append(
        f"  propfee remind --as-of {day} --at 10:30 --dry-run   " + _("# nothing new: already sent")
    )
    lines.append(
        f"  propfee bill --period {bills.months[-1]}      " + _("# nothing new: already billed")
    )
    lines.append(f"  propfee export-units {folder / 'export.xlsx'} --mask")
    if report.survey is not None:
        compare = f" --compare {report.survey.compare.name}" if report.survey.compare else ""
        lines.append(
            f"  propfee survey-report{compare} --out "
            + str(folder / _("satisfaction-analysis.xlsx"))
        )
    return lines


def _survey_lines(env, survey, folder: Path) -> None:
    """A few lines on the year's satisfaction survey."""
    s = survey.survey
    weakest = survey.dimensions[0]
    env.result(
        _(
            "  survey: {name} ({held_on}) from {file}: {responses} questionnaires, response "
            "rate {rate}, index {index}, NPS {nps}, weakest {weakest} {weakest_mean}; "
            "{visits} homes for a return visit"
        ).format(
            name=s.name,
            held_on=s.held_on,
            file=folder / s.source,
            responses=survey.responses,
            rate=percent(survey.total.rate),
            index=fmt(survey.index, 1),
            nps=fmt(survey.nps, 1),
            weakest=weakest.name,
            weakest_mean=fmt(weakest.mean),
            visits=len(survey.follow_up),
        )
    )
    if survey.compare is not None:
        moved = [
            _("{name} {sign}{delta} ({statement})").format(
                name=d.name,
                sign="+" if d.change.delta > 0 else "",
                delta=fmt(d.change.delta),
                statement=d.change.statement,
            )
            for d in survey.dimensions
            if d.change is not None and d.change.delta and d.change.beyond_noise
        ]
        env.result(
            _("  against {name}: index {before} → {after}; {moved}").format(
                name=survey.compare.name,
                before=fmt(survey.previous_index, 1),
                after=fmt(survey.index, 1),
                moved=_("; ").join(moved) or _("no change beyond the noise"),
            )
        )
    env.result(
        _("  satisfaction by payment: {groups}").format(
            groups=_(", ").join(
                _("{label} {mean} ({units})").format(label=g.label, mean=fmt(g.mean), units=g.units)
                for g in survey.by_payment
            )
        )
    )
