"""Working days after the libraries' last year: the estate's [calendar] table, chinesecalendar,
then the statutory holidays the holidays package computes; `propfee calendar` shows which
source decides each day. Every date is fixed."""

import json
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from propfee.config import ConfigError, load_settings
from propfee.core import workdays
from propfee.service.deadlines import warn_once_a_day

from conftest import estate, home

OFFICIAL_2027 = """
[calendar]
holidays = ["2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
            "2027-02-10", "2027-02-11"]
workdays = ["2027-02-14", 2027-02-20]
"""


def settings_from(tmp_path, text):
    path = tmp_path / "propfee.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_a_request_before_the_2027_spring_festival_is_due_after_it_with_no_settings():
    due = workdays.deadline(datetime(2027, 2, 3, 10, 0), "3d", "09:00", "18:00")
    # Thu 02-04 counts; 除夕 to 02-10 rest (春节 and its 补假); Thu 02-11 and Fri 02-12 count
    assert due.at == datetime(2027, 2, 12, 23, 59, 59)
    assert due.at.date() != date(2027, 2, 8)  # what weekends alone would give
    assert due.calendar == workdays.STATUTORY and due.approximate


def test_the_official_make_up_saturday_counts_once_it_is_in_the_settings(tmp_path):
    calendar = settings_from(tmp_path, OFFICIAL_2027).calendar.days()
    opened = datetime(2027, 2, 12, 10, 0)  # a Friday after the holiday
    due = workdays.deadline(opened, "1d", "09:00", "18:00", calendar)
    assert due.at == datetime(2027, 2, 14, 23, 59, 59)  # Sunday 02-14 is a 调休 working day
    assert due.calendar == workdays.SETTINGS and not due.approximate
    without = workdays.deadline(opened, "1d", "09:00", "18:00")
    assert without.at == datetime(2027, 2, 15, 23, 59, 59)
    # the estate's extra rest day (02-11) and make-up Sunday move a deadline: 02-04, 02-12, 02-14
    due = workdays.deadline(datetime(2027, 2, 3, 10), "3d", "09:00", "18:00", calendar)
    assert due.at == datetime(2027, 2, 14, 23, 59, 59)
    hours = workdays.deadline(datetime(2027, 2, 13, 10), "2h", "09:00", "18:00", calendar)
    assert hours.at == datetime(2027, 2, 14, 11, 0)


def test_a_year_the_estate_entered_is_exact_on_its_other_days_too(tmp_path):
    calendar = settings_from(tmp_path, OFFICIAL_2027).calendar.days()
    due = workdays.deadline(datetime(2027, 4, 30, 10, 0), "3d", "09:00", "18:00", calendar)
    assert due.at == datetime(2027, 5, 7, 23, 59, 59)  # 劳动节 05-01…05-04 from the statutory
    assert due.calendar == workdays.SETTINGS
    assert workdays.make_up_days_known(calendar, 2027)
    assert not workdays.make_up_days_known(workdays.DEFAULT, 2027)


def test_deadlines_of_2026_are_what_the_published_calendar_gives():
    """Every 3-day and 1-day deadline opened in 2026 matches chinesecalendar day by day, with
    or without a settings table for 2027."""
    calendar = workdays.Calendar(frozenset({date(2027, 2, 5)}), frozenset({date(2027, 2, 14)}))

    def reference(opened: date, days: int) -> date | None:
        day, counted = opened, 0
        while counted < days:
            day += timedelta(days=1)
            if day.year > 2026:
                return None  # past what the published calendar covers
            counted += chinese_calendar.is_workday(day)
        return day

    day = date(2026, 1, 1)
    while day.year == 2026:
        for days in (1, 3):
            if reference(day, days) is None:
                continue
            expected = datetime.combine(reference(day, days), datetime.max.time()).replace(
                microsecond=0
            )
            for cal in (workdays.DEFAULT, calendar):
                due = workdays.deadline(
                    datetime.combine(day, datetime.min.time()), f"{days}d", "09:00", "18:00", cal
                )
                assert (due.at, due.calendar) == (expected, workdays.MAINLAND), day
        day += timedelta(days=1)


