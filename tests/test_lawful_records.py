"""Issue 15, LEGAL rules 8–11 through the command line: a publication's date is a fact,
a price change waits a month, upward corrections rest on a published fee, every reduction
under 酬金制 carries an approval of the right shape, who pays follows the delivery date,
and personal data stays private by default."""

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from propfee.billing import fees
from propfee.config import DEFAULTS
from propfee.store import db, pg
from propfee.store.db import transaction

from conftest import PROP_FEE, build_demo, dump, write_csv

ROSTER = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"],
    ["1-1-101", "住宅", "100", "张三", "13812341234", "2020-01-01"],
]
EVIDENCE = ("--evidence", "公示照片 IMG_0231.jpg")


@pytest.fixture
def priced(cli, tmp_path):
    assert cli("import-units", str(write_csv(tmp_path / "roster.csv", ROSTER))).exit_code == 0
    assert cli(*PROP_FEE).exit_code == 0
    return cli


def settings_file(tmp_path, text: str):
    path = tmp_path / "propfee.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# ---------------------------------------------------------------- rule 8: publication


def test_publish_records_the_day_it_runs_and_refuses_a_backdate(priced, tmp_path, db_path):
    before = dump(db_path)
    backdated = priced("fees", "publish", "--out", str(tmp_path), "--as-of", "2026-03-01")
    assert backdated.exit_code == 1
    assert "不能用 --as-of 2026-03-01 改日期" in backdated.stderr
    assert "--recorded-later" in backdated.stderr  # the day-one path is named
    assert dump(db_path) == before
    published = priced("fees", "publish", "--out", str(tmp_path))
    assert published.exit_code == 0 and "已于 2027-06-30 公示：" in published.stdout
    shown = json.loads(priced("fees", "show", "PROP", "--format", "json").stdout)
    assert [p["published_on"] for p in shown["prices"]] == ["2027-06-30"]  # the command's clock


