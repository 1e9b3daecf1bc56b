"""Late fees (违约金) by the contract's clause, the court ceiling beside them, and posting.

One unit, a fixed fee of 1,000.00 for October 2026 due 2026-10-15; as of 2026-11-14 it is 30
days overdue.
"""

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest

from propfee.collection import latefee
from propfee.config import DEFAULTS, LateFee
from propfee.core.errors import PropfeeError
from propfee.store.db import transaction

from conftest import NOW, add_fee, estate, home, pay, run

AS_OF = date(2026, 11, 14)


def clause(**values) -> object:
    """A 万分之五 clause, demanded as the clause says (these tests follow the clause's own
    arithmetic; the cut to the court ceiling, on by default, is tested in
    test_lawful_collection.py)."""
    values.setdefault("cap_at_ceiling", False)
    return dataclasses.replace(
        DEFAULTS, late_fee=dataclasses.replace(LateFee(daily_rate="0.0005"), **values)
    )


@pytest.fixture
def owing(conn, tmp_path):
    estate(conn, tmp_path, [home("1-101", owner="张三", phone="13800000001")])
    add_fee(conn, "MGMT", price="1000", basis="fixed")
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    return conn


def line(conn, settings, day=AS_OF):
    (found,) = latefee.late_fees(conn, as_of=day, settings=settings)
    return found


def test_simple_daily_interest_agrees_with_the_standard_example():
    assert latefee.simple_interest(10000, Decimal("0.10"), 15) == 41  # 100.00, 10%, 15 days
    assert latefee.simple_interest(100000, Decimal("0.0365"), 365) == 3650


def test_a_thousand_thirty_days_at_wan_fen_zhi_wu_is_fifteen(owing):
    found = line(owing, clause())
    assert (found.days, found.clause_fen) == (30, 1500)
    assert found.loss_fen == 247  # 1,000.00 × 3.0% × 30 / 365 = 2.4657
    assert found.ceiling_fen == 321  # × 1.3
    assert found.above_ceiling


def test_no_clause_no_late_fee_anywhere(owing, cli, tmp_path):
    found = line(owing, DEFAULTS)
    assert found.clause_fen == 0 and found.loss_fen == 247
    result = cli("latefee", "--as-of", "2026-11-14", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["clause"] is False and doc["total"]["late_fee"] == "0.00"
    assert "没有违约金条款" in result.stderr
    refused = cli("latefee", "post", "1-101", "--as-of", "2026-11-14")
    assert refused.exit_code == 1 and "没有违约金条款" in refused.stderr
    from datetime import time

    from propfee.collection import dunning

    with transaction(owing):
        dunning.remind(
            owing,
            as_of=date(2026, 11, 16),  # 32 days: a letter
            at=time(10),
            now=NOW,
            settings=DEFAULTS,
            out_dir=tmp_path / "r",
        )
    letter = next((tmp_path / "r").glob("*.html")).read_text(encoding="utf-8")
    assert "违约金" not in letter


def test_grace_days_cap_and_minimum(owing):
    assert line(owing, clause(grace_days=5)).clause_fen == 1250  # 25 days
    assert line(owing, clause(cap="10.00")).clause_fen == 1000
    assert line(owing, clause(cap="1%")).clause_fen == 1000
    assert latefee.late_fees(owing, as_of=AS_OF, settings=clause(grace_days=30)) == []


def test_a_partial_payment_lowers_the_base_from_its_day(owing):
    pay(owing, "1-101", 50000, date(2026, 10, 25))
    # 10-16..10-24 on 1,000.00 (9 days) + 10-25..11-14 on 500.00 (21 days) = 4.50 + 5.25
    assert line(owing, clause()).clause_fen == 975
    # below a 600.00 minimum nothing accrues after the payment
    assert line(owing, clause(minimum="600")).clause_fen == 450


def test_a_bill_paid_late_keeps_the_late_fee_it_ran_up(owing):
    pay(owing, "1-101", 100000, date(2026, 10, 25))
    found = line(owing, clause())
    assert (found.days, found.clause_fen, found.owed_fen) == (9, 450, 0)


def test_posting_is_idempotent_and_posts_only_what_is_new(owing, cli):
    settings = clause()
    with transaction(owing):
        first = latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=settings)
    assert [fen for _, _, fen in first.posted] == [1500]
    with transaction(owing):
        again = latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=settings)
    assert (again.posted, again.already) == ([], 1)
    with transaction(owing):
        later = latefee.post(owing, "1-101", as_of=date(2026, 11, 24), now=NOW, settings=settings)
    assert [fen for _, _, fen in later.posted] == [500]  # ten more days
    bills = owing.execute(
        "SELECT f.code, f.name, b.amount_fen, b.due_on, b.basis FROM bill b "
        "JOIN fee_item f ON f.id = b.fee_item_id WHERE f.code = 'LATEFEE' ORDER BY b.id"
    ).fetchall()
    assert [(b[0], b[1], b[2]) for b in bills] == [
        ("LATEFEE", "违约金", 1500),
        ("LATEFEE", "违约金", 500),
    ]
    assert "每日万分之五" in bills[0][4]
    # a late-fee bill runs up no late fee of its own, and is never a posted fee standard
    assert all(
        ln.item != "违约金"
        for ln in latefee.late_fees(owing, as_of=date(2026, 12, 30), settings=settings)
    )
    assert "LATEFEE" not in cli("fees", "list").output
    refused = cli(
        "fees",
        "add",
        "LATEFEE",
        "--name",
        "x",
        "--basis",
        "fixed",
        "--price",
        "1",
        "--kinds",
        "residential",
        "--from",
        "2026-01-01",
    )
    assert refused.exit_code == 1


