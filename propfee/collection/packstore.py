"""What the legal evidence pack reads about one unit: the unit, its bills as of a day, the fee
standard and its publications, who held it, and the late fees waived. It writes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def unit_by_code(conn: sqlite3.Connection, code: str):
    """(id, code, building, kind, area ×100, inner area ×100, delivered on, area basis) of
    the unit, None when there is no such unit."""
    return conn.execute(
        "SELECT id, code, building, kind, area_x100, inner_area_x100, delivered_on, area_basis "
        "FROM unit WHERE code = ?",
        (code,),
    ).fetchone()


def bills_as_of(conn: sqlite3.Connection, unit_id: int, day: str) -> list:
    """(bill, period, item name, covers from, covers to, due on, basis, payer, amount,
    adjusted, paid) of the unit's bills that began by ``day``, with the adjustments and
    allocations up to then, by due day."""
    return conn.execute(
        "SELECT b.id, b.period, f.name, b.covers_from, b.covers_to, b.due_on, b.basis, "
        "coalesce(p.name, ''), b.amount_fen, coalesce((SELECT sum(a.amount_fen) FROM adjustment a "
        "WHERE a.bill_id = b.id AND a.made_on <= ?2), 0), coalesce((SELECT sum(l.amount_fen) "
        "FROM allocation l WHERE l.bill_id = b.id AND l.allocated_on <= ?2), 0) FROM bill b "
        "JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ?1 AND b.covers_from <= ?2 ORDER BY b.due_on, b.id",
        (unit_id, day),
    ).fetchall()


def publications_by(conn: sqlite3.Connection, day: str) -> list:
    """(published on, content, recorded later, evidence) of every publication of the fee
    standard by ``day``."""
    return conn.execute(
        "SELECT published_on, content, recorded_later, evidence FROM publication "
        "WHERE published_on <= ? ORDER BY id",
        (day,),
    ).fetchall()


def price_history(conn: sqlite3.Connection) -> list:
    """(item code, name, basis, unit label, price ×10000, effective from, published on,
    recorded later) of every price, per item in order."""
    return conn.execute(
        "SELECT f.code, f.name, f.basis, f.unit_label, p.price_x10000, p.effective_from, "
        "p.published_on, coalesce(pb.recorded_later, 0) FROM fee_price p "
        "JOIN fee_item f ON f.id = p.fee_item_id "
        "LEFT JOIN publication pb ON pb.id = p.publication_id "
        "ORDER BY f.position, p.effective_from"
    ).fetchall()


def occupancy_history(conn: sqlite3.Connection, unit_id: int) -> list:
    """(role, name, kind, phones, id number, start, end, pays) of everyone who held the
    unit, oldest first."""
    return conn.execute(
        "SELECT o.role, p.name, p.kind, p.phones, p.id_number, o.start_on, o.end_on, o.pays "
        "FROM occupancy o JOIN party p ON p.id = o.party_id WHERE o.unit_id = ? "
        "ORDER BY o.start_on, o.id",
        (unit_id,),
    ).fetchall()


def developers_billed(conn: sqlite3.Connection, unit_id: int) -> Iterator:
    """(name, phones) of the developer parties the unit was billed to."""
    return conn.execute(
        "SELECT DISTINCT p.name, p.phones FROM bill b JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ? AND p.is_developer = 1",
        (unit_id,),
    )


def late_fee_adjustments(conn: sqlite3.Connection, unit_id: int, day: str) -> Iterator:
    """(fen,) of every adjustment of the unit's late-fee bills made by ``day``."""
    return conn.execute(
        "SELECT a.amount_fen FROM adjustment a JOIN late_fee l ON l.bill_id = a.bill_id "
        "JOIN bill b ON b.id = l.bill_id WHERE b.unit_id = ? AND a.made_on <= ?",
        (unit_id, day),
    )
