"""Reads and writes satisfaction surveys, their responses and scores, and reads what their
analysis looks up: the roster's units and households, current owners, what units owed and paid.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator

# ---------------------------------------------------------------- the roster, for reading a file


def unit_places(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(id, code, building, entrance, room) of every unit."""
    return conn.execute("SELECT id, code, building, entrance, room FROM unit")


# ---------------------------------------------------------------- surveys on record


def surveys_named_or_holding(conn: sqlite3.Connection, name: str, sha256: str) -> list[tuple]:
    """(name, sha256, held on, scale, dimensions as JSON) of the surveys named ``name`` or
    holding the file whose digest is ``sha256``."""
    return conn.execute(
        "SELECT name, sha256, held_on, scale, dimensions FROM survey WHERE name = ? OR sha256 = ?",
        (name, sha256),
    ).fetchall()


def insert_survey(conn: sqlite3.Connection, values: tuple) -> int:
    """Write a survey: (name, held on, scale, dimensions as JSON, source file, sha256,
    imported at); returns its id."""
    return conn.execute(
        "INSERT INTO survey (name, held_on, scale, dimensions, source, sha256, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        values,
    ).lastrowid


def next_response_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM survey_response").fetchone()[0]


def insert_responses(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Write responses with their ids: (id, survey id, sheet, row, unit id, recommend,
    comment) each, in one batch."""
    conn.executemany(
        "INSERT INTO survey_response (id, survey_id, sheet, row, unit_id, recommend, comment) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def insert_scores(conn: sqlite3.Connection, rows: list[tuple]) -> None:
    """Write scores: (response id, dimension, score) each."""
    conn.executemany(
        "INSERT INTO survey_score (response_id, dimension, score) VALUES (?, ?, ?)", rows
    )


def response_counts(conn: sqlite3.Connection, name: str) -> tuple[int, int, int]:
    """(responses, anonymous ones, units answering) of the survey named ``name``."""
    return conn.execute(
        "SELECT count(*), count(*) - count(r.unit_id), count(DISTINCT r.unit_id) "
        "FROM survey_response r JOIN survey s ON s.id = r.survey_id WHERE s.name = ?",
        (name,),
    ).fetchone()


def survey_rows(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(id, name, held on, scale, dimensions as JSON, source, imported at, responses) of every
    survey, latest first."""
    return conn.execute(
        "SELECT s.id, s.name, s.held_on, s.scale, s.dimensions, s.source, s.imported_at, "
        "(SELECT count(*) FROM survey_response r WHERE r.survey_id = s.id) FROM survey s "
        "ORDER BY s.held_on DESC, s.id DESC"
    )


# ---------------------------------------------------------------- the analysis


def responses_of(conn: sqlite3.Connection, survey_id: int) -> Iterator[tuple]:
    """(response id, unit id, unit code or '', building or '', recommend, comment) of a
    survey's responses, in order."""
    return conn.execute(
        "SELECT r.id, r.unit_id, coalesce(u.code, ''), coalesce(u.building, ''), "
        "r.recommend, r.comment FROM survey_response r LEFT JOIN unit u ON u.id = r.unit_id "
        "WHERE r.survey_id = ? ORDER BY r.id",
        (survey_id,),
    )


def scores_of(conn: sqlite3.Connection, survey_id: int) -> Iterator[tuple[int, str, int]]:
    """(response id, dimension, score) of a survey's scores."""
    return conn.execute(
        "SELECT s.response_id, s.dimension, s.score FROM survey_score s "
        "JOIN survey_response r ON r.id = s.response_id WHERE r.survey_id = ?",
        (survey_id,),
    )


def occupied_households(conn: sqlite3.Connection, day: str) -> dict[int, str]:
    """Unit id -> building of every home, shop or office with an owner or tenant on ``day``."""
    return dict(
        conn.execute(
            "SELECT u.id, u.building FROM unit u WHERE u.kind NOT IN ('parking', 'storage') "
            "AND EXISTS (SELECT 1 FROM occupancy o WHERE o.unit_id = u.id "
            "AND (o.start_on IS NULL OR o.start_on <= ?1) AND (o.end_on IS NULL OR o.end_on > ?1))",
            (day,),
        ).fetchall()
    )


def current_owners(conn: sqlite3.Connection) -> dict[int, tuple[str, str]]:
    """Unit id -> (name, phone numbers) of its current owner."""
    return {
        unit: (name, phones or "")
        for unit, name, phones in conn.execute(
            "SELECT o.unit_id, p.name, p.phones FROM occupancy o JOIN party p ON p.id = o.party_id "
            "WHERE o.role = 'owner' AND o.end_on IS NULL"
        )
    }


def due_and_paid(
    conn: sqlite3.Connection, day: str, unit_ids: Iterable[int]
) -> Iterator[tuple[int, int, int]]:
    """(unit id, due, paid) of the units' bills due by ``day``: amounts and adjustments made by
    the day, allocations dated by the day."""
    return conn.execute(
        "SELECT b.unit_id, sum(b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM "
        "adjustment a WHERE a.bill_id = b.id AND a.made_on <= ?1), 0)), "
        "sum(coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = b.id "
        "AND l.allocated_on <= ?1), 0)) FROM bill b WHERE b.due_on <= ?1 "
        "AND b.unit_id IN (SELECT value FROM json_each(?2)) GROUP BY b.unit_id",
        (day, json.dumps(sorted(unit_ids))),
    )
