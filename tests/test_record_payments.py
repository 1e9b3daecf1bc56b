"""Many payments recorded at once (payments.many.record_payments) write exactly what as many
calls of ledger.record_payment write — receipts, ids, payers, allocations, settled days,
counted changes — on both engines, in a handful of statements."""

from __future__ import annotations

from datetime import date

import pytest

from propfee.config import DEFAULTS
from propfee.core.errors import NotFound
from propfee.payments import ledger, many
from propfee.store import audit, db, pg

from conftest import NOW, add_fee, estate, home, run

TABLES = ("payment", "allocation", "bill", "receipt_counter", "party")


def _payments() -> list[many.NewPayment]:
    day = date
    return [
        # a year's turn: receipts of 2025 and of 2026, each numbered from its own counter
        many.NewPayment("1-1-101", 22338, "wechat", "W1", day(2025, 12, 20), day(2025, 12, 20)),
        many.NewPayment("1-1-102", 10000, "cash", None, day(2025, 12, 28), day(2025, 12, 28),
                        cashier=" 李娜 "),
        many.NewPayment("1-1-101", 30000, "alipay", "A1", day(2026, 1, 5), day(2026, 1, 5)),
        many.NewPayment("1-1-102", 190000, "bank", "B1", day(2026, 2, 1), day(2026, 2, 2),
                        note="多缴"),  # more than owed: the rest stays as credit
        many.NewPayment("9-9-901", 5000, "cash", None, day(2026, 2, 3), day(2026, 2, 3)),
        many.NewPayment("1-1-101", 1, "cash", None, day(2026, 2, 3), day(2026, 2, 3)),
    ]  # fmt: skip


def _estate(conn, tmp_path) -> None:
    estate(
        conn,
        tmp_path,
        [
            home("1-1-101"),
            home("1-1-102", area="120", owner="李四"),
            home("9-9-901", owner="", delivered=""),  # the developer's: not delivered
        ],
        as_of=date(2025, 10, 1),
    )
    add_fee(conn)
    run(conn, "2025-11", "2025-12", "2026-01", "2026-02", as_of=date(2026, 2, 1))


def _rows(conn) -> dict[str, list[tuple]]:
    return {
        t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()]
        for t in TABLES
    }


def _one_by_one(conn, payments) -> None:
    for p in payments:
        ledger.record_payment(
            conn,
            p.unit_code,
            p.amount_fen,
            channel=p.channel,
            ref=p.ref,
            paid_on=p.paid_on,
            as_of=p.as_of,
            now=NOW,
            settings=DEFAULTS,
            cashier=p.cashier,
            note=p.note,
        )


@pytest.fixture
def twin(engine, tmp_path, request):
    """A second database of the test's engine, for the one-by-one recording."""
    if engine == "pg":
        name = f"{request.node.name.lower()[:40]}_twin".replace("[", "_").replace("]", "")
        url = pg.shareable(request.getfixturevalue("pg_url"), name)
        with pg.open_server(url) as server:
            server.drop_schema()
        return url
    return str(tmp_path / "twin.db")


def test_a_batch_writes_what_one_payment_after_another_writes(conn, twin, tmp_path):
    other = db.connect(twin)
    try:
        for each in (conn, other):
            _estate(each, tmp_path)
        changes = []
        with db.transaction(other):
            before = audit._changes(other)
            _one_by_one(other, _payments())
            changes.append(audit._changes(other) - before)
        with db.transaction(conn):
            before = audit._changes(conn)
            receipts = many.record_payments(conn, _payments(), now=NOW, settings=DEFAULTS)
            changes.append(audit._changes(conn) - before)
        assert receipts == [
            "2025-000001", "2025-000002", "2026-000001", "2026-000002", "2026-000003",
            "2026-000004",
        ]  # fmt: skip
        assert _rows(conn) == _rows(other)
        assert changes[0] == changes[1]
        assert ledger.check(conn) == []
        credit = ledger.credit_of(conn, ledger.unit_id_of(conn, "1-1-102"))
        assert credit > 0  # the overpayment waits as credit, as one by one
    finally:
        other.close()


def test_a_reference_already_held_returns_its_receipt_and_records_nothing_new(conn, tmp_path):
    _estate(conn, tmp_path)
    first = _payments()[:1]
    with db.transaction(conn):
        assert many.record_payments(conn, first, now=NOW, settings=DEFAULTS) == ["2025-000001"]
    with db.transaction(conn):
        again = many.record_payments(conn, _payments()[:3], now=NOW, settings=DEFAULTS)
    assert again == ["2025-000001", "2025-000002", "2026-000001"]
    assert conn.execute("SELECT count(*) FROM payment").fetchone()[0] == 3


def test_an_unknown_unit_refuses_the_whole_batch(conn, tmp_path):
    _estate(conn, tmp_path)
    wrong = [*_payments()[:2], many.NewPayment("7-7-707", 100, "cash", None, date(2026, 1, 1),
                                               date(2026, 1, 1))]  # fmt: skip
    with pytest.raises(NotFound, match="7-7-707"), db.transaction(conn):
        many.record_payments(conn, wrong, now=NOW, settings=DEFAULTS)
    assert conn.execute("SELECT count(*) FROM payment").fetchone()[0] == 0


@pytest.fixture
def server_conn(pg_estate):
    """propfee's connection to an estate of this test's own on the session's server."""
    connection = db.connect(pg_estate)
    yield connection
    connection.close()


def test_a_batch_takes_a_few_statements_however_many_payments(server_conn, tmp_path):
    """On a server (where every statement is a round trip) 200 payments take a few
    statements, not a few per payment."""
    conn = server_conn
    _estate(conn, tmp_path)
    payments = [
        many.NewPayment("1-1-101", 100, "cash", None, date(2026, 1, 1), date(2026, 1, 1))
        for _ in range(200)
    ]
    ran = []
    execute = conn.raw.cursor

    def counting():
        ran.append(1)
        return execute()

    conn.raw.cursor = counting
    with db.transaction(conn):
        many.record_payments(conn, payments, now=NOW, settings=DEFAULTS)
    conn.raw.cursor = execute
    assert 0 < len(ran) < 30
