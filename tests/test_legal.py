"""LEGAL.md rules that can be checked on everything propfee ships, through the gate every
rendered text passes (files/render.check, core/lawful.py)."""

import re
from pathlib import Path

import pytest

from propfee.core.errors import Unlawful
from propfee.core.lawful import THREATS as FORBIDDEN  # the one word list (LEGAL rule 1)
from propfee.core.lawful import FormalNotice, NoticeLine, threat
from propfee.files.render import check, html_text, printed_text, template_names
from propfee.files.shipped import shipped_dir

# LEGAL rule 7: a late fee is 违约金, never 滞纳金 (an administrative-law term).
WRONG_TERMS = re.compile(r"滞纳金")
GOLDEN = Path(__file__).parent / "golden"

THREATENING = (
    "逾期将停水停电",
    "将限制您使用电梯",
    "门禁卡将被停用",
    "禁止车辆进入",
    "停止供暖",
    "逾期将限制您使用电梯并停止供暖",
    "停水停电、停用电梯门禁卡",
    "将限制车辆出入",
    "停用门禁",
    "限制停车",
    "停用燃气",
    "限制供暖",
    "停止供水",
    "停止供热",
    "断水断电",
    "逾期将予以曝光",
    "将在小区公示姓名",
    "公布欠费业主姓名",
    "在电梯口张贴欠费名单",
    "我们不得不停水",  # "have no choice but to": a threat, not a negation
    "如不缴费，我们不得不采取停水措施",
    "如不缴费将停电",
    "we will cut off your water",
    "your access card will be deactivated",
    "we may suspend the electricity",
    "we will publish your name",
    "我们不会\n停水",  # a negation on the line before is no negation of this one
)
LAWFUL = (
    "水电费、保洁费、设施维护费",
    "物业服务费",
    "如需核对账单或面谈",
    "water and electricity fees",
    "供暖费",  # a fee name
    "停车服务费",
    "物业费缴纳情况公示：房号与金额",
    "我们不会停水停电",
    "本公司不会因欠费停水停电",
    "严禁以停水停电方式催缴物业费",
    "we will never cut off your water",
)


def shipped_templates():
    root = shipped_dir("templates")
    return [(name, (root / name).read_text(encoding="utf-8")) for name in template_names()]


@pytest.mark.parametrize(("name", "text"), shipped_templates())
def test_no_shipped_template_threatens_utilities_or_access(name, text):
    found = threat(text)
    assert found is None, f"{name} says {found!r} (LEGAL rule 1)"
    wrong = WRONG_TERMS.search(text)
    assert wrong is None, f"{name} says 滞纳金; the contract's late fee is 违约金 (LEGAL rule 7)"


@pytest.mark.parametrize("name", template_names())
def test_every_shipped_template_as_rendered_passes_the_gate(name):
    """The golden files are the shipped templates rendered over fixed data (test_templates)."""
    rendered = (GOLDEN / name.replace("/", "__")).read_text(encoding="utf-8")
    check(rendered, name, html=name.endswith(".html"))


@pytest.mark.parametrize("phrase", THREATENING)
def test_the_gate_refuses_every_threat_naming_template_rule_and_phrase(phrase):
    with pytest.raises(Unlawful) as refused:
        check(f"尊敬的业主：您的物业费尚未缴纳，{phrase}。", "mine/zh/remind_sms.txt")
    message = str(refused.value)
    assert "mine/zh/remind_sms.txt" in message and "LEGAL 第1条" in message
    assert threat(phrase) in message and threat(phrase) in phrase


def test_the_gate_reads_html_as_its_reader_does():
    with pytest.raises(Unlawful, match="停水"):
        check("<p>逾期将停<b>水</b></p>", "mine/zh/bill_notice.html", html=True)
    with pytest.raises(Unlawful, match="停电"):
        check("<p>逾期将&#20572;电</p>", "mine/zh/bill_notice.html", html=True)
    with pytest.raises(Unlawful, match="停水"):  # as a letter's record reads it, tidied
        check("<p>本公司不会</p>\n<p>停水</p>", "mine/zh/notice_letter.html", html=True,
              seen=printed_text(html_text("<p>本公司不会</p>\n<p>停水</p>")))  # fmt: skip
    # two cells of a table are two texts: an item 暂停 beside 水费 is not 停水 (outside a table,
    # a browser ignores the cells: 暂停水费 is one line)
    check("<table><tr><td>暂停</td><td>水费</td></tr></table>", "zh/bill_notice.html", html=True)


@pytest.mark.parametrize("text", LAWFUL)
def test_the_gate_lets_lawful_text_through(text):
    assert threat(text) is None, text
    check(text, "mine/zh/remind_sms.txt")


def test_the_word_list_is_the_products():
    assert FORBIDDEN.search("停止供暖") and FORBIDDEN.search("供暖费") is None


NOTICE = FormalNotice(
    "2026-11-25",
    (
        NoticeLine(("2026-09", "2026-09-01", "2026-09-30"), 22343),
        NoticeLine(("2026-10", "2026-10-01", "2026-10-31"), 25000),
    ),
)
FULL = (
    "根据物业服务合同及公示的收费标准，尚欠：2026-09-01 至 2026-09-30 ¥223.43；"
    "2026年10月 ¥250.00。请于2026年11月25日前缴清。逾期将依法提起诉讼或申请仲裁。"
)


def test_a_formal_notice_must_state_what_rule_2_asks():
    check(FULL, "zh/notice_letter.txt", notices=[NOTICE])  # states everything
    for cut, missing in (
        ("2026年11月25日", "最后缴费日期 2026-11-25"),
        ("根据物业服务合同及公示的收费标准，", "收费依据"),
        ("逾期将依法提起诉讼或申请仲裁。", "起诉或申请仲裁"),
        ("2026年10月 ¥250.00", "2026-10 的欠费金额 250.00"),
        ("2026年10月", "计费期间 2026-10"),
    ):
        with pytest.raises(Unlawful) as refused:
            check(FULL.replace(cut, ""), "mine/zh/notice_letter.txt", notices=[NOTICE])
        assert "LEGAL 第2条" in str(refused.value) and missing in str(refused.value), cut
    with pytest.raises(Unlawful, match="最后缴费日期 2026-11-25"):
        check("请立即缴费，否则后果自负", "mine/zh/notice_letter.txt", notices=[NOTICE])
    with pytest.raises(Unlawful, match=r"2026-10 的欠费金额 250\.00"):
        check(FULL.replace("¥250.00", "¥200.00"), "x", notices=[NOTICE])


def test_two_letters_in_one_document_each_need_the_lawsuit_sentence():
    other = FormalNotice("2026-11-25", (NoticeLine(("2026-09", "2026-09-01"), 22343),))
    once = FULL + FULL.replace("逾期将依法提起诉讼或申请仲裁。", "")
    with pytest.raises(Unlawful, match="起诉或申请仲裁"):
        check(once, "zh/notice_letter.html", notices=[NOTICE, other])
    check(FULL + FULL, "zh/notice_letter.html", notices=[NOTICE, other])
