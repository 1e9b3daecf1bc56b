"""What a bill owes now — its amount, adjustments and allocations — and the cache of the day it
became fully paid (``bill.settled_on``), kept true by whatever moves a bill: an adjustment here
in billing, a payment or reversal in payments."""

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


# A bill's settled-on day is the day it became paid as of every later day: the latest day of
# anything that moved it (an allocation, an adjustment). A payment recorded late with an
# earlier date therefore never makes a bill look paid on a day it was not.
SETTLE_SQL = (
    "UPDATE bill SET settled_on = max(?1, coalesce((SELECT max(allocated_on) FROM allocation "
    "WHERE bill_id = ?2), ''), coalesce((SELECT max(made_on) FROM adjustment "
    "WHERE bill_id = ?2), '')) WHERE id = ?2"
)


def refresh_settled(conn: sqlite3.Connection, bill_ids: list[int], on: date) -> None:
    """Keep the settled-on cache true for these bills after something changed them."""
    for bill_id in bill_ids:
        balance = bill_balance(conn, bill_id)
        if balance is None:
            continue
        if balance.outstanding_fen <= 0:
            conn.execute(SETTLE_SQL, (on.isoformat(), bill_id))
        else:
            conn.execute("UPDATE bill SET settled_on = NULL WHERE id = ?", (bill_id,))
