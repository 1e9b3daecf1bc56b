"""propfee report collection: the collection rate (收缴率) by period, building, fee or kind."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
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
    FromMonthOpt,
    MonthOpt,
    QuietOpt,
    ToMonthOpt,
    emit,
    now,
    open_env,
    parse_day,
    print_csv,
    write_json,
)
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _, ngettext
from propfee.core.money import decimal_str, format_money
from propfee.core.periods import parse_period
from propfee.files import workbook
from propfee.files.workbook import MONEY, RATE, TALLY, Chart, Table, Title
from propfee.files.writers import check_output
from propfee.insight import pages, reports, service_report, service_report_page
from propfee.insight.service_report import mean_text
from propfee.insight.service_report_works import read_works
from propfee.insight.survey_stats import fmt as survey_fmt
from propfee.insight.survey_stats import percent as survey_percent

GROUP_HEADERS = {
    None: N_("Scope"),
    "building": N_("Building"),
    "fee": N_("Fee item"),
    "kind": N_("Unit kind"),
}


class Grouping(StrEnum):
    building = "building"
    fee = "fee"
    kind = "kind"


def register(report_app: typer.Typer) -> None:
    report_app.command(
        "collection",
        help=_(
            "The collection report (收缴率): how much of what was due has come in. 当期收缴率, "
            "清欠率 and 综合收缴率 for a month or a range of months as of a day, households still "
            "unpaid and the reasons recorded for them, and the 12-month trend. Late fees are left "
            "out unless --late-fees. See the README for each rate."
        )
        + "\n\n"
        + _("Example: propfee report collection --period 2026-11 --by building --out 收缴率.xlsx"),
        short_help=_("Collection rate (收缴率) by month, building, fee or kind"),
    )(collection)
    report_app.command(
        "service",
        help=_(
            "The owners' service report (物业服务报告) for a quarter, a year or a month: fees "
            "billed and collected by fee item and 收缴率 (as report collection counts them), "
            "complaints and repair requests received, resolved, resolved on time and visited "
            "with their scores, the satisfaction surveys held in the period, the notable works "
            "the office lists (--works), and under 酬金制 the income by fee item. It names no "
            "owner: no names, phones, ID numbers or unit numbers (LEGAL rule 10)."
        )
        + "\n\n"
        + _("Example: propfee report service --period 2026Q4 --out 物业服务报告.html"),
        short_help=_("The owners' service report (物业服务报告), quarterly or yearly"),
    )(service)


def rate_text(rate: Decimal | None) -> str:
    """A rate for people: ``92.31%``; ``—`` when there was nothing to collect."""
    return "—" if rate is None else f"{rate}%"


def window_text(result: reports.Collection) -> str:
    """The arrears window S～C, or a note that the period has not begun by the as-of day."""
    start = f"{result.first_period}-01"
    if result.window_end < start:
        return _("the period has not begun")
    return f"{start}～{result.window_end}"


def rate_json(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


def figures_json(f: reports.Figures) -> dict:
    return {
        "key": f.key,
        "label": f.label,
        "billed": decimal_str(f.billed_fen),
        "adjusted": decimal_str(f.adjusted_fen),
        "due": decimal_str(f.due_fen),
        "collected": decimal_str(f.collected_fen),
        "current_rate": rate_json(f.current_rate),
        "households": f.households,
        "unpaid_households": f.unpaid_households,
        "unpaid": decimal_str(f.unpaid_fen),
        "opening_arrears": decimal_str(f.arrears_fen),
        "arrears_adjusted": decimal_str(f.arrears_adjusted_fen),
        "arrears_reopened": decimal_str(f.reopened_fen),
        "arrears_due": decimal_str(f.arrears_due_fen),
        "cleared": decimal_str(f.cleared_fen),
        "clearance_rate": rate_json(f.clearance_rate),
        "all_due": decimal_str(f.all_due_fen),
        "all_collected": decimal_str(f.all_collected_fen),
        "overall_rate": rate_json(f.overall_rate),
    }


def collection_json(result: reports.Collection) -> dict:
    return {
        "period": result.period,
        "from": result.first_period,
        "to": result.last_period,
        "as_of": result.as_of,
        "arrears_window": (
            [f"{result.first_period}-01", result.window_end]
            if result.window_end >= f"{result.first_period}-01"
            else None
        ),
        "by": result.by,
        "late_fees_included": result.late_fees,
        "total": figures_json(result.total),
        "groups": [figures_json(g) for g in result.groups],
        "reasons": [
            {
                "reason": r.reason,
                "label": r.label,
                "households": r.households,
                "unpaid": decimal_str(r.unpaid_fen),
            }
            for r in result.reasons
        ],
        "trend": [
            {
                "period": p.period,
                "due": decimal_str(p.due_fen),
                "collected": decimal_str(p.collected_fen),
                "rate": rate_json(p.rate),
                "due_at_period_end": decimal_str(p.due_at_end_fen),
                "collected_at_period_end": decimal_str(p.collected_at_end_fen),
                "rate_at_period_end": rate_json(p.rate_at_end),
            }
            for p in result.trend
        ],
    }


def _csv_rows(result: reports.Collection) -> tuple[list[str], list[list]]:
    """The figures as ``--format csv`` prints them: the workbook's Chinese headers, money as
    amounts, a rate as ``52.38%`` (``—`` for a rate over nothing, as in the table)."""
    headers = [_(GROUP_HEADERS[result.by]), *(_(h) for h in XLSX_MAIN_HEADERS)]
    rates = {i + 1 for i, header in enumerate(XLSX_MAIN_HEADERS) if header in RATE_HEADERS}
    rows = [
        [_csv_rate(v) if i in rates else v for i, v in enumerate(row)]
        for row in _main_sheet(result).rows[: len(_main_rows(result))]
    ]
    return headers, rows


def _csv_rate(cell: Decimal | str | None) -> str:
    return cell if isinstance(cell, str) or cell is None else f"{cell.scaleb(2):.2f}%"


MAIN_COLUMNS = (
    ("label", N_("Scope"), "left"),
    ("households", N_("Households"), "right"),
    ("due", N_("Due this period"), "right"),
    ("collected", N_("Collected this period"), "right"),
    ("current_rate", N_("Current collection rate"), "right"),
    ("unpaid_households", N_("Households unpaid"), "right"),
    ("unpaid", N_("Unpaid this period"), "right"),
    ("arrears_due", N_("Arrears due"), "right"),
    ("cleared", N_("Arrears collected"), "right"),
    ("clearance_rate", N_("Arrears clearance rate"), "right"),
    ("overall_rate", N_("Overall collection rate"), "right"),
)


def _main_columns(by: str | None) -> list[tuple[str, str, str]]:
    """The table's columns, the first named for the grouping."""
    return [(MAIN_COLUMNS[0][0], GROUP_HEADERS[by], "left"), *MAIN_COLUMNS[1:]]


