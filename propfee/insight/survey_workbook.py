"""The survey analysis as an .xlsx workbook: the summary, each question with a bar chart of the
means, response rates by building, satisfaction by payment (with a chart) and collection by
satisfaction, the return-visit list and the comments' phrases.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from propfee.core.errors import PropfeeError
from propfee.core.money import fen_to_decimal
from propfee.files.tabular import column_letter
from propfee.files.writers import check_output, neutralise, save_workbook
from propfee.insight.survey_report import SurveyReport
from propfee.insight.survey_stats import fmt


def write_workbook(path: Path, report: SurveyReport) -> None:
    """The report as an .xlsx with a bar chart of the dimensions and of satisfaction by
    payment; written under a temporary name and renamed."""
    from openpyxl import Workbook  # heavy: loaded when needed
    from openpyxl.styles import Font

    if path.suffix.lower() != ".xlsx":
        raise PropfeeError(f"--out {path}: write an .xlsx file")
    check_output(path, "--out")
    book = _Book(Workbook(), Font(bold=True))
    _summary_sheet(book, report)
    _dimension_sheet(book, report)
    _building_sheet(book, report)
    _payment_sheet(book, report)
    _follow_up_sheet(book, report)
    book.sheet("意见关键词", ["词语", "提及条数"], [list(p) for p in report.phrases])
    save_workbook(book.wb, path)


def _number(value: Fraction | None, places: int = 2):
    return None if value is None else Decimal(fmt(value, places))


class _Book:
    """The workbook being written: sheets with a bold, frozen header row."""

    def __init__(self, wb, bold):
        self.wb = wb
        self.bold = bold
        wb.remove(wb.active)

    def sheet(self, title: str, headers: list[str], rows: list[list]):
        ws = self.wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = self.bold
        for row in rows:
            ws.append([neutralise(v) if isinstance(v, str) else v for v in row])
        for i, header in enumerate(headers):
            ws.column_dimensions[column_letter(i)].width = max(10, len(header) * 2 + 2)
        ws.freeze_panes = "A2"
        return ws


def _summary_sheet(book: _Book, report: SurveyReport) -> None:
    s = report.survey
    summary = [
        ["调查", s.name],
        ["调查日期", s.held_on],
        ["评分制", f"{s.scale}分制"],
        ["有效问卷", report.responses],
        ["匿名问卷", report.anonymous],
        ["参与率", _number(report.total.rate, 3)],
        ["满意度指数(0–100)", _number(report.index, 1)],
        ["净推荐值NPS", _number(report.nps, 1)],
    ]
    if report.compare is not None:
        summary.append([f"上期指数（{report.compare.name}）", _number(report.previous_index, 1)])
    ws = book.sheet("概况", ["项目", "数值"], summary)
    rate_row = 2 + [k for k, _ in summary].index("参与率")
    ws.cell(rate_row, 2).number_format = "0.0%"  # a share, shown as a percentage


def _dimension_sheet(book: _Book, report: SurveyReport) -> None:
    """Each question's figures, with a bar chart of the means."""
    from openpyxl.chart import (  # heavy: loaded when needed
        BarChart,
        Reference,
    )

    s = report.survey
    scores = list(range(1, s.scale + 1))
    ws = book.sheet(
        "各项满意度",
        ["项目", "回答数", "平均分", "满意率%", "95%置信下限", "95%置信上限", "权重"]
        + (["上期平均分", "变化", "判断"] if report.compare else [])
        + [f"{n}分" for n in scores],
        [
            [
                d.name,
                d.answers,
                _number(d.mean),
                _number(d.satisfied * 100 if d.satisfied is not None else None, 1),
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
        ],
    )
    if report.dimensions:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "各项平均分"
        chart.y_axis.title = f"平均分（{s.scale}分制）"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = s.scale
        rows = len(report.dimensions) + 1
        chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=rows), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=rows))
        chart.legend = None
        ws.add_chart(chart, f"A{rows + 3}")


def _building_sheet(book: _Book, report: SurveyReport) -> None:
    book.sheet(
        "楼栋参与率",
        ["楼栋", "参与户数", "在住户数", "参与率%", "平均分"],
        [
            [
                b.building,
                b.respondents,
                b.occupied,
                _number(b.rate * 100 if b.rate else b.rate, 1),
                _number(b.mean),
            ]
            for b in [*report.buildings, report.total]
        ],
    )


def _payment_sheet(book: _Book, report: SurveyReport) -> None:
    """Satisfaction by payment, with a chart, and below it collection by satisfaction band."""
    from openpyxl.chart import (  # heavy: loaded when needed
        BarChart,
        Reference,
    )

    ws = book.sheet(
        "满意度与缴费",
        ["缴费状态", "户数", "平均满意度"],
        [[g.label, g.units, _number(g.mean)] for g in report.by_payment],
    )
    chart = BarChart()
    chart.title = "缴费状态与满意度"
    chart.y_axis.title = "平均分"
    chart.add_data(
        Reference(ws, min_col=3, min_row=1, max_row=len(report.by_payment) + 1),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(report.by_payment) + 1))
    chart.legend = None
    ws.add_chart(chart, "E2")
    start = len(report.by_payment) + 3
    ws.cell(start, 1, "满意度分档").font = book.bold
    ws.cell(start, 2, "户数").font = book.bold
    ws.cell(start, 3, "应收(截至调查日)").font = book.bold
    ws.cell(start, 4, "实收(截至调查日)").font = book.bold
    ws.cell(start, 5, "收缴率%").font = book.bold
    for offset, band in enumerate(report.by_band, start=1):
        ws.cell(start + offset, 1, band.label)
        ws.cell(start + offset, 2, band.units)
        for col, fen in ((3, band.due_fen), (4, band.collected_fen)):
            cell = ws.cell(start + offset, col, fen_to_decimal(fen))
            cell.number_format = "#,##0.00"
        ws.cell(start + offset, 5, _number(band.rate * 100 if band.rate else band.rate, 1))


def _follow_up_sheet(book: _Book, report: SurveyReport) -> None:
    book.sheet(
        "回访名单",
        ["房号", "楼栋", "业主", "低分项", "平均分", "意见建议", "未办结投诉"],
        [
            [
                f.unit,
                f.building,
                f.owner,
                "、".join(f"{d}{v}分" for d, v in f.low_scores.items()),
                _number(f.mean),
                f.comment,
                "；".join(f.complaints),
            ]
            for f in report.follow_up
        ],
    )
