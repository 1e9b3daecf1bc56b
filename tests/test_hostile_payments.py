"""The hostile-file corpus for payment files: every damaged copy of a WeChat, Alipay or bank
export, then the good file. Money is never recorded twice or at a wrong amount, a refusal
changes nothing, and it names the line."""

from __future__ import annotations

from datetime import date

import pytest
from hostile_payments import FORMATS, PAYMENTS, cases, expected, good, write
from hypothesis import given, settings
from hypothesis import strategies as st

from propfee.core.errors import FileFormatError, RowErrors
from propfee.payments import ledger, lineid, reconciliation
from propfee.store import db, pg

from conftest import add_fee, dump, estate, home, pay, reconcile, run, sibling

CASES = cases()


@pytest.fixture(scope="module")
def billed(tmp_path_factory):
    """What makes the template: three homes billed for October and November 2026."""
    folder = tmp_path_factory.mktemp("estate")

    def build(location):
        conn = db.connect(location)
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

    return build


@pytest.fixture
def fresh(estate_copy, billed):
    """The test's own copy of the billed estate (built once per engine), on its engine."""
    return estate_copy("billed", billed)


def test_a_copy_is_the_template_row_for_row(estate_copy, billed, templates, database, cli):
    """A copy made for a test is the template, row for row, whether made anew or put back
    after an earlier test changed it: the same rows, the same ids taken next, and propfee
    check passes on it."""

    def rows(place) -> list[str]:
        schema = pg.split_target(str(place))[1] if pg.is_server(place) else ""
        return [line.replace(f" {schema}.", " ") for line in dump(place)]

    def paid(place) -> list[str]:
        conn = db.connect(place)
        pay(conn, "1-1-1001", 10000, date(2026, 11, 20))
        conn.close()
        return rows(place)

    first = estate_copy("billed", billed)
    assert rows(first) == rows(templates.template(database, "billed"))
    assert cli("check", db=first).exit_code == 0
    after = paid(first)
    templates.give_back()  # on [pg] the next copy is the first one put back
    second = estate_copy("billed", billed, into=sibling(database, "second"))
    assert rows(second) == rows(templates.template(database, "billed"))
    assert cli("check", db=second).exit_code == 0
    assert paid(second) == after


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
def test_a_damaged_file_then_the_good_file(case, fresh, tmp_path):
    conn = db.connect(fresh)
    profile = reconciliation.load_profile(case.profile) if case.profile else None
    try:
        before = dump(fresh)
        try:
            reconcile(conn, write(case, tmp_path), profile)
        except RowErrors as exc:
            assert dump(fresh) == before  # byte-for-byte: nothing written
            rows = {e.row for e in exc.errors}
            assert all(e.message for e in exc.errors)
            wanted = case.refuse or case.cut_line
            assert wanted is None or wanted in rows, (rows, [e.message for e in exc.errors])
        except FileFormatError as exc:
            assert dump(fresh) == before
            assert case.header_error is not None or case.cut_line is not None, str(exc)
        else:
            assert case.refuse is None, "this file must be refused"
        assert ledger.check(conn) == []
        good_file = tmp_path / "good.csv"
        good_file.write_bytes(good(case.fmt))
        reconcile(conn, good_file, profile)
        assert recorded(conn) == expected()  # each real payment once, at its real amount
        assert all(lineid.ref_damage(ref, channel) is None for channel, ref in refs(conn))
        again = dump(fresh)
        reconcile(conn, good_file, profile)
        assert dump(fresh) == again  # a re-run records nothing
        assert ledger.check(conn) == []
    finally:
        conn.close()


# ---------------------------------------------------------------- workbooks and headers