def _main_rows(result: reports.Collection) -> list[reports.Figures]:
    return [*result.groups, result.total]


def _line(f: reports.Figures) -> dict:
    return {
        "label": f.label,
        "households": f.households,
        "due": format_money(f.due_fen),
        "collected": format_money(f.collected_fen),
        "current_rate": rate_text(f.current_rate),
        "unpaid_households": f.unpaid_households,
        "unpaid": format_money(f.unpaid_fen),
        "arrears_due": format_money(f.arrears_due_fen),
        "cleared": format_money(f.cleared_fen),
        "clearance_rate": rate_text(f.clearance_rate),
        "overall_rate": rate_text(f.overall_rate),
    }


def summary_lines(result: reports.Collection) -> list[str]:
    """The report in a few lines (what the demo prints)."""
    t = result.total
    lines = [
        _(
            "{period} collection rate (as of {day}): current {current} ({collected} / {due}), "
            "arrears {clearance} ({cleared} / {arrears}), overall {overall}"
        ).format(
            period=result.period,
            day=result.as_of,
            current=rate_text(t.current_rate),
            collected=format_money(t.collected_fen),
            due=format_money(t.due_fen),
            clearance=rate_text(t.clearance_rate),
            cleared=format_money(t.cleared_fen),
            arrears=format_money(t.arrears_due_fen),
            overall=rate_text(t.overall_rate),
        ),
        _("Unpaid: {unpaid} of {households} households, {amount}").format(
            unpaid=t.unpaid_households, households=t.households, amount=format_money(t.unpaid_fen)
        ),
    ]
    if result.reasons:
        lines.append(
            _("Reasons: ")
            + _(", ").join(
                _("{reason} {n} households {amount}").format(
                    reason=r.label, n=r.households, amount=format_money(r.unpaid_fen)
                )
                for r in result.reasons
            )
        )
    if not result.late_fees:
        lines.append(late_fees_left_out())
    return lines


