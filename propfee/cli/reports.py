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
    QuietOpt,
    check_month,
    emit,
    open_env,
    parse_day,
    print_csv,
    write_json,
)
from propfee.core.errors import InvalidValue
from propfee.core.money import decimal_str, format_money
from propfee.core.periods import parse_period
from propfee.files.writers import LineChartSpec, Sheet, check_output, write_workbook
from propfee.insight import reports

GROUP_HEADERS = {None: "范围", "building": "楼栋", "fee": "收费项目", "kind": "房屋类型"}


class Grouping(StrEnum):
    building = "building"
    fee = "fee"
    kind = "kind"


def register(report_app: typer.Typer) -> None:
    report_app.command("collection")(collection)


def rate_text(rate: Decimal | None) -> str:
    """A rate for people: ``92.31%``; ``—`` when there was nothing to collect."""
    return "—" if rate is None else f"{rate}%"


def window_text(result: reports.Collection) -> str:
    """The arrears window S～C, or a note that the period has not begun by the as-of day."""
    start = f"{result.first_period}-01"
    if result.window_end < start:
        return "期间尚未开始"
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
    headers = [GROUP_HEADERS[result.by], *XLSX_MAIN_HEADERS]
    rates = {i for i, header in enumerate(headers) if header.endswith("收缴率") or header == "清欠率"}
    rows = [
        [_csv_rate(v) if i in rates else v for i, v in enumerate(row)]
        for row in _main_sheet(result).rows[: len(_main_rows(result))]
    ]
    return headers, rows


def _csv_rate(cell: Decimal | str | None) -> str:
    return cell if isinstance(cell, str) or cell is None else f"{cell.scaleb(2):.2f}%"


MAIN_COLUMNS = (
    ("label", "范围", "left"),
    ("households", "户数", "right"),
    ("due", "当期应收", "right"),
    ("collected", "当期实收", "right"),
    ("current_rate", "当期收缴率", "right"),
    ("unpaid_households", "欠费户数", "right"),
    ("unpaid", "当期欠费", "right"),
    ("arrears_due", "往期欠费", "right"),
    ("cleared", "清欠实收", "right"),
    ("clearance_rate", "清欠率", "right"),
    ("overall_rate", "综合收缴率", "right"),
)


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
        f"{result.period} 收缴率（截至 {result.as_of}）：当期 {rate_text(t.current_rate)} "
        f"({format_money(t.collected_fen)} / {format_money(t.due_fen)})，"
        f"清欠 {rate_text(t.clearance_rate)} "
        f"({format_money(t.cleared_fen)} / {format_money(t.arrears_due_fen)})，"
        f"综合 {rate_text(t.overall_rate)}",
        f"欠费 {t.unpaid_households} 户 / {t.households} 户，{format_money(t.unpaid_fen)}",
    ]
    if result.reasons:
        lines.append(
            "原因："
            + "，".join(
                f"{r.label} {r.households} 户 {format_money(r.unpaid_fen)}" for r in result.reasons
            )
        )
    if not result.late_fees:
        lines.append("违约金（LATEFEE）不计入收缴率；--late-fees 计入")
    return lines


