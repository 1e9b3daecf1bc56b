"""Dunning in the situations an estate meets: several units, a sale, a kept promise, a failing
gateway, the developer, late deliveries, a price change."""

import dataclasses
import json
import sys
from datetime import date, datetime, time

import pytest

from propfee.billing import fees
from propfee.collection import arrears, dunning
from propfee.config import DEFAULTS
from propfee.core.errors import InvalidValue, PropfeeError
from propfee.roster import merge
from propfee.roster.units import natural_key
from propfee.store.db import transaction

from conftest import NOW, add_fee, contact, estate, home, pay, run, write_csv


def remind(conn, day, *, at=time(10, 0), out=None, settings=DEFAULTS, **options):
    with transaction(conn):
        return dunning.remind(
            conn, as_of=day, at=at, now=NOW, settings=settings, out_dir=out, **options
        )


def letters_of(conn, name):
    return [c for c in dunning.list_contacts(conn) if c.channel == "letter" and c.addressee == name]


def test_a_new_letter_to_a_party_covers_all_its_arrears(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [
            home("P-036", kind="车位", area="12", owner="许杰", phone="13800000036"),
            home("1-1101", area="100", owner="许杰", phone="13800000036"),
        ],
    )
    add_fee(conn)
    add_fee(conn, "PARK", price="80", basis="fixed", kinds=("parking",))
    run(conn, *[f"2026-{m:02d}" for m in range(1, 11)], as_of=date(2026, 1, 1))
    pay(conn, "1-1101", 250 * 100 * 9, date(2026, 1, 5))  # the home paid through September
    remind(conn, date(2026, 9, 1))  # a letter for the parking space alone
    (first,) = letters_of(conn, "许杰")
    assert first.unit == "P-036"
    remind(conn, date(2026, 10, 23))  # the home's October is 8 days late; the space still owes
    second = [c for c in letters_of(conn, "许杰") if c.at.startswith("2026-10-23")]
    assert sorted(c.unit for c in second) == ["1-1101", "P-036"]
    assert "P-036" in second[0].content and "1-1101" in second[0].content
    assert "合计：1,050.00元" in second[0].content  # ten months of the space and the home's October


def test_a_buyer_starts_clean(conn, tmp_path):
    estate(conn, tmp_path, [home("1-101", area="100", owner="雷伟杰", phone="13800000001")])
    add_fee(conn)
    run(conn, "2026-10", "2026-11", as_of=date(2026, 10, 1))
    contact(conn, "1-101", "refused", datetime(2026, 11, 1, 10))
    contact(conn, "1-101", "dispute", datetime(2026, 11, 2, 10), note="漏水")
    pay(conn, "1-101", 50000, date(2026, 11, 20))
    merge.import_roster(
        conn,
        write_csv(
            tmp_path / "sale.csv",
            [
                ["房号", "业主", "手机号", "过户日期"],
                ["1-101", "孙新民", "13911110001", "2026-11-30"],
            ],
        ),
        as_of=date(2026, 11, 30),
        now=NOW,
    )
    run(conn, "2026-12", "2027-01", as_of=date(2026, 12, 1))
    (row,) = arrears.overdue(conn, as_of=date(2027, 1, 20), settings=DEFAULTS)
    assert row.payer == "孙新民"
    assert (row.tier, row.reason, row.last_contact) == ("notice", "", None)  # 36 days, by days


def test_a_kept_promise_and_a_settled_refusal_do_not_follow_later_arrears(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [home("1-601", area="100", phone="13800000601"), home("1-701", area="100", owner="李四")],
    )
    add_fee(conn)
    run(conn, "2026-11", "2026-12", "2027-01", as_of=date(2026, 11, 1))
    contact(conn, "1-601", "promised", datetime(2026, 11, 21, 10), promise_on=date(2026, 11, 28))
    pay(conn, "1-601", 25000, date(2026, 11, 27))  # kept
    contact(conn, "1-701", "refused", datetime(2026, 11, 21, 10))
    pay(conn, "1-701", 25000, date(2026, 11, 27))  # paid after all
    rows = {r.unit: r for r in arrears.overdue(conn, as_of=date(2026, 12, 20), settings=DEFAULTS)}
    assert (rows["1-601"].tier, rows["1-601"].promise_on) == ("gentle", None)
    later = {r.unit: r for r in arrears.overdue(conn, as_of=date(2027, 1, 20), settings=DEFAULTS)}
    assert later["1-701"].tier == "notice" and later["1-701"].reason == ""  # not legal