def late_fees_left_out() -> str:
    return _("Late fees (LATEFEE) are left out of the rates; --late-fees counts them")


def collection(
    period: MonthOpt = None,
    first: FromMonthOpt = None,
    last: ToMonthOpt = None,
    by: Annotated[
        Grouping | None,
        typer.Option(
            case_sensitive=False,
            help=_("Group by building, fee (fee item) or kind (unit kind); totals last."),
        ),
    ] = None,
    as_of: AsOfOpt = None,
    late_fees: Annotated[
        bool, typer.Option("--late-fees", help=_("Count 违约金 (LATEFEE bills) in the rates."))
    ] = False,
    fmt: FormatOpt = Format.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=_(
                "Also write the report: .xlsx (the tables, the trend as a chart) or .html (a "
                "page with pictures)."
            ),
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """The collection report."""
    _check_out(out, quiet=quiet)
    env = open_env(db, config, quiet)
    day = parse_day(as_of)
    start, end = reports.parse_range(period, first, last, as_of=day)
    conn = env.connect(create=False)
    grouping = by.value if by else None
    html = out is not None and out.suffix.lower() in HTML
    result = reports.collection(
        conn,
        first=start,
        last=end,
        as_of=day,
        by=grouping,
        late_fees=late_fees,
        # what is overdue on the day, by how long: the page and the JSON show it
        aging_edges=env.settings.dunning.buckets
        if html or (fmt is Format.json and not quiet)
        else None,
    )
    aging = result.aging
    if html:
        by_building = result
        if grouping != "building":
            by_building = reports.collection(
                conn, first=start, last=end, as_of=day, by="building", late_fees=late_fees
            )
        context = pages.collection_context(
            result, by_building, aging, estate=env.settings.estate, produced_at=now()
        )
        pages.write_page(env.settings, pages.COLLECTION_TEMPLATE, context, out)
    elif out is not None:
        title = Title(env.settings.estate.name, _("Collection report"), result.period, day, now())
        write_collection_xlsx(result, out, title)
    if quiet:
        return
    if fmt is Format.json:
        write_json({**collection_json(result), "aging": [aging_json(a) for a in aging]})
        return
    if fmt is Format.csv:
        headers, rows = _csv_rows(result)
        print_csv(headers, rows, number_columns=range(1, len(headers)))
        return
    _show(env, result, fmt)
    if out is not None:
        env.info(_("wrote {path}").format(path=out))


HTML = (".html", ".htm")


def aging_json(line: reports.AgingLine) -> dict:
    return {"days": line.days, "households": line.households, "overdue": decimal_str(line.owed_fen)}


def _check_out(out: Path | None, *, quiet: bool) -> None:
    """--quiet needs --out; --out is a new .xlsx or .html."""
    if quiet and out is None:
        raise typer.BadParameter(
            _("prints nothing: give --out FILE.xlsx for the report"), param_hint="--quiet"
        )
    if out is not None:
        if out.suffix.lower() not in (".xlsx", *HTML):
            raise InvalidValue(_("--out {path}: write .xlsx or .html").format(path=out))
        check_output(out, "--out")


def _show(env, result: reports.Collection, fmt: Format) -> None:
    """The figures, the reasons recorded for what is unpaid, and the trend, as tables."""
    emit(
        env,
        [_line(f) for f in _main_rows(result)],
        [Col(key, _(header), justify) for key, header, justify in _main_columns(result.by)],
        fmt,
        title=_("{period} collection rate (as of {day}; arrears {window})").format(
            period=result.period, day=result.as_of, window=window_text(result)
        ),
    )
    if result.reasons:
        emit(
            env,
            [
                {"label": r.label, "households": r.households, "unpaid": format_money(r.unpaid_fen)}
                for r in result.reasons
            ],
            (
                Col("label", _("Reason unpaid")),
                Col("households", _("Households"), "right"),
                Col("unpaid", _("Unpaid this period"), "right"),
            ),
            fmt,
            title=_("Reasons unpaid (from the collection record)"),
        )
    emit(
        env,
        [
            {
                "period": p.period,
                "due_at_end": format_money(p.due_at_end_fen),
                "rate_at_end": rate_text(p.rate_at_end),
                "due": format_money(p.due_fen),
                "rate": rate_text(p.rate),
            }
            for p in result.trend
        ],
        (
            Col("period", _("Period")),
            Col("due_at_end", _("Due at period end"), "right"),
            Col("rate_at_end", _("Rate at period end"), "right"),
            Col("due", _("Due (as of {day})").format(day=result.as_of), "right"),
            Col("rate", _("As of {day}").format(day=result.as_of), "right"),
        ),
        fmt,
        title=_("Current collection rate, last 12 periods"),
    )
    if not result.late_fees:
        env.out.print(late_fees_left_out() + _("."), markup=False)


def _rate_cell(rate: Decimal | None, *, nothing: str | None = "—") -> Decimal | str | None:
    """A rate as a fraction for an Excel percentage cell: 92.31 -> 0.9231; ``nothing`` (``—``)
    for a rate over nothing."""
    return nothing if rate is None else rate.scaleb(-2)


def _money(fen: int) -> Decimal:
    return Decimal(decimal_str(fen))


XLSX_MAIN_HEADERS = [
    N_("Households"),
    N_("Billed (original)"),
    N_("Waivers/adjustments"),
    N_("Due this period"),
    N_("Collected this period"),
    N_("Current collection rate"),
    N_("Households unpaid"),
    N_("Unpaid this period"),
    N_("Opening arrears"),
    N_("Arrears waivers/adjustments"),
    N_("Reopened by reversals"),
    N_("Arrears due"),
    N_("Arrears collected"),
    N_("Arrears clearance rate"),
    N_("Overall due"),
    N_("Overall collected"),
    N_("Overall collection rate"),
]
RATE_HEADERS = (
    N_("Current collection rate"),
    N_("Arrears clearance rate"),
    N_("Overall collection rate"),
)


def write_collection_xlsx(result: reports.Collection, path: Path, title: Title) -> None:
    """The report as an .xlsx: the figures, the reasons, and the trend with its chart."""
    households, unpaid = _("Households"), _("Unpaid this period")
    workbook.write_book(
        path,
        title,
        [
            _main_sheet(result),
            Table(
                _("Reason unpaid"),
                [_("Reason unpaid"), households, unpaid],
                [[r.label, r.households, _money(r.unpaid_fen)] for r in result.reasons],
                kinds={households: TALLY, unpaid: MONEY},
            ),
            _trend_sheet(result),
        ],
    )


def _main_sheet(result: reports.Collection) -> Table:
    rows = [
        [
            f.label,
            f.households,
            _money(f.billed_fen),
            _money(f.adjusted_fen),
            _money(f.due_fen),
            _money(f.collected_fen),
            _rate_cell(f.current_rate),
            f.unpaid_households,
            _money(f.unpaid_fen),
            _money(f.arrears_fen),
            _money(f.arrears_adjusted_fen),
            _money(f.reopened_fen),
            _money(f.arrears_due_fen),
            _money(f.cleared_fen),
            _rate_cell(f.clearance_rate),
            _money(f.all_due_fen),
            _money(f.all_collected_fen),
            _rate_cell(f.overall_rate),
        ]
        for f in _main_rows(result)
    ]
    return Table(
        _("Collection rate"),
        [_(GROUP_HEADERS[result.by]), *(_(h) for h in XLSX_MAIN_HEADERS)],
        rows,
        kinds={_(h): RATE for h in RATE_HEADERS},
        totals=False,  # the last line is the whole estate's already
        notes=[
            _("Arrears window {window}").format(window=window_text(result)),
            _("Late fees are counted in the rates")
            if result.late_fees
            else _("Late fees are left out of the rates"),
        ],
    )


def _trend_sheet(result: reports.Collection) -> Table:
    as_of = _("As of {day}").format(day=result.as_of)
    at_end = _("Rate at period end")
    return Table(
        _("Trend"),
        [
            _("Period"),
            _("Due at period end"),
            _("Collected at period end"),
            at_end,
            _("Amount due"),
            _("Collected"),
            as_of,
        ],
        [
            [
                p.period,
                _money(p.due_at_end_fen),
                _money(p.collected_at_end_fen),
                _rate_cell(p.rate_at_end, nothing=None),  # blank: a gap in the chart, not 0%
                _money(p.due_fen),
                _money(p.collected_fen),
                _rate_cell(p.rate, nothing=None),
            ]
            for p in result.trend
        ],
        kinds={at_end: RATE, as_of: RATE},
        totals=False,  # balances at different days add up to nothing
        charts=[
            Chart(
                "line",
                title=_("Current collection rate, last 12 periods"),
                categories=_("Period"),
                series=[at_end, as_of],
                y_title=_("Collection rate"),
                y_format="0%",
            )
        ],
    )


def month_summary(conn, month: str, as_of) -> list[str]:
    """The collection report of one month (``YYYY-MM``) in a few lines, for the demo."""
    start = parse_period(month)
    return summary_lines(reports.collection(conn, first=start, last=start, as_of=as_of))


# ---------------------------------------------------------------- the owners' service report


class ReportFormat(StrEnum):
    table = "table"
    json = "json"


def check_span(value: str | None) -> str | None:
    """Typer callback: a malformed report period is a usage error (exit 2)."""
    if value is not None:
        try:
            service_report.parse_span(value)
        except InvalidValue as exc:
            raise typer.BadParameter(str(exc)) from None
    return value


def service(
    period: Annotated[
        str,
        typer.Option(
            "--period",
            metavar="2026Q4|2026|2026-11",
            callback=check_span,
            help=_("The period: a quarter (2026Q4), a year (2026) or a month (2026-11)."),
        ),
    ],
    as_of: AsOfOpt = None,
    works: Annotated[
        Path | None,
        typer.Option(
            "--works",
            metavar="FILE",
            help=_(
                "The period's notable works: an .xlsx or .csv with the columns 日期 and 事项, or "
                "a .txt of one work a line (2026-10-12 更换3号楼电梯钢丝绳)."
            ),
        ),
    ] = None,
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", case_sensitive=False, help=_("table (default) or json.")),
    ] = ReportFormat.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE.html", help=_("Also write the report as an A4 page to post.")
        ),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The owners' service report."""
    if out is not None:
        if out.suffix.lower() not in HTML:
            raise InvalidValue(_("--out {path}: write .html").format(path=out))
        check_output(out, "--out")
    env = open_env(db, config)
    day = parse_day(as_of)
    span = service_report.parse_span(period)
    try:
        service_report.check_span(span, day)
    except InvalidValue as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    conn = env.connect(create=False)
    listed = read_works(conn, works, span) if works is not None else []
    result = service_report.service_report(
        conn, span, as_of=day, settings=env.settings, works=listed
    )
    if out is not None:
        context = service_report_page.service_context(
            result, estate=env.settings.estate, produced_at=now()
        )
        pages.write_page(env.settings, service_report_page.SERVICE_TEMPLATE, context, out)
    if fmt is ReportFormat.json:
        write_json(service_json(result, env.settings.estate))
        return
    _show_service(env, result)
    if out is not None:
        env.info(_("wrote {path}").format(path=out))


