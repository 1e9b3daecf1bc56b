"""Reminders by tier, the contact log and proof of delivery, over the ``history`` fixture
(see conftest): as of 2026-11-10 张三 1-101, the shop S-101 and 赵六 3-302 (a broken promise)
are at notice, 李四 (1-102 gentle, 2-201 call) at call, 王五 3-301 held by a dispute."""

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest

from propfee.collection import arrears, dunning
from propfee.config import DEFAULTS
from propfee.store.db import transaction

from conftest import NOW, contact, pay


def remind(conn, day, *, at=time(10, 0), out=None, settings=DEFAULTS, **options):
    with transaction(conn):
        return dunning.remind(
            conn,
            as_of=day,
            at=at,
            now=NOW,
            settings=settings,
            out_dir=out,
            **options,
        )


def contacts(conn, **where):
    return dunning.list_contacts(conn, **where)


def test_each_tier_gets_its_reminder_and_each_is_logged(history, tmp_path):
    out = tmp_path / "催缴"
    report = remind(history, date(2026, 11, 10), out=out, staff="王会计")
    assert report.produced == {"gentle": 0, "call": 1, "notice": 3, "legal": 0, "thanks": 0}
    assert report.skipped == {"held: dispute": 1}
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["call-list.xlsx", "call-list.csv", "call-scripts.txt", "催缴通知书-2026-11-10.html"]
    )
    with (out / "call-list.csv").open(encoding="utf-8-sig") as handle:
        (line,) = list(csv.DictReader(handle))
    assert line["房号"] == "1-102、2-201"  # one call per party, covering both units
    assert line["欠费金额"] == "350.00"
    assert "2026-10 物业服务费 250.00" in line["欠费明细"]
    scripts = (out / "call-scripts.txt").read_text(encoding="utf-8")
    assert "李四" in scripts and "350.00" in scripts
    html = (out / "催缴通知书-2026-11-10.html").read_text(encoding="utf-8")
    assert html.count('<section class="letter') == 3
    assert "王五" not in html  # a dispute is never escalated to a notice
    logged = contacts(history, since=date(2026, 11, 10))
    letters = [c for c in logged if c.channel == "letter"]
    assert sorted(c.unit for c in letters) == ["1-101", "3-302", "S-101"]
    assert all(c.outcome == "awaiting-delivery" and c.notice_no for c in letters)
    assert {c.notice_no for c in letters} == {"催2026-0001", "催2026-0002", "催2026-0003"}
    assert all(c.deadline_on == "2026-11-25" for c in letters)
    assert all(c.staff == "王会计" and c.at == "2026-11-10 10:00:00" for c in logged)
    zhang = next(c for c in letters if c.unit == "1-101")
    assert "223.43" in zhang.content and "2026年11月25日" in zhang.content
    calls = [c for c in logged if c.channel == "call-list"]
    assert sorted(c.unit for c in calls) == ["1-102", "2-201"]
    assert calls[0].content == calls[1].content  # the same call script, kept in full


def test_a_second_run_the_same_or_next_day_produces_nothing_new(history, tmp_path):
    remind(history, date(2026, 11, 10), out=tmp_path / "a")
    again = remind(history, date(2026, 11, 10), out=tmp_path / "b")
    next_day = remind(history, date(2026, 11, 11), at=time(9), out=tmp_path / "c")
    for report in (again, next_day):
        assert sum(report.produced.values()) == 0
        assert report.files == []
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
    count = len(contacts(history))
    # --force repeats the letters once the lawful minimum between two letters has passed
    forced = remind(history, date(2026, 11, 13), force=True, settings=_dunning(min_days_between=3))
    assert forced.produced["notice"] == 3
    assert len(contacts(history)) > count


def _dunning(**values):
    return dataclasses.replace(DEFAULTS, dunning=dataclasses.replace(DEFAULTS.dunning, **values))


def test_gentle_messages_one_per_party_ready_for_bulk_sms(history, tmp_path):
    out = tmp_path / "out"
    report = remind(history, date(2026, 10, 20), out=out)
    assert report.produced["gentle"] == 2  # 李四 2-201 and 赵六 3-302, both 5 days late
    sms = out / "sms.csv"
    assert (sms.stat().st_mode & 0o777) == 0o600  # phones and amounts: owner-only
    with sms.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["phone"] for r in rows] == ["13800000002", "13800000004"]
    li = rows[0]["message"]
    assert "李四您好" in li and "250.00" in li and "2-201" in li
    assert "感谢您一直以来按时缴费" in li  # a good payer gets the softer text
    logged = [c for c in contacts(history) if c.channel == "sms"]
    assert [c.content for c in logged] == [r["message"] for r in rows]


