"""Work that must stay linear in the estate's size: the number of SQL statements a command
runs does not grow with the number of units or parties (timings belong in bench/run.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import propfee.cli.common
from propfee.files.shipped import shipped_dir
from propfee.insight import group_store
from propfee.payments import opening

from conftest import PROP_FEE, database_in, query, write_csv

HEADER = ["房号", "房屋类型", "建筑面积", "业主", "手机号", "交付日期"]


@pytest.fixture
def traced(monkeypatch):
    """Every SQL statement the command's connection runs, in order."""
    statements: list[str] = []

    def traces(connect):
        def tracing(*args, **kwargs):
            conn = connect(*args, **kwargs)
            conn.set_trace_callback(statements.append)
            return conn

        return tracing

    for name in ("connect", "connect_server"):  # a file, or an estate on a server
        monkeypatch.setattr(propfee.cli.common, name, traces(getattr(propfee.cli.common, name)))
    return statements


def billed_estate(cli, folder, homes: int, database=None):
    """``homes`` units, each its own owner (one with no phone, one developer-held block of
    two units), billed for October (left unpaid: arrears) and November 2026; one owner paid
    more than both bills, so has credit left. In ``folder``/propfee.db, or beside the test's
    ``database`` on its engine (an estate of its own on [pg])."""
    folder.mkdir()
    db = folder / "propfee.db" if database is None else database_in(database, folder)
    rows = [HEADER]
    for n in range(homes):
        phone = "" if n == 1 else f"139{n:08d}"
        rows.append([f"1-1-{101 + n}", "住宅", "89.37", f"业主{n:03d}", phone, "2020-01-01"])
    rows.append(["9-1-101", "住宅", "100", "", "", ""])  # the developer's, not delivered
    rows.append(["9-1-102", "住宅", "100", "", "", ""])
    assert cli("import-units", str(write_csv(folder / "roster.csv", rows)), db=db).exit_code == 0
    assert cli(*PROP_FEE, db=db).exit_code == 0
    published = cli(
        "fees", "publish", "--out", str(folder), "--recorded-later",
        "--published-on", "2020-01-01", "--evidence", "公示照片 IMG_0231.jpg", db=db,
    )  # fmt: skip
    assert published.exit_code == 0
    for month in ("2026-10", "2026-11"):
        billed = cli("bill", "--period", month, "--as-of", f"{month}-01", db=db)
        assert billed.exit_code == 0, billed.output
    paid = cli(
        "pay", "1-1-101", "500", "--channel", "cash", "--date", "2026-11-02",
        "--as-of", "2026-11-02", db=db,
    )  # fmt: skip
    assert paid.exit_code == 0, paid.output
    return db


def notice_statements(cli, traced, tmp_path, homes: int, database) -> tuple[int, str]:
    db = billed_estate(cli, tmp_path / f"estate-{homes}", homes, database)
    traced.clear()
    out = tmp_path / f"notices-{homes}"
    result = cli(
        "notices", "--period", "2026-11", "--as-of", "2026-11-20", "--out", str(out), db=db
    )
    assert result.exit_code == 0, result.output
    assert f"通知单 {homes + 1} 张" in result.stdout
    return len(traced), (out / "缴费通知单-2026-11.html").read_text(encoding="utf-8")


def test_notices_run_the_same_statements_for_4_or_24_homes(cli, traced, tmp_path, database):
    small, _ = notice_statements(cli, traced, tmp_path, 4, database)
    large, html = notice_statements(cli, traced, tmp_path, 24, database)
    # a query per party (its arrears, its credit) made a run of 20,000 homes take minutes
    assert small and large == small
    # and the batched reading still finds each party's arrears and credit
    assert html.count('<section class="notice">') == 25
    assert html.count("往期未缴：") == 24  # October is unpaid for every party but 1-1-101…
    assert html.count("预存余额") == 1  # …whose ¥500 paid October and November (¥223.43 each)
    assert "预存余额 ¥53.14" in html
    assert "9-1-101、9-1-102" in html  # the developer's two units on one notice


def remind_statements(cli, traced, tmp_path, homes: int, database) -> tuple[int, Path, Path]:
    db = billed_estate(cli, tmp_path / f"estate-{homes}", homes, database)
    traced.clear()
    out = tmp_path / f"remind-{homes}"
    result = cli("remind", "--as-of", "2026-12-20", "--at", "10:00", "--out", str(out), db=db)
    assert result.exit_code == 0, result.output
    # executemany traces each row it inserts: the contact rows are counted apart
    return len([s for s in traced if not s.startswith("INSERT INTO contact ")]), db, out


