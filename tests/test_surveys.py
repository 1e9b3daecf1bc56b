"""Satisfaction surveys: reading a questionnaire export, the figures of the report worked out
by hand, the comparison with an earlier survey, satisfaction against payment, the workbook."""

import dataclasses
import json
from datetime import date, datetime

import pytest

from propfee.config import DEFAULTS, Survey
from propfee.core.errors import ConfigError, FileFormatError, InvalidValue, RowErrors
from propfee.insight import surveys
from propfee.service import complaints
from propfee.store.db import transaction

from conftest import (
    NOW,
    add_fee,
    dump,
    estate,
    home,
    new_database,
    pay,
    run,
    write_csv,
    write_xlsx,
)

DAY = date(2026, 10, 20)

# Six homes of 80 ㎡ at 2.50 → 200.00 a month, billed August to October 2026 (due the 15th);
# 2-201 is unsold (no owner) and P-1 is a parking space: neither is an occupied household.
#
#   1-101 张三  paid every month before its due day       → not overdue on 10-20
#   1-102 李四  paid August only                          → September unpaid: 35 days
#   1-201 王五  paid August and September                 → October unpaid: 5 days
#   2-101 赵六  paid nothing                              → August unpaid: 66 days
#   2-102 钱七  paid nothing, did not answer
SURVEY = [
    ["房号", "服务态度", "保洁", "总体满意度", "推荐意愿", "意见建议"],
    ["1-101", 5, "满意", 5, 10, "电梯维修及时"],
    ["1-102", 4, 2, 3, 6, "保洁不到位，楼道有垃圾"],
    ["1-201", 3, "", 4, 8, ""],
    ["2-101", 5, 5, 5, 9, "保洁很好，电梯也好"],
    ["", 1, 3, 2, "", "楼道垃圾没人清"],  # anonymous
    ["2-102", "", "", "", "", ""],  # a pre-filled row that was not returned
]


@pytest.fixture
def surveyed(conn, tmp_path):
    estate(
        conn,
        tmp_path,
        [
            home("1-101", area="80", owner="张三"),
            home("1-102", area="80", owner="李四", phone="13912345678"),
            home("1-201", area="80", owner="王五"),
            home("2-101", area="80", owner="赵六"),
            home("2-102", area="80", owner="钱七"),
            home("2-201", area="80", owner="未售"),
            home("P-1", area="", owner="张三", kind="车位"),
        ],
    )
    add_fee(conn)
    run(conn, "2026-08", "2026-09", "2026-10", as_of=date(2026, 8, 1))
    for month in (8, 9, 10):
        pay(conn, "1-101", 20000, date(2026, month, 10))
    pay(conn, "1-102", 20000, date(2026, 8, 10))
    pay(conn, "1-201", 40000, date(2026, 9, 10))
    with transaction(conn):
        complaints.add(
            conn,
            "1-102",
            kind="complaint",
            category="保洁",
            channel="phone",
            priority="normal",
            description="楼道垃圾三天没人清",
            at=datetime(2026, 10, 18, 10),
            now=NOW,
            settings=DEFAULTS,
        )
    path = write_csv(tmp_path / "survey.csv", SURVEY)
    with transaction(conn):
        surveys.import_survey(conn, path, name="2026秋", held_on=DAY, scale=None, now=NOW)
    return conn


def report(conn, **kwargs):
    values = {"name": None, "compare": None, "settings": DEFAULTS, "at": NOW} | kwargs
    return surveys.survey_report(conn, **values)


