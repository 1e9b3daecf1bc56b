"""LEGAL.md rules that can be checked on everything propfee ships."""

import re

import pytest

from propfee.files.render import template_names
from propfee.files.shipped import shipped_dir

# LEGAL rule 1: never threaten (or model) cutting water, power, heating or gas, or restricting
# lifts, access cards or parking to force payment (民法典 第944条 第3款).
FORBIDDEN = re.compile(
    r"停水|停电|断水|断电|停暖|停气|断气|停止供(水|电|暖|热|气)|限制.{0,4}(电梯|门禁|停车|进出)|"
    r"停(用)?梯|停用.{0,2}(电梯|门禁)|门禁卡.{0,4}(停|禁|限|注销)|禁止.{0,4}(停车|进入|进出)|锁车|"
    r"不(准|得|予).{0,4}(停车|进入|使用电梯)|"
    r"cut\s*off|shut\s*off|disconnect|suspend\w*\s+(the\s+)?(water|power|electricity|heating|gas|lift|elevator)|"
    r"(deactivat|disabl|block)\w*\s+(the\s+|your\s+)?(access|card|lift|elevator|parking)|"
    r"(access|card|lift|elevator|parking)\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    re.IGNORECASE,
)
# LEGAL rule 7: a late fee is 违约金, never 滞纳金 (an administrative-law term).
WRONG_TERMS = re.compile(r"滞纳金")


def shipped_templates():
    root = shipped_dir("templates")
    return [(name, (root / name).read_text(encoding="utf-8")) for name in template_names()]


@pytest.mark.parametrize(("name", "text"), shipped_templates())
def test_no_shipped_template_threatens_utilities_or_access(name, text):
    found = FORBIDDEN.search(text)
    assert found is None, f"{name} says {found.group(0)!r} (LEGAL rule 1)"
    wrong = WRONG_TERMS.search(text)
    assert wrong is None, f"{name} says 滞纳金; the contract's late fee is 违约金 (LEGAL rule 7)"


def test_the_scanner_catches_what_it_must():
    for threat in (
        "逾期将停水停电",
        "将限制您使用电梯",
        "门禁卡将被停用",
        "禁止车辆进入",
        "停止供暖",
        "we will cut off your water",
        "your access card will be deactivated",
        "we may suspend the electricity",
    ):
        assert FORBIDDEN.search(threat), threat
    for fine in (
        "水电费、保洁费、设施维护费",
        "物业服务费",
        "如需核对账单或面谈",
        "water and electricity fees",
    ):
        assert FORBIDDEN.search(fine) is None, fine
