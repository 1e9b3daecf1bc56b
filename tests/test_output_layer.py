"""The one output layer: usage errors as one line, money in tables as ¥1,234.50 and in JSON and
CSV as "1234.50", wide tables that leave out what does not fit the terminal unless --wide."""

import json

import pytest
from rich.cells import cell_len
from rich.console import Console

from propfee.cli import common
from propfee.cli.lang import speak


@pytest.fixture
def terminal(monkeypatch):
    """The tables' console as a terminal of a given width."""

    def width(columns: int) -> None:
        monkeypatch.setattr(
            common.Env,
            "out",
            property(
                lambda self: self.__dict__.setdefault(
                    "_test_out", Console(width=columns, highlight=False, soft_wrap=False)
                )
            ),
        )

    return width


def test_a_usage_error_is_one_error_line_and_the_hint(cli):
    for args, words in (
        (("overdue", "--bogus"), "--bogus"),
        (("overdue", "--as-of", "2026-13-01"), "不是日期"),
        (("pay",), "缺少参数 'UNIT'"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 2, result.stderr
        assert lines[0].startswith("错误：") and words in lines[0]
        assert "-h" in lines[1] and "查看帮助" in lines[1]
        assert "╭" not in result.output and "用法" not in result.output


def test_a_usage_error_in_english(cli):
    try:
        speak("en")
        result = cli("overdue", "--bogus")
    finally:
        speak("zh")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith("error: No such option '--bogus'")
    assert "for help" in result.stderr.splitlines()[1]


def test_money_is_yuan_in_tables_and_a_decimal_string_in_json_and_csv(history, cli):
    table = cli("overdue", "--as-of", "2026-11-10", "--notice-board").stdout
    assert "¥446.86" in table
    csv_text = cli("overdue", "--as-of", "2026-11-10", "--notice-board", "-f", "csv").stdout
    assert "446.86" in csv_text and "¥" not in csv_text
    document = json.loads(cli("today", "--as-of", "2026-11-10", "-f", "json").stdout)
    amounts = [row["amount"] for row in document["rows"] if row["amount"] is not None]
    assert amounts and all(isinstance(a, str) and "." in a for a in amounts)
    plans = cli("latefee", "--as-of", "2026-11-10", "--wide").stdout
    assert "¥" in plans


@pytest.mark.parametrize(
    ("command", "left_out"),
    [
        (("contact", "list"), "通知书编号"),
        (("audit",), "参数"),
        (("latefee", "--as-of", "2026-11-10"), "利息损失"),
    ],
)
def test_a_wide_table_fits_the_terminal_and_wide_shows_every_column(
    history, cli, terminal, command, left_out
):
    terminal(80)
    table = cli(*command).stdout
    assert max(cell_len(line) for line in table.splitlines()) <= 80, table
    assert left_out not in table and "--wide" in table
    terminal(300)
    roomy = cli(*command).stdout
    assert left_out in roomy and "--wide" not in roomy
    terminal(80)
    wide = cli(*command, "--wide").stdout
    assert "--wide" not in wide
    assert wide.count("┳") == roomy.count("┳") > table.count("┳")  # every column, wrapped
    assert left_out in cli(*command, "--format", "csv").stdout.splitlines()[0]
