"""Issue 15, LEGAL rule 7 and seeds 000–002 through the command line: a late fee comes only
from the contract's clause through `latefee` (never a fee item or a correction), and what is
demanded stays within the court ceiling unless the settings say otherwise; the collection is
differentiated by what the party told us (hardship, forgot, refusal, no contact), a delivered
letter is followed by a call before legal review, and small debts never go to legal."""

import json

import pytest

from propfee.store import db

from conftest import PROP_FEE, dump, write_csv

EVIDENCE = ("--evidence", "公示照片 IMG_0231.jpg")
HEADER = ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"]


def settings_file(tmp_path, text: str) -> str:
    path = tmp_path / "propfee.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def homes(cli, tmp_path, rows):
    """Import the homes, add and publish the property fee, bill June–September 2026 (due on
    the 15th of each month)."""
    roster = write_csv(tmp_path / "roster.csv", [HEADER, *rows])
    assert cli("import-units", str(roster)).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    published = cli(
        "fees", "publish", "--recorded-later", "--published-on", "2019-12-01", *EVIDENCE
    )
    assert published.exit_code == 0, published.output
    for month in ("06", "07", "08", "09"):
        billed = cli("bill", "--period", f"2026-{month}", "--as-of", f"2026-{month}-01")
        assert billed.exit_code == 0, billed.output


def tiers(cli, day: str, *options) -> dict:
    result = cli("overdue", "--as-of", day, "--format", "json", *options)
    assert result.exit_code == 0, result.output
    return {row["unit"]: row["tier"] for row in json.loads(result.stdout)["rows"]}


def remind(cli, tmp_path, day: str, *options):
    out = tmp_path / f"催缴-{day}"
    result = cli("remind", "--as-of", day, "--at", "10:00", "--out", str(out), *options)
    assert result.exit_code == 0, result.output
    return out


def log(cli, unit: str, outcome: str, at: str, *options):
    result = cli(
        "contact", "add", unit, "--channel", "phone", "--outcome", outcome, "--at", at, *options
    )
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- rule 7: no penalty items


FEE_ITEM = ("--basis", "one_off", "--price", "50", "--kinds", "residential", "--from", "2026-01-01")


@pytest.mark.parametrize(
    ("code", "name", "named"),
    [
        ("ZNJ", "滞纳金", "滞纳金"),  # the command
        ("WYJ", "违约金", "违约金"),
        ("FK", "罚款", "罚款"),
        ("CF", "逾期处罚", "逾期处罚"),
        ("LF", "Late Fee", "Late Fee"),
        ("P1", "penalty", "penalty"),
        ("ZNJ2", "管理费", "ZNJ2"),  # the code gives it away
    ],
)
def test_a_fee_item_that_reads_as_a_penalty_is_refused(cli, db_path, code, name, named):
    assert cli("fees", "add", "PARK", "--name", "停车服务费", *FEE_ITEM).exit_code == 0
    before = dump(db_path)
    refused = cli("fees", "add", code, "--name", name, *FEE_ITEM)
    assert refused.exit_code == 1
    assert named in refused.stderr
    assert "propfee latefee" in refused.stderr and "LEGAL 第7条" in refused.stderr
    assert dump(db_path) == before
    assert code not in cli("fees", "list").stdout


def test_ordinary_fee_items_are_not_taken_for_penalties(cli):
    for code, name in (("PARK", "停车服务费"), ("RUB", "垃圾清运费"), ("DECO", "装修管理费")):
        added = cli("fees", "add", code, "--name", name, *FEE_ITEM)
        assert added.exit_code == 0, added.output


def test_an_upward_correction_that_reads_as_a_late_fee_is_refused(cli, tmp_path, db_path):
    homes(cli, tmp_path, [["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"]])
    before = dump(db_path)
    up = (
        "adjust",
        "1",
        "--amount",
        "50",
        "--kind",
        "correction",
        "--approved-by",
        "王经理",
        "--basis-ref",
        "PROP",
    )
    for reason in ("滞纳金", "逾期违约金", "late fee"):
        refused = cli(*up, "--reason", reason)
        assert refused.exit_code == 1
        assert "propfee latefee" in refused.stderr and "第7条" in refused.stderr
    assert dump(db_path) == before
    # the same words lowering a bill (taking a wrong charge off) are no charge
    down = cli(
        "adjust",
        "1",
        "--amount",
        "-10",
        "--kind",
        "correction",
        "--reason",
        "冲减误收的滞纳金",
        "--approved-by",
        "王经理",
        "--as-of",
        "2026-09-20",
    )
    assert down.exit_code == 0, down.output


