"""Reads behind the readable export (``insight.readable``): one query per sheet, joined so that
each row names its unit by 房号 and its people by name, never by an internal id. A sheet that
grows with the estate (units) or its history (bills, payments) is streamed (``pg.stream``): on a
server too, its rows are never all held."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from propfee.store import pg


def units(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(房号, 楼栋, 单元, 房间, 楼层, kind, area×100, inner area×100, delivered, vacant, owners,
    owners' phones, tenants) of every unit, in the order they were made."""
    return pg.stream(
        conn,
        "SELECT u.code, u.building, u.entrance, u.room, u.floor, u.kind, u.area_x100, "
        "u.inner_area_x100, u.delivered_on, u.vacant, "
        "(SELECT group_concat(p.name, '、') FROM occupancy o JOIN party p ON p.id = o.party_id "
        " WHERE o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL), "
        "(SELECT group_concat(p.phones, '/') FROM occupancy o JOIN party p ON p.id = o.party_id "
        " WHERE o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL AND p.phones != ''), "
        "(SELECT group_concat(p.name, '、') FROM occupancy o JOIN party p ON p.id = o.party_id "
        " WHERE o.unit_id = u.id AND o.role = 'tenant' AND o.end_on IS NULL) "
        "FROM unit u ORDER BY u.id",
    )


def fee_items(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(code, name, basis, cycle, due day) of every fee item, in the order staff set."""
    return conn.execute(
        "SELECT code, name, basis, cycle, due_day FROM fee_item ORDER BY position, id"
    )


def bills(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(房号, period, fee item name, from, to, due, basis text, payer, amount, adjusted, paid)
    of every bill, by unit and period."""
    return pg.stream(
        conn,
        "SELECT u.code, b.period, f.name, b.covers_from, b.covers_to, b.due_on, b.basis, "
        "coalesce(p.name, ''), b.amount_fen, "
        "coalesce((SELECT sum(a.amount_fen) FROM adjustment a WHERE a.bill_id = b.id), 0), "
        "coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = b.id), 0) "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        "LEFT JOIN party p ON p.id = b.party_id ORDER BY b.unit_id, b.period, b.seq, b.id",
    )


def payments(conn: sqlite3.Connection) -> Iterator[tuple]:
    """(receipt no., paid on, 房号, payer name, amount, channel, reversed on) of every
    payment, in the order received."""
    return pg.stream(
        conn,
        "SELECT y.receipt_no, y.paid_on, coalesce(u.code, ''), "
        "coalesce(nullif(y.payer, ''), p.name, ''), y.amount_fen, y.channel, "
        "(SELECT min(r.reversed_on) FROM reversal r WHERE r.payment_id = y.id) "
        "FROM payment y LEFT JOIN unit u ON u.id = y.unit_id "
        "LEFT JOIN party p ON p.id = y.party_id ORDER BY y.paid_on, y.id",
    )
