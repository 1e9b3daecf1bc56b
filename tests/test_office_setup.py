"""Issue 18, setup that cannot trap and print order, through the command line: the setup
order is said on day one; billing before a price's recorded publication names both lawful
ways; a fee item added by mistake is removed or ended and billing goes on; a publication is
superseded, never edited; notices come out by building, entrance, floor and room, one file per
building on request."""

import json
import random
import re

import pytest

from conftest import PROP_FEE, database_made, dump, query, write_csv

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"],
    ["1-1-102", "住宅", "80", "李四", "13900001111", "2020-01-01"],
]
EVIDENCE = ("--evidence", "公示照片 IMG_0231.jpg")
PARK = ("fees", "add", "PARK", "--name", "停车服务费", "--basis", "fixed", "--price", "100")
PARK_REST = ("--kinds", "residential", "--from", "2020-01-01")


def checked(cli):
    result = cli("check")
    assert result.exit_code == 0, result.output


def bills_of(database, code):
    return query(
        database,
        "SELECT b.id, b.period, b.covers_from, b.covers_to, b.amount_fen FROM bill b "
        "JOIN fee_item f ON f.id = b.fee_item_id WHERE f.code = ? ORDER BY b.id",
        (code,),
    )


@pytest.fixture
def roster(cli, tmp_path):
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    return cli


@pytest.fixture
def published(roster):
    assert roster(*PROP_FEE).exit_code == 0
    done = roster("fees", "publish", "--recorded-later", "--published-on", "2019-12-01", *EVIDENCE)
    assert done.exit_code == 0, done.output
    return roster


# ---------------------------------------------------------------- setup that cannot trap


def test_the_day_one_trap_names_both_lawful_ways(cli, tmp_path, database):
    started = cli("init")
    assert started.exit_code == 0 and database_made(database)
    assert "新小区的设置顺序" in started.stdout
    steps = started.stdout
    assert steps.index("import-units") < steps.index("fees add") < steps.index("fees publish")
    assert steps.index("fees publish") < steps.index("propfee bill")
    assert cli("init").exit_code == 0  # a re-run is harmless
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    added = cli(
        "fees",
        "add",
        "PROP",
        "--name",
        "物业服务费",
        "--basis",
        "area",
        "--price",
        "2.50",
        "--kinds",
        "residential",
        "--from",
        "2026-01-01",
    )
    assert added.exit_code == 0 and "新小区的设置顺序" in added.stderr  # the first item
    assert cli("fees", "publish", "--out", str(tmp_path / "公示")).exit_code == 0  # 2027-06-30
    trapped = cli("bill", "--period", "2026-11", "--as-of", "2027-06-30")
    assert trapped.exit_code == 0
    assert "价格 2027-06-30 才公示，2026-11 在公示之前，不能开票" in trapped.stderr
    assert "① 现在公示：propfee fees publish" in trapped.stderr
    assert "② 启用 propfee 之前已在小区张贴过公示的" in trapped.stderr
    assert "--recorded-later --published-on" in trapped.stderr
    assert bills_of(database, "PROP") == []
    # the second way, taken: the publication posted in the estate in 2025 is recorded
    recorded = cli("fees", "publish", "--recorded-later", "--published-on", "2025-12-20", *EVIDENCE)
    assert recorded.exit_code == 0, recorded.output
    billed = cli("bill", "--period", "2026-11", "--as-of", "2027-06-30")
    assert billed.exit_code == 0 and "开出账单 2 条" in billed.stdout
    assert "不能开票" not in billed.stderr
    checked(cli)


