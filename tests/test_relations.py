"""Owner relations: working-day deadlines, the life of a case, fee disputes, owner profiles,
tags and the care list. Every clock is pinned: commands get --at, the core gets its times."""

import dataclasses
import json
from datetime import date, datetime

import pytest

from propfee.collection import arrears
from propfee.config import DEFAULTS, Complaints
from propfee.core import workdays
from propfee.core.errors import InvalidValue, PropfeeError
from propfee.service import complaints
from propfee.store.db import transaction

from conftest import NOW, add_fee, estate, home, run, valid_id

AT = "2026-09-30 10:00"


def test_working_days_skip_the_national_day_holiday_and_count_the_make_up_saturday():
    opened = datetime(2026, 9, 30, 10, 0)
    three = workdays.deadline(opened, "3d", "09:00", "18:00")
    assert three.at == datetime(2026, 10, 10, 23, 59, 59)  # Oct 8, Oct 9, Sat Oct 10 (调休)
    assert three.calendar == workdays.MAINLAND
    assert workdays.deadline(opened, "2d", "09:00", "18:00").at == datetime(2026, 10, 9, 23, 59, 59)


def test_working_hours_run_within_the_working_day():
    friday = datetime(2026, 11, 20, 16, 0)
    assert workdays.deadline(friday, "4h", "09:00", "18:00").at == datetime(2026, 11, 23, 11, 0)
    evening = datetime(2026, 11, 23, 20, 0)  # after hours: the clock starts next morning
    assert workdays.deadline(evening, "2h", "09:00", "18:00").at == datetime(2026, 11, 24, 11, 0)
    before_holiday = datetime(2026, 9, 30, 17, 0)
    assert workdays.deadline(before_holiday, "2h", "09:00", "18:00").at == datetime(
        2026, 10, 8, 10, 0
    )


def test_a_year_the_published_calendar_does_not_cover_counts_statutory_holidays_and_says_so():
    far = workdays.deadline(datetime(2031, 4, 30, 10, 0), "3d", "09:00", "18:00")
    assert far.calendar == workdays.STATUTORY and far.approximate
    assert far.at == datetime(2031, 5, 7, 23, 59, 59)  # 劳动节 May 1–5 computed; Tue 6, Wed 7


@pytest.fixture
def estate_with_cases(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="100", owner="张三", phone="13800000001"),
            home("1-102", area="100", owner="李四", phone="13800000002"),
        ],
    )
    return conn


def settings_with(**values):
    return dataclasses.replace(DEFAULTS, complaints=dataclasses.replace(Complaints(), **values))


