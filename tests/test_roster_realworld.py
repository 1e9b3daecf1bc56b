"""Shapes of real exports from other property systems (each found in a corpus of such files)."""

from datetime import date

import pytest

from propfee.core.errors import RowErrors
from propfee.roster import merge, reading
from propfee.roster.units import export_units, list_units

from conftest import AS_OF, NOW, dump, valid_id, write_csv, write_xlsx


def load(conn, path, **kwargs):
    kwargs.setdefault("as_of", AS_OF)
    kwargs.setdefault("now", NOW)
    return merge.import_roster(conn, path, **kwargs)


def units(conn):
    return {u.code: u for u in list_units(conn)}


def errors_of(conn, path, **kwargs):
    with pytest.raises(RowErrors) as caught:
        load(conn, path, **kwargs)
    return caught.value.errors


def test_a_tenant_group_keeps_its_id_number_away_from_the_owner(conn, tmp_path):
    owner_id, tenant_id = valid_id(seq="111"), valid_id(seq="222")
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主信息", None, None, "租户信息", None, None],
            [None, None, "姓名", "电话", "身份证号", "姓名", "电话", "身份证号"],
            ["1-1-101", 90, "王伟", "13800138000", owner_id, "周租", "13900139000", tenant_id],
        ],
        merges=("C1:E1", "F1:H1", "A1:A2", "B1:B2"),
    )
    load(conn, path)
    unit = units(conn)["1-1-101"]
    assert (unit.owner, unit.id_number, unit.tenant) == ("王伟", owner_id, "周租")
    tenant = conn.execute(
        "SELECT p.id_number FROM party p JOIN occupancy o ON o.party_id = p.id "
        "WHERE o.role = 'tenant'"
    ).fetchone()[0]
    assert tenant == tenant_id


def test_an_emergency_contact_group_is_not_a_second_owner(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主信息", None, "紧急联系人", None],
            ["房号", "建筑面积", "姓名", "联系电话", "姓名", "电话"],
            ["1-1-101", 90, "王伟", "13800138000", "陈磊", "13900139000"],
        ],
        merges=("C1:D1", "E1:F1"),
    )
    report = load(conn, path)
    assert units(conn)["1-1-101"].owner == "王伟"
    assert units(conn)["1-1-101"].phones == "13800138000"
    assert any("紧急联系人" in n for n in report.notices)


def test_html_rowspan_and_colspan(conn, tmp_path):
    html = (
        "<table><tr><th rowspan=2>楼栋</th><th rowspan=2>房间</th><th rowspan=2>建筑面积</th>"
        "<th colspan=2>业主信息</th></tr><tr><th>姓名</th><th>电话</th></tr>"
        "<tr><td rowspan=2>1号楼</td><td>101</td><td>90</td><td>王伟</td><td>13800138000</td></tr>"
        "<tr><td>102</td><td>91</td><td>李强</td><td>13800138001</td></tr></table>"
    )
    path = tmp_path / "export.xls"
    path.write_text(html, encoding="utf-8")
    load(conn, path)
    got = units(conn)
    assert sorted(got) == ["1-101", "1-102"]
    assert (got["1-102"].owner, got["1-102"].area_x100) == ("李强", 9100)


def test_numbers_written_as_text_with_a_decimal_zero(conn, tmp_path):
    path = write_csv(
        tmp_path / "pandas.csv",
        [
            ["楼号", "单元", "房间", "建筑面积", "业主", "手机号"],
            ["1.0", "1.0", "101.0", "90.0", "王伟", "13800138000.0"],
        ],
    )
    load(conn, path)
    assert list(units(conn)) == ["1-1-101"]
    assert units(conn)["1-1-101"].phones == "13800138000"


@pytest.mark.parametrize("cell", ["1#楼", "1#", "1号楼", "1栋", "一栋", "第1栋", 1.0])
def test_building_cells(conn, tmp_path, cell):
    path = write_xlsx(
        tmp_path / "r.xlsx", [["楼栋", "房间", "面积", "业主"], [cell, "101", 80, "王"]]
    )
    load(conn, path)
    assert list(units(conn)) == ["1-101"]


def test_codes_local_to_their_building(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["楼栋", "房号", "建筑面积", "业主"],
            ["1号楼", "1-101", 90, "王伟"],
            ["1号楼", "2-101", 90, "李强"],
            ["2号楼", "1-101", 90, "张娟"],
            ["2号楼", "2-101", 90, "刘芳"],
        ],
    )
    load(conn, path)
    got = units(conn)
    assert sorted(got) == ["1-1-101", "1-2-101", "2-1-101", "2-2-101"]
    assert (got["2-1-101"].building, got["2-1-101"].entrance, got["2-1-101"].room) == (
        "2",
        "1",
        "101",
    )


