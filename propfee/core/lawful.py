"""What LEGAL.md rules 1 and 2 ask of every text propfee sends or prints.

Rule 1 (民法典 第944条 第3款): no text threatens — and the program never models — cutting
water, power, heating or gas, restricting lifts, access cards or parking, or exposing a
defaulter's name, to force payment. ``THREATS`` is the one word list: the template gate
(files/render.py), the settings check (config.py) and the tests all use it. A phrase that is
negated right before it ("我们不会因欠费停水停电", "严禁以停水停电方式催费") is lawful text, not a
threat.

Rule 2 (第944条 第2款): a 催缴通知书 states the amount of every billing period, the basis (the
contract and the published fee standard), a dated final deadline, and that the company may
sue or apply for arbitration. ``notice_gaps`` checks the rendered text — what the owner
reads — for each of these, whatever template made it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

RULE_1 = "LEGAL 第1条"
RULE_2 = "LEGAL 第2条"
RULE_1_TEXT = "不得以停水、停电、停暖、停气、限制电梯门禁或车辆出入、公开欠费人姓名等方式催缴"
RULE_2_TEXT = "催缴通知书须载明每期欠费金额、收费依据、确定的最后缴费日期和逾期将起诉或申请仲裁"

# LEGAL rule 1: cutting a utility, restricting lifts, access cards or parking, exposing names.
THREATS = re.compile(
    r"停水|停电|断水|断电|停暖|断暖|停气|断气|停热|断热|停燃气|"
    r"停止供(应)?(水|电|暖|热|气|燃气)|中断供(应)?(水|电|暖|热|气)|"
    r"限制.{0,4}(电梯|梯控|门禁|停车|车位|进出|出入|车辆|供暖|供热|燃气|用水|用电|供水|供电|入户)|"
    r"停(用)?梯|停用.{0,4}(电梯|梯控|门禁|车辆|停车|车位|燃气|暖气)|"
    r"(门禁|梯控)卡?.{0,4}(停用|禁用|限制|注销|失效|冻结|停|禁|限)|"
    r"禁止.{0,4}(停车|进入|进出|出入|车辆|使用电梯)|"
    r"车辆.{0,4}(不得|不准|不予|不能|禁止|限制).{0,2}(进出|出入|进入|驶入)|锁车|"
    r"不(准|得|予).{0,4}(停车|进入|使用电梯)|"
    r"曝光|黑名单|(欠费|失信|老赖)名单|公示.{0,6}(姓名|名字)|公布.{0,6}(姓名|名字|名单)|"
    r"张贴.{0,6}(名单|姓名)|"
    r"cut\s*off|shut\s*off|disconnect|"
    r"suspend\w*\s+(the\s+|your\s+)?(water|power|electricity|heating|gas|lift|elevator)|"
    r"(deactivat|disabl|block)\w*\s+(the\s+|your\s+)?(access|card|lift|elevator|parking)|"
    r"(access|card|lift|elevator|parking)\b.{0,30}\b(deactivated|disabled|blocked|suspended)|"
    r"(publish|post|display)\w*\s+(the\s+|your\s+)?names?\b|name\s+and\s+shame",
    re.IGNORECASE,
)
# a negation right before the phrase, with a few words between and no clause break or
# "then/will" in them: "我们不会因欠费停水停电", "严禁以停水停电方式催费", "we will never cut off"
_NEGATED = re.compile(
    r"(?:不会|不得(?!不)|不能(?!不)|不应|不可|不以|不采取|不因|绝不|决不|从不|从未|严禁|无权|"
    r"\bnot\b|\bnever\b|\bno\b|n't\b)"
    r"[^，。；！？、,.;!?\n将则就便会]{0,8}$",
    re.IGNORECASE,
)


def threat(text: str) -> str | None:
    """The first phrase of ``text`` that rule 1 forbids, or None."""
    for found in THREATS.finditer(text):
        before = text[max(0, found.start() - 12) : found.start()]
        if not _NEGATED.search(before):
            return found.group(0)
    return None


# ---------------------------------------------------------------- rule 2: the formal notice


@dataclass(frozen=True)
class NoticeLine:
    """One row of a notice: how its period may be named, and the amount of each period."""

    labels: tuple[str, ...]  # "2026-03", "2026-03-01", "2026-03-31" …
    each_fen: int


@dataclass(frozen=True)
class FormalNotice:
    """What one 催缴通知书 must show: its deadline and every period with its amount."""

    deadline: str  # ISO day
    lines: tuple[NoticeLine, ...]


_AMOUNT = re.compile(r"\d[\d,]*\.\d{2}")
_CN_DAY = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_ISO_DAY = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?")
_BASIS = re.compile(r"合同|收费标准|明码标价|contract|fee standard", re.IGNORECASE)
_SUIT = re.compile(r"诉讼|起诉|仲裁|\bsue\b|court|arbitrat", re.IGNORECASE)


def _days(text: str) -> set[str]:
    """Every day and month the text names, as ``2026-03-01`` and ``2026-03``."""
    found: set[str] = set()
    for pattern in (_CN_DAY, _ISO_DAY):
        for year, month, day in pattern.findall(text):
            found.add(f"{year}-{int(month):02d}")
            if day:
                found.add(f"{year}-{int(month):02d}-{int(day):02d}")
    return found


def _amounts(text: str) -> set[str]:
    return {token.replace(",", "") for token in _AMOUNT.findall(text)}


def notice_gaps(text: str, notices: Sequence[FormalNotice], *, limit: int = 4) -> list[str]:
    """What the rendered ``text`` of these notices fails to state (LEGAL rule 2), in words
    for the user; empty when it states everything. Linear in the text and the lines."""
    if not notices:
        return []
    days, amounts = _days(text), _amounts(text)
    gaps: list[str] = []
    if len(_BASIS.findall(text)) < len(notices):
        gaps.append("收费依据（物业服务合同、公示的收费标准）")
    if len(_SUIT.findall(text)) < len(notices):
        gaps.append("逾期将依法起诉或申请仲裁的说明")
    for notice in notices:
        if notice.deadline not in days:
            gaps.append(f"最后缴费日期 {notice.deadline}")
        for line in notice.lines:
            amount = _fen_text(line.each_fen)
            if amount not in amounts:
                gaps.append(f"{line.labels[0]} 的欠费金额 {amount}")
            elif not any(label in days for label in line.labels):
                gaps.append(f"计费期间 {line.labels[0]}")
        if len(gaps) > limit:
            break
    return gaps[:limit]


def _fen_text(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"
