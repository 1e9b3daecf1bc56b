"""The survey analysis as an .xlsx workbook (through ``files.workbook``): the summary, each
question with a bar chart of the means, response rates by building, satisfaction by payment
(with a chart) and collection by satisfaction, the return-visit list and the comments' phrases.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from propfee.core.i18n import _
from propfee.core.money import fen_to_decimal
from propfee.core.privacy import mask_phones
from propfee.files import workbook
from propfee.files.workbook import COUNT, MONEY, NUMBER, RATE, TALLY, Chart, Table, Title, Typed
from propfee.insight.survey_report import SurveyReport
from propfee.insight.survey_stats import fmt


def write_workbook(
    path: Path, report: SurveyReport, title: Title | None = None, *, mask: bool = True
) -> None:
    """The report as an .xlsx with a bar chart of the questions and of satisfaction by
    payment; written under a temporary name and renamed. Phones masked unless not ``mask``."""
    s = report.survey
    title = title or Title("", "")
    title = Title(
        title.estate,
        _("{name} satisfaction survey analysis").format(name=s.name),
        "",
        date.fromisoformat(s.held_on),
        title.produced_at,
    )
    comments = _("Comments mentioning it")
    workbook.write_book(
        path,
        title,
        [
            _summary_sheet(report),
            _dimension_sheet(report),
            _building_sheet(report),
            _payment_sheet(report),
            _band_sheet(report),
            _follow_up_sheet(report, mask=mask),
            Table(
                _("Comment keywords"),
                [_("Word"), comments],
                [list(p) for p in report.phrases],
                kinds={comments: COUNT},
                totals=False,
            ),
        ],
    )


def _number(value: Fraction | None, places: int = 2):
    return None if value is None else Decimal(fmt(value, places))


def _rate(value: Fraction | None):
    """A share as a fraction (0.562), shown as a percentage."""
    return None if value is None else Decimal(fmt(value, 4))


def _summary_sheet(report: SurveyReport) -> Table:
    s = report.survey
    summary = [
        [_("Survey"), s.name],
        [_("Survey day"), Typed(date.fromisoformat(s.held_on), workbook.DATE)],
        [_("Scale"), _("{scale}-point scale").format(scale=s.scale)],
        [_("Valid responses"), Typed(report.responses, COUNT)],
        [_("Anonymous responses"), Typed(report.anonymous, COUNT)],
        [_("Response rate"), Typed(_rate(report.total.rate), RATE)],
        [_("Satisfaction index (0–100)"), _number(report.index, 1)],
        [_("Net promoter score (NPS)"), _number(report.nps, 1)],
    ]
    if report.compare is not None:
        summary.append(
            [
                _("Previous index ({name})").format(name=report.compare.name),
                _number(report.previous_index, 1),
            ]
        )
    value = _("Value")
    return Table(_("Summary"), [_("Item"), value], summary, kinds={value: NUMBER}, totals=False)


def _dimension_sheet(report: SurveyReport) -> Table:
    """Each question's figures, with a bar chart of the means."""
    s = report.survey
    scores = list(range(1, s.scale + 1))
    question, answers, mean = _("Question"), _("Number of answers"), _("Mean score")
    low, high = _("95% confidence lower bound"), _("95% confidence upper bound")
    previous, change, satisfied = (
        _("Previous mean"),
        _("Change since last time"),
        _("Share satisfied"),
    )
    score_headers = [_("{n} points").format(n=n) for n in scores]
    headers = (
        [question, answers, mean, satisfied, low, high, _("Weight")]
        + ([previous, change, _("Verdict")] if report.compare else [])
        + score_headers
    )
    rows = [
        [
            d.name,
            d.answers,
            _number(d.mean),
            _rate(d.satisfied),
            _number(d.ci[0]) if d.ci else None,
            _number(d.ci[1]) if d.ci else None,
            d.weight,
        ]
        + (
            [
                _number(d.change.previous_mean) if d.change else None,
                _number(d.change.delta) if d.change else None,
                d.change.statement if d.change else "",
            ]
            if report.compare
            else []
        )
        + [d.distribution.get(n, 0) for n in scores]
        for d in report.dimensions
    ]
    kinds = {h: NUMBER for h in (mean, low, high, previous, change, _("Weight"))}
    kinds |= {answers: COUNT, satisfied: RATE}
    kinds |= {h: COUNT for h in score_headers}
    chart = Chart(
        "barh",
        title=_("Mean score by question"),
        categories=question,
        series=[mean],
        y_title=_("Mean score ({scale}-point scale)").format(scale=s.scale),
        y_min=0,
        y_max=s.scale,
        legend=False,
        anchor=f"A{workbook.HEADER_ROW + len(rows) + 3}",
    )
    return Table(
        _("Satisfaction by question"), headers, rows, kinds=kinds, totals=False, charts=[chart]
    )


def _building_sheet(report: SurveyReport) -> Table:
    responded, occupied = _("Households responding"), _("Households living there")
    rate, mean = _("Response rate"), _("Mean score")
    return Table(
        _("Response rate by building"),
        [_("Building"), responded, occupied, rate, mean],
        [
            [b.building, b.respondents, b.occupied, _rate(b.rate), _number(b.mean)]
            for b in [*report.buildings, report.total]
        ],
        kinds={responded: COUNT, occupied: COUNT, rate: RATE, mean: NUMBER},
        totals=False,  # the last line is the estate's already
    )


def _payment_sheet(report: SurveyReport) -> Table:
    """Satisfaction by payment, with a chart."""
    status, households, mean = _("Payment status"), _("Households"), _("Mean satisfaction")
    chart = Chart(
        "bar",
        title=_("Payment status and satisfaction"),
        categories=status,
        series=[mean],
        y_title=_("Mean score"),
        legend=False,
    )
    return Table(
        _("Satisfaction and payment"),
        [status, households, mean],
        [[g.label, g.units, _number(g.mean)] for g in report.by_payment],
        kinds={households: TALLY, mean: NUMBER},
        charts=[chart],
    )


def _band_sheet(report: SurveyReport) -> Table:
    """Collection by satisfaction band."""
    households, rate = _("Households"), _("Collection rate")
    due, collected = _("Due (as of the survey day)"), _("Collected (as of the survey day)")
    return Table(
        _("Satisfaction and collection"),
        [_("Satisfaction band"), households, due, collected, rate],
        [
            [
                band.label,
                band.units,
                fen_to_decimal(band.due_fen),
                fen_to_decimal(band.collected_fen),
                _rate(band.rate),
            ]
            for band in report.by_band
        ],
        kinds={households: TALLY, due: MONEY, collected: MONEY, rate: RATE},
    )


def _follow_up_sheet(report: SurveyReport, *, mask: bool) -> Table:
    unit, mean, phone = _("Unit"), _("Mean score"), _("Phone")
    return Table(
        _("Return visits"),
        [
            unit,
            _("Building"),
            _("Owner"),
            phone,
            _("Low scores"),
            mean,
            _("Comments"),
            _("Open complaints"),
        ],
        [
            [
                f.unit,
                f.building,
                f.owner,
                mask_phones(f.phone) if mask else f.phone,
                "、".join(
                    _("{question} {score} points").format(question=d, score=v)
                    for d, v in f.low_scores.items()
                ),
                _number(f.mean),
                f.comment,
                "；".join(f.complaints),
            ]
            for f in report.follow_up
        ],
        kinds={unit: workbook.CODE, phone: workbook.CODE, mean: NUMBER},
        totals=False,
    )