def _rate_str(rate: Decimal | None) -> str | None:
    return None if rate is None else str(rate)


def _case_json(figures: service_report.CaseFigures) -> dict:
    return {
        "kind": figures.kind,
        "received": figures.received,
        "resolved": figures.resolved,
        "on_time": figures.on_time,
        "on_time_rate": _rate_str(figures.on_time_rate),
        "visited": figures.visited,
        "visit_rate": _rate_str(figures.visit_rate),
        "visits": len(figures.scores),
        "mean_score": None if figures.mean_score is None else mean_text(figures.mean_score),
        "scores": {str(k): v for k, v in figures.distribution().items()},
        "open": figures.still_open,
        "overdue": figures.overdue,
    }


def _survey_json(one) -> dict:
    r = one.report
    return {
        "name": r.survey.name,
        "held_on": r.survey.held_on,
        "scale": r.survey.scale,
        "compare": r.compare.name if r.compare else None,
        "responses": r.responses,
        "response_rate": survey_percent(r.total.rate),
        "index": survey_fmt(r.index, 1),
        "previous_index": survey_fmt(r.previous_index, 1) if r.compare else None,
        "nps": survey_fmt(r.nps, 1),
        "dimensions": [
            {
                "dimension": d.name,
                "answers": d.answers,
                "mean": survey_fmt(d.mean),
                "satisfied": survey_percent(d.satisfied),
                "previous": survey_fmt(d.change.previous_mean) if d.change else None,
            }
            for d in r.dimensions
        ],
    }