def test_codes_that_already_name_the_building_are_kept(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["楼栋", "房号", "建筑面积", "业主"],
            ["1", "1-1-101", 90, "王伟"],
            ["2", "2-1-101", 90, "李强"],
        ],
    )
    load(conn, path)
    assert sorted(units(conn)) == ["1-1-101", "2-1-101"]


def test_a_sheet_per_building_named_after_it(conn, tmp_path):
    header = ["单元", "房号", "建筑面积", "业主"]
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [header, ["1单元", "101", 90, "王伟"]],
        sheet="1栋",
        more_sheets={"2栋": ([header, ["1单元", "101", 90, "李强"]], "visible")},
    )
    load(conn, path)
    assert sorted(units(conn)) == ["1-1-101", "2-1-101"]


def test_codes_with_the_building_inside_round_trip(conn, tmp_path, db_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房屋编号", "建筑面积", "业主"],
            ["A座-1201", 150, "甲公司"],
            ["1栋1单元1001", 90, "王伟"],
            ["01-02-0301", 90, "李强"],
        ],
    )
    load(conn, path)
    got = units(conn)
    assert (got["A座-1201"].building, got["A座-1201"].room) == ("A", "1201")
    assert (got["1栋1单元1001"].building, got["1栋1单元1001"].entrance) == ("1", "1")
    assert [u.code for u in list_units(conn, building="1栋")] == ["1栋1单元1001"]
    for suffix in (".xlsx", ".csv"):
        out = tmp_path / f"out{suffix}"
        export_units(conn, out, mask=False)
        before = dump(db_path)
        assert load(conn, out).unchanged == 3
        assert dump(db_path) == before


def test_english_headers(conn, tmp_path):
    path = write_csv(
        tmp_path / "en.csv",
        [
            ["Building No.", "Room Number", "Area (m2)", "Owner Name", "Phone Number"],
            ["1", "101", "88.5", "Li Lei", "13800138000"],
        ],
    )
    load(conn, path)
    unit = units(conn)["1-101"]
    assert (unit.area_x100, unit.phones) == (8850, "13800138000")


@pytest.mark.parametrize("header", ["建筑面积㎡", "面积/m²", "建筑面积（平方米）", "计费面积(m2)"])
def test_area_headers_with_units(conn, tmp_path, header):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [["房号", header, "业主", "手机号/电话"], ["1-101", 88.5, "王伟", "13800138000"]],
    )
    load(conn, path)
    assert units(conn)["1-101"].area_x100 == 8850
    assert units(conn)["1-101"].phones == "13800138000"


def test_a_missing_owner_column_is_named(conn, tmp_path):
    path = write_csv(
        tmp_path / "r.csv", [["房号", "建筑面积", "房屋类型"], ["1-101", "90", "住宅"]]
    )
    report = load(conn, path)
    assert (
        "文件中没有业主列：1 套房屋已导入，但没有业主（r.csv 第 2 行 1-101）" in report.warnings[0]
    )
    assert (units(conn)["1-101"].owner, units(conn)["1-101"].payer) == ("", "developer")


def test_a_missing_area_column_is_one_warning(conn, tmp_path):
    rows = [["房号", "业主"]] + [[f"1-{i}", f"业主{i}"] for i in range(101, 125)]
    report = load(conn, write_xlsx(tmp_path / "r.xlsx", rows))
    (warning,) = [w for w in report.warnings if "面积" in w]
    assert "文件中没有面积列：24 套新房屋没有面积（" in warning and "1-101" in warning
    assert "…" in warning and "1-106" not in warning  # the first five are named
    assert all(u.area_x100 is None for u in units(conn).values())


def test_page_titles_and_footers(conn, tmp_path):
    header = ["房号", "建筑面积", "业主"]
    rows = [
        ["翠湖花园业主清册"] * 3,
        header,
        ["1-101", 90, "王伟"],
        ["1-102", 90, "李强"],
        ["翠湖花园业主清册"] * 3,
        header,
        ["1-201", 90, "张娟"],
        ["共 3 户"],
        ["总户数：3"],
        ["经办人：王芳", None, "复核：李娜"],
        ["第 1 页"],
    ]
    report = load(conn, write_xlsx(tmp_path / "r.xlsx", rows))
    assert report.added == 3


def test_placeholders_mean_blank(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主", "手机号", "身份证号", "交付日期"],
            ["1-101", 90, "王伟", "无", "-", "未交付"],
            ["1-102", 90, "李强", "暂无", "/", "—"],
        ],
    )
    load(conn, path)
    unit = units(conn)["1-101"]
    assert (unit.phones, unit.id_number, unit.delivered_on) == ("", "", None)


def test_an_id_number_stored_as_a_number_is_refused(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主", "身份证号"],
            ["1-101", 90, "王伟", 620103196102020377.0],
        ],
    )
    (error,) = errors_of(conn, path)
    assert "被存成了数字，后几位已丢失" in error.message


