"""The surveys on record — each one's name, day, scale, questions and responses — and the
households there were on a day, which response rates count against.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date

from propfee.core.errors import NotFound
from propfee.core.i18n import _
from propfee.insight import survey_store


@dataclass
class SurveyInfo:
    id: int
    name: str
    held_on: str
    scale: int
    dimensions: list[str]
    source: str
    imported_at: str
    responses: int


def surveys(conn: sqlite3.Connection) -> list[SurveyInfo]:
    """Every survey, latest first."""
    return [
        SurveyInfo(sid, name, on, sc, json.loads(dims), source, at, count)
        for sid, name, on, sc, dims, source, at, count in survey_store.survey_rows(conn)
    ]


def find_survey(conn: sqlite3.Connection, name: str | None) -> SurveyInfo:
    """The survey named, else the latest by its date."""
    found = surveys(conn)
    if not found:
        raise NotFound(_("no survey yet (import one with propfee survey import)"))
    if name is None:
        return found[0]
    for one in found:
        if one.name == name.strip():
            return one
    raise NotFound(
        _("no survey {name} (surveys: {names})").format(
            name=name, names=", ".join(s.name for s in found[:8])
        )
    )


def occupied_units(conn: sqlite3.Connection, on: date) -> dict[int, str]:
    """Unit id -> building of every home, shop or office with an owner or tenant on ``on``
    (parking spaces and storage rooms are not households and are left out)."""
    return survey_store.occupied_households(conn, on.isoformat())