def test_a_posted_late_fee_can_be_waived(owing, cli):
    with transaction(owing):
        report = latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=clause())
    bill_id = report.posted[0][0]
    result = cli(
        "adjust",
        str(bill_id),
        "--amount",
        "-15.00",
        "--kind",
        "waiver",
        "--reason",
        "首次逾期，减免违约金",
        "--approved-by",
        "王经理",
    )
    assert result.exit_code == 0, result.output
    owed = owing.execute(
        "SELECT b.amount_fen + (SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id) "
        "FROM bill b WHERE b.id = ?",
        (bill_id,),
    ).fetchone()[0]
    assert owed == 0


def test_the_latefee_command_shows_clause_loss_and_ceiling(owing, cli, tmp_path):
    toml = tmp_path / "propfee.toml"
    toml.write_text('[late_fee]\ndaily_rate = "0.0005"\n', encoding="utf-8")
    result = cli(
        "latefee", "1-101", "--as-of", "2026-11-14", "--config", str(toml), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["rows"]
    assert (row["late_fee"], row["loss"], row["ceiling"], row["above_ceiling"]) == (
        "15.00",
        "2.47",
        "3.21",
        True,
    )
    table = cli("latefee", "--as-of", "2026-11-14", "--config", str(toml))
    assert "15.00" in table.stdout and "3.21" in table.stdout


def test_the_letter_states_the_late_fee_when_the_contract_has_a_clause(owing, tmp_path):
    from datetime import time

    from propfee.collection import dunning

    with transaction(owing):
        dunning.remind(
            owing,
            as_of=date(2026, 11, 16),
            at=time(10),
            now=NOW,
            settings=clause(),
            out_dir=tmp_path / "r",
        )
    letter = next((tmp_path / "r").glob("*.html")).read_text(encoding="utf-8")
    assert "违约金为16.00元" in letter and "每日万分之五" in letter  # 32 days
    assert "滞纳金" not in letter


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("daily_rate", '"abc"', "late_fee.daily_rate"),
        ("cap", '"lots"', "late_fee.cap"),
        ("grace_days", "-1", "grace_days"),
        ("court_factor", '"0.5"', "court_factor"),
    ],
)
def test_a_bad_clause_setting_names_the_key(tmp_path, key, value, message):
    from propfee.config import load_settings
    from propfee.core.errors import ConfigError

    toml = tmp_path / "propfee.toml"
    toml.write_text(f"[late_fee]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(toml)


def test_posting_without_a_clause_is_refused(owing):
    with pytest.raises(PropfeeError, match="没有违约金条款"), transaction(owing):
        latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=DEFAULTS)


def test_posting_for_an_earlier_day_is_refused(owing):
    settings = clause()
    with transaction(owing):
        latefee.post(owing, "1-101", as_of=date(2026, 11, 24), now=NOW, settings=settings)
    with pytest.raises(PropfeeError, match="已入账到 2026-11-24"), transaction(owing):
        latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=settings)
    assert owing.execute("SELECT sum(amount_fen) FROM late_fee").fetchone()[0] == 2000


def test_a_late_fee_posted_beyond_what_accrued_is_shown_and_warned_of(owing, cli, tmp_path):
    settings = clause()
    with transaction(owing):
        latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=settings)
    pay(owing, "1-101", 100000, date(2026, 10, 16))  # a transfer dated 10-16, recorded late
    found = line(owing, settings)
    # paid in full on 10-16, the first day that would have been charged: nothing accrued
    assert (found.clause_fen, found.posted_fen, found.over_posted_fen) == (0, 1500, 1500)
    toml = tmp_path / "propfee.toml"
    toml.write_text('[late_fee]\ndaily_rate = "0.0005"\n', encoding="utf-8")
    result = cli("latefee", "--as-of", "2026-11-14", "--config", str(toml))
    assert "--amount -15.00 --kind correction" in result.stderr


def test_a_posted_late_fee_is_a_debt_from_the_day_it_is_posted(owing):
    from propfee.payments import ledger

    with transaction(owing):
        latefee.post(owing, "1-101", as_of=AS_OF, now=NOW, settings=clause())
    before = ledger.statement(owing, "1-101", last=date(2026, 11, 13))
    assert all("违约金" not in line.text for line in before.lines)
    after = ledger.statement(owing, "1-101", last=AS_OF)
    assert any("违约金" in line.text for line in after.lines)


def test_the_court_ceiling_counts_the_grace_days_and_rounds_once(owing):
    found = line(owing, clause(grace_days=10))
    assert found.clause_fen == 1000  # 20 days charged
    assert found.loss_fen == 247  # 30 days of loss: grace days are still days unpaid
    assert found.ceiling_fen == 321  # 1,000.00 × 3% × 30 / 365 × 1.3 = 3.2055, rounded once
