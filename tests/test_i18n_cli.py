"""Chinese first, through the command line: a sample of commands prints every message, header
and label in Chinese by default and in English with the language switched, each in one
language; CSV on stdout has a BOM and the headers of the reader's language."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from i18n_scan import CJK, NOISE

from propfee.cli import app, lang
from propfee.core import i18n

from conftest import add_fee, anything_made, build_demo, estate, home, run

#: data the estate holds, printed as it is in either language
DATA = ("张三", "李四", "物业服务费", "滞纳金", "元/㎡·月", "住宅", "市场调节价")
#: text that is not prose: unit codes, dates, paths, amounts, table rules
NOT_PROSE = re.compile(r"[\w./-]*[/\\][\w./\\-]*|\b\d[\d,.:-]*\b|[─━│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼╇╈╋┳┻]")
ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}[,;]? [A-Za-z]{2,}\b")


@pytest.fixture
def sample(conn, tmp_path):
    estate(conn, tmp_path, [home("1-1-101", owner="张三"), home("1-1-102", owner="李四")])
    add_fee(conn)
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    return conn


COMMANDS = (
    ("init",),
    ("fees", "list", "--as-of", "2026-10-15"),
    ("fees", "show", "PROP"),
    ("fees", "show", "NOPE"),
    (
        "fees",
        "add",
        "LATE",
        "--name",
        "滞纳金",
        "--basis",
        "area",
        "--price",
        "1",
        "--kinds",
        "residential",
        "--from",
        "2026-01-01",
    ),
    ("fees", "set-price", "PROP", "--price", "2.80", "--from", "2027-01-01"),
    ("fees", "end", "PROP", "--to", "2026-09-30"),
    ("search", "张三"),
    ("search", "--kind", "nothing", "王"),
    ("today", "--as-of", "2026-10-15"),
    ("backup", "--keep", "2"),
)


def _outputs(cli, language: str, commands=COMMANDS) -> str:
    lang.speak(language)
    try:
        texts = []
        for args in commands:
            result = cli(*args)
            texts.append(result.stdout + result.stderr)
        texts.append(cli("fees", "list", db=Path("missing.db")).stderr)
        return "\n".join(texts)
    finally:
        lang.speak("zh")


def _prose(text: str) -> str:
    for word in DATA:
        text = text.replace(word, " ")
    return NOT_PROSE.sub(" ", NOISE.sub(" ", text))


def test_a_sample_of_commands_speaks_chinese_by_default(sample, cli):
    assert i18n.current() == "zh"
    out = _outputs(cli, "zh")
    assert "数据库：" in out and "收费项目" in out and "价格记录" in out
    assert "没有收费项目 'NOPE'" in out and "错误：" in out
    assert "数据库不存在" in out and "已备份到" in out
    english = ENGLISH_PHRASE.findall(_prose(out))
    assert english == [], english


def test_the_same_commands_speak_english_when_asked(sample, cli):
    out = _outputs(cli, "en")
    assert "Database:" in out and "Fee item" in out and "Price history" in out
    assert "no fee item 'NOPE'" in out and "error:" in out
    assert "is a fine or late fee" in out and "late-fee clause" in out
    assert "no such database" in out and "backed up to" in out
    leftover = [line for line in out.splitlines() if CJK.search(_prose(line))]
    assert leftover == [], leftover
    assert i18n.current() == "zh"  # switched back for the rest of the suite


def test_the_calendar_reads_in_either_language(sample, cli):
    args = ("calendar", "--year", "2027", "--as-of", "2027-01-01")
    zh = _outputs(cli, "zh", [args])
    assert "2027 年节假日与调休" in zh and "星期" in zh and "周五" in zh and "休息" in zh
    assert ENGLISH_PHRASE.findall(_prose(zh)) == []
    en = _outputs(cli, "en", [args])
    assert "Holidays and make-up working days of 2027" in en and "Weekday" in en
    assert "Fri" in en and "day off" in en and "statutory holidays computed" in en


def test_csv_on_stdout_has_a_bom_and_the_readers_headers(sample, cli):
    zh = cli("fees", "list", "--format", "csv", "--as-of", "2026-10-15").stdout
    assert zh.startswith("\ufeff代码,收费项目,计费方式,周期,适用,现行标准,公示日期,调整,停止收费")
    assert "按建筑面积,按月" in zh and "area" not in zh and "monthly" not in zh
    lang.speak("en")
    try:
        en = cli("fees", "list", "--format", "csv", "--as-of", "2026-10-15").stdout
    finally:
        lang.speak("zh")
    assert en.startswith("\ufeffCode,Fee item,Basis,Cycle,Applies to,Current price,Published")
    assert "by floor area,monthly" in en


def test_money_at_the_terminal_is_one_format(sample, cli):
    out = cli("fees", "end", "PROP", "--to", "2026-09-30").stderr
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d\d", out), out  # ¥223.43, ¥1,234.50


def _help(args: list[str], language: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LANG", "LC_"))}
    env.update(PROPFEE_LANG=language, COLUMNS="80")
    return subprocess.run(
        [sys.executable, "-m", "propfee", *args, "-h"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout


def test_help_of_fee_commands_is_in_one_language():
    zh = _help(["fees"], "zh")
    assert "收费标准" in zh and "添加收费项目及首个价格。" in zh
    en = _help(["fees"], "en")
    assert "Add a fee item with its first price." in en
    assert not CJK.search(en), en


# what the demo's estate, files and survey are called: data, in either language
DEMO_DATA = re.compile(
    r"propfee-demo/\S*|'[^'\n]*'|\S*\.(?:xlsx|csv|html)\b|\d{4}年度|维修|保洁|催\d{4}-\d{4}"
    r"|序号|说明：\S*|到期前|[^\s]*…"
)


def test_the_demo_summary_speaks_the_operators_language(engine, tmp_path, request):
    outputs = {}
    for language in ("zh", "en"):
        lang.speak(language)
        try:
            demo = build_demo(engine, tmp_path / language, request, "--as-of", "2026-11-15")
        finally:
            lang.speak("zh")
        summary = (demo.output + demo.errors).split("propfee units list")[0]
        outputs[language] = DEMO_DATA.sub(" ", summary)
    assert "收缴率" in outputs["zh"] and "collection rate" in outputs["en"]
    english = ENGLISH_PHRASE.findall(_prose(outputs["zh"]))
    assert english == [], english
    chinese = [line for line in outputs["en"].splitlines() if CJK.search(_prose(line))]
    assert chinese == [], chinese


def test_a_wrong_choice_is_refused_in_the_operators_language(runner, database):
    """Typer's own check of a choice speaks through the catalogue, without the validator's
    English "Value error, " in front."""
    result = runner.invoke(app, ["report", "collection", "--by", "bogus", "--db", database])
    assert result.exit_code == 2
    assert "'bogus' 不是可选的值；可选：'building', 'fee', 'kind'。" in result.output
    assert "Value error" not in result.output
    assert not anything_made(database)


def test_help_names_value_types_in_chinese_and_shows_none_beside_a_flag(runner):
    result = runner.invoke(app, ["overdue", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    line = {ln.split()[1]: ln for ln in result.output.splitlines() if ln.startswith("│ --")}
    assert "整数" in line["--min-days"]
    assert "文本" in line["--building"]
    assert "YYYY-MM-DD" in line["--as-of"]  # a metavar of our own is kept
    assert not re.search(r"<(bool|str|int|float|path)>", result.output)
    assert line["--wide"].split("│")[1].split()[1:2] != ["<bool>"]


def test_arguments_are_named_as_the_readme_writes_them(runner):
    usage = runner.invoke(app, ["pay", "--help"], env={"COLUMNS": "120"}).output
    assert "propfee pay [OPTIONS] UNIT AMOUNT" in usage
    assert "{unit}" not in usage
    missing = runner.invoke(app, ["pay"])
    assert missing.exit_code == 2 and "缺少参数 'UNIT'" in missing.output
    assert "[FILE]" in runner.invoke(app, ["backup", "--help"], env={"COLUMNS": "120"}).output