def test_the_figures_worked_out_by_hand(surveyed):
    r = report(surveyed)
    assert r.responses == 5 and r.anonymous == 1
    by_name = {d.name: d for d in r.dimensions}
    # 服务态度 5 4 3 5 1: mean 18/5 = 3.60; satisfied (4–5) 3 of 5 = 60.0%; sample variance
    # (1.96 + 0.16 + 0.36 + 1.96 + 6.76) / 4 = 2.8, se = √(2.8/5) = 0.7483, t(4) = 2.7764,
    # half-width 2.08 → 1.52 … 5.68, kept within the scale → 1.52 … 5.00
    d = by_name["服务态度"]
    assert surveys.fmt(d.mean) == "3.60" and surveys.percent(d.satisfied) == "60.0%"
    assert (surveys.fmt(d.ci[0]), surveys.fmt(d.ci[1])) == ("1.52", "5.00")
    assert d.distribution == {1: 1, 2: 0, 3: 1, 4: 1, 5: 2}
    # 保洁 满意(4) 2 5 3, one blank (not answered, not zero): mean 14/4 = 3.50, 2 of 4 = 50.0%;
    # variance 5/3, se = 0.6455, t(3) = 3.1824, half-width 2.05 → 1.45 … 5.00
    d = by_name["保洁"]
    assert d.answers == 4 and surveys.fmt(d.mean) == "3.50"
    assert surveys.percent(d.satisfied) == "50.0%"
    assert (surveys.fmt(d.ci[0]), surveys.fmt(d.ci[1])) == ("1.45", "5.00")
    # 总体满意度 5 3 4 5 2: 19/5 = 3.80, 3 of 5 = 60.0%
    assert surveys.fmt(by_name["总体满意度"].mean) == "3.80"
    # weakest first
    assert [d.name for d in r.dimensions] == ["保洁", "服务态度", "总体满意度"]
    # index: (3.60 + 3.50 + 3.80) / 3 = 3.6333 of 5 → 72.7
    assert surveys.fmt(r.index, 1) == "72.7"
    # NPS: 10 6 8 9 answered → promoters 2 (9–10), detractors 1 (0–6): (2 − 1) / 4 = 25.0
    assert (r.promoters, r.passives, r.detractors) == (2, 1, 1)
    assert surveys.fmt(r.nps, 1) == "25.0"
    # occupied households: building 1 has three, all answered (100%); building 2 has 2-101
    # and 2-102 (2-201 unsold, P-1 a parking space), one answered (50%); together 4 of 5
    rates = {b.building: (b.respondents, b.occupied, surveys.percent(b.rate)) for b in r.buildings}
    assert rates == {"1": (3, 3, "100.0%"), "2": (1, 2, "50.0%")}
    assert (r.total.respondents, r.total.occupied, surveys.percent(r.total.rate)) == (
        4,
        5,
        "80.0%",
    )
    # a return visit for 1-102 (保洁 2), with its open cleaning complaint; the anonymous
    # respondent (1 and 2) cannot be visited
    assert [(f.unit, f.owner, f.low_scores, surveys.fmt(f.mean)) for f in r.follow_up] == [
        ("1-102", "李四", {"保洁": 2}, "3.00")
    ]
    assert len(r.follow_up[0].complaints) == 1 and "保洁" in r.follow_up[0].complaints[0]
    assert r.anonymous_low == 1
    # the comments: 保洁, 垃圾, 楼道 and 电梯 each in two comments
    assert r.phrases == [("保洁", 2), ("垃圾", 2), ("楼道", 2), ("电梯", 2)]


def test_satisfaction_and_payment_on_the_survey_day(surveyed):
    r = report(surveyed)
    # each unit's mean: 1-101 14/3, 1-102 9/3 = 3, 1-201 7/2, 2-101 5
    # not overdue: 1-101 → 4.67; 1–30 days: 1-201 → 3.50; 31+: 1-102 and 2-101 → (3 + 5)/2
    assert [(g.label, g.units, surveys.fmt(g.mean)) for g in r.by_payment] == [
        ("按时缴费", 1, "4.67"),
        ("逾期1–30天", 1, "3.50"),
        ("逾期31天以上", 2, "4.00"),
    ]
    # due by 10-20: three months of 200.00 per unit. 满意 (≥4): 1-101 paid 600, 2-101 none
    # → 600 of 1200 = 50%; 一般 (3 to <4): 1-102 paid 200, 1-201 400 → 600 of 1200 = 50%;
    # 不满意: nobody, nothing due → "—"
    assert [
        (b.label, b.units, b.due_fen, b.collected_fen, surveys.percent(b.rate)) for b in r.by_band
    ] == [
        ("满意", 2, 120000, 60000, "50.0%"),
        ("一般", 2, 120000, 60000, "50.0%"),
        ("不满意", 0, 0, 0, "—"),
    ]


def test_weights_from_the_settings(surveyed):
    settings = dataclasses.replace(DEFAULTS, survey=Survey(weights={"服务态度": 2}))
    # (2 × 3.60 + 3.50 + 3.80) / 4 = 3.625 of 5 → 72.5
    assert surveys.fmt(report(surveyed, settings=settings).index, 1) == "72.5"
    with pytest.raises(ConfigError):
        Survey(weights={"保洁": -1}).check("propfee.toml")


def test_compare_with_an_earlier_survey(surveyed, tmp_path):
    # the spring survey had no unit column (all anonymous), GBK-encoded, no 保洁 question:
    # 服务态度 2 2 2 3 2 2 (two blank): 3.60 against 2.17, Welch t = 1.87, df 4.4, p ≈ 0.13
    # → within the noise; 总体满意度 1 2 1 2 1 2 1 2: 3.80 against 1.50, t = 3.75, df 4.9,
    # p ≈ 0.015 → up beyond the noise
    spring = write_csv(
        tmp_path / "spring.csv",
        [
            ["序号", "服务态度", "总体满意度"],
            *[
                [i + 1, s, o]
                for i, (s, o) in enumerate(zip([2, 2, 2, 3, 2, 2, "", ""], [1, 2] * 4, strict=True))
            ],
        ],
        encoding="gbk",
    )
    with transaction(surveyed):
        result = surveys.import_survey(
            surveyed,
            spring,
            name="2026春",
            held_on=date(2026, 4, 1),
            scale=None,
            now=NOW,
            anonymous=True,
        )
    assert result.anonymous == 8 and result.units == 0
    r = report(surveyed, compare="2026春")
    assert r.survey.name == "2026秋"  # the latest by date is the default
    changes = {d.name: d.change for d in r.dimensions}
    assert surveys.fmt(changes["服务态度"].delta) == "1.43"
    assert changes["服务态度"].statement == "变化在误差范围内"
    assert 0.1 < changes["服务态度"].p_value < 0.2
    assert changes["总体满意度"].statement == "上升，超出误差范围"
    assert changes["总体满意度"].p_value < 0.05
    assert changes["保洁"].statement == "上期无此项"
    # the spring index: (13/6 + 1.5) / 2 = 1.8333 of 5 → 36.7
    assert surveys.fmt(r.previous_index, 1) == "36.7"
    with pytest.raises(InvalidValue):
        report(surveyed, compare="2026秋")


