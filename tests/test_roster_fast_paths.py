"""The roster reader's quick paths agree with the general ones, cell for cell.

A 100k-row roster is read through shortcuts for the usual cell (an 18-digit ID number as
text, an empty cell, a value seen before). Each shortcut must give what the general path
gives: the same value, or the same refusal with the same words.
"""

from __future__ import annotations

import operator
import re
from datetime import date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from propfee.core.errors import InvalidValue
from propfee.core.i18n import _
from propfee.files import cells
from propfee.roster import reading, sources

# ---------------------------------------------------------------- the general paths, as they were


def general_id_number(value: object) -> str:
    """cells.id_number without its shortcut for an 18-character text cell."""
    if cells.is_blank(value):
        return ""
    raw = cells.number_text(value).upper().replace(" ", "")
    if (isinstance(value, float) and value >= 1e15) or re.fullmatch(r"\d(?:\.\d+)?E\+\d+", raw):
        return cells.id_number(value)  # not a shortcut: the general path itself
    if not raw or cells.is_masked(raw):
        return raw
    if cells._RESIDENT_ID.match(raw):
        total = sum(map(operator.mul, map(int, raw[:17]), cells._ID_WEIGHTS))
        if cells._ID_CHECK[total % 11] != raw[17]:
            raise InvalidValue(
                _("'{value}' is not a valid ID number (check digit does not match)").format(
                    value=raw
                )
            )
        if not cells._real_day(raw[6:14]):
            raise InvalidValue(
                _("'{value}' is not a valid ID number (no such birth date)").format(value=raw)
            )
        return raw
    if re.fullmatch(r"\d{15}", raw) or cells._USCC.match(raw):
        return raw
    if re.fullmatch(r"\d+", raw):
        raise InvalidValue(
            _("'{value}' is not a valid ID number ({n} digits; expected 18)").format(
                value=raw, n=len(raw)
            )
        )
    if re.fullmatch(r"[A-Z0-9()\-]{5,20}", raw):
        return raw
    raise InvalidValue(_("'{value}' is not an ID or document number").format(value=raw))


def general_placeholder_id(value: object) -> bool:
    raw = cells.number_text(value).strip().upper()
    return len(raw) >= 15 and len(set(raw)) == 1


def general_text(value: object) -> str:
    if value is None:
        return ""
    if type(value) is str:
        if cells._UNTIDY.search(value):
            value = cells._SPACES.sub(" ", value).strip()
        return cells._FORMULA_GUARD.sub("", value) if value[:1] == "'" else value
    return cells.text(value)


def outcome(convert, value):
    """("ok", the value) or ("refused", its words)."""
    try:
        return ("ok", convert(value))
    except InvalidValue as exc:
        return ("refused", str(exc))


def with_check_digit(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, cells._ID_WEIGHTS, strict=True))
    return body + cells._ID_CHECK[total % 11]


# ---------------------------------------------------------------- cells as real files hold them

digits17 = st.text(alphabet="0123456789", min_size=17, max_size=17)
valid_ids = st.builds(
    lambda birth, head, tail: with_check_digit(head + birth.strftime("%Y%m%d") + tail),
    st.dates(date(1900, 1, 1), date(2030, 12, 31)),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)
id_cells = st.one_of(
    valid_ids,
    valid_ids.map(lambda v: v[:17] + ("X" if v[17] != "X" else "0")),  # wrong check digit
    valid_ids.map(lambda v: v.lower()),
    valid_ids.map(lambda v: " " + v),
    valid_ids.map(lambda v: v + "\n"),
    valid_ids.map(lambda v: "'" + v),
    valid_ids.map(lambda v: v.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    valid_ids.map(lambda v: v.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
    digits17.map(lambda v: v + "X"),
    st.text(alphabet="0123456789X*xA ", min_size=14, max_size=20),
    st.sampled_from(["1" * 18, "0" * 18, "x" * 18, "X" * 18, "111111111111111", "a" * 18]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.just(""),
)


@given(id_cells)
@example("11010519491231002X")
@example("11010519491231002x")
@example("１１０１０５１９４９１２３１００２Ｘ")
@example("110105194912310021")
@example("110105194902300021")  # no 30 February
def test_id_number_shortcut_agrees_with_the_general_path(value):
    assert outcome(cells.id_number, value) == outcome(general_id_number, value)


@given(id_cells)
def test_placeholder_shortcut_agrees_with_the_general_path(value):
    assert sources.placeholder_id(value) == general_placeholder_id(value)


@given(
    st.one_of(
        st.text(alphabet=" \u3000\t\n'=+-ab王李1.", max_size=8),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.dates(),
    )
)
@example("")
@example("'=1+1")
@example("  王 伟 ")
def test_text_shortcut_agrees_with_the_general_path(value):
    assert cells.text(value) == general_text(value)


# ---------------------------------------------------------------- converted once, the same each time

converters = {
    "building": cells.building_part,
    "room": cells.room_part,
    "area": reading._area_of,
    "date": reading._date_of,
    "floor": cells.number_text,
}
roster_cells = st.one_of(
    st.text(alphabet="0123456789.栋号楼单元室-A 　", max_size=8),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.integers(-5, 5000),
    st.dates(date(1800, 1, 1), date(2200, 1, 1)),
    st.datetimes(datetime(1890, 1, 1), datetime(2110, 1, 1)),
    st.sampled_from(["", "无", "-", "0", "0.0", "89.37", "1e3", "abc", "2024-02-30"]),
)


@pytest.mark.parametrize("name", sorted(converters))
@given(st.lists(roster_cells, min_size=1, max_size=12))
def test_memoised_conversion_agrees_with_converting_each_cell(name, values):
    convert = converters[name]
    memo = reading._memo(convert)
    for value in values + values:  # the second time, from what was kept
        assert outcome(memo, value) == outcome(convert, value)
