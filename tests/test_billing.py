"""Fee standards, publication and the bill run."""

import dataclasses
from datetime import date, datetime

import pytest

from propfee.billing import bills as bill_run
from propfee.billing import fees
from propfee.config import DEFAULTS, Billing
from propfee.core.errors import InvalidValue, PropfeeError
from propfee.payments import ledger
from propfee.payments.ledger import unit_bills
from propfee.roster import merge
from propfee.store.db import transaction

from conftest import NOW, add_fee, bills, dump, estate, home, run, write_csv


def settings_with(**billing_values):
    return dataclasses.replace(DEFAULTS, billing=Billing(**billing_values))


# ---------------------------------------------------------------- the numbers of the issue


def test_a_month_of_an_area_fee(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="89.37")])
    add_fee(conn)
    report = run(conn, "2026-11")
    assert (report.created, report.total_fen) == (1, 22343)
    assert bills(conn) == [
        ("1-1-101", "PROP", "2026-11", 0, "2026-11-01", "2026-11-30", 22343, "张三", "2026-11-15")
    ]


def test_delivered_on_the_16th_of_a_30_day_month(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="120", delivered="2026-11-16")])
    add_fee(conn)
    run(conn, "2026-11")
    assert bills(conn) == [
        (
            "1-1-101",
            "PROP",
            "2026-11",
            0,
            "2026-11-01",
            "2026-11-15",
            15000,
            "开发建设单位",
            "2026-11-15",
        ),
        ("1-1-101", "PROP", "2026-11", 1, "2026-11-16", "2026-11-30", 15000, "张三", "2026-11-16"),
    ]


def test_owner_pays_from_the_next_month_when_the_settings_say_so(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="120", delivered="2026-11-16")])
    add_fee(conn)
    run(conn, "2026-11", "2026-12", settings=settings_with(owner_pays_from="next_month"))
    assert [(b[2], b[6], b[7]) for b in bills(conn)] == [
        ("2026-11", 30000, "开发建设单位"),
        ("2026-12", 30000, "张三"),
    ]


def test_a_parking_space_bills_its_fixed_price(conn, tmp_path):
    estate(conn, tmp_path, [home("P-001", area="", kind="车位")])
    add_fee(conn, "PARK", price="80", basis="fixed", kinds=("parking",))
    run(conn, "2026-11")
    assert bills(conn)[0][6] == 8000


def test_a_quarterly_item_bills_once_per_quarter(conn, tmp_path):
    estate(conn, tmp_path, [home("S-101", area="100", kind="商铺")])
    add_fee(conn, "SHOP", price="4.20", kinds=("commercial",), cycle="quarterly")
    first = run(conn, "2026-10")
    second = run(conn, "2026-11")
    third = run(conn, "2026-12")
    assert (first.created, second.created, third.created) == (1, 0, 0)
    assert bills(conn) == [
        ("S-101", "SHOP", "2026-10", 0, "2026-10-01", "2026-12-31", 126000, "张三", "2026-10-15")
    ]
    assert run(conn, "2027-01").created == 1


# ---------------------------------------------------------------- idempotence


