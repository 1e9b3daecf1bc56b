"""The group report as a page for the boss: one self-contained HTML file (styles and an inline
SVG chart of 收缴率 by estate, nothing loaded from a network), in Chinese, laid out to print on
A4, written through ``pages.write_page`` like the collection page. Its figures are those of
``propfee group report --format json``, formatted the same way."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from propfee.core.i18n import zh
from propfee.core.money import format_money
from propfee.insight import pages
from propfee.insight.charts import Series, bar_chart
from propfee.insight.group import GroupReport
from propfee.insight.survey_stats import fmt

TEMPLATE = "zh/group_report.html"


def _rate(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate}%"


def _index(value) -> str:
    return "" if value is None else fmt(value, 1)


def context(report: GroupReport, *, produced_at: datetime) -> dict:
    """What the page shows: a line per estate and the company's, and the chart."""
    names = [e.name for e in report.estates]
    chart = bar_chart(
        zh("Collection rate by estate"),
        names,
        [
            Series(zh("Current collection rate"), [e.figures.current_rate for e in report.estates]),
            Series(zh("Overall collection rate"), [e.figures.overall_rate for e in report.estates]),
        ],
    )
    return {
        "r": report,
        "estates": report.estates,
        "c": report.company,
        "t": report.company.figures,
        "company_name": report.company_name,
        "chart": chart,
        "rate": _rate,
        "money": format_money,
        "index": _index,
        "produced_at": produced_at.strftime("%Y-%m-%d %H:%M"),
    }


def write(settings, page: dict, path) -> None:
    pages.write_page(settings, TEMPLATE, page, path)
