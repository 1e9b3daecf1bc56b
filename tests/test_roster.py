"""Reading real-world roster files and merging them into the database."""

from datetime import date, datetime
from pathlib import Path

import pytest

from propfee.core.errors import FileFormatError, RowErrors
from propfee.roster import merge, reading
from propfee.roster.units import export_units, list_units, unit_detail

from conftest import AS_OF, NOW, dump, valid_id, write_csv, write_xlsx

HEADER = ["楼号", "单元", "房间", "房屋类型", "建筑面积", "业主姓名", "联系电话", "交付日期"]


def home(
    building, entrance, room, owner, phone, area=89.37, delivered=date(2020, 6, 10), kind="住宅"
):
    return [building, entrance, room, kind, area, owner, phone, delivered]


def import_file(conn, path, **kwargs):
    kwargs.setdefault("as_of", AS_OF)
    kwargs.setdefault("now", NOW)
    return merge.import_roster(conn, path, **kwargs)


def owners(conn, code):
    return [
        (r["role"], r["name"], r["start_on"], r["end_on"], r["pays"])
        for r in conn.execute(
            "SELECT o.role, p.name, o.start_on, o.end_on, o.pays FROM occupancy o "
            "JOIN party p ON p.id = o.party_id JOIN unit u ON u.id = o.unit_id "
            "WHERE u.code = ? ORDER BY o.id",
            (code,),
        )
    ]


# ---------------------------------------------------------------- the messy real file


@pytest.fixture
def messy(tmp_path) -> Path:
    """Chinese headers 楼号/单元/房间, no code column, a title row, numbers stored as
    numbers, a notes column to the right, blank rows and a footer."""
    rows = [
        ["翠湖花园业主信息表"],
        [],
        ["序号", *HEADER, "", "说明"],
        [
            1,
            "1号楼",
            "1单元",
            1001.0,
            "住宅",
            89.37,
            " 张三 ",
            18909711443.0,
            date(2020, 6, 10),
            None,
            "面积以房产证为准",
        ],
        [2, "1", "1", "1002", "住宅", "120", "李四", "13800138000/13900139000", "2020/06/10"],
        [],
        [
            3,
            "1栋",
            "2单元",
            "１００１",
            "住宅",
            105.5,
            "王五、赵六",
            "0931-8123456",
            "2020年6月10日",
        ],
        [
            4,
            2.0,
            1.0,
            501.0,
            "商铺",
            60.5,
            "兰州金城餐饮管理有限公司",
            "+86 138-0013-8001",
            "2021-3-1",
        ],
        [5, "P", None, "001", "车位", None, "张三", 18909711443.0, 44000],
        [None] * 9,
        ["合计", None, None, None, None, None, "5户"],
    ]
    return write_xlsx(tmp_path / "roster.xlsx", rows, sheet="业主信息")


def test_a_messy_roster_imports_cleanly(conn, messy):
    report = import_file(conn, messy)
    assert (report.added, report.updated, report.unchanged) == (5, 0, 0)
    units = {u.code: u for u in list_units(conn)}
    assert sorted(units) == ["1-1-1001", "1-1-1002", "1-2-1001", "2-1-501", "P-001"]
    first = units["1-1-1001"]
    assert (first.building, first.entrance, first.room) == ("1", "1", "1001")
    assert first.owner == "张三"
    assert first.phones == "18909711443"
    assert first.area_x100 == 8937
    assert first.delivered_on == "2020-06-10"
    assert first.notes == ""  # the 说明 column to the right is not the unit's notes
    assert units["1-1-1002"].phones == "13800138000/13900139000"
    assert units["1-1-1002"].delivered_on == "2020-06-10"
    assert units["1-2-1001"].owner == "王五、赵六"  # joint owners stay as written
    assert units["1-2-1001"].owner_kind == "person"
    assert units["1-2-1001"].phones == "0931-8123456"
    assert units["2-1-501"].kind == "commercial"
    assert units["2-1-501"].owner_kind == "company"
    assert units["2-1-501"].phones == "13800138001"
    assert units["P-001"].kind == "parking"
    assert units["P-001"].area_x100 is None
    assert units["P-001"].delivered_on == "2020-06-18"  # Excel serial 44000
    # the owner of a home and a parking space is one party
    assert conn.execute("SELECT count(*) FROM party WHERE name = '张三'").fetchone()[0] == 1
    assert report.notices  # the unused columns are named


