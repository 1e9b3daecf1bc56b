"""Reading the cells real files contain: text, codes, phones, ID numbers, dates.

Every function takes one raw cell (``str``, ``float``, ``int``, ``bool``, ``date``, ``datetime``
or ``None`` as the readers deliver them) and returns a clean value, or raises
:class:`~propfee.errors.InvalidValue` with a message fit to show the user.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from datetime import date, datetime, timedelta

from propfee.core.errors import InvalidValue
from propfee.core.i18n import _
from propfee.core.money import excel_float_text

# masking lives in core (the audit trail masks too); cells.mask_… is what callers use
from propfee.core.privacy import (  # noqa: F401
    is_masked,
    mask_id,
    mask_in_text,
    mask_phone,
    mask_phones,
)

_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_UNTIDY = re.compile(
    r"^[\s\u3000\u00a0\u200b\ufeff]|[\s\u3000\u00a0\u200b\ufeff]$|"
    r"[\s\u3000\u00a0\u200b\ufeff]{2}|[\t\r\n\u3000\u00a0\u200b\ufeff]"
)
_FORMULA_GUARD = re.compile(r"^'(?=[=+\-@\t\r])")


#: what people type in a cell that has nothing to say
PLACEHOLDERS = frozenset(
    (
        "无",
        "暂无",
        "没有",
        "空",
        "-",
        "--",
        "—",
        "——",
        "－",
        "/",
        "／",
        "\\",
        "null",
        "none",
        "n/a",
        "na",
        "nil",
        "待定",
        "不详",
        "未知",
        "未填",
        "未提供",
        "未交付",
        "未收房",
        "未入住",
        "?",
        "？",
    )
)


def is_blank(value: object) -> bool:
    """An empty cell, or one holding only a placeholder such as 无, -, 暂无, N/A."""
    if value is None or value == "":
        return True
    if type(value) is str and len(value) <= 4:
        return value.strip().lower() in PLACEHOLDERS
    return False


def plainly_tidy(value: str) -> bool:
    """True when ``text`` surely leaves this text's spaces as they are — printable (so no
    whitespace but the plain space: no tab, line break or special space), no space at an end,
    no two together — told at once, without a regular expression. False: perhaps not."""
    return value.isprintable() and value[:1] != " " and value[-1:] != " " and "  " not in value


def text(value: object) -> str:
    """Any cell as trimmed text; inner runs of whitespace become one space.

    Names keep their own characters (full-width brackets in a company name stay as written);
    a leading apostrophe that an export added to neutralise a formula is removed.
    """
    if type(value) is str:
        if not value:  # the blank cell of a column the sheet does not have: the usual call
            return value
        if _UNTIDY.search(value):
            value = _SPACES.sub(" ", value).strip()
        return _FORMULA_GUARD.sub("", value) if value[:1] == "'" else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return excel_float_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def ascii_text(value: object) -> str:
    """Text with full-width letters, digits and punctuation folded to ASCII (NFKC)."""
    raw = text(value)
    if raw.isascii():
        return raw
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()


def number_text(value: object) -> str:
    """A code-like cell: ``1001.0`` or ``'1001.0'`` -> ``'1001'``, ``'１００１'`` -> ``'1001'``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raw = ascii_text(value)
    if raw[-2:] == ".0" and _WHOLE_FLOAT_TEXT.match(raw):
        return raw.split(".")[0]
    return raw


_WHOLE_FLOAT_TEXT = re.compile(r"^\d+\.0+$")


# ---------------------------------------------------------------- building / entrance / room

_BUILDING_SUFFIX = re.compile(
    r"^(?:第)?([0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)\s*(?:#楼|#|号楼|号|栋楼|栋|幢|座|楼)$"
)
_ENTRANCE_SUFFIX = re.compile(r"^(?:第)?([0-9A-Za-z]+)\s*(?:单元|门|号)$")
_ROOM_SUFFIX = re.compile(r"^([0-9A-Za-z-]+)\s*(?:室|号|房)$")
_CN_DIGITS = dict(zip("一二三四五六七八九十", range(1, 11), strict=True))


def _cn_small_number(word: str) -> str | None:
    """一..九十九 as Arabic digits (二十三 -> 23); None if it is not such a number."""
    if not word or any(ch not in _CN_DIGITS for ch in word):
        return None
    if len(word) == 1:
        return str(_CN_DIGITS[word])
    if len(word) == 2 and word[0] == "十":
        return str(10 + _CN_DIGITS[word[1]])
    if len(word) == 2 and word[1] == "十":
        return str(_CN_DIGITS[word[0]] * 10)
    if len(word) == 3 and word[1] == "十":
        return str(_CN_DIGITS[word[0]] * 10 + _CN_DIGITS[word[2]])
    return None


#: a note a template writes after a value: "东一区(必须是已录入的车库)", "1(必须是已录入的车位编号)"
_TEMPLATE_NOTE = re.compile(r"^(.+?)\s*[(（][^()（）]*(?:必须|必填|选填|请|如|例)[^()（）]*[)）]$")