def test_a_chronic_payer_gets_the_firmer_text_and_a_business_the_business_voice(history):
    remind(history, date(2026, 6, 20))  # everyone's June is 5 days late, a first lapse
    texts = {c.unit: c.content for c in contacts(history) if c.channel == "sms"}
    assert "贵公司" in texts["S-101"] and "面谈" in texts["S-101"]
    assert "感谢" not in texts["1-101"]  # no record yet: the standard text, not "always on time"
    remind(history, date(2026, 9, 20))  # 张三 paid June–August late: chronic, 5 days
    (chronic,) = [
        c.content for c in contacts(history, since=date(2026, 9, 20)) if c.unit == "1-101"
    ]
    assert "已逾期5天" in chronic and "感谢" not in chronic


def test_no_message_in_the_quiet_hours(history, tmp_path):
    for clock in (time(21, 0), time(23, 30), time(7, 59)):
        report = remind(history, date(2026, 10, 20), at=clock, out=tmp_path / "night")
        assert report.produced["gentle"] == 0
        assert report.skipped["quiet hours"] == 2
    assert [c for c in contacts(history) if c.channel == "sms"] == []
    assert remind(history, date(2026, 10, 20), at=time(8, 0)).produced["gentle"] == 2


def test_no_more_often_than_the_settings_allow(history):
    monthly = _dunning(min_days_between=30)
    assert remind(history, date(2026, 10, 20), settings=monthly).produced["gentle"] == 2
    report = remind(history, date(2026, 11, 10), settings=monthly)
    assert report.skipped["messaged too recently"] == 1  # 赵六 had a message 21 days ago
    assert report.skipped["already reminded at this tier"] == 2  # 张三 and the shop: 10-20
    assert (report.produced["notice"], report.produced["call"]) == (0, 1)
    forced = remind(history, date(2026, 11, 10), settings=monthly, force=True)
    assert forced.produced["notice"] == 0  # --force repeats a reminder but never lifts the limit
    assert forced.skipped["messaged too recently"] == 3


