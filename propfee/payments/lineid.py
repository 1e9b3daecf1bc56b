"""The identity of a payment line: whether a transaction number can be trusted, the identity a
bank line without a serial number gets from its own fields, and the period a payer names.

A transaction number that a spreadsheet turned into a number (``1.00005E+27``,
``4200000456201910000000000000``) has lost its digits: two payments can share it and the same
payment can come back under the real one. Such a line is never recorded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from propfee.core.i18n import N_, _

#: the fewest digits a WeChat Pay or Alipay transaction number has (WeChat: 28 for a payment,
#: about 32 for a transfer or red packet; Alipay: 28 for 交易号, more for 账务流水号)
MIN_DIGITS = {"wechat": 28, "alipay": 16}
CHANNEL_NAMES = {"wechat": N_("WeChat Pay"), "alipay": N_("Alipay"), "bank": N_("bank")}

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
_DECIMAL = re.compile(r"\d+[.,]\d+")
_SEPARATED = re.compile(r"\d{1,3}(?:,\d{3})+")
_APP_REF = re.compile(r"[0-9A-Za-z_-]+")


def ref_damage(ref: str, channel: str) -> str | None:
    """Why a transaction number cannot be what the channel issued (None when it can)."""
    text = ref.strip()
    if text.isascii() and text.isdigit():  # the usual case, told at once
        return _digits_damage(text, channel)
    if _SCIENTIFIC.fullmatch(text):
        return _(
            "transaction no. {ref} is in scientific notation: a spreadsheet rewrote it as a "
            "number and the original number is lost"
        ).format(ref=text)
    if _DECIMAL.fullmatch(text) or _SEPARATED.fullmatch(text):
        return _(
            "transaction no. {ref} has a decimal point or thousands separators: a spreadsheet "
            "rewrote it as a number"
        ).format(ref=text)
    if text.isdigit() and len(text) > 15 and len(text) - 15 >= 5 and set(text[15:]) == {"0"}:
        return _(
            "transaction no. {ref} is all zeros after the 15th digit: a spreadsheet keeps only "
            "15 significant digits and the rest are lost"
        ).format(ref=text)
    if channel in MIN_DIGITS:
        name = _(CHANNEL_NAMES[channel])
        if not _APP_REF.fullmatch(text):
            return _(
                "transaction no. {ref} holds characters a {channel} transaction number never has"
            ).format(ref=text, channel=name)
        least = MIN_DIGITS[channel]
        if text.isdigit() and len(text) < least:
            return _(
                "transaction no. {ref} has only {n} digits; a {channel} transaction number has at "
                "least {least}: the number is incomplete"
            ).format(ref=text, n=len(text), channel=name, least=least)
    return None


def _digits_damage(text: str, channel: str) -> str | None:
    """``ref_damage`` of a number of ASCII digits: cut to 15 digits, or too short."""
    if text[-5:] == "00000" and len(text) - 15 >= 5 and not text[15:].strip("0"):
        return _(
            "transaction no. {ref} is all zeros after the 15th digit: a spreadsheet keeps only "
            "15 significant digits and the rest are lost"
        ).format(ref=text)
    least = MIN_DIGITS.get(channel)
    if least is not None and len(text) < least:
        return _(
            "transaction no. {ref} has only {n} digits; a {channel} transaction number has at "
            "least {least}: the number is incomplete"
        ).format(ref=text, n=len(text), channel=_(CHANNEL_NAMES[channel]), least=least)
    return None


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


class BankIdentity:
    """The identity of bank lines without a serial number: a digest of the account, the
    posting day and time, the amount, the balance after, the counterparty and the summary,
    with the line's occurrence among identical lines of the file, so two genuinely identical
    lines on one day are two payments and reading the file again finds both recorded."""

    def __init__(self, account: str):
        self.account = account
        self.seen: dict[str, int] = {}

    def __call__(
        self, day: date, clock: str, amount_fen: int, balance: str, who: str, memo: str
    ) -> tuple[str, int]:
        """The line's identity and its occurrence among identical lines so far (1: first)."""
        key = "|".join(
            [
                self.account,
                day.isoformat(),
                clock,
                str(amount_fen),
                balance,
                _fold(who),
                _fold(memo),
            ]
        )
        count = self.seen.get(key, 0) + 1
        self.seen[key] = count
        digest = hashlib.sha256(f"{key}#{count}".encode()).hexdigest()[:20].upper()
        return f"BK{digest}", count


_ACCOUNT = re.compile(r"(?:账号|帐号|账户|帐户|卡号)\s*[:：]?\s*\[?\s*([0-9][0-9 *]{5,}[0-9])")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def account_in(text: str) -> str:
    """The account number a statement's title rows name ('' when none)."""
    found = _ACCOUNT.search(unicodedata.normalize("NFKC", text))
    return found.group(1).replace(" ", "") if found else ""


def clock_in(text: str) -> str:
    """The time of day a date cell holds, as HH:MM:SS ('' when none)."""
    found = _CLOCK.search(text)
    if not found:
        return ""
    hour, minute, second = found.groups()
    return f"{int(hour):02d}:{minute}:{second or '00'}"


_MONTH_CN = re.compile(r"(20\d{2})\s*年\s*(\d{1,2})\s*月")
_MONTH_ISO = re.compile(r"(?<!\d)(20\d{2})[-./](\d{1,2})(?![-./]?\d)")


def months_named(memo: str) -> list[str]:
    """The months (``2026-03``) a memo names as the period paid for: ``2026年3月停车费``,
    ``2026-03 物业费``. A full date (2026-03-15) is not a period."""
    text = unicodedata.normalize("NFKC", memo)
    if "20" not in text:  # no year of this century: the usual memo, told at once
        return []
    found = []
    for pattern in (_MONTH_CN, _MONTH_ISO):
        for year, month in pattern.findall(text):
            if 1 <= int(month) <= 12:
                found.append(f"{year}-{int(month):02d}")
    return list(dict.fromkeys(found))
