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
from functools import lru_cache
from typing import NamedTuple

from propfee.core.i18n import N_, _
from propfee.core.said import Said

RULE_1 = Said(N_("LEGAL rule 1"))
RULE_2 = Said(N_("LEGAL rule 2"))
RULE_1_TEXT = Said(
    N_(
        "no collection by cutting water, power, heating or gas, by restricting lifts, access "
        "cards or parking, or by making a debtor's name public"
    )
)
RULE_2_TEXT = Said(
    N_(
        "a formal demand states each period's amount owed, the basis of the charge, a fixed "
        "last day to pay, and that unpaid fees will go to court or arbitration"
    )
)

# LEGAL rule 1: cutting a utility, restricting lifts, access cards or parking, exposing names.
# Each phrase begins with a plain character, so the scan jumps from one candidate to the next
# (a reminder run checks tens of thousands of texts).
CHINESE = (
    r"停水|停电|断水|断电|停暖|断暖|停气|断气|停热|断热|停燃气",
    r"停止供(应)?(水|电|暖|热|气|燃气)|中断供(应)?(水|电|暖|热|气)",
    r"限制.{0,4}(电梯|梯控|门禁|停车|车位|进出|出入|车辆|供暖|供热|燃气|用水|用电|供水|供电|入户)",
    r"停(用)?梯|停用.{0,4}(电梯|梯控|门禁|车辆|停车|车位|燃气|暖气)",
    r"门禁卡?.{0,4}(停用|禁用|限制|注销|失效|冻结|停|禁|限)",
    r"梯控卡?.{0,4}(停用|禁用|限制|注销|失效|冻结|停|禁|限)",
    r"禁止.{0,4}(停车|进入|进出|出入|车辆|使用电梯)",
    r"车辆.{0,4}(不得|不准|不予|不能|禁止|限制).{0,2}(进出|出入|进入|驶入)|锁车",
    r"不(准|得|予).{0,4}(停车|进入|使用电梯)",
    r"曝光|黑名单|欠费名单|失信名单|老赖名单|公示.{0,6}(姓名|名字)|公布.{0,6}(姓名|名字|名单)",
    r"张贴.{0,6}(名单|姓名)",
)
ENGLISH = (  # matched against the lower-cased text
    r"cut\s*off|shut\s*off|disconnect",
    r"suspend\w*\s+(the\s+|your\s+)?(water|power|electricity|heating|gas|lift|elevator)",
    r"deactivat\w*\s+(the\s+|your\s+)?(access|card|lift|elevator|parking)",
    r"disabl\w*\s+(the\s+|your\s+)?(access|card|lift|elevator|parking)",
    r"block\w*\s+(the\s+|your\s+)?(access|card|lift|elevator|parking)",
    r"access\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    r"card\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    r"lift\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    r"elevator\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    r"parking\b.{0,30}\b(deactivated|disabled|blocked|suspended)",
    r"publish\w*\s+(the\s+|your\s+)?names?\b|post\w*\s+(the\s+|your\s+)?names?\b",
    r"display\w*\s+(the\s+|your\s+)?names?\b|name\s+and\s+shame",
)
#: the whole word list as one pattern, for anyone who wants to search with it
THREATS = re.compile("|".join((*CHINESE, *ENGLISH)), re.IGNORECASE)
_CHINESE = re.compile("|".join(CHINESE))
_ENGLISH = re.compile("|".join(ENGLISH))
# a negation right before the phrase, with a few words between and no clause break or
# "then/will" in them: "我们不会因欠费停水停电", "严禁以停水停电方式催费", "we will never cut off"
_NEGATED = re.compile(
    r"(?<!不得)(?<!不能)(?<!只能)"  # 不得不采取停水: "have no choice but to" is no negation
    r"(?:不会|不得(?!不)|不能(?!不)|不应|不可|不以|不采取|不因|绝不|决不|从不|从未|严禁|无权|"
    r"\bnot\b|\bnever\b|\bno\b|n't\b)"
    r"[^，。；！？、,.;!?\n将则就便会]{0,8}\Z",  # \Z: $ would also match before a last \n
    re.IGNORECASE,
)