def test_a_fee_item_added_by_mistake_is_removed_and_billing_goes_on(published, database):
    cli = published
    assert cli(*PARK, *PARK_REST).exit_code == 0
    assert "新小区的设置顺序" not in cli(*PARK, *PARK_REST).stderr  # not the first item
    before = dump(database)
    stuck = cli("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    assert stuck.exit_code == 1
    assert "PARK 停车服务费" in stuck.stderr and "从未公示" in stuck.stderr
    assert "propfee fees remove PARK" in stuck.stderr and "fees end PARK" in stuck.stderr
    assert dump(database) == before
    removed = cli("fees", "remove", "PARK", "--reason", "录入错误")
    assert removed.exit_code == 0 and "已删除" in removed.stdout
    again = cli("fees", "remove", "PARK")
    assert again.exit_code == 0 and "此前已删除" in again.stdout
    listed = cli("fees", "list", "--format", "json", "--as-of", "2026-11-01")
    listed = json.loads(listed.stdout)["rows"]
    assert [item["code"] for item in listed] == ["PROP"]
    billed = cli("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    assert billed.exit_code == 0 and "开出账单 2 条" in billed.stdout
    trail = json.loads(cli("audit", "--format", "json").stdout)["rows"]
    assert any(row["command"] == "fees remove" for row in trail)
    # the code is free again for the item meant
    assert cli(*PARK, "--kinds", "parking", "--from", "2026-01-01").exit_code == 0
    assert cli("fees", "show", "PARK", "--format", "json").exit_code == 0
    checked(cli)


def test_a_published_or_billed_item_is_ended_not_removed(published, database):
    cli = published
    assert cli(*PARK, *PARK_REST).exit_code == 0
    cli("fees", "publish", "--recorded-later", "--published-on", "2019-12-02", *EVIDENCE)
    assert (
        cli("bill", "--from", "2026-11", "--through", "2026-12", "--as-of", "2026-11-01").exit_code
        == 0
    )
    before = dump(database)
    refused = cli("fees", "remove", "PARK")
    assert refused.exit_code == 1 and "公示过的收费项目不能删除" in refused.stderr
    assert "fees end PARK --to" in refused.stderr
    december = [b for b in bills_of(database, "PARK") if b[1] == "2026-12"]
    assert len(december) == 2
    early = cli("fees", "end", "PARK", "--to", "2026-11-30")
    assert early.exit_code == 1
    for bill_id, *_rest in december:
        assert f"账单 {bill_id}（" in early.stderr  # each bill in the way is named
    assert "propfee adjust" in early.stderr
    assert dump(database) == before
    for bill_id, *_rest in december:  # corrections bring them to zero: then the end is lawful
        fixed = cli(
            "adjust",
            str(bill_id),
            "--amount",
            "-100.00",
            "--kind",
            "correction",
            "--reason",
            "车位12月起不再收费",
            "--approved-by",
            "王经理",
            "--approval-ref",
            "业委会决议〔2026〕9号",
            "--as-of",
            "2026-11-20",
        )
        assert fixed.exit_code == 0, fixed.output
    ended = cli("fees", "end", "PARK", "--to", "2026-11-30", "--reason", "车位移交业委会")
    assert ended.exit_code == 0 and "2026-11-30 之后停止收费（已记录）" in ended.stdout
    assert "未改动" in cli("fees", "end", "PARK", "--to", "2026-11-30").stdout
    assert "停止收费：2026-11-30" in cli("fees", "show", "PARK").stdout
    count = len(bills_of(database, "PARK"))
    january = cli("bill", "--period", "2027-01", "--as-of", "2026-12-20")
    assert january.exit_code == 0 and "PARK" not in january.stdout
    assert len(bills_of(database, "PARK")) == count
    checked(cli)


def test_an_item_ended_inside_a_cycle_bills_up_to_its_last_day(published, database):
    cli = published
    assert cli(*PARK, *PARK_REST).exit_code == 0
    cli("fees", "publish", "--recorded-later", "--published-on", "2019-12-02", *EVIDENCE)
    assert cli("fees", "end", "PARK", "--to", "2027-01-15").exit_code == 0
    assert cli("bill", "--period", "2027-01", "--as-of", "2026-12-20").exit_code == 0
    january = bills_of(database, "PARK")
    assert [(b[2], b[3]) for b in january] == [("2027-01-01", "2027-01-15")] * 2
    assert all(b[4] == 4839 for b in january)  # ¥100 × 15/31, rounded half-up
    before = dump(database)
    assert cli("bill", "--period", "2027-01", "--as-of", "2026-12-20").exit_code == 0
    assert dump(database) == before  # a re-run adds nothing
    february = cli("bill", "--period", "2027-02", "--as-of", "2026-12-20")
    assert february.exit_code == 0 and "PROP：2 张账单" in february.stdout
    assert "PARK" not in february.stdout and bills_of(database, "PARK") == january
    checked(cli)


def test_a_publication_is_superseded_by_a_new_one_never_edited(published, tmp_path, database):
    cli = published
    assert cli(*PARK, *PARK_REST).exit_code == 0
    first = cli("fees", "publish", "--out", str(tmp_path / "a"))  # 2027-06-30: both items
    assert first.exit_code == 0
    old = query(database, "SELECT id, content FROM publication ORDER BY id")
    assert "停车服务费" in old[-1][1]
    assert cli("fees", "end", "PARK", "--to", "2027-06-29").exit_code == 0
    second = cli("fees", "publish", "--out", str(tmp_path / "b"))
    assert second.exit_code == 0
    now = query(database, "SELECT id, content FROM publication ORDER BY id")
    assert now[: len(old)] == old  # the earlier publications are kept as they were
    assert len(now) == len(old) + 1 and "停车服务费" not in now[-1][1]
    assert "物业服务费" in now[-1][1]


# ---------------------------------------------------------------- print order


def estate_of_300(tmp_path):
    """Buildings 1, 2 and 10, two entrances, 25 floors, two rooms a floor: 300 units, listed
    in a shuffled order with owners whose names sort nothing like the rooms."""
    rows = [
        [
            f"{b}-{e}-{f}{r:02d}",
            "住宅",
            "90",
            f"业主{random.Random(n).randint(1000, 9999)}",
            f"138{n:08d}",
            "2020-01-01",
        ]
        for n, (b, e, f, r) in enumerate(
            (b, e, f, r) for b in (1, 2, 10) for e in (1, 2) for f in range(1, 26) for r in (1, 2)
        )
    ]
    random.Random(18).shuffle(rows)
    return write_csv(tmp_path / "roster-300.csv", [ROSTER[0], *rows])


def rooms_in(path):
    return re.findall(r"房号：([^<]+)</p>", path.read_text(encoding="utf-8"))


def expected_order(codes):
    def key(code):
        b, e, room = code.split("-")
        return int(b), int(e), int(room[:-2]), int(room[-2:])

    return sorted(codes, key=key)


def test_notices_of_300_units_come_out_in_room_order_one_file_per_building(cli, tmp_path):
    assert cli("import-units", str(estate_of_300(tmp_path))).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    cli("fees", "publish", "--recorded-later", "--published-on", "2019-12-01", *EVIDENCE)
    out = tmp_path / "通知单"
    billed = cli(
        "bill",
        "--period",
        "2026-11",
        "--as-of",
        "2026-11-01",
        "--notices",
        str(out),
        "--by",
        "building",
    )
    assert billed.exit_code == 0, billed.output
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == [f"缴费通知单-2026-11-{b}号楼.html" for b in ("10", "1", "2")]  # sorted by name
    for building in ("1", "2", "10"):
        rooms = rooms_in(out / f"缴费通知单-2026-11-{building}号楼.html")
        assert len(rooms) == 100 and {r.split("-")[0] for r in rooms} == {building}
        assert rooms == expected_order(rooms)
    assert "1-1-201" in rooms_in(out / "缴费通知单-2026-11-1号楼.html")[2:3]  # floor 2 after 1
    whole = tmp_path / "全部"
    written = cli("notices", "--period", "2026-11", "--out", str(whole), "--as-of", "2026-11-01")
    assert written.exit_code == 0
    rooms = rooms_in(whole / "缴费通知单-2026-11.html")
    assert len(rooms) == 300 and rooms == expected_order(rooms)
    assert rooms[0] == "1-1-101" and rooms[100] == "2-1-101" and rooms[200] == "10-1-101"
    split = cli(
        "notices",
        "--period",
        "2026-11",
        "--out",
        str(tmp_path / "分"),
        "--by",
        "building",
        "--as-of",
        "2026-11-01",
    )
    assert split.exit_code == 0 and "缴费通知单-2026-11-2号楼.html（100）" in split.stdout


def test_by_takes_only_building_and_goes_with_notices(published, tmp_path, database):
    cli = published
    before = dump(database)
    wrong = cli("notices", "--period", "2026-11", "--out", str(tmp_path / "x"), "--by", "floor")
    assert wrong.exit_code == 1 and "--by floor" in wrong.stderr
    assert not (tmp_path / "x").exists()
    alone = cli("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--by", "building")
    assert alone.exit_code == 1 and "--notices" in alone.stderr
    assert dump(database) == before