def test_reimporting_the_same_file_changes_nothing(conn, messy, db_path):
    import_file(conn, messy)
    before = dump(db_path)
    report = import_file(conn, messy, as_of=date(2027, 1, 1), now=datetime(2027, 1, 1))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert dump(db_path) == before


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("mask", [False, True])
def test_export_then_import_is_a_no_op(conn, messy, tmp_path, suffix, mask, db_path):
    import_file(conn, messy)
    out = tmp_path / f"export{suffix}"
    assert export_units(conn, out, mask=mask) == 5
    before = dump(db_path)
    report = import_file(conn, out)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert dump(db_path) == before


def test_masked_export_does_not_import_as_new_data(conn, messy, tmp_path):
    import_file(conn, messy)
    out = tmp_path / "masked.csv"
    export_units(conn, out, mask=True)
    fresh = reading.read_roster(out)
    other = tmp_path / "other.db"
    from propfee.store import db

    other_conn = db.connect(other)
    with pytest.raises(RowErrors, match="行有误") as caught:
        from propfee.store.db import transaction

        with transaction(other_conn):
            merge.apply_roster(other_conn, fresh, as_of=AS_OF, now=NOW)
    assert all("打了码" in e.message for e in caught.value.errors)


def test_export_neutralises_formulas(conn, tmp_path):
    path = write_csv(
        tmp_path / "r.csv", [HEADER, home(1, 1, 101, '=HYPERLINK("x")', "", delivered="2020-06-10")]
    )
    import_file(conn, path)
    out = tmp_path / "out.csv"
    export_units(conn, out, mask=False)
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text
    out_xlsx = tmp_path / "out.xlsx"
    export_units(conn, out_xlsx, mask=False)
    from openpyxl import load_workbook

    ws = load_workbook(out_xlsx).active
    owner = next(c for c in ws[5] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert owner.data_type == "s" and owner.value.startswith("'=")


# ---------------------------------------------------------------- bad rows


def test_five_bad_rows_are_all_reported_and_nothing_is_written(conn, tmp_path, db_path):
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, home(1, 1, 101, "张三", "13800138000")])
    import_file(conn, good)
    before = dump(db_path)
    rows = [
        ["业主信息表"],
        HEADER,
        home(1, 1, 102, "李四", "13800138001"),
        home(1, 1, 103, "王五", "13800138002", area=0),  # row 4
        home(1, 1, 104, "赵六", "12345"),  # row 5
        home(1, 1, 105, "钱七", "13800138003", kind="城堡"),  # row 6
        [],
        home(1, 1, 102, "孙八", "13800138004"),  # row 8: duplicate of row 3
        home(1, 1, 106, "周九", "13800138005", delivered="2020-02-30"),  # row 9
    ]
    path = write_xlsx(tmp_path / "bad.xlsx", rows, sheet="业主")
    with pytest.raises(RowErrors) as caught:
        import_file(conn, path)
    errors = caught.value.errors
    assert [(e.row, e.column.split(" (")[0]) for e in errors] == [
        (4, "建筑面积"),
        (5, "联系电话"),
        (6, "房屋类型"),
        (8, "房间"),
        (9, "交付日期"),
    ]
    assert all(e.sheet == "业主" and e.file == "bad.xlsx" for e in errors)
    assert "房号重复（首次出现在第 3 行）" in errors[3].message
    assert errors[0].column == "建筑面积 (E)"
    assert dump(db_path) == before


