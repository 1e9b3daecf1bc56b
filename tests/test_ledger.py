"""Payments, allocation, credit, reversals, statements, the daily close and check."""

from datetime import date

import pytest

from propfee.config import DEFAULTS
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.payments import ledger
from propfee.store.db import transaction

from conftest import NOW, add_fee, estate, home, run, settings_replace


@pytest.fixture
def owing(conn, tmp_path):
    """1-1-101 owes Sep, Oct and Nov 2026, 200.00 each (80 m² at 2.50)."""
    estate(conn, tmp_path, [home("1-1-101", area="80"), home("1-1-102", area="80", owner="李四")])
    add_fee(conn)
    run(conn, "2026-09", "2026-10", "2026-11", as_of=date(2026, 11, 1))
    return conn


def pay(
    conn,
    unit,
    fen,
    *,
    channel="cash",
    ref=None,
    day=date(2026, 11, 20),
    bills=None,
    settings=DEFAULTS,
):
    with transaction(conn):
        return ledger.record_payment(
            conn,
            unit,
            fen,
            channel=channel,
            ref=ref,
            paid_on=day,
            as_of=day,
            now=NOW,
            settings=settings,
            bill_ids=bills,
        )


def owed(conn, unit_id=1):
    return [(b.period, b.outstanding_fen) for b in ledger.unit_bills(conn, unit_id)]


def test_oldest_due_first_partial_then_credit_that_pays_the_next_bill(owing):
    first = pay(owing, "1-1-101", 45000)
    assert [(a.period, a.amount_fen) for a in first.allocations] == [
        ("2026-09", 20000),
        ("2026-10", 20000),
        ("2026-11", 5000),
    ]
    assert owed(owing) == [("2026-09", 0), ("2026-10", 0), ("2026-11", 15000)]
    assert first.credit_fen == 0
    second = pay(owing, "1-1-101", 50000)
    assert second.credit_fen == 35000
    assert ledger.credit_of(owing, 1) == 35000
    report = run(owing, "2026-12", as_of=date(2026, 12, 1))
    assert report.credit_applied == 20000  # December, from 1-1-101's credit
    assert owed(owing)[-1] == ("2026-12", 0)
    assert ledger.credit_of(owing, 1) == 15000
    assert ledger.check(owing) == []


def bill_id(conn, unit, period):
    return conn.execute(
        "SELECT b.id FROM bill b JOIN unit u ON u.id = b.unit_id WHERE u.code = ? AND b.period = ?",
        (unit, period),
    ).fetchone()[0]


def test_the_payers_choice_of_bills_is_honoured(owing):
    payment = pay(owing, "1-1-101", 20000, bills=[bill_id(owing, "1-1-101", "2026-11")])
    assert [(a.period, a.amount_fen) for a in payment.allocations] == [("2026-11", 20000)]
    assert owed(owing) == [("2026-09", 20000), ("2026-10", 20000), ("2026-11", 0)]
    with pytest.raises(InvalidValue, match="不是 1-1-101 的账单"):
        pay(owing, "1-1-101", 100, bills=[bill_id(owing, "1-1-102", "2026-09")])


def test_the_same_transaction_twice_is_one_payment(owing):
    first = pay(owing, "1-1-101", 45000, channel="wechat", ref="4200001")
    again = pay(owing, "1-1-101", 45000, channel="wechat", ref="4200001")
    assert again.already and again.receipt_no == first.receipt_no
    assert owing.execute("SELECT count(*) FROM payment").fetchone()[0] == 1
    with pytest.raises(PropfeeError, match="已记录为收据 2026-000001"):
        pay(owing, "1-1-101", 45001, channel="wechat", ref="4200001")
    with pytest.raises(PropfeeError, match="已记录为收据"):
        pay(owing, "1-1-102", 45000, channel="wechat", ref="4200001")


def test_reversing_reopens_exactly_the_bills_it_paid(owing):
    pay(owing, "1-1-101", 20000)  # September
    second = pay(owing, "1-1-101", 30000, channel="wechat", ref="W2")  # October + half November
    with transaction(owing):
        result = ledger.reverse_payment(
            owing, second.receipt_no, reason="重复收款", on=date(2026, 11, 21), now=NOW
        )
    assert result.reopened == [bill_id(owing, "1-1-101", p) for p in ("2026-10", "2026-11")]
    assert owed(owing) == [("2026-09", 0), ("2026-10", 20000), ("2026-11", 20000)]
    assert owing.execute("SELECT count(*) FROM payment").fetchone()[0] == 2  # nothing deleted
    with pytest.raises(PropfeeError, match=r"已于 .* 冲正"), transaction(owing):
        ledger.reverse_payment(
            owing, second.receipt_no, reason="again", on=date(2026, 11, 21), now=NOW
        )
    assert ledger.check(owing) == []


def test_receipt_numbers_are_gapless_per_year(owing):
    receipts = [pay(owing, "1-1-101", 100).receipt_no for _ in range(3)]
    assert receipts == ["2026-000001", "2026-000002", "2026-000003"]
    next_year = pay(owing, "1-1-101", 100, day=date(2027, 1, 2))
    assert next_year.receipt_no == "2027-000001"
    with pytest.raises(InvalidValue):  # a failed payment takes no number
        pay(owing, "1-1-101", 0)
    assert pay(owing, "1-1-101", 100, day=date(2027, 1, 3)).receipt_no == "2027-000002"