def test_bad_cells_are_named_and_nothing_is_written(surveyed, tmp_path, db_path):
    before = dump(db_path)
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        [
            ["2026年满意度调查"],
            ["房号", "服务态度", "保洁", "推荐意愿"],
            ["9-999", 4, 4, 8],
            ["1-101", 6, 4.5, 11],
            ["1-102", "还不错吧", 3, ""],
        ],
    )
    with pytest.raises(RowErrors) as caught, transaction(surveyed):
        surveys.import_survey(surveyed, path, name="坏", held_on=DAY, scale=5, now=NOW)
    found = {(e.row, e.column, e.value) for e in caught.value.errors}
    assert found == {
        (3, "房号 (A)", "9-999"),
        (4, "服务态度 (B)", "6"),
        (4, "保洁 (C)", "4.5"),
        (4, "推荐意愿 (D)", "11"),
        (5, "服务态度 (B)", "还不错吧"),
    }
    assert all(e.file == "bad.xlsx" for e in caught.value.errors)
    assert dump(db_path) == before


def test_a_survey_is_a_record(surveyed, tmp_path, db_path):
    path = tmp_path / "survey.csv"
    before = dump(db_path)
    with transaction(surveyed):
        again = surveys.import_survey(
            surveyed, path, name="2026秋", held_on=DAY, scale=None, now=NOW
        )
    assert again.unchanged and again.responses == 5
    assert dump(db_path) == before
    other = write_csv(tmp_path / "other.csv", SURVEY[:3])
    with pytest.raises(surveys.SurveyExists, match="不会被替换"), transaction(surveyed):
        surveys.import_survey(surveyed, other, name="2026秋", held_on=DAY, scale=None, now=NOW)
    with pytest.raises(surveys.SurveyExists, match="已作为调查"), transaction(surveyed):
        surveys.import_survey(surveyed, path, name="别名", held_on=DAY, scale=None, now=NOW)
    assert dump(db_path) == before


def test_ten_points_building_room_columns_and_a_date_column(surveyed, tmp_path):
    path = write_xlsx(
        tmp_path / "ten.xlsx",
        [
            ["楼栋", "单元", "房间", "1、服务态度", "2、维修", "填写日期", "性别"],
            ["1栋", "", "101", 10, 8, "2026-10-10", "男"],
            ["2号楼", "", "101室", 4, 7, "2026-10-12", "女"],
        ],
    )
    with transaction(surveyed):
        result = surveys.import_survey(
            surveyed, path, name="十分制", held_on=None, scale=None, now=NOW
        )
    # the day comes from the date column; 10 > 5 makes it a 10-point scale
    assert (result.held_on, result.scale, result.dimensions) == (
        "2026-10-12",
        10,
        ["服务态度", "维修"],
    )
    assert result.units == 2
    r = report(surveyed, name="十分制")
    by_name = {d.name: d for d in r.dimensions}
    # satisfied on 10 points: 8–10; a low score: 1–4 (0.4 × 10)
    assert surveys.percent(by_name["服务态度"].satisfied) == "50.0%"
    assert surveys.percent(by_name["维修"].satisfied) == "50.0%"
    assert [(f.unit, f.low_scores) for f in r.follow_up] == [("2-101", {"服务态度": 4})]
    # (7 + 7.5) / 2 of 10 → 72.5; bands on the 5-point equivalent: 1-101 9 → 4.5 满意,
    # 2-101 5.5 → 2.75 不满意
    assert surveys.fmt(r.index, 1) == "72.5"
    assert [b.units for b in r.by_band] == [1, 0, 1]
    with pytest.raises(InvalidValue, match="平均分无法比较"):
        report(surveyed, name="十分制", compare="2026秋")
    with pytest.raises(RowErrors, match="1 行有误"), transaction(surveyed):
        words = write_csv(tmp_path / "words.csv", [["房号", "保洁"], ["1-101", "满意"]])
        surveys.import_survey(surveyed, words, name="词", held_on=DAY, scale=10, now=NOW)