@pytest.mark.parametrize(
    ("area", "message"),
    [
        (0, "必须大于 0"),
        (-3, "不能是负数"),
        ("89.375", "超过 2 位小数"),
        ("大约90", "不是数字"),
        (None, "必须填写面积"),
    ],
)
def test_area_errors(conn, tmp_path, area, message):
    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, home(1, 1, 101, "张三", "", area=area)])
    with pytest.raises(RowErrors) as caught:
        import_file(conn, path)
    assert message in caught.value.errors[0].message


def test_bad_id_number(conn, tmp_path):
    good = valid_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    path = write_xlsx(
        tmp_path / "id.xlsx",
        [
            [*HEADER, "身份证号"],
            [*home(1, 1, 101, "张三", ""), good],
            [*home(1, 1, 102, "李四", ""), bad],
        ],
    )
    strict = reading.load_map(None)
    strict.strict = True  # --strict: a wrong check digit refuses the file
    with pytest.raises(RowErrors) as caught:
        import_file(conn, path, column_map=strict)
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "身份证号 (I)")]
    report = import_file(conn, path)  # by default: the unit imports, the number is left out
    assert report.added == 2
    assert any(bad in w and "第 3 行" in w and "不保存" in w for w in report.warnings)
    ids = dict(conn.execute("SELECT name, id_number FROM party").fetchall())
    assert ids == {"张三": good, "李四": ""}


def test_a_phone_saved_in_scientific_notation_is_refused(conn, tmp_path):
    path = write_csv(tmp_path / "sci.csv", [HEADER, home(1, 1, 101, "张三", "1.89097E+10")])
    with pytest.raises(RowErrors, match="行有误") as caught:
        import_file(conn, path)
    assert "科学计数法" in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["楼号", "单元", "房间", "建筑面积", "电话"], "业主"),
        (["楼号", "建筑面积", "业主", "电话"], "房号"),
    ],
)
def test_a_missing_required_column(conn, tmp_path, header, missing):
    path = write_xlsx(tmp_path / "m.xlsx", [header, [1] * len(header)])
    with pytest.raises((RowErrors, FileFormatError)) as caught:
        import_file(conn, path)
    assert missing in str(caught.value) + "".join(
        e.message for e in getattr(caught.value, "errors", [])
    )


