"""Payments and reconciliation: what must never be half done, double counted or lost."""

import json
from datetime import date

import pytest
from statement_samples import wechat_bill

from propfee import ledger, statements
from propfee.config import DEFAULTS
from propfee.db import transaction

from conftest import NOW, add_fee, dump, estate, home, run

AS_OF = date(2026, 12, 1)


@pytest.fixture
def estate3(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [
            home("1-1-1001", area="80", owner="张三", phone="13812341234"),
            home("1-1-1002", area="80", owner="李四"),
            home("2-1-502", area="120", owner="王五"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 11, 1))
    return conn


def reconcile(conn, path, profile=None, **kwargs):
    return statements.reconcile(
        conn, path, profile=profile, as_of=AS_OF, now=NOW, settings=DEFAULTS, **kwargs
    )


def payments(conn):
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT u.code, p.amount_fen, p.channel, p.ref FROM payment p "
            "JOIN unit u ON u.id = p.unit_id ORDER BY p.id"
        )
    ]


def line(day, who, goods, amount, ref, status="已存入零钱", direction="收入", note="/"):
    return (f"{day} 10:00:00", who, goods, direction, amount, status, ref, note)


# ---------------------------------------------------------------- B1: nothing half done


def test_pay_with_an_unwritable_receipt_records_nothing(estate3, cli, db_path, tmp_path):
    before = dump(db_path)
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "nodir" / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--receipt" in result.stderr and "does not exist" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before


def test_pay_in_a_language_without_templates_records_nothing(estate3, cli, db_path):
    before = dump(db_path)
    result = cli("pay", "1-1-1001", "100", "--channel", "cash", "--language", "fr")
    assert result.exit_code == 1
    assert "--language fr" in result.stderr and "zh" in result.stderr
    assert dump(db_path) == before


def test_a_receipt_that_cannot_be_written_rolls_the_payment_back(
    estate3, cli, db_path, tmp_path, monkeypatch
):
    import os

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    before = dump(db_path)
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 1 and "cannot write" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before
    assert not (tmp_path / "r.html").exists()


def test_pay_writes_the_receipt(estate3, cli, tmp_path):
    result = cli(
        "pay", "1-1-1001", "100", "--channel", "cash", "--as-of", "2026-12-01",
        "--receipt", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "收款收据" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_reconcile_with_an_unwritable_review_file_records_nothing(estate3, cli, db_path, tmp_path):
    path = wechat_bill(
        tmp_path / "w.csv",
        [
            line("2026-11-15", "张三", "1-1-1001物业费", "400.00", "T1"),
            line("2026-11-16", "某人", "物业费", "50.00", "T2"),
        ],
    )
    before = dump(db_path)
    result = cli(
        "reconcile", str(path), "--as-of", "2026-12-01",
        "--review-out", str(tmp_path / "nodir" / "x.csv"),
    )  # fmt: skip
    assert result.exit_code == 1 and "--review-out" in result.stderr
    assert "internal error" not in result.stderr
    assert dump(db_path) == before
    done = cli(
        "reconcile", str(path), "--as-of", "2026-12-01", "--review-out", str(tmp_path / "x.csv")
    )
    assert done.exit_code == 0, done.stderr
    assert "T2" in (tmp_path / "x.csv").read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- B3: a reversal gives the ref back


def test_a_reversed_payment_can_be_recorded_again_with_its_ref(estate3, cli, conn):
    args = ("--channel", "wechat", "--ref", "4200001234", "--as-of", "2026-11-20")
    first = cli("pay", "1-1-1001", "360", *args, "-f", "json")
    assert json.loads(first.stdout)["receipt"] == "2026-000001"
    assert (
        cli("reverse", "2026-000001", "--reason", "录错房号", "--as-of", "2026-11-20").exit_code
        == 0
    )
    again = cli("pay", "1-1-1002", "360", *args, "-f", "json")
    assert again.exit_code == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["receipt"] == "2026-000002" and document["unit"] == "1-1-1002"
    assert document["already_recorded"] is False
    # the live one now holds the ref: the same again is "already", another unit an error
    assert json.loads(cli("pay", "1-1-1002", "360", *args, "-f", "json").stdout)["already_recorded"]
    clash = cli("pay", "2-1-502", "360", *args)
    assert clash.exit_code == 1 and "2026-000002" in clash.stderr
    assert ledger.check(conn) == []


def test_reconcile_records_again_what_was_reversed(estate3, tmp_path, conn):
    path = wechat_bill(
        tmp_path / "w.csv", [line("2026-11-15", "张三", "1-1-1001物业费", "400.00", "T1")]
    )
    reconcile(conn, path)
    with transaction(conn):
        ledger.reverse_payment(conn, "2026-000001", reason="退回", on=AS_OF, now=NOW)
    again = reconcile(conn, path)
    assert again.already == 0 and [r for _, _, r in again.recorded] == ["2026-000002"]
    assert reconcile(conn, path).already == 1
    assert ledger.check(conn) == []


def test_the_database_no_longer_holds_a_unique_ref_index(conn):
    indexes = {
        r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
    }
    assert "payment_ref" not in indexes and "payment_by_ref" in indexes