@pytest.mark.parametrize(
    ("unit", "fen", "kwargs", "error", "message"),
    [
        ("1-1-101", 0, {}, InvalidValue, "金额必须大于零"),
        ("1-1-101", -100, {}, InvalidValue, "金额必须大于零"),
        ("9-9-999", 100, {}, NotFound, "没有房号"),
        ("1-1-101", 100, {"channel": "wechat"}, InvalidValue, "必须给出 --ref"),
        ("1-1-101", 100, {"channel": "bitcoin"}, InvalidValue, "--channel"),
    ],
)
def test_bad_payments(owing, unit, fen, kwargs, error, message):
    with pytest.raises(error, match=message):
        pay(owing, unit, fen, **kwargs)


def test_a_future_date_is_refused(owing):
    with pytest.raises(InvalidValue, match="将来的日期"), transaction(owing):
        ledger.record_payment(
            owing,
            "1-1-101",
            100,
            channel="cash",
            ref=None,
            paid_on=date(2026, 11, 21),
            as_of=date(2026, 11, 20),
            now=NOW,
            settings=DEFAULTS,
        )


def test_paying_a_year_ahead_earns_the_prepayment_discount(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="80")])
    add_fee(conn)
    run(conn, *[f"2027-{m:02d}" for m in range(1, 13)], as_of=date(2026, 12, 20))
    settings = settings_replace(prepay_months=12, prepay_discount="0.05")
    payment = pay(conn, "1-1-101", 228000, day=date(2026, 12, 20), settings=settings)
    assert payment.discount_fen == 12000  # 5% of 12 × 200.00
    assert payment.credit_fen == 0  # 12 months at 190.00
    assert all(left == 0 for _, left in owed(conn))
    assert ledger.check(conn) == []


def test_the_statement_closes_on_what_units_show_says_is_owed(owing):
    pay(owing, "1-1-101", 45000, day=date(2026, 11, 5))
    pay(owing, "1-1-101", 5000, channel="wechat", ref="W9", day=date(2026, 11, 20))
    with transaction(owing):
        ledger.reverse_payment(owing, "2026-000002", reason="退款", on=date(2026, 11, 21), now=NOW)
    statement = ledger.statement(owing, "1-1-101")
    assert statement.owed_fen == sum(b.outstanding_fen for b in ledger.unit_bills(owing, 1))
    assert statement.owed_fen == 15000 and statement.credit_fen == 0
    assert [line.kind for line in statement.lines] == [
        "bill",
        "bill",
        "bill",
        "payment",
        "payment",
        "reversal",
    ]
    assert statement.lines[-1].balance_fen == 15000
    late = ledger.statement(owing, "1-1-101", first=date(2026, 11, 1))
    assert late.opening_balance_fen == 40000  # September and October
    assert next(line.kind for line in late.lines) == "bill"


def test_the_daily_close_adds_up(owing):
    pay(owing, "1-1-101", 10000, day=date(2026, 11, 20))
    pay(owing, "1-1-102", 20000, channel="wechat", ref="W1", day=date(2026, 11, 20))
    receipt = pay(owing, "1-1-102", 5000, day=date(2026, 11, 20)).receipt_no
    pay(owing, "1-1-101", 7000, day=date(2026, 11, 21))
    with transaction(owing):
        ledger.reverse_payment(owing, receipt, reason="错收", on=date(2026, 11, 20), now=NOW)
    close = ledger.daily_close(owing, date(2026, 11, 20))
    assert (close.received_fen, close.reversed_fen, close.net_fen) == (35000, 5000, 30000)
    assert close.by_channel == {"cash": [2, 10000], "wechat": [1, 20000]}
    assert sum(v[1] for v in close.by_cashier.values()) == close.net_fen


def test_check_finds_what_is_wrong(owing):
    assert ledger.check(owing) == []
    pay(owing, "1-1-101", 10000)
    owing.execute("UPDATE allocation SET amount_fen = 99999")
    owing.execute("UPDATE receipt_counter SET last = 5")
    owing.execute("UPDATE bill SET settled_on = '2026-01-01' WHERE id = 2")
    what = {p.what for p in ledger.check(owing)}
    assert {"bill", "payment", "receipts", "settled"} <= what


def test_check_names_receipts_not_numbered_as_propfee_numbers_them(owing):
    """A receipt number written by something other than propfee is a problem to name, not a
    reason for check to stop."""
    owing.execute(
        "INSERT INTO payment (receipt_no, unit_id, party_id, amount_fen, channel, paid_on, "
        "created_at) VALUES ('B000000001', 1, 1, 100, 'bank', '2026-11-01', '2026-11-01 09:00:00')"
    )
    receipts = [p.detail for p in ledger.check(owing) if p.what == "receipts"]
    assert receipts == ["收据编号不是 YYYY-NNNNNN 的格式：B000000001"]


def test_credit_is_applied_on_request(owing):
    pay(owing, "1-1-102", 100000)  # 1-1-102 pays far ahead
    assert ledger.credit_of(owing, 2) == 40000
    run(owing, "2026-12", as_of=date(2026, 12, 1))  # the bill run spends it
    assert ledger.credit_of(owing, 2) == 20000
    with transaction(owing):
        assert ledger.apply_credit(owing, on=date(2026, 12, 2), now=NOW) == 0