def test_unreadable_files(conn, tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        import_file(conn, empty)
    good = write_xlsx(tmp_path / "g.xlsx", [HEADER, home(1, 1, 101, "张三", "")])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[:1500])
    with pytest.raises(FileFormatError, match="已损坏或不完整"):
        import_file(conn, truncated)
    png = tmp_path / "picture.xlsx"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    with pytest.raises(FileFormatError):
        import_file(conn, png)
    words = tmp_path / "words.csv"
    words.write_text("hello\nthis is a letter, not a roster\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="没有找到名册表头"):
        import_file(conn, words)
    with pytest.raises(FileFormatError, match="文件不存在"):
        import_file(conn, tmp_path / "missing.xlsx")


# ---------------------------------------------------------------- shapes and encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(conn, tmp_path, encoding):
    path = write_csv(
        tmp_path / "r.csv",
        [HEADER, home("1栋", "1单元", "101", "张三", "13800138000", delivered="2020-06-10")],
        encoding=encoding,
    )
    import_file(conn, path)
    (unit,) = list_units(conn)
    assert (unit.code, unit.owner, unit.kind) == ("1-1-101", "张三", "residential")


def test_utf16_tab_separated_as_excel_saves_unicode_text(conn, tmp_path):
    path = write_csv(
        tmp_path / "r.txt",
        [HEADER, home(1, 1, 101, "张三", "13800138000", delivered="2020-06-10")],
        encoding="utf-16",
        delimiter="\t",
    )
    import_file(conn, path)
    assert list_units(conn)[0].owner == "张三"


def test_an_html_table_saved_as_xls(conn, tmp_path):
    cells = "".join(f"<th>{h}</th>" for h in HEADER)
    row = "".join(
        f"<td>{v}</td>"
        for v in ["1", "1", "101", "住宅", "89.37", "张三", "13800138000", "2020-06-10"]
    )
    html = (
        f"<html><head><meta charset='gbk'></head><body><table><tr>{cells}</tr><tr>{row}</tr>"
        "</table></body></html>"
    )
    path = tmp_path / "export.xls"
    path.write_bytes(html.encode("gbk"))
    import_file(conn, path)
    assert list_units(conn)[0].code == "1-1-101"


def test_a_code_column_and_english_headers(conn, tmp_path):
    path = write_csv(
        tmp_path / "en.csv",
        [
            ["Unit Code", "Type", "Area", "Owner Name", "Mobile", "Delivery Date"],
            ["A-1201", "office", "150.5", "Acme Trading Co., Ltd", "13800138000", "2021-01-01"],
        ],
    )
    import_file(conn, path)
    (unit,) = list_units(conn)
    assert (unit.code, unit.kind, unit.area_x100, unit.owner_kind) == (
        "A-1201",
        "office",
        15050,
        "company",
    )
    assert (unit.building, unit.room) == ("A", "1201")


def test_fanghao_under_a_building_column_is_the_room(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["楼栋", "单元", "房号", "面积", "业主"],
            ["1", "1", "101", 80, "张三"],
            ["2", "1", "101", 80, "李四"],
        ],
    )
    import_file(conn, path)
    assert [u.code for u in list_units(conn)] == ["1-1-101", "2-1-101"]


def test_merged_building_cells_and_a_two_row_header(conn, tmp_path):
    rows = [
        ["楼号", "房间", "面积", "业主信息", None, "租户信息", None, "缴费方"],
        [None, None, None, "姓名", "电话", "姓名", "电话", None],
        ["1栋", "101", 80, "张三", "13800138000", "李租", "13900139000", "租户"],
        [None, "102", 80, "李四", "13800138001", None, None, None],
        [None, "103", 80, "王五", "13800138002", None, None, None],
    ]
    path = write_xlsx(tmp_path / "r.xlsx", rows, merges=("A3:A5", "D1:E1", "F1:G1"))
    import_file(conn, path)
    units = {u.code: u for u in list_units(conn)}
    assert sorted(units) == ["1-101", "1-102", "1-103"]
    assert units["1-101"].tenant == "李租"
    assert units["1-101"].tenant_phones == "13900139000"
    assert units["1-101"].payer == "tenant"
    assert units["1-102"].payer == "owner"
    assert owners(conn, "1-101") == [
        ("owner", "张三", None, None, 0),
        ("tenant", "李租", None, None, 1),
    ]


def test_one_sheet_per_building_and_hidden_sheets(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [HEADER, home(1, 1, 101, "张三", "")],
        sheet="1栋",
        more_sheets={
            "2栋": ([HEADER, home(2, 1, 101, "李四", "")], "visible"),
            "说明": ([["本表由物业系统导出"]], "visible"),
            "旧数据": ([HEADER, home(9, 9, 999, "旧", "")], "hidden"),
        },
    )
    report = import_file(conn, path)
    assert report.sheets == ["1栋", "2栋"]
    assert [u.code for u in list_units(conn)] == ["1-1-101", "2-1-101"]
    with pytest.raises(FileFormatError, match="没有名为"):
        import_file(conn, path, sheet="3栋")


def test_repeated_header_rows_and_footers_are_skipped(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            HEADER,
            home(1, 1, 101, "张三", ""),
            HEADER,
            home(1, 1, 102, "李四", ""),
            ["合计", None, None, None, 169.37],
            ["制表人：王芳"],
        ],
    )
    report = import_file(conn, path)
    assert report.added == 2