def _income_json(income: service_report.Income | None) -> dict | None:
    if income is None:
        return None
    return {
        "from": income.first,
        "to": income.last,
        "payments": income.payments,
        "rows": [
            {"fee": line.code, "label": line.name, "received": decimal_str(line.fen)}
            for line in income.lines
        ],
        "unallocated": decimal_str(income.unallocated_fen),
        "total": decimal_str(income.total_fen),
        "spending": None,
    }


def service_json(result: service_report.ServiceReport, estate) -> dict:
    """The report as ``--format json`` prints it: the page's figures."""
    span, cases = result.span, result.cases
    collection = collection_json(result.collection)
    return {
        "estate": estate.name,
        "company": estate.company,
        "period": span.name,
        "kind": span.kind,
        "title": span.title,
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "as_of": result.as_of.isoformat(),
        "complete": result.complete,
        "fee_model": result.fee_model,
        "collection": collection,
        "cases": {
            "at": cases.at.isoformat(sep=" "),
            "kinds": [_case_json(k) for k in cases.kinds],
            "total": _case_json(cases.total),
            "by_category": [{"category": c, "cases": n} for c, n in cases.by_category],
            "mean_hours_to_resolve": cases.mean_hours,
        },
        "surveys": [_survey_json(one) for one in result.surveys],
        "works": [{"date": w.day.isoformat(), "item": w.text} for w in result.works],
        "income": _income_json(result.income),
    }


