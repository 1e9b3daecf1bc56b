"""The legal evidence pack (LEGAL rule 12): every item, for a unit with history."""

import dataclasses
import zipfile
from datetime import date, datetime, time

from openpyxl import load_workbook

from propfee.collection import dunning
from propfee.config import DEFAULTS, LateFee
from propfee.store.db import transaction

from conftest import NOW, add_fee, contact, estate, home, pay, run, valid_id


def sheet(path):
    """The header and the body of a pack workbook: under its title block, without the 合计
    row."""
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert "本小区" in rows[0][0] and "截至" in rows[1][0]  # the title block
    return rows[3], [r for r in rows[4:] if r[0] not in (None, "合计")]


def test_the_pack_holds_every_item_for_a_unit_with_history(conn, tmp_path, cli):
    person = valid_id()
    estate(
        conn,
        tmp_path,
        [home("1-101", area="89.37", owner="张三", phone="13800000001")],
    )
    conn.execute("UPDATE party SET id_number = ? WHERE name = '张三'", (person,))
    conn.commit()
    add_fee(conn, services="公共区域保洁、绿化养护、秩序维护")
    run(conn, "2026-06", "2026-07", "2026-08", "2026-09", as_of=date(2026, 6, 1))
    pay(conn, "1-101", 22343, date(2026, 6, 10))
    contact(conn, "1-101", "reached", datetime(2026, 8, 1, 10), note="业主称出差")
    settings = dataclasses.replace(DEFAULTS, late_fee=LateFee(daily_rate="0.0005"))
    with transaction(conn):
        report = dunning.remind(
            conn, as_of=date(2026, 9, 20), at=time(10), now=NOW, settings=settings, out_dir=None
        )
    dunning_no = report.notices[0]
    with transaction(conn):
        dunning.deliver(conn, dunning_no, proof="EMS 1234567890123", on=date(2026, 9, 23), now=NOW)
    toml = tmp_path / "propfee.toml"
    toml.write_text('[late_fee]\ndaily_rate = "0.0005"\n', encoding="utf-8")
    out = tmp_path / "证据" / "1-101"
    (tmp_path / "证据").mkdir()
    result = cli(
        "legal-pack", "1-101", "--out", str(out), "--as-of", "2026-11-30", "--config", str(toml)
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "00-摘要.html",
        "01-各期账单明细.xlsx",
        "02-对账单.xlsx",
        "03-收费标准及公示.txt",
        "04-房屋面积及产权.xlsx",
        "05-催缴及联系记录.xlsx",
        "06-违约金计算.xlsx",
    ]
    with zipfile.ZipFile(out.with_suffix(".zip")) as archive:
        assert sorted(n.split("/")[1] for n in archive.namelist()) == names

    cover = (out / "00-摘要.html").read_text(encoding="utf-8")
    for needed in ("1-101", "89.37", "张三", person, "¥670.29", "每日万分之五", "送达"):
        assert needed in cover, needed

    header, bills = sheet(out / "01-各期账单明细.xlsx")
    assert "诉讼时效届满" in header
    owed = {row[1]: row[header.index("欠费")] for row in bills}
    assert owed["2026-06"] == 0 and owed["2026-09"] == 223.43
    ends = {row[1]: row[header.index("诉讼时效届满")] for row in bills}
    assert ends["2026-07"] == datetime(2029, 9, 23)  # the delivered notice restarted it

    header, lines = sheet(out / "02-对账单.xlsx")
    assert [line[1] for line in lines].count("实收") == 1

    standard = (out / "03-收费标准及公示.txt").read_text(encoding="utf-8")
    assert "2.50" in standard and "公示" in standard and "12358" in standard

    header, owners = sheet(out / "04-房屋面积及产权.xlsx")
    assert owners[0][header.index("电话")] == "13800000001"  # in full: it is for the court
    assert owners[0][header.index("证件号")] == person
    assert owners[0][header.index("建筑面积")] == 89.37

    header, contacts = sheet(out / "05-催缴及联系记录.xlsx")
    letter = next(row for row in contacts if row[header.index("通知书编号")] == dunning_no)
    assert "EMS 1234567890123" in letter[header.index("送达情况")]
    assert "诉讼" in letter[header.index("发送内容全文")]
    assert any("业主称出差" in (row[header.index("备注")] or "") for row in contacts)

    header, fees = sheet(out / "06-违约金计算.xlsx")
    july = next(row for row in fees if row[1] == "2026-07")
    # July: 223.43 due 07-15, unpaid to 11-30: 138 days × 0.0005 = 15.42
    assert july[header.index("计费天数")] == 138
    assert july[header.index("合同违约金")] == 15.42
    assert july[header.index("超过上限")] == "是"


def test_the_pack_refuses_a_folder_with_other_files(conn, tmp_path, cli):
    estate(conn, tmp_path, [home("1-101")])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("x", encoding="utf-8")
    result = cli("legal-pack", "1-101", "--out", str(busy), "--as-of", "2026-11-30")
    assert result.exit_code == 1 and "不是空文件夹" in result.output
    missing = cli("legal-pack", "9-999", "--out", str(tmp_path / "p"), "--as-of", "2026-11-30")
    assert missing.exit_code == 1 and "9-999" in missing.output


def test_the_pack_splits_the_late_fee_and_keeps_the_zip_private(conn, tmp_path):
    import os

    from propfee.collection import latefee
    from propfee.collection.legalpack import build

    estate(conn, tmp_path, [home("1-101", area="100", owner="张三", phone="13800000001")])
    add_fee(conn, "MGMT", price="1000", basis="fixed")
    run(conn, "2026-10", as_of=date(2026, 10, 1))
    # the clause as demanded (the cut to the court ceiling: test_lawful_collection.py)
    settings = dataclasses.replace(
        DEFAULTS, late_fee=LateFee(daily_rate="0.0005", cap_at_ceiling=False)
    )
    with transaction(conn):
        latefee.post(conn, "1-101", as_of=date(2026, 11, 14), now=NOW, settings=settings)
    pack = build(conn, "1-101", out_dir=tmp_path / "p", as_of=date(2026, 11, 24), settings=settings)
    cover = pack.files[0].read_text(encoding="utf-8")
    # 40 days × 0.50 = 20.00 by the clause; 15.00 posted (in the total), 5.00 not yet
    assert "按合同计算违约金 ¥20.00（已入账 ¥15.00" in cover and "未入账 ¥5.00" in cover
    assert "¥1,015.00" in cover  # the total unpaid holds the posted late fee once
    assert os.stat(pack.zip_path).st_mode & 0o777 == 0o600
    import pytest

    from propfee.core.errors import PropfeeError

    (tmp_path / "q").mkdir()
    (tmp_path / "q.zip").write_bytes(b"x")
    with pytest.raises(PropfeeError, match="已存在"):
        build(conn, "1-101", out_dir=tmp_path / "q", as_of=date(2026, 11, 24), settings=settings)