def collection(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            metavar="YYYY-MM",
            callback=check_month,
            help="One month (default: the as-of month).",
        ),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="YYYY-MM", callback=check_month, help="First month of a range."
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="YYYY-MM", callback=check_month, help="Last month of a range."
        ),
    ] = None,
    by: Annotated[
        Grouping | None,
        typer.Option(
            case_sensitive=False,
            help="Group by building, fee (fee item) or kind (unit kind); totals last.",
        ),
    ] = None,
    as_of: AsOfOpt = None,
    late_fees: Annotated[
        bool, typer.Option("--late-fees", help="Count 违约金 (LATEFEE bills) in the rates.")
    ] = False,
    fmt: FormatOpt = Format.table,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write an .xlsx: the tables and the trend as a chart."),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """The collection report (收缴率): how much of what was due has come in.

    当期收缴率, 清欠率 and 综合收缴率 for a month or a range of months as of a day, households still unpaid and the reasons recorded for them, and the
    12-month trend. Late fees are left out unless --late-fees. See the README for each rate.

    Example: propfee report collection --period 2026-11 --by building --out 收缴率.xlsx
    """
    _check_out(out, quiet=quiet)
    env = open_env(db, config, quiet)
    day = parse_day(as_of)
    start, end = reports.parse_range(period, first, last, as_of=day)
    result = reports.collection(
        env.connect(create=False),
        first=start,
        last=end,
        as_of=day,
        by=by.value if by else None,
        late_fees=late_fees,
    )
    if out is not None:
        write_collection_xlsx(result, out)
    if quiet:
        return
    if fmt is Format.json:
        write_json(collection_json(result))
        return
    if fmt is Format.csv:
        headers, rows = _csv_rows(result)
        print_csv(headers, rows, number_columns=range(1, len(headers)))
        return
    _show(env, result, fmt)
    if out is not None:
        env.info(f"wrote {out}")


def _check_out(out: Path | None, *, quiet: bool) -> None:
    """--quiet needs --out; --out is a new .xlsx."""
    if quiet and out is None:
        raise typer.BadParameter(
            "prints nothing: give --out FILE.xlsx for the report", param_hint="--quiet"
        )
    if out is not None:
        if out.suffix.lower() != ".xlsx":
            raise InvalidValue(f"--out {out}: write .xlsx")
        check_output(out, "--out")


def _show(env, result: reports.Collection, fmt: Format) -> None:
    """The figures, the reasons recorded for what is unpaid, and the trend, as tables."""
    emit(
        env,
        [_line(f) for f in _main_rows(result)],
        [
            Col(key, GROUP_HEADERS[result.by] if key == "label" else header, justify)
            for key, header, justify in MAIN_COLUMNS
        ],
        fmt,
        title=f"{result.period} 收缴率（截至 {result.as_of}；清欠 {window_text(result)}）",
    )
    if result.reasons:
        emit(
            env,
            [
                {"label": r.label, "households": r.households, "unpaid": format_money(r.unpaid_fen)}
                for r in result.reasons
            ],
            (
                Col("label", "欠费原因"),
                Col("households", "户数", "right"),
                Col("unpaid", "当期欠费", "right"),
            ),
            fmt,
            title="欠费原因（催缴记录）",
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
            Col("period", "期间"),
            Col("due_at_end", "期末应收", "right"),
            Col("rate_at_end", "期末收缴率", "right"),
            Col("due", f"应收（截至 {result.as_of}）", "right"),
            Col("rate", f"截至 {result.as_of}", "right"),
        ),
        fmt,
        title="近 12 期当期收缴率",
    )
    if not result.late_fees:
        env.out.print("违约金（LATEFEE）不计入收缴率；--late-fees 计入。", markup=False)


def _rate_cell(rate: Decimal | None, *, nothing: str | None = "—") -> Decimal | str | None:
    """A rate as a fraction for an Excel percentage cell: 92.31 -> 0.9231; ``nothing`` (``—``)
    for a rate over nothing."""
    return nothing if rate is None else rate.scaleb(-2)


def _money(fen: int) -> Decimal:
    return Decimal(decimal_str(fen))


PCT = "0.00%"
XLSX_MAIN_HEADERS = [
    "户数",
    "应收（原始）",
    "减免/调整",
    "当期应收",
    "当期实收",
    "当期收缴率",
    "欠费户数",
    "当期欠费",
    "期初往期欠费",
    "往期减免/调整",
    "冲正重开",
    "往期欠费",
    "清欠实收",
    "清欠率",
    "综合应收",
    "综合实收",
    "综合收缴率",
]


def write_collection_xlsx(result: reports.Collection, path: Path) -> None:
    """The report as an .xlsx: the figures, the reasons, and the trend with its chart."""
    write_workbook(
        path,
        [
            _main_sheet(result),
            Sheet(
                "欠费原因",
                ["欠费原因", "户数", "当期欠费"],
                [[r.label, r.households, _money(r.unpaid_fen)] for r in result.reasons],
            ),
            _trend_sheet(result),
        ],
    )


def _main_sheet(result: reports.Collection) -> Sheet:
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
    rows.append([])
    rows.append([f"期间 {result.period}，截至 {result.as_of}"])
    rows.append([f"清欠窗口 {window_text(result)}"])
    rows.append(["违约金（LATEFEE）计入" if result.late_fees else "违约金（LATEFEE）不计入收缴率"])
    return Sheet(
        "收缴率",
        [GROUP_HEADERS[result.by], *XLSX_MAIN_HEADERS],
        rows,
        formats={"当期收缴率": PCT, "清欠率": PCT, "综合收缴率": PCT},
    )


def _trend_sheet(result: reports.Collection) -> Sheet:
    as_of = f"截至 {result.as_of}"
    return Sheet(
        "趋势",
        ["期间", "期末应收", "期末实收", "期末收缴率", "应收", "实收", as_of],
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
        formats={"期末收缴率": PCT, as_of: PCT},
        chart=LineChartSpec(
            title="近 12 期当期收缴率",
            categories="期间",
            series=["期末收缴率", as_of],
            y_title="收缴率",
            y_format="0%",
        ),
    )


def month_summary(conn, month: str, as_of) -> list[str]:
    """The collection report of one month (``YYYY-MM``) in a few lines, for the demo."""
    start = parse_period(month)
    return summary_lines(reports.collection(conn, first=start, last=start, as_of=as_of))
