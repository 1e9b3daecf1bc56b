"""LEGAL rule 1 holds whatever characters a text hides between the words of a threat: a reader
never sees a zero-width space, a soft hyphen or a variation selector (停\u200b水 shows 停水), and a
right-to-left override turns what follows (\u202e水停 shows 停水)."""

import re
import sys
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from propfee.core import lawful
from propfee.files import render
from propfee.files.render import Unlawful

UNSEEN = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufe0f", "\u034f",
          "\u180e", "\u2063", "\U000e0020", "\u200e"]  # fmt: skip


@pytest.mark.parametrize("hidden", UNSEEN)
def test_a_threat_with_unseen_characters_inside_is_refused(hidden):
    assert lawful.threat(f"逾期将停{hidden}水") == "停水"
    assert lawful.threat(f"we will cut{hidden} off the water") == "cut off"
    with pytest.raises(Unlawful, match="停水"):
        render.check(f"<p>逾期将停{hidden}{hidden}水</p>", "mine.html", html=True)
    with pytest.raises(Unlawful, match="停水"):
        render.check(f"逾期将停{hidden}水", "mine.txt")  # a message


@pytest.mark.parametrize("turn", ["\u202e", "\u2067", "\u200f"])
def test_a_threat_written_backwards_behind_a_turn_of_direction_is_refused(turn):
    assert lawful.threat(f"逾期将{turn}水停") == "停水"
    with pytest.raises(Unlawful, match="停水"):
        render.check(f"<p>逾期将{turn}水停</p>", "mine.html", html=True)


def test_unseen_characters_in_a_lawful_text_change_nothing():
    assert lawful.threat("张\u200b三（1-1-101）：请按时缴费\u00ad，谢谢\ufeff") is None
    assert lawful.threat("我们不会因欠费停\u200b水停电") is None  # the negation still counts
    # the text before ``after`` was checked already: a phrase there is not found again
    assert lawful.threat("停\u200b水。\u200b请按时缴费", after=4) is None
    assert lawful.threat("请按时\u200b缴费。停\u200b水", after=4) == "停水"


def test_every_format_character_is_unseen():
    """Every character of Unicode's category Cf (format) that this Python knows is among
    those read as unseen."""
    missing = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf" and not lawful._UNSEEN.match(chr(code))
    ]
    assert missing == []


def test_what_is_unseen_is_found_by_the_quick_test_first():
    assert all(
        lawful._MAYBE_UNSEEN.match(chr(code))
        for code in range(sys.maxunicode + 1)
        if lawful._UNSEEN.match(chr(code))
    )
    assert lawful.threat("𠮷田：逾期将停\U000e0020水") == "停水"  # a name beyond the first plane
    assert lawful.threat("𠮷田：请按时缴费") is None


def test_a_text_read_for_the_chinese_list_alone_has_nothing_else_to_find():
    """What the quick test finds holds every character that lower-cases to hold a Latin
    letter (the English list begins each phrase with one) and every character the unseen may
    be: a text without any of them has no English phrase and nothing unseen."""
    latin = re.compile("[a-z]")
    assert [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code < 0xE000
        and (latin.search(chr(code).lower()) or lawful._MAYBE_UNSEEN.match(chr(code)))
        and not lawful._LATIN_OR_MAYBE_UNSEEN.match(chr(code))
    ] == []
    assert all(re.match("[a-z]", phrase) for phrase in lawful.ENGLISH)
    assert lawful.threat("逾期将停水") == "停水"  # the quick way
    assert lawful.threat("逾期将\u212aCut Off") == "cut off"


def every_way_threat(text: str, after: int) -> str | None:
    """``lawful.threat``, reading every text for both lists and the unseen characters."""
    quick = lawful._LATIN_OR_MAYBE_UNSEEN
    lawful._LATIN_OR_MAYBE_UNSEEN = re.compile("")  # found in every text
    try:
        return lawful.threat(text, after=after)
    finally:
        lawful._LATIN_OR_MAYBE_UNSEEN = quick


THREAT_PIECES = st.sampled_from(
    ["停水", "停", "水", "停电", "门禁卡", "停用", "限制", "电梯", "黑名单", "不会", "严禁",
     "不得不", "将", "，", "。", "\n", " ", "cut off", "Cut Off", "CUT OFF", "CUT", " off", "never",
     "suspend", " the water", "name", "İ", "\u212a", "\u0131", "ſ", "\u200b", "\u00ad",
     "\u202e", "\U000e0020", "𠮷", "\ufeff"]
) | st.text(alphabet="停水电梯不会cutofCUTOF \u200b\u202e", max_size=4)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(THREAT_PIECES, max_size=12).map("".join), st.integers(0, 40))
@example("逾期将停水", 0)
@example("停水。请按时缴费", 3)
@example("我们不会停水", 0)
@example("逾期将\u212a", 0)
@example("逾期将CUT OFF", 0)
@example("逾期将停\u00ad水", 0)
@example("逾期将\u202e水停", 0)
def test_the_quick_reading_for_rule_1_finds_what_every_reading_finds(text, after):
    assert lawful.threat(text, after=after) == every_way_threat(text, after)
