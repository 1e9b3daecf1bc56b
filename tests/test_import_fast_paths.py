"""An import's shortcuts for the usual cell give what the general path gives.

The owner of a plain roster row is read with a shortcut for an 18-digit resident ID as text,
and a resident ID's check digit is computed in one step. Each must give what the general path
gives: the same owner, or the same refusal.
"""

from __future__ import annotations

import operator
import zipfile

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook
from test_roster_fast_paths import valid_ids

from propfee.core.errors import FileFormatError, InvalidValue
from propfee.core.i18n import _
from propfee.core.privacy import is_masked
from propfee.files import cells, tabular
from propfee.files.tabular import lost_digits
from propfee.roster import reading, sources


def general_plain_owner(name: object, phone: object, id_number: object, birthday: str | None):
    """reading._plain_owner without its shortcut for a resident ID."""
    name = cells.text(name)
    if phone == "" or phone is None:
        phone = None
    if not name or name in reading._NO_OWNER:
        return False if phone is not None else None
    phones = ""
    if type(phone) is float and 1.3e10 <= phone < 2e10 and phone.is_integer():
        phones = str(int(phone))
    elif phone is not None:
        if type(phone) is str and ("*" in phone or "＊" in phone or lost_digits(phone)):
            return False
        try:
            phones = "/".join(cells.phones(phone))
        except InvalidValue:
            return False
    if id_number is None or id_number == "":
        id_number = ""
    elif sources.placeholder_id(id_number):
        return False
    else:
        try:
            id_number = cells.id_number(id_number)
        except InvalidValue:
            return False
    masked = is_masked(id_number)
    kind = reading.party_kind(name, id_number)
    return reading.PartyIn(name, kind, phones, id_number, birthday, False, masked)


def weighted_check(raw: str) -> str:
    """The check digit of 17 digits, as GB 11643 gives it: each digit times its weight."""
    total = sum(map(operator.mul, map(int, raw[:17]), cells._ID_WEIGHTS))
    return cells._ID_CHECK[total % 11]


id_cells = st.one_of(
    valid_ids,
    valid_ids.map(lambda v: v[:17] + ("X" if v[17] != "X" else "0")),  # wrong check digit
    valid_ids.map(lambda v: v[:10] + "13" + v[12:]),  # no 13th month
    valid_ids.map(lambda v: v.lower()),
    valid_ids.map(lambda v: " " + v),
    valid_ids.map(lambda v: v[:8] + "*" * 6 + v[14:]),  # masked
    st.text(alphabet="0123456789", min_size=17, max_size=17).map(lambda v: v + "X"),
    st.sampled_from([d * 18 for d in "0123456789"] + ["X" * 18, "1" * 15, "9" * 17 + "X"]),
    st.text(alphabet="0123456789X*xA ", min_size=14, max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.just(""),
)
names = st.one_of(
    st.sampled_from(["王伟", "李娜", "华联超市", "某某物业有限公司", "无", "", " 张 敏 "]),
    st.text(alphabet="王李公司超市 ", max_size=6),
    st.none(),
)
phone_cells = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from([13800000001.0, "13800000001", "138****0001", "1.38E+10", "0931-8812345"]),
    st.floats(1e10, 2e10),
)


@given(names, phone_cells, id_cells, st.sampled_from([None, "1980-01-02"]))
@example("王伟", 13800000001.0, "620102195102020018", None)
@example("华联超市", None, "11010519491231002X", None)
@example("王伟", None, "666666666666666666", None)
def test_plain_owner_shortcut_agrees_with_the_general_path(name, phone, id_number, birthday):
    got = reading._plain_owner(name, phone, id_number, birthday)
    assert got == general_plain_owner(name, phone, id_number, birthday)


@pytest.mark.parametrize("digit", "0123456789")
def test_a_placeholder_id_is_never_a_valid_resident_id(digit):
    """Why the shortcut need not ask sources.placeholder_id: one digit 18 times is refused."""
    assert cells.usual_resident_id(digit * 18)
    assert sources.placeholder_id(digit * 18)
    with pytest.raises(InvalidValue):
        cells.resident_id(digit * 18)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
@example("0" * 17)
@example("9" * 17)
def test_the_check_digit_in_one_step_is_the_weighted_one(body):
    for last in "0123456789X":
        raw = body + last
        wrong = _("'{value}' is not a valid ID number (check digit does not match)")
        try:
            cells.resident_id(raw)
            refused = ""
        except InvalidValue as exc:
            refused = str(exc)  # the check digit, or else the birth date
        assert (refused == wrong.format(value=raw)) == (last != weighted_check(body))


# ---------------------------------------------------------------- a workbook's formulas, a piece at a time


def formula_workbook(path, formula: str | None):
    book = Workbook()
    for i in range(40):
        book.active.append(["1栋", "1单元", 1001 + i, 89.5, "王伟", formula if i == 30 else None])
    book.save(path)
    return path


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 64, 1000, 1 << 20])
def test_formulas_are_found_across_pieces(piece, tmp_path, monkeypatch):
    monkeypatch.setattr(tabular, "_PIECE", piece)
    plain = formula_workbook(tmp_path / "plain.xlsx", None)
    uncalculated = formula_workbook(tmp_path / "formula.xlsx", "=A1*2")  # openpyxl: no value
    with zipfile.ZipFile(uncalculated) as archive:
        name = "xl/worksheets/sheet1.xml"
        assert b"<f>" in archive.read(name)
        assert tabular._may_hold_formulas(archive, name)
    with zipfile.ZipFile(plain) as archive:
        assert not tabular._may_hold_formulas(archive, "xl/worksheets/sheet1.xml")
    tabular._check_formulas_have_values(plain)
    with pytest.raises(FileFormatError) as caught:
        tabular._check_formulas_have_values(uncalculated)
    where = _("row {row} column {column}").format(row=31, column="F")
    assert where in str(caught.value)