def test_unsold_units_have_no_owner(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            HEADER,
            home(1, 1, 101, "未售", ""),
            home(1, 1, 102, "", ""),
        ],
    )
    import_file(conn, path)
    assert {u.payer for u in list_units(conn)} == {"developer"}
    assert owners(conn, "1-1-101") == []


def test_the_map_file(conn, tmp_path):
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[columns]\n"资产编号" = "code"\n"收费面积" = "ignore"\n"套内" = "area"\n'
        '"住户" = "owner"\n[kinds]\n"商住两用" = "commercial"\n',
        encoding="utf-8",
    )
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["资产编号", "收费面积", "套内", "住户", "类型"],
            ["X-1", 100, 80.5, "张三", "商住两用"],
        ],
    )
    import_file(conn, path, column_map=reading.load_map(mapping))
    (unit,) = list_units(conn)
    assert (unit.code, unit.area_x100, unit.area_basis, unit.kind) == (
        "X-1",
        8050,
        "套内",
        "commercial",
    )
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\n"x" = "colour"\n', encoding="utf-8")
    with pytest.raises(FileFormatError, match="字段 'colour' 不存在"):
        reading.load_map(bad)


def test_inner_area_is_not_the_billing_area(conn, tmp_path):
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["房号", "套内面积", "建筑面积", "业主"],
            ["1-101", 71.2, 89.37, "张三"],
        ],
    )
    import_file(conn, path)
    (unit,) = list_units(conn)
    assert (unit.area_x100, unit.inner_area_x100, unit.area_basis) == (8937, 7120, "建筑面积")


# ---------------------------------------------------------------- re-import and history


def test_an_owner_change_is_recorded_as_history(conn, tmp_path):
    first = write_xlsx(
        tmp_path / "a.xlsx",
        [HEADER, home(1, 1, 101, "张三", "13800138000"), home(1, 1, 102, "李四", "13800138001")],
    )
    import_file(conn, first)
    second = write_xlsx(
        tmp_path / "b.xlsx",
        [HEADER, home(1, 1, 101, "王五", "13800138009"), home(1, 1, 102, "李四", "13800138002")],
    )
    report = import_file(conn, second, as_of=date(2026, 11, 1))
    assert (report.added, report.updated, report.unchanged, report.owner_changes) == (0, 2, 0, 1)
    assert owners(conn, "1-1-101") == [
        ("owner", "张三", "2020-06-10", "2026-11-01", 1),
        ("owner", "王五", "2026-11-01", None, 1),
    ]
    # a new phone for the same owner updates the owner, not the history
    assert owners(conn, "1-1-102") == [("owner", "李四", "2020-06-10", None, 1)]
    assert unit_detail(conn, "1-1-102").unit.phones == "13800138002"


def test_an_owner_change_uses_the_transfer_date_column(conn, tmp_path):
    import_file(conn, write_xlsx(tmp_path / "a.xlsx", [HEADER, home(1, 1, 101, "张三", "")]))
    second = write_xlsx(
        tmp_path / "b.xlsx",
        [
            [*HEADER, "过户日期"],
            [*home(1, 1, 101, "王五", ""), "2025-03-01"],
        ],
    )
    import_file(conn, second)
    assert owners(conn, "1-1-101")[-1] == ("owner", "王五", "2025-03-01", None, 1)
    too_early = write_xlsx(
        tmp_path / "c.xlsx",
        [
            [*HEADER, "过户日期"],
            [*home(1, 1, 101, "赵六", ""), "2024-01-01"],
        ],
    )
    with pytest.raises(RowErrors, match="行有误") as caught:
        import_file(conn, too_early)
    assert "早于现业主" in caught.value.errors[0].message


