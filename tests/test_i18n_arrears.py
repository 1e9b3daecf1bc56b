"""Arrears, reminders, the contact log, plans and late fees speak one language at a time:
Chinese by default, English on request (issue: Chinese first)."""

from __future__ import annotations

import re

import pytest
from i18n_scan import CJK, NOISE
from rich.cells import cell_len

from propfee.cli.lang import speak

# data, not words: the characters of the test estate's names and notes (a table may wrap a
# name over two lines), a notice number, the reminders' folder
DATA = re.compile(r"[张三李四王五赵六陇原商贸有限公司电梯长期故障]|催\d|催缴")
# English that stays in a Chinese page: the prefixes of every command's errors and warnings,
# a metavar, rule names, and the values an option takes (typed as they are)
VALUES = (
    "gentle call notice legal dispute promised plan forgot hardship refusal other phone visit "
    "sms wechat letter registered mail email reached refused unreachable resolved"
)
ALLOWED = {"error", "warning", "UNIT", "LEGAL", "EMS", *VALUES.split()}


def english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]{3,}", NOISE.sub(" ", text))) - ALLOWED


def chinese(text: str) -> list[str]:
    return CJK.findall(DATA.sub(" ", text))


def both(run):
    """Run ``run()`` in Chinese, then in English; the two outputs."""
    zh = run()
    try:
        speak("en")
        en = run()
    finally:
        speak("zh")
    return zh, en


def assert_one_language(zh: str, en: str) -> None:
    assert CJK.search(zh), zh
    assert english_words(zh) == set(), zh
    assert chinese(en) == [], en
    assert re.search(r"[A-Za-z]{3,}", en), en


SAMPLES = {
    "overdue": ("overdue", "--as-of", "2026-11-10"),
    "overdue --wide": ("overdue", "--as-of", "2026-11-10", "--wide"),
    "overdue csv": ("overdue", "--as-of", "2026-11-10", "--format", "csv"),
    "overdue by building": ("overdue", "--as-of", "2026-11-10", "--by", "building"),
    "overdue limitation": ("overdue", "--as-of", "2026-11-10", "--limitation"),
    "overdue bad tier": ("overdue", "--as-of", "2026-11-10", "--tier", "nope"),
    "contact list": ("contact", "list"),
    "contact add": (
        "contact",
        "add",
        "1-101",
        "--channel",
        "phone",
        "--outcome",
        "promised",
        "--promise-date",
        "2026-11-20",
        "--at",
        "2026-11-10 10:00",
    ),
    "contact add at night": (
        "contact",
        "add",
        "1-101",
        "--channel",
        "phone",
        "--outcome",
        "reached",
        "--at",
        "2026-11-10 23:30",
    ),
    "contact add bad channel": (
        "contact",
        "add",
        "1-101",
        "--channel",
        "pigeon",
        "--outcome",
        "reached",
    ),
    "contact deliver unknown": ("contact", "deliver", "催2099-9999", "--proof", "EMS 1"),
    "plan create bad count": (
        "plan",
        "create",
        "1-101",
        "--installments",
        "0",
        "--first-due",
        "2026-12-15",
        "--signed",
        "2026-11-10",
    ),
    "latefee post without unit": ("latefee", "post", "--as-of", "2026-11-10"),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_each_output_is_in_one_language(history, cli, name):
    args = SAMPLES[name]
    zh, en = both(lambda: cli(*args).output)
    assert_one_language(zh, en)


def test_a_reminder_run_reports_in_one_language(history, cli, tmp_path):
    def run():
        return cli(
            "remind",
            "--as-of",
            "2026-11-10",
            "--at",
            "10:00",
            "--dry-run",
            "--out",
            str(tmp_path / "out"),
        ).output

    zh, en = both(run)
    assert "试运行" in zh and "dry run" in en
    assert_one_language(zh, en)


def test_the_overdue_table_fits_a_terminal_and_wide_shows_every_column(history, cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    table = cli("overdue", "--as-of", "2026-11-10").output
    assert "房号" in table and "催缴阶段" in table and "最近联系" in table
    assert "缴费习惯" not in table
    widths = [cell_len(line) for line in table.splitlines()]
    assert max(widths) <= 100, table
    wide = cli("overdue", "--as-of", "2026-11-10", "--wide").output
    assert "缴费习惯" in wide and "电话" in wide
    csv_text = cli("overdue", "--as-of", "2026-11-10", "--format", "csv").output
    assert "缴费习惯" in csv_text.splitlines()[0]  # the CSV always has every column


def test_help_of_the_arrears_commands_is_chinese(cli):
    for args in (("overdue",), ("remind",), ("contact", "add"), ("contact", "import")):
        page = cli(*args, "--help").output
        assert CJK.search(page)
        assert "Who owes what" not in page and "Log a call" not in page