def test_remind_runs_the_same_statements_for_4_or_24_homes(cli, traced, tmp_path, database):
    small, _, _ = remind_statements(cli, traced, tmp_path, 4, database)
    large, db, out = remind_statements(cli, traced, tmp_path, 24, database)
    # the notice counter is read and written once, not once per letter
    assert small and large == small
    letters = query(db, "SELECT notice_no FROM contact WHERE channel = 'letter' ORDER BY id")
    ((counter,),) = query(db, "SELECT last FROM notice_counter WHERE year = 2026")
    # 23 owners with October and November unpaid, and the developer's two units in one letter
    assert len(letters) == 25 and len({n for (n,) in letters}) == 24
    assert counter == 24  # the next run goes on from 催2026-0025
    numbers = sorted({n for (n,) in letters})
    assert numbers == [f"催2026-{k:04d}" for k in range(1, 25)]
    html = (out / "催缴通知书-2026-12-20.html").read_text(encoding="utf-8")
    assert html.count('<section class="letter') == 24
    assert all(n in html for n in numbers)


OWN_RUNS = {  # a command that writes documents, and its options over billed_estate
    "notices": ("--period", "2026-11", "--as-of", "2026-11-20"),
    "remind": ("--as-of", "2026-12-20", "--at", "10:00"),
}


def with_own_template(cli, tmp_path, database, command: str, name: str, text: str):
    """Run ``command`` (notices or remind) over a billed estate of 3 homes whose settings
    point at a template folder holding ``text`` as ``zh/{name}`` (the estate's own template
    wins over the shipped one): (result, the output folder, the database)."""
    db = billed_estate(cli, tmp_path / "estate", 3, database)
    mine = tmp_path / "mine" / "zh"
    mine.mkdir(parents=True)
    (mine / name).write_text(text, encoding="utf-8")
    toml = tmp_path / "propfee.toml"
    toml.write_text(f'template_dir = "{tmp_path / "mine"}"\n', encoding="utf-8")
    out = tmp_path / command
    result = cli(command, *OWN_RUNS[command], "--out", str(out), "--config", str(toml), db=db)
    return result, out, db


def shipped_letter() -> str:
    return (shipped_dir("templates") / "zh" / "notice_letter.html").read_text(encoding="utf-8")


def test_a_template_that_fails_half_way_leaves_no_file(cli, tmp_path, database):
    # the notices are written piece by piece: the first notice is out before the error
    result, out, _ = with_own_template(
        cli, tmp_path, database, "notices", "bill_notice.html",
        "{% for n in notices %}<p>{{ n.party.name }}</p>{% if loop.last %}{{ no_such_thing }}"
        "{% endif %}{% endfor %}",
    )  # fmt: skip
    assert result.exit_code == 1 and "no_such_thing" in result.output
    assert not out.exists()  # no half a document, no .part file