def test_messages_show_numbers_as_written(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx", [["房号", "建筑面积", "业主"], ["1-101", 0, "王"], ["1-102", -5, "李"]]
    )
    first, second = errors_of(conn, path)
    assert (first.value, second.value) == ("0", "-5")
    assert "-5.0" not in second.message


def test_parking_area_zero_means_no_area(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [["房号", "房屋类型", "建筑面积", "业主"], ["P-001", "车位", 0, "王伟"]],
    )
    load(conn, path)
    assert units(conn)["P-001"].area_x100 is None


def test_more_payer_words(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主", "承租人", "缴费方"],
            ["S-101", 60, "甲公司", "王五便利店", "承租方"],
            ["S-102", 60, "乙公司", None, "房东"],
        ],
    )
    load(conn, path)
    assert units(conn)["S-101"].payer == "tenant"
    assert units(conn)["S-102"].payer == "owner"


def test_a_header_far_down_with_header_row_in_the_map(conn, tmp_path):
    rows = [[f"说明第{i}行"] for i in range(1, 35)] + [
        ["房号", "建筑面积", "业主"],
        ["1-101", 90, "王"],
    ]
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    mapping = tmp_path / "map.toml"
    mapping.write_text("header_row = 35\n", encoding="utf-8")
    load(conn, path, column_map=reading.load_map(mapping))
    assert list(units(conn)) == ["1-101"]


def test_a_hidden_sheet_can_be_chosen(conn, tmp_path):
    header = ["房号", "建筑面积", "业主"]
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [header, ["1-101", 90, "王"]],
        sheet="在用",
        more_sheets={"旧数据": ([header, ["9-999", 90, "旧"]], "hidden")},
    )
    report = load(conn, path)
    assert any("隐藏的工作表 '旧数据' 已跳过" in n for n in report.notices)
    load(conn, path, sheet="旧数据")
    assert sorted(units(conn)) == ["1-101", "9-999"]


def test_a_blank_cell_never_erases_what_is_on_record(conn, tmp_path, db_path):
    header = ["房号", "建筑面积", "业主", "手机号", "身份证号", "交付日期", "备注"]
    load(
        conn,
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                header,
                ["1-101", 90, "王伟", "13800138000", valid_id(), date(2020, 6, 10), "空置"],
            ],
        ),
    )
    before = dump(db_path)
    report = load(
        conn,
        write_xlsx(tmp_path / "b.xlsx", [header, ["1-101", 90, "王伟", None, None, None, None]]),
    )
    assert report.unchanged == 1
    assert dump(db_path) == before


def test_phone_annotations(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "建筑面积", "业主", "联系电话"],
            ["1-101", 90, "王伟", "13800138000(本人) 13900139000(妻)"],
            ["1-102", 90, "李强", "0931-8123456转801"],
        ],
    )
    load(conn, path)
    got = units(conn)
    assert got["1-101"].phones == "13800138000/13900139000"
    assert got["1-102"].phones == "0931-8123456转801"


def test_each_sheet_speaks_only_for_its_own_columns(conn, tmp_path):
    with_tenants = ["房号", "建筑面积", "业主", "租户", "缴费方"]
    plain = ["房号", "建筑面积", "业主"]
    first = write_xlsx(
        tmp_path / "a.xlsx",
        [with_tenants, ["1-101", 90, "王", "李租", "租户"], ["2-101", 90, "张", "赵租", "租户"]],
    )
    load(conn, first)
    second = write_xlsx(
        tmp_path / "b.xlsx",
        [with_tenants, ["1-101", 90, "王", "李租", "租户"]],
        sheet="1栋",
        more_sheets={"2栋": ([plain, ["2-101", 90, "张"]], "visible")},
    )
    report = load(conn, second)
    assert report.unchanged == 2
    assert units(conn)["2-101"].tenant == "赵租"  # sheet 2栋 has no tenant column


def test_a_bad_row_late_in_a_big_file_leaves_nothing_written(conn, tmp_path, db_path):
    rows = [["房号", "建筑面积", "业主"]] + [[f"9-{i}", 80, f"业主{i}"] for i in range(12000)]
    rows[11990][1] = "八十"
    before = dump(db_path)
    (error,) = errors_of(conn, write_csv(tmp_path / "big.csv", rows))
    assert error.row == 11991
    assert dump(db_path) == before
    rows[11990][1] = 80
    assert load(conn, write_csv(tmp_path / "big.csv", rows)).added == 12000


def test_a_total_row_whose_count_sits_under_the_room_column(conn, tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["序号", "房号", "建筑面积", "业主"],
            ["1", "1-101", "90", "王"],
            ["合计", "1户", "90", ""],
        ],
    )
    assert load(conn, path).added == 1