def test_a_unit_sold_by_the_developer_starts_at_delivery(conn, tmp_path):
    import_file(
        conn, write_xlsx(tmp_path / "a.xlsx", [HEADER, home(1, 1, 101, "未售", "", delivered=None)])
    )
    import_file(
        conn,
        write_xlsx(
            tmp_path / "b.xlsx", [HEADER, home(1, 1, 101, "张三", "", delivered="2026-12-01")]
        ),
    )
    assert owners(conn, "1-1-101") == [("owner", "张三", "2026-12-01", None, 1)]


def test_a_partial_file_leaves_other_fields_alone(conn, tmp_path, db_path):
    import_file(
        conn,
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                [*HEADER, "租户", "缴费方"],
                [*home(1, 1, 101, "张三", "13800138000"), "李租", "租户"],
            ],
        ),
    )
    before = dump(db_path)
    report = import_file(
        conn,
        write_xlsx(
            tmp_path / "b.xlsx",
            [
                ["房号", "业主"],
                ["1-1-101", "张三"],
            ],
        ),
    )
    assert (report.updated, report.unchanged) == (0, 1)
    assert dump(db_path) == before


def test_a_tenant_leaving_hands_payment_back_to_the_owner(conn, tmp_path):
    import_file(
        conn,
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                [*HEADER, "租户", "缴费方"],
                [*home(1, 1, 101, "张三", ""), "李租", "租户"],
            ],
        ),
    )
    import_file(
        conn,
        write_xlsx(
            tmp_path / "b.xlsx",
            [
                [*HEADER, "租户", "缴费方"],
                [*home(1, 1, 101, "张三", ""), None, None],
            ],
        ),
        as_of=date(2026, 11, 1),
    )
    assert owners(conn, "1-1-101") == [
        ("owner", "张三", "2020-06-10", "2026-11-01", 0),
        ("tenant", "李租", None, "2026-11-01", 1),
        ("owner", "张三", "2026-11-01", None, 1),
    ]


def test_one_owner_on_several_rows_keeps_every_phone(conn, tmp_path, db_path):
    first = write_xlsx(
        tmp_path / "a.xlsx",
        [
            HEADER,
            home(1, 1, 101, "张三", "13800138000"),
            home("P", None, "001", "张三", "13800138000", kind="车位", area=None),
        ],
    )
    import_file(conn, first)
    changed = write_xlsx(
        tmp_path / "b.xlsx",
        [
            HEADER,
            home(1, 1, 101, "张三", "13800138001"),
            home("P", None, "001", "张三", "13800138002", kind="车位", area=None),
        ],
    )
    report = import_file(conn, changed)
    assert report.updated == 2
    assert unit_detail(conn, "P-001").unit.phones == "13800138001/13800138002"
    before = dump(db_path)
    again = import_file(conn, changed)
    assert (again.updated, again.unchanged) == (0, 2)
    assert dump(db_path) == before


def test_conflicting_id_numbers_for_one_owner_are_an_error(conn, tmp_path):
    header = [*HEADER, "身份证号"]
    import_file(
        conn,
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                header,
                [*home(1, 1, 101, "张三", "13800138000"), ""],
                [*home("P", None, "001", "张三", "13800138000", kind="车位", area=None), ""],
            ],
        ),
    )
    with pytest.raises(RowErrors) as caught:
        import_file(
            conn,
            write_xlsx(
                tmp_path / "b.xlsx",
                [
                    header,
                    [*home(1, 1, 101, "张三", "13800138000"), valid_id(seq="111")],
                    [
                        *home("P", None, "001", "张三", "13800138000", kind="车位", area=None),
                        valid_id(seq="222"),
                    ],
                ],
            ),
        )
    assert "信息不同" in caught.value.errors[0].message


def test_dry_run_writes_nothing(conn, messy, db_path):
    before = dump(db_path)
    report = import_file(conn, messy, dry_run=True)
    assert report.added == 5 and report.dry_run
    assert dump(db_path) == before


def test_progress_is_reported(conn, messy):
    seen = []
    import_file(conn, messy, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