def test_the_zero_cases(conn, tmp_path):
    # nobody lives here yet (every unit unsold), the answers are anonymous, no recommend
    # question, and 绿化 holds no answer at all
    estate(conn, tmp_path, [home("1-101", owner="未售"), home("1-102", owner="未售")])
    path = write_csv(
        tmp_path / "empty.csv",
        [["房号", "保洁", "绿化", "备注"], ["", 4, "", "很好"], ["1-102", "", "", ""]],
    )
    with transaction(conn):
        result = surveys.import_survey(conn, path, name="空", held_on=DAY, scale=None, now=NOW)
    assert result.responses == 1 and result.skipped == 1
    assert any("绿化" in n for n in result.notices)  # a column without scores is left out
    r = report(conn)
    assert r.total.rate is None and surveys.percent(r.total.rate) == "—"
    assert r.nps is None and surveys.fmt(r.nps) == "—"
    assert r.dimensions[0].ci is None  # one answer: no interval
    assert all(g.mean is None for g in r.by_payment)
    assert all(b.rate is None for b in r.by_band)
    stats = [
        surveys.DimensionStat("保洁", 1, None, None, None, {}),
        surveys.DimensionStat("绿化", 0, None, None, None, {}),
    ]
    assert surveys.satisfaction_index(stats, 5) is None
    # a survey where no questionnaire came back
    blank = write_csv(tmp_path / "blank.csv", [["房号", "保洁"], ["1-101", ""], ["1-102", 3]])
    with transaction(conn):
        surveys.import_survey(
            conn, blank, name="没人答", held_on=date(2026, 10, 21), scale=None, now=NOW
        )
    r = report(conn, name="没人答")
    assert r.responses == 1 and r.index is not None


def test_no_header_and_no_date(conn, tmp_path):
    estate(conn, tmp_path, [home("1-101")])
    nothing = write_csv(tmp_path / "n.csv", [["说明"], ["这是一份说明"]])
    with pytest.raises(FileFormatError, match="找不到调查表头"):
        surveys.read_survey(conn, nothing)
    undated = write_csv(tmp_path / "u.csv", [["房号", "保洁"], ["1-101", 4]])
    with pytest.raises(InvalidValue, match="--date"), transaction(conn):
        surveys.import_survey(conn, undated, name="无日期", held_on=None, scale=None, now=NOW)


def test_statistics_helpers():
    assert round(surveys.t_critical(4), 3) == 2.776
    assert round(surveys.t_critical(1000), 2) == 1.96
    assert surveys.fmt(surveys.ratio(2, 3)) == "0.67" and surveys.fmt(None) == "—"
    unchanged = surveys.welch([3, 3, 3], [3, 3, 3])
    assert unchanged.statement == "变化在误差范围内"
    assert surveys.welch([4], [3, 3]).statement == "样本太少，无法判断"


