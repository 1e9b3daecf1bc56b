"""Owners, complaints, late fees, plans and the legal pack speak one language at a time:
Chinese by default, English on request (issue: Chinese first). A sample of commands runs in
each language, and each output is checked to hold no phrase of the other.

Help texts are fixed when the commands are built, so only what the commands print is switched
here; ``test_i18n`` checks the help pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from i18n_scan import CJK, NOISE

from propfee.cli import app
from propfee.cli.lang import speak
from propfee.collection import arrears, dunning, plans
from propfee.core import workdays
from propfee.core.i18n import zh
from propfee.roster import payers

from conftest import add_fee, estate, home, run, valid_id

AT = "2026-11-02 10:00"
# data a person typed (names, descriptions, notes): the same in either language
DATA = ("张三", "王奶奶", "漏水", "电梯噪音", "已修好", "工程部", "独居/高龄", "物业服务费")
# what a case's history records in its own words, whoever reads it (a record, like a document)
RECORDED = (
    zh("return-visit score {score} (dissatisfied), reopened").format(score=1),
    zh("return-visit score {score} (dissatisfied), referred to a manager").format(score=1),
)
PHRASE = re.compile(r"\b[A-Za-z]{2,}\b(?: +\b[A-Za-z]{2,}\b)+")


def _foreign_labels() -> list[str]:
    """Labels other modules still keep in Chinese: shown as they are until those modules move
    into the catalogue (then they are English msgids, and this list empties itself)."""
    tables = (
        arrears.HISTORY_LABELS,
        payers.ROLE_LABELS,
        plans.STATE_LABELS,
        workdays.SOURCE_NOTES,
        dunning.CHANNEL_LABELS,
        dunning.OUTCOME_LABELS,
    )
    labels = [str(v) for table in tables for v in table.values() if CJK.search(str(v))]
    return sorted(labels, key=len, reverse=True)


def _without_data(text: str) -> str:
    for value in (*RECORDED, *DATA, *_foreign_labels()):
        text = text.replace(value, " ")
    return text


def english_phrases(text: str) -> list[str]:
    """Phrases of two English words or more, once options, paths, commands and codes are out."""
    return PHRASE.findall(NOISE.sub(" ", _without_data(text)))


def chinese(text: str) -> list[str]:
    return re.findall(r"[\u3400-\u9fff]+", _without_data(text))


@pytest.fixture
def office(conn, tmp_path, cli):
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="100", owner="张三", phone="13800000001"),
            home("1-102", area="100", owner="王奶奶", phone="13800000002"),
        ],
    )
    conn.execute(
        "UPDATE party SET id_number = ? WHERE name = '王奶奶'", (valid_id(born="19561205"),)
    )
    conn.commit()
    add_fee(conn)
    run(conn, "2026-09", "2026-10", as_of=date(2026, 10, 1))
    return tmp_path


def _sample(cli, tmp_path) -> dict[str, str]:
    """Run the sample; every command must succeed (or fail as meant), and its output is kept."""
    out: dict[str, str] = {}

    def keep(name: str, *args: str, code: int = 0) -> None:
        result = cli(*args)
        assert result.exit_code == code, (name, result.output)
        out[name] = result.output

    keep("tag", "owners", "tag", "1-101", "--add", "hardship", "--add", "elderly", "--at", AT)
    keep(
        "add", "complain", "add", "1-101", "--kind", "request", "--category", "维修",
        "--channel", "counter", "--description", "漏水", "--at", AT,
    )  # fmt: skip
    keep(
        "add-2", "complain", "add", "1-102", "--category", "noise", "--channel", "phone",
        "--priority", "urgent", "--description", "电梯噪音", "--fee-dispute", "--at", AT,
    )  # fmt: skip
    keep(
        "assign", "complain", "assign", "TS2026-0001", "--to", "工程部", "--at", "2026-11-02 11:00"
    )
    keep(
        "resolve", "complain", "resolve", "TS2026-0001", "--note", "已修好",
        "--at", "2026-11-03 10:00",
    )  # fmt: skip
    keep("visit", "complain", "visit", "TS2026-0001", "--score", "1", "--at", "2026-11-04 10:00")
    keep("show", "complain", "show", "TS2026-0001")
    keep("list", "complain", "list", "--at", "2026-11-30 10:00")
    keep("list-csv", "complain", "list", "--at", "2026-11-30 10:00", "--format", "csv")
    keep("report", "complain", "report", "--at", "2026-11-30 10:00")
    keep("no-case", "complain", "show", "TS2026-0099", code=1)
    keep("bad-channel", "complain", "add", "1-101", "--channel", "fax", "--description", "x",
         "--at", AT, code=1)  # fmt: skip
    keep("bad-tag", "owners", "tag", "1-101", "--add", "独居/高龄", "--at", AT, code=1)
    keep(
        "plan", "plan", "create", "1-101", "--installments", "2", "--first-due", "2026-12-15",
        "--signed", "2026-11-20",
    )  # fmt: skip
    keep("plan-list", "plan", "list", "--as-of", "2026-12-31")
    keep("owner", "owners", "show", "1-101", "--as-of", "2026-11-30")
    keep("owner-csv", "owners", "show", "1-101", "--as-of", "2026-11-30", "--format", "csv")
    keep("care", "owners", "care", "--month", "2026-12")
    keep("latefee", "latefee", "--as-of", "2026-11-30")
    keep(
        "legal-pack", "legal-pack", "1-102", "--out", str(tmp_path / "pack"),
        "--as-of", "2026-11-30",
    )  # fmt: skip
    # the pack's summary line; the lines after it are the paths of its files (Chinese names:
    # documents for a court are Chinese whatever the operator reads)
    out["legal-pack"] = out["legal-pack"].splitlines()[0]
    return out


def test_the_sample_speaks_chinese_by_default(office, cli):
    out = _sample(cli, office)
    english = {name: english_phrases(text) for name, text in out.items()}
    assert {name: found for name, found in english.items() if found} == {}
    # the examples: labels, not codes
    assert "渠道 前台" in out["report"] and "渠道 电话" in out["report"]
    assert "phone" not in out["report"] and "counter" not in out["show"]
    assert "（前台，普通）" in out["show"]
    assert "高龄/独居老人" in out["tag"] and "elderly" not in out["tag"]
    assert "经济困难" in out["care"] and "高龄/独居老人" in out["care"]
    assert "维修" in out["list"] and "已办结待回访" not in out["list"]  # reopened by a low score
    rows = list(csv.reader(io.StringIO(out["list-csv"].lstrip("\ufeff"))))
    assert rows[0][:6] == ["编号", "房号", "姓名", "类型", "类别", "渠道"]
    assert {r[5] for r in rows[1:]} == {"前台", "电话"} and "紧急" in {r[6] for r in rows[1:]}


def test_the_sample_speaks_english_on_request(office, cli):
    speak("en")
    try:
        out = _sample(cli, office)
    finally:
        speak("zh")
    cjk = {name: chinese(text) for name, text in out.items()}
    assert {name: found for name, found in cjk.items() if found} == {}
    assert "channel front desk" in out["report"] and "channel phone" in out["report"]
    assert "(front desk, normal)" in out["show"]
    assert "elderly or living alone" in out["tag"] and "financial hardship" in out["care"]
    assert "no case 'TS2026-0099'" in out["no-case"]
    rows = list(csv.reader(io.StringIO(out["list-csv"].lstrip("\ufeff"))))
    assert rows[0][:6] == ["Number", "Unit no.", "Full name", "Type", "Category", "Intake channel"]
    assert {r[5] for r in rows[1:]} == {"front desk", "phone"}
    assert {r[4] for r in rows[1:]} == {"repairs", "noise"}


def test_json_keeps_the_codes_in_either_language(office, cli):
    import json

    speak("en")
    try:
        cli("complain", "add", "1-101", "--channel", "counter", "--description", "漏水", "--at", AT)
        english = json.loads(cli("complain", "show", "TS2026-0001", "-f", "json").stdout)
    finally:
        speak("zh")
    chinese_doc = json.loads(cli("complain", "show", "TS2026-0001", "-f", "json").stdout)
    assert english == chinese_doc
    assert (english["channel"], english["priority"], english["state"]) == (
        "counter",
        "normal",
        "open",
    )


def test_the_work_order_stays_chinese_for_english_staff(office, cli):
    speak("en")
    try:
        cli(
            "complain", "add", "1-101", "--kind", "request", "--category", "repair",
            "--channel", "counter", "--description", "漏水", "--at", AT,
        )  # fmt: skip
        made = cli("complain", "work-order", "TS2026-0001", "--out", str(office / "wo.html"))
    finally:
        speak("zh")
    assert made.exit_code == 0, made.output
    assert "work order TS2026-0001" in made.output
    page = (office / "wo.html").read_text(encoding="utf-8")
    assert "前台" in page and "报修/服务请求" in page and "front desk" not in page


COMMANDS = (
    *(f"complain {c}" for c in ("add", "list", "show", "work-order", "assign", "progress")),
    *(f"complain {c}" for c in ("resolve", "visit", "reopen", "merge", "report")),
    *(f"owners {c}" for c in ("show", "tag", "set", "care")),
    *(f"plan {c}" for c in ("create", "list", "show", "agreement")),
    "latefee",
    "legal-pack",
)


@pytest.mark.parametrize("width", ["80", "120"])
def test_help_pages_are_chinese_and_whole_at_80_and_120_columns(runner, width):
    for command in COMMANDS:
        result = runner.invoke(app, [*command.split(), "--help"], env={"COLUMNS": width})
        assert result.exit_code == 0, (command, result.output)
        assert "…" not in result.output, (command, width, result.output)
        assert max(len(line) for line in result.output.splitlines()) <= int(width), command
        assert "示例：" in result.output, command
    listing = runner.invoke(app, ["complain", "--help"], env={"COLUMNS": width}).output
    assert "统计：件数、按时办结率、回访、满意度。" in listing