def test_a_failing_run_sends_no_message(conn, tmp_path, cli):
    estate(
        conn,
        tmp_path,
        [home("1-101", phone="13800000001"), home("1-102", owner="李四", phone="13800000002")],
    )
    add_fee(conn)
    run(conn, "2026-06", "2026-10", as_of=date(2026, 6, 1))
    pay(conn, "1-101", 22343, date(2026, 6, 1))  # 1-101 owes only October: a message
    mine = tmp_path / "mine" / "zh"
    mine.mkdir(parents=True)
    (mine / "notice_letter.html").write_text("{{ no_such_thing }}", encoding="utf-8")
    toml = tmp_path / "propfee.toml"
    toml.write_text('template_dir = "mine"\n', encoding="utf-8")
    sent = tmp_path / "sent.txt"
    gateway = tmp_path / "gateway.py"
    gateway.write_text(f"open({str(sent)!r}, 'a').write('x')\n", encoding="utf-8")
    result = cli(
        "remind", "--as-of", "2026-10-20", "--at", "10:00", "--config", str(toml),
        "--send-cmd", f"{sys.executable} {gateway}", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 1 and "no_such_thing" in result.output
    assert not sent.exists()  # the letter failed first: no message went out
    assert [c for c in dunning.list_contacts(conn) if c.source == "remind"] == []


def test_the_developer_is_written_to_and_reaches_legal_review(conn, tmp_path):
    estate(conn, tmp_path, [home("9-901", owner="未售", delivered="")])
    add_fee(conn)
    settings = dataclasses.replace(
        DEFAULTS, estate=dataclasses.replace(DEFAULTS.estate, developer="兰州翠湖置业有限公司")
    )
    run(conn, "2026-01", "2026-02", settings=settings, as_of=date(2026, 1, 1))
    report = remind(conn, date(2026, 3, 20), settings=settings)
    (number,) = report.notices
    with transaction(conn):
        dunning.deliver(conn, number, proof="签收", on=date(2026, 3, 22), now=NOW)
    out = tmp_path / "legal"
    later = remind(conn, date(2026, 6, 1), settings=settings, out=out)
    assert later.produced["legal"] == 1
    assert (out / "legal-review.xlsx").exists()


def test_a_delivery_cannot_be_in_the_future_and_a_late_one_moves_the_deadline(history, cli):
    remind(history, date(2026, 11, 10))
    (number,) = [
        c.notice_no for c in dunning.list_contacts(history, unit_code="S-101") if c.notice_no
    ]
    future = cli("contact", "deliver", number, "--proof", "EMS 9", "--date", "2027-07-01")
    assert future.exit_code == 1 and "在将来" in future.output
    # the letter's deadline is 11-25; it arrives on 11-24, so the owner has until 12-09
    assert (
        cli("contact", "deliver", number, "--proof", "EMS 9", "--date", "2026-11-24").exit_code == 0
    )
    again = cli("contact", "deliver", number, "--proof", "EMS 9", "--date", "2026-11-26")
    assert again.exit_code == 1 and "已在 2026-11-24 记录" in again.output
    rows = {r.unit: r for r in arrears.overdue(history, as_of=date(2026, 12, 9), settings=DEFAULTS)}
    assert not rows["S-101"].notice_deadline_passed
    rows = {
        r.unit: r for r in arrears.overdue(history, as_of=date(2026, 12, 10), settings=DEFAULTS)
    }
    # the follow-up call after the delivery comes before legal review (seed 002)
    assert rows["S-101"].notice_deadline_passed and rows["S-101"].tier == "call"
    contact(history, "S-101", "reached", datetime(2026, 11, 25, 10))
    rows = {
        r.unit: r for r in arrears.overdue(history, as_of=date(2026, 12, 10), settings=DEFAULTS)
    }
    assert rows["S-101"].tier == "legal"


def test_the_letter_cites_every_price_its_periods_were_billed_at(conn, tmp_path):
    estate(conn, tmp_path, [home("1-101", area="100", phone="13800000001")])
    add_fee(conn, price="2.35", start=date(2025, 1, 1), publish_on=date(2024, 12, 1))
    with transaction(conn):
        fees.set_price(conn, "PROP", price="2.50", effective_from=date(2026, 1, 1), now=NOW)
        fees.publish(conn, as_of=date(2025, 11, 20), now=NOW, settings=DEFAULTS, out_dir=None)
    run(conn, "2025-12", as_of=date(2025, 12, 1))
    run(conn, "2026-01", as_of=date(2026, 1, 1))
    remind(conn, date(2026, 3, 1))
    (letter,) = letters_of(conn, "张三")
    assert "2.35元/㎡·月，2025年1月1日起执行，2024年12月1日公示" in letter.content
    assert "2.50元/㎡·月，2026年1月1日起执行，2025年11月20日公示" in letter.content


def test_contact_add_refuses_contradictions(history, cli):
    for args, message in (
        (["--outcome", "reached", "--promise-date", "2026-12-01"], "--promise-date"),
        (["--outcome", "dispute", "--reason", "forgot"], "--reason dispute"),
        (["--outcome", "reached", "--at", "2027-08-01 10:00"], "在将来"),
    ):
        at = [] if "--at" in args else ["--at", "2026-11-09 10:00"]
        result = cli("contact", "add", "1-101", "--channel", "phone", *args, *at)
        assert result.exit_code == 1 and message in result.output, (args, result.output)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("min_days_between = -1", "min_days_between"),
        ("chronic_shift = 40", "chronic_shift"),
        ('notice_prefix = ""', "notice_prefix"),
    ],
)
def test_dunning_settings_are_checked(tmp_path, line, message):
    from propfee.config import load_settings
    from propfee.core.errors import ConfigError

    toml = tmp_path / "propfee.toml"
    toml.write_text(f"[dunning]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(toml)


def test_the_board_leaves_out_disputes_and_sorts_like_people_do(history, cli):
    lines = json.loads(
        cli("overdue", "--as-of", "2026-11-10", "--notice-board", "--format", "json").stdout
    )["rows"]
    units = [line["unit"] for line in lines]
    assert "3-301" not in units  # in dispute: not posted
    assert units == sorted(units, key=natural_key)
    bad = cli("overdue", "--as-of", "2026-11-10", "--reason", "忘记缴费")
    assert bad.exit_code == 1 and "--reason 只能是" in bad.output


def test_the_default_folder_is_dated(history, cli, tmp_path):
    result = cli("remind", "--as-of", "2026-11-10", "--at", "10:00")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "催缴" / "2026-11-10" / "call-list.xlsx").exists()


