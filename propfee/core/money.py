"""Exact money and exact decimals.

Money lives in the database as integer fen (分) and in Python as ``int`` fen or ``Decimal``
yuan; it never touches a float. Every value from outside (a CLI argument, a CSV cell, an Excel
cell that arrived as a float) goes through :func:`parse_decimal`, which refuses anything it
cannot read exactly.

Excel stores numbers as binary floats and shows them with 15 significant digits; a float cell
is read as the text Excel shows (``format(x, ".15g")``), so ``89.37`` stays ``89.37`` and
``18909711443.0`` becomes ``18909711443``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from propfee.core.errors import InvalidValue
from propfee.core.i18n import _, ngettext

ZERO = Decimal(0)
CENT = Decimal("0.01")
HUNDRED = 100

_NUMBER = re.compile(r"^(?P<sign>[+-])?(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<frac>\d*))?$")
_CURRENCY_MARKS = ("¥", "元", "RMB", "CNY", "人民币")
_AREA_MARKS = ("㎡", "m²", "m2", "平方米", "平米", "平方")
_MINUS_SIGNS = str.maketrans({"−": "-", "–": "-", "—": "-", "－": "-"})


def D(value: str | int | Decimal) -> Decimal:
    """A Decimal from a literal in code (``D("2.50")``); for outside input use parse_decimal."""
    if isinstance(value, float):
        raise TypeError("floats are not money; pass a string")
    return Decimal(value)


def excel_float_text(value: float) -> str:
    """The number as Excel shows it: at most 15 significant digits, no float noise."""
    if math.isnan(value) or math.isinf(value):
        raise InvalidValue(_("not a number: {value}").format(value=value))
    text = format(value, ".15g")
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text


def parse_decimal(
    value: object,
    *,
    places: int,
    what: str = "",
    allow_negative: bool = False,
    allow_zero: bool = True,
    marks: tuple[str, ...] = (),
) -> Decimal:
    """Read ``value`` as an exact decimal with at most ``places`` decimal places.

    Accepts ``Decimal``, ``int``, Excel floats and text such as ``"1,234.5"``, ``"¥1234.50"``,
    ``"１２３４.５０"`` (full-width) or ``"(12.50)"`` (a negative, as banks print it).
    Trailing zeros beyond ``places`` are fine (``"1.230"``); real extra digits are refused.
    ``what`` names the value in a refusal (default: "amount" in the reader's language).
    """
    what = what or _("amount")
    if isinstance(value, bool):
        raise InvalidValue(_("{what}: {value!r} is not a number").format(what=what, value=value))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(excel_float_text(value))
    elif isinstance(value, str):
        number = _parse_text(value, what=what, marks=marks)
    else:
        raise InvalidValue(_("{what}: {value!r} is not a number").format(what=what, value=value))
    if not number.is_finite():
        raise InvalidValue(
            _("{what}: {value!r} is not a finite number").format(what=what, value=value)
        )
    quantum = Decimal(1).scaleb(-places)
    try:
        exact = number.quantize(quantum)
    except InvalidOperation:
        raise InvalidValue(
            _("{what}: {value!r} is too large").format(what=what, value=value)
        ) from None
    if exact != number:
        raise InvalidValue(
            ngettext(
                "{what}: {value} has more than {places} decimal place",
                "{what}: {value} has more than {places} decimal places",
                places,
            ).format(what=what, value=_show(value), places=places)
        )
    if exact < 0 and not allow_negative:
        raise InvalidValue(
            _("{what}: {value} must not be negative").format(what=what, value=_show(value))
        )
    if exact == 0 and not allow_zero:
        raise InvalidValue(
            _("{what}: {value} must be greater than zero").format(what=what, value=_show(value))
        )
    return exact + ZERO  # normalises -0 to 0


def _show(value: object) -> str:
    if isinstance(value, float):
        return excel_float_text(value)
    return repr(value) if not isinstance(value, str) else f"'{value}'"


def _parse_text(text: str, *, what: str, marks: tuple[str, ...]) -> Decimal:
    raw = text
    text = unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS).strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    for mark in (*_CURRENCY_MARKS, *marks):
        text = text.replace(mark, "")
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if text.startswith("-") and negative:
        raise InvalidValue(_("{what}: '{value}' is not a number").format(what=what, value=raw))
    if text.upper() in {"NAN", "INF", "+INF", "-INF", "INFINITY", "-INFINITY"}:
        raise InvalidValue(
            _("{what}: '{value}' is not a finite number").format(what=what, value=raw)
        )
    match = _NUMBER.match(text)
    if not match or not (match["int"] or match["frac"]):
        if text and _looks_like_decimal_comma(text):
            raise InvalidValue(
                _("{what}: '{value}' uses a comma as the decimal point; write it with '.'").format(
                    what=what, value=raw
                )
            )
        raise InvalidValue(
            _("{what}: '{value}' is not a number").format(what=what, value=raw)
            if raw.strip()
            else _("{what} is empty").format(what=what)
        )
    sign = "-" if (match["sign"] == "-") != negative else ""
    digits = (match["int"] or "0").replace(",", "")
    frac = match["frac"] or ""
    return Decimal(f"{sign}{digits}.{frac}" if frac else f"{sign}{digits}")


def _looks_like_decimal_comma(text: str) -> bool:
    return re.fullmatch(r"[+-]?\d+,\d{1,2}", text) is not None


def to_fen(amount: Decimal) -> int:
    """Exact yuan (at most two places) to integer fen."""
    fen = amount * HUNDRED
    if fen != fen.to_integral_value():
        raise InvalidValue(_("{amount} has more than 2 decimal places").format(amount=amount))
    return int(fen)


def round_fen(amount: Decimal) -> int:
    """Round yuan half-up to the fen (the one rounding rule of propfee) and return fen."""
    return int((amount * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_money(
    value: object, *, what: str = "", allow_negative: bool = False, allow_zero: bool = False
) -> int:
    """Read a money amount and return integer fen; zero is refused unless allowed."""
    return to_fen(
        parse_decimal(
            value, places=2, what=what, allow_negative=allow_negative, allow_zero=allow_zero
        )
    )


def fen_to_decimal(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def decimal_str(fen: int) -> str:
    """Fen as a plain two-place decimal string, the JSON form: ``"1234.50"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), HUNDRED)
    return f"{sign}{whole}.{cents:02d}"