# ---------------------------------------------------------------- rule 7: the court ceiling


@pytest.fixture
def owing_1518(cli, tmp_path):
    """The issue's numbers: one bill of ¥1,518.93 due 2025-01-15, 294 days overdue on
    2025-11-05; at 千分之三 a day the clause comes to ¥1,339.70."""
    roster = write_csv(
        tmp_path / "roster.csv",
        [HEADER, ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"]],
    )
    assert cli("import-units", str(roster)).exit_code == 0
    added = cli(
        "fees",
        "add",
        "MGMT",
        "--name",
        "物业服务费",
        "--basis",
        "fixed",
        "--price",
        "1518.93",
        "--kinds",
        "residential",
        "--from",
        "2025-01-01",
    )
    assert added.exit_code == 0, added.output
    assert (
        cli(
            "fees", "publish", "--recorded-later", "--published-on", "2024-11-20", *EVIDENCE
        ).exit_code
        == 0
    )
    assert cli("bill", "--period", "2025-01", "--as-of", "2025-01-01").exit_code == 0
    return cli


def late_fee_line(cli, config: str) -> dict:
    result = cli("latefee", "--as-of", "2025-11-05", "--config", config, "--format", "json")
    assert result.exit_code == 0, result.output
    (line,) = json.loads(result.stdout)["rows"]
    return line


def letter_text(cli) -> str:
    listed = json.loads(cli("contact", "list", "1-1-101", "--format", "json").stdout)["rows"]
    (letter,) = [c for c in listed if c["channel"] == "letter"]
    return letter["content"]


def test_the_letter_demands_no_more_than_the_court_ceiling_by_default(
    owing_1518, tmp_path, database
):
    cli = owing_1518
    config = settings_file(tmp_path, '[late_fee]\ndaily_rate = "0.003"\n')
    line = late_fee_line(cli, config)
    assert (line["owed"], line["days"], line["late_fee"]) == ("1518.93", 294, "1339.70")
    ceiling = line["ceiling"]
    assert line["above_ceiling"] and line["demanded"] == ceiling == "47.72"
    out = remind(cli, tmp_path, "2025-11-05", "--config", config)
    text = letter_text(cli)
    assert "逾期违约金为47.72元" in text
    assert "超过法院可能支持的上限（民法典第585条），本通知按该上限主张" in text
    assert "1,339.70" not in text and "滞纳金" not in text
    html = next(out.glob("催缴通知书-*.html")).read_text(encoding="utf-8")
    assert "逾期违约金为47.72元" in html and "1,339.70" not in html
    # posting demands the same: a 违约金 bill of the ceiling, never the clause amount
    posted = cli(
        "latefee",
        "post",
        "1-1-101",
        "--as-of",
        "2025-11-05",
        "--config",
        config,
        "--format",
        "json",
    )
    assert posted.exit_code == 0, posted.output
    conn = db.connect(database)
    (fen,) = conn.execute("SELECT amount_fen FROM late_fee").fetchone()
    conn.close()
    assert fen == 4772
    # and the evidence pack claims it
    (tmp_path / "证据").mkdir()
    pack = cli(
        "legal-pack",
        "1-1-101",
        "--out",
        str(tmp_path / "证据" / "p"),
        "--as-of",
        "2025-11-05",
        "--config",
        config,
    )
    assert pack.exit_code == 0, pack.output
    cover = (tmp_path / "证据" / "p" / "00-摘要.html").read_text(encoding="utf-8")
    assert "本公司只主张不超过该上限的违约金 ¥47.72" in cover


def test_without_the_cap_the_letter_shows_the_clause_and_what_a_court_may_allow(
    owing_1518, tmp_path
):
    cli = owing_1518
    config = settings_file(tmp_path, '[late_fee]\ndaily_rate = "0.003"\ncap_at_ceiling = false\n')
    line = late_fee_line(cli, config)
    assert (line["late_fee"], line["demanded"], line["ceiling"]) == ("1339.70", "1339.70", "47.72")
    remind(cli, tmp_path, "2025-11-05", "--config", config)
    text = letter_text(cli)
    assert "逾期违约金为1,339.70元。该金额超过法院可能支持的上限，法院可能依法调减至47.72元" in text


def test_a_clause_within_the_ceiling_is_demanded_as_it_is(owing_1518, tmp_path):
    cli = owing_1518  # 万分之一 a day is 3.65% a year: below 3% × 1.3
    config = settings_file(tmp_path, '[late_fee]\ndaily_rate = "0.0001"\n')
    line = late_fee_line(cli, config)
    assert not line["above_ceiling"] and line["demanded"] == line["late_fee"] == "44.66"
    remind(cli, tmp_path, "2025-11-05", "--config", config)
    text = letter_text(cli)
    assert "逾期违约金为44.66元。" in text and "上限" not in text


def test_cap_at_ceiling_must_be_true_or_false(owing_1518, tmp_path):
    config = settings_file(tmp_path, '[late_fee]\ndaily_rate = "0.003"\ncap_at_ceiling = "no"\n')
    result = owing_1518("latefee", "--as-of", "2025-11-05", "--config", config)
    assert result.exit_code == 1 and "late_fee.cap_at_ceiling" in result.output


# ---------------------------------------------------------------- seeds 000–002


FOUR = [
    ["1-1-101", "住宅", "100", "张三", "13800000001", "2020-01-01"],
    ["1-1-102", "住宅", "100", "李四", "13800000002", "2020-01-01"],
    ["1-1-103", "住宅", "100", "王五", "13800000003", "2020-01-01"],
    ["1-1-104", "住宅", "100", "赵六", "13800000004", "2020-01-01"],
]


@pytest.fixture
def four(cli, tmp_path):
    """Four homes owing June–September (¥250.00 a month), each of whom told us something
    different on 2026-11-01."""
    homes(cli, tmp_path, FOUR)
    log(cli, "1-1-101", "hardship", "2026-11-01 10:00", "--note", "失业")
    log(cli, "1-1-102", "refused", "2026-11-01 10:10")
    log(cli, "1-1-103", "unreachable", "2026-11-01 10:20")
    log(cli, "1-1-104", "reached", "2026-11-01 10:30", "--reason", "forgot")
    return cli


def test_what_the_party_told_us_steers_the_tier(four, tmp_path):
    # 158 days overdue: by the days alone every one would get a letter
    assert tiers(four, "2026-11-20") == {
        "1-1-101": "call",  # hardship holds at a call
        "1-1-102": "legal",  # a refusal escalates as before
        "1-1-103": "notice",  # no contact: escalates by the days
        "1-1-104": "gentle",  # forgot: one more gentle reminder first
    }
    # hardship stays at call however long it runs
    assert tiers(four, "2027-03-01")["1-1-101"] == "call"


def test_a_party_in_hardship_is_called_and_offered_a_plan(four, tmp_path):
    out = remind(four, tmp_path, "2026-11-20")
    scripts = (out / "call-scripts.txt").read_text(encoding="utf-8")
    assert "张三" in scripts and "分期" in scripts
    assert "propfee plan create 1-1-101" in scripts
    from openpyxl import load_workbook

    sheet = load_workbook(out / "call-list.xlsx").active
    header = [c.value for c in sheet[4]]  # under the title block
    (row,) = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert row[0] == "1-1-101"
    assert row[header.index("已记录原因")] == "经济困难"
    assert row[header.index("跟进事项")] == "经济困难：协商分期缴费"
    letters = next(out.glob("催缴通知书-*.html")).read_text(encoding="utf-8")
    assert "王五" in letters and "张三" not in letters


def test_who_forgot_gets_one_gentle_reminder_more_then_escalates(four, tmp_path):
    out = remind(four, tmp_path, "2026-11-20")
    sms = (out / "sms.csv").read_text(encoding="utf-8-sig")
    assert "13800000004" in sms and sms.count("\n") == 2  # the header and 赵六's message
    # the reminder gets the usual 7 days between messages to work, and is not sent again
    assert tiers(four, "2026-11-26")["1-1-104"] == "gentle"
    again = remind(four, tmp_path, "2026-11-21")
    assert not (again / "sms.csv").exists()
    # then the escalation by the days resumes
    assert tiers(four, "2026-11-27")["1-1-104"] == "notice"
    later = remind(four, tmp_path, "2026-11-27")
    letters = next(later.glob("催缴通知书-*.html")).read_text(encoding="utf-8")
    assert "赵六" in letters


def test_a_delivered_letter_is_followed_by_a_call_before_legal_review(cli, tmp_path):
    homes(cli, tmp_path, FOUR[:1])
    remind(cli, tmp_path, "2026-11-20")
    listed = json.loads(cli("contact", "list", "1-1-101", "--format", "json").stdout)["rows"]
    (number,) = [c["notice_no"] for c in listed if c["notice_no"]]
    delivered = cli(
        "contact", "deliver", number, "--proof", "EMS 1234567890123", "--date", "2026-11-22"
    )
    assert delivered.exit_code == 0, delivered.output
    # past the deadline and 90+ days: legal by the days, but the follow-up call comes first
    assert tiers(cli, "2027-01-10") == {"1-1-101": "call"}
    out = remind(cli, tmp_path, "2027-01-10")
    assert not (out / "legal-review.xlsx").exists()
    scripts = (out / "call-scripts.txt").read_text(encoding="utf-8")
    assert "回访：催缴通知书已于2026年11月22日送达" in scripts
    from openpyxl import load_workbook

    sheet = load_workbook(out / "call-list.xlsx").active
    header = [c.value for c in sheet[4]]  # under the title block
    (row,) = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    assert row[header.index("跟进事项")] == "催缴通知书送达后回访（2026-11-22送达）"
    # the call listed, the letter ignored: now legal review
    assert tiers(cli, "2027-01-11") == {"1-1-101": "legal"}
    legal = remind(cli, tmp_path, "2027-01-11")
    assert (legal / "legal-review.xlsx").exists()


def test_a_small_debt_never_goes_to_legal(cli, tmp_path):
    homes(
        cli,
        tmp_path,
        [
            ["1-1-101", "住宅", "10", "张三", "13800000001", "2020-01-01"],  # ¥25.00 a month
            ["1-1-102", "住宅", "100", "李四", "13800000002", "2020-01-01"],  # ¥250.00
        ],
    )
    log(cli, "1-1-101", "refused", "2026-11-01 10:00")
    log(cli, "1-1-102", "refused", "2026-11-01 10:10")
    assert tiers(cli, "2026-11-20") == {"1-1-101": "legal", "1-1-102": "legal"}
    config = settings_file(tmp_path, '[dunning]\nlegal_min = "200"\n')
    # ¥100.00 owed in all: a letter at most, however long and whatever was said
    assert tiers(cli, "2026-11-20", "--config", config) == {
        "1-1-101": "notice",
        "1-1-102": "legal",
    }
    assert tiers(cli, "2028-06-01", "--config", config)["1-1-101"] == "notice"
    bad = settings_file(tmp_path, '[dunning]\nlegal_min = "两百"\n')
    refused = cli("overdue", "--as-of", "2026-11-20", "--config", bad)
    assert refused.exit_code == 1 and "dunning.legal_min" in refused.output


def test_legal_review_shows_the_reasons_the_contacts_and_the_letters(cli, tmp_path):
    from openpyxl import load_workbook

    homes(cli, tmp_path, FOUR[:2])
    remind(cli, tmp_path, "2026-10-20")  # 1-1-101 and 1-1-102: a letter each (127 days)
    listed = json.loads(cli("contact", "list", "1-1-102", "--format", "json").stdout)["rows"]
    (number,) = [c["notice_no"] for c in listed if c["notice_no"]]
    assert (
        cli("contact", "deliver", number, "--proof", "本人签收", "--date", "2026-10-22").exit_code
        == 0
    )
    log(cli, "1-1-102", "reached", "2026-10-25 10:00", "--reason", "forgot")
    log(cli, "1-1-102", "refused", "2026-11-01 10:00", "--note", "不认可物业费")
    out = remind(cli, tmp_path, "2026-11-20")
    sheet = load_workbook(out / "legal-review.xlsx").active
    header = [c.value for c in sheet[4]]  # under the title block
    for column in ("记录的原因", "联系次数", "最近联系", "最近结果", "已发催缴通知书"):
        assert column in header
    (row,) = [
        dict(zip(header, (c.value for c in r), strict=True))
        for r in sheet.iter_rows(min_row=5)
        if r[0].value != "合计"
    ]
    assert row["房号"] == "1-1-102" and row["拒绝缴费"] == "是"
    assert row["记录的原因"] == "忘记缴费、拒绝缴费"
    assert row["联系次数"] == 3  # the letter and two calls (the call list is no contact)
    assert row["最近联系"] == "2026-11-01 10:00 电话"
    assert row["最近结果"] == "拒绝缴费"
    assert row["已发催缴通知书"] == "1份（已送达1份）"
