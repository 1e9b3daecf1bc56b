"""propfee search: the trigram index for words of three characters or more, the table scan
for one or two, masking by default, the index following new rows, and the refusals."""

import json
import sqlite3

import pytest

from propfee.store import db, migrations

from conftest import ESTATE_HEADER, backup_suffix, dump, home, write_csv

AT = "2026-11-10 09:30"


@pytest.fixture
def office(cli, tmp_path):
    """Three homes, a repair case, a complaint and a logged call, all through the CLI."""
    roster = write_csv(
        tmp_path / "roster.csv",
        [
            ESTATE_HEADER,
            home("1-101", owner="张三", phone="13812341234"),
            home("1-102", owner="王五", phone="13900005678"),
            home("2-201", owner="陇原商贸有限公司", phone="0931-8765432"),
        ],
    )
    assert cli("import-units", str(roster), "--as-of", "2026-10-01").exit_code == 0
    for unit, kind, category, text in (
        ("1-101", "request", "维修", "卫生间漏水严重，楼下天花板有水渍"),
        ("1-102", "complaint", "噪音", "楼上装修太吵，请联系13977776666"),
    ):
        result = cli(
            "complain", "add", unit, "--kind", kind, "--category", category,
            "--description", text, "--at", AT,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    called = cli(
        "contact", "add", "2-201", "--channel", "phone", "--outcome", "promised",
        "--promise-date", "2026-11-20", "--note", "财务说月底前对公转账", "--at", AT,
    )  # fmt: skip
    assert called.exit_code == 0, called.output
    return cli


#: how a search of words of three characters or more is done: SQLite's FTS5 trigram index,
#: or on a server a read of the tables
BY_INDEX = {"lite": "fts", "pg": "like"}


def found(cli, *args):
    result = cli("search", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_word_inside_a_complaint_is_found_through_the_index(office, engine):
    document = found(office, "漏水严重")
    assert document["method"] == BY_INDEX[engine]
    (hit,) = document["rows"]
    assert (hit["kind"], hit["label"], hit["unit"], hit["date"]) == (
        "complaint",
        "报修",
        "1-101",
        "2026-11-10",
    )
    assert "卫生间漏水严重" in hit["snippet"]
    assert hit["command"] == "propfee complain show TS2026-0001"


def test_two_characters_are_found_by_reading_the_tables(office):
    document = found(office, "漏水")
    assert document["method"] == "like"
    assert [(h["label"], h["unit"]) for h in document["rows"]] == [("报修", "1-101")]
    assert found(office, "漏雨")["rows"] == []


def test_a_surname_finds_the_owner_with_the_phone_masked(office):
    document = found(office, "王")
    (owner,) = [h for h in document["rows"] if h["kind"] == "owner"]
    assert (owner["label"], owner["unit"], owner["command"]) == (
        "业主",
        "1-102",
        "propfee owners show 1-102",
    )
    assert "王五 139****5678" in owner["snippet"]
    assert "13900005678" not in json.dumps(document, ensure_ascii=False)


def test_a_phone_tail_finds_the_owner(office, engine):
    document = found(office, "1234")
    assert document["method"] == BY_INDEX[engine]
    assert [(h["label"], h["unit"]) for h in document["rows"]] == [("业主", "1-101")]
    assert "138****1234" in document["rows"][0]["snippet"]
    assert "13812341234" not in office("search", "1234").stdout


def test_a_company_and_a_contact_note_are_found(office):
    (company,) = found(office, "陇原商贸", "--kind", "owner")["rows"]
    assert company["unit"] == "2-201" and "0931-" in company["snippet"]
    (call,) = found(office, "对公转账")["rows"]
    assert (call["kind"], call["label"], call["unit"]) == ("contact", "联系记录", "2-201")
    assert "月底前对公转账" in call["snippet"]
    assert call["command"] == "propfee contact list 2-201 --since 2026-11-10"


def test_numbers_in_free_text_are_masked_unless_asked_and_then_audited(office):
    masked = found(office, "装修太吵")["rows"][0]["snippet"]
    assert "139****6666" in masked and "13977776666" not in masked
    full = office("search", "装修太吵", "--no-mask", "--operator", "前台小刘", "-f", "json")
    assert "13977776666" in full.stdout
    entries = json.loads(office("audit", "--command", "search", "-f", "json").stdout)["rows"]
    (entry,) = entries
    assert entry["operator"] == "前台小刘"
    assert entry["changes"]["unmasked"] == {"command": "search", "path": "-", "rows": 1}
    found(office, "装修太吵")  # a masked search leaves no trace
    assert len(json.loads(office("audit", "--command", "search", "-f", "json").stdout)["rows"]) == 1


def test_the_index_follows_new_rows(office, engine):
    assert found(office, "电梯异响")["rows"] == []
    added = office(
        "complain", "add", "1-102", "--category", "公共设施",
        "--description", "3号楼电梯异响，夜里更明显", "--at", "2026-11-12 08:00",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    document = found(office, "电梯异响")
    assert document["method"] == BY_INDEX[engine]
    assert [(h["label"], h["unit"], h["date"]) for h in document["rows"]] == [
        ("投诉", "1-102", "2026-11-12")
    ]
    progressed = office(
        "complain", "progress", "TS2026-0003", "--note", "已联系电梯维保单位检修曳引机",
        "--at", "2026-11-12 10:00",
    )  # fmt: skip
    assert progressed.exit_code == 0, progressed.output
    (event,) = found(office, "曳引机")["rows"]
    assert event["command"] == "propfee complain show TS2026-0003"


def test_kind_limit_and_the_table(office):
    assert {h["kind"] for h in found(office, "1", "--kind", "owner")["rows"]} == {"owner"}
    limited = found(office, "1", "--limit", "1")
    assert len(limited["rows"]) == 1 and limited["more"] is True
    table = office("search", "漏水严重")
    assert table.exit_code == 0
    for text in ("类别", "房号", "摘要", "报修", "1-101", "propfee complain show TS2026-0001"):
        assert text in table.stdout


def test_refusals_name_the_option_and_change_nothing(office, db_path):
    before = dump(db_path)
    for args, named in (
        (["漏水", "--kind", "bill"], "--kind"),
        (["漏水", "--limit", "0"], "--limit"),
        (["   "], "搜索内容为空"),
    ):
        result = office("search", *args)
        assert result.exit_code == 1, result.output
        assert named in result.output
    assert dump(db_path) == before


@pytest.mark.sqlite_only  # the FTS5 index an upgrade fills (either engine: the next test)
def test_an_old_database_has_its_rows_indexed_when_upgraded(db_path, monkeypatch, cli):
    before_index = migrations.MIGRATIONS[:-1]
    # undone at the end of the block alone: the working folder and clock stay isolated
    with monkeypatch.context() as older:
        older.setattr(migrations, "MIGRATIONS", before_index)
        older.setattr(migrations, "SCHEMA_VERSION", len(before_index))
        old = db.connect(db_path)
        old.execute(
            "INSERT INTO unit (code, kind, notes, created_at, updated_at) "
            "VALUES ('9-901', 'residential', '外墙渗水待查', 'x', 'x')"
        )
        old.close()
    document = found(cli, "外墙渗水")
    assert document["method"] == "fts"
    assert [(h["kind"], h["label"], h["unit"]) for h in document["rows"]] == [
        ("note", "备注", "9-901")
    ]
    raw = sqlite3.connect(db_path)
    assert raw.execute("SELECT count(*) FROM unit_fts WHERE unit_fts MATCH '渗水待'").fetchone()
    raw.close()


def test_an_old_estate_is_searched_when_upgraded(database, monkeypatch, cli, engine):
    before_index = migrations.MIGRATIONS[:-1]
    # undone at the end of the block alone: the working folder and clock stay isolated
    with monkeypatch.context() as older:
        older.setattr(migrations, "MIGRATIONS", before_index)
        older.setattr(migrations, "SCHEMA_VERSION", len(before_index))
        old = db.connect(database)
        old.execute(
            "INSERT INTO unit (code, kind, notes, created_at, updated_at) "
            "VALUES ('9-901', 'residential', '外墙渗水待查', 'x', 'x')"
        )
        old.close()
    document = found(cli, "外墙渗水")
    assert document["method"] == BY_INDEX[engine]
    assert [(h["kind"], h["label"], h["unit"]) for h in document["rows"]] == [
        ("note", "备注", "9-901")
    ]


def test_a_restored_estate_searches_what_the_backup_held(office, database, tmp_path):
    copy = tmp_path / f"before{backup_suffix(database)}"
    assert office("backup", str(copy)).exit_code == 0
    added = office(
        "complain", "add", "1-101", "--category", "绿化",
        "--description", "草坪灌溉喷头损坏", "--at", "2026-11-12 08:00",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert found(office, "灌溉喷头")["rows"]
    restored = office("restore", str(copy))
    assert restored.exit_code == 0, restored.output
    assert found(office, "灌溉喷头")["rows"] == []
    assert [h["unit"] for h in found(office, "漏水严重")["rows"]] == ["1-101"]
    assert office("check").exit_code == 0


@pytest.mark.sqlite_only  # the restored file's FTS5 index (a server: the test above)
def test_a_restored_database_searches_what_the_backup_held(office, db_path, tmp_path):
    copy = tmp_path / "before.db"
    assert office("backup", str(copy)).exit_code == 0
    added = office(
        "complain", "add", "1-101", "--category", "绿化",
        "--description", "草坪灌溉喷头损坏", "--at", "2026-11-12 08:00",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert found(office, "灌溉喷头")["rows"]
    restored = office("restore", str(copy))
    assert restored.exit_code == 0, restored.output
    assert found(office, "灌溉喷头")["rows"] == []
    assert [h["unit"] for h in found(office, "漏水严重")["rows"]] == ["1-101"]
    raw = sqlite3.connect(db_path)
    for table, columns in migrations.SEARCH_INDEX.items():  # each index holds what it should
        raw.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('integrity-check')")
        has_text = " OR ".join(f"{c} <> ''" for c in columns)
        rows = {r[0] for r in raw.execute(f"SELECT id FROM {table} WHERE {has_text}")}
        assert {r[0] for r in raw.execute(f"SELECT id FROM {table}_fts_docsize")} == rows
    assert raw.execute("SELECT count(*) FROM complaint_fts_docsize").fetchone()[0] == 2
    raw.close()
    assert office("check").exit_code == 0


def test_search_syntax_and_wildcards_are_taken_as_plain_text(office):
    for text in ('漏"水严', "a*b(c)", "NEAR(x", "%%%", "___", "AND OR NOT"):
        assert found(office, text)["rows"] == [], text
    assert found(office, "5678")["rows"][0]["unit"] == "1-102"  # digits, not a pattern


def test_what_is_searched_for_is_shown_in_the_title_never_read_as_markup(office, cli):
    # the table's title holds the words searched for: rich read them as markup, and a closing
    # tag with nothing open stopped the command with an internal error
    for words in ("[/b]", "[bold]张三"):
        result = cli("search", words)
        assert result.exit_code == 0, result.output
        assert words in result.output
