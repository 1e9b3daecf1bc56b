"""A unit's contacts, zones, gender and yes/no value tables, HC fee settings as a draft, plates
in the change history, and a tenant's corrected name kept against a stale file (issue 16)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from sqlite3 import IntegrityError

import pytest

from propfee.store import db

from conftest import anything_made, dump, valid_id, write_xlsx

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
MEMBER_ID = valid_id(born="20100505", seq="456")


def _room(room, name, gender, phone, id_number, role, *, lift="有", state=2001):
    place = [1, 1, room, 10, 18, lift, 110, 10102, 89.5, 75, 0, state]
    return [*place, name, gender, phone, id_number, role]


def _household(tmp_path: Path, *, gender_of_member: object = "女", lift: object = "有") -> Path:
    """An HC room import: one house on a row per person (owner, two family members, two
    tenants, a 临时人员), and a house listed only by a family member."""
    rows = [
        HC_ROOM_HEADER,
        _room(1001, "张三", "男", 13800138000, OWNER_ID, 1001, lift=lift),
        _room(1001, "李梅", gender_of_member, 13900139000, MEMBER_ID, 1002),
        _room(1001, "张小", 0, "", "111111111111111111", 1002),
        _room(1001, "王租", "M", 13700137000, "", 1003),
        _room(1001, "赵租", "F", 13600136000, "", 1003),
        _room(1001, "钱临", "", 13500135000, "", 1004),
        _room(1002, "孙家", "女", 13300133000, "", 1002, state=2003),
    ]
    return write_xlsx(tmp_path / "房屋导入.xlsx", rows, sheet="资产信息")


def _show(cli, code: str, *more: str) -> dict:
    result = cli("units", "show", code, "--format", "json", *more)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _people(cli, code: str) -> list[tuple]:
    return [
        (c["relation"], c["name"], c["gender"], c["phones"])
        for c in _show(cli, code, "--no-mask")["contacts"]
    ]


def _units(cli) -> dict[str, dict]:
    listed = cli("units", "list", "--format", "json", "--no-mask")
    return {u["code"]: u for u in json.loads(listed.stdout)["rows"]}


def test_family_members_and_further_tenants_become_contacts(cli, tmp_path):
    result = cli("import-units", str(_household(tmp_path)), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    units = _units(cli)
    home = units["1-1-1001"]
    assert (home["owner"], home["tenant"], home["payer"]) == ("张三", "王租", "owner")
    assert _people(cli, "1-1-1001") == [
        ("family", "李梅", "female", "13900139000"),
        ("family", "张小", "male", ""),  # HC's sex 0 is 男; its "no ID" placeholder is no ID
        ("tenant", "赵租", "female", "13600136000"),  # the second tenant: a contact
        ("family", "钱临", "", "13500135000"),  # 1004 临时人员
    ]
    shown = _show(cli, "1-1-1001")  # masked unless --no-mask, like an owner's phone
    assert shown["contacts"][0]["phones"] == "139****9000"
    assert shown["contacts"][0]["id_number"] == MEMBER_ID[:6] + "********" + MEMBER_ID[-4:]
    assert "13900139000" not in cli("units", "show", "1-1-1001").stdout
    assert "李梅" not in home["notes"]
    # a house listed only by a family member has no owner: the developer pays, not the contact
    alone = units["1-1-1002"]
    assert (alone["owner"], alone["tenant"], alone["payer"]) == ("", "", "developer")
    assert _people(cli, "1-1-1002") == [("family", "孙家", "female", "13300133000")]
    assert "5 位家庭成员和其他租户已作为所在房屋的联系人保存" in result.stderr


def test_a_contact_never_becomes_a_party(cli, tmp_path, db_path):
    assert cli("import-units", str(_household(tmp_path))).exit_code == 0
    conn = db.connect(db_path)
    names = {row[0] for row in conn.execute("SELECT name FROM party")}
    assert "李梅" not in names and "孙家" not in names and "赵租" not in names
    phones = "/".join(row[0] for row in conn.execute("SELECT phones FROM party"))
    assert "13300133000" not in phones and "13900139000" not in phones


def test_reimporting_the_household_changes_nothing(cli, tmp_path, db_path):
    path = _household(tmp_path)
    assert cli("import-units", str(path), "--as-of", "2026-01-01").exit_code == 0
    conn = db.connect(db_path)
    before = conn.execute("SELECT count(*) FROM unit_contact").fetchone()[0]
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 2)
    assert report["not_in_file"] == 0  # a house listed only by a family member is in the file
    assert conn.execute("SELECT count(*) FROM unit_contact").fetchone()[0] == before == 5


def test_the_contacts_history_is_append_only(cli, tmp_path, db_path):
    assert cli("import-units", str(_household(tmp_path))).exit_code == 0
    conn = db.connect(db_path)
    with pytest.raises(IntegrityError, match="append-only"):
        conn.execute("UPDATE unit_contact SET name = 'x'")
    with pytest.raises(IntegrityError, match="append-only"):
        conn.execute("DELETE FROM unit_contact")


def test_a_contact_removed_with_a_command_is_not_added_back_by_the_old_file(cli, tmp_path):
    path = _household(tmp_path)
    assert cli("import-units", str(path), "--as-of", "2026-01-01").exit_code == 0
    removed = cli("units", "contact", "1-1-1001", "--name", "钱临", "--remove", "--reason", "搬走")
    assert removed.exit_code == 0, removed.output
    assert "钱临" not in [p[1] for p in _people(cli, "1-1-1001")]
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    assert json.loads(again.stdout)["updated"] == 0
    assert "钱临" not in [p[1] for p in _people(cli, "1-1-1001")]
    assert cli("units", "contact", "1-1-1001", "--name", "钱临", "--remove").exit_code == 0
    added = cli("units", "contact", "1-1-1001", "--name", "周亲", "--phone", "13200132000")
    assert added.exit_code == 0 and ("family", "周亲", "", "13200132000") in _people(
        cli, "1-1-1001"
    )


@pytest.mark.parametrize("mask", [True, False])
def test_contacts_and_zones_round_trip_through_export(cli, tmp_path, mask):
    assert cli("import-units", str(_household(tmp_path)), "--as-of", "2026-01-01").exit_code == 0
    zoned = write_xlsx(
        tmp_path / "zoned.xlsx",
        [
            ["住址", "业主", "手机号", "建筑面积"],
            ["北二区30栋三单元1102", "小黑", "13212345678", 90],
        ],
    )
    assert cli("import-units", str(zoned), "--as-of", "2026-01-01").exit_code == 0
    before, people = _units(cli), _people(cli, "1-1-1001")
    out = tmp_path / "导出.xlsx"
    assert cli("export-units", str(out), *([] if mask else ["--no-mask"])).exit_code == 0
    from openpyxl import load_workbook

    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row]
    assert "其他联系人" in cells and "分区" in cells
    text = next(c for c in cells if isinstance(c, str) and c.startswith("家庭成员 李梅"))
    assert text.startswith("家庭成员 李梅（女） " + ("139****9000" if mask else "13900139000"))
    again = cli("import-units", str(out), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 3), again.output
    assert _units(cli) == before and _people(cli, "1-1-1001") == people
    if not mask:  # the full export brings the contacts into a new database
        fresh = tmp_path / "fresh.db"
        assert cli("import-units", str(out), "--as-of", "2026-02-01", db=fresh).exit_code == 0
        shown = cli("units", "show", "1-1-1001", "--format", "json", "--no-mask", db=fresh)
        assert [c["name"] for c in json.loads(shown.stdout)["contacts"]] == [p[1] for p in people]


def test_an_unknown_gender_is_one_error_listing_its_rows(cli, tmp_path, database):
    rows = [HC_ROOM_HEADER] + [_room(1000 + i, f"业主{i}", "X", "", "", 1001) for i in range(1, 5)]
    path = write_xlsx(tmp_path / "g.xlsx", rows, sheet="资产信息")
    result = cli("import-units", str(path), "--format", "json")
    assert result.exit_code == 1 and not anything_made(database)
    errors = json.loads(result.stdout)["errors"]
    assert len(errors) == 1 and errors[0]["rows"] == "2–5"
    assert '[values.gender] "X"' in errors[0]["message"] and errors[0]["value"] == "X"
    fix = tmp_path / "map.toml"
    fix.write_text('[values.gender]\n"X" = "unknown"\n', encoding="utf-8")
    assert cli("import-units", str(path), "--map", str(fix)).exit_code == 0


def test_an_unknown_lift_answer_is_one_error_and_a_map_fixes_it(cli, tmp_path):
    path = _household(tmp_path, lift="两部")
    result = cli("import-units", str(path), "--format", "json")
    errors = json.loads(result.stdout)["errors"]
    assert (
        result.exit_code == 1
        and len(errors) == 1
        and '[values.lift] "两部"' in errors[0]["message"]
    )
    fix = tmp_path / "map.toml"
    fix.write_text('[values.lift]\n"两部" = "yes"\n', encoding="utf-8")
    fixed = cli("import-units", str(path), "--map", str(fix))
    assert fixed.exit_code == 0, fixed.output
    assert "是否有电梯" in fixed.stderr and "没有保存" in fixed.stderr  # checked, said not kept


@pytest.mark.parametrize(
    ("value", "gender"),
    [("男", "male"), ("女", "female"), (0, "male"), (1, "female"), ("F", "female")],
)
def test_gender_codes(cli, tmp_path, value, gender):
    path = _household(tmp_path, gender_of_member=value)
    assert cli("import-units", str(path)).exit_code == 0
    assert _people(cli, "1-1-1001")[0][2] == gender


def test_a_zone_is_kept_apart_from_the_building(cli, tmp_path, db_path):
    path = write_xlsx(
        tmp_path / "zoned.xlsx",
        [
            ["住址", "业主", "手机号", "建筑面积"],
            ["北二区30栋三单元1102", "小黑", "13212345678", 90],
            ["南一区30栋三单元1102", "小白", "13212345679", 91],
        ],
    )
    assert cli("import-units", str(path), "--as-of", "2026-01-01").exit_code == 0
    units = _units(cli)
    assert set(units) == {"北二区30-3-1102", "南一区30-3-1102"}  # codes as before
    assert (
        units["北二区30-3-1102"]["building"] == "30"
        and units["北二区30-3-1102"]["zone"] == "北二区"
    )
    listed = cli("units", "list", "--zone", "北二区", "--format", "json")
    assert [u["code"] for u in json.loads(listed.stdout)["rows"]] == ["北二区30-3-1102"]
    both = cli("units", "list", "--building", "30", "--format", "json")
    assert len(json.loads(both.stdout)["rows"]) == 2
    # a unit imported before zones were kept (building 北二区30): its code does not change
    conn = db.connect(db_path)
    conn.execute("UPDATE unit SET building = '北二区30', zone = '' WHERE code = '北二区30-3-1102'")
    conn.commit()
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert (report["added"], report["updated"]) == (0, 1)
    assert set(_units(cli)) == set(units) and _units(cli)["北二区30-3-1102"]["zone"] == "北二区"
    third = cli("import-units", str(path), "--as-of", "2026-03-01", "--format", "json")
    assert json.loads(third.stdout)["unchanged"] == 2


def _hc_workbook(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    fee_header = [
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
    ]
    sheets = {
        "业主信息": [
            ["编号", "业主名称", "性别", "年龄", "手机号", "身份证号", "业主类型", "业主编号"],
            [1, "李梅", "女", 35, 13900139000, "", 1002, 7701],  # listed before the owner
            [2, "张三", "男", 40, 13800138000, OWNER_ID, 1001, 7701],
            [3, "王租", "男", 30, 13700137000, "", 1003, 7701],
        ],
        "房屋信息": [
            ["房屋编号", "楼栋编号", "单元编号", "房屋楼层", "建筑面积", "业主编号", "房屋类型"],
            [1001, 1, 1, 10, 89.5, 7701, 110],
        ],
        "费用设置": [
            fee_header,
            [
                11,
                "物业费",
                "物业费",
                "周期性费用",
                "预付费",
                1,
                "按月",
                "2021-01-01",
                "2050-12-31",
                1001,
                2.5,
                0,
            ],
            [
                12,
                "停车费",
                "车位费",
                "周期性费用",
                "预付费",
                3,
                "按月",
                datetime(2021, 1, 1),
                "",
                2002,
                0,
                300,
            ],
            [13, "租金", "租金", "周期性费用", "预付费", 1, "按月", "2021-01-01", "", 1102, 10, 0],
            [
                14,
                "物业费",
                "电梯费",
                "周期性费用",
                "预付费",
                1,
                "按月",
                "2021-01-01",
                "2025-12-31",
                "单价*面积",
                0.3,
                5,
            ],
        ],
    }
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    path = tmp_path / "HC导入.xlsx"
    wb.save(path)
    return path


def test_people_under_an_owners_number_join_the_room(cli, tmp_path):
    result = cli("import-units", str(_hc_workbook(tmp_path)), "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    unit = _units(cli)["1-1-1001"]
    assert (unit["owner"], unit["tenant"], unit["payer"]) == ("张三", "王租", "owner")
    assert _people(cli, "1-1-1001") == [("family", "李梅", "female", "13900139000")]


def test_hc_fee_settings_become_a_draft_and_nothing_is_published(cli, tmp_path, db_path):
    draft = tmp_path / "收费标准草稿.sh"
    result = cli("import-units", str(_hc_workbook(tmp_path)), "--fees-draft", str(draft))
    assert result.exit_code == 0, result.output
    text = draft.read_text(encoding="utf-8")
    assert (
        "propfee fees add HC11 --name 物业费 --basis area --price 2.5 --kinds residential "
        "--cycle monthly --from 2021-01-01" in text
    )
    assert (
        "propfee fees add HC12 --name 车位费 --basis fixed --price 300 --kinds parking "
        "--cycle quarterly --from 2021-01-01" in text
    )
    assert "HC14 --name 电梯费 --basis area --price 0.3" in text
    assert "附加费" in text and "propfee fees end HC14" in text  # what the draft cannot say
    assert "HC13" not in text.split("# 留待人工处理")[0]  # 1102 租金递增: listed, not guessed
    assert "费用设置 租金：计算公式 1102" in text
    assert "收费标准草稿.sh" in result.stderr and "没有公示" in result.stderr
    conn = db.connect(db_path)
    assert conn.execute("SELECT count(*) FROM fee_item").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM publication").fetchone()[0] == 0
    # the report writes the draft beside itself when no --fees-draft is given
    out = tmp_path / "报告" / "迁移报告.xlsx"
    out.parent.mkdir()
    assert cli("import-units", str(_hc_workbook(tmp_path)), "--report", str(out)).exit_code == 0
    assert (out.parent / "收费标准草稿.sh").read_text(encoding="utf-8") == text
    from openpyxl import load_workbook

    notes = [r[9] for r in load_workbook(out).active.iter_rows(values_only=True)]
    assert any("收费标准草稿.sh" in str(n) for n in notes)


def test_a_vehicle_lists_plates_are_in_the_change_history(cli, tmp_path):
    roster = write_xlsx(
        tmp_path / "roster.xlsx",
        [["房号", "建筑面积", "业主", "手机号"], ["1-1-101", 90, "王伟", "13800138000"]],
    )
    assert cli("import-units", str(roster), "--as-of", "2026-01-01").exit_code == 0
    vehicles = write_xlsx(
        tmp_path / "vehicles.xlsx",
        [
            ["省份", "车牌号码", "车位编号", "车主姓名", "车主手机号"],
            ["粤", "B54321", "", "王伟", "13800138000"],
        ],
    )
    assert cli("import-units", str(vehicles)).exit_code == 0
    changes = _show(cli, "1-1-101")["changes"]
    plates = [c for c in changes if c["field"] == "plate"]
    assert len(plates) == 1 and plates[0]["new"] == "粤B54321"
    assert plates[0]["source"] == "import vehicles.xlsx"
    assert "车牌" in cli("units", "show", "1-1-101").stdout
    assert cli("import-units", str(vehicles)).exit_code == 0  # again: no second event
    assert len([c for c in _show(cli, "1-1-101")["changes"] if c["field"] == "plate"]) == 1


def test_a_corrected_tenant_name_survives_the_old_file(cli, tmp_path, db_path):
    path = write_xlsx(
        tmp_path / "roster.xlsx",
        [
            ["房号", "建筑面积", "业主", "手机号", "租户", "租户电话"],
            ["1-1-1001", 90, "张三", "13800138000", "王租", "13700137000"],
        ],
    )
    assert cli("import-units", str(path), "--as-of", "2026-01-01").exit_code == 0
    fixed = cli("owners", "set", "王租", "--name", "王祖", "--reason", "户口本")
    assert fixed.exit_code == 0, fixed.output
    before = dump(db_path)
    again = cli("import-units", str(path), "--as-of", "2026-02-01", "--format", "json")
    report = json.loads(again.stdout)
    assert report["updated"] == 0 and report["tenant_changes"] == 0
    assert [(k["field"], k["file"], k["kept"]) for k in report["kept_edits"]] == [
        ("name", "王租", "王祖")
    ]
    assert _units(cli)["1-1-1001"]["tenant"] == "王祖"
    assert dump(db_path) == before


def test_owners_show_names_the_other_people_at_the_owners_units(cli, tmp_path):
    assert cli("import-units", str(_household(tmp_path))).exit_code == 0
    shown = cli("owners", "show", "1-1-1001", "--format", "json")
    assert shown.exit_code == 0, shown.output
    (owner,) = [p for p in json.loads(shown.stdout)["rows"] if p["name"] == "张三"]
    assert [(h["unit"], h["name"], h["phones"]) for h in owner["household"]][:2] == [
        ("1-1-1001", "李梅", "139****9000"),
        ("1-1-1001", "张小", ""),
    ]
    table = cli("owners", "show", "张三").stdout
    assert "其他联系人 李梅（家庭成员，1-1-1001）139****9000" in table


def test_outside_an_hc_file_gender_codes_follow_the_national_standard(cli, tmp_path):
    """GB/T 2261.1: 1 男, 2 女 — HC's own 0/1 are read only in an HC file."""
    path = write_xlsx(
        tmp_path / "owners.xlsx",
        [
            ["位置", "姓名", "性别", "电话", "面积"],
            ["2栋3楼5号", "张三", 1, "13800138000", 120],
            ["2栋3楼5号", "李四", 2, "13900139000", 120],
        ],
    )
    result = cli("import-units", str(path))
    assert result.exit_code == 0, result.output
    assert _people(cli, "2-5") == [("family", "李四", "female", "13900139000")]


