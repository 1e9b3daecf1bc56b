"""Masking phone and ID numbers (LEGAL rule 10): screens and exports show ``138****1234`` and
``620102********1234`` unless staff ask for the full number."""

from __future__ import annotations

import re

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def is_masked(value: str) -> bool:
    """True when a phone or ID shows a mask (``138****1234``) rather than the real value."""
    return "*" in value or "＊" in value


def mask_phone(phone: str) -> str:
    """``13812341234`` -> ``138****1234``; landlines keep area code and last three digits."""
    if not phone or is_masked(phone):
        return phone
    if _MOBILE.fullmatch(phone):  # the usual case: eleven digits, nothing to strip first
        return f"{phone[:3]}****{phone[-4:]}"
    digits = re.sub(r"[\s\-－.．()（）]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    if _MOBILE.match(digits):  # a mobile written with dashes or spaces is still a mobile
        return f"{digits[:3]}****{digits[-4:]}"
    if _MOBILE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    phone, _, extension = phone.partition("转")
    extension = f"转{extension}" if extension else ""
    if _MOBILE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}{extension}"
    if "-" in phone:
        head, _, tail = phone.rpartition("-")
        return f"{head}-{'*' * max(len(tail) - 3, 1)}{tail[-3:]}{extension}"
    return f"{'*' * max(len(phone) - 3, 1)}{phone[-3:]}"


def mask_phones(value: str) -> str:
    return "/".join(mask_phone(p) for p in value.split("/")) if value else ""


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－．（）\u3000", "0123456789+-.() ")
_SEP = r"[ \-.]?"
_MOBILE_IN_TEXT = re.compile(
    r"(?<![\d+])((?:\+|00)?86[ -]?)?\(?(1[3-9]\d)\)?" + _SEP + r"(\d{4})" + _SEP + r"(\d{4})(?!\d)"
)
# 1381-234-5678 and the like: eleven digits in other groupings
_MOBILE_GROUPED = re.compile(r"(?<![\d+])(1[3-9]\d)(\d)[ \-.](\d{3})[ \-.](\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{6})[ \-]?(\d{4} ?\d{4})[ \-]?(\d{3}[\dXx])(?!\d)")
_OLD_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")


def mask_in_text(value: object) -> object:
    """Mobile numbers (with or without +86, spaces or dashes, in full-width digits too) and
    18- or 15-digit ID numbers inside free text, masked as the columns are."""
    if not isinstance(value, str) or not value:
        return value
    if any(c in value for c in "０１２３４５６７８９－．（）\u3000"):
        value = value.translate(_FULL_WIDTH_DIGITS)
    value = _MOBILE_IN_TEXT.sub(lambda m: f"{m[1] or ''}{m[2]}****{m[4]}", value)
    value = _MOBILE_GROUPED.sub(lambda m: f"{m[1]}****{m[4]}", value)
    value = _ID_IN_TEXT.sub(lambda m: f"{m[1]}********{m[3][-4:]}", value)
    return _OLD_ID_IN_TEXT.sub(lambda m: f"{m[1]}******{m[3]}", value)


def mask_id(value: str) -> str:
    """Keep the first 6 and last 4 characters of an 18-digit ID (``620102********1234``); a
    shorter document keeps about a third in front and a quarter at the end. Always masked."""
    if not value or is_masked(value):
        return value
    if len(value) <= 2:
        return "*" * len(value)
    front = min(6, len(value) // 3)
    back = min(4, len(value) // 4)
    return value[:front] + "*" * (len(value) - front - back) + value[len(value) - back :]
