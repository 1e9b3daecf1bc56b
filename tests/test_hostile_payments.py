"""The hostile-file corpus for payment files: every damaged copy of a WeChat, Alipay or bank
export, then the good file. Money is never recorded twice or at a wrong amount, a refusal
changes nothing, and it names the line."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from hostile_payments import FORMATS, cases, expected, good, write

from propfee.core.errors import FileFormatError, RowErrors
from propfee.payments import ledger, lineid, reconciliation
from propfee.store import db

from conftest import add_fee, dump, estate, home, reconcile, run

CASES = cases()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Three homes billed for October and November 2026, built once and copied per case."""
    folder = tmp_path_factory.mktemp("estate")
    path = folder / "template.db"
    conn = db.connect(path)
    estate(
        conn,
        folder,
        [
            home("1-1-1001", area="80", owner="张三"),
            home("1-1-1002", area="80", owner="李四"),
            home("2-1-502", area="120", owner="王五"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 11, 1))
    conn.close()
    return path


def recorded(conn) -> list[tuple[str, int, str]]:
    return sorted(
        tuple(r)
        for r in conn.execute(
            "SELECT u.code, p.amount_fen, p.paid_on FROM payment p JOIN unit u ON u.id = p.unit_id"
        )
    )


def refs(conn) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute("SELECT channel, ref FROM payment")]


def test_the_corpus_is_large_and_every_format_is_in_it():
    assert len(CASES) >= 50
    assert {case.fmt for case in CASES} == set(FORMATS)
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_damaged_file_then_the_good_file(case, template, tmp_path):
    db_path = tmp_path / "p.db"
    shutil.copy(template, db_path)
    conn = db.connect(db_path)
    profile = reconciliation.load_profile(case.profile) if case.profile else None
    try:
        before = dump(db_path)
        try:
            reconcile(conn, write(case, tmp_path), profile)
        except RowErrors as exc:
            assert dump(db_path) == before  # byte-for-byte: nothing written
            rows = {e.row for e in exc.errors}
            assert all(e.message for e in exc.errors)
            wanted = case.refuse or case.cut_line
            assert wanted is None or wanted in rows, (rows, [e.message for e in exc.errors])
        except FileFormatError as exc:
            assert dump(db_path) == before
            assert case.header_error is not None or case.cut_line is not None, str(exc)
        else:
            assert case.refuse is None, "this file must be refused"
        assert ledger.check(conn) == []
        good_file = tmp_path / "good.csv"
        good_file.write_bytes(good(case.fmt))
        reconcile(conn, good_file, profile)
        assert recorded(conn) == expected()  # each real payment once, at its real amount
        assert all(lineid.ref_damage(ref, channel) is None for channel, ref in refs(conn))
        again = dump(db_path)
        reconcile(conn, good_file, profile)
        assert dump(db_path) == again  # a re-run records nothing
        assert ledger.check(conn) == []
    finally:
        conn.close()