def format_money(fen: int) -> str:
    """Fen for people, the one money format of the terminal (tables, messages, summaries):
    ``¥1,234.50``, ``-¥20.00``. JSON and CSV carry ``decimal_str`` (``"1234.50"``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), HUNDRED)
    return f"{sign}¥{whole:,}.{cents:02d}"


# Areas (and other two-place quantities) are stored as integers in hundredths.


#: bounds that keep every product and sum far inside SQLite's signed 64-bit integers: a bill
#: is at most ¥10,000,000 (so ten million bills still sum below 2**63 fen), an area at most
#: 100,000 ㎡, a unit price at most ¥1,000,000
MAX_LINE_FEN = 10_000_000_00
MAX_AREA_HUNDREDTHS = 100_000_00
MAX_PRICE_X10000 = 1_000_000_0000


def check_line(fen: int, *, what: str = "", hint: str = "") -> None:
    """Refuse one amount (a bill, an adjustment, a row of a file) beyond the per-line ceiling."""
    if abs(fen) > MAX_LINE_FEN:
        raise InvalidValue(
            _("{what} {amount} is above the ceiling of one line, {ceiling}: {hint}").format(
                what=what or _("amount"),
                amount=format_money(fen),
                ceiling=format_money(MAX_LINE_FEN),
                hint=hint or _("check the amount"),
            )
        )


def parse_area(value: object, *, what: str = "") -> int:
    """Read an area in ㎡ (at most two places, greater than zero, at most 100,000 ㎡); return
    hundredths of ㎡."""
    what = what or _("area")
    area = parse_decimal(value, places=2, what=what, allow_zero=False, marks=_AREA_MARKS)
    if area * HUNDRED > MAX_AREA_HUNDREDTHS:
        raise InvalidValue(
            _("{what}: {value} ㎡ is above the ceiling of {ceiling} ㎡: check the area").format(
                what=what, value=_show(value), ceiling=f"{MAX_AREA_HUNDREDTHS // HUNDRED:,}"
            )
        )
    return int(area * HUNDRED)


def hundredths_to_decimal(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def hundredths_str(value: int | None) -> str:
    """Hundredths as a plain decimal string without needless zeros: 8937 -> '89.37', 9000 -> '90'."""
    if value is None:
        return ""
    whole, part = divmod(value, HUNDRED)
    if part == 0:
        return str(whole)
    return f"{whole}.{part:02d}".rstrip("0")


# Prices are exact decimals with up to four places (electricity is priced at ¥0.5283/kWh),
# stored as integers in ten-thousandths of a yuan.

PRICE_PLACES = 4


def parse_price(value: object, *, what: str = "") -> int:
    """A unit price (at most four decimal places, not negative) in ten-thousandths of a yuan."""
    what = what or _("price")
    price = parse_decimal(value, places=PRICE_PLACES, what=what, marks=("/㎡", "/月"))
    if price < 0:
        raise InvalidValue(_("{what}: {value} must not be negative").format(what=what, value=price))
    if price.scaleb(PRICE_PLACES) > MAX_PRICE_X10000:
        raise InvalidValue(
            _(
                "{what}: {value} is above the ceiling of a unit price, {ceiling}: check the price"
            ).format(what=what, value=price, ceiling=f"¥{MAX_PRICE_X10000 // 10000:,}")
        )
    return int(price.scaleb(PRICE_PLACES))


def price_str(price_x10000: int) -> str:
    """``25000`` -> ``'2.50'``; four places only when needed (``5283`` -> ``'0.5283'``)."""
    text = f"{Decimal(price_x10000).scaleb(-PRICE_PLACES):.4f}"
    whole, frac = text.split(".")
    frac = frac.rstrip("0")
    return f"{whole}.{frac.ljust(2, '0')}"


def round_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up (away from zero) to an integer, exactly."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_BIG = ("", "万", "亿", "万亿")


def chinese_amount(fen: int) -> str:
    """Fen in capital Chinese numerals, as receipts write it: 12345 -> 壹佰贰拾叁元肆角伍分."""
    if fen < 0:
        return "负" + chinese_amount(-fen)
    yuan, cents = divmod(fen, 100)
    jiao, fen_part = divmod(cents, 10)
    words = ""
    if yuan:
        groups = []
        while yuan:
            yuan, group = divmod(yuan, 10000)
            groups.append(group)
        zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero = bool(words)
                continue
            text = ""
            if zero or (words and group < 1000):
                text = "零"
            zero = False
            digits = f"{group:04d}"
            pending_zero = False
            for position, digit in enumerate(digits):
                value = int(digit)
                if value == 0:
                    pending_zero = bool(text.rstrip("零")) or bool(words)
                    continue
                if pending_zero and text and not text.endswith("零"):
                    text += "零"
                pending_zero = False
                text += _DIGITS[value] + _SMALL[3 - position]
            words += text.lstrip("零") if not words else text + ""
            words += _BIG[index]
        words += "元"
    if not jiao and not fen_part:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen_part:
        words += _DIGITS[fen_part] + "分"
    else:
        words += "整"
    return words