def _xlsx(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


BANK_HEAD = ["交易日期", "交易流水号", "对方户名", "摘要", "借方发生额", "贷方发生额"]


def _bank_rows(last_amount):
    rows = [[d, s, w, m, None, float(a)] for _, a, d, _, w, m, _, _, s in PAYMENTS]
    rows[-1][5] = last_amount
    return [["账户明细查询"], BANK_HEAD, *rows]


def _wechat_floats():
    """A WeChat bill opened in Excel and saved as .xlsx: its numbers became floats."""
    rows = [["微信支付账单明细"], ["交易时间", "交易对方", "商品", "收/支", "金额(元)", "交易单号"]]
    for _, a, d, t, w, m, ref, _, _ in PAYMENTS:
        rows.append([f"{d} {t}", w, m, "收入", float(a), float(ref)])
    return rows


def _icbc_rows(swap=False):
    head = ["交易日期", "摘要", "记账金额(收入)", "记账金额(支出)", "余额", "对方户名"]
    rows = [[d, m, a, "", "", w] for _, a, d, _, w, m, *_ in PAYMENTS]
    if swap:  # the bank wrote 借/贷 instead
        head[2:4] = ["发生额(贷)", "发生额(借)"]
    return [head, *rows, ["人民币合计", "", "1834.56", "", "", ""]]


WORKBOOKS = [
    # name, rows, profile, the row a refusal names (None: read), a header error's text
    ("xlsx-formula-no-value", _bank_rows("=1000+234.56"), "bank", 5, None),
    ("xlsx-good-numbers", _bank_rows(1234.56), "bank", None, None),
    ("xlsx-wechat-float-refs", _wechat_floats(), None, None, None),
    ("xlsx-icbc-brackets", _icbc_rows(), "bank", None, None),
    ("xlsx-two-headers-one-column",
     [["交易日期", "交易金额", "交易金额(元)", "交易流水号", "摘要"],
      ["2026-11-15", "400.00", "400.00", "SN1", "1-1-1001"]], "bank", None, "交易金额"),
]  # fmt: skip


@pytest.mark.parametrize(
    "name,rows,profile,refuse,header", WORKBOOKS, ids=[w[0] for w in WORKBOOKS]
)
def test_workbooks_formulas_and_headers(name, rows, profile, refuse, header, fresh, tmp_path):
    conn = db.connect(fresh)
    chosen = reconciliation.load_profile(profile) if profile else None
    before = dump(fresh)
    try:
        if refuse is not None:
            # refused when the workbook is opened (naming the cell) or when the line is read
            with pytest.raises((RowErrors, FileFormatError)) as caught:
                reconcile(conn, _xlsx(tmp_path / f"{name}.xlsx", rows), chosen)
            if isinstance(caught.value, RowErrors):
                assert refuse in {e.row for e in caught.value.errors}
                assert "公式" in caught.value.errors[0].message
            else:
                assert f"第 {refuse} 行" in str(caught.value) and "公式" in str(caught.value)
        elif header is not None:
            with pytest.raises(FileFormatError) as caught:
                reconcile(conn, _xlsx(tmp_path / f"{name}.xlsx", rows), chosen)
            assert str(caught.value).count(header) >= 2 and "同一列" in str(caught.value)
        else:
            report = reconcile(conn, _xlsx(tmp_path / f"{name}.xlsx", rows), chosen)
            if name == "xlsx-wechat-float-refs":
                assert report.recorded == [] and len(report.review) == 3
                assert all("表格软件" in r.reason for r in report.review)
            else:
                assert recorded(conn) == expected()
        if refuse is not None or header is not None:
            assert dump(fresh) == before
        assert ledger.check(conn) == []
    finally:
        conn.close()


def test_a_profile_keeps_bracketed_directions_apart(fresh, tmp_path):
    """发生额(借) and 发生额(贷) are two columns, not one read twice."""
    conn = db.connect(fresh)
    profile = tmp_path / "某银行.toml"
    profile.write_text(
        'channel = "bank"\n[columns]\namount_in = "发生额(贷)"\namount_out = "发生额(借)"\n',
        encoding="utf-8",
    )
    rows = _icbc_rows(swap=True)
    rows.insert(3, ["2026-11-17", "电费", "", "3500.00", "", "兰州电力"])
    report = reconcile(
        conn, _xlsx(tmp_path / "b.xlsx", rows), reconciliation.load_profile(str(profile))
    )
    assert recorded(conn) == expected() and report.ignored == {"outgoing": 1}
    conn.close()


# ---------------------------------------------------------------- identity of a line


def test_bank_lines_without_serials_rerun_and_genuine_twins(fresh, tmp_path):
    """Two genuinely identical lines on one day (their balances differ) are two payments; a
    re-run, or the same statement re-saved by Excel, records nothing more."""
    conn = db.connect(fresh)
    table = FORMATS["cmb"]()
    twin = list(table.rows[0])
    twin[4] = "1800.00"  # the balance after the second 400.00
    table.rows.insert(1, twin)
    path = tmp_path / "cmb.csv"
    path.write_bytes(table.data())
    bank = reconciliation.load_profile("bank")
    first = reconcile(conn, path, bank)
    assert len(first.recorded) == 4 and all(
        line.ref.startswith("BK") for line, _, _ in first.recorded
    )
    before = dump(fresh)
    assert reconcile(conn, path, bank).already == 4
    for row in table.rows:
        row[0] = row[0].replace("-", "/")
    table.encoding = "gbk"
    path.write_bytes(table.data())
    assert reconcile(conn, path, bank).already == 4
    assert dump(fresh) == before
    conn.close()


def test_a_line_like_a_recorded_payment_under_another_ref_goes_to_review(fresh, tmp_path):
    from conftest import DEFAULTS, NOW

    conn = db.connect(fresh)
    with db.transaction(conn):
        receipt = ledger.record_payment(
            conn, "1-1-1001", 40000, channel="wechat", ref="4200009999202611150000012345",
            paid_on=date(2026, 11, 15), as_of=date(2026, 11, 15), now=NOW, settings=DEFAULTS,
            payer="张三",
        )  # fmt: skip
    path = tmp_path / "w.csv"
    path.write_bytes(good("wechat"))
    report = reconcile(conn, path)
    assert [r.line.row for r in report.review] == [9]
    number = getattr(receipt, "receipt_no", receipt)
    assert f"可能就是收据 {number}" in report.review[0].reason
    assert len(report.recorded) == 2
    conn.close()


def test_a_memo_naming_the_period_pays_that_period_first(fresh, tmp_path):
    """民法典 第560条: "2026年11月物业费" pays November, though October is older."""
    conn = db.connect(fresh)
    table = FORMATS["wechat"]()
    table.rows = [table.rows[0]]
    table.rows[0][3] = '"1-1-1001 2026年11月物业费"'
    table.rows[0][5] = "¥200.00"
    path = tmp_path / "w.csv"
    path.write_bytes(table.data())
    reconcile(conn, path)
    paid = dict(
        conn.execute(
            "SELECT b.period, sum(a.amount_fen) FROM allocation a JOIN bill b ON b.id = a.bill_id "
            "GROUP BY b.period"
        ).fetchall()
    )
    assert paid == {"2026-11": 20000}
    assert ledger.check(conn) == []
    conn.close()


# ---------------------------------------------------------------- the three examples


def _fresh(estate_copy, billed, database, name):
    path = estate_copy("billed", billed, into=sibling(database, name))
    return path, db.connect(path)


def test_the_three_money_examples_through_the_command_line(
    estate_copy, billed, database, tmp_path, cli
):
    args = ("--as-of", "2026-12-01")
    good_wechat = tmp_path / "wechat.csv"
    good_wechat.write_bytes(good("wechat"))
    good_bank = tmp_path / "bank.csv"
    good_bank.write_bytes(good("bank"))
    # 1. a WeChat bill re-saved by Excel: its refs are 1.0000E+30
    path, conn = _fresh(estate_copy, billed, database, "one")
    mangled = next(c for c in CASES if c.name == "wechat-excel-ref-sci")
    result = cli("reconcile", str(write(mangled, tmp_path)), *args, db=path)
    assert result.exit_code == 0 and "记录缴费 0 笔" in result.stdout
    assert "科学计数法" in result.stdout and recorded(conn) == []
    assert cli("reconcile", str(good_wechat), *args, db=path).exit_code == 0
    assert recorded(conn) == expected()
    assert cli("check", db=path).exit_code == 0
    conn.close()
    # 2. a WeChat bill cut inside the last line's 交易单号
    path, conn = _fresh(estate_copy, billed, database, "two")
    cut = next(
        c for c in CASES if c.fmt == "wechat" and c.data.endswith(PAYMENTS[2][6][:20].encode())
    )
    before = dump(path)
    result = cli("reconcile", str(write(cut, tmp_path)), *args, db=path)
    assert result.exit_code == 1 and f"{cut.cut_line}" in result.stderr + result.stdout
    assert dump(path) == before
    assert cli("reconcile", str(good_wechat), *args, db=path).exit_code == 0
    assert recorded(conn) == expected()
    assert cli("check", db=path).exit_code == 0
    conn.close()
    # 3. a bank statement cut inside the last amount: 1234.56 -> 123
    path, conn = _fresh(estate_copy, billed, database, "three")
    cut = next(c for c in CASES if c.fmt == "bank" and c.data.endswith(b",123"))
    before = dump(path)
    result = cli("reconcile", str(write(cut, tmp_path)), "--profile", "bank", *args, db=path)
    output = result.stderr + result.stdout
    assert result.exit_code == 1 and f"{cut.cut_line}" in output
    assert "123" in output or "截断" in output  # the cut value, or that the line was cut
    assert dump(path) == before
    assert cli("reconcile", str(good_bank), "--profile", "bank", *args, db=path).exit_code == 0
    assert ("2-1-502", 123456, "2026-11-18") in recorded(conn)
    assert recorded(conn) == expected()
    assert cli("check", db=path).exit_code == 0
    conn.close()


_CELL_CHARS = st.sampled_from(list("a1 `'\t\r\n=+-@中\u3000\u00a0\u200b\ufeff\x0b\x85\u2028\u2003"))


@settings(max_examples=3000, deadline=None)
@given(st.lists(_CELL_CHARS, max_size=8).map("".join) | st.text(max_size=10))
def test_a_statement_cell_read_at_once_is_cleaned_as_any_other(value):
    """The usual cell (nothing to take off, or only a payment app's trailing tab) is taken
    without the full clean-up: whatever it holds, it comes out as the clean-up makes it."""
    quick = reconciliation._plain(value)
    if quick is not None:
        assert quick == reconciliation._clean(value)
    assert reconciliation._Cleaner()[value] == reconciliation._clean(value)