def test_the_commands(surveyed, cli, tmp_path):
    listed = cli("survey", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert [s["name"] for s in json.loads(listed.stdout)["rows"]] == ["2026秋"]
    out = tmp_path / "分析.xlsx"
    shown = cli("survey-report", "--format", "json", "--out", str(out))
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["index"] == "72.7" and document["nps"] == "25.0"
    assert document["response_rate"] == "80.0%"
    assert [d["dimension"] for d in document["dimensions"]] == ["保洁", "服务态度", "总体满意度"]
    from openpyxl import load_workbook

    workbook = load_workbook(out)
    assert sum(len(ws._charts) for ws in workbook.worksheets) == 2
    assert len(workbook["各项满意度"]._charts) == 1
    # the return-visit list carries the owner's phone, masked unless --no-mask
    (visit,) = [x for x in document["follow_up"] if x["unit"] == "1-102"]
    assert visit["phone"] == "139****5678"
    visits = workbook["回访名单"]
    headers = [c.value for c in visits[4]]
    assert headers[:4] == ["房号", "楼栋", "业主", "电话"]
    phones = {row[0]: row[3] for row in visits.iter_rows(min_row=5, values_only=True)}
    assert phones["1-102"] == "139****5678"
    full = cli("survey-report", "--format", "json", "--no-mask")
    (visit,) = [x for x in json.loads(full.stdout)["follow_up"] if x["unit"] == "1-102"]
    assert visit["phone"] == "13912345678"
    table = cli("survey-report", "--by", "building")
    assert table.exit_code == 0, table.output
    assert "回访名单" in table.stdout and "1-102" in table.stdout and "72.7" in table.stdout
    csv_out = cli("survey-report", "--format", "csv")
    assert csv_out.stdout.splitlines()[0].startswith("\ufeff项目,回答,平均分")
    bad = write_csv(tmp_path / "bad.csv", [["房号", "保洁"], ["9-9", 4]])
    refused = cli("survey", "import", str(bad), "--name", "x", "--date", "2026-10-01")
    assert refused.exit_code == 1
    assert "bad.csv 第 2 行，房号 (A) 列" in refused.stderr
    again = cli("survey", "import", str(tmp_path / "survey.csv"), "--name", "2026秋")
    assert again.exit_code == 0 and "已导入过，未做改动" in again.stdout
    missing = cli("survey-report", "--survey", "nope")
    assert missing.exit_code == 1 and "没有名为 nope 的调查" in missing.stderr


def test_the_demo_survey(engine, tmp_path, request):
    from propfee.demo.estate import build_demo
    from propfee.store import db

    database = new_database(engine, tmp_path / "demo", request)  # the demo's, on either engine
    server = database if engine == "pg" else None
    built = build_demo(tmp_path / "demo", as_of=date(2026, 11, 15), now=NOW, server=server)
    r = built.survey
    assert r.survey.name == "2026年度" and r.survey.held_on == "2026-11-10"
    assert r.responses > 60 and r.anonymous == 5 and len(r.dimensions) == 8
    on_time, _, long_late = (g.mean for g in r.by_payment)
    assert on_time > long_late  # the demo's satisfaction goes with payment
    assert r.by_band[0].rate > r.by_band[2].rate
    assert (tmp_path / "demo" / "满意度调查-2026.xlsx").is_file()
    # last year's survey is there to compare with: repairs and cleaning got better
    assert r.compare.name == "2025年度" and r.previous_index < r.index
    improved = {d.name for d in r.dimensions if d.change.beyond_noise and d.change.delta > 0}
    assert {"维修", "保洁"} <= improved
    # the satisfaction × payment table, worked out again straight from the tables: each
    # answering household's mean score, grouped by the days its oldest bill still unpaid on
    # the survey day had been due
    from fractions import Fraction

    raw = db.connect(database)
    day = r.survey.held_on
    late: dict[int, int] = {}
    for unit, due_on in raw.execute(
        "SELECT unit_id, due_on FROM bill b "
        "WHERE due_on < ? AND amount_fen "
        "+ coalesce((SELECT sum(amount_fen) FROM adjustment WHERE bill_id = b.id "
        "AND made_on <= ?), 0) "
        "- coalesce((SELECT sum(amount_fen) FROM allocation WHERE bill_id = b.id "
        "AND allocated_on <= ?), 0) > 0",
        (day, day, day),
    ):
        days = (date.fromisoformat(day) - date.fromisoformat(due_on)).days
        late[unit] = max(late.get(unit, days), days)
    occupied = set(surveys.occupied_units(raw, date.fromisoformat(day)))
    pooled = {}
    for unit, score in raw.execute(
        "SELECT r.unit_id, s.score FROM survey_response r JOIN survey_score s "
        "ON s.response_id = r.id JOIN survey v ON v.id = r.survey_id "
        "WHERE r.unit_id IS NOT NULL AND v.name = ?",
        (r.survey.name,),
    ):
        if unit in occupied:
            pooled.setdefault(unit, []).append(score)
    groups = {0: [], 1: [], 2: []}
    for unit, values in pooled.items():
        days = late.get(unit, 0)
        groups[0 if days <= 0 else 1 if days <= 30 else 2].append(
            Fraction(sum(values), len(values))
        )
    expected = [(len(v), sum(v) / len(v) if v else None) for v in groups.values()]
    assert [(g.units, g.mean) for g in r.by_payment] == expected


def test_weights_in_the_settings_file(tmp_path):
    from propfee.config import load_settings

    path = tmp_path / "propfee.toml"
    path.write_text("[survey.weights]\n'服务态度' = 2\n'总体满意度' = 0\n", encoding="utf-8")
    assert load_settings(path).survey.weights == {"服务态度": 2, "总体满意度": 0}
    path.write_text('[survey.weights]\n"保洁" = "high"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"survey\.weights\.保洁"):
        load_settings(path)
    path.write_text("[survey]\nweights = { '保洁' = -1 }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="必须大于等于 0"):
        load_settings(path)


# ---------------------------------------------------------------- files as they come


@pytest.fixture
def block(conn, tmp_path):
    """Building 1, entrance 1: 101 … 502 (two homes a floor), all owned."""
    estate(conn, tmp_path, [home(f"1-1-{f}0{r}") for f in range(1, 6) for r in (1, 2)])
    return conn


def read(conn, path, **kwargs):
    return surveys.read_survey(conn, path, **kwargs)


def test_one_stray_score_above_five_is_a_bad_cell_not_a_ten_point_survey(block, tmp_path):
    header = ["序号", "房号", "服务态度", "保洁", "维修", "推荐意愿", "填写日期"]
    answers = [("1-1-101", 5, 4, 4, 9), ("1-1-102", 4, 4, 3, 8), ("1-1-201", 3, 6, 2, 5)]
    answers += [("1-1-202", 5, 5, 5, 10), ("1-1-301", 4, 3, 4, 7)]
    rows = [[i + 1, *a, "2026-11-05"] for i, a in enumerate(answers)]
    path = write_xlsx(tmp_path / "typo.xlsx", [header, *rows])
    with pytest.raises(RowErrors) as caught:
        read(block, path)
    [error] = caught.value.errors
    assert (error.row, error.column, error.value) == (4, "保洁 (D)", "6")
    assert "超出本次调查 1–5 分的范围" in error.message
    # a 0–10 recommend question, however it is worded, is not a scored question
    for question in ("Q7.您有多大可能向亲友推荐我们的物业服务？", "第6题 NPS", "推荐给朋友"):
        ok = [[*r[:2], *(min(s, 5) for s in r[2:5]), r[5], r[6]] for r in rows]
        path = write_xlsx(tmp_path / "nps.xlsx", [[*header[:5], question, header[6]], *ok])
        parsed = read(block, path)
        assert (parsed.scale, parsed.dimensions) == (5, ["服务态度", "保洁", "维修"])
        assert [r.recommend for r in parsed.rows] == [9, 8, 5, 10, 7]
    # a survey answered on 10 points is read as one
    tens = [[*r[:2], 10, 8, 7, r[5], r[6]] for r in rows]
    assert read(block, write_xlsx(tmp_path / "ten.xlsx", [header, *tens])).scale == 10
    # one question answered up to 10, others only 1–5: which scale? ask
    mixed = [[*r[:2], 10 - i, r[3], r[4], r[5], r[6]] for i, r in enumerate(ok)]
    path = write_xlsx(tmp_path / "mixed.xlsx", [header, *mixed])
    with pytest.raises(FileFormatError, match=r"服务态度 最高答到 10 分.*--scale"):
        read(block, path)
    assert read(block, path, scale=10).scale == 10


@pytest.mark.parametrize(
    "unit_header",
    [
        "您的房号",
        "3、请填写您的房号",
        "Q1.房号",
        "Q1 房号",
        "第1题 房号",
        "楼号-单元-房号",
        "房屋地址",
    ],
)
def test_the_unit_column_however_it_is_asked(block, tmp_path, unit_header):
    path = write_xlsx(
        tmp_path / "u.xlsx",
        [
            ["序号", unit_header, "2、服务态度", "Q3.保洁"],
            [1, "1-1-101", 4, 5],
            [2, "1-1-102", 3, 3],
        ],
    )
    parsed = read(block, path)
    assert [r.unit for r in parsed.rows] == ["1-1-101", "1-1-102"]
    assert parsed.dimensions == ["服务态度", "保洁"]


def test_split_unit_columns_with_question_numbers_and_no_unit_column(block, tmp_path):
    # 腾讯问卷: Q1.楼栋 / Q2.单元 / Q3.房间 are the unit, not questions
    path = write_xlsx(
        tmp_path / "tx.xlsx",
        [
            ["编号", "答题时长", "Q1.楼栋", "Q2.单元", "Q3.房间", "Q4.服务态度", "Q5.保洁"],
            [1, "180", 1, 1, 101, 4, 5],
            [2, "175", 1, 1, 102, 3, 3],
        ],
    )
    parsed = read(block, path)
    assert parsed.dimensions == ["服务态度", "保洁"]
    assert [r.unit for r in parsed.rows] == ["1-1-101", "1-1-102"]
    # no unit column at all: not silently anonymous
    path = write_csv(tmp_path / "anon.csv", [["序号", "服务态度", "保洁"], [1, 4, 5], [2, 3, 3]])
    with pytest.raises(FileFormatError, match=r"表头为：序号、服务态度、保洁.*--anonymous"):
        read(block, path)
    parsed = read(block, path, anonymous=True)
    assert [r.unit_id for r in parsed.rows] == [None, None]


@pytest.mark.parametrize(
    ("rows", "merges"),
    [
        # a title merged across the table
        ([["翠湖花园2026年满意度调查"], ["房号", "服务态度", "保洁", "维修"]], ("A1:D1",)),
        # a title and an export time in two cells
        (
            [
                ["翠湖花园2026年满意度调查", "导出时间：2026-11-20"],
                ["房号", "服务态度", "保洁", "维修"],
            ],
            (),
        ),
        # a two-row header: 满意度评价 merged over the questions, the unit merged down
        (
            [["房号", "满意度评价", None, None], [None, "服务态度", "保洁", "维修"]],
            ("A1:A2", "B1:D1"),
        ),
        # the same without merging: the group label above, the lower row blank under 房号
        ([["房号", "满意度评价", "", ""], ["", "服务态度", "保洁", "维修"]], ()),
    ],
)
def test_title_rows_and_two_row_headers(block, tmp_path, rows, merges):
    body = [["1-1-101", "非常满意", "满意", "不满意"], ["1-1-102", "满意", "一般", "一般"]]
    path = write_xlsx(tmp_path / "t.xlsx", [*rows, *body], merges=merges)
    parsed = read(block, path)
    assert parsed.dimensions == ["服务态度", "保洁", "维修"]
    assert [(r.row, r.unit, r.scores["维修"]) for r in parsed.rows] == [
        (len(rows) + 1, "1-1-101", 2),
        (len(rows) + 2, "1-1-102", 3),
    ]


def test_not_answered_markers_and_footer_rows(block, tmp_path):
    markers = ["(跳过)", "（空）", "不适用", "不清楚", "未回答", "-", "/", "N/A", "无"]
    rows = [["房号", "服务态度", "保洁"]]
    rows += [[f"1-1-{101 + 100 * (i // 2) + i % 2}", m, 4] for i, m in enumerate(markers)]
    rows += [["1-1-502", 3, 4], ["总平均", 3, 4], ["满意率", "", "100%"], ["有效问卷：10份"]]
    parsed = read(block, write_xlsx(tmp_path / "na.xlsx", rows))
    assert len(parsed.rows) == 10 and all(r.scores["保洁"] == 4 for r in parsed.rows)
    assert [len(r.scores) for r in parsed.rows] == [1] * 9 + [2]
    assert any("9 个" in n and "未作答" in n for n in parsed.notices), parsed.notices


def test_unit_codes_as_people_write_them(block, tmp_path):
    codes = ["1#1-201", "1栋1-401", "01-01-0402", "1栋1单元102室", "１－１－３０２", "1-1单元-502"]
    path = write_xlsx(tmp_path / "k.xlsx", [["房号", "保洁"], *[[c, 4] for c in codes]])
    assert [r.unit for r in read(block, path).rows] == [
        "1-1-201",
        "1-1-401",
        "1-1-402",
        "1-1-102",
        "1-1-302",
        "1-1-502",
    ]
    # 楼栋 | 单元 | 房号 101室: the 房号 column holds the room
    path = write_xlsx(
        tmp_path / "split.xlsx",
        [["楼栋", "单元", "房号", "服务态度"], ["1栋", "1单元", "101室", 4], ["1", "1", "102", 4]],
    )
    assert [r.unit for r in read(block, path).rows] == ["1-1-101", "1-1-102"]


def test_answers_from_units_that_are_not_households(surveyed, tmp_path):
    # 2-201 is unsold and P-1 a parking space: their answers count in the question means but
    # in no response rate, building mean, payment table or return-visit list
    path = write_csv(
        tmp_path / "others.csv",
        [["房号", "服务态度"], ["1-101", 5], ["2-201", 1], ["P-1", 2], ["2-102", 4]],
    )
    with transaction(surveyed):
        result = surveys.import_survey(
            surveyed, path, name="非住户", held_on=DAY, scale=None, now=NOW
        )
    [notice] = [n for n in result.notices if "无人居住或使用" in n]
    assert "2 份答卷" in notice and "2-201、P-1" in notice
    r = report(surveyed, name="非住户")
    assert r.responses == 4 and r.outside == 2 and r.outside_low == 2
    assert surveys.fmt(r.dimensions[0].mean) == "3.00"  # (5 + 1 + 2 + 4) / 4
    assert [(b.building, b.respondents, b.occupied, surveys.fmt(b.mean)) for b in r.buildings] == [
        ("1", 1, 3, "5.00"),
        ("2", 1, 2, "4.00"),
    ]
    assert sum(g.units for g in r.by_payment) == 2 and sum(b.units for b in r.by_band) == 2
    assert r.follow_up == []


def test_the_terminal_report_shows_each_score_count_and_notes(surveyed, cli, tmp_path):
    shown = cli("survey-report")
    assert shown.exit_code == 0, shown.output
    assert "1:1 3:1 4:1 5:2" in shown.stdout  # 服务态度 5 4 3 5 1
    # a later survey given as the earlier one, and a weight naming no question
    later = write_csv(tmp_path / "later.csv", [["房号", "服务态度", "维修"], ["1-101", 4, 4]])
    with transaction(surveyed):
        surveys.import_survey(
            surveyed, later, name="2026冬", held_on=date(2026, 10, 21), scale=None, now=NOW
        )
    settings = dataclasses.replace(DEFAULTS, survey=Survey(weights={"服务太度": 2}))
    r = report(surveyed, name="2026秋", compare="2026冬", settings=settings)
    assert any("晚于 2026秋" in n for n in r.notes)
    assert any("只在 2026冬 中：维修" in n for n in r.notes)
    assert any("服务太度" in n for n in r.notes)
    shown = cli("survey-report", "--survey", "2026秋", "--compare", "2026冬")
    assert shown.exit_code == 0 and "晚于" in shown.stderr


def test_interval_bounds_are_rounded_once():
    # mean 4/3, half-width 0.54193 → upper bound 1.87526 → 1.88 (not 1.33 + 0.54 = 1.87)
    low_end, high_end = surveys.confidence_interval([1, 1, 1, 1, 2, 2], 5)
    assert (surveys.fmt(low_end), surveys.fmt(high_end)) == ("1.00", "1.88")


def test_the_workbook_shows_the_response_rate_as_a_percentage(surveyed, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "r.xlsx"
    surveys.write_workbook(out, report(surveyed))
    rows = {r[0].value: r[1] for r in load_workbook(out)["概况"].iter_rows()}
    assert rows["参与率"].value == pytest.approx(0.8)
    assert rows["参与率"].number_format == "0.0%"


def test_reimport_notes_ignored_options_and_damaged_files(surveyed, tmp_path, cli):
    path = tmp_path / "survey.csv"
    with transaction(surveyed):
        again = surveys.import_survey(
            surveyed, path, name="2026秋", held_on=date(2026, 10, 1), scale=None, now=NOW
        )
    assert again.unchanged
    assert any("--date 2026-10-01 未采用" in n and "2026-10-20" in n for n in again.notices)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"junk\n")
    with pytest.raises(FileFormatError, match=r"文件已损坏，或不是 \.xlsx"):
        surveys.read_survey(surveyed, junk)
    shown = cli("survey", "import", "--help")
    assert "day ." not in shown.stdout and "--anonymous" in shown.stdout


def test_comment_phrases_leave_out_fragments():
    comments = ["楼道垃圾没人管", "垃圾没人管啊"]
    assert surveys.common_phrases(comments) == [("垃圾", 2), ("没人管", 2)]


def test_comment_words_are_whole_words_never_pieces_of_one():
    comments = [
        "地下车库太黑了",
        "地下车库漏水，没人管",
        "晚上地下车库没灯",
        "蚊子很多",
        "蚊子太多了",
    ]
    ranked = surveys.common_phrases(comments)
    assert ranked == [("地下车库", 3), ("蚊子", 2)]
    words = {w for c in comments for w in surveys.comment_words(c)}
    assert not words & {"下车", "车库", "地下"}
    assert surveys.comment_words("希望加强巡逻，电梯经常坏") == [
        "希望",
        "加强",
        "巡逻",
        "电梯",
        "经常",
    ]


def test_answers_as_questionnaire_sites_export_them(block, tmp_path):
    # 问卷星 with option letters, points written beside the words, the scale in the header
    # and a matrix question's shared stem
    header = [
        "房号",
        "1、您对物业服务态度的评价",
        "请对以下各项打分—保洁",
        "总体满意度(1-5分)",
        "居住年限",
        "家庭人口",
    ]
    rows = [
        ["1-1-101", "A.非常满意", "非常满意(5分)", 5, 12, 3],
        ["1-1-102", "B、满意", "4分 满意", 4, 3, 2],
        ["1-1-201", "(C) 一般", "一般（3分）", 3, 8, 5],
    ]
    parsed = read(block, write_xlsx(tmp_path / "wjx.xlsx", [header, *rows]))
    assert parsed.dimensions == ["您对物业服务态度的评价", "保洁", "总体满意度"]
    assert parsed.scale == 5  # the household columns are not questions
    assert [list(r.scores.values()) for r in parsed.rows] == [[5, 5, 5], [4, 4, 4], [3, 3, 3]]


def test_recommend_questions_that_are_not_nps(block, tmp_path):
    # asked yes/no: left out with a note, not an error
    rows = [["房号", "服务态度", "是否愿意推荐"], ["1-1-101", 5, "愿意"], ["1-1-102", 2, "不愿意"]]
    parsed = read(block, write_xlsx(tmp_path / "yn.xlsx", rows))
    assert [r.recommend for r in parsed.rows] == [None, None]
    assert any("是/否" in n for n in parsed.notices)
    # answered on 1–5 under a recommend header: as NPS everyone would be a detractor
    rows = [
        ["房号", "服务态度", "推荐意愿"],
        ["1-1-101", 5, 5],
        ["1-1-102", 2, 2],
        ["1-1-201", 4, 4],
    ]
    parsed = read(block, write_xlsx(tmp_path / "r5.xlsx", rows))
    assert [r.recommend for r in parsed.rows] == [None, None, None]
    assert any("只有 0–5 分" in n for n in parsed.notices)


def test_the_building_total_counts_households_like_its_rows(surveyed, tmp_path):
    path = write_csv(
        tmp_path / "others.csv",
        [["房号", "服务态度"], ["1-101", 5], ["2-201", 1], ["P-1", 2], ["2-102", 4]],
    )
    with transaction(surveyed):
        surveys.import_survey(surveyed, path, name="合计", held_on=DAY, scale=None, now=NOW)
    r = report(surveyed, name="合计")
    assert surveys.fmt(r.total.mean) == "4.50"  # 1-101 and 2-102 only, as in the rows


def test_an_unlabelled_average_row_at_the_bottom_is_left_out(block, tmp_path):
    rows = [
        ["序号", "房号", "服务态度", "保洁", "意见建议"],
        [1, "1-1-101", 5, 4, "好"],
        [2, "1-1-102", 4, 4, ""],
        [3, "1-1-201", 3, 5, ""],
        ["", "", 4, 4, ""],  # the average, unlabelled
    ]
    parsed = read(block, write_xlsx(tmp_path / "avg.xlsx", rows))
    assert [r.unit for r in parsed.rows] == ["1-1-101", "1-1-102", "1-1-201"]
    assert any("第 5 行" in n and "平均行" in n for n in parsed.notices)


def test_an_anonymous_survey_has_no_response_rate(surveyed, tmp_path):
    path = write_csv(tmp_path / "anon.csv", [["服务态度", "保洁"], [5, 4], [3, 3]])
    with transaction(surveyed):
        surveys.import_survey(
            surveyed, path, name="匿名", held_on=DAY, scale=None, now=NOW, anonymous=True
        )
    r = report(surveyed, name="匿名")
    assert r.responses == 2 and r.total.rate is None
    assert all(b.rate is None for b in r.buildings)