def threat(text: str, *, after: int = 0, lowered: str | None = None) -> str | None:
    """The first phrase of ``text`` that rule 1 forbids, or None; with ``after``, only a
    phrase that ends past that offset counts (the text before it is context, checked
    already: a document checked piece by piece still finds a phrase cut in two).
    ``lowered`` is ``text.lower()`` when the caller has it already. A text holding
    characters a reader does not see (``_UNSEEN``: 停\u200b水 shows 停水) is read again
    without them, and one that turns the direction of its text (U+202E: \u202e水停 shows
    停水) is read backwards too."""
    if lowered is None and _LATIN_OR_MAYBE_UNSEEN.search(text) is None:
        return _first_phrase(_CHINESE, text, after)  # what most Chinese letters are
    found = _threat(text, after, lowered)
    if found is None and _MAYBE_UNSEEN.search(text):
        seen = _UNSEEN.sub("", text)
        if len(seen) < len(text):
            found = _threat(seen, after - len(_UNSEEN.findall(text, 0, after)), None)
        if found is None and _TURNS.search(text):
            found = _threat(seen[::-1], 0, None)
    return found


# what takes no room on a page or a phone's screen: every format character (Unicode's Cf:
# soft hyphen, zero-width spaces and joiners, direction marks, word joiner, BOM, tags …),
# variation selectors, the combining grapheme joiner and the Hangul and Mongolian fillers
_UNSEEN = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)
# the same, found sooner (a class of plane-2 and higher ranges is slow to test): those of the
# first plane, or any character past it
_MAYBE_UNSEEN_CLASS = (
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U00010000-\U0010ffff"
)
_MAYBE_UNSEEN = re.compile(f"[{_MAYBE_UNSEEN_CLASS}]")
# what the English list needs (every phrase of it begins with a Latin letter of the lower-cased
# text: a Latin letter, U+0130 or U+212A lower-cased) or the unseen may be: a text without
# any of them, as most Chinese letters are, is read for the Chinese list alone, in one scan
# more instead of three (lower-casing it, the English list, the unseen characters)
_LATIN_OR_MAYBE_UNSEEN = re.compile(f"[A-Za-z\u0130\u212a{_MAYBE_UNSEEN_CLASS}]")
# the characters that turn the direction of what follows them
_TURNS = re.compile("[\u061c\u200f\u202b\u202e\u2067\u2068]")


def _threat(text: str, after: int, lowered: str | None) -> str | None:
    """``threat`` of the text as it is."""
    if lowered is None:
        lowered = text.lower()
    hits = [
        (span, source)
        for span, source in (
            (_first(_CHINESE, text, after), text),
            (_first(_ENGLISH, lowered, after), lowered),
        )
        if span is not None
    ]
    if not hits:
        return None
    (start, end), source = min(hits)
    return source[start:end]


def _first_phrase(pattern: re.Pattern, text: str, after: int) -> str | None:
    """The phrase ``_first`` finds, or None."""
    span = _first(pattern, text, after)
    return None if span is None else text[span[0] : span[1]]


def _first(pattern: re.Pattern, text: str, after: int = 0) -> tuple[int, int] | None:
    """Where the first phrase of ``pattern`` not negated right before it (and ending past
    ``after``) is."""
    for found in pattern.finditer(text):
        if found.end() <= after:
            continue
        before = text[max(0, found.start() - 12) : found.start()]
        if not _NEGATED.search(before):
            return found.span()
    return None


# ---------------------------------------------------------------- rule 2: the formal notice


class NoticeLine(NamedTuple):  # a tuple: made for every row of tens of thousands of letters
    """One row of a notice: how its period may be named, and the amount of each period."""

    labels: tuple[str, ...]  # "2026-03", "2026-03-01", "2026-03-31" …
    each_fen: int


class FormalNotice(NamedTuple):
    """What one 催缴通知书 must show: its deadline and every period with its amount."""

    deadline: str  # ISO day
    lines: tuple[NoticeLine, ...]


# the days and amounts the text names, taken as written (one scan, no work per match) …
_TOKENS = re.compile(
    r"[0-9][0-9][0-9][0-9](?:年[0-9]{1,2}月(?:[0-9]{1,2}日)?|[-/.][0-9]{1,2}(?:[-/.][0-9]{1,2})?)"
    r"|[0-9][0-9,]*\.[0-9][0-9]"
)
# … and the sentences that give the basis or say the company may sue or apply for
# arbitration (in the lower-cased text: one scan, each sentence counted once)
_BASIS_WORDS = ("合同", "收费标准", "明码标价", "contract", "fee standard")
_SUIT_WORDS = ("诉讼", "起诉", "仲裁", "court", "arbitrat", "lawsuit", "legal action")
_MARKS = re.compile("|".join((*_BASIS_WORDS, *_SUIT_WORDS, "。", "！", "？", "!", r"\?", "\n")))
_BASIS, _SUIT = frozenset(_BASIS_WORDS), frozenset(_SUIT_WORDS)
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?")