def test_the_fee_draft_reads_hcs_codes_and_lists_what_it_cannot():
    from propfee.roster.feedraft import draft

    settings = [
        {
            "id": 21,
            "type": 888800010008,
            "name": "月租车",
            "formula": 2002,
            "fixed": 150,
            "cycle": 1,
            "start": "2024-01-01",
        },
        {
            "id": 22,
            "type": 888800010015,
            "name": "水费",
            "formula": 5005,
            "price": 3.2,
            "cycle": 1,
            "start": "2024-01-01",
        },
        {
            "id": 23,
            "type": 888800010001,
            "name": "公摊费",
            "formula": 5005,
            "price": 1,
            "cycle": 1,
            "start": "2024-01-01",
        },
        {
            "id": 24,
            "type": 888800010001,
            "name": "物业费",
            "formula": 1001,
            "price": 2,
            "cycle": 6,
            "start": "2024-01-01",
        },
        {
            "id": 25,
            "type": 888800010001,
            "name": "动态费",
            "formula": 4004,
            "price": 2,
            "cycle": 1,
            "start": "2024-01-01",
        },
    ]
    result = draft(settings, "费用设置")
    assert result.lines == [
        "propfee fees add HC21 --name 月租车 --basis fixed --price 150 --kinds parking "
        "--cycle monthly --from 2024-01-01",
        "propfee fees add HC22 --name 水费 --basis metered --price 3.2 --kinds residential "
        "--cycle monthly --from 2024-01-01 --meter water",
    ]
    assert [t.split("：")[0] for t in result.left] == [
        "费用设置 公摊费",  # metered, but which meter is not said
        "费用设置 物业费",  # 缴费周期 6 months: no propfee cycle
        "费用设置 动态费",  # 4004: no propfee basis
    ]


def test_a_room_named_only_by_a_family_members_number_has_no_owner(cli, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    owners = wb.create_sheet("业主信息")
    owners.append(
        ["编号", "业主名称", "性别", "年龄", "手机号", "身份证号", "业主类型", "业主编号"]
    )
    owners.append([1, "孙家", "女", 35, 13300133000, "", 1002, 7703])
    rooms = wb.create_sheet("房屋信息")
    rooms.append(
        ["房屋编号", "楼栋编号", "单元编号", "房屋楼层", "建筑面积", "业主编号", "房屋类型"]
    )
    rooms.append([1002, 1, 1, 10, 92, 7703, 110])
    path = tmp_path / "HC导入.xlsx"
    wb.save(path)
    result = cli("import-units", str(path))
    assert result.exit_code == 0, result.output
    unit = _units(cli)["1-1-1002"]
    assert (unit["owner"], unit["payer"]) == ("", "developer")  # the contact never pays
    assert _people(cli, "1-1-1002") == [("family", "孙家", "female", "13300133000")]
