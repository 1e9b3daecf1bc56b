"""Moving in: the rosters other property systems give an estate go in as shipped (issue 16) —
HC小区管理系统's room import and full workbook built in their own layouts and codes, and the
public templates in ../shared/corpus/rosters used as they are."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import anything_made, valid_id, write_xlsx

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "rosters"
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus/rosters")

HC_ROOM_HEADER = [
    "楼号",
    "单元",
    "房间",
    "楼层",
    "总层数",
    "是否有电梯",
    "房屋类型",
    "房屋户型",
    "建筑面积",
    "室内面积",
    "租金",
    "房屋状态",
    "业主名称",
    "性别",
    "手机号",
    "身份证号",
    "业主类型",
]
OWNER_ID = valid_id()
BAD_CHECK = OWNER_ID[:-1] + ("0" if OWNER_ID[-1] != "0" else "1")


def _hc_rooms(tmp_path: Path, *, kind_of_second: object = 110) -> Path:
    rows = [
        HC_ROOM_HEADER,
        [
            1,
            1,
            1001,
            10,
            18,
            "有",
            110,
            10102,
            89.5,
            75,
            0,
            2001,
            "张三",
            "男",
            13800138000,
            OWNER_ID,
            1001,
        ],
        # the same house again: a family member (with HC's "no ID" placeholder) and a tenant
        [
            1,
            1,
            1001,
            10,
            18,
            "有",
            110,
            10102,
            89.5,
            75,
            0,
            2001,
            "李梅",
            "女",
            13900139000,
            "111111111111111111",
            1002,
        ],
        [
            1,
            1,
            1001,
            10,
            18,
            "有",
            110,
            10102,
            89.5,
            75,
            0,
            2001,
            "王租",
            "男",
            13700137000,
            "",
            1003,
        ],
        [1, 1, 1002, 10, 18, "有", kind_of_second, 10102, 92, 80, 0, 2002, "", "", "", "", ""],
        [
            1,
            2,
            1101,
            11,
            18,
            "有",
            119,
            10102,
            120,
            100,
            0,
            2008,
            "赵六",
            "男",
            13600136000,
            BAD_CHECK,
            1001,
        ],
    ]
    return write_xlsx(tmp_path / "房屋导入.xlsx", rows, sheet="资产信息")


def _contacts(cli, code: str) -> list[tuple]:
    shown = json.loads(cli("units", "show", code, "--format", "json", "--no-mask").stdout)
    return [
        (c["relation"], c["name"], c["gender"], c["phones"], c["id_number"])
        for c in shown["contacts"]
    ]


def _units(cli) -> dict[str, dict]:
    listed = cli("units", "list", "--format", "json", "--no-mask")
    return {u["code"]: u for u in json.loads(listed.stdout)["rows"]}


def test_an_hc_room_import_goes_in_as_shipped(cli, tmp_path):
    path = _hc_rooms(tmp_path)
    result = cli("import-units", str(path), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert set(units) == {"1-1-1001", "1-1-1002", "1-2-1101"}  # HC's own 楼栋-单元-房屋 codes
    first = units["1-1-1001"]
    assert (first["owner"], first["phone"], first["area"], first["kind"]) == (
        "张三",
        "13800138000",
        "89.50",
        "residential",
    )
    assert first["tenant"] == "王租"  # the 1003 row is the unit's tenant, not a duplicate
    # the 1002 row: a family member, kept as the unit's contact (HC's "no ID" is no ID)
    assert _contacts(cli, "1-1-1001") == [("family", "李梅", "female", "13900139000", "")]
    assert "李梅" not in first["notes"]
    assert first["inner_area"] == "75.00" and first["floor"] == "10"
    assert units["1-1-1002"]["owner"] == "" and units["1-1-1002"]["vacant"]  # 2002 未销售
    office = units["1-2-1101"]
    assert office["kind"] == "office" and office["owner"] == "赵六"  # 119
    assert office["id_number"] == ""  # a wrong check digit is left out, the unit imports
    assert BAD_CHECK in result.stderr and "身份证号" in result.stderr
    assert "已识别：HC 房屋导入模板 (资产信息)" in result.stderr
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 3)


def test_strict_refuses_a_wrong_check_digit_and_writes_nothing(cli, tmp_path, database):
    result = cli("import-units", str(_hc_rooms(tmp_path)), "--strict")
    assert result.exit_code == 1
    assert "校验位不符" in result.stderr and "第 6 行" not in result.stdout
    assert not anything_made(database)


def test_an_unknown_code_names_the_cell_and_the_map_that_fixes_it(cli, tmp_path, database):
    path = _hc_rooms(tmp_path, kind_of_second=131)
    result = cli("import-units", str(path))
    assert result.exit_code == 1
    error = result.stderr
    assert "房屋导入.xlsx [资产信息] 第 5 行" in error and "房屋类型 (G)" in error
    assert "'131'" in error and '[values.kind] "131"' in error
    assert not anything_made(database)
    fix = tmp_path / "map.toml"
    fix.write_text('[values.kind]\n"131" = "storage"\n', encoding="utf-8")
    fixed = cli("import-units", str(path), "--map", str(fix))
    assert fixed.exit_code == 0, fixed.output
    assert _units(cli)["1-1-1002"]["kind"] == "storage"


def test_a_map_value_table_for_a_field_without_codes_is_refused(cli, tmp_path):
    fix = tmp_path / "map.toml"
    fix.write_text('[values.colour]\n"1" = "red"\n', encoding="utf-8")
    result = cli("import-units", str(_hc_rooms(tmp_path)), "--map", str(fix))
    assert result.exit_code != 0 and "[values.colour]" in result.output + result.stderr


def _hc_workbook(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    sheets = {
        "楼栋单元": [
            ["楼栋号", "单元编号", "总层数", "是否有电梯"],
            [1, 1, 18, "有"],
            [1, 2, 18, "有"],
        ],
        "业主信息": [
            ["编号", "业主名称", "性别", "年龄", "手机号", "身份证号", "业主类型", "业主编号"],
            [1, "张三", "男", 40, 13800138000, OWNER_ID, 1001, 7701],
            [2, "李四", "女", 35, 13900139000, "111111111111111111", 1001, 7702],
        ],
        "房屋信息": [
            [
                "房屋编号",
                "楼栋编号",
                "单元编号",
                "房屋楼层",
                "房屋户型",
                "建筑面积",
                "业主编号",
                "房屋费用",
                "费用开始时间",
                "房屋类型",
                "室内面积",
                "租金",
            ],
            [1001, 1, 1, 10, 10102, 89.5, 7701, 2.5, datetime(2021, 1, 1), 110, 75, 0],
            [1002, 1, 1, 10, 10102, 92, 7702, 2.5, datetime(2021, 1, 1), 110, 80, 0],
            [1101, 1, 2, 11, 10102, 95, 7799, 2.5, datetime(2021, 1, 1), 110, 80, 0],
        ],
        "费用设置": [
            [
                "费用编号",
                "费用类型",
                "收费项目",
                "费用标识",
                "付费类型",
                "缴费周期",
                "出账类型",
                "计费起始时间",
                "计费结束时间",
                "计算公式",
                "计费单价",
                "固定费用",
            ],
            [
                1,
                "物业费",
                "物业费",
                "周期性费用",
                "预付费",
                1,
                "按月",
                "2021-01-01",
                "2050-12-31",
                "单价*面积",
                2.5,
                0,
            ],
        ],
        "车位信息": [
            [
                "停车场编号",
                "车位编码",
                "停车场类型",
                "面积",
                "业主编号",
                "车牌号",
                "出租还是出售（H出租S出售）",
                "开始时间",
                "结束时间",
            ],
            [1, "A001", 1, 12, 7701, "粤B12345", "S", datetime(2021, 1, 1), datetime(2050, 12, 31)],
            [1, "A002", 1, 12, 7702, "粤B54321", "H", datetime(2024, 1, 1), datetime(2025, 12, 31)],
        ],
    }
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    path = tmp_path / "HC导入.xlsx"
    wb.save(path)
    return path


def test_an_hc_full_workbook_joins_owners_by_number(cli, tmp_path):
    path = _hc_workbook(tmp_path)
    result = cli("import-units", str(path), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert {"1-1-1001", "1-1-1002", "1-2-1101", "1-A001", "1-A002"} == set(units)
    assert units["1-1-1001"]["owner"] == "张三" and units["1-1-1001"]["phone"] == "13800138000"
    assert units["1-1-1001"]["delivered_on"] == "2021-01-01"  # 费用开始时间
    assert units["1-1-1002"]["owner"] == "李四" and units["1-1-1002"]["id_number"] == ""
    assert units["1-2-1101"]["owner"] == ""  # 业主编号 7799 is nowhere: warned, not silent
    assert "7799" in result.stderr
    for sheet in ("业主信息", "房屋信息", "车位信息"):
        assert f"已识别：HC 导入工作簿 ({sheet})" in result.stderr
    assert "propfee fees add" in result.stderr  # 费用设置 is named, not dropped
    sold, rented = units["1-A001"], units["1-A002"]
    assert sold["kind"] == rented["kind"] == "parking"
    assert sold["owner"] == "张三" and "粤B12345" in sold["notes"]
    assert rented["tenant"] == "李四" and rented["payer"] == "tenant"
    assert "粤B54321" in rented["notes"] and "2025-12-31" in rented["notes"]
    # 1-2-1101 (owner number missing) is the developer's to pay; the rented space is not
    assert "1 户没有业主，按开发建设单位缴费（1-2-1101）" in result.stderr
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 5)


def test_pigcms_owners_go_in_with_their_floor_and_area(cli):
    result = cli("import-units", str(CORPUS / "pigcms-user_sample.xls"), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert set(units) == {"30-3-1102"}  # 楼号 30栋, 单元名称 三单元, 层号 12, 门牌号 1102
    unit = units["30-3-1102"]
    assert _place(unit) == ("30", "3", "12", "1102", "100.00", "小黑")  # 房子平方 100
    assert unit["phone"] == "13212345679" and unit["payer"] == "owner"
    assert unit["delivered_on"] == "2017-07-24"  # 物业开始时间
    assert "水费总欠费" in result.stderr  # the arrears columns are named as left out …
    assert "propfee import-history" in result.stderr  # … with the command that takes them
    again = cli("import-units", str(CORPUS / "pigcms-user_sample.xls"), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 1


def test_an_address_in_one_cell_is_split(cli):
    path = CORPUS / "tiankuiJ-owner-业主导入模板.xlsx"
    result = cli("import-units", str(path), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    listed = cli("units", "list", "--building", "2", "--format", "json", "--no-mask")
    (unit,) = json.loads(listed.stdout)["rows"]
    assert (unit["code"], unit["building"], unit["floor"], unit["room"]) == ("2-5", "2", "3", "5")
    assert _place(unit) == ("2", "", "3", "5", "120.00", "张三")
    # the same 位置 on later rows: the unit's other people, kept as its contacts
    assert [c[1] for c in _contacts(cli, "2-5")] == ["李四", "王五"]
    again = cli("import-units", str(path), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 1


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2栋3楼5号", ("", "2", "", "3", "5")),
        ("北二区30栋三单元1102", ("北二区", "30", "3", "", "1102")),
        ("5号楼一单元1102", ("", "5", "1", "", "1102")),
    ],
)
def test_address_parts(text, parts):
    from propfee.roster.sources import split_address

    assert split_address(text) == parts


def _place(unit: dict) -> tuple:
    return (
        unit["building"],
        unit["entrance"],
        unit["floor"],
        unit["room"],
        unit["area"],
        unit["owner"],
    )


@pytest.mark.parametrize(
    ("name", "code", "kind", "place"),
    [
        # 物业编号 1-888, 单元名称 一单元, 楼号 5号楼, 层号 12, 房号 1102, 房子平方 150
        ("pigcms-village_import_sample.xls", "5-1-1102", "residential", ("5", "1", "12", "1102")),
        # 车库名 东一区(必须是已录入的车库), 车位号 1111, 车位面积 10
        (
            "pigcms-village_import_parking_add.xls",
            "东一区-1111",
            "parking",
            ("东一区", "", "", "1111"),
        ),
    ],
)
def test_a_unit_list_without_owners_goes_in_as_shipped(cli, name, code, kind, place):
    path = CORPUS / name
    result = cli("import-units", str(path), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert set(units) == {code}  # the template's "(必须是已录入的车库)" note is not part of it
    unit = units[code]
    area = "150.00" if kind == "residential" else "10.00"
    assert _place(unit) == (*place, area, "")
    assert (unit["kind"], unit["payer"]) == (kind, "developer")
    warning = result.stderr
    assert f"文件中没有业主列：1 套房屋已导入，但没有业主（Sheet1 第 2 行 {code}）" in warning
    assert "开给开发建设单位" in warning and "propfee units sell" in warning
    again = cli("import-units", str(path), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 1
    assert _units(cli) == units


def test_a_column_that_looks_like_the_owner_is_not_dropped(cli, tmp_path, database):
    from conftest import write_csv

    path = write_csv(
        tmp_path / "r.csv", [["房号", "建筑面积", "户主名字"], ["1-1-101", "90", "王伟"]]
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 1 and "户主名字" in result.stderr and "--map" in result.stderr
    assert not anything_made(database)


def test_an_owner_list_without_area_goes_in_and_names_the_units_to_measure(cli):
    path = CORPUS / "pigcms-user_detail_sample.xls"
    result = cli("import-units", str(path), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert set(units) == {"北二区30-3-1102"}  # 住址 北二区30栋三单元1102: no floor is given
    unit = units["北二区30-3-1102"]
    assert _place(unit) == ("30", "3", "", "1102", None, "小黑")  # the zone kept apart
    assert unit["zone"] == "北二区"
    assert unit["phone"] == "13212345678" and unit["payer"] == "owner"
    assert "文件中没有面积列：1 套新房屋没有面积（Sheet1 第 2 行 北二区30-3-1102）" in result.stderr
    assert "propfee bill 会跳过" in result.stderr and "units set" in result.stderr
    again = cli("import-units", str(path), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 1
    assert _units(cli) == units


def test_an_unknown_state_code_is_one_error_for_all_its_rows(cli, tmp_path):
    rows = [HC_ROOM_HEADER] + [
        [1, 1, 1000 + i, 10, 18, "有", 110, 10102, 90, 75, 0, 2010, f"业主{i}", "男", "", "", 1001]
        for i in range(1, 6)
    ]
    path = write_xlsx(tmp_path / "states.xlsx", rows, sheet="资产信息")
    result = cli("import-units", str(path), "--format", "json")
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    assert len(errors) == 1 and errors[0]["rows"] == "2–6"
    assert '[values.vacant] "2010"' in errors[0]["message"]
    fix = tmp_path / "map.toml"
    fix.write_text('[values.vacant]\n"2010" = "lived-in"\n', encoding="utf-8")
    assert cli("import-units", str(path), "--map", str(fix)).exit_code == 0
    assert not any(u["vacant"] for u in _units(cli).values())


def test_a_move_in_date_column_is_asked_about_not_dropped(cli, tmp_path, database):
    from conftest import write_csv

    path = write_csv(
        tmp_path / "r.csv",
        [["房号", "建筑面积", "业主", "入住日期"], ["1-1-101", "90", "王伟", "2021-05-01"]],
    )
    asked = cli("import-units", str(path))
    assert asked.exit_code == 1 and not anything_made(database)
    assert '"入住日期" = "delivered_on"' in asked.stderr and "交付" in asked.stderr
    answer = tmp_path / "map.toml"
    answer.write_text('[columns]\n"入住日期" = "delivered_on"\n', encoding="utf-8")
    result = cli("import-units", str(path), "--map", str(answer))
    assert result.exit_code == 0, result.output
    assert _units(cli)["1-1-101"]["delivered_on"] == "2021-05-01"


def test_the_shipped_profiles_are_listed(cli):
    listed = cli("import-units", "--list-profiles", "--format", "json")
    assert listed.exit_code == 0
    profiles = {p["name"]: p for p in json.loads(listed.stdout)["rows"]}
    assert (
        "HC 房屋导入模板 (资产信息)" in profiles and "pigcms 业主导入模板 (user_sample)" in profiles
    )
    assert "房屋状态" in profiles["HC 房屋导入模板 (资产信息)"]["signature"]


def test_hc_codes_are_read_only_in_an_hc_file(cli, tmp_path):
    """110 means 住宅 because HC says so; in a file of unknown origin it is an unknown kind."""
    path = write_xlsx(
        tmp_path / "r.xlsx", [["房号", "建筑面积", "业主", "房屋类型"], ["1-101", 90, "王伟", 110]]
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 1 and '[values.kind] "110"' in result.stderr


def test_the_migration_report_says_what_each_sheet_gave(cli, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "迁移报告.xlsx"
    result = cli("import-units", str(_hc_workbook(tmp_path)), "--report", str(out))
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("类别", "工作表", "读取行数", "新增房屋")
    by_sheet = {r[1]: r for r in rows if r[0] == "工作表"}
    assert by_sheet["房屋信息"][2:4] == (3, 3) and by_sheet["车位信息"][2:4] == (2, 2)
    assert by_sheet["业主信息"][2] == 2 and "HC" in by_sheet["房屋信息"][6]
    assert "房屋户型" in by_sheet["房屋信息"][8]  # left out, and said so
    assert any(r[0] == "警告" and "7799" in r[9] for r in rows)


def test_an_hc_estate_exports_and_imports_back_unchanged(cli, tmp_path):
    assert cli("import-units", str(_hc_workbook(tmp_path)), "--as-of", "2026-01-01").exit_code == 0
    # the room sheet leaves 1-1-1002 (李四's in the workbook) without an owner: refused, unchanged
    assert cli("import-units", str(_hc_rooms(tmp_path)), "--as-of", "2026-01-01").exit_code == 1
    before = _units(cli)
    out = tmp_path / "导出.xlsx"
    assert cli("export-units", str(out), "--no-mask").exit_code == 0
    again = cli("import-units", str(out), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 5)
    assert _units(cli) == before


VEHICLE_HEADER = ["省份", "车牌号码", "车位编号", "停车卡号", "车主姓名", "车主手机号", "车辆排量"]


def test_a_vehicle_list_with_nothing_to_attach_to_writes_nothing(cli, database):
    path = CORPUS / "pigcms-village_import_vehicle_add.xls"
    result = cli("import-units", str(path))
    assert result.exit_code == 0, result.output
    assert "是车辆清单：1 行在系统中找不到对应的房屋（车位）或业主（第 2 行）" in result.stderr
    assert not anything_made(database)  # nothing of it is kept
    assert cli("import-units", str(CORPUS / "pigcms-user_sample.xls")).exit_code == 0
    before = _units(cli)
    again = cli("import-units", str(path), "--format", "json")  # 小叮当 owns nothing here
    assert again.exit_code == 0 and json.loads(again.stdout)["updated"] == 0
    assert _units(cli) == before


def test_a_vehicle_list_attaches_plates_to_spaces_and_owners(cli, tmp_path):
    roster = write_xlsx(
        tmp_path / "roster.xlsx",
        [["房号", "建筑面积", "业主", "手机号"], ["1-1-101", 90, "王伟", "13800138000"]],
    )
    spaces = CORPUS / "pigcms-village_import_parking_add.xls"
    assert cli("import-units", str(roster), "--as-of", "2026-01-01").exit_code == 0
    assert cli("import-units", str(spaces), "--as-of", "2026-01-01").exit_code == 0
    path = write_xlsx(
        tmp_path / "vehicles.xlsx",
        [
            VEHICLE_HEADER,
            ["粤", "B-12345", "东一区-1111", "1", "李四", "13900139000", "1.5"],
            ["粤", "B54321", "", "2", "王伟", "13800138000", "2.0"],
            ["粤", "C11111", "9-9", "3", "无名", "13700137000", "2.0"],
        ],
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 0, result.output
    units = _units(cli)
    assert units["东一区-1111"]["notes"] == "导入车库；车牌 粤B12345"  # by 车位编号
    assert units["1-1-101"]["notes"] == "车牌 粤B54321"  # by 车主 name and phone
    assert "（第 4 行）" in result.stderr  # the row nothing matched is named
    again = cli("import-units", str(path), "--format", "json")
    assert json.loads(again.stdout)["updated"] == 0 and _units(cli) == units


def test_a_bad_plate_on_a_matched_row_is_refused(cli, tmp_path):
    spaces = CORPUS / "pigcms-village_import_parking_add.xls"
    assert cli("import-units", str(spaces)).exit_code == 0
    before = _units(cli)
    path = write_xlsx(
        tmp_path / "vehicles.xlsx",
        [VEHICLE_HEADER, ["皖", "A-xxxxx", "东一区-1111", "1", "小叮当", "13212345678", "1.5"]],
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 1
    assert "第 2 行" in result.stderr and "车牌号码 (B)" in result.stderr
    assert _units(cli) == before


def test_estate_settings_are_named_and_nothing_is_written(cli, database):
    result = cli("import-units", str(CORPUS / "pigcms-village_sample.xls"))
    assert result.exit_code == 0, result.output
    warning = result.stderr
    assert (
        "是小区设置表（小区名称、物业公司、各项收费单价），不是业主名册：未导入任何数据" in warning
    )
    assert "propfee.toml 的 [estate]" in warning and "propfee fees add" in warning
    assert not anything_made(database)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.xls*")))
def test_every_corpus_file_imports_as_shipped(cli, name):
    """No option, no map: exit 0, and what could not be placed is said in a warning."""
    result = cli("import-units", str(CORPUS / name), "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["errors"] == []
    again = cli("import-units", str(CORPUS / name), "--as-of", "2026-02-01", "--format", "json")
    assert (json.loads(again.stdout)["added"], json.loads(again.stdout)["updated"]) == (0, 0)


def test_units_only_says_the_list_is_owner_less_on_purpose(cli):
    path = CORPUS / "pigcms-village_import_sample.xls"
    result = cli("import-units", str(path), "--units-only")
    assert result.exit_code == 0, result.output
    assert "文件中没有业主列" not in result.stderr
    assert "开发建设单位" in result.stderr  # still said: the developer pays for 5-1-1102
    assert _units(cli)["5-1-1102"]["payer"] == "developer"
