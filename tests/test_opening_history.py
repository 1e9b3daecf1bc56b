"""Opening balances from a previous system's 缴费历史: what was paid stays paid."""

from __future__ import annotations

import json

import pytest

from conftest import PROP_FEE, dump, query, write_csv, write_xlsx

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "交付日期"],
    ["1-1-101", "住宅", "100", "张三", "2020-01-01"],
    ["1-1-102", "住宅", "100", "李四", "2020-01-01"],
]

#: the previous system's layout: Excel serial dates, end dates exclusive (the next period's start)
LAYOUT = ["房屋", "收费项目", "开始时间", "结束时间", "缴费时间", "应缴金额", "实缴金额", "收银员"]
JAN_2024, JAN_2025, JAN_2026, FEB_2026 = 45292, 45658, 46023, 46054
PAID = [
    ["1-1-101", "物业服务费", JAN_2024, JAN_2025, JAN_2024 + 9, 3000, 3000, "王五"],
    ["1-1-101", "物业服务费", JAN_2025, JAN_2026, JAN_2025 + 9, 3000, 3000, "王五"],
    ["1-1-102", "物业服务费", JAN_2025, JAN_2026, JAN_2025 + 20, 3000, 3000, "赵六"],
]


@pytest.fixture
def estate(cli, tmp_path):
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    cli("fees", "publish", "--out", str(tmp_path), "--as-of", "2020-01-01")
    return cli


def _overdue(cli) -> list:
    result = cli("overdue", "--as-of", "2026-11-01", "--format", "json")
    return json.loads(result.stdout)["rows"]


def _bills(database) -> list[tuple]:
    return query(
        database,
        "SELECT u.code, b.covers_from, b.covers_to, b.amount_fen, b.settled_on "
        "FROM bill b JOIN unit u ON u.id = b.unit_id ORDER BY b.id",
    )


def test_a_paid_history_with_exclusive_ends_stays_paid(estate, tmp_path, database):
    path = write_xlsx(tmp_path / "缴费历史.xlsx", [LAYOUT, *PAID])
    result = estate("import-history", str(path))
    assert result.exit_code == 0, result.stderr
    assert "期初账单 3 条（¥9,000.00），缴费 3 笔（¥9,000.00）" in result.stdout
    assert "实缴金额 (G) → 实收金额" in result.stderr and "收银员 (H) → 收款人" in result.stderr
    assert "次日" in result.stderr  # the exclusive ends were noticed
    assert _bills(database) == [
        ("1-1-101", "2024-01-01", "2024-12-31", 300000, "2024-01-10"),
        ("1-1-101", "2025-01-01", "2025-12-31", 300000, "2025-01-10"),
        ("1-1-102", "2025-01-01", "2025-12-31", 300000, "2025-01-21"),
    ]
    assert _overdue(estate) == []
    assert estate("check").exit_code == 0
    again = estate("import-history", str(path))
    assert again.exit_code == 0 and "未变 3 条" in again.stdout


def test_a_single_exclusive_year_is_twelve_months(estate, tmp_path, database):
    path = write_csv(
        tmp_path / "h.csv",
        [
            LAYOUT,
            ["1-1-102", "物业服务费", "2025-01-01", "2026-01-01", "2025-01-05", "3000", "3000", ""],
        ],
    )
    assert estate("import-history", str(path)).exit_code == 0
    assert _bills(database)[0][1:3] == ("2025-01-01", "2025-12-31")


def test_inclusive_ends_are_kept(estate, tmp_path, database):
    path = write_csv(
        tmp_path / "h.csv",
        [
            LAYOUT,
            ["1-1-101", "物业服务费", "2025-01-01", "2025-06-30", "", "1500", "", ""],
            ["1-1-101", "物业服务费", "2025-07-01", "2025-12-31", "", "1500", "", ""],
        ],
    )
    result = estate("import-history", str(path))
    assert result.exit_code == 0 and "次日" not in result.stderr
    assert [b[2] for b in _bills(database)] == ["2025-06-30", "2025-12-31"]


RENAMED = ["房屋", "收费项目", "开始时间", "到期时间", "缴费时间", "应缴金额", "本次实付", "收银员"]


