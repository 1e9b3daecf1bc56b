"""propfee demo: build the demo estate and say what to try next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import AsOfOpt, QuietOpt, now, open_env, parse_day
from propfee.cli.reports import month_summary
from propfee.core.money import format_money
from propfee.demo.estate import build_demo
from propfee.insight.surveys import fmt, percent


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    folder: Annotated[
        Path, typer.Option("--dir", help="Folder for the demo database and files.")
    ] = Path("propfee-demo"),
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Build a demo estate (翠湖花园, about 200 units) from the shipped sample data.

    Re-running rebuilds the demo database; a folder holding any other database is refused.

    Example: propfee demo --dir /tmp/demo
    """
    env = open_env(folder / "propfee.db", None, quiet)
    day = parse_day(as_of)
    report = build_demo(folder, as_of=day, now=now())
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
    lines.append(f"{'Rebuilt' if report.replaced else 'Built'} the demo estate in {folder}/")
    lines.append(
        f"  roster: {r.rows} units imported from {folder / 'roster.xlsx'} "
        f"(added {r.added}), settings in {folder / 'propfee.toml'}"
    )
    for notice in r.notices:
        lines.append(f"  note: {notice}")
    bills = report.bills
    lines.append(f"  fees: {report.fees} fee items published (公示 in {folder / '公示'})")
    lines.append(
        f"  bills: {bills.months[0]}…{bills.months[-1]}, {bills.created} bill lines, "
        f"{format_money(bills.total_fen)}"
    )
    lines.append(
        f"  notices: {report.notices.notices} 缴费通知单 for {bills.months[-1]} in "
        f"{report.notices.html_path}, SMS file {report.notices.sms_path}"
    )
    rec = report.reconciled
    lines.append(
        f"  payments: {len(rec.recorded)} from {report.statement.name} "
        f"({format_money(rec.recorded_fen)}), {len(rec.review)} waiting for review, "
        "6 at the counter"
    )
    made = report.reminders
    lines.append(
        f"  reminders: {made.produced['gentle']} messages, {made.produced['call']} calls, "
        f"{made.produced['notice']} 催缴通知书, {made.produced['legal']} for legal review "
        f"in {report.reminder_dir}/"
    )
    if report.cases:
        lines.append(
            f"  service: {len(report.cases)} complaints and requests ({report.cases[0]}…), "
            "one past its deadline, one a fee dispute"
        )
    return lines


def _try_next(report, folder: Path, day) -> list[str]:
    """The commands to try next on the demo estate."""
    db, bills, made = report.db_path, report.bills, report.reminders
    lines: list[str] = []
    lines.append("")
    lines.append("Try next:")
    lines.append(f"  export PROPFEE_DB={db}")
    lines.append("  propfee units list --building 1")
    lines.append("  propfee units show 1-1-101")
    lines.append("  propfee fees list")
    lines.append(f"  propfee reconcile {report.statement} --review-out 待确认.csv  # nothing new")
    lines.append(f"  propfee report daily --date {day}")
    lines.append(
        f"  propfee report collection --period {bills.months[-1]} --as-of {day} --by building"
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
    lines.append(f"  propfee latefee --as-of {day}        # none: the demo's contract has no clause")
    lines.append(f"  propfee legal-pack {report.legal_unit} --as-of {day} --out {folder / '证据'}")
    if made.notices:
        lines.append(
            f"  propfee contact deliver {made.notices[0]} --proof 'EMS 1234567890123' --date {day}"
        )
    lines.append(f"  propfee remind --as-of {day} --at 10:30 --dry-run   # nothing new: already sent")
    lines.append(f"  propfee bill --period {bills.months[-1]}      # nothing new: already billed")
    lines.append(f"  propfee export-units {folder / 'export.xlsx'} --mask")
    if report.survey is not None:
        compare = f" --compare {report.survey.compare.name}" if report.survey.compare else ""
        lines.append(f"  propfee survey-report{compare} --out {folder / '满意度分析.xlsx'}")
    return lines


def _survey_lines(env, survey, folder: Path) -> None:
    """A few lines on the year's satisfaction survey."""
    s = survey.survey
    weakest = survey.dimensions[0]
    env.result(
        f"  survey: {s.name} ({s.held_on}) from {folder / s.source}: {survey.responses} "
        f"questionnaires, response rate {percent(survey.total.rate)}, index "
        f"{fmt(survey.index, 1)}, NPS {fmt(survey.nps, 1)}, weakest {weakest.name} "
        f"{fmt(weakest.mean)}; {len(survey.follow_up)} homes for a return visit"
    )
    if survey.compare is not None:
        moved = [
            f"{d.name} {'+' if d.change.delta > 0 else ''}{fmt(d.change.delta)}"
            f"（{d.change.statement}）"
            for d in survey.dimensions
            if d.change is not None and d.change.delta and d.change.beyond_noise
        ]
        env.result(
            f"  against {survey.compare.name}: index {fmt(survey.previous_index, 1)} → "
            f"{fmt(survey.index, 1)}; " + ("; ".join(moved) or "no change beyond the noise")
        )
    env.result(
        "  satisfaction by payment: "
        + ", ".join(f"{g.label} {fmt(g.mean)} ({g.units})" for g in survey.by_payment)
    )
