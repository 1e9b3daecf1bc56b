"""What a bill owes now — its amount, adjustments and allocations — and the cache of the day it
became fully paid (``bill.settled_on``), kept true by whatever moves a bill: an adjustment here
in billing, a payment or reversal in payments."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

import propfee.billing.store as store
from propfee.billing.store import SETTLE_SQL

__all__ = ["SETTLE_SQL", "BillBalance", "bill_balance", "refresh_settled"]


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


def bill_balance(conn: sqlite3.Connection, bill_id: int) -> BillBalance | None:
    row = store.balance_row(conn, bill_id)
    return BillBalance(*row) if row else None


def refresh_settled(conn: sqlite3.Connection, bill_ids: list[int], on: date) -> None:
    """Keep the settled-on cache true for these bills after something changed them: a bill
    fully paid is settled on the latest day anything moved it (see ``store.SETTLE_SQL``)."""
    for bill_id in bill_ids:
        balance = bill_balance(conn, bill_id)
        if balance is None:
            continue
        if balance.outstanding_fen <= 0:
            store.mark_settled(conn, bill_id, on.isoformat())
        else:
            store.clear_settled(conn, bill_id)