def test_send_cmd_logs_only_what_the_gateway_accepted(history, tmp_path, cli):
    gateway = tmp_path / "gateway.py"
    sent = tmp_path / "sent.jsonl"
    gateway.write_text(
        "import json, sys\n"
        "phone, text = sys.argv[1], sys.argv[2]\n"
        "assert sys.stdin.read() == text\n"
        "if phone.endswith('04'):\n"
        "    sys.exit('gateway: number blocked')\n"
        f"open({str(sent)!r}, 'a').write(json.dumps([phone, text]) + '\\n')\n",
        encoding="utf-8",
    )
    command = f"{sys.executable} {gateway}"
    result = cli(
        "remind",
        "--as-of",
        "2026-10-20",
        "--at",
        "10:00",
        "--send-cmd",
        command,
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    assert result.exit_code == 1, result.output  # a message was not sent: cron should know
    doc = json.loads(result.output[result.output.index("{") :])
    assert (doc["sent"], len(doc["failed"])) == (1, 1)
    assert "number blocked" in doc["failed"][0]
    delivered = [json.loads(line) for line in sent.read_text(encoding="utf-8").splitlines()]
    assert [phone for phone, _ in delivered] == ["13800000002"]
    sms = [c for c in contacts(history) if c.channel == "sms"]
    assert [(c.unit, c.outcome) for c in sms] == [("2-201", "sent")]
    retry = cli("remind", "--as-of", "2026-10-20", "--at", "10:05", "--send-cmd", command)
    assert retry.exit_code == 1  # 赵六's number is still blocked
    assert [c.unit for c in contacts(history) if c.channel == "sms"] == ["2-201"]


def test_a_delivered_notice_shows_its_proof_and_counts(history, cli):
    remind(history, date(2026, 11, 10))
    zhang = next(c for c in contacts(history, unit_code="1-101") if c.channel == "letter")
    result = cli(
        "contact",
        "deliver",
        zhang.notice_no,
        "--proof",
        "EMS 1234567890123",
        "--date",
        "2026-11-12",
        "--staff",
        "前台",
    )
    assert result.exit_code == 0, result.output
    again = cli(
        "contact",
        "deliver",
        zhang.notice_no,
        "--proof",
        "EMS 1234567890123",
        "--date",
        "2026-11-12",
    )
    assert again.exit_code == 0
    listed = json.loads(cli("contact", "list", "1-101", "--format", "json").output)["rows"]
    (letter,) = [c for c in listed if c["channel"] == "letter"]
    assert letter["delivered"] == [
        {"date": "2026-11-12", "proof": "EMS 1234567890123", "staff": "前台"}
    ]
    assert "诉讼" in letter["content"]
    text = cli("contact", "list", "1-101").output
    assert "EMS 1234567890123" in text
    # Past the deadline, 90+ days, delivered, unpaid: legal once the follow-up call after the
    # delivery is made (seed 002). The shop's notice was never delivered, so it stays at
    # notice however long it runs. 1-101 paid September on 11-12; October, in the letter, is
    # still open
    rows = {r.unit: r for r in arrears.overdue(history, as_of=date(2027, 1, 14), settings=DEFAULTS)}
    assert (rows["1-101"].tier, rows["1-101"].follow_up) == ("call", True)
    contact(history, "1-101", "reached", datetime(2026, 11, 20, 10))
    rows = {r.unit: r for r in arrears.overdue(history, as_of=date(2027, 1, 14), settings=DEFAULTS)}
    assert rows["1-101"].days_overdue == 91
    assert rows["1-101"].tier == "legal"
    assert rows["S-101"].tier == "notice"
    assert rows["3-301"].tier == "dispute"


def test_delivery_proof_is_required_and_dated_after_the_notice(history, cli):
    remind(history, date(2026, 11, 10))
    (number,) = [c.notice_no for c in contacts(history, unit_code="S-101") if c.notice_no]
    before = cli("contact", "deliver", number, "--proof", "签收", "--date", "2026-11-09")
    assert before.exit_code != 0 and "早于通知书制作日期" in before.output
    empty = cli("contact", "deliver", number, "--proof", " ", "--date", "2026-11-11")
    assert empty.exit_code != 0 and "--proof" in empty.output
    unknown = cli("contact", "deliver", "催2026-9999", "--proof", "x", "--date", "2026-11-11")
    assert unknown.exit_code != 0 and "没有催缴通知书" in unknown.output


def test_legal_review_list_and_a_dispute_never_reaches_it(history, tmp_path):
    from openpyxl import load_workbook

    remind(history, date(2026, 11, 10))
    for unit in ("1-101", "S-101", "3-301"):
        notice = [c.notice_no for c in contacts(history, unit_code=unit) if c.notice_no]
        for number in notice:
            with transaction(history):
                dunning.deliver(history, number, proof="本人签收", on=date(2026, 11, 11), now=NOW)
    # each delivered letter is followed up by a call first (seed 002), the dispute aside
    followed = remind(history, date(2026, 11, 12))
    assert followed.produced["call"] == 2
    out = tmp_path / "legal"
    report = remind(history, date(2027, 3, 1), out=out)
    assert report.produced["legal"] == 2
    sheet = load_workbook(out / "legal-review.xlsx").active
    # under the title block (rows 1–3) and the header (row 4); the 合计 row last
    units = sorted(row[0].value for row in sheet.iter_rows(min_row=5) if row[0].value != "合计")
    assert units == ["1-101", "S-101"]
    assert all(c.tier != "legal" for c in contacts(history, unit_code="3-301"))


def test_a_broken_promise_escalates_and_a_kept_one_is_thanked(history, tmp_path):
    held = remind(history, date(2026, 11, 6))
    assert held.skipped.get("held: promised") == 1
    assert not [c for c in contacts(history, unit_code="3-302") if c.source == "remind"]
    remind(history, date(2026, 11, 10))
    assert [c.tier for c in contacts(history, unit_code="3-302") if c.source == "remind"] == [
        "notice"
    ]
    pay(history, "3-302", 40000, date(2026, 11, 14))  # October and November: all clear
    out = tmp_path / "thanks"
    thanks = remind(history, date(2026, 11, 16), out=out, thanks=True)
    assert thanks.produced["thanks"] == 1
    with (out / "thanks.csv").open(encoding="utf-8-sig") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["phone"] == "13800000004" and "已结清" in row["message"]
    assert remind(history, date(2026, 11, 17), thanks=True).produced["thanks"] == 0


def test_one_letter_for_a_party_with_two_units(history, tmp_path, cli):
    out = tmp_path / "letters"
    remind(history, date(2026, 11, 20), out=out)
    li = [c for c in contacts(history) if c.addressee == "李四" and c.channel == "letter"]
    assert sorted(c.unit for c in li) == ["1-102", "2-201"]
    assert len({c.notice_no for c in li}) == 1
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    section = html[html.index("李四") :]
    section = section[: section.index("</section>")]
    assert "1-102" in section and "2-201" in section and "停车服务费" in section
    number = li[0].notice_no
    assert (
        cli("contact", "deliver", number, "--proof", "签收", "--date", "2026-11-21").exit_code == 0
    )
    assert all(c.deliveries for c in contacts(history) if c.notice_no == number)


def test_the_overdue_row_shows_the_last_contact_and_reason(history, cli):
    contact(history, "1-101", "hardship", datetime(2026, 11, 9, 16), note="失业，申请分期")
    rows = {
        r["unit"]: r
        for r in json.loads(cli("overdue", "--as-of", "2026-11-10", "--format", "json").output)[
            "rows"
        ]
    }
    assert rows["1-101"]["last_contact"] == {
        "at": "2026-11-09 16:00:00",
        "channel": "phone",
        "outcome": "hardship",
        "delivered": None,
    }
    assert rows["1-101"]["reason"] == "hardship"
    only = json.loads(
        cli("overdue", "--as-of", "2026-11-10", "--reason", "hardship", "--format", "json").output
    )
    assert [r["unit"] for r in only["rows"]] == ["1-101"]


def test_contact_add_checks_its_input_and_writes_nothing_on_error(history, cli):
    before = len(contacts(history))
    for args, message in (
        (["--channel", "fax", "--outcome", "reached"], "--channel"),
        (["--channel", "phone", "--outcome", "promised"], "--promise-date"),
        (["--channel", "phone", "--outcome", "ok"], "--outcome"),
        (["--channel", "phone", "--outcome", "reached", "--reason", "lazy"], "--reason"),
    ):
        result = cli("contact", "add", "1-101", *args, "--at", "2026-11-09 10:00")
        assert result.exit_code != 0 and message in result.output, result.output
    missing = cli("contact", "add", "9-999", "--channel", "phone", "--outcome", "reached")
    assert missing.exit_code != 0 and "9-999" in missing.output
    assert len(contacts(history)) == before
    ok = cli(
        "contact",
        "add",
        "1-101",
        "--channel",
        "visit",
        "--outcome",
        "promised",
        "--promise-date",
        "2026-11-30",
        "--note",
        "下周发工资后缴费",
        "--at",
        "2026-11-09 10:00",
    )
    assert ok.exit_code == 0, ok.output
    assert len(contacts(history)) == before + 1


def test_dry_run_writes_nothing(history, tmp_path, cli):
    result = cli(
        "remind",
        "--as-of",
        "2026-11-10",
        "--at",
        "10:00",
        "--out",
        str(tmp_path / "x"),
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "催缴通知书 3" in result.output
    assert not (tmp_path / "x").exists()
    assert [c for c in contacts(history) if c.source == "remind"] == []


# ---------------------------------------------------------------- the letters (LEGAL rule 2)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_letter_states_what_the_law_asks(history, tmp_path, language):
    out = tmp_path / language
    remind(history, date(2026, 11, 20), out=out, language=language)
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    sections = html.split('<section class="letter')[1:]
    letters = [c for c in contacts(history) if c.channel == "letter"]
    assert len(sections) == len({c.notice_no for c in letters}) == 4
    needed = {
        "zh": ("诉讼", "仲裁", "2026年12月5日", "元/㎡·月", "公示", "缴费期限", "编号"),
        "en": ("court", "arbitration", "2026-12-05", "元/㎡·月", "published", "Due", "No."),
    }[language]
    for section in sections:
        for phrase in needed:
            assert phrase in section, (phrase, section[:200])
        assert 'class="money"' in section  # an amount on every billing period
    for letter in letters:  # the logged text states the same
        for phrase in needed[:4]:
            assert phrase in letter.content
    zhang = next(s for s in sections if "1-101" in s)
    assert zhang.count("223.43") == 2  # October and November, each with its amount


def _pages(html: Path, tmp_path: Path) -> int:
    pdf = tmp_path / (html.stem + ".pdf")
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium to print the letters")
@pytest.mark.parametrize("language", ["zh", "en"])
def test_letters_print_as_one_a4_page_each(conn, tmp_path, language):
    """Even a party with three units and two years of three fee items unpaid."""
    from conftest import add_fee, estate, home, run

    estate(
        conn,
        tmp_path,
        [
            home("1-101", owner="李四", phone="13800000002"),
            home("1-102", owner="李四", phone="13800000002"),
            home("1-103", owner="李四", phone="13800000002"),
            home("1-104", owner="张三", phone="13800000001"),
            home("S-1", kind="商铺", area="320.5", owner="陇原商贸有限公司", phone="0931-8765432"),
        ],
    )
    add_fee(conn)
    add_fee(conn, "SHOP", price="6.00", kinds=("commercial",))
    add_fee(conn, "PARK", price="100.00", basis="fixed", units=["1-101", "1-102", "1-103"])
    add_fee(conn, "CLEAN", price="20.00", basis="fixed", kinds=("residential", "commercial"))
    months = [f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    run(conn, *months, as_of=date(2026, 12, 1))
    pay(conn, "1-104", 12345, date(2025, 3, 1))  # a part-payment breaks the runs of equal amounts
    out = tmp_path / "letters"
    remind(conn, date(2027, 1, 20), out=out, language=language)
    (html,) = out.glob("*.html")
    assert html.read_text(encoding="utf-8").count('<section class="letter') == 3
    assert _pages(html, tmp_path) == 3


@pytest.mark.parametrize(
    "command",
    [
        ["overdue"],
        ["remind", "--dry-run"],
        ["remind"],
        ["contact", "list"],
        ["contact", "add", "1-101", "--channel", "phone", "--outcome", "reached"],
    ],
)
def test_a_mistyped_database_is_never_created(runner, tmp_path, command):
    from propfee.cli import app

    missing = tmp_path / "typo.db"
    result = runner.invoke(app, [*command, "--db", str(missing)])
    assert result.exit_code == 1
    assert "数据库不存在" in result.output
    assert not missing.exists()


def test_a_unit_code_in_lower_case_is_the_roster_s_unit(history, cli):
    result = cli(
        "contact",
        "add",
        "s-101",
        "--channel",
        "visit",
        "--outcome",
        "reached",
        "--at",
        "2026-11-09 10:00",
    )
    assert result.exit_code == 0, result.output
    assert [c.unit for c in contacts(history, unit_code="S-101")] == ["S-101"]


PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(
    CHROMIUM is None or PDFTOTEXT is None, reason="needs headless Chromium and pdftotext"
)
def test_a_party_with_sixty_units_gets_a_one_page_letter_and_an_annex(conn, tmp_path):
    """Past 18 rows the letter sums per item on its one page and an annex lists every period,
    its amount and due day (LEGAL rule 2)."""
    from conftest import add_fee, estate, home, run

    estate(
        conn,
        tmp_path,
        [
            home(
                f"P-{n:03d}",
                kind="车位",
                area="12.5",
                owner="陇原商贸有限公司",
                phone="0931-8765432",
            )
            for n in range(1, 61)
        ],
    )
    add_fee(conn, "PARK", price="80", basis="fixed", kinds=("parking",))
    run(conn, *[f"2026-{m:02d}" for m in range(1, 11)], as_of=date(2026, 10, 1))
    out = tmp_path / "letters"
    remind(conn, date(2026, 11, 20), out=out)
    (html,) = out.glob("*.html")
    text = html.read_text(encoding="utf-8")
    assert text.count('<section class="annex">') == 1
    assert "P-060" in text and "每期 80.00" in text
    pdf = tmp_path / "sixty.pdf"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    first = subprocess.run(
        [PDFTOTEXT, "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "催缴通知书" in first and "送达回执" in first  # the whole letter on page one
    second = subprocess.run(
        [PDFTOTEXT, "-f", "2", "-l", "2", "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "附表" in second
