"""Ledger invariants under any history of bills, payments, reversals, adjustments and credit.

The default profile runs a modest number of histories; HYPOTHESIS_PROFILE=thorough runs at
least 1,000:  HYPOTHESIS_PROFILE=thorough pytest tests/test_ledger_properties.py
"""

from datetime import date, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from propfee.billing import bills as bill_run
from propfee.billing import fees
from propfee.config import DEFAULTS
from propfee.core import periods
from propfee.core.errors import PropfeeError
from propfee.payments import ledger
from propfee.store import db

NOW = datetime(2026, 1, 1, 9, 0)
UNITS = ("1-1-101", "1-1-102", "2-1-201")


class Ledger(RuleBasedStateMachine):
    @initialize()
    def estate(self):
        self.conn = db.connect_scratch()
        conn = self.conn
        with db.transaction(conn):
            for number, (code, area) in enumerate(zip(UNITS, (8937, 12000, 10550), strict=True)):
                conn.execute(
                    "INSERT INTO unit (id, code, kind, area_x100, created_at, updated_at) "
                    "VALUES (?, ?, 'residential', ?, 'x', 'x')",
                    (number + 1, code, area),
                )
                conn.execute(
                    "INSERT INTO party (id, kind, name, created_at, updated_at) "
                    "VALUES (?, 'person', ?, 'x', 'x')",
                    (number + 1, f"业主{number}"),
                )
                conn.execute(
                    "INSERT INTO occupancy (unit_id, party_id, role, pays, created_at) "
                    "VALUES (?, ?, 'owner', 1, 'x')",
                    (number + 1, number + 1),
                )
            fees.add_item(
                conn,
                code="PROP",
                name="物业服务费",
                basis="area",
                price="2.45",
                kinds=["residential"],
                cycle="monthly",
                effective_from=date(2025, 1, 1),
                now=NOW,
            )
            fees.add_item(
                conn,
                code="PARK",
                name="停车服务费",
                basis="fixed",
                price="60",
                kinds=["residential"],
                cycle="quarterly",
                effective_from=date(2025, 1, 1),
                now=NOW,
            )
            fees.publish(conn, as_of=date(2025, 1, 1), now=NOW, settings=DEFAULTS, out_dir=None)
        self.month = date(2026, 1, 1)
        self.refs = 0

    @property
    def today(self) -> date:
        return self.month.replace(day=20)

    @rule()
    def bill_a_month(self):
        with db.transaction(self.conn):
            ledger.run_bills_and_apply_credit(
                self.conn, months=[self.month], as_of=self.today, now=NOW, settings=DEFAULTS
            )
        self.month = periods.add_months(self.month, 1)

    @rule(
        unit=st.sampled_from(UNITS),
        yuan=st.integers(1, 900),
        fen=st.integers(0, 99),
        wechat=st.booleans(),
    )
    def pay(self, unit, yuan, fen, wechat):
        self.refs += 1
        with db.transaction(self.conn):
            ledger.record_payment(
                self.conn,
                unit,
                yuan * 100 + fen,
                channel="wechat" if wechat else "cash",
                ref=f"W{self.refs}" if wechat else None,
                paid_on=self.today,
                as_of=self.today,
                now=NOW,
                settings=DEFAULTS,
            )

    @rule(data=st.data(), yuan=st.integers(1, 500))
    def pay_chosen_bills(self, data, yuan):
        open_bills = ledger.open_bills(self.conn)
        if not open_bills:
            return
        chosen = data.draw(
            st.lists(st.sampled_from(open_bills), min_size=1, max_size=3, unique_by=lambda b: b.id)
        )
        unit = chosen[0].unit
        ids = [b.id for b in chosen if b.unit == unit]
        with db.transaction(self.conn):
            ledger.record_payment(
                self.conn,
                unit,
                yuan * 100,
                channel="cash",
                ref=None,
                paid_on=self.today,
                as_of=self.today,
                now=NOW,
                settings=DEFAULTS,
                bill_ids=ids,
            )

    @rule(data=st.data())
    def reverse(self, data):
        receipts = [
            r[0]
            for r in self.conn.execute(
                "SELECT receipt_no FROM payment WHERE receipt_no IS NOT NULL AND id NOT IN "
                "(SELECT payment_id FROM reversal)"
            )
        ]
        if not receipts:
            return
        receipt = data.draw(st.sampled_from(receipts))
        with db.transaction(self.conn):
            ledger.reverse_payment(self.conn, receipt, reason="测试", on=self.today, now=NOW)

    @rule(data=st.data(), kind=st.sampled_from(["waiver", "discount", "correction"]))
    def adjust(self, data, kind):
        bills = [r[0] for r in self.conn.execute("SELECT id FROM bill")]
        if not bills:
            return
        bill_id = data.draw(st.sampled_from(bills))
        balance = ledger.bill_balance(self.conn, bill_id)
        room = balance.net_fen - balance.paid_fen  # how far it may come down
        if kind == "correction" and data.draw(st.booleans()):
            amount = data.draw(st.integers(1, 5000))
        elif room <= 0:
            return
        else:
            amount = -data.draw(st.integers(1, room))
        with db.transaction(self.conn):
            bill_run.adjust(
                self.conn,
                bill_id,
                amount_fen=amount,
                kind=kind,
                reason="测试",
                approved_by="测试",
                basis_ref="PROP" if amount > 0 else "",
                on=self.today,
                now=NOW,
                settings=DEFAULTS,
            )

    @rule(data=st.data())
    def an_adjustment_too_far_is_refused(self, data):
        bills = [r[0] for r in self.conn.execute("SELECT id FROM bill")]
        if not bills:
            return
        bill_id = data.draw(st.sampled_from(bills))
        balance = ledger.bill_balance(self.conn, bill_id)
        too_far = -(balance.net_fen - balance.paid_fen) - 1
        try:
            with db.transaction(self.conn):
                bill_run.adjust(
                    self.conn,
                    bill_id,
                    amount_fen=too_far,
                    kind="waiver",
                    reason="测试",
                    approved_by="测试",
                    on=self.today,
                    now=NOW,
                    settings=DEFAULTS,
                )
        except PropfeeError:
            return
        raise AssertionError("an adjustment below what is paid or below zero went through")

    @rule()
    def apply_credit(self):
        with db.transaction(self.conn):
            ledger.apply_credit(self.conn, on=self.today, now=NOW)

    @invariant()
    @precondition(lambda self: hasattr(self, "conn"))
    def every_check_passes(self):
        assert ledger.check(self.conn) == []

    @invariant()
    @precondition(lambda self: hasattr(self, "conn"))
    def outstanding_minus_credit_is_billed_minus_adjusted_minus_paid(self):
        conn = self.conn
        billed = conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM bill").fetchone()[0]
        adjusted = conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM adjustment").fetchone()[0]
        paid = conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM payment WHERE id NOT IN "
            "(SELECT payment_id FROM reversal)"
        ).fetchone()[0]
        outstanding = sum(
            b.outstanding_fen for uid in (1, 2, 3) for b in ledger.unit_bills(conn, uid)
        )
        credit = sum(ledger.credit_of(conn, uid) for uid in (1, 2, 3))
        assert credit >= 0
        assert outstanding - credit == billed + adjusted - paid

    @invariant()
    @precondition(lambda self: hasattr(self, "conn"))
    def the_statement_agrees_with_the_bills(self):
        for uid, code in enumerate(UNITS, start=1):
            statement = ledger.statement(self.conn, code)
            assert statement.owed_fen == sum(
                b.outstanding_fen for b in ledger.unit_bills(self.conn, uid)
            )
            assert statement.credit_fen == ledger.credit_of(self.conn, uid)

    def teardown(self):
        if hasattr(self, "conn"):
            self.conn.close()


Ledger.TestCase.settings = settings(
    Ledger.TestCase.settings,
    stateful_step_count=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedger = Ledger.TestCase
