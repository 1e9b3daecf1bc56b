"""Edits as history, never overwrites: units set | sell | move-out | move-in and owners set,
each an event with its day and operator, shown in units show / owners show, audited, one
transaction, and a no-op when run again."""

import json

import pytest

from propfee.store import db

from conftest import PROP_FEE, StoreError, dump, published_fees, query, valid_id, write_csv

ROSTER = [
    ["房号", "建筑面积", "业主", "手机号", "交付日期", "租户", "租户电话", "缴费方"],
    ["1-1-101", "89.37", "张三", "13800001111", "2020-01-01", "", "", ""],
    ["1-1-102", "100", "李四", "13900002222", "2020-01-01", "赵六", "13700003333", "租户"],
]


@pytest.fixture
def estate(cli, tmp_path):
    """Two homes billed September–December 2026 (1-1-102's tenant 赵六 pays); a command
    runner that asserts success, and ``check`` that asserts the ledger is sound."""
    steps = [
        ("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER)), "--as-of", "2026-09-01"),
        PROP_FEE,
        published_fees(tmp_path),
        ("bill", "--from", "2026-09", "--through", "2026-12", "--as-of", "2026-11-01"),
    ]
    for args in steps:
        ok(cli, *args)
    return cli


def ok(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    checked = cli("check")
    assert checked.exit_code == 0, checked.output
    return result


def refused(cli, database, *args):
    """The command exits 1 and leaves the database as it was."""
    before = dump(database)
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert dump(database) == before
    return result.output


def same_again(cli, database, *args):
    """Running the edit again changes nothing, not even the audit trail."""
    before = dump(database)
    result = ok(cli, *args)
    assert dump(database) == before
    return result.output


def bills(database, code):
    """(id, period, from, to, amount, quantity, party, adjustments) of a unit's bills."""
    return query(
        database,
        "SELECT b.id, b.period, b.covers_from, b.covers_to, b.amount_fen, b.quantity, "
        "p.name, (SELECT coalesce(sum(a.amount_fen), 0) FROM adjustment a "
        "WHERE a.bill_id = b.id) FROM bill b JOIN unit u ON u.id = b.unit_id "
        "JOIN party p ON p.id = b.party_id WHERE u.code = ? ORDER BY b.period, b.seq",
        (code,),
    )


def show(cli, code, *more):
    return json.loads(ok(cli, "units", "show", code, "--format", "json", *more).stdout)


def trail(database, command):
    return query(database, "SELECT operator, changes FROM audit WHERE command = ?", (command,))


# ---------------------------------------------------------------- units set --area


def test_an_area_corrected_from_a_day_is_rebilled_as_new_bills(estate, database):
    args = (
        "units",
        "set",
        "1-1-101",
        "--area",
        "95.20",
        "--from",
        "2026-10-16",
        "--reason",
        "复测",
        "--as-of",
        "2026-11-20",
        "--operator",
        "小王",
    )
    out = ok(estate, *args).output
    assert "89.37 ㎡ → 95.2 ㎡" in out
    assert bills(database, "1-1-101") == [
        # September, before the day: untouched
        (1, "2026-09", "2026-09-01", "2026-09-30", 22343, "89.37", "张三", 0),
        # October: 16 days of 31 taken off at the old area, billed anew at the new one
        (3, "2026-10", "2026-10-01", "2026-10-31", 22343, "89.37", "张三", -11532),
        (9, "2026-10", "2026-10-16", "2026-10-31", 12284, "95.2", "张三", 0),
        (5, "2026-11", "2026-11-01", "2026-11-30", 22343, "89.37", "张三", -22343),
        (10, "2026-11", "2026-11-01", "2026-11-30", 23800, "95.2", "张三", 0),
        (7, "2026-12", "2026-12-01", "2026-12-31", 22343, "89.37", "张三", -22343),
        (11, "2026-12", "2026-12-01", "2026-12-31", 23800, "95.2", "张三", 0),
    ]
    unit = show(estate, "1-1-101", "--as-of", "2026-11-20")
    assert unit["area"] == "95.20"
    assert [
        (c["on"], c["operator"], c["field"], c["old"], c["new"], c["reason"])
        for c in unit["changes"]
    ] == [("2026-10-16", "小王", "area", "89.37", "95.2", "复测")]
    table = ok(estate, "units", "show", "1-1-101", "--as-of", "2026-11-20").stdout
    assert "变更记录" in table and "房屋信息更正：计费面积" in table and "小王" in table
    ((operator, changes),) = trail(database, "units set")
    assert operator == "小王"
    assert json.loads(changes)["added"] == {"adjustment": 3, "bill": 3, "unit_event": 1}
    # the same correction again changes nothing
    assert "没有变化" in same_again(estate, database, *args)
    # a later bill run bills the new area
    ok(estate, "bill", "--period", "2027-01", "--as-of", "2026-12-01")
    assert bills(database, "1-1-101")[-1][4:6] == (23800, "95.2")


def test_an_area_edit_that_would_rewrite_a_paid_bill_is_refused_naming_it(estate, database):
    # 李四's tenant pays September (the oldest bill) in part
    ok(estate, "pay", "1-1-102", "100.00", "--channel", "cash", "--as-of", "2026-11-10")
    september = bills(database, "1-1-102")[0][0]
    args = (
        "units",
        "set",
        "1-1-102",
        "--area",
        "110",
        "--from",
        "2026-09-01",
        "--as-of",
        "2026-11-20",
    )
    message = refused(estate, database, *args)
    assert f"账单 {september}" in message and "已缴 ¥100.00" in message
    assert "propfee reverse 2026-000001" in message
    # the way forward the message names: reverse the payment, then correct the area
    ok(estate, "reverse", "2026-000001", "--reason", "面积更正", "--as-of", "2026-11-20")
    ok(estate, *args)
    assert {b[5] for b in bills(database, "1-1-102") if b[4] + b[7]} == {"110"}


def test_units_set_checks_its_values(estate, database):
    too_big = refused(estate, database, "units", "set", "1-1-101", "--area", "100000.01")
    assert "--area" in too_big and "100,000" in too_big
    assert "--kind" in refused(estate, database, "units", "set", "1-1-101", "--kind", "城堡")
    assert "没有房号" in refused(estate, database, "units", "set", "9-9-999", "--floor", "9")
    assert "--area" in refused(estate, database, "units", "set", "1-1-101")


def test_a_new_kind_is_refused_while_issued_bills_charge_the_old_kinds_fee(estate, database):
    early = ("--kind", "商铺", "--from", "2026-12-01", "--as-of", "2026-11-20")
    message = refused(estate, database, "units", "set", "1-1-101", *early)
    december = bills(database, "1-1-101")[-1][0]
    assert f"账单 {december}（物业服务费 2026-12）" in message and "--from" in message
    later = ("--floor", "1", "--kind", "商铺", "--from", "2027-01-01", "--as-of", "2026-11-20")
    ok(estate, "units", "set", "1-1-101", *later)
    unit = show(estate, "1-1-101")
    assert (unit["kind"], unit["floor"]) == ("commercial", "1")
    assert {(c["field"], c["old"], c["new"], c["on"]) for c in unit["changes"]} == {
        ("floor", "", "1", "2027-01-01"),
        ("kind", "residential", "commercial", "2027-01-01"),
    }
    assert all(b[7] == 0 for b in bills(database, "1-1-101"))  # bills are never edited
    ok(estate, "bill", "--period", "2027-01", "--as-of", "2026-12-01")
    assert bills(database, "1-1-101")[-1][1] == "2026-12"  # the homes' fee no longer applies


# ---------------------------------------------------------------- owners set


def test_owners_set_checks_the_phone_and_id_and_keeps_the_old_value(estate, database):
    phone = refused(estate, database, "owners", "set", "1-1-101", "--phone", "138000011")
    assert "--phone 138000011" in phone and "不是有效的电话号码" in phone
    bad_id = valid_id()[:-1] + ("0" if valid_id()[-1] != "0" else "1")
    assert "--id-number" in refused(
        estate, database, "owners", "set", "张三", "--id-number", bad_id
    )
    args = (
        "owners",
        "set",
        "1-1-101",
        "--phone",
        "13912345678",
        "--id-number",
        valid_id(),
        "--reason",
        "业主来电更换号码",
        "--as-of",
        "2026-11-20",
        "--operator",
        "小王",
    )
    out = ok(estate, *args).output
    assert "138****1111 → 139****5678" in out  # masked on screen
    (owner,) = json.loads(
        ok(estate, "owners", "show", "张三", "--format", "json", "--no-mask").stdout
    )["rows"]
    assert owner["phones"] == "13912345678"
    assert [(c["field"], c["old"], c["new"], c["operator"]) for c in owner["changes"]] == [
        ("phones", "13800001111", "13912345678", "小王"),
        ("id_number", "", valid_id(), "小王"),
    ]
    masked = show(estate, "1-1-101")["changes"]
    assert masked[0]["old"] == "138****1111" and masked[1]["new"].startswith("620102****")
    assert "没有变化" in same_again(estate, database, *args)
    # found by the new phone as well; a name change keeps the old name in the history
    ok(
        estate,
        "owners",
        "set",
        "13912345678",
        "--name",
        "张叁",
        "--company",
        "--as-of",
        "2026-11-21",
    )
    changes = show(estate, "1-1-101")["changes"]
    assert {(c["field"], c["old"], c["new"]) for c in changes[2:]} == {
        ("name", "张三", "张叁"),
        ("party_kind", "person", "company"),
    }


# ---------------------------------------------------------------- tenants


def test_a_tenant_moves_out_and_in_and_who_pays_follows(estate, database):
    issued = bills(database, "1-1-102")
    assert {b[6] for b in issued} == {"赵六"}
    args = ("units", "move-out", "1-1-102", "--tenant", "--date", "2026-12-31")
    out = ok(estate, *args).output
    assert "已开出的账单仍由原缴费人负责" in out
    assert bills(database, "1-1-102") == issued  # bills already issued stay the tenant's
    unit = show(estate, "1-1-102")
    assert (unit["tenant"], unit["payer"]) == ("", "owner")
    assert [(c["field"], c["old"], c["new"]) for c in unit["changes"]] == [
        ("tenant", "赵六", ""),
        ("payer", "租户", "业主"),
    ]
    assert "没有在租的租户" in same_again(estate, database, *args)
    ok(estate, "bill", "--period", "2027-01", "--as-of", "2026-12-01")
    assert bills(database, "1-1-102")[-1][6] == "李四"  # the owner pays from then on
    move_in = (
        "units",
        "move-in",
        "1-1-102",
        "--tenant",
        "孙七",
        "--phone",
        "13500005555",
        "--date",
        "2027-02-01",
        "--pays",
    )
    ok(estate, *move_in)
    assert "已是 1-1-102 的租户" in same_again(estate, database, *move_in)
    ok(estate, "bill", "--period", "2027-02", "--as-of", "2027-01-01")
    assert bills(database, "1-1-102")[-1][6] == "孙七"
    assert show(estate, "1-1-102")["changes"][-1]["new"] == "租户"


def test_a_move_out_before_the_tenancy_began_is_refused(estate, database):
    ok(
        estate,
        "units",
        "move-in",
        "1-1-101",
        "--tenant",
        "孙七",
        "--phone",
        "13500005555",
        "--date",
        "2026-12-01",
    )
    out = refused(estate, database, "units", "move-out", "1-1-101", "--date", "2026-11-30")
    assert "--date 2026-11-30" in out and "孙七" in out and "2026-12-01" in out
    bad = refused(
        estate,
        database,
        "units",
        "move-in",
        "1-1-102",
        "--tenant",
        "周九",
        "--phone",
        "12345",
        "--date",
        "2027-01-01",
    )
    assert "--phone 12345" in bad


# ---------------------------------------------------------------- units sell


def test_a_sale_bills_the_buyer_after_the_day_and_the_seller_keeps_his_arrears(
    estate, database, tmp_path
):
    args = (
        "units",
        "sell",
        "1-1-101",
        "--to",
        "王五",
        "--phone",
        "13600004444",
        "--date",
        "2026-11-16",
        "--as-of",
        "2026-11-20",
        "--operator",
        "小王",
    )
    out = ok(estate, *args).output
    assert "张三 → 王五" in out and "欠费不随房屋转给买方" in out
    assert [(b[1], b[2], b[3], b[4], b[6], b[7]) for b in bills(database, "1-1-101")] == [
        ("2026-09", "2026-09-01", "2026-09-30", 22343, "张三", 0),
        ("2026-10", "2026-10-01", "2026-10-31", 22343, "张三", 0),
        ("2026-11", "2026-11-01", "2026-11-30", 22343, "张三", -11171),
        ("2026-11", "2026-11-16", "2026-11-30", 11171, "王五", 0),
        ("2026-12", "2026-12-01", "2026-12-31", 22343, "张三", -22343),
        ("2026-12", "2026-12-01", "2026-12-31", 22343, "王五", 0),
    ]
    history = show(estate, "1-1-101")
    assert history["owner"] == "王五"
    assert [(o["name"], o["from"], o["to"]) for o in history["occupancy"]] == [
        ("张三", "2020-01-01", "2026-11-16"),
        ("王五", "2026-11-16", None),
    ]
    assert [(c["action"], c["old"], c["new"], c["operator"]) for c in history["changes"]] == [
        ("sell", "张三", "王五", "小王")
    ]
    assert "已是 1-1-101 的业主" in same_again(estate, database, *args)
    # dunning: the buyer is never reminded of the seller's months
    overdue = json.loads(ok(estate, "overdue", "--as-of", "2026-12-20", "--format", "json").stdout)
    rows = {r["payer"]: r["periods"] for r in overdue["rows"] if r["unit"] == "1-1-101"}
    assert rows["张三"] == ["2026-09", "2026-10", "2026-11"]
    assert "2026-09" not in rows["王五"] and "2026-10" not in rows["王五"]
    ok(estate, "remind", "--as-of", "2026-12-20", "--out", str(tmp_path / "催缴"))
    reached = query(
        database,
        "SELECT p.name, bp.name FROM contact c JOIN party p ON p.id = c.party_id "
        "JOIN bill b ON b.id = c.bill_id JOIN party bp ON bp.id = b.party_id "
        "JOIN unit u ON u.id = c.unit_id WHERE u.code = '1-1-101'",
    )
    assert reached and all(addressee == billed for addressee, billed in reached)


def test_a_sale_leaves_paid_bills_with_the_seller_and_names_them(estate, database):
    # the tenant has paid every bill of 1-1-102, December in advance
    ok(estate, "pay", "1-1-102", "1000.00", "--channel", "cash", "--as-of", "2026-11-10")
    before = bills(database, "1-1-102")
    out = ok(
        estate,
        "units",
        "sell",
        "1-1-102",
        "--to",
        "钱八",
        "--phone",
        "13600009999",
        "--date",
        "2026-11-16",
        "--as-of",
        "2026-11-20",
    ).output
    assert bills(database, "1-1-102") == before  # the tenant pays: no bill changes party
    assert "李四 → 钱八" in out
    # a sale of a home whose owner paid ahead: the paid bills stay the seller's, named
    ok(estate, "units", "move-out", "1-1-102", "--date", "2026-11-16")
    ok(estate, "pay", "1-1-101", "893.72", "--channel", "cash", "--as-of", "2026-11-10")
    out = ok(
        estate,
        "units",
        "sell",
        "1-1-101",
        "--to",
        "王五",
        "--phone",
        "13600004444",
        "--date",
        "2026-11-16",
        "--as-of",
        "2026-11-20",
    ).output
    assert "已有缴款，仍由 张三 负责" in out and "propfee rebill 1-1-101 --from 2026-11-16" in out
    assert {b[6] for b in bills(database, "1-1-101")} == {"张三"}


def test_a_sale_before_the_sellers_ownership_is_refused(estate, database):
    out = refused(
        estate,
        database,
        "units",
        "sell",
        "1-1-101",
        "--to",
        "王五",
        "--phone",
        "13600004444",
        "--date",
        "2019-12-31",
    )
    assert "--date 2019-12-31" in out and "张三" in out
    bad = refused(
        estate,
        database,
        "units",
        "sell",
        "1-1-101",
        "--to",
        "王五",
        "--phone",
        "136****4444",
        "--date",
        "2026-12-01",
    )
    assert "--phone" in bad


def test_the_change_history_is_append_only(estate, database):
    ok(estate, "units", "set", "1-1-101", "--floor", "1", "--as-of", "2026-11-20")
    conn = db.connect(database)
    try:
        with pytest.raises(StoreError, match="append"):
            conn.execute("UPDATE unit_event SET new_value = '9'")
    finally:
        conn.close()


def test_units_show_tells_the_story_of_a_month(estate, database):
    """A month at the front desk on one home: its area re-surveyed, its tenant gone, the home
    sold and the buyer's phone corrected — each step checked, and the story in units show."""
    steps = [
        ("units", "set", "1-1-102", "--area", "101.50", "--from", "2026-11-01",
         "--as-of", "2026-11-05", "--operator", "小王", "--reason", "复测"),
        ("units", "move-out", "1-1-102", "--date", "2026-11-10", "--operator", "小李"),
        ("units", "sell", "1-1-102", "--to", "钱八", "--phone", "13600009999",
         "--date", "2026-11-20", "--as-of", "2026-11-25", "--operator", "小王"),
        ("owners", "set", "钱八", "--phone", "13600008888", "--as-of", "2026-11-26"),
    ]  # fmt: skip
    for args in steps:
        ok(estate, *args)
    changes = show(estate, "1-1-102")["changes"]
    assert [(c["on"], c["field"], c["old"], c["new"]) for c in changes] == [
        ("2026-11-01", "area", "100", "101.5"),
        ("2026-11-10", "tenant", "赵六", ""),
        ("2026-11-10", "payer", "租户", "业主"),
        ("2026-11-20", "owner", "李四", "钱八"),
        ("2026-11-26", "phones", "136****9999", "136****8888"),
    ]
    # the tenant's November bill stayed his; the buyer is billed from the sale at the new area
    billed = bills(database, "1-1-102")
    assert [b[6] for b in billed if b[1] == "2026-11" and b[4] + b[7]] == ["赵六", "钱八"]
    assert {b[5] for b in billed if b[6] == "钱八"} == {"101.5"}
    document = json.loads(
        ok(estate, "units", "sell", "1-1-102", "--to", "孙七", "--phone", "13500005555",
           "--date", "2026-12-16", "--as-of", "2026-11-25", "--format", "json").stdout
    )  # fmt: skip
    assert document["changes"] == [{"field": "owner", "old": "钱八", "new": "孙七"}]
    assert [(m["from"], m["to"], m["party"]) for m in document["rebilled"]] == [
        ("2026-12-16", "2026-12-31", "孙七")
    ]


def test_a_vacant_homes_area_is_rebilled_with_its_discount(cli, database, tmp_path):
    (tmp_path / "propfee.toml").write_text('[billing]\nvacancy_discount = "0.3"\n', "utf-8")
    roster = [
        ["房号", "建筑面积", "业主", "手机号", "交付日期", "入住状态"],
        ["1-1-101", "89.37", "张三", "13800001111", "2020-01-01", "空置"],
    ]
    for args in (
        ("import-units", str(write_csv(tmp_path / "vacant.csv", roster))),
        PROP_FEE,
        published_fees(tmp_path),
        ("bill", "--period", "2026-11", "--as-of", "2026-11-01"),
        ("units", "set", "1-1-101", "--area", "95.20", "--from", "2026-11-01",
         "--as-of", "2026-11-20"),
    ):  # fmt: skip
        ok(cli, *args)
    # the old bill nets to nothing (its discount stays with it); the new one has its own
    assert [(b[4], b[5], b[7]) for b in bills(database, "1-1-101")] == [
        (22343, "89.37", -6703 - 15640),
        (23800, "95.2", -7140),
    ]
