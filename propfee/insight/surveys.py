"""Satisfaction surveys (客户满意度调查): importing a questionnaire's answers as a record, and
the names the rest of propfee uses from the modules that read (survey_reading), list
(survey_records), analyse (survey_stats, survey_report) and write (survey_workbook) them.

A survey is a record: the same file imported again under its name changes nothing; another
file under a name already used is refused. Nothing is written unless the whole file is good.

Scores are whole numbers on a 1–5 or 1–10 scale; means and shares are exact fractions shown
to two places. Only the confidence interval and the test of a change use floating point
(the t distribution), rounded to two places.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from propfee.core.errors import InvalidValue, PropfeeError
from propfee.core.i18n import _
from propfee.insight import survey_store
from propfee.insight.survey_reading import (
    FIELDS,
    NOT_ANSWERED,
    SCORE_WORDS,
    YES_NO,
    SurveyFile,
    SurveyRow,
    dimension_name,
    read_survey,
)
from propfee.insight.survey_records import SurveyInfo, find_survey, occupied_units, surveys
from propfee.insight.survey_report import (
    BANDS,
    PAYMENT_GROUPS,
    PHRASES,
    BandCollection,
    BuildingRate,
    DimensionStat,
    FollowUp,
    PaymentGroup,
    SurveyReport,
    band_of,
    comment_words,
    common_phrases,
    satisfaction_index,
    survey_report,
)
from propfee.insight.survey_stats import (
    Change,
    confidence_interval,
    fmt,
    low,
    on_five,
    percent,
    ratio,
    satisfied,
    t_critical,
    t_two_sided_p,
    welch,
)
from propfee.insight.survey_workbook import write_workbook
from propfee.roster.units import natural_key

__all__ = [
    "BANDS",
    "FIELDS",
    "NOT_ANSWERED",
    "PAYMENT_GROUPS",
    "PHRASES",
    "SCORE_WORDS",
    "YES_NO",
    "BandCollection",
    "BuildingRate",
    "Change",
    "DimensionStat",
    "FollowUp",
    "ImportResult",
    "PaymentGroup",
    "SurveyExists",
    "SurveyFile",
    "SurveyInfo",
    "SurveyReport",
    "SurveyRow",
    "band_of",
    "comment_words",
    "common_phrases",
    "confidence_interval",
    "dimension_name",
    "find_survey",
    "fmt",
    "import_survey",
    "low",
    "occupied_units",
    "on_five",
    "percent",
    "ratio",
    "read_survey",
    "satisfaction_index",
    "satisfied",
    "survey_report",
    "surveys",
    "t_critical",
    "t_two_sided_p",
    "welch",
    "write_workbook",
]


@dataclass
class ImportResult:
    name: str
    held_on: str
    scale: int
    dimensions: list[str]
    responses: int
    anonymous: int
    units: int
    skipped: int
    unchanged: bool
    notices: list[str]
    dry_run: bool = False
    scale_detected: bool = True  # read from the answers rather than given with --scale

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "held_on": self.held_on,
            "scale": self.scale,
            "scale_detected": self.scale_detected,
            "dimensions": self.dimensions,
            "responses": self.responses,
            "anonymous": self.anonymous,
            "units": self.units,
            "skipped": self.skipped,
            "unchanged": self.unchanged,
            "notices": self.notices,
            "dry_run": self.dry_run,
            "errors": [],
        }


class SurveyExists(PropfeeError):
    """A survey name already holds another file's answers."""


def import_survey(
    conn: sqlite3.Connection,
    path: Path,
    *,
    name: str,
    held_on: date | None,
    scale: int | None,
    now: datetime,
    anonymous: bool = False,
) -> ImportResult:
    """Read a survey file and record it inside the caller's transaction. The same file
    under the same name again is a no-op; another file under a used name is refused."""
    name = name.strip()
    if not name:
        raise InvalidValue(_("--name must not be empty"))
    parsed = read_survey(conn, path, scale=scale, anonymous=anonymous)
    again = _imported_before(conn, path, parsed, name=name, held_on=held_on, scale=scale)
    if again is not None:
        return again
    day = held_on or parsed.held_on
    if day is None:
        raise InvalidValue(
            _("{file} has no date column: give the survey's day with --date").format(file=path.name)
        )
    if day > now.date():
        raise InvalidValue(_("--date {day} is in the future").format(day=day))
    notices = list(parsed.notices) + _outside_households(conn, parsed, day)
    _record(conn, parsed, name=name, day=day, now=now)
    count, anonymous, units = _counts(conn, name)
    return ImportResult(
        name,
        day.isoformat(),
        parsed.scale,
        parsed.dimensions,
        count,
        anonymous,
        units,
        parsed.skipped,
        False,
        notices,
        scale_detected=parsed.scale_detected,
    )