def test_a_delivered_letter_shows_as_delivered(history, cli):
    remind(history, date(2026, 11, 10))
    (number,) = [
        c.notice_no for c in dunning.list_contacts(history, unit_code="S-101") if c.notice_no
    ]
    cli("contact", "deliver", number, "--proof", "EMS 7", "--date", "2026-11-12")
    listed = cli("contact", "list", "S-101").stdout
    assert "已送达" in listed
    doc = json.loads(cli("overdue", "--as-of", "2026-11-20", "--format", "json").stdout)
    shop = next(r for r in doc["rows"] if r["unit"] == "S-101")
    assert shop["last_contact"]["delivered"] == "2026-11-12"


def test_pending_errors_are_user_errors(history, cli, tmp_path):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    result = cli(
        "remind", "--as-of", "2026-11-10", "--at", "10:00", "--out", str(tmp_path / "afile")
    )
    assert result.exit_code == 1 and "这是一个文件" in result.output
    board = cli(
        "overdue",
        "--as-of",
        "2026-11-10",
        "--notice-board",
        "--out",
        str(tmp_path / "no" / "b.html"),
    )
    assert board.exit_code == 1 and "不存在" in board.output
    assert "internal error" not in result.output + board.output


def test_invalid_value_is_a_propfee_error():
    assert issubclass(InvalidValue, PropfeeError)