def test_a_year_no_source_knows_counts_weekends_only_and_says_so():
    assert workdays.statutory_year(1900) is None
    due = workdays.deadline(datetime(1900, 1, 5, 10, 0), "1d", "09:00", "18:00")  # a Friday
    assert due.at == datetime(1900, 1, 8, 23, 59, 59)
    assert due.calendar == workdays.WEEKENDS and due.approximate


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[calendar]\nholidays = ["2027-02-30"]\n', "calendar.holidays：'2027-02-30' 不是日期"),
        ("[calendar]\nworkdays = [14]\n", "calendar.workdays：14 不是日期"),
        ('[calendar]\nholidays = "2027-02-05"\n', "calendar.holidays 必须是日期列表"),
        (
            '[calendar]\nholidays = ["2027-02-14"]\nworkdays = ["2027-02-14"]\n',
            "2027-02-14 既是假日又是工作日",
        ),
        ('[calendar]\nholiday = ["2027-02-14"]\n', "未知的设置 calendar.holiday"),
    ],
)
def test_a_bad_calendar_table_is_refused_with_its_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings_from(tmp_path, text)


def test_the_warning_about_unknown_make_up_days_comes_once_a_day(conn):
    day = date(2026, 12, 4)
    first = warn_once_a_day(conn, workdays.DEFAULT, day)
    assert first is not None and "2027 年" in first and "[calendar]" in first
    assert warn_once_a_day(conn, workdays.DEFAULT, day) is None
    assert warn_once_a_day(conn, workdays.DEFAULT, day + timedelta(days=1)) is not None
    entered = workdays.Calendar(frozenset(), frozenset({date(2027, 2, 14)}))
    assert warn_once_a_day(conn, entered, day + timedelta(days=2)) is None
    # in spring the coming year's notice is not due yet: nothing to say about 2027
    assert warn_once_a_day(conn, workdays.DEFAULT, date(2026, 4, 1)) is None


def test_calendar_command_lists_each_holiday_with_its_source(cli, tmp_path):
    result = cli("calendar", "--year", "2027", "--as-of", "2026-12-04", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    days = {d["day"]: d for d in document["rows"]}
    assert days["2027-02-06"]["name"] == "春节" and days["2027-02-06"]["source"] == "statutory"
    assert days["2027-02-10"]["working"] is False
    assert document["make_up_days_unknown"] == [2027]
    assert "[calendar]" in result.stderr and "2027 年" in result.stderr

    (tmp_path / "propfee.toml").write_text(OFFICIAL_2027, encoding="utf-8")
    result = cli("calendar", "--year", "2027", "--as-of", "2026-12-04", "--format", "json")
    days = {d["day"]: d for d in json.loads(result.stdout)["rows"]}
    assert days["2027-02-14"] == {**days["2027-02-14"], "working": True, "source": "settings"}
    assert days["2027-02-11"]["source"] == "settings"
    assert result.stderr == ""

    table = cli("calendar", "--year", "2026", "--as-of", "2026-06-01")
    assert table.exit_code == 0 and "国庆节" in table.stdout and "调休上班" in table.stdout
    assert table.stderr == ""


def test_complain_add_counts_on_the_layered_calendar_and_says_which(cli, conn, tmp_path):
    estate(conn, tmp_path, [home("1-101", area="100")])
    args = ("complain", "add", "1-101", "--category", "维修", "--description", "卫生间漏水")
    first = cli(*args, "--at", "2027-02-03 10:00", "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["deadline_at"].startswith("2027-02-12 23:59")
    assert "按法定节假日推算" in first.stderr  # this deadline may miss a make-up day
    assert first.stderr.count("[calendar]") == 2  # … and, once today, the year's table is asked for
    again = cli(*args, "--at", "2027-02-03 11:00")
    assert again.stderr.count("[calendar]") == 1  # the once-a-day warning is not repeated
    shown = cli("complain", "show", json.loads(first.stdout)["number"])
    assert "按法定节假日推算，调休未知" in shown.stdout

    (tmp_path / "propfee.toml").write_text(OFFICIAL_2027, encoding="utf-8")
    exact = cli(*args, "--at", "2027-02-03 10:00", "--format", "json")
    assert json.loads(exact.stdout)["deadline_at"].startswith("2027-02-14 23:59")
    assert exact.stderr == ""