def test_a_renamed_money_column_is_refused_without_a_map(estate, tmp_path, database):
    path = write_xlsx(tmp_path / "h.xlsx", [RENAMED, *PAID])
    before = dump(database)
    result = estate("import-history", str(path))
    assert result.exit_code == 1
    assert "本次实付" in result.stderr and "--map" in result.stderr
    assert dump(database) == before


def test_renamed_headers_with_a_map(estate, tmp_path, database):
    path = write_xlsx(tmp_path / "h.xlsx", [[*RENAMED, "旧系统余额"], *[[*r, 0] for r in PAID]])
    column_map = tmp_path / "map.toml"
    column_map.write_text(
        '[columns]\n"本次实付" = "paid"\n"到期时间" = "end"\n"旧系统余额" = "ignore"\n',
        encoding="utf-8",
    )
    result = estate("import-history", str(path), "--map", str(column_map))
    assert result.exit_code == 0, result.stderr
    assert "本次实付 (G) → 实收金额" in result.stderr
    assert "未使用的列：旧系统余额" in result.stderr
    assert [b[2:] for b in _bills(database)] == [
        ("2024-12-31", 300000, "2024-01-10"),
        ("2025-12-31", 300000, "2025-01-10"),
        ("2025-12-31", 300000, "2025-01-21"),
    ]
    assert _overdue(estate) == []


def test_a_map_naming_an_unknown_field_is_refused(estate, tmp_path):
    column_map = tmp_path / "map.toml"
    column_map.write_text('[columns]\n"本次实付" = "amount"\n', encoding="utf-8")
    path = write_xlsx(tmp_path / "h.xlsx", [RENAMED, *PAID])
    result = estate("import-history", str(path), "--map", str(column_map))
    assert result.exit_code == 1 and "字段 'amount' 不存在" in result.stderr


def test_one_error_per_cause_with_the_row_ranges(estate, tmp_path, database):
    rows = [
        ["1-1-101", "物业费", f"2020-{m:02d}-01", "", "", "250", "", ""] for m in range(1, 13)
    ] * 1
    rows += [["9-9-999", "物业服务费", "2021-01-01", "", "", "250", "", ""]] * 2
    path = write_csv(tmp_path / "h.csv", [LAYOUT, *rows])
    before = dump(database)
    result = estate("import-history", str(path))
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("✗")]
    assert len(lines) == 2
    assert (
        "第 2–13 行：收费项目 '物业费' 不是收费项目 — 是否指 PROP 物业服务费？（共 12 行）"
        in lines[0]
    )
    assert "第 14–15 行" in lines[1] and "9-9-999" in lines[1]
    assert dump(database) == before


def test_three_thousand_rows_of_one_unknown_item_are_one_line(estate, tmp_path):
    rows = [
        ["1-1-101", "物业费", f"{2001 + i // 12}-{i % 12 + 1:02d}-01", "", "", "250", "", ""]
        for i in range(300)
    ] * 10
    path = write_csv(tmp_path / "h.csv", [LAYOUT, *rows])
    result = estate("import-history", str(path))
    assert result.exit_code == 1
    assert sum(line.startswith("✗") for line in result.stderr.splitlines()) == 1
    assert "第 2–3001 行" in result.stderr


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (["1-1-101", "物业服务费", "1999-01-01", "", "", "250", "", ""], "早于 2000-01-01"),
        (["1-1-101", "物业服务费", "2025-01-01", "", "2099-01-01", "250", "250", ""], "晚于"),
        (["1-1-101", "物业服务费", "2025-01-01", "", "", "99999999999", "", ""], "单行上限"),
        (["1-1-101", "物业服务费", "2025-01-01", "", "", "250", "1e30", ""], "实收"),
    ],
)
def test_absurd_history_rows_are_refused(estate, tmp_path, database, row, words):
    path = write_csv(tmp_path / "h.csv", [LAYOUT, row])
    before = dump(database)
    result = estate("import-history", str(path))
    assert result.exit_code == 1 and words in result.stderr and "第 2 行" in result.stderr
    assert dump(database) == before
