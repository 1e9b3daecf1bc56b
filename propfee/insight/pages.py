"""Report pages a boss would rather look at than read: one self-contained HTML file each (styles
and inline SVG charts inside, no script, nothing loaded from a network), in Chinese, laid out to
print on A4. Rendered through the lawful gate (``files.render``) and written like every other
file (temporary name, then renamed).

- ``collection_page``: 收缴率 by month (the 12-period trend), 收缴率 by building, what is overdue
  by how long (aging buckets) and the reasons recorded for what is unpaid.
- ``survey_page``: satisfaction by question with its 95% interval, against the survey compared
  with (last year's), response rates by building and collection by satisfaction.

The figures on the page are those of the command's ``--format json``, formatted the same way."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from propfee.core.i18n import zh
from propfee.core.money import format_money
from propfee.files.render import render
from propfee.files.writers import write_text
from propfee.insight.charts import Interval, Series, bar_chart, interval_chart, line_chart
from propfee.insight.reports import AgingLine, Collection
from propfee.insight.survey_report import SurveyReport
from propfee.insight.survey_stats import fmt, percent

COLLECTION_TEMPLATE = "zh/collection_report.html"
SURVEY_TEMPLATE = "zh/survey_report.html"


def _rate(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate}%"


def collection_context(
    result: Collection,
    by_building: Collection,
    aging: list[AgingLine],
    *,
    estate,
    produced_at: datetime,
) -> dict:
    """What the collection page shows: the figures as the JSON report has them, and the
    charts drawn from the same figures."""
    trend = line_chart(
        zh("Current collection rate by month"),
        [p.period for p in result.trend],
        [
            Series(zh("At the period's end"), [p.rate_at_end for p in result.trend]),
            Series(zh("As of {day}").format(day=result.as_of), [p.rate for p in result.trend]),
        ],
    )
    buildings = bar_chart(
        zh("Collection rate by building"),
        [g.label for g in by_building.groups],
        [
            Series(zh("Current collection rate"), [g.current_rate for g in by_building.groups]),
            Series(zh("Overall collection rate"), [g.overall_rate for g in by_building.groups]),
        ],
    )
    aged = bar_chart(
        zh("Overdue by how long (yuan)"),
        [zh("{days} days").format(days=a.days) for a in aging],
        [Series(zh("Overdue"), [Decimal(a.owed_fen) / 100 for a in aging])],
        fmt=lambda v: f"{v:,.0f}",
        label=lambda v: f"{v:,.2f}",
        top=None,
    )
    reasons = bar_chart(
        zh("Reasons unpaid (households)"),
        [r.label for r in result.reasons],
        [Series(zh("Households"), [r.households for r in result.reasons])],
        fmt=lambda v: f"{v:.0f}",
        label=str,
        top=None,
    )
    return {
        "estate": estate,
        "r": result,
        "t": result.total,
        "buildings": by_building.groups,
        "aging": aging,
        "reasons": result.reasons,
        "charts": {"trend": trend, "buildings": buildings, "aging": aged, "reasons": reasons},
        "rate": _rate,
        "money": format_money,
        "produced_at": produced_at.strftime("%Y-%m-%d %H:%M"),
        "late_fees": result.late_fees,
    }


def survey_context(report: SurveyReport, *, estate, produced_at: datetime) -> dict:
    """What the survey page shows: the figures as the JSON report has them, and the charts."""
    s = report.survey
    previous = report.compare.name if report.compare is not None else ""
    questions = interval_chart(
        zh("Mean score by question, with its 95% interval"),
        [
            Interval(
                d.name,
                _two(d.mean),
                _two(d.ci[0]) if d.ci else None,
                _two(d.ci[1]) if d.ci else None,
                _two(d.change.previous_mean) if d.change is not None else None,
            )
            for d in report.dimensions
        ],
        scale=s.scale,
        names=(s.name, previous),
    )
    rates = bar_chart(
        zh("Response rate by building"),
        [b.building for b in report.buildings],
        [Series(zh("Response rate"), [_percent(b.rate) for b in report.buildings])],
        label=lambda v: f"{v}%",
    )
    bands = bar_chart(
        zh("Collection rate by satisfaction band"),
        [b.label for b in report.by_band],
        [Series(zh("Collection rate"), [_percent(b.rate) for b in report.by_band])],
        label=lambda v: f"{v}%",
    )
    return {
        "estate": estate,
        "s": s,
        "report": report,
        "previous": previous,
        "charts": {"questions": questions, "rates": rates, "bands": bands},
        "f": fmt,
        "percent": percent,
        "money": format_money,
        "produced_at": produced_at.strftime("%Y-%m-%d %H:%M"),
    }


def _two(value: Fraction | None) -> Decimal | None:
    """A mean as the JSON report writes it: two places."""
    return None if value is None else Decimal(fmt(value))


def _percent(value: Fraction | None) -> Decimal | None:
    """A share as the JSON report writes it (``56.3%``), as the number 56.3."""
    text = percent(value)
    return None if value is None or not text.endswith("%") else Decimal(text[:-1])


def write_page(settings, template: str, context: dict, path: Path) -> None:
    """Render ``template`` through the lawful gate and write it to ``path``."""
    write_text(path, render(settings, template, context), option="--out")