def _imported_before(
    conn: sqlite3.Connection,
    path: Path,
    parsed: SurveyFile,
    *,
    name: str,
    held_on: date | None,
    scale: int | None,
) -> ImportResult | None:
    """The survey as recorded when this file was imported under this name before; None when
    neither the name nor the file is used. Raises SurveyExists for another file under the
    name, or this file under another name."""
    existing = survey_store.surveys_named_or_holding(conn, name, parsed.sha256)
    for other, sha, on, sc, dims in existing:
        if other == name and sha == parsed.sha256:
            count, nameless, units = _counts(conn, name)
            notices = list(parsed.notices)
            if held_on is not None and held_on.isoformat() != on:
                notices.append(
                    _("--date {day} ignored: the survey was recorded with the day {on}").format(
                        day=held_on, on=on
                    )
                )
            if scale is not None and scale != sc:
                notices.append(
                    _("--scale {scale} ignored: the survey was recorded on {sc} points").format(
                        scale=scale, sc=sc
                    )
                )
            return ImportResult(
                name,
                on,
                sc,
                json.loads(dims),
                count,
                nameless,
                units,
                parsed.skipped,
                True,
                notices,
                scale_detected=parsed.scale_detected,
            )
    for other, _sha, *_rest in existing:
        if other == name:
            raise SurveyExists(
                _(
                    "survey {name} already holds the answers of another file; a survey is a "
                    "record and is not replaced — import this file under a new --name"
                ).format(name=name)
            )
        raise SurveyExists(
            _("{file} was already imported as survey {name}").format(file=path.name, name=other)
        )
    return None


def _outside_households(conn: sqlite3.Connection, parsed: SurveyFile, day: date) -> list[str]:
    """A notice of the answers from units that were not an occupied household on ``day``."""
    occupied = occupied_units(conn, day)
    outside = sorted(
        {r.unit for r in parsed.rows if r.unit_id is not None and r.unit_id not in occupied},
        key=natural_key,
    )
    if not outside:
        return []
    answers = sum(1 for r in parsed.rows if r.unit_id is not None and r.unit_id not in occupied)
    return [
        _(
            "{n} answers come from units that are not an occupied home, shop or office on {day} "
            "(parking, storage, unsold or empty: {units}); their scores count in the question "
            "means, but not in the response rates, building means, the payment tables or the "
            "return-visit list"
        ).format(
            n=answers, day=day, units="、".join(outside[:8]) + (" …" if len(outside) > 8 else "")
        )
    ]


def _record(
    conn: sqlite3.Connection, parsed: SurveyFile, *, name: str, day: date, now: datetime
) -> None:
    """Write the survey, each response and its scores."""
    stamp = now.isoformat(sep=" ", timespec="seconds")
    survey_id = survey_store.insert_survey(
        conn,
        (
            name,
            day.isoformat(),
            parsed.scale,
            json.dumps(parsed.dimensions, ensure_ascii=False),
            parsed.file,
            parsed.sha256,
            stamp,
        ),
    )
    first = survey_store.next_response_id(conn)  # the ids the rows would take one by one
    responses, scores = [], []
    for rid, row in enumerate(parsed.rows, start=first):
        responses.append(
            (rid, survey_id, row.sheet, row.row, row.unit_id, row.recommend, row.comment)
        )
        scores += [(rid, d, s) for d, s in row.scores.items()]
    survey_store.insert_responses(conn, responses)  # two batches, not two statements a row
    survey_store.insert_scores(conn, scores)


def _counts(conn, name: str) -> tuple[int, int, int]:
    return survey_store.response_counts(conn, name)