def test_running_twice_creates_nothing_the_second_time(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101"), home("1-1-102")])
    add_fee(conn)
    assert run(conn, "2026-11").created == 2
    before = dump(db_path)
    again = run(conn, "2026-11")
    assert (again.created, again.already) == (0, 2)
    assert dump(db_path) == before


def test_dry_run_writes_nothing(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    before = dump(db_path)
    report = run(conn, "2026-11", dry_run=True)
    assert report.created == 1
    assert dump(db_path) == before


def test_no_reaching_more_than_12_months_ahead():
    assert len(bill_run.months_to_bill(None, "2026-11", "2027-11", as_of=date(2026, 11, 5))) == 13
    with pytest.raises(InvalidValue, match="之后 12 个月"):
        bill_run.months_to_bill(None, "2026-11", "2027-12", as_of=date(2026, 11, 5))
    with pytest.raises(InvalidValue, match="早于"):
        bill_run.months_to_bill(None, "2026-11", "2026-10", as_of=date(2026, 11, 5))
    assert bill_run.months_to_bill(None, None, None, as_of=date(2026, 11, 5)) == [date(2026, 11, 1)]


# ---------------------------------------------------------------- prices


def test_an_unpublished_price_is_refused(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn, publish_on=None)
    with pytest.raises(PropfeeError, match=r"从未公示.*propfee fees publish.*--recorded-later"):
        run(conn, "2026-11")
    assert bills(conn) == []


def test_a_price_change_applies_from_its_date(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    with transaction(conn):
        fees.set_price(conn, "PROP", price="2.80", effective_from=date(2027, 1, 1), now=NOW)
        publication = fees.publish(
            conn, as_of=date(2026, 11, 20), now=NOW, settings=DEFAULTS, out_dir=None
        )
    assert publication.prices == 1 and publication.warnings == []
    run(conn, "2026-12", "2027-01")
    assert [(b[2], b[6]) for b in bills(conn)] == [("2026-12", 25000), ("2027-01", 28000)]


def test_a_price_changing_inside_a_cycle_is_split_by_days(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    with transaction(conn):
        fees.set_price(conn, "PROP", price="3.10", effective_from=date(2026, 11, 21), now=NOW)
        fees.publish(conn, as_of=date(2026, 10, 1), now=NOW, settings=DEFAULTS, out_dir=None)
    run(conn, "2026-11")
    # 250.00 × 20/30 + 310.00 × 10/30 = 166.666… + 103.333… = 270.00
    (bill,) = bills(conn)
    assert bill[6] == 27000
    assert (
        conn.execute("SELECT basis FROM bill").fetchone()[0]
        == "100㎡ × 2.50元/㎡·月 × 20/30天 + 100㎡ × 3.10元/㎡·月 × 10/30天"
    )


def test_a_change_posted_less_than_a_month_ahead_is_refused_until_a_month_has_passed(
    conn, tmp_path, db_path
):
    # LEGAL rule 8 (issue 15): this was billed with only a warning; now it is refused
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    with transaction(conn):
        fees.set_price(conn, "PROP", price="2.80", effective_from=date(2027, 1, 1), now=NOW)
        publication = fees.publish(
            conn, as_of=date(2026, 12, 20), now=NOW, settings=DEFAULTS, out_dir=None
        )
    assert "不足一个月" in publication.warnings[0] and "2027-01-20" in publication.warnings[0]
    before = dump(db_path)
    with pytest.raises(PropfeeError, match=r"最早 2027-01-20 起才能按新价收费.*--instead-of"):
        run(conn, "2027-01", as_of=date(2027, 1, 2))
    assert dump(db_path) == before
    run(conn, "2026-12", as_of=date(2026, 12, 2))  # the month before, at the old price
    assert [b[6] for b in bills(conn)] == [25000]
    with transaction(conn):
        fees.set_price(
            conn,
            "PROP",
            price="2.80",
            effective_from=date(2027, 1, 20),
            instead_of=date(2027, 1, 1),
            now=NOW,
        )
    run(conn, "2027-01", as_of=date(2027, 1, 2))
    # 250.00 × 19/31 + 280.00 × 12/31, the publication kept for the later start
    assert bills(conn)[-1][6] == 26161


def test_a_published_price_cannot_be_rewritten(conn, tmp_path):
    add_fee(conn)
    with pytest.raises(PropfeeError, match=r"的价格（¥2\.50）已公示"), transaction(conn):
        fees.set_price(conn, "PROP", price="9.99", effective_from=date(2020, 1, 1), now=NOW)


def test_a_price_cannot_change_where_bills_exist(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    run(conn, "2026-11")
    with pytest.raises(PropfeeError, match="已开票到 2026-11-30"), transaction(conn):
        fees.set_price(conn, "PROP", price="2.80", effective_from=date(2026, 11, 15), now=NOW)


def test_a_fee_that_starts_later_is_skipped_until_then(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn, start=date(2026, 11, 16), publish_on=date(2026, 10, 1))
    october = run(conn, "2026-10")
    assert october.created == 0 and october.skip_counts() == {"fee not in effect yet": 1}
    run(conn, "2026-11")
    assert [(b[4], b[6]) for b in bills(conn)] == [("2026-11-16", 12500)]


# ---------------------------------------------------------------- who pays


def test_an_owner_change_inside_a_month_bills_each_owner_for_their_days(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="90")])
    estate(conn, tmp_path, [home("1-1-101", area="90", owner="王五")], as_of=date(2026, 11, 11))
    add_fee(conn)
    run(conn, "2026-11")
    assert [(b[3], b[4], b[5], b[6], b[7]) for b in bills(conn)] == [
        (0, "2026-11-01", "2026-11-10", 7500, "张三"),  # 225.00 × 10/30
        (1, "2026-11-11", "2026-11-30", 15000, "王五"),  # 225.00 × 20/30
    ]


def test_the_tenant_pays_when_the_roster_says_so(conn, tmp_path):
    estate(
        conn, tmp_path, [home("S-101", kind="商铺", area="50", tenant="兰州拉面馆", payer="租户")]
    )
    add_fee(conn, "SHOP", price="4", kinds=("commercial",))
    run(conn, "2026-11")
    assert bills(conn)[0][7] == "兰州拉面馆"


def test_an_unsold_unit_is_billed_to_the_developer(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", owner="未售", delivered="")])
    settings = dataclasses.replace(
        DEFAULTS, estate=dataclasses.replace(DEFAULTS.estate, developer="兰州翠湖置业有限公司")
    )
    add_fee(conn)
    run(conn, "2026-11", settings=settings)
    assert bills(conn)[0][7] == "兰州翠湖置业有限公司"
    assert conn.execute("SELECT count(*) FROM party WHERE is_developer = 1").fetchone()[0] == 1


def test_a_vacancy_discount_is_an_adjustment_not_a_changed_bill(conn, tmp_path):
    estate(
        conn, tmp_path, [home("1-1-101", area="100", vacant="空置"), home("1-1-102", area="100")]
    )
    add_fee(conn)
    run(conn, "2026-11", settings=settings_with(vacancy_discount="0.3"))
    assert [b[6] for b in bills(conn)] == [25000, 25000]
    assert [tuple(r) for r in conn.execute("SELECT amount_fen, kind FROM adjustment")] == [
        (-7500, "discount")
    ]


def test_kinds_buildings_and_units_narrow_an_item(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101"), home("2-1-101"), home("P-001", area="", kind="车位")])
    add_fee(conn, "LIFT", price="0.20", buildings=["2号楼"])
    run(conn, "2026-11")
    assert [b[0] for b in bills(conn)] == ["2-1-101"]


def test_a_one_off_item_is_billed_only_when_named_once_a_period(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    add_fee(conn, "DECO", price="300", basis="one_off", units=["1-1-101"])
    run(conn, "2026-11")
    assert [b[1] for b in bills(conn)] == ["PROP"]
    run(conn, "2026-11", items=["DECO"])
    assert run(conn, "2026-11", items=["DECO"]).created == 0
    assert [(b[1], b[2], b[6]) for b in bills(conn)] == [
        ("DECO", "2026-11", 30000),
        ("PROP", "2026-11", 22343),
    ]
    run(conn, "2027-03", items=["DECO"])  # a second renovation, another period
    assert len(bills(conn)) == 3


def test_a_cycle_ending_more_than_12_months_ahead_is_not_billed(conn, tmp_path):
    estate(conn, tmp_path, [home("P-001", area="", kind="车位")])
    add_fee(conn, "PARK", price="960", basis="fixed", kinds=("parking",), cycle="yearly")
    report = run(conn, "2028-02", as_of=date(2027, 4, 2))
    assert report.created == 0
    assert "之后 12 个月" in report.warnings[0]
    assert run(conn, "2027-05", as_of=date(2027, 4, 2)).created == 1


def test_owner_pays_from_the_month_after_even_a_delivery_on_the_first(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100", delivered="2026-11-01")])
    add_fee(conn)
    run(conn, "2026-11", settings=settings_with(owner_pays_from="next_month"))
    assert [b[7] for b in bills(conn)] == ["开发建设单位"]


def test_a_vacancy_discount_is_for_homes_only(conn, tmp_path):
    estate(conn, tmp_path, [home("S-1", kind="商铺", area="100", vacant="空置")])
    add_fee(conn, "SHOP", price="4", kinds=("commercial",))
    run(conn, "2026-11", settings=settings_with(vacancy_discount="0.3"))
    assert conn.execute("SELECT count(*) FROM adjustment").fetchone()[0] == 0


def test_a_price_change_published_after_its_date_is_refused_for_that_month(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn, price="2.00")
    with transaction(conn):
        fees.set_price(conn, "PROP", price="3.00", effective_from=date(2026, 6, 1), now=NOW)
        publication = fees.publish(
            conn, as_of=date(2026, 6, 16), now=NOW, settings=DEFAULTS, out_dir=None
        )
    assert "2026-06-16 才公示" in publication.warnings[0]
    # issue 15: a change takes effect no earlier than a month after it is posted; billing
    # June (once split at the publication day) is refused
    with pytest.raises(PropfeeError, match="最早 2026-07-16 起"):
        run(conn, "2026-06", as_of=date(2026, 7, 1))
    assert bills(conn) == []


def test_a_superseded_price_never_published_names_the_fix(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn, price="2.00", start=date(2026, 1, 1), publish_on=None)
    with transaction(conn):
        fees.set_price(conn, "PROP", price="3.00", effective_from=date(2026, 6, 1), now=NOW)
        fees.publish(conn, as_of=date(2026, 7, 1), now=NOW, settings=DEFAULTS, out_dir=None)
    with pytest.raises(PropfeeError, match="publish --recorded-later --published-on"):
        run(conn, "2026-03", as_of=date(2026, 11, 1))


def test_a_home_without_an_area_is_skipped_and_said(conn, tmp_path):
    estate(conn, tmp_path, [home("P-001", area="", kind="车位")])
    add_fee(conn, kinds=("parking",))
    report = run(conn, "2026-11")
    assert report.skip_counts() == {"no area": 1}


# ---------------------------------------------------------------- adjustments


def adjust(conn, bill_id, amount, kind="waiver", settings=DEFAULTS, **extra):
    extra.setdefault("reason", "电梯停运")
    extra.setdefault("approved_by", "王经理")
    with transaction(conn):
        return bill_run.adjust(
            conn,
            bill_id,
            amount_fen=amount,
            kind=kind,
            on=date(2026, 11, 20),
            now=NOW,
            settings=settings,
            **extra,
        )


def test_adjustments_are_rows_and_the_bill_never_changes(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    run(conn, "2026-11")
    result = adjust(conn, 1, -5000)
    assert (result.net_fen, result.outstanding_fen) == (20000, 20000)
    assert conn.execute("SELECT amount_fen FROM bill").fetchone()[0] == 25000
    adjust(conn, 1, 1000, kind="correction", basis_ref="PROP")  # issue 15: upward needs a basis
    assert tuple(conn.execute("SELECT basis_ref FROM adjustment WHERE amount_fen > 0").fetchone()) == (
        "PROP 物业服务费 ¥2.50元/㎡·月，2020-01-01 公示",
    )
    (line,) = unit_bills(conn, 1)
    assert (line.amount_fen, line.adjusted_fen, line.outstanding_fen) == (25000, -4000, 21000)


def test_a_waiver_never_takes_a_bill_below_zero(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    run(conn, "2026-11")
    with pytest.raises(PropfeeError, match="低于零"):
        adjust(conn, 1, -25001)
    adjust(conn, 1, -25000)
    assert conn.execute("SELECT settled_on FROM bill").fetchone()[0] == "2026-11-20"
    with pytest.raises(InvalidValue, match="请写负数"):
        adjust(conn, 1, 100)


def test_adjustments_need_a_reason_and_an_approver(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    run(conn, "2026-11")
    with pytest.raises(InvalidValue, match="--reason"):
        adjust(conn, 1, -100, reason=" ")
    with pytest.raises(InvalidValue, match="--approved-by"):
        adjust(conn, 1, -100, approved_by="")
    commission = settings_with(fee_model="酬金制")
    with pytest.raises(InvalidValue, match="业委会"):
        adjust(conn, 1, -100, settings=commission)
    adjust(conn, 1, -100, settings=commission, approval_ref="业委会决议〔2026〕3号")
    with pytest.raises(PropfeeError, match="没有账单 99"):
        adjust(conn, 99, -100)


# ---------------------------------------------------------------- publication


def test_publication_notice_and_record(conn, tmp_path):
    add_fee(conn, publish_on=None, services="保洁、绿化、秩序维护")
    settings = dataclasses.replace(
        DEFAULTS,
        estate=dataclasses.replace(
            DEFAULTS.estate,
            company="兰州翠湖物业服务有限公司",
            name="翠湖花园",
            phone="0931-8123456",
        ),
    )
    with transaction(conn):
        publication = fees.publish(
            conn, as_of=date(2026, 11, 1), now=NOW, settings=settings, out_dir=tmp_path / "pub"
        )
    text = publication.text_path.read_text(encoding="utf-8")
    for needed in (
        "兰州翠湖物业服务有限公司",
        "物业服务费",
        "2.50 元/㎡·月",
        "按建筑面积",
        "自交付（收房）之日起计费",
        "市场调节价",
        "12358",
        "保洁、绿化、秩序维护",
    ):
        assert needed in text, needed
    assert "<table>" in publication.html_path.read_text(encoding="utf-8")
    assert fees.get_item(conn, "PROP").prices[0].published_on == date(2026, 11, 1)
    stored = conn.execute("SELECT published_on, content FROM publication").fetchone()
    assert stored[0] == "2026-11-01" and "12358" in stored[1]


def test_fee_item_validation(conn):
    with pytest.raises(InvalidValue, match="basis"), transaction(conn):
        fees.add_item(
            conn,
            code="X",
            name="x",
            basis="volume",
            price="1",
            kinds=["residential"],
            cycle="monthly",
            effective_from=date(2026, 1, 1),
            now=NOW,
        )
    with pytest.raises(InvalidValue, match="--meter"), transaction(conn):
        fees.add_item(
            conn,
            code="W",
            name="水费",
            basis="metered",
            price="3.45",
            kinds=["residential"],
            cycle="monthly",
            effective_from=date(2026, 1, 1),
            now=NOW,
        )
    with pytest.raises(InvalidValue, match="不认识的房屋类型"), transaction(conn):
        fees.add_item(
            conn,
            code="X",
            name="x",
            basis="area",
            price="1",
            kinds=["castle"],
            cycle="monthly",
            effective_from=date(2026, 1, 1),
            now=NOW,
        )
    add_fee(conn)
    with pytest.raises(PropfeeError, match="已存在"):
        add_fee(conn)


def test_dates_are_iso_and_the_clock_is_passed_in(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    with transaction(conn):
        ledger.run_bills_and_apply_credit(
            conn,
            months=[date(2026, 11, 1)],
            as_of=date(2026, 11, 1),
            now=datetime(2031, 1, 1, 8, 0),
            settings=DEFAULTS,
        )
    assert conn.execute("SELECT created_at FROM bill").fetchone()[0] == "2031-01-01 08:00:00"


def test_a_sale_recorded_after_billing_is_rebilled_to_the_buyer(conn, tmp_path):
    from propfee.payments import ledger

    estate(conn, tmp_path, [home("1-1-103", area="100")])
    add_fee(conn)
    run(conn, "2026-12", "2027-01", as_of=date(2026, 12, 1))
    path = write_csv(
        tmp_path / "sale.csv", [["房号", "业主", "过户日期"], ["1-1-103", "钱买", "2026-12-10"]]
    )
    report = merge.import_roster(conn, path, as_of=date(2027, 1, 5), now=NOW)
    assert any("propfee rebill 1-1-103 --from 2026-12-10" in n for n in report.notices)
    with transaction(conn):
        moves = bill_run.rebill(
            conn,
            "1-1-103",
            first_day=date(2026, 12, 10),
            as_of=date(2027, 1, 5),
            now=NOW,
            settings=DEFAULTS,
        )
    # 250.00 × 22/31 = 177.42 of December, and all of January
    assert [(m.period, m.first, m.last, m.amount_fen, m.to_party) for m in moves] == [
        ("2026-12", "2026-12-10", "2026-12-31", 17742, "钱买"),
        ("2027-01", "2027-01-01", "2027-01-31", 25000, "钱买"),
    ]
    lines = {(b.period, b.party): b.outstanding_fen for b in ledger.unit_bills(conn, 1)}
    assert lines == {
        ("2026-12", "张三"): 7258,
        ("2026-12", "钱买"): 17742,
        ("2027-01", "张三"): 0,
        ("2027-01", "钱买"): 25000,
    }
    assert ledger.check(conn) == []
    with transaction(conn):
        assert (
            bill_run.rebill(
                conn,
                "1-1-103",
                first_day=date(2026, 12, 10),
                as_of=date(2027, 1, 5),
                now=NOW,
                settings=DEFAULTS,
            )
            == []
        )


def test_rebilling_refuses_to_take_paid_days_off_a_bill(conn, tmp_path):
    from propfee.payments import ledger

    estate(conn, tmp_path, [home("1-1-103", area="100")])
    add_fee(conn)
    run(conn, "2026-12", as_of=date(2026, 12, 1))
    with transaction(conn):
        ledger.record_payment(
            conn,
            "1-1-103",
            25000,
            channel="cash",
            ref=None,
            paid_on=date(2026, 12, 2),
            as_of=date(2026, 12, 2),
            now=NOW,
            settings=DEFAULTS,
        )
    merge.import_roster(
        conn,
        write_csv(
            tmp_path / "s.csv", [["房号", "业主", "过户日期"], ["1-1-103", "钱买", "2026-12-10"]]
        ),
        as_of=date(2026, 12, 20),
        now=NOW,
    )
    with pytest.raises(PropfeeError, match="请先冲正该笔缴费"), transaction(conn):
        bill_run.rebill(
            conn,
            "1-1-103",
            first_day=date(2026, 12, 10),
            as_of=date(2026, 12, 20),
            now=NOW,
            settings=DEFAULTS,
        )