def test_a_repair_registered_before_the_holiday_is_due_after_it(estate_with_cases, cli, tmp_path):
    toml = tmp_path / "propfee.toml"
    toml.write_text('[complaints.deadlines]\n"维修.normal" = "3d"\n', encoding="utf-8")
    result = cli(
        "complain", "add", "1-101", "--kind", "request", "--category", "维修", "--priority",
        "normal", "--description", "卫生间漏水", "--at", AT, "--config", str(toml), "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    case = json.loads(result.stdout)
    assert (case["number"], case["deadline_at"]) == ("TS2026-0001", "2026-10-10 23:59:59")
    toml.write_text('[complaints.deadlines]\n"维修.normal" = "2d"\n', encoding="utf-8")
    second = json.loads(
        cli(
            "complain", "add", "1-102", "--kind", "request", "--category", "repair",
            "--description", "门禁坏了", "--at", AT, "--config", str(toml), "-f", "json",
        ).stdout
    )  # fmt: skip
    assert second["deadline_at"] == "2026-10-09 23:59:59"


def test_a_case_keeps_its_whole_history(estate_with_cases, cli):
    def run_cli(*args):
        result = cli("complain", *args)
        assert result.exit_code == 0, result.output
        return result

    run_cli("add", "1-101", "--kind", "request", "--category", "维修", "--description", "漏水",
            "--at", AT, "--by", "前台李娜")  # fmt: skip
    run_cli(
        "assign", "TS2026-0001", "--to", "工程部王师傅", "--at", "2026-09-30 11:00", "--by", "李娜"
    )
    run_cli("progress", "TS2026-0001", "--note", "已上门查看", "--at", "2026-10-08 09:30")
    run_cli("resolve", "TS2026-0001", "--note", "更换管件", "--at", "2026-10-09 15:00")
    run_cli("visit", "TS2026-0001", "--score", "5", "--comment", "满意", "--at", "2026-10-10 10:00")
    shown = json.loads(run_cli("show", "TS2026-0001", "-f", "json").stdout)
    assert [e["action"] for e in shown["events"]] == [
        "open",
        "assign",
        "progress",
        "resolve",
        "visit",
    ]
    assert (
        shown["events"][1]["assignee"] == "工程部王师傅" and shown["events"][1]["actor"] == "李娜"
    )
    assert (shown["state"], shown["on_time"], shown["score"]) == ("closed", True, 5)
    table = run_cli("show", "TS2026-0001").stdout
    for needed in ("派单", "进展", "办结", "回访", "5分"):
        assert needed in table


def test_a_low_score_reopens_the_case_or_flags_it(estate_with_cases):
    conn = estate_with_cases

    def case(settings, unit):
        at = datetime(2026, 11, 2, 9)
        with transaction(conn):
            made, _ = complaints.add(
                conn, unit, kind="complaint", category="保洁", channel="phone",
                priority="normal", description="楼道脏", at=at, now=NOW, settings=settings,
            )  # fmt: skip
            complaints.resolve(
                conn, made.number, note="已清扫", at=datetime(2026, 11, 3, 9), now=NOW
            )
            return complaints.visit(
                conn, made.number, score=2, comment="还是脏", at=datetime(2026, 11, 4, 9),
                now=NOW, settings=settings,
            )  # fmt: skip

    reopened = case(DEFAULTS, "1-101")
    assert (reopened.state, reopened.reopened) == ("open", 1)
    flagged = case(settings_with(low_score_action="flag"), "1-102")
    assert (flagged.state, flagged.flagged) == ("closed", True)


def test_a_fee_dispute_holds_the_arrears_until_resolved_and_visited(estate_with_cases):
    conn = estate_with_cases
    add_fee(conn)
    run(conn, "2026-08", "2026-09", as_of=date(2026, 8, 1))

    def tier(day):
        rows = {r.unit: r for r in arrears.overdue(conn, as_of=day, settings=DEFAULTS)}
        return rows["1-101"].tier

    assert tier(date(2026, 10, 20)) == "notice"
    with transaction(conn):
        made, _ = complaints.add(
            conn, "1-101", kind="complaint", category="收费", channel="counter",
            priority="normal", description="公共照明不亮仍收全额物业费", fee_dispute=True,
            at=datetime(2026, 10, 21, 10), now=NOW, settings=DEFAULTS,
        )  # fmt: skip
    assert tier(date(2026, 10, 22)) == "dispute"
    assert tier(date(2026, 10, 20)) == "notice"  # as of before the complaint
    with transaction(conn):
        complaints.resolve(
            conn, made.number, note="照明已修复", at=datetime(2026, 10, 25, 9), now=NOW
        )
    assert tier(date(2026, 10, 26)) == "dispute"  # resolved, not yet visited
    with transaction(conn):
        complaints.visit(
            conn, made.number, score=4, comment="认可", at=datetime(2026, 10, 27, 9), now=NOW,
            settings=DEFAULTS,
        )  # fmt: skip
    assert tier(date(2026, 10, 28)) == "notice"


def test_merge_list_filters_report_and_excel(estate_with_cases, cli, tmp_path):
    from openpyxl import load_workbook

    for unit, category, at in (
        ("1-101", "噪音", "2026-11-02 09:00"),
        ("1-102", "噪音", "2026-11-02 09:30"),
        ("1-102", "保洁", "2026-11-03 09:00"),
    ):
        assert cli("complain", "add", unit, "--category", category, "--description", "x",
                   "--at", at).exit_code == 0  # fmt: skip
    assert cli("complain", "merge", "TS2026-0002", "--into", "TS2026-0001", "--at",
               "2026-11-02 10:00").exit_code == 0  # fmt: skip
    assert cli("complain", "resolve", "TS2026-0001", "--note", "已劝导", "--at",
               "2026-11-03 10:00").exit_code == 0  # fmt: skip
    listed = cli("complain", "list", "--at", "2026-11-20 10:00", "-f", "json")
    listed = json.loads(listed.stdout)["rows"]
    states = {c["number"]: c["state"] for c in listed}
    assert states == {"TS2026-0001": "resolved", "TS2026-0002": "merged", "TS2026-0003": "open"}
    overdue = json.loads(
        cli("complain", "list", "--overdue", "--at", "2026-11-20 10:00", "-f", "json").stdout
    )["rows"]
    assert [c["number"] for c in overdue] == ["TS2026-0003"]
    waiting = json.loads(
        cli("complain", "list", "--awaiting-visit", "--at", "2026-11-20 10:00", "-f", "json").stdout
    )["rows"]
    assert [c["number"] for c in waiting] == ["TS2026-0001"]
    report = json.loads(cli("complain", "report", "--at", "2026-11-20 10:00", "-f", "json").stdout)
    assert (report["cases"], report["resolved"], report["on_time"], report["overdue_now"]) == (
        2,
        1,
        1,
        1,
    )
    assert report["mean_hours_to_resolve"] == 10.0  # Mon 09:00–18:00, then Tue 09:00–10:00
    out = tmp_path / "cases.xlsx"
    assert cli("complain", "list", "--at", "2026-11-20 10:00", "--out", str(out)).exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "本小区　投诉报修" and "截至：2026-11-20" in rows[1][0]
    assert rows[3][:3] == ("编号", "房号", "姓名") and len(rows) == 7  # under the title block


def test_case_input_is_checked_and_nothing_is_written(estate_with_cases, cli):
    for args, message in (
        (["1-101", "--category", "天气", "--description", "x"], "--category"),
        (["1-101", "--channel", "fax", "--description", "x"], "--channel"),
        (["1-101", "--priority", "asap", "--description", "x"], "--priority"),
        (["1-101"], "--description"),
        (["9-999", "--description", "x"], "9-999"),
        (["1-101", "--kind", "request", "--fee-dispute", "--description", "x"], "--fee-dispute"),
        (["1-101", "--description", "x", "--at", "2028-01-01 10:00"], "2028-01-01 10:00"),
    ):
        at = [] if "--at" in args else ["--at", AT]
        result = cli("complain", "add", *args, *at)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert estate_with_cases.execute("SELECT count(*) FROM complaint").fetchone()[0] == 0
    assert cli("complain", "add", "1-101", "--description", "x", "--at", AT).exit_code == 0
    for args, message in (
        (["visit", "TS2026-0001", "--score", "4", "--at", "2026-10-01 10:00"], "须先办结再回访"),
        (["resolve", "TS2026-0001", "--note", "x", "--at", "2026-09-29 10:00"], "早于"),
        (["reopen", "TS2026-0001", "--reason", "x", "--at", "2026-10-01 10:00"], "只有已办结"),
        (["merge", "TS2026-0001", "--into", "TS2026-0001", "--at", "2026-10-01 10:00"], "它自己"),
        (["show", "TS2026-0099"], "没有案件"),
    ):
        result = cli("complain", *args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_owner_profile_tags_and_care_list(conn, tmp_path, cli):
    born_in_december = valid_id(born="19561205")
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="100", owner="张三", phone="13800000001"),
            home("1-102", area="100", owner="王奶奶", phone="13800000002"),
        ],
    )
    conn.execute("UPDATE party SET id_number = ? WHERE name = '王奶奶'", (born_in_december,))
    conn.commit()
    add_fee(conn)
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    assert (
        cli("owners", "tag", "1-101", "--add", "hardship", "--add", "vip", "--at", AT).exit_code
        == 0
    )
    assert cli("owners", "tag", "1-101", "--remove", "vip", "--at", AT).exit_code == 0
    bad = cli("owners", "tag", "1-101", "--add", "two words", "--at", AT)
    assert bad.exit_code == 1
    assert cli("complain", "add", "1-101", "--description", "电梯异响", "--at", AT).exit_code == 0
    (profile,) = json.loads(cli("owners", "show", "13800000001", "-f", "json").stdout)["rows"]
    assert profile["name"] == "张三" and profile["tags"] == ["hardship"]
    assert profile["owed"] == "250.00"
    assert profile["phones"] == "138****0001"  # masked unless --no-mask
    assert [c["number"] for c in profile["cases"]] == ["TS2026-0001"]
    by_unit = json.loads(cli("owners", "show", "1-102", "-f", "json").stdout)["rows"]
    assert by_unit[0]["name"] == "王奶奶"
    assert json.loads(cli("owners", "show", "张", "-f", "json").stdout)["rows"][0]["name"] == "张三"
    care = json.loads(cli("owners", "care", "--month", "2026-12", "-f", "json").stdout)
    people = {p["name"]: p for p in care["rows"]}
    assert people["王奶奶"]["birthday"] == "12-05" and people["王奶奶"]["age"] == 70
    assert people["王奶奶"]["phone"] == "138****0002"
    assert "经济困难" in people["张三"]["why"]  # tagged: on every month's list
    nobody = cli("owners", "show", "赵六六", "-f", "json")
    assert nobody.exit_code == 1 and "没有与" in nobody.output


def test_the_legal_pack_lists_the_unit_s_cases(estate_with_cases, tmp_path):
    from propfee.collection.legalpack import build

    with transaction(estate_with_cases):
        complaints.add(
            estate_with_cases, "1-101", kind="complaint", category="维修", channel="phone",
            priority="normal", description="电梯停运", at=datetime(2026, 11, 2, 9), now=NOW,
            settings=DEFAULTS,
        )  # fmt: skip
    pack = build(
        estate_with_cases, "1-101", out_dir=tmp_path / "p", as_of=date(2026, 11, 30),
        settings=DEFAULTS,
    )  # fmt: skip
    cover = pack.files[0].read_text(encoding="utf-8")
    assert "电梯停运" in cover


def test_bad_complaint_settings_name_the_key(tmp_path):
    from propfee.config import load_settings
    from propfee.core.errors import ConfigError

    toml = tmp_path / "propfee.toml"
    toml.write_text('[complaints.deadlines]\nnormal = "three days"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"complaints\.deadlines"):
        load_settings(toml)
    toml.write_text('[complaints]\nlow_score_action = "ignore"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="low_score_action"):
        load_settings(toml)


def test_errors_are_user_errors():
    assert issubclass(InvalidValue, PropfeeError)