def thanks_statements(cli, traced, tmp_path, homes: int, database) -> tuple[int, str]:
    _, db, _ = remind_statements(cli, traced, tmp_path, homes, database)
    for n in range(1, homes):  # every owner clears October and November (1-1-101 had paid)
        paid = cli(
            "pay", f"1-1-{101 + n}", "446.86", "--channel", "cash", "--date", "2026-12-21",
            "--as-of", "2026-12-21", db=db,
        )  # fmt: skip
        assert paid.exit_code == 0, paid.output
    traced.clear()
    out = tmp_path / f"thanks-{homes}"
    result = cli(
        "remind", "--thanks", "--as-of", "2026-12-22", "--at", "10:00", "--out", str(out),
        db=db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    statements = len([s for s in traced if not s.startswith("INSERT INTO contact ")])
    return statements, (out / "thanks.csv").read_text(encoding="utf-8-sig")


def test_thanks_run_the_same_statements_for_4_or_24_homes(cli, traced, tmp_path, database):
    small, _ = thanks_statements(cli, traced, tmp_path, 4, database)
    large, sent = thanks_statements(cli, traced, tmp_path, 24, database)
    # whether a party was thanked already and its units' codes: read once, not per party
    assert small and large == small
    lines = sent.splitlines()
    # every owner reminded and now paid up, but the one with no phone (1-1-102); never the
    # developer (still owing), nor 1-1-101 (never reminded)
    assert len(lines) == 1 + 22
    assert "1-1-103" in sent and "1-1-124" in sent
    assert "1-1-102" not in sent and "9-1-101" not in sent and "1-1-101" not in sent


def test_a_letter_refused_by_the_gate_half_way_leaves_no_file(cli, tmp_path, database):
    # the second letter (and only it) says what LEGAL rule 1 forbids, after the first went out
    threat = "{% if loop.index == 2 %}<p>逾期将停水停电。</p>{% endif %}"
    letter = shipped_letter().replace("{% for l in letters %}", "{% for l in letters %}" + threat)
    result, out, db = with_own_template(
        cli, tmp_path, database, "remind", "notice_letter.html", letter
    )
    assert result.exit_code == 1 and "停水" in result.output
    assert not out.exists()  # no letters, no call list, no .part file
    assert query(db, "SELECT count(*) FROM contact") == [(0,)]


def test_a_template_that_names_each_letter_after_the_next_is_asked_for(cli, tmp_path, database):
    """A template may look one letter ahead (loop.last): its text is checked with the letters
    it speaks of, and the file is the same as a whole render would make."""
    ahead = "{% if loop.last %}<!-- last -->{% endif %}"
    title = "<h1>物业服务费催缴通知书</h1>"
    letter = shipped_letter().replace(title, title + ahead)
    result, out, _ = with_own_template(
        cli, tmp_path, database, "remind", "notice_letter.html", letter
    )
    assert result.exit_code == 0, result.output
    html = (out / "催缴通知书-2026-12-20.html").read_text(encoding="utf-8")
    assert html.count('<section class="letter') == 3 and html.count("<!-- last -->") == 1
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_phrase_cut_between_two_notices_is_still_refused(cli, tmp_path, database):
    """Each notice passes the gate on its way into the file; what a reader sees across the
    end of one and the start of the next is checked too."""
    result, out, _ = with_own_template(
        cli, tmp_path, database, "notices", "bill_notice.html",
        "{% for n in notices %}<span>{% if loop.index == 2 %}停{% elif loop.index == 3 %}水"
        "{% else %}{{ n.party.name }}{% endif %}</span>{% endfor %}",
    )  # fmt: skip
    assert result.exit_code == 1 and "停水" in result.output
    assert not out.exists()


WECHAT_HEAD = [
    ["微信支付账单明细"],
    ["----------------------微信支付账单明细列表--------------------"],
    ["交易时间", "交易类型", "交易对方", "商品", "收/支", "金额(元)", "支付方式", "当前状态",
     "交易单号", "商户单号", "备注"],
]  # fmt: skip


def reconcile_statements(cli, traced, tmp_path, lines: int, database) -> tuple[int, list[str], str]:
    """Reconcile a WeChat export of ``lines`` payments (each naming its unit, one paying two
    months ahead), one line naming no unit and one refund, into a billed estate of 24 homes."""
    db = billed_estate(cli, tmp_path / f"estate-{lines}", 24, database)
    rows = [*WECHAT_HEAD]
    for n in range(lines):
        memo = f"转账备注:1-1-{101 + n}物业费" + (" 2026年11月" if n == 2 else "")
        rows.append(
            [f"2026-11-{3 + n % 20:02d} 10:00:00", "转账", f"业主{n:03d}", memo, "收入",
             "¥300.00", "/", "已存入零钱", f"10000500{n + 1:022d}\t", "/", "/"]
        )  # fmt: skip
    rows.append(
        ["2026-11-25 10:00:00", "转账", "陌生人", "物业费", "收入", "¥88.00", "/", "已存入零钱",
         f"10000599{77:022d}\t", "/", "/"]
    )  # fmt: skip
    rows.append(
        ["2026-11-26 10:00:00", "转账", "业主000", "转账备注:1-1-101物业费", "支出", "¥300.00",
         "/", "已全额退款", f"10000500{1:022d}\t", "/", "/"]
    )  # fmt: skip
    statement = write_csv(tmp_path / f"wechat-{lines}.csv", rows)
    traced.clear()
    result = cli("reconcile", str(statement), "--as-of", "2026-12-01", "--format", "json", db=db)
    assert result.exit_code == 0, result.output
    # the command's own statements (not those SQLite runs inside its full-text index), with
    # their values taken out: an executemany runs its one statement once per row
    mine = [_shape(s) for s in traced if not s.startswith("--")]
    reads = [s for s in mine if s.startswith(("SELECT", "WITH"))]
    return reads, sorted(set(mine)), result.stdout


def _shape(statement: str) -> str:
    """A statement with its values taken out, and the rows of an INSERT of many rows as one."""
    shape = re.sub(r"\b\d+\b", "?", re.sub(r"'(?:[^']|'')*'", "?", statement)).strip()
    return re.sub(r"(\([^()]*\))(?:, \1)+", r"\1", shape)


def test_reconcile_runs_the_same_statements_for_4_or_20_lines(cli, traced, tmp_path, database):
    small, small_kinds, _ = reconcile_statements(cli, traced, tmp_path, 4, database)
    large, large_kinds, out = reconcile_statements(cli, traced, tmp_path, 20, database)
    # no query per line (its unit's open bills, its transaction number): a 100k-line export
    # reads what a 4-line one does, and writes with the same statements (of one or many rows)
    assert small and large == small
    assert large_kinds == small_kinds
    report = json.loads(out)
    assert len(report["recorded"]) == 20 and len(report["needs_review"]) == 1
    assert [r["receipt"] for r in report["refunds"]] == ["2026-000002"]


def test_a_months_first_run_counts_nothing_and_a_rerun_finds_it_billed(
    cli, traced, tmp_path, database
):
    """A month no bill of the item covers yet is billed without counting, unit by unit,
    whether each is billed; the month again finds every unit billed; a home added since is
    the one unit billed by a third run."""
    db = billed_estate(cli, tmp_path / "estate", 4, database)
    counting = "count(*) - coalesce(sum("

    def bill() -> dict:
        traced.clear()
        result = cli(
            "bill", "--period", "2026-12", "--as-of", "2026-12-01", "--format", "json", db=db
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = bill()
    assert (first["created"], first["already_billed"]) == (6, 0)  # 4 homes, 2 developer's
    assert not [s for s in traced if counting in s]
    again = bill()
    assert (again["created"], again["already_billed"]) == (0, 6)
    assert [s for s in traced if counting in s]
    rows = [HEADER]
    rows += [[f"1-1-{101 + n}", "住宅", "89.37", f"业主{n:03d}", "", "2020-01-01"] for n in range(4)]
    rows.append(["1-1-199", "住宅", "100", "新业主", "13900000199", "2020-01-01"])
    roster = write_csv(tmp_path / "roster.csv", rows)
    assert cli("import-units", str(roster), db=db).exit_code == 0
    third = bill()
    assert (third["created"], third["already_billed"]) == (1, 6)
    assert third["by_item"] == {"PROP": {"bills": 1, "total": "250.00"}}


@pytest.fixture
def stepped(monkeypatch):
    """How many steps of SQLite's virtual machine the command's statements take: the rows
    they visit, counted the same on any machine (an SQLite file only)."""
    steps = [0]

    def step() -> int:
        steps[0] += 1
        return 0

    def counts(connect):
        def counting(*args, **kwargs):
            conn = connect(*args, **kwargs)
            conn.set_progress_handler(step, 1)
            return conn

        return counting

    monkeypatch.setattr(propfee.cli.common, "connect", counts(propfee.cli.common.connect))
    return steps


def steps_of(cli, stepped, db, *command: str) -> tuple[int, str]:
    stepped[0] = 0
    result = cli(*command, db=db)
    assert result.exit_code == 0, result.output
    return stepped[0], result.stdout


@pytest.mark.sqlite_only
def test_rebilling_one_unit_reads_no_more_in_an_estate_of_24_homes(cli, stepped, tmp_path):
    """A roster import re-bills each unit whose owner or delivery changed: reading every
    unit, who held it and every party's name for each made an import of a few thousand sales
    take minutes on a large estate."""
    counted = []
    for homes in (4, 24):
        db = billed_estate(cli, tmp_path / f"estate-{homes}", homes)
        sale = ("--phone", "13912345678", "--date", "2026-11-16", "--as-of", "2026-11-20")
        _, sold = steps_of(cli, stepped, db, "units", "sell", "1-1-103", "--to", "新业主", *sale)
        assert "新业主" in sold
        rebill = ("rebill", "1-1-103", "--from", "2026-11-01", "--as-of", "2026-11-20")
        steps, out = steps_of(cli, stepped, db, *rebill)
        counted.append(steps)
        # November's days from the 16th went to the buyer at the sale; the rest stay
        assert "1-1-103" in out
        assert query(db, "SELECT count(*) FROM bill WHERE party_id = (SELECT id FROM party "
                         "WHERE name = '新业主')") == [(1,)]  # fmt: skip
    small, large = counted
    assert small and large - small < 20  # 20 more homes: not a row of theirs read


@pytest.mark.sqlite_only
def test_a_legal_pack_reads_no_more_in_an_estate_of_24_homes(cli, stepped, tmp_path):
    """The pack of one unit reads that unit's open bills for their limitation clocks, not
    every open bill of the estate."""
    counted = []
    for homes in (4, 24):
        db = billed_estate(cli, tmp_path / f"estate-{homes}", homes)
        out = tmp_path / f"pack-{homes}"
        steps, said = steps_of(
            cli, stepped, db, "legal-pack", "1-1-104", "--out", str(out), "--as-of", "2026-12-20"
        )
        counted.append(steps)
        assert "欠费 ¥446.86" in said  # October and November, unpaid
        assert "2026-10" in (out / "00-摘要.html").read_text(encoding="utf-8")
    small, large = counted
    assert small and large - small < 20


@pytest.mark.sqlite_only
def test_a_sale_reads_no_more_in_an_estate_of_24_homes(cli, stepped, tmp_path):
    """Recording a sale finds the buyer among the parties of the buyer's name, not among
    every party on record; a buyer who owns another home stays one party."""
    counted = []
    for homes in (4, 24):
        db = billed_estate(cli, tmp_path / f"estate-{homes}", homes)
        sale = ("--phone", "13900000002", "--date", "2026-11-16", "--as-of", "2026-11-20")
        steps, _ = steps_of(cli, stepped, db, "units", "sell", "1-1-104", "--to", "业主002", *sale)
        counted.append(steps)
        assert query(db, "SELECT count(*) FROM party WHERE name = '业主002'") == [(1,)]
        owners = "SELECT u.code FROM occupancy o JOIN unit u ON u.id = o.unit_id JOIN party p "
        owners += "ON p.id = o.party_id WHERE p.name = '业主002' AND o.end_on IS NULL ORDER BY 1"
        assert query(db, owners) == [("1-1-103",), ("1-1-104",)]
    small, large = counted
    assert small and large - small < 20


def _two_cases(cli, db) -> None:
    """Two repair requests, opened on 1 and 18 December 2026."""
    for unit, at in (("1-1-101", "2026-12-01 09:00"), ("1-1-102", "2026-12-18 09:00")):
        added = cli(
            "complain", "add", unit, "--kind", "request", "--category", "维修",
            "--description", "楼道灯不亮", "--at", at, db=db,
        )  # fmt: skip
        assert added.exit_code == 0, added.output


def test_today_reads_the_cases_once(cli, traced, tmp_path, database):
    """today counts the cases past their deadline, due soon and awaiting a visit in one pass
    over the cases, not one replay of every case ever opened for each count."""
    db = billed_estate(cli, tmp_path / "estate", 4, database)
    _two_cases(cli, db)
    traced.clear()
    result = cli("today", "--as-of", "2026-12-20", "--format", "json", db=db)
    assert result.exit_code == 0, result.output
    every_case = "FROM complaint c LEFT JOIN unit u ON u.id = c.unit_id LEFT JOIN party p ON "
    every_case += "p.id = c.party_id WHERE c.opened_at <="
    assert len([s for s in traced if every_case in s]) == 1  # (a fee dispute is read apart)
    lines = {line["key"]: line["count"] for line in json.loads(result.stdout)["rows"]}
    listed = cli("complain", "list", "--overdue", "--at", "2026-12-20 23:59", "-f", "json", db=db)
    assert lines["complaints_overdue"] == len(json.loads(listed.stdout)["rows"]) == 1
    assert lines["visits_due"] == 0


@pytest.mark.sqlite_only
def test_a_call_list_read_back_reads_no_more_in_an_estate_of_24_homes(cli, stepped, tmp_path):
    """Reading back a filled call list reads its own units (who pays for each, their oldest
    unpaid bill), not every unit and every open bill of the estate."""
    counted = []
    for homes in (4, 24):
        db = billed_estate(cli, tmp_path / f"estate-{homes}", homes)
        calls = [["房号", "联系结果", "承诺缴费日期", "联系时间", "备注"]]
        calls.append(["1-1-103", "承诺缴费", "2026-12-10", "2026-12-05 14:30", ""])
        calls.append(["1-1-104", "空号", "", "2026-12-05 15:00", "换号了"])
        path = write_csv(tmp_path / f"calls-{homes}.csv", calls)
        command = ("contact", "import", str(path), "--staff", "王会计")
        steps, said = steps_of(cli, stepped, db, *command)
        counted.append(steps)
        assert "记录联系 2 条" in said
        logged = "SELECT u.code, c.outcome, c.bill_id IS NOT NULL, p.name FROM contact c "
        logged += "JOIN unit u ON u.id = c.unit_id JOIN party p ON p.id = c.party_id ORDER BY 1"
        assert query(db, logged) == [
            ("1-1-103", "promised", 1, "业主002"), ("1-1-104", "unreachable", 1, "业主003")
        ]  # fmt: skip
    small, large = counted
    assert small and large - small < 20


def lines_run_in(module_file: str, run) -> int:
    """How many lines of ``module_file`` Python runs while ``run()`` runs: the work its loops
    do, counted the same on any machine."""
    count = 0

    def tracer(frame, event, _arg):
        nonlocal count
        if frame.f_code.co_filename == module_file:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_opening_balances_check_each_row_against_its_own_unit_and_item(cli, tmp_path, database):
    """A row of import-history is checked for overlap against the file's earlier rows of the
    same unit and fee item, not against every earlier row: an estate's history of 60,000 rows
    took four minutes."""
    counted = []
    for homes in (10, 40):
        db = billed_estate(cli, tmp_path / f"estate-{homes}", homes, database)
        rows = [["房号", "收费项目", "所属期间", "应收金额", "实收金额", "缴费日期"]]
        for n in range(homes):
            for month in (1, 2, 3, 4):
                rows.append([f"1-1-{101 + n}", "物业服务费", f"2025-{month:02d}", "120.00",
                             "120.00", f"2025-{month:02d}-10"])  # fmt: skip
        history = write_csv(tmp_path / f"history-{homes}.csv", rows)

        def run(history=history, db=db, homes=homes) -> None:
            result = cli("import-history", str(history), db=db)
            assert result.exit_code == 0, result.output
            assert f"期初账单 {homes * 4} 条" in result.stdout

        counted.append(lines_run_in(opening.__file__, run))
    small, large = counted
    # four times the rows, four times the lines run (and no more): not sixteen times
    assert small and large < 4 * small + 200, (small, large)


@pytest.mark.sqlite_only
def test_a_group_report_sums_the_arrears_in_sql_and_reads_the_cases_once(
    cli, tmp_path, monkeypatch
):
    """An estate's line of the group report takes its overdue households and amount from
    the totals summed in SQL (as today does), not from every open bill listed and held, and
    counts its cases in one pass."""
    statements: list[str] = []
    opened = group_store.open_file_read_only

    def tracing(path):
        conn = opened(path)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(group_store, "open_file_read_only", tracing)
    db = billed_estate(cli, tmp_path / "estate", 4)
    _two_cases(cli, db)
    day = ("--as-of", "2026-12-20", "--format", "json")
    result = cli("group", "report", "--period", "2026-12", *day, db=db)
    assert result.exit_code == 0, result.output
    assert [s for s in statements if "sum(owed), min(due_on) FROM" in s]
    assert not [s for s in statements if "b.covers_from, b.covers_to, b.basis" in s]
    every_case = "LEFT JOIN party p ON p.id = c.party_id WHERE c.opened_at <="
    assert len([s for s in statements if every_case in s]) == 1
    (line,) = json.loads(result.stdout)["rows"]
    rows = json.loads(cli("overdue", *day, db=db).stdout)["rows"]
    assert line["overdue_units"] == len(rows) == 5  # 3 owners and the developer's two units
    assert line["complaints"] == {"received": 2, "open": 2, "past_deadline": 1}
