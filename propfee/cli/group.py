"""propfee group report: several estates together, each and the company's total."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from propfee.cli.common import (
    AsOfOpt,
    Col,
    ConfigOpt,
    Format,
    FormatOpt,
    FromMonthOpt,
    MonthOpt,
    ToMonthOpt,
    WideOpt,
    emit,
    listing,
    now,
    open_env,
    parse_day,
    write_json,
)
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.core.money import decimal_str
from propfee.files import workbook
from propfee.files.workbook import MONEY, NUMBER, RATE, TALLY, TEXT, Table, Title
from propfee.files.writers import check_output
from propfee.insight import group, group_page
from propfee.insight.reports import parse_range
from propfee.insight.surveys import fmt as decimals

group_app = typer.Typer(
    help=_("Several estates together: each estate's figures and the company's."),
    no_args_is_help=True,
)

HTML = (".html", ".htm")


def register(app: typer.Typer) -> None:
    app.add_typer(group_app, name="group")


def _rate(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


def line_json(line: group.EstateLine) -> dict:
    """One estate's figures (or the company's) as ``--format json`` gives them."""
    f = line.figures
    return {
        "households": f.households,
        "due": decimal_str(f.due_fen),
        "collected": decimal_str(f.collected_fen),
        "current_rate": _rate(f.current_rate),
        "unpaid_households": f.unpaid_households,
        "unpaid": decimal_str(f.unpaid_fen),
        "arrears_due": decimal_str(f.arrears_due_fen),
        "cleared": decimal_str(f.cleared_fen),
        "clearance_rate": _rate(f.clearance_rate),
        "all_due": decimal_str(f.all_due_fen),
        "all_collected": decimal_str(f.all_collected_fen),
        "overall_rate": _rate(f.overall_rate),
        "overdue_units": line.overdue_units,
        "overdue": decimal_str(line.overdue_fen),
        "complaints": {
            "received": line.received,
            "open": line.open_cases,
            "past_deadline": line.past_deadline,
        },
        "survey": line.survey,
        "survey_index": None if line.survey_index is None else decimals(line.survey_index, 1),
        "survey_responses": line.survey_responses,
    }


def report_json(report: group.GroupReport) -> dict:
    return listing(
        [{"estate": e.name, "source": e.source, **line_json(e)} for e in report.estates],
        report.as_of,
        period=report.period,
        **{"from": report.first_period, "to": report.last_period},
        late_fees_included=report.late_fees,
        company={"estates": len(report.estates), **line_json(report.company)},
    )


COLUMNS = (
    Col("estate", N_("Estate")),
    Col("households", N_("Households"), "right", optional=3),
    Col("due", N_("Due this period"), money=True),
    Col("collected", N_("Collected this period"), money=True),
    Col("current_rate", N_("Current collection rate"), "right"),
    Col("arrears_due", N_("Arrears due"), money=True, optional=2),
    Col("cleared", N_("Arrears collected"), money=True, optional=2),
    Col("clearance_rate", N_("Arrears clearance rate"), "right", optional=1),
    Col("overall_rate", N_("Overall collection rate"), "right"),
    Col("overdue_units", N_("Households overdue"), "right"),
    Col("overdue", N_("Overdue"), money=True),
    Col("received", N_("Cases received"), "right"),
    Col("open", N_("Cases open"), "right"),
    Col("past_deadline", N_("Cases past deadline"), "right"),
    Col("survey_index", N_("Satisfaction index"), "right"),
)


def _cells(line: group.EstateLine) -> dict:
    f = line.figures
    rate = lambda r: "—" if r is None else f"{r}%"  # noqa: E731
    return {
        "estate": line.name,
        "households": f.households,
        "due": decimal_str(f.due_fen),
        "collected": decimal_str(f.collected_fen),
        "current_rate": rate(f.current_rate),
        "arrears_due": decimal_str(f.arrears_due_fen),
        "cleared": decimal_str(f.cleared_fen),
        "clearance_rate": rate(f.clearance_rate),
        "overall_rate": rate(f.overall_rate),
        "overdue_units": line.overdue_units,
        "overdue": decimal_str(line.overdue_fen),
        "received": line.received,
        "open": line.open_cases,
        "past_deadline": line.past_deadline,
        "survey_index": "" if line.survey_index is None else decimals(line.survey_index, 1),
    }


XLSX_COLUMNS = (
    (N_("Estate"), TEXT),
    (N_("Households"), TALLY),
    (N_("Due this period"), MONEY),
    (N_("Collected this period"), MONEY),
    (N_("Current collection rate"), RATE),
    (N_("Households unpaid"), TALLY),
    (N_("Unpaid this period"), MONEY),
    (N_("Arrears due"), MONEY),
    (N_("Arrears collected"), MONEY),
    (N_("Arrears clearance rate"), RATE),
    (N_("Overall due"), MONEY),
    (N_("Overall collected"), MONEY),
    (N_("Overall collection rate"), RATE),
    (N_("Households overdue"), TALLY),
    (N_("Overdue"), MONEY),
    (N_("Cases received"), TALLY),
    (N_("Cases open"), TALLY),
    (N_("Cases past deadline"), TALLY),
    (N_("Survey"), TEXT),
    (N_("Satisfaction index"), NUMBER),
)


def _yuan(fen: int) -> Decimal:
    return Decimal(decimal_str(fen))


def _fraction(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else rate.scaleb(-2)


def _xlsx_row(line: group.EstateLine) -> list:
    f = line.figures
    index = None if line.survey_index is None else Decimal(decimals(line.survey_index, 1))
    return [
        line.name,
        f.households,
        _yuan(f.due_fen),
        _yuan(f.collected_fen),
        _fraction(f.current_rate),
        f.unpaid_households,
        _yuan(f.unpaid_fen),
        _yuan(f.arrears_due_fen),
        _yuan(f.cleared_fen),
        _fraction(f.clearance_rate),
        _yuan(f.all_due_fen),
        _yuan(f.all_collected_fen),
        _fraction(f.overall_rate),
        line.overdue_units,
        _yuan(line.overdue_fen),
        line.received,
        line.open_cases,
        line.past_deadline,
        line.survey or "",
        index,
    ]


def write_xlsx(report: group.GroupReport, path: Path, title: Title) -> None:
    """The report as a workbook: a line per estate, the company's as the totals row."""
    headers = [_(h) for h, _kind in XLSX_COLUMNS]
    company = _xlsx_row(report.company)
    company[0] = _("Company")
    workbook.write_book(
        path,
        title,
        [
            Table(
                _("Group report"),
                headers,
                [_xlsx_row(e) for e in report.estates],
                kinds={_(h): kind for h, kind in XLSX_COLUMNS},
                total=company,
                notes=[
                    _("The company's rates are its summed amounts divided, not an average."),
                    *report.notes,
                ],
            )
        ],
    )


