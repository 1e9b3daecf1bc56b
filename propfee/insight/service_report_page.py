"""The owners' service report as one A4 page to post or send (``report service --out X.html``):
self-contained (styles and inline SVG charts inside, no script, nothing from a network), always
in Chinese, rendered through the lawful gate like the other report pages (``pages``). Its
figures are those of ``report service --format json``, formatted the same way."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from propfee.core.i18n import zh
from propfee.core.money import format_money
from propfee.insight.charts import Interval, Series, bar_chart, interval_chart, line_chart
from propfee.insight.reports import Figures
from propfee.insight.service_report import CASE_KINDS, CaseFigures, ServiceReport, mean_text
from propfee.insight.survey_stats import Change, fmt, percent

SERVICE_TEMPLATE = "zh/service_report.html"


def rate_text(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate}%"


def fee_label(figures: Figures, names: dict[str, str]) -> str:
    """A fee item as owners know it: its name (the total as 合计)."""
    if not figures.key:
        return zh("Total")
    return names.get(figures.key, figures.label)


def case_label(figures: CaseFigures) -> str:
    return zh(CASE_KINDS[figures.kind]) if figures.kind in CASE_KINDS else zh("Total")


def change_text(change: Change | None) -> str:
    """What a question's change since the last survey means (as the survey report says it)."""
    if change is None:
        return ""
    if change.delta is None:
        return zh("not asked last time")
    if change.beyond_noise is None:
        return zh("too few answers to tell")
    if not change.beyond_noise:
        return zh("within the margin of error")
    if change.delta > 0:
        return zh("up, beyond the margin of error")
    return zh("down, beyond the margin of error")


def _two(value: Fraction | None) -> Decimal | None:
    return None if value is None else Decimal(fmt(value))


def _charts(report: ServiceReport) -> dict[str, str]:
    c = report.collection
    names = report.fee_names
    groups = c.groups
    charts = {
        "fees": bar_chart(
            zh("Collection rate by fee item"),
            [fee_label(g, names) for g in groups],
            [
                Series(zh("Current collection rate"), [g.current_rate for g in groups]),
                Series(zh("Overall collection rate"), [g.overall_rate for g in groups]),
            ],
        ),
        "trend": line_chart(
            zh("Current collection rate by month"),
            [p.period for p in c.trend],
            [
                Series(zh("At the period's end"), [p.rate_at_end for p in c.trend]),
                Series(zh("As of {day}").format(day=c.as_of), [p.rate for p in c.trend]),
            ],
        ),
    }
    kinds = report.cases.kinds
    if report.cases.total.received:
        charts["cases"] = bar_chart(
            zh("Complaints and requests in the period"),
            [case_label(k) for k in kinds],
            [
                Series(zh("Cases opened"), [k.received for k in kinds]),
                Series(zh("Resolved"), [k.resolved for k in kinds]),
                Series(zh("Resolved on time"), [k.on_time for k in kinds]),
                Series(zh("Visited"), [k.visited for k in kinds]),
            ],
            fmt=lambda v: f"{v:.0f}",
            label=str,
            top=None,
        )
    for i, one in enumerate(report.surveys):
        r = one.report
        previous = r.compare.name if r.compare is not None else ""
        charts[f"survey{i}"] = interval_chart(
            zh("Mean score by question, with its 95% interval"),
            [
                Interval(
                    d.name,
                    _two(d.mean),
                    _two(d.ci[0]) if d.ci else None,
                    _two(d.ci[1]) if d.ci else None,
                    _two(d.change.previous_mean) if d.change is not None else None,
                )
                for d in r.dimensions
            ],
            scale=r.survey.scale,
            names=(r.survey.name, previous),
        )
    return charts


def service_context(report: ServiceReport, *, estate, produced_at: datetime) -> dict:
    """What the page shows: the figures as the JSON report has them, and the charts."""
    names = report.fee_names
    return {
        "estate": estate,
        "r": report,
        "span": report.span,
        "c": report.collection,
        "t": report.collection.total,
        "fees": [(fee_label(g, names), g) for g in report.collection.groups],
        "cases": report.cases,
        "case_rows": [(case_label(k), k) for k in [*report.cases.kinds, report.cases.total]],
        "categories": report.cases.by_category,
        "surveys": [one.report for one in report.surveys],
        "works": report.works,
        "income": report.income,
        "charts": _charts(report),
        "rate": rate_text,
        "money": format_money,
        "mean": mean_text,
        "f": fmt,
        "percent": percent,
        "change": change_text,
        "produced_at": produced_at.strftime("%Y-%m-%d %H:%M"),
    }
