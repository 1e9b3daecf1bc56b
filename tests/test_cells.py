from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from propfee.core import i18n
from propfee.core.errors import InvalidValue
from propfee.files import cells

from conftest import valid_id


@pytest.fixture(autouse=True)
def _english_messages():
    """The cell readers' English messages (the Chinese is asserted through the CLI)."""
    i18n.activate("en")
    yield
    i18n.activate("zh")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (18909711443.0, ["18909711443"]),
        ("18909711443.0", ["18909711443"]),
        (18909711443, ["18909711443"]),
        ("+86 138-0013-8000", ["13800138000"]),
        ("138 0013 8000", ["13800138000"]),
        ("13800138000/13900139000", ["13800138000", "13900139000"]),
        ("13800138000、13900139000", ["13800138000", "13900139000"]),
        ("13800138000，13900139000", ["13800138000", "13900139000"]),
        ("13800138000 13900139000", ["13800138000", "13900139000"]),
        ("13800138000或13900139000", ["13800138000", "13900139000"]),
        ("１３８００１３８０００", ["13800138000"]),
        ("0931-8123456", ["0931-8123456"]),
        ("0931 8123456", ["0931-8123456"]),
        ("(0931)8123456", ["0931-8123456"]),
        ("010-12345678", ["010-12345678"]),
        ("8123456", ["8123456"]),
        ("400-123-4567", ["400-123-4567"]),
        ("13800138000/13800138000", ["13800138000"]),
        ("", []),
        (None, []),
    ],
)
def test_phones(value, expected):
    assert cells.phones(value) == expected


@pytest.mark.parametrize("value", ["12345", "1380013800", "23800138000", "abc", "138001380001"])
def test_bad_phones(value):
    with pytest.raises(InvalidValue, match="not a mainland mobile or landline"):
        cells.phones(value)


def test_masks():
    assert cells.mask_phone("13812341234") == "138****1234"
    assert cells.mask_phone("0931-8123456") == "0931-****456"
    assert cells.mask_phones("13812341234/0931-8123456") == "138****1234/0931-****456"
    assert cells.mask_id("62010219800101123X") == "620102********123X"
    assert cells.is_masked("138****1234")
    assert not cells.is_masked("13812341234")


def test_id_numbers():
    good = valid_id()
    assert cells.id_number(good) == good
    assert cells.id_number(good.lower()) == good
    assert cells.id_number(" " + good + " ") == good
    assert cells.id_number("620102800101123") == "620102800101123"  # the old 15 digits
    assert cells.id_number("91620100MA71234567") == "91620100MA71234567"  # a credit code
    assert cells.id_number("E12345678") == "E12345678"  # a passport
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidValue, match="check digit"):
        cells.id_number(wrong)
    with pytest.raises(InvalidValue, match="expected 18"):
        cells.id_number("6201021980010112")
    assert cells.birthday_from_id(good) == date(1980, 1, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2020, 6, 10), date(2020, 6, 10)),
        (datetime(2020, 6, 10, 12, 30), date(2020, 6, 10)),
        (43992.0, date(2020, 6, 10)),
        (43992.5, date(2020, 6, 10)),
        ("2020-6-10", date(2020, 6, 10)),
        ("2020/06/10", date(2020, 6, 10)),
        ("2020.6.10", date(2020, 6, 10)),
        ("2020年6月10日", date(2020, 6, 10)),
        ("２０２０年６月１０日", date(2020, 6, 10)),
        ("20200610", date(2020, 6, 10)),
        (20200610.0, date(2020, 6, 10)),
        ("2020-06-10 08:00:00", date(2020, 6, 10)),
        ("2020-06-10T08:00", date(2020, 6, 10)),
        ("", None),
        (None, None),
    ],
)
def test_dates(value, expected):
    assert cells.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2020-02-30", "not a real date"),
        ("06/10/2020", "ambiguous"),
        ("yesterday", "not a date"),
        (5.0, "not a date"),
        ("2020-06", "not a date"),
    ],
)
def test_bad_dates(value, message):
    with pytest.raises(InvalidValue, match=message):
        cells.parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1号楼", "1"),
        ("1栋", "1"),
        ("1#", "1"),
        ("A座", "A"),
        (1.0, "1"),
        ("一栋", "1"),
        ("十二号楼", "12"),
        ("第3栋", "3"),
        ("B区3栋", "B区3栋"),
        ("１栋", "1"),
    ],
)
def test_building(value, expected):
    assert cells.building_part(value) == expected


def test_entrance_and_room():
    assert cells.entrance_part("1单元") == "1"
    assert cells.entrance_part("二单元") == "2"
    assert cells.entrance_part(2.0) == "2"
    assert cells.room_part(1001.0) == "1001"
    assert cells.room_part("1001室") == "1001"
    assert cells.room_part("１００１") == "1001"
    assert cells.unit_code(" 1-1-１００１ ") == "1-1-1001"


def test_text():
    assert cells.text("  张三 ") == "张三"
    assert cells.text("张\u3000三") == "张 三"
    assert cells.text("'=SUM(A1)") == "=SUM(A1)"  # an export's formula guard comes off
    assert cells.text("甘肃（兰州）有限公司") == "甘肃（兰州）有限公司"  # names keep their brackets
    assert cells.text(None) == ""


@pytest.mark.parametrize(
    "value",
    ["E12345678", "62010219800101123X", "620102800101123", "91620100MA71234567", "AB1", "12"],
)
def test_every_masked_id_is_masked(value):
    masked = cells.mask_id(value)
    assert "*" in masked and len(masked) == len(value)
    assert cells.is_masked(masked)
    assert cells.id_number(masked) == masked  # read back as "masked", never as a new number


@given(st.text(alphabet="0123456789X", min_size=3, max_size=20))
def test_mask_id_always_hides_something(value):
    assert "*" in cells.mask_id(value)