def _show_service(env, result: service_report.ServiceReport) -> None:
    """The report's figures as tables at the terminal."""
    span, c = result.span, result.collection
    emit(
        env,
        [_line(f) for f in _main_rows(c)],
        [Col(key, _(header), justify) for key, header, justify in _main_columns("fee")],
        Format.table,
        title=_("{estate} service report {period} (as of {day})").format(
            estate=env.settings.estate.name, period=span.name, day=result.as_of
        ),
    )
    emit(
        env,
        [
            {
                "kind": _(service_report.CASE_KINDS.get(k.kind, N_("Total"))),
                "received": k.received,
                "resolved": k.resolved,
                "on_time": k.on_time,
                "on_time_rate": rate_text(k.on_time_rate),
                "visited": k.visited,
                "score": mean_text(k.mean_score),
                "open": k.still_open,
            }
            for k in [*result.cases.kinds, result.cases.total]
        ],
        (
            Col("kind", _("Type")),
            Col("received", _("Cases opened"), "right"),
            Col("resolved", _("Resolved"), "right"),
            Col("on_time", _("Resolved on time"), "right"),
            Col("on_time_rate", _("On-time rate"), "right"),
            Col("visited", _("Visited"), "right"),
            Col("score", _("Mean visit score"), "right"),
            Col("open", _("Still open"), "right"),
        ),
        Format.table,
        title=_("Complaints and requests opened in the period"),
    )
    for one in result.surveys:
        r = one.report
        env.out.print(
            _("Survey {name} ({day}): {n} responses, index {index}, NPS {nps}").format(
                name=r.survey.name,
                day=r.survey.held_on,
                n=r.responses,
                index=survey_fmt(r.index, 1),
                nps=survey_fmt(r.nps, 1),
            ),
            markup=False,
        )
    if result.works:
        env.out.print(
            ngettext(
                "{n} notable work listed", "{n} notable works listed", len(result.works)
            ).format(n=len(result.works)),
            markup=False,
        )
    if result.income is not None:
        env.out.print(
            _("Income in the period (酬金制): {total}, of which advance payments {credit}").format(
                total=format_money(result.income.total_fen),
                credit=format_money(result.income.unallocated_fen),
            ),
            markup=False,
        )
