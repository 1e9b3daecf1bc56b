"""The owners' service report (物业服务报告): what the company did and collected in a quarter, a
year or a month, to post in the estate or send to the owners' committee (公开透明).

It gathers figures other reports already make, with their definitions, and adds none of its
own to them:

- fees billed and collected by fee item, and 收缴率: the collection report
  (``reports.collection`` over the period's months, ``by="fee"``), as ``report collection
  --from P1 --to P2 --by fee`` gives them;
- complaints and repair or service requests opened in the period: received, resolved, resolved
  on time, visited and the visit scores, with the state of each case at the end of the as-of
  day, counted as ``complain report`` counts them (merged duplicates left out; a case counts as
  visited when its latest resolution was visited; the mean score is over every return visit);
- the satisfaction surveys held in the period (``survey_report``), each against the survey
  before it on the same scale;
- the notable works the office lists (``service_report_works``);
- under ``billing.fee_model = "酬金制"``, the money received in the period by the fee item it
  paid for. propfee keeps no record of spending: the report says so rather than show any.

Nothing in it names an owner: no names, phones, ID numbers or unit numbers (LEGAL rule 10).
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from fractions import Fraction

from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.core.periods import add_months, month_end
from propfee.insight import report_store, reports, service_report_store
from propfee.insight.reports import Collection
from propfee.insight.survey_records import SurveyInfo, surveys
from propfee.insight.survey_report import SurveyReport, survey_report
from propfee.insight.survey_stats import fmt
from propfee.service import complaints

QUARTERS = ("一", "二", "三", "四")
_YEAR = re.compile(r"(\d{4})\s*年?(?:度)?")
_QUARTER = re.compile(r"(\d{4})\s*(?:[-/ ]?\s*[Qq]\s*([1-4])|年?\s*第?\s*([一二三四1-4])\s*季度?)")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?|(\d{4})(\d{2})")
FIRST_YEAR, LAST_YEAR = 2000, 2099


@dataclass(frozen=True)
class Span:
    """A report period: its name as given back (``2026Q4``, ``2026``, ``2026-11``), its kind
    (quarter, year, month), its first and last day, and its Chinese title."""

    name: str
    kind: str
    first: date
    last: date
    title: str  # 2026年第四季度, 2026年度, 2026年11月

    @property
    def first_month(self) -> date:
        return self.first

    @property
    def last_month(self) -> date:
        return self.last.replace(day=1)


def parse_span(text: str) -> Span:
    """``2026Q4`` (``2026-Q4``, ``2026年第四季度``), ``2026`` (``2026年``) or ``2026-11``
    (``2026年11月``, ``202611``) to the period it names; anything else is refused."""
    raw = (text or "").strip()
    found = _QUARTER.fullmatch(raw)
    if found:
        year = _year(found[1], text)
        quarter = int(found[2]) if found[2] else _quarter_number(found[3])
        first = date(year, 3 * quarter - 2, 1)
        return Span(
            f"{year}Q{quarter}",
            "quarter",
            first,
            month_end(add_months(first, 2)),
            f"{year}年第{QUARTERS[quarter - 1]}季度",
        )
    found = _YEAR.fullmatch(raw)
    if found:
        year = _year(found[1], text)
        return Span(str(year), "year", date(year, 1, 1), date(year, 12, 31), f"{year}年度")
    found = _MONTH.fullmatch(raw)
    if found:
        year = _year(found[1] or found[3], text)
        month = int(found[2] or found[4])
        if 1 <= month <= 12:
            first = date(year, month, 1)
            return Span(
                f"{year}-{month:02d}", "month", first, month_end(first), f"{year}年{month}月"
            )
    raise InvalidValue(_not_a_period(text))


def _not_a_period(text: str) -> str:
    return _(
        "{value!r} is not a report period: give a quarter (2026Q4), a year (2026) or a month "
        "(2026-11)"
    ).format(value=text)


def _year(digits: str, text: str) -> int:
    year = int(digits)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidValue(_not_a_period(text))
    return year


def _quarter_number(word: str) -> int:
    return QUARTERS.index(word) + 1 if word in QUARTERS else int(word)


def check_span(span: Span, as_of: date) -> None:
    """A period that has not begun by the as-of day has nothing to report."""
    if span.first > as_of:
        raise InvalidValue(
            _("the period {period} begins after the as-of day {day}: nothing to report yet").format(
                period=span.name, day=as_of
            )
        )


# ---------------------------------------------------------------- complaints and requests

CASE_KINDS = {"complaint": N_("Complaints"), "request": N_("Repair and service requests")}


@dataclass
class CaseFigures:
    """The cases of one kind (or all) opened in the period, as of the end of the as-of day."""

    kind: str  # complaint, request, total
    received: int = 0
    resolved: int = 0
    on_time: int = 0
    visited: int = 0
    still_open: int = 0  # not yet resolved
    overdue: int = 0  # not yet resolved and past the deadline
    scores: list[int] = field(default_factory=list)  # every return visit's score

    @property
    def on_time_rate(self):
        return reports.percent(self.on_time, self.resolved)

    @property
    def visit_rate(self):
        return reports.percent(self.visited, self.resolved)

    @property
    def mean_score(self) -> Fraction | None:
        return Fraction(sum(self.scores), len(self.scores)) if self.scores else None

    def distribution(self) -> dict[int, int]:
        counts = Counter(self.scores)
        return {score: counts.get(score, 0) for score in range(1, 6)}


@dataclass
class Cases:
    at: datetime
    kinds: list[CaseFigures]
    total: CaseFigures
    by_category: list[tuple[str, int]]  # (category as stored, cases), most first
    mean_hours: float | None  # working hours from opening to resolution, as complain report


def case_figures(conn: sqlite3.Connection, span: Span, as_of: date, settings) -> Cases:
    """The complaints and requests opened from the period's first day to its last (or the
    as-of day), each as it stood at the end of the as-of day."""
    at = datetime.combine(as_of, time(23, 59, 59))
    until = min(span.last, as_of)
    found = [
        c
        for c in complaints.cases(conn, at=at, since=span.first, until=until)
        if c.state != "merged"
    ]
    per_kind = {kind: CaseFigures(kind) for kind in CASE_KINDS}
    total = CaseFigures("total")
    for case in found:
        for figures in (per_kind.setdefault(case.kind, CaseFigures(case.kind)), total):
            _count(figures, case, at)
    summary = complaints.report(conn, at=at, settings=settings, since=span.first, until=until)
    return Cases(
        at,
        list(per_kind.values()),
        total,
        list(Counter(c.category for c in found).most_common()),
        summary.mean_hours,
    )


def _count(figures: CaseFigures, case: complaints.Case, at: datetime) -> None:
    figures.received += 1
    if case.resolved_at is not None:
        figures.resolved += 1
        figures.on_time += bool(case.on_time)
        figures.visited += case.visited_at is not None
    else:
        figures.still_open += 1
        figures.overdue += case.overdue(at)
    figures.scores += [e.score for e in case.events if e.action == "visit" and e.score]


# ---------------------------------------------------------------- surveys


@dataclass
class SurveyFigures:
    report: SurveyReport

    @property
    def survey(self) -> SurveyInfo:
        return self.report.survey


def period_surveys(
    conn: sqlite3.Connection, span: Span, as_of: date, settings, at: datetime
) -> list[SurveyFigures]:
    """The surveys held in the period (up to the as-of day), oldest first, each against the
    survey before it on the same scale, if there is one."""
    every = surveys(conn)  # latest first
    last = min(span.last, as_of).isoformat()
    held = [s for s in every if span.first.isoformat() <= s.held_on <= last]
    found = []
    for survey in reversed(held):
        before = next(
            (
                s
                for s in every
                if s.held_on < survey.held_on and s.scale == survey.scale and s.id != survey.id
            ),
            None,
        )
        found.append(
            SurveyFigures(
                survey_report(
                    conn,
                    name=survey.name,
                    compare=before.name if before else None,
                    settings=settings,
                    at=at,
                )
            )
        )
    return found


# ---------------------------------------------------------------- income under 酬金制


@dataclass(frozen=True)
class IncomeLine:
    code: str
    name: str
    fen: int


@dataclass(frozen=True)
class Income:
    """The money received from the period's first day to its last (or the as-of day), not
    reversed by the as-of day, by the fee item it paid for; what is not yet applied to a bill
    is held as advance payment (预收款)."""

    first: str
    last: str
    payments: int
    total_fen: int
    lines: list[IncomeLine]

    @property
    def allocated_fen(self) -> int:
        return sum(line.fen for line in self.lines)

    @property
    def unallocated_fen(self) -> int:
        return self.total_fen - self.allocated_fen


def income(conn: sqlite3.Connection, span: Span, as_of: date) -> Income:
    first, last, day = span.first.isoformat(), min(span.last, as_of).isoformat(), as_of.isoformat()
    payments, total = service_report_store.received_total(conn, first, last, day)
    lines = [
        IncomeLine(code, name, int(fen))
        for code, name, _position, fen in service_report_store.received_by_item(
            conn, first, last, day
        )
        if fen
    ]
    return Income(first, last, payments, total, lines)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Work:
    """One notable work the office lists: its day and what was done."""

    day: date
    text: str


@dataclass
class ServiceReport:
    span: Span
    as_of: date
    fee_model: str
    collection: Collection
    fee_names: dict[str, str]  # fee item code -> its name
    cases: Cases
    surveys: list[SurveyFigures]
    works: list[Work]
    income: Income | None  # only under 酬金制

    @property
    def complete(self) -> bool:
        """Whether the period had ended by the as-of day."""
        return self.span.last <= self.as_of


def service_report(
    conn: sqlite3.Connection,
    span: Span,
    *,
    as_of: date,
    settings,
    works: list[Work],
) -> ServiceReport:
    """The owners' service report for ``span`` as of ``as_of``."""
    check_span(span, as_of)
    at = datetime.combine(as_of, time(23, 59, 59))
    collection = reports.collection(
        conn, first=span.first_month, last=span.last_month, as_of=as_of, by="fee"
    )
    fee_model = settings.billing.fee_model
    return ServiceReport(
        span,
        as_of,
        fee_model,
        collection,
        {code: name for code, name, _position in report_store.fee_items(conn)},
        case_figures(conn, span, as_of, settings),
        period_surveys(conn, span, as_of, settings, at),
        sorted(works, key=lambda w: w.day),
        income(conn, span, as_of) if fee_model == "酬金制" else None,
    )


def mean_text(value: Fraction | None) -> str:
    """A mean score to two places (``4.50``), ``—`` for none (as the survey report)."""
    return fmt(value)