def without_note(raw: str) -> str:
    """A value with a template's bracketed instruction after it, without the instruction."""
    match = _TEMPLATE_NOTE.match(raw)
    return match.group(1) if match else raw


def building_part(value: object) -> str:
    """``'1号楼'``, ``'1栋'``, ``'1#'``, ``'A座'``, ``1.0`` -> ``'1'`` / ``'A'``; other text as is."""
    raw = without_note(number_text(value))
    match = _BUILDING_SUFFIX.match(raw)
    if match:
        return match.group(1)
    cn = re.match(r"^(?:第)?([一二三四五六七八九十]+)\s*(?:号楼|栋|幢|座|号)$", raw)
    if cn and (number := _cn_small_number(cn.group(1))):
        return number
    return raw


def entrance_part(value: object) -> str:
    """``'1单元'``, ``'一单元'``, ``1.0`` -> ``'1'``."""
    raw = number_text(value)
    match = _ENTRANCE_SUFFIX.match(raw)
    if match:
        return match.group(1)
    cn = re.match(r"^(?:第)?([一二三四五六七八九十]+)\s*(?:单元|门)$", raw)
    if cn and (number := _cn_small_number(cn.group(1))):
        return number
    return raw


def room_part(value: object) -> str:
    """``1001.0`` -> ``'1001'``, ``'1001室'`` -> ``'1001'``."""
    raw = without_note(number_text(value))
    match = _ROOM_SUFFIX.match(raw)
    return match.group(1) if match else raw


def unit_code(value: object) -> str:
    """A unit code as written, with full-width characters folded and floats made whole."""
    if type(value) is str and value.isascii() and " " not in value and value[:1] != "'":
        return value
    return number_text(value).replace(" ", "")


# ---------------------------------------------------------------- phones

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_FLOAT_TEXT = re.compile(r"^\d{7,}\.0+$")
_PHONE_NOTE = re.compile(r"[(（][^)）\d]*[)）]|[\u4e00-\u9fff]+|[:：]")
_PHONE_SPLIT = re.compile(r"[/,;|、，；\n]+|\s*或\s*|\s*及\s*")


def phones(value: object) -> list[str]:
    """All phone numbers in a cell, first one primary.

    Accepts numbers stored as numbers (``18909711443.0``), ``+86``, dashes and spaces inside
    a number, landlines with area code (``0931-8123456``) or without (``8123456``), 400/800
    numbers, and several numbers in one cell separated by ``/ , ; 、`` or spaces.
    """
    if type(value) is float and 1.3e10 <= value < 2e10 and value.is_integer():
        return [str(int(value))]  # a mobile number stored as a number: the common case
    if type(value) is str and len(value) == 11 and _MOBILE.match(value):
        return [value]
    if is_blank(value):
        return []
    if isinstance(value, float):
        raw = excel_float_text(value)
    else:
        raw = ascii_text(value)
        if _FLOAT_TEXT.match(raw):  # "18909711443.0": a number that became text
            raw = raw.split(".")[0]
    if not raw:
        return []
    found: list[str] = []
    raw = _PHONE_NOTE.sub(" ", raw.replace("转", "x"))  # "13800138000(本人)", "张三:138…"
    for piece in _PHONE_SPLIT.split(raw):
        piece = piece.strip()
        if not piece:
            continue
        one = _one_phone(piece)
        if one is not None:
            found.append(one)
            continue
        words = piece.split()
        several = [_one_phone(word) for word in words] if len(words) > 1 else [None]
        if all(several):
            found.extend(p for p in several if p)
            continue
        raise InvalidValue(
            _("'{value}' is not a mainland mobile or landline number").format(value=piece)
        )
    unique: list[str] = []
    for phone in found:
        if phone not in unique:
            unique.append(phone)
    return unique


def _one_phone(piece: str) -> str | None:
    piece = re.sub(r"^(?:\+|00)\s*86[\s-]*", "", piece)
    piece = re.sub(r"^\(?(0\d{2,3})\)\s*", r"\1-", piece)  # (0931)8123456
    extension = ""
    ext = re.search(r"(?:转|ext\.?|x)\s*(\d{1,6})$", piece, flags=re.I)
    if ext:
        extension = "转" + ext.group(1)
        piece = piece[: ext.start()].strip()
    if not re.fullmatch(r"[\d\s-]+", piece):
        return None
    digits = re.sub(r"\D", "", piece)
    if _MOBILE.match(digits):
        return digits
    if re.fullmatch(r"[48]00\d{7}", digits):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}{extension}"
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        area_len = 3 if digits[1] in "12" else 4
        subscriber = digits[area_len:]
        if 7 <= len(subscriber) <= 8 and subscriber[0] != "0":
            return f"{digits[:area_len]}-{subscriber}{extension}"
        return None
    if 7 <= len(digits) <= 8 and digits[0] not in "01":
        return digits + extension
    return None