def _check_out(out: Path | None) -> None:
    if out is not None:
        if out.suffix.lower() not in (".xlsx", *HTML):
            raise InvalidValue(_("--out {path}: write .xlsx or .html").format(path=out))
        check_output(out, "--out")


@group_app.command(
    "report",
    help=_(
        "Several estates together: for each estate and for the company, the collection rates "
        "(as propfee report collection), what is overdue (as propfee overdue), complaints and "
        "requests received in the period, still open and past their deadline (as propfee "
        "complain list) and the satisfaction index of the latest survey (as propfee "
        "survey-report). Each estate is read only, never written. The company's money is the "
        "sum of the estates' and its rates come from those sums."
    )
    + "\n\n"
    + _(
        "Name the estates with --db FILE (once per estate), --dir FOLDER (every *.db file in "
        "it) or --db postgresql://… (every estate on that server). If one cannot be read, "
        "nothing is reported and each such estate is named."
    )
    + "\n\n"
    + _("Example: propfee group report --dir 各项目 --period 2026-11 --out 集团收缴.xlsx"),
    short_help=_("Several estates together: rates, arrears, complaints"),
)
def report(
    db: Annotated[
        list[str] | None,
        typer.Option(
            "--db",
            metavar="PATH|postgresql://…",
            help=_(
                "An estate's database file, or a PostgreSQL server (every estate on it); "
                "give --db once per estate."
            ),
        ),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option("--dir", metavar="FOLDER", help=_("Every estate database (*.db) in it.")),
    ] = None,
    period: MonthOpt = None,
    first: FromMonthOpt = None,
    last: ToMonthOpt = None,
    as_of: AsOfOpt = None,
    late_fees: Annotated[
        bool, typer.Option("--late-fees", help=_("Count 违约金 (LATEFEE bills) in the rates."))
    ] = False,
    fmt: FormatOpt = Format.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=_("Also write the report: .xlsx (a workbook) or .html (a page with a chart)."),
        ),
    ] = None,
    wide: WideOpt = False,
    config: ConfigOpt = None,
) -> None:
    """The group report."""
    _check_out(out)
    day = parse_day(as_of)
    start, end = parse_range(period, first, last, as_of=day)
    named = list(db or [])
    if not named and folder is None and os.environ.get("PROPFEE_DB"):
        named = [os.environ["PROPFEE_DB"]]  # propfee --db X group report: one estate
    found = group.sources(named, folder)
    result = group.group_report(
        found, config=config, first=start, last=end, as_of=day, late_fees=late_fees
    )
    env = open_env(None, config)
    if out is not None and out.suffix.lower() in HTML:
        context = group_page.context(result, produced_at=now())
        group_page.write(env.settings, context, out)
    elif out is not None:
        title = Title(result.company_name, _("Group report"), result.period, day, now())
        write_xlsx(result, out, title)
    if fmt is Format.json:
        write_json(report_json(result))
        return
    _show(env, result, fmt, wide)
    if out is not None:
        env.info(_("wrote {path}").format(path=out))


def _show(env, result: group.GroupReport, fmt: Format, wide: bool) -> None:
    company = {**_cells(result.company), "estate": _("Company")}
    rows = [_cells(e) for e in result.estates]
    emit(
        env,
        [*rows, company] if fmt is Format.csv else rows,
        [Col(c.key, _(c.header), c.justify, c.money, c.optional) for c in COLUMNS],
        fmt,
        title=_("{period} group report (as of {day}; {n} estates)").format(
            period=result.period, day=result.as_of, n=len(result.estates)
        ),
        footer=company,
        wide=wide,
    )
    if fmt is Format.table:
        for note in result.notes:
            env.out.print(note + _("."), markup=False)
        missing = [e.name for e in result.estates if e.survey is None]
        if missing:
            env.out.print(
                _("No survey by {day}: {estates}").format(
                    day=result.as_of, estates=_(", ").join(missing)
                ),
                markup=False,
            )
