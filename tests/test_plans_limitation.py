"""Installment plans (schedule, honoured, broken) and the 3-year limitation clock."""

import dataclasses
import json
from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propfee.collection import arrears, dunning, limitation, plans
from propfee.config import DEFAULTS
from propfee.core.errors import InvalidValue
from propfee.store.db import transaction

from conftest import NOW, add_fee, contact, estate, home, pay, run


@given(
    total=st.integers(min_value=1, max_value=10**10),
    count=st.integers(min_value=1, max_value=60),
    every=st.sampled_from(["month", "week"]),
    first=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_a_schedule_sums_exactly_and_never_goes_negative(total, count, every, first):
    if total < count:
        with pytest.raises(InvalidValue):
            plans.schedule(total, count, first, every)
        return
    days = plans.schedule(total, count, first, every)
    assert sum(fen for _, fen in days) == total
    assert all(fen >= 0 for _, fen in days)
    assert max(fen for _, fen in days) - min(fen for _, fen in days) <= 1
    assert [d for d, _ in days] == sorted(d for d, _ in days)
    assert days[0][0] == first


def test_three_installments_for_a_thousand():
    days = plans.schedule(100000, 3, date(2027, 1, 31), "month")
    assert days == [
        (date(2027, 1, 31), 33334),
        (date(2027, 2, 28), 33333),
        (date(2027, 3, 31), 33333),
    ]


@pytest.fixture
def debtor(conn, tmp_path):
    """1-101 owes 1,000.00 for October 2026 (due 10-15)."""
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    add_fee(conn, "MGMT", price="1000", basis="fixed")
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    return conn


def sign(conn, **options):
    values = {
        "installments": 3,
        "first_due": date(2026, 12, 15),
        "every": "month",
        "signed_on": date(2026, 11, 20),
        **options,
    }
    with transaction(conn):
        return plans.create(conn, "1-101", now=NOW, settings=DEFAULTS, **values)


def tier(conn, day):
    (row,) = arrears.overdue(conn, as_of=day, settings=DEFAULTS)
    return row.tier


def test_an_honoured_plan_holds_and_a_missed_installment_breaks_it(debtor, cli):
    assert tier(debtor, date(2026, 11, 20)) == "notice"
    plan = sign(debtor)
    assert [i.amount_fen for i in plan.installments] == [33334, 33333, 33333]
    assert plan.state == "honoured"
    assert tier(debtor, date(2026, 11, 21)) == "plan"
    pay(debtor, "1-101", 33334, date(2026, 12, 14))
    assert tier(debtor, date(2027, 1, 25)) == "plan"  # January's is due 01-15, 10 days' grace
    broken = plans.plan_status(debtor, plan.id, as_of=date(2027, 1, 26), settings=DEFAULTS)
    assert (broken.state, broken.broken_on) == ("broken", "2027-01-26")
    assert tier(debtor, date(2027, 1, 26)) == "notice"  # dunning resumes
    shown = json.loads(
        cli("plan", "show", str(plan.id), "--as-of", "2027-01-26", "-f", "json").stdout
    )
    assert [i["paid"] for i in shown["installments"]] == ["333.34", "0.00", "0.00"]
    assert shown["state"] == "broken"
    listed = cli("plan", "list", "--as-of", "2027-01-26")
    assert "已违约" in listed.stdout


def test_a_plan_paid_in_full_is_completed(debtor):
    plan = sign(debtor, installments=2)
    pay(debtor, "1-101", 100000, date(2026, 12, 1))
    done = plans.plan_status(debtor, plan.id, as_of=date(2027, 6, 1), settings=DEFAULTS)
    assert done.state == "completed"
    assert [i.paid for i in done.installments] == [True, True]


def test_signing_is_logged_as_an_acknowledgement(debtor):
    sign(debtor)
    (logged,) = [c for c in dunning.list_contacts(debtor) if c.outcome == "plan-signed"]
    assert logged.at.startswith("2026-11-20") and "333.34" in logged.content
    assert "分期缴费协议" in logged.content


def test_a_plan_checks_its_input(debtor, cli):
    for args, message in (
        (["--installments", "0", "--first-due", "2026-12-15"], "1 到 120"),
        (["--installments", "3", "--first-due", "2026-11-01", "--signed", "2026-11-20"], "早于"),
        (["--installments", "3", "--first-due", "2026-12-15", "--every", "year"], "--every"),
        (["--installments", "3", "--first-due", "2026-12-15", "--bill", "999"], "不是"),
    ):
        signed = [] if "--signed" in args else ["--signed", "2026-11-20"]
        result = cli("plan", "create", "1-101", *args, *signed)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert debtor.execute("SELECT count(*) FROM plan").fetchone()[0] == 0
    ok = cli(
        "plan",
        "create",
        "1-101",
        "--installments",
        "3",
        "--first-due",
        "2026-12-15",
        "--signed",
        "2026-11-20",
    )
    assert ok.exit_code == 0, ok.output
    twice = cli(
        "plan",
        "create",
        "1-101",
        "--installments",
        "2",
        "--first-due",
        "2026-12-15",
        "--signed",
        "2026-11-21",
    )
    assert twice.exit_code == 1 and "正在履行" in twice.output


# ---------------------------------------------------------------- limitation


@pytest.fixture
def old_debt(conn, tmp_path):
    """1-101 owes December 2023 (due 2023-12-15) and June 2022 (due 2022-06-15)."""
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    add_fee(conn, "MGMT", price="100", basis="fixed")
    run(conn, "2022-06", as_of=date(2022, 6, 1))
    run(conn, "2023-12", as_of=date(2023, 12, 1))
    return conn


def clocks(conn, day, within=180):
    return {
        c.due_on: c for c in limitation.clocks(conn, as_of=day, settings=DEFAULTS, within=within)
    }


def test_a_clock_runs_three_years_from_the_due_day(old_debt, cli):
    found = clocks(old_debt, date(2026, 11, 22))
    assert found["2023-12-15"].ends_on == "2026-12-15"
    assert found["2023-12-15"].last_event == "due"
    assert not found["2023-12-15"].barred
    assert found["2022-06-15"].barred  # ended 2025-06-15: shown, never dropped
    result = cli(
        "overdue", "--limitation", "--within", "180", "--as-of", "2026-11-22", "--format", "json"
    )
    doc = json.loads(result.stdout)
    ends = {b["due_on"]: (b["ends_on"], b["time_barred"]) for b in doc["rows"]}
    assert ends == {"2023-12-15": ("2026-12-15", False), "2022-06-15": ("2025-06-15", True)}
    table = cli("overdue", "--limitation", "--as-of", "2026-11-22")
    assert "已过时效" in table.stdout


def test_a_delivered_notice_restarts_the_clock(old_debt, cli):
    with transaction(old_debt):
        report = dunning.remind(
            old_debt, as_of=date(2026, 10, 30), at=time(10), now=NOW, settings=DEFAULTS,
            out_dir=None,
        )  # fmt: skip
    (number,) = report.notices
    assert clocks(old_debt, date(2026, 11, 22))["2023-12-15"].ends_on == "2026-12-15"
    assert (
        cli("contact", "deliver", number, "--proof", "EMS 1", "--date", "2026-11-01").exit_code == 0
    )
    after = clocks(old_debt, date(2026, 11, 22), within=None)
    assert after["2023-12-15"].ends_on == "2029-11-01"
    assert after["2023-12-15"].last_event == "delivered"
    assert after["2022-06-15"].barred  # a demand after the end does not revive it
    assert "2023-12-15" not in clocks(old_debt, date(2026, 11, 22))


def test_a_payment_a_promise_and_a_plan_restart_it(old_debt):
    pay(old_debt, "1-101", 5000, date(2025, 3, 1))  # half of June 2022, on its clock
    found = clocks(old_debt, date(2026, 11, 22), within=None)
    assert (found["2022-06-15"].ends_on, found["2022-06-15"].last_event) == (
        "2028-03-01",
        "payment",
    )
    assert found["2023-12-15"].ends_on == "2028-03-01"  # a part interrupts the whole
    contact(old_debt, "1-101", "promised", datetime(2026, 5, 6, 10), promise_on=date(2026, 6, 1))
    assert clocks(old_debt, date(2026, 11, 22), within=None)["2023-12-15"].ends_on == "2029-05-06"
    with transaction(old_debt):
        plans.create(
            old_debt, "1-101", installments=2, first_due=date(2026, 12, 1), every="month",
            signed_on=date(2026, 11, 20), now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    latest = clocks(old_debt, date(2026, 11, 22), within=None)["2023-12-15"]
    assert (latest.ends_on, latest.last_event) == ("2029-11-20", "plan")


def test_remind_puts_a_written_notice_first_when_a_clock_is_near_its_end(old_debt):
    patient = dataclasses.replace(
        DEFAULTS,
        dunning=dataclasses.replace(DEFAULTS.dunning, notice_from=2000, legal_from=2500),
    )
    (row,) = arrears.overdue(old_debt, as_of=date(2026, 11, 22), settings=patient)
    assert row.tier == "call"  # by the days alone this estate would only call
    with transaction(old_debt):
        report = dunning.remind(
            old_debt, as_of=date(2026, 11, 22), at=time(10), now=NOW, settings=patient,
            out_dir=None,
        )  # fmt: skip
    assert report.produced["notice"] == 1 and report.produced["call"] == 0


def test_a_disputed_debt_near_its_end_is_warned_of(old_debt):
    contact(old_debt, "1-101", "dispute", datetime(2026, 11, 1, 10), note="漏水未修")
    with transaction(old_debt):
        report = dunning.remind(
            old_debt, as_of=date(2026, 11, 22), at=time(10), now=NOW, settings=DEFAULTS,
            out_dir=None,
        )  # fmt: skip
    assert report.produced["notice"] == 0
    assert any("limitation" in w for w in report.warnings)


def test_a_buyers_plan_does_not_hold_the_seller(conn, tmp_path):
    from propfee.roster import merge

    from conftest import write_csv

    estate(conn, tmp_path, [home("1-101", owner="雷伟杰", phone="13800000001")])
    add_fee(conn, "MGMT", price="1000", basis="fixed")
    run(conn, "2026-08", as_of=date(2026, 8, 1))
    merge.import_roster(
        conn,
        write_csv(
            tmp_path / "s.csv", [["房号", "业主", "过户日期"], ["1-101", "孙新民", "2026-09-01"]]
        ),
        as_of=date(2026, 9, 1),
        now=NOW,
    )
    run(conn, "2026-09", as_of=date(2026, 9, 1))
    sign(conn, signed_on=date(2026, 10, 1), first_due=date(2026, 10, 15))
    rows = {r.payer: r for r in arrears.overdue(conn, as_of=date(2026, 10, 5), settings=DEFAULTS)}
    assert rows["孙新民"].tier == "plan"
    assert rows["雷伟杰"].tier == "notice"  # the seller signed nothing


def test_plan_list_as_of_a_day_shows_only_plans_signed_by_then(debtor, cli):
    sign(debtor)
    before = json.loads(cli("plan", "list", "--as-of", "2026-11-19", "-f", "json").stdout)["rows"]
    assert before == []
    after = json.loads(cli("plan", "list", "--as-of", "2026-11-20", "-f", "json").stdout)
    assert len(after["rows"]) == 1


def test_a_debt_near_its_limitation_end_gets_a_letter_whatever_its_tier(old_debt):
    contact(old_debt, "1-101", "refused", datetime(2026, 10, 1, 10))  # legal tier by refusal
    (row,) = arrears.overdue(old_debt, as_of=date(2026, 11, 22), settings=DEFAULTS)
    assert row.tier == "legal"
    with transaction(old_debt):
        report = dunning.remind(
            old_debt, as_of=date(2026, 11, 22), at=time(10), now=NOW, settings=DEFAULTS,
            out_dir=None,
        )  # fmt: skip
    assert report.produced["notice"] == 1
    assert any("只有能证明的送达才使时效重新起算" in w for w in report.warnings)
    # the letter was not delivered: ten days on, still near the end, it is made again
    with transaction(old_debt):
        again = dunning.remind(
            old_debt, as_of=date(2026, 12, 2), at=time(10), now=NOW, settings=DEFAULTS,
            out_dir=None,
        )  # fmt: skip
    assert again.produced["notice"] == 1


def test_time_barred_periods_stay_out_of_letters(old_debt):
    with transaction(old_debt):
        report = dunning.remind(
            old_debt, as_of=date(2026, 11, 22), at=time(10), now=NOW, settings=DEFAULTS,
            out_dir=None,
        )  # fmt: skip
    (letter,) = [c for c in dunning.list_contacts(old_debt) if c.channel == "letter"]
    assert "2023-12-01" in letter.content and "2022-06-01" not in letter.content
    assert any("已过诉讼时效" in w for w in report.warnings)
