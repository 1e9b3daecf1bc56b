"""Meter readings, metered bills, and opening balances from the previous system."""

from datetime import date

import pytest
from test_billing import add_fee, bills, estate, home, run

from propfee.billing import meters
from propfee.config import DEFAULTS
from propfee.core.errors import FileFormatError, RowErrors
from propfee.payments import opening as history
from propfee.payments.ledger import unit_bills

from conftest import NOW, dump, write_csv, write_xlsx

READ_HEADER = ["房号", "表类型", "抄表日期", "本次读数", "是否换表"]


def readings(conn, tmp_path, rows, name="r.csv", **kwargs):
    path = write_csv(tmp_path / name, [READ_HEADER, *rows])
    return meters.import_readings(conn, path, now=NOW, **kwargs)


def usage(conn):
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT u.code, m.meter, m.read_on, m.reading, m.usage_x1000, m.replaced "
            "FROM meter_reading m JOIN unit u ON u.id = m.unit_id ORDER BY m.read_on, u.code"
        )
    ]


def test_usage_is_this_reading_minus_the_previous(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101"), home("1-1-102")])
    readings(
        conn,
        tmp_path,
        [
            ["1-1-101", "水表", "2026-10-31", "100.5", ""],
            ["1-1-102", "电表", "2026-10-31", "2000", ""],
        ],
    )
    report = readings(
        conn,
        tmp_path,
        [
            ["1-1-101", "水表", "2026-11-30", "112.75", ""],
            ["1-1-102", "电表", "2026-11-30", "2150", ""],
        ],
        "b.csv",
    )
    assert report.added == 2
    assert usage(conn)[2:] == [
        ("1-1-101", "water", "2026-11-30", "112.75", 12250, 0),
        ("1-1-102", "electricity", "2026-11-30", "2150", 150000, 0),
    ]


def test_a_lower_reading_needs_a_replaced_meter(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101")])
    readings(conn, tmp_path, [["1-1-101", "水表", "2026-10-31", "500", ""]])
    before = dump(db_path)
    with pytest.raises(RowErrors) as caught:
        readings(conn, tmp_path, [["1-1-101", "水表", "2026-11-30", "12", ""]], "b.csv")
    assert "低于上次读数 500" in caught.value.errors[0].message
    assert caught.value.errors[0].row == 2
    assert dump(db_path) == before
    readings(conn, tmp_path, [["1-1-101", "水表", "2026-11-30", "12", "是"]], "c.csv")
    assert usage(conn)[-1] == ("1-1-101", "water", "2026-11-30", "12", 12000, 1)


def test_reimporting_readings_changes_nothing(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101")])
    rows = [
        ["1-1-101", "水表", "2026-10-31", "100", ""],
        ["1-1-101", "水表", "2026-11-30", "110", ""],
    ]
    readings(conn, tmp_path, rows)
    before = dump(db_path)
    report = readings(conn, tmp_path, rows, "again.csv")
    assert (report.added, report.unchanged) == (0, 2)
    assert dump(db_path) == before
    with pytest.raises(RowErrors, match="行有误") as caught:
        readings(conn, tmp_path, [["1-1-101", "水表", "2026-11-30", "111", ""]], "c.csv")
    assert "已记录读数" in caught.value.errors[0].message


def test_bad_reading_rows(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    with pytest.raises(RowErrors) as caught:
        readings(
            conn,
            tmp_path,
            [
                ["9-9-999", "水表", "2026-10-31", "1", ""],
                ["1-1-101", "蒸汽", "2026-10-31", "1", ""],
                ["1-1-101", "水表", "2026-13-01", "1", ""],
                ["1-1-101", "水表", "2026-10-31", "abc", ""],
            ],
        )
    assert [e.row for e in caught.value.errors] == [3, 4, 5, 2]
    with pytest.raises(FileFormatError, match="抄表读数"):
        readings(conn, tmp_path, [], "empty.csv") if False else meters.import_readings(
            conn, write_csv(tmp_path / "x.csv", [["a", "b"], ["1", "2"]]), now=NOW
        )


def test_a_file_of_one_meter_with_the_option(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    path = write_xlsx(
        tmp_path / "w.xlsx", [["房号", "抄表日期", "读数"], ["1-1-101", date(2026, 10, 31), 10]]
    )
    assert meters.import_readings(conn, path, now=NOW, meter="water").added == 1


def test_a_metered_fee_bills_the_usage_of_its_cycle(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101"), home("1-1-102")])
    add_fee(conn, "WATER", price="3.45", basis="metered", meter="water", unit_label="元/吨")
    readings(
        conn,
        tmp_path,
        [
            ["1-1-101", "水表", "2026-10-31", "100", ""],
            ["1-1-101", "水表", "2026-11-30", "112.5", ""],
        ],
    )
    report = run(conn, "2026-11")
    assert report.skip_counts() == {"no meter reading": 1}
    (bill,) = bills(conn)
    assert bill[6] == 4313  # 12.5 t × 3.45 = 43.125 -> 43.13
    assert conn.execute("SELECT basis, covers_from, covers_to FROM bill").fetchone()[:] == (
        "12.5 × 3.45元/吨（2026-11-30 读数 112.5）",
        "2026-11-01",
        "2026-11-30",
    )


def test_a_reading_that_arrives_after_its_month_was_billed_is_billed_next(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn, "WATER", price="3.45", basis="metered", meter="water", unit_label="元/吨")
    readings(conn, tmp_path, [["1-1-101", "水表", "2026-10-31", "100", ""]])
    assert run(conn, "2026-10").skip_counts() == {"no usage (a first reading)": 1}
    run(conn, "2026-11")  # no November reading yet
    readings(conn, tmp_path, [["1-1-101", "水表", "2026-11-28", "108", ""]], "late.csv")
    readings(conn, tmp_path, [["1-1-101", "水表", "2026-12-31", "118", ""]], "dec.csv")
    run(conn, "2026-12", as_of=date(2027, 1, 2))
    (bill,) = bills(conn)
    assert (bill[2], bill[4], bill[5], bill[6]) == ("2026-12", "2026-11-01", "2026-12-31", 6210)


# ---------------------------------------------------------------- opening balances

HIST = [
    "房号",
    "收费项目",
    "开始日期",
    "结束日期",
    "应收金额",
    "实收金额",
    "缴费日期",
    "收款人",
    "备注",
]


def opening(conn, tmp_path, rows, name="h.csv", dry_run=False):
    path = write_csv(tmp_path / name, [HIST, *rows])
    return history.import_history(conn, path, now=NOW, settings=DEFAULTS, dry_run=dry_run)


def test_opening_balances_become_bills_and_payments(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101"), home("1-1-102")])
    add_fee(conn)
    report = opening(
        conn,
        tmp_path,
        [
            [
                "1-1-101",
                "物业服务费",
                "2025-01-01",
                "2025-12-31",
                "2680.44",
                "2680.44",
                "2025-01-10",
                "李会计",
                "全年",
            ],
            ["1-1-101", "PROP", "2026-01-01", "2026-06-30", "1340.22", "500", "2026-02-01", "", ""],
            ["1-1-102", "物业服务费", "2026-01-01", "2026-06-30", "1340.22", "", "", "", ""],
        ],
    )
    assert (report.bills, report.payments, report.due_fen, report.paid_fen) == (
        3,
        2,
        536088,
        318044,
    )
    lines = unit_bills(conn, 1)
    assert [(b.period, b.opening, b.outstanding_fen, b.settled_on) for b in lines] == [
        ("2025-01", True, 0, "2025-01-10"),
        ("2026-01", True, 84022, None),
    ]
    before = dump(db_path)
    again = opening(
        conn,
        tmp_path,
        [
            [
                "1-1-101",
                "物业服务费",
                "2025-01-01",
                "2025-12-31",
                "2680.44",
                "2680.44",
                "2025-01-10",
                "李会计",
                "全年",
            ],
        ],
        "again.csv",
    )
    assert (again.bills, again.unchanged) == (0, 1)
    assert dump(db_path) == before
    # the bill run does not bill those months again
    assert run(conn, "2026-03", as_of=date(2026, 3, 1)).created == 0


def test_opening_balance_errors(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    before = dump(db_path)
    with pytest.raises(RowErrors) as caught:
        opening(
            conn,
            tmp_path,
            [
                ["9-9-999", "物业服务费", "2025-01-01", "2025-01-31", "100", "", "", "", ""],
                ["1-1-101", "装修押金", "2025-01-01", "2025-01-31", "100", "", "", "", ""],
                ["1-1-101", "物业服务费", "2025-02-31", "", "100", "", "", "", ""],
                ["1-1-101", "物业服务费", "2025-03-01", "2025-03-31", "一百", "", "", "", ""],
            ],
        )
    errors = caught.value.errors
    assert [e.row for e in errors] == [2, 3, 4, 5]
    assert "不是收费项目；已有：PROP 物业服务费" in errors[1].message
    assert dump(db_path) == before


def test_opening_balances_by_period_column(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    path = write_xlsx(
        tmp_path / "h.xlsx",
        [
            ["房号", "费用名称", "所属期间", "应收", "实收"],
            ["1-1-101", "物业服务费", "2025-01~2025-03", 670.11, 0],
        ],
    )
    report = history.import_history(conn, path, now=NOW, settings=DEFAULTS)
    assert report.bills == 1
    assert tuple(conn.execute("SELECT covers_from, covers_to FROM bill").fetchone()) == (
        "2025-01-01",
        "2025-03-31",
    )


def test_the_bill_run_bills_only_the_days_opening_balances_leave(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    opening(
        conn,
        tmp_path,
        [["1-1-101", "物业服务费", "2026-03-01", "2026-03-15", "120.97", "", "", "", ""]],
    )
    report = run(conn, "2026-03", as_of=date(2026, 3, 1))
    assert report.created == 1
    assert [(b[3], b[4], b[5], b[6]) for b in bills(conn)] == [
        (0, "2026-03-01", "2026-03-15", 12097),
        (1, "2026-03-16", "2026-03-31", 12903),  # 250.00 × 16/31
    ]
    assert run(conn, "2026-03", as_of=date(2026, 3, 1)).already == 1


def test_opening_balances_that_overlap_are_refused(conn, tmp_path, db_path):
    estate(conn, tmp_path, [home("1-1-101")])
    add_fee(conn)
    opening(
        conn,
        tmp_path,
        [["1-1-101", "物业服务费", "2026-07-01", "2026-09-30", "900", "", "", "", ""]],
    )
    before = dump(db_path)
    with pytest.raises(RowErrors) as caught:
        opening(
            conn,
            tmp_path,
            [
                ["1-1-101", "物业服务费", "2026-08-01", "2026-08-31", "300", "", "", "", ""],
                ["1-1-101", "物业服务费", "2026-10-01", "2026-12-31", "900", "", "", "", ""],
                ["1-1-101", "物业服务费", "2026-11-01", "2026-11-30", "300", "", "", "", ""],
            ],
            "more.csv",
        )
    assert [(e.row, e.message[:20]) for e in caught.value.errors] == [
        (2, "1-1-101 PROP 在 2026-"),
        (4, "与第 3 行重叠（同一房号和收费项目，有"),
    ]
    assert dump(db_path) == before


def test_an_old_overpayment_pays_the_next_open_bill(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", area="100")])
    add_fee(conn)
    report = opening(
        conn,
        tmp_path,
        [
            [
                "1-1-101",
                "物业服务费",
                "2026-09-01",
                "2026-09-30",
                "250",
                "450",
                "2026-09-05",
                "",
                "",
            ],
            ["1-1-101", "物业服务费", "2026-10-01", "2026-10-31", "250", "", "", "", ""],
        ],
    )
    assert report.credit_fen == 0  # the 200 over paid October in part
    assert [b.outstanding_fen for b in unit_bills(conn, 1)] == [0, 5000]