_BASIS_ZH = tuple(w for w in _BASIS_WORDS if not w.isascii())
_BASIS_EN = tuple(w for w in _BASIS_WORDS if w.isascii())
_SUIT_ZH = tuple(w for w in _SUIT_WORDS if not w.isascii())
_SUIT_EN = tuple(w for w in _SUIT_WORDS if w.isascii())


def _stated(text: str, lowered: str | None) -> tuple[bool, bool]:
    """Whether some sentence gives the basis, and whether some sentence says the company may
    sue: ``_sentences`` for one notice, where a word anywhere is a sentence that says it (the
    Chinese words found in the text as it is, the English ones only then lowered)."""
    basis = any(word in text for word in _BASIS_ZH)
    suit = any(word in text for word in _SUIT_ZH)
    if not (basis and suit):
        lowered = text.lower() if lowered is None else lowered
        basis = basis or any(word in lowered for word in _BASIS_EN)
        suit = suit or any(word in lowered for word in _SUIT_EN)
    return basis, suit


def _sentences(lowered: str) -> tuple[int, int]:
    """How many sentences give the basis, and how many say the company may sue."""
    basis = suit = 0
    said_basis = said_suit = False
    for word in _MARKS.findall(lowered):
        if word in _BASIS:
            basis += not said_basis
            said_basis = True
        elif word in _SUIT:
            suit += not said_suit
            said_suit = True
        else:  # a sentence ends
            said_basis = said_suit = False
    return basis, suit


@lru_cache(maxsize=4096)  # a run's letters name the same few days and months
def _day_forms(iso: str) -> tuple[str, ...]:
    """The ways a text may write a day (``2026-03-01``) or a month (``2026-03``)."""
    if not _ISO.fullmatch(iso):
        return (iso,)
    parts = iso.split("-")
    if len(parts) == 2:
        year, month = parts
        return (iso, f"{year}/{month}", f"{year}年{int(month)}月", f"{year}年{month}月")
    year, month, day = parts
    return (
        iso,
        f"{year}/{month}/{day}",
        f"{year}.{month}.{day}",
        f"{year}/{int(month)}/{int(day)}",
        f"{year}年{int(month)}月{int(day)}日",
        f"{year}年{month}月{day}日",
    )


def _names_day(days: set[str], iso: str) -> bool:
    return not _forms_of((iso,)).isdisjoint(days)


@lru_cache(maxsize=4096)  # a run's letters name the same few periods
def _forms_of(labels: tuple[str, ...]) -> frozenset[str]:
    """Every way a text may write any of ``labels`` (the empty ones left out)."""
    return frozenset(form for label in labels if label for form in _day_forms(label))


def notice_gaps(
    text: str, notices: Sequence[FormalNotice], *, limit: int = 4, lowered: str | None = None
) -> list[str]:
    """What the rendered ``text`` of these notices fails to state (LEGAL rule 2), in words
    for the user; empty when it states everything. Linear in the text and the lines.
    ``lowered`` is ``text.lower()`` when the caller has it already."""
    if not notices:
        return []
    tokens = set(_TOKENS.findall(text))
    if len(notices) == 1:  # a letter at a time, as a reminder run checks them
        basis, suit = _stated(text, lowered)
    else:
        basis, suit = _sentences(text.lower() if lowered is None else lowered)
    gaps: list[str] = []
    if basis < len(notices):
        gaps.append(
            _("the basis of the charge (the property service contract, the published fees)")
        )
    if suit < len(notices):
        gaps.append(_("that unpaid fees will go to court or arbitration as the law provides"))
    for notice in notices:
        if not _names_day(tokens, notice.deadline):
            gaps.append(_("the last day to pay, {day}").format(day=notice.deadline))
        for line in notice.lines:
            plain, grouped = _fen_texts(line.each_fen)
            if plain not in tokens and grouped not in tokens:
                gaps.append(
                    _("the amount owed for {label}, {amount}").format(
                        label=line.labels[0], amount=plain
                    )
                )
            elif _forms_of(line.labels).isdisjoint(tokens):
                gaps.append(_("the period billed, {label}").format(label=line.labels[0]))
        if len(gaps) > limit:
            break
    return gaps[:limit]


@lru_cache(maxsize=4096)  # a run's letters repeat the same few amounts
def _fen_texts(fen: int) -> tuple[str, str]:
    """``1234.50`` and ``1,234.50``."""
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}", f"{whole:,}.{cents:02d}"