# ---------------------------------------------------------------- ID numbers

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_ID_CHECK = "10X98765432"
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def id_number(value: object) -> str:
    """A mainland resident ID (18 digits with a valid check digit, or the old 15 digits),
    a company's unified social credit code, or another document number (passport,
    HK/Macau permit) kept as written."""
    if usual_resident_id(value):
        return resident_id(value)  # the usual cell, already as it is kept
    if is_blank(value):
        return ""
    if isinstance(value, float) and value >= 1e15:
        raise InvalidValue(
            _(
                "the ID number was stored as a number and its last digits are lost; format the "
                "column as text and enter it again"
            )
        )
    raw = number_text(value).upper().replace(" ", "")
    if re.fullmatch(r"\d(?:\.\d+)?E\+\d+", raw):
        raise InvalidValue(
            _(
                "'{value}' was saved in scientific notation and its digits are lost; format the "
                "column as text and export again"
            ).format(value=raw)
        )
    if not raw or is_masked(raw):
        return raw
    if _RESIDENT_ID.match(raw):
        return resident_id(raw)
    if re.fullmatch(r"\d{15}", raw) or _USCC.match(raw):
        return raw
    if re.fullmatch(r"\d+", raw):
        raise InvalidValue(
            _("'{value}' is not a valid ID number ({n} digits; expected 18)").format(
                value=raw, n=len(raw)
            )
        )
    if re.fullmatch(r"[A-Z0-9()\-]{5,20}", raw):
        return raw  # passport, 港澳通行证 and other documents
    raise InvalidValue(_("'{value}' is not an ID or document number").format(value=raw))


def usual_resident_id(value: object) -> bool:
    """Whether a cell is an 18-character resident ID as it is kept (ASCII digits, the last
    perhaps X): ``id_number`` gives it back as it is, once ``resident_id`` has checked it."""
    return (
        type(value) is str
        and len(value) == 18
        and value.isascii()
        and _RESIDENT_ID.match(value) is not None
    )


def resident_id(raw: str) -> str:
    """An 18-digit resident ID (``_RESIDENT_ID``) whose check digit and birth date are
    checked."""
    if raw.isascii():
        # Each weight is 2**k mod 11 (2**17 for the first digit … 2 for the seventeenth),
        # and 13 is 2 mod 11: the digits read in base 13 and doubled give the weighted sum,
        # mod 11, in one C call.
        total = 2 * int(raw[:17], 13)
    else:
        total = sum(map(operator.mul, map(int, raw[:17]), _ID_WEIGHTS))
    if _ID_CHECK[total % 11] != raw[17]:
        raise InvalidValue(
            _("'{value}' is not a valid ID number (check digit does not match)").format(value=raw)
        )
    if not _real_day(raw[6:14]):
        raise InvalidValue(
            _("'{value}' is not a valid ID number (no such birth date)").format(value=raw)
        )
    return raw


@functools.lru_cache(maxsize=65536)
def _real_day(yyyymmdd: str) -> bool:
    try:
        date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def birthday_from_id(value: str) -> date | None:
    """The birth date a mainland 18- or 15-digit ID number carries, if any."""
    if _ID18.fullmatch(value):
        digits = value[6:14]
    elif _ID15.fullmatch(value):
        digits = "19" + value[6:12]
    else:
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")


# ---------------------------------------------------------------- dates

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME_TAIL = re.compile(r"^(?:[T\s]*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")


def parse_date(value: object) -> date | None:
    """A date cell: an Excel date, an Excel serial number, or text such as ``2020-6-10``,
    ``2020/06/10``, ``2020.6.10``, ``2020年6月10日``, ``20200610`` (a time after it is
    ignored). Blank gives None. Day-first or month-first forms (``10/06/2020``) are refused
    as ambiguous."""
    if is_blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise InvalidValue(_("{value} is not a date").format(value=repr(value)))
    if isinstance(value, (int, float)):
        if not float(value).is_integer() and isinstance(value, float):
            value = int(value)  # a date-time serial: keep the day
        serial = int(value)
        if 20000 <= serial <= 80000:  # 1954 .. 2119: what a delivery or payment date can be
            return _EXCEL_EPOCH + timedelta(days=serial)
        if 19000101 <= serial <= 21001231:
            return _date_from_text(str(serial), str(value))
        raise InvalidValue(_("{value} is not a date").format(value=excel_float_text(float(value))))
    raw = ascii_text(value)
    if not raw:
        return None
    if len(raw) == 5 and raw.isdigit() and 20000 <= int(raw) <= 80000:
        return _EXCEL_EPOCH + timedelta(days=int(raw))  # a serial number that became text
    return _date_from_text(raw, raw)


def _date_from_text(raw: str, shown: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match and _TIME_TAIL.match(raw[match.end() :]):
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise InvalidValue(_("'{value}' is not a real date").format(value=shown)) from None
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", raw):
        raise InvalidValue(
            _("'{value}' is ambiguous; write the date as YYYY-MM-DD").format(value=shown)
        )
    raise InvalidValue(_("'{value}' is not a date (expected YYYY-MM-DD)").format(value=shown))