def test_a_publication_recorded_later_needs_evidence_and_is_marked_everywhere(
    priced, tmp_path, db_path
):
    before = dump(db_path)
    no_proof = priced(
        "fees",
        "publish",
        "--out",
        str(tmp_path),
        "--recorded-later",
        "--published-on",
        "2025-12-20",
    )
    assert no_proof.exit_code == 1 and "--evidence 必填" in no_proof.stderr
    no_day = priced("fees", "publish", "--out", str(tmp_path), "--recorded-later", *EVIDENCE)
    assert no_day.exit_code == 1 and "--published-on" in no_day.stderr
    future = priced(
        "fees", "publish", "--recorded-later", "--published-on", "2027-07-01", *EVIDENCE
    )
    assert future.exit_code == 1 and "必须早于今天" in future.stderr
    assert dump(db_path) == before
    recorded = priced(
        "fees",
        "publish",
        "--out",
        str(tmp_path / "公示"),
        "--recorded-later",
        "--published-on",
        "2025-12-20",
        *EVIDENCE,
    )
    assert recorded.exit_code == 0, recorded.output
    reprint = (tmp_path / "公示" / "收费公示-2025-12-20-补录.txt").read_text(encoding="utf-8")
    assert "公示日期：2025年12月20日" in reprint
    assert "补录：本次公示于 2025年12月20日 张贴，2027年6月30日 补录入系统" in reprint
    assert "公示照片 IMG_0231.jpg" in reprint
    assert "2025-12-20（补录）" in priced("fees", "show", "PROP").stdout
    # the evidence pack prints the publication date with its mark, in file 03 and the summary
    assert priced("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    out = tmp_path / "证据" / "1-1-101"
    (tmp_path / "证据").mkdir()
    pack = priced("legal-pack", "1-1-101", "--out", str(out), "--as-of", "2027-01-30")
    assert pack.exit_code == 0, pack.output
    standard = (out / "03-收费标准及公示.txt").read_text(encoding="utf-8")
    assert "公示于 2025-12-20（补录）" in standard
    assert "—— 公示记录 2025-12-20（补录，凭证：公示照片 IMG_0231.jpg） ——" in standard
    assert "2025年12月20日（补录）" in (out / "00-摘要.html").read_text(encoding="utf-8")


def test_no_recording_later_once_propfee_publishes(priced, tmp_path, db_path):
    conn = db.connect(db_path)
    with transaction(conn):  # propfee published on 2026-10-01, the day it ran
        fees.publish(
            conn,
            as_of=date(2026, 10, 1),
            now=datetime(2026, 10, 1, 9),
            settings=DEFAULTS,
            out_dir=None,
        )
    conn.close()
    late = priced("fees", "publish", "--recorded-later", "--published-on", "2026-12-01", *EVIDENCE)
    assert late.exit_code == 1 and "自 2026-10-01 起已用于公示" in late.stderr


def test_a_first_price_published_today_skips_earlier_days_and_names_recording_later(
    priced, tmp_path
):
    priced("fees", "publish", "--out", str(tmp_path))  # 2027-06-30, the command's clock
    result = priced("bill", "--period", "2027-06", "--as-of", "2027-06-01")
    assert result.exit_code == 0
    assert "价格 2027-06-30 才公示，此前的 29 天不计费" in result.stderr
    assert "--recorded-later --published-on" in result.stderr
    may = priced("bill", "--period", "2027-05", "--as-of", "2027-06-01")
    assert "价格 2027-06-30 才公示，此前不计费" in may.stdout
    assert "2027-05 在公示之前，不能开票" in may.stderr  # both lawful ways are named
    assert "propfee fees publish --out" in may.stderr
    assert "--recorded-later --published-on" in may.stderr


def test_a_price_change_posted_less_than_a_month_ahead_is_refused(priced, tmp_path, db_path):
    # the case: a price published on 03-25 for 04-01 was billed for April with a warning
    priced("fees", "publish", "--recorded-later", "--published-on", "2026-01-05", *EVIDENCE)
    priced("fees", "set-price", "PROP", "--price", "2.80", "--from", "2026-04-01")
    posted = priced(
        "fees",
        "publish",
        "--out",
        str(tmp_path),
        "--recorded-later",
        "--published-on",
        "2026-03-25",
        *EVIDENCE,
    )
    assert "不足一个月" in posted.stderr
    before = dump(db_path)
    april = priced("bill", "--period", "2026-04", "--as-of", "2026-04-01")
    assert april.exit_code == 1
    assert "最早 2026-04-25 起才能按新价收费" in april.stderr
    assert "--instead-of 2026-04-01" in april.stderr
    assert dump(db_path) == before
    moved = priced(
        "fees",
        "set-price",
        "PROP",
        "--price",
        "2.80",
        "--from",
        "2026-05-01",
        "--instead-of",
        "2026-04-01",
    )
    assert moved.exit_code == 0 and "已于 2026-03-25 公示" in moved.stdout
    billed = json.loads(
        priced("bill", "--period", "2026-04", "--as-of", "2026-04-01", "--format", "json").stdout
    )
    assert billed["total"] == "250.00"  # the old price, as posted


# ---------------------------------------------------------------- rule 8: upward corrections


def test_an_upward_correction_needs_a_published_basis_and_an_approver(priced, tmp_path, db_path):
    priced("fees", "publish", "--recorded-later", "--published-on", "2020-01-01", *EVIDENCE)
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    before = dump(db_path)
    up = ("adjust", "1", "--amount", "500", "--kind", "correction", "--reason", "补收")
    bare = priced(*up, "--approved-by", "王经理")
    assert bare.exit_code == 1 and "--basis-ref" in bare.stderr
    unknown = priced(*up, "--approved-by", "王经理", "--basis-ref", "GYM")
    assert unknown.exit_code == 1 and "没有这个收费项目" in unknown.stderr
    nobody = priced(*up, "--approved-by", "x", "--basis-ref", "PROP")
    assert nobody.exit_code == 1 and "批准人" in nobody.stderr
    assert dump(db_path) == before
    done = priced(*up, "--approved-by", "王经理", "--basis-ref", "PROP", "--as-of", "2026-11-20")
    assert done.exit_code == 0, done.output
    conn = db.connect(db_path)
    row = conn.execute("SELECT basis_ref, approved_by, approved_on FROM adjustment").fetchone()
    assert tuple(row) == ("PROP 物业服务费 ¥2.50元/㎡·月，2020-01-01 公示", "王经理", "2026-11-20")
    conn.close()


# ---------------------------------------------------------------- rule 11: 酬金制 approvals


@pytest.fixture
def commission(priced, tmp_path):
    priced("fees", "publish", "--recorded-later", "--published-on", "2020-01-01", *EVIDENCE)
    priced("bill", "--period", "2026-11", "--as-of", "2026-11-01")
    return settings_file(tmp_path, '[billing]\nfee_model = "酬金制"\n')


@pytest.mark.parametrize(
    "kind,extra,error",
    [
        ("correction", (), "--approval-ref"),  # the case: a correction down passed
        ("correction", ("--approval-ref", "x"), "不像批准文号"),
        ("waiver", ("--approval-ref", "x"), "不像批准文号"),  # "x" was accepted
        ("discount", ("--approval-ref", "同意"), "不像批准文号"),
        ("waiver", ("--approval-ref", "业委会决议2026-03", "--approved-on", "2026-12-01"), "晚于"),
    ],
)
def test_every_reduction_under_the_commission_model_needs_a_shaped_approval(
    priced, commission, db_path, kind, extra, error
):
    before = dump(db_path)
    result = priced(
        "adjust",
        "1",
        "--amount",
        "-10",
        "--kind",
        kind,
        "--reason",
        "更正面积",
        "--approved-by",
        "王经理",
        "--as-of",
        "2026-11-20",
        "--config",
        commission,
        *extra,
    )
    assert result.exit_code == 1 and error in result.stderr
    assert dump(db_path) == before


@pytest.mark.parametrize("ref", ["业委会决议2026-03", "业委发〔二〇二六〕三号", "OA-1104"])
def test_a_shaped_approval_is_recorded_with_who_and_when(priced, commission, db_path, ref):
    result = priced(
        "adjust",
        "1",
        "--amount",
        "-10",
        "--kind",
        "correction",
        "--reason",
        "更正面积",
        "--approved-by",
        "业委会",
        "--approval-ref",
        ref,
        "--approved-on",
        "2026-11-18",
        "--as-of",
        "2026-11-20",
        "--config",
        commission,
    )
    assert result.exit_code == 0, result.output
    conn = db.connect(db_path)
    row = conn.execute("SELECT approved_by, approval_ref, approved_on FROM adjustment").fetchone()
    assert tuple(row) == ("业委会", ref, "2026-11-18")
    conn.close()


def test_settings_discounts_under_the_commission_model_need_the_owners_reference(
    priced, tmp_path, db_path
):
    priced("fees", "publish", "--recorded-later", "--published-on", "2020-01-01", *EVIDENCE)
    vacant = settings_file(tmp_path, '[billing]\nfee_model = "酬金制"\nvacancy_discount = "0.3"\n')
    refused = priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--config", vacant)
    assert refused.exit_code == 1
    assert (
        "billing.discount_approval_ref 必填" in refused.stderr and "propfee.toml" in refused.stderr
    )
    shapeless = settings_file(
        tmp_path,
        '[billing]\nfee_model = "酬金制"\nprepay_months = 12\nprepay_discount = "0.05"\n'
        'discount_approval_ref = "x"\n',
    )
    bad = priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--config", shapeless)
    assert bad.exit_code == 1 and "不像批准文号" in bad.stderr
    good = settings_file(
        tmp_path,
        '[billing]\nfee_model = "酬金制"\nvacancy_discount = "0.3"\n'
        'discount_approval_ref = "业委会决议〔2026〕3号"\n',
    )
    vacant_home = [ROSTER[0], ["1-1-102", "住宅", "100", "李四", "", "2020-01-01", "空置"]]
    vacant_home[0] = ROSTER[0] + ["入住状态"]
    priced("import-units", str(write_csv(tmp_path / "more.csv", vacant_home)))
    billed = priced("bill", "--period", "2026-11", "--as-of", "2026-11-01", "--config", good)
    assert billed.exit_code == 0, billed.output
    conn = db.connect(db_path)
    rows = conn.execute("SELECT approved_by, approval_ref, approved_on FROM adjustment").fetchall()
    assert [tuple(r) for r in rows] == [("settings", "业委会决议〔2026〕3号", "2026-11-01")]
    conn.close()


# ---------------------------------------------------------------- rule 10: privacy by default

PERSON = ["房号", "房屋类型", "建筑面积", "业主", "手机号", "身份证号", "交付日期"]


def test_export_units_masks_by_default_and_an_export_in_full_is_on_the_trail(
    cli, tmp_path, db_path
):
    from conftest import valid_id

    person = valid_id()
    roster = [PERSON, ["1-1-101", "住宅", "100", "张三", "13812341234", person, "2020-01-01"]]
    assert cli("import-units", str(write_csv(tmp_path / "r.csv", roster))).exit_code == 0
    masked = tmp_path / "masked.csv"
    assert cli("export-units", str(masked)).exit_code == 0
    text = masked.read_text(encoding="utf-8-sig")
    assert "138****1234" in text and "13812341234" not in text and person not in text
    assert oct(masked.stat().st_mode & 0o777) == "0o600"
    # the masked file imported back leaves the stored phone and ID as they were
    before = dump(db_path)
    again = json.loads(cli("import-units", str(masked), "--format", "json").stdout)
    assert again["unchanged"] == 1 and dump(db_path) == before
    shown = json.loads(cli("units", "show", "1-1-101", "--no-mask", "--format", "json").stdout)
    assert (shown["phone"], shown["id_number"]) == ("13812341234", person)
    full = tmp_path / "full.csv"
    done = cli("export-units", str(full), "--no-mask", "--operator", "李会计")
    assert done.exit_code == 0 and "13812341234" in full.read_text(encoding="utf-8-sig")
    (entry,) = json.loads(cli("audit", "--command", "export-units", "-f", "json").stdout)["rows"]
    assert (entry["operator"], entry["args"]["mask"]) == ("李会计", False)
    assert entry["changes"]["unmasked"]["rows"] == 1


def test_the_demo_writes_its_personal_data_files_for_the_owner_only(engine, tmp_path, request):
    """The demo's files of people's data are its owner's only (and on SQLite the database
    file too; on a server there is none in the folder)."""
    demo = build_demo(engine, tmp_path / "demo", request, "--as-of", "2026-11-20")
    files = {p.name: p.stat().st_mode & 0o777 for p in demo.folder.rglob("*") if p.is_file()}
    private = ["roster.xlsx", "微信支付账单-202611.csv", "满意度调查-2026.xlsx"]
    if not pg.is_server(demo.database):
        private.append(Path(demo.database).name)
    for name in private:
        assert files.pop(name) == 0o600, name
    assert files.pop("满意度调查-2025.xlsx") == 0o600
    public = {n for n in files if n.startswith("收费公示") or n == "propfee.toml"}
    assert {n: m for n, m in files.items() if n not in public and m != 0o600} == {}


# ---------------------------------------------------------------- rule 9: who pays


NO_DELIVERY = [
    ["房号", "房屋类型", "建筑面积", "业主", "手机号"],
    ["1-1-101", "住宅", "100", "张三", ""],
]


def parties_billed(database):
    conn = db.connect(database)
    rows = conn.execute(
        "SELECT b.covers_from, b.covers_to, p.name FROM bill b JOIN party p ON p.id = b.party_id "
        "ORDER BY b.id"
    ).fetchall()
    conn.close()
    return [tuple(r) for r in rows]


def test_a_home_without_a_delivery_date_is_the_developers_until_the_user_says_so(
    cli, tmp_path, database
):
    # the case: an owner imported without 交付日期 was billed from the first period
    imported = cli("import-units", str(write_csv(tmp_path / "r.csv", NO_DELIVERY)))
    assert imported.exit_code == 0
    assert "无交付日期、由开发建设单位缴费：1 套" in imported.stdout
    assert "--owner-pays-from-import" in imported.stderr
    cli(*PROP_FEE)
    cli("fees", "publish", "--recorded-later", "--published-on", "2020-01-01", *EVIDENCE)
    assert cli("bill", "--period", "2026-10", "--as-of", "2026-10-01").exit_code == 0
    assert parties_billed(database) == [("2026-10-01", "2026-10-31", "开发建设单位")]
    told = cli(
        "import-units",
        str(write_csv(tmp_path / "r.csv", NO_DELIVERY)),
        "--owner-pays-from-import",
        "--as-of",
        "2026-11-10",
        "--format",
        "json",
    )
    report = json.loads(told.stdout)
    assert (report["owner_pays_from_import"], report["billed_to_developer"]) == (1, 0)
    assert cli("bill", "--period", "2026-11", "--as-of", "2026-11-01").exit_code == 0
    assert parties_billed(database)[1:] == [
        ("2026-11-01", "2026-11-09", "开发建设单位"),
        ("2026-11-10", "2026-11-30", "张三"),
    ]


def test_a_corrected_delivery_date_rebills_the_developers_days_in_the_same_command(
    cli, tmp_path, database
):
    # the case: after the delivery date was corrected, remind kept asking the buyer
    # for the developer's months until someone ran rebill by hand
    first = [ROSTER[0], ["1-1-101", "住宅", "100", "张三", "13812341234", "2026-09-01"]]
    cli("import-units", str(write_csv(tmp_path / "r.csv", first)))
    cli(*PROP_FEE)
    cli("fees", "publish", "--recorded-later", "--published-on", "2020-01-01", *EVIDENCE)
    cli("bill", "--from", "2026-09", "--through", "2026-11", "--as-of", "2026-11-01")
    assert {p for _, _, p in parties_billed(database)} == {"张三"}
    corrected = [ROSTER[0], ["1-1-101", "住宅", "100", "张三", "13812341234", "2026-11-16"]]
    result = cli(
        "import-units", str(write_csv(tmp_path / "r2.csv", corrected)), "--as-of", "2026-11-20"
    )
    assert result.exit_code == 0, result.output
    assert "改开" in result.stdout and "rebill" not in result.stderr
    shown = json.loads(cli("units", "show", "1-1-101", "--format", "json").stdout)
    owed_by = {}
    for bill in shown["bills"]:
        owed_by.setdefault(bill["party"], []).append((bill["covers_from"], bill["outstanding"]))
    # the buyer owes only from delivery: half of November (bills are never edited: the
    # November bill keeps its amount, less a correction of the developer's 15 days)
    assert [(f, fen) for f, fen in owed_by["张三"] if fen != "0.00"] == [("2026-11-01", "125.00")]
    assert {f for f, _ in owed_by["开发建设单位"]} == {"2026-09-01", "2026-10-01", "2026-11-01"}
    reminded = cli("remind", "--as-of", "2026-12-20", "--out", str(tmp_path / "催缴"))
    assert reminded.exit_code == 0, reminded.output
    letters = (tmp_path / "催缴" / "催缴通知书-2026-12-20.html").read_text(encoding="utf-8")
    developer, buyer = letters.split("张三（1-1-101")
    assert "2026-09-01 至 2026-09-30" in developer and "2026-10-01 至 2026-10-31" in developer
    assert "2026-09" not in buyer and "2026-10" not in buyer and "125.00" in buyer
