"""The ledger: what each bill and unit owes, derived from bills, adjustments, payments and
allocations (never stored as a number that could drift).

    net         = bill amount + its adjustments
    paid        = its allocations (a reversal adds negative allocations)
    outstanding = net − paid
    credit      = a unit's payments (not reversed) − their allocations

``bill.settled_on`` caches the day a bill became fully paid, so that aging scans only open
bills; it is written in the same transaction as what settles it and re-derived by ``check``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BillBalance:
    bill_id: int
    amount_fen: int
    adjusted_fen: int
    paid_fen: int

    @property
    def net_fen(self) -> int:
        return self.amount_fen + self.adjusted_fen

    @property
    def outstanding_fen(self) -> int:
        return self.net_fen - self.paid_fen


_BALANCE_SQL = """
SELECT b.id, b.amount_fen,
       coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0),
       coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0)
FROM bill b
"""


def bill_balance(conn: sqlite3.Connection, bill_id: int) -> BillBalance | None:
    row = conn.execute(_BALANCE_SQL + " WHERE b.id = ?", (bill_id,)).fetchone()
    return BillBalance(*row) if row else None


def refresh_settled(conn: sqlite3.Connection, bill_ids: list[int], on: date) -> None:
    """Keep the settled-on cache true for these bills after something changed them."""
    for bill_id in bill_ids:
        balance = bill_balance(conn, bill_id)
        if balance is None:
            continue
        if balance.outstanding_fen <= 0:
            conn.execute(
                "UPDATE bill SET settled_on = coalesce(settled_on, ?) WHERE id = ?",
                (on.isoformat(), bill_id),
            )
        else:
            conn.execute("UPDATE bill SET settled_on = NULL WHERE id = ?", (bill_id,))


@dataclass(frozen=True)
class OpenBill:
    id: int
    unit_id: int
    unit: str
    item: str
    item_name: str
    party_id: int | None
    period: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    outstanding_fen: int
    basis: str


def open_bills(
    conn: sqlite3.Connection, *, unit_ids: list[int] | None = None, due_before: date | None = None
) -> list[OpenBill]:
    """Bills not yet fully paid, oldest due first, optionally for some units / due before a day."""
    where = ["b.settled_on IS NULL"]
    params: list[object] = []
    if unit_ids is not None:
        where.append(f"b.unit_id IN ({','.join('?' * len(unit_ids))})")
        params.extend(unit_ids)
    if due_before is not None:
        where.append("b.due_on < ?")
        params.append(due_before.isoformat())
    rows = conn.execute(
        "SELECT b.id, b.unit_id, u.code, f.code, f.name, b.party_id, b.period, b.covers_from, "
        "b.covers_to, b.due_on, b.amount_fen, "
        "b.amount_fen + coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0)"
        " - coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), b.basis "
        "FROM bill b JOIN unit u ON u.id = b.unit_id JOIN fee_item f ON f.id = b.fee_item_id "
        f"WHERE {' AND '.join(where)} ORDER BY b.due_on, f.position, b.id",
        params,
    ).fetchall()
    return [OpenBill(*row) for row in rows if row[11] > 0]


@dataclass(frozen=True)
class BillLine:
    id: int
    period: str
    item: str
    item_name: str
    covers_from: str
    covers_to: str
    due_on: str
    amount_fen: int
    adjusted_fen: int
    paid_fen: int
    settled_on: str | None
    party: str
    basis: str
    opening: bool

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen + self.adjusted_fen - self.paid_fen


def unit_bills(conn: sqlite3.Connection, unit_id: int) -> list[BillLine]:
    """A unit's bills, oldest first, with adjustments and payments applied."""
    rows = conn.execute(
        "SELECT b.id, b.period, f.code, f.name, b.covers_from, b.covers_to, b.due_on, "
        "b.amount_fen, coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id), 0), "
        "coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id), 0), "
        "b.settled_on, coalesce(p.name, ''), b.basis, b.opening "
        "FROM bill b JOIN fee_item f ON f.id = b.fee_item_id LEFT JOIN party p ON p.id = b.party_id "
        "WHERE b.unit_id = ? ORDER BY b.covers_from, f.position, b.id",
        (unit_id,),
    ).fetchall()
    return [BillLine(*row[:13], bool(row[13])) for row in rows]
