"""The analysis of a satisfaction survey that the service centre acts on: who answered, how
each part of the service scores and whether it moved beyond the noise since the last survey,
who to visit again (回访), what the comments talk about, and how satisfaction and payment go
together.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from propfee.collection.arrears import overdue
from propfee.core.errors import InvalidValue
from propfee.core.i18n import N_, _
from propfee.insight import survey_store
from propfee.insight.survey_records import SurveyInfo, find_survey, occupied_units
from propfee.insight.survey_stats import (
    Change,
    confidence_interval,
    low,
    on_five,
    ratio,
    satisfied,
    welch,
)
from propfee.roster.units import natural_key
from propfee.service import complaints

# ---------------------------------------------------------------- the report


@dataclass
class DimensionStat:
    name: str
    answers: int
    mean: Fraction | None
    satisfied: Fraction | None  # share of answers that are satisfied
    ci: tuple[Fraction, Fraction] | None
    distribution: dict[int, int]  # score -> answers, every score on the scale
    weight: int = 1
    change: Change | None = None


@dataclass
class BuildingRate:
    building: str
    respondents: int  # occupied units that answered
    occupied: int
    rate: Fraction | None
    mean: Fraction | None = None  # the mean score of its answers
    dimension_means: dict[str, Fraction | None] = field(default_factory=dict)


@dataclass
class FollowUp:
    unit: str
    building: str
    owner: str
    low_scores: dict[str, int]
    mean: Fraction | None
    comment: str
    complaints: list[str]  # "TS2026-0003 保洁 处理中"
    phone: str = ""  # the owner's phone numbers in full: mask them where shown


@dataclass
class PaymentGroup:
    label: str
    units: int
    mean: Fraction | None


@dataclass
class BandCollection:
    label: str
    units: int
    due_fen: int
    collected_fen: int
    rate: Fraction | None


@dataclass
class SurveyReport:
    survey: SurveyInfo
    compare: SurveyInfo | None
    responses: int
    anonymous: int
    dimensions: list[DimensionStat]  # weakest first
    buildings: list[BuildingRate]
    total: BuildingRate
    index: Fraction | None  # 0–100
    previous_index: Fraction | None
    nps: Fraction | None  # −100 … 100
    promoters: int
    passives: int
    detractors: int
    follow_up: list[FollowUp]
    anonymous_low: int
    by_payment: list[PaymentGroup]
    by_band: list[BandCollection]
    phrases: list[tuple[str, int]]
    weights: dict[str, int]
    outside: int = 0  # responses from units outside the households (parking, unsold …)
    outside_low: int = 0  # of which with a low score: not on the return-visit list
    notes: list[str] = field(default_factory=list)  # warnings for the reader


def _answers(conn, survey_id: int) -> tuple[dict[int, tuple], dict[int, dict[str, int]]]:
    """(response id -> (unit id, code, building, recommend, comment), response id -> its
    scores by question) of a survey."""
    responses = {
        rid: (uid, code, building, recommend, comment)
        for rid, uid, code, building, recommend, comment in survey_store.responses_of(
            conn, survey_id
        )
    }
    scores: dict[int, dict[str, int]] = {rid: {} for rid in responses}
    for rid, dimension, score in survey_store.scores_of(conn, survey_id):
        scores[rid][dimension] = score
    return responses, scores


def _mean(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


def satisfaction_index(stats: list[DimensionStat], scale: int) -> Fraction | None:
    """0–100: the weighted mean of the dimension means as a share of the scale's top score
    (a mean of 4.2 of 5 is 84); dimensions nobody answered are left out."""
    weighted = [(s.weight, s.mean) for s in stats if s.mean is not None and s.weight]
    total = sum(w for w, _ in weighted)
    if not total:
        return None
    return sum((w * m for w, m in weighted), Fraction(0)) / total * 100 / scale


def survey_report(
    conn: sqlite3.Connection,
    *,
    name: str | None,
    compare: str | None,
    settings,
    at: datetime,
) -> SurveyReport:
    """The analysis of one survey (default: the latest by date), against another if named.
    Open complaints are as of ``at``; payment as of the survey's day."""
    survey, previous = _pair(conn, name, compare)
    scale = survey.scale
    notes = _comparison_notes(survey, previous)
    responses, scores = _answers(conn, survey.id)
    weights = settings.survey.weights
    notes += _weight_notes(weights, survey, previous)
    before = _pooled(_answers(conn, previous.id)[1]) if previous is not None else {}
    stats = _dimension_stats(
        _pooled(scores, survey.dimensions), before, scale, weights, compared=previous is not None
    )
    index = satisfaction_index(stats, scale)
    previous_index = _previous_index(before, scale, weights) if previous is not None else None
    stats.sort(key=lambda s: (s.mean is None, s.mean if s.mean is not None else 0, s.name))
    # who answered, against the households there were
    held_on = date.fromisoformat(survey.held_on)
    occupied = occupied_units(conn, held_on)
    buildings, total = _building_rates(survey, responses, scores, occupied)
    # would you recommend us
    recommends = [r[3] for r in responses.values() if r[3] is not None]
    promoters = sum(1 for r in recommends if r >= 9)
    detractors = sum(1 for r in recommends if r <= 6)
    follow_up, anonymous_low, outside_low = _follow_up(conn, responses, scores, scale, at, occupied)
    unit_means = _unit_means(responses, scores, occupied)
    outside = sum(1 for r in responses.values() if r[0] is not None and r[0] not in occupied)
    return SurveyReport(
        survey,
        previous,
        len(responses),
        sum(1 for r in responses.values() if r[0] is None),
        stats,
        buildings,
        total,
        index,
        previous_index,
        ratio((promoters - detractors) * 100, len(recommends)),
        promoters,
        len(recommends) - promoters - detractors,
        detractors,
        follow_up,
        anonymous_low,
        _by_payment(conn, unit_means, held_on, settings),
        _by_band(conn, unit_means, held_on, scale),
        common_phrases([r[4] for r in responses.values()]),
        {s.name: s.weight for s in stats},
        outside,
        outside_low,
        notes,
    )


def _pair(
    conn: sqlite3.Connection, name: str | None, compare: str | None
) -> tuple[SurveyInfo, SurveyInfo | None]:
    """The survey, and the one to compare it with (on the same scale), if named."""
    survey = find_survey(conn, name)
    previous = find_survey(conn, compare) if compare else None
    if previous is not None and previous.id == survey.id:
        raise InvalidValue(_("--compare names the survey itself; name an earlier one"))
    if previous is not None and previous.scale != survey.scale:
        raise InvalidValue(
            _(
                "{name} is on a {scale}-point scale and {previous} on a {previous_scale}-point "
                "one; their means cannot be compared"
            ).format(
                name=survey.name,
                scale=survey.scale,
                previous=previous.name,
                previous_scale=previous.scale,
            )
        )
    return survey, previous


def _comparison_notes(survey: SurveyInfo, previous: SurveyInfo | None) -> list[str]:
    """Warnings about the comparison: it runs backwards in time, or over other questions."""
    notes: list[str] = []
    if previous is not None and previous.held_on > survey.held_on:
        notes.append(
            _(
                "--compare {previous} ({previous_day}) is later than {name} ({day}): the changes "
                "shown run backwards in time"
            ).format(
                previous=previous.name,
                previous_day=previous.held_on,
                name=survey.name,
                day=survey.held_on,
            )
        )
    if previous is not None and set(previous.dimensions) != set(survey.dimensions):
        only_now = [d for d in survey.dimensions if d not in previous.dimensions]
        only_then = [d for d in previous.dimensions if d not in survey.dimensions]
        notes.append(
            _("the two surveys ask different questions")
            + (
                _("; only in {name}: {questions}").format(
                    name=survey.name, questions="、".join(only_now)
                )
                if only_now
                else ""
            )
            + (
                _("; only in {name}: {questions}").format(
                    name=previous.name, questions="、".join(only_then)
                )
                if only_then
                else ""
            )
            + _(" (the indexes are over different questions)")
        )
    return notes


def _weight_notes(
    weights: dict[str, int], survey: SurveyInfo, previous: SurveyInfo | None
) -> list[str]:
    """A warning naming the weights set for questions neither survey asks."""
    unknown = sorted(
        w
        for w in weights
        if w not in survey.dimensions and (previous is None or w not in previous.dimensions)
    )
    if not unknown:
        return []
    return [
        _(
            "[survey] weights name no question of {name}: {unknown} (its questions: {questions})"
        ).format(
            name=survey.name, unknown="、".join(unknown), questions="、".join(survey.dimensions)
        )
    ]


def _pooled(
    scores: dict[int, dict[str, int]], dimensions: list[str] | tuple = ()
) -> dict[str, list[int]]:
    """Every answer to each question (``dimensions`` first, in their order)."""
    by_dimension: dict[str, list[int]] = {d: [] for d in dimensions}
    for answer in scores.values():
        for d, s in answer.items():
            by_dimension.setdefault(d, []).append(s)
    return by_dimension


def _dimension_stats(
    by_dimension: dict[str, list[int]],
    before: dict[str, list[int]],
    scale: int,
    weights: dict[str, int],
    *,
    compared: bool,
) -> list[DimensionStat]:
    """Each question's figures, and when ``compared`` its change since ``before``."""
    stats = []
    for d, values in by_dimension.items():
        mean = _mean(values)
        stat = DimensionStat(
            d,
            len(values),
            mean,
            ratio(sum(1 for v in values if satisfied(v, scale)), len(values)),
            confidence_interval(values, scale),
            {s: values.count(s) for s in range(1, scale + 1)},
            weights.get(d, 1),
        )
        if compared:
            stat.change = welch(values, before.get(d, []))
        stats.append(stat)
    return stats


def _previous_index(
    before: dict[str, list[int]], scale: int, weights: dict[str, int]
) -> Fraction | None:
    old_stats = [
        DimensionStat(d, len(v), _mean(v), None, None, {}, weights.get(d, 1))
        for d, v in before.items()
    ]
    return satisfaction_index(old_stats, scale)


def _building_rates(
    survey: SurveyInfo, responses, scores, occupied: dict[int, str]
) -> tuple[list[BuildingRate], BuildingRate]:
    """Each building's response rate and means, and their total (households only)."""
    answered_units = {r[0] for r in responses.values() if r[0] is not None}
    # an anonymous survey names no unit: its response rate is unknown, not 0%
    named = bool(answered_units) or not responses
    per_building: dict[str, list[int]] = defaultdict(list)
    for uid, building in occupied.items():
        per_building[building].append(uid)
    building_scores: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for rid, (uid, _code, building, *_rest) in responses.items():
        if uid in occupied:
            for d, s in scores[rid].items():
                building_scores[building][d].append(s)
    buildings = []
    for building in sorted(set(per_building) | set(building_scores), key=natural_key):
        units = per_building.get(building, [])
        answered = sum(1 for u in units if u in answered_units)
        pooled = [s for v in building_scores[building].values() for s in v]
        buildings.append(
            BuildingRate(
                building,
                answered,
                len(units),
                ratio(answered, len(units)) if named else None,
                _mean(pooled),
                {d: _mean(building_scores[building].get(d, [])) for d in survey.dimensions},
            )
        )
    answered_total = sum(b.respondents for b in buildings)
    # the total of the building rows: households only, like them (the question table above
    # counts every answer, anonymous ones too)
    household = defaultdict(list)
    for per_dimension in building_scores.values():
        for d, v in per_dimension.items():
            household[d].extend(v)
    total = BuildingRate(
        _("Total"),
        answered_total,
        len(occupied),
        ratio(answered_total, len(occupied)) if named else None,
        _mean([s for v in household.values() for s in v]),
        {d: _mean(household.get(d, [])) for d in survey.dimensions},
    )
    return buildings, total


def _follow_up(conn, responses, scores, scale, at, occupied) -> tuple[list[FollowUp], int, int]:
    """Respondents who gave any low score, with their unit's open complaints: a return visit.
    Anonymous answers and answers from units outside the households are only counted."""
    owners = survey_store.current_owners(conn)
    open_cases: dict[str, list[str]] = defaultdict(list)
    for case in complaints.every_case(conn, at=at):  # a batch at a time, never all held
        if case.unit and case.state in ("open", "assigned", "resolved"):
            open_cases[case.unit].append(
                f"{case.number} {case.category} {complaints.STATES[case.state]}"
            )
    found, anonymous, outside = [], 0, 0
    for rid, (uid, code, building, _recommend, comment) in responses.items():
        lows = {d: s for d, s in scores[rid].items() if low(s, scale)}
        if not lows:
            continue
        if uid is None:
            anonymous += 1
            continue
        if uid not in occupied:
            outside += 1
            continue
        found.append(
            FollowUp(
                code,
                building,
                owners.get(uid, ("", ""))[0],
                lows,
                _mean(list(scores[rid].values())),
                comment,
                open_cases.get(code, []),
                owners.get(uid, ("", ""))[1],
            )
        )
    found.sort(key=lambda f: (f.mean if f.mean is not None else 0, natural_key(f.unit)))
    return found, anonymous, outside


def _unit_means(responses, scores, occupied) -> dict[int, Fraction]:
    """Each answering household's satisfaction: the mean of all its scores."""
    pooled: dict[int, list[int]] = defaultdict(list)
    for rid, (uid, *_rest) in responses.items():
        if uid in occupied:
            pooled[uid].extend(scores[rid].values())
    return {uid: Fraction(sum(v), len(v)) for uid, v in pooled.items() if v}


PAYMENT_GROUPS = (N_("paid on time"), N_("1–30 days overdue"), N_("over 30 days overdue"))
BANDS = (N_("satisfied"), N_("neutral"), N_("dissatisfied"))


def _by_payment(conn, unit_means, held_on: date, settings) -> list[PaymentGroup]:
    """Mean satisfaction of answering units by how overdue they were on the survey's day
    (their oldest bill unpaid on that day)."""
    days: dict[int, int] = {}
    for row in overdue(conn, as_of=held_on, settings=settings):
        days[row.unit_id] = max(days.get(row.unit_id, 0), row.days_overdue)
    groups: dict[str, list[Fraction]] = {g: [] for g in PAYMENT_GROUPS}
    for uid, mean in unit_means.items():
        late = days.get(uid, 0)
        label = PAYMENT_GROUPS[0 if late <= 0 else 1 if late <= 30 else 2]
        groups[label].append(mean)
    return [
        PaymentGroup(_(g), len(v), sum(v, Fraction(0)) / len(v) if v else None)
        for g, v in groups.items()
    ]


def band_of(mean: Fraction, scale: int) -> str:
    """满意 at 4 or more of 5, 一般 from 3 to below 4, 不满意 below 3 (scaled for 10 points)."""
    five = on_five(mean, scale)
    return BANDS[0] if five >= 4 else BANDS[1] if five >= 3 else BANDS[2]


def _by_band(conn, unit_means, held_on: date, scale: int) -> list[BandCollection]:
    """For each band's units: what was due by the survey's day and how much of it was paid
    by then (adjustments and payments after the day do not count)."""
    day = held_on.isoformat()
    due: dict[int, tuple[int, int]] = {}
    if unit_means:
        for uid, owed, paid in survey_store.due_and_paid(conn, day, unit_means):
            due[uid] = (owed, paid)
    bands: dict[str, list[int]] = {b: [] for b in BANDS}
    for uid, mean in unit_means.items():
        bands[band_of(mean, scale)].append(uid)
    out = []
    for band, units in bands.items():
        owed = sum(due.get(u, (0, 0))[0] for u in units)
        paid = sum(due.get(u, (0, 0))[1] for u in units)
        out.append(BandCollection(_(band), len(units), owed, paid, ratio(paid, owed)))
    return out


# ---------------------------------------------------------------- comments

#: phrases worth counting whole; other text is counted in two-character pieces
PHRASES = (
    "没人管",
    "不及时",
    "不到位",
    "太贵",
    "太慢",
    "物业费",
    "停车费",
    "电梯",
    "停车",
    "车位",
    "充电桩",
    "保洁",
    "卫生",
    "垃圾",
    "绿化",
    "噪音",
    "装修",
    "维修",
    "漏水",
    "路灯",
    "照明",
    "门禁",
    "监控",
    "保安",
    "安保",
    "外来人员",
    "快递",
    "宠物",
    "狗",
    "楼道",
    "收费",
    "公示",
    "透明",
    "态度",
    "及时",
    "效率",
    "服务",
    "管家",
    "客服",
    "热水",
    "供暖",
    "暖气",
    "水压",
)
_STOP = set("的了是在我们你他她它和与及也都就还很太有没不这那个些吧呢吗啊哦把被让给对请能会要")
#: pairs that are pieces of words rather than words (没人管 → 人管, 希望 …)
_FRAGMENTS = frozenset(
    ("人管", "希望", "一下", "一些", "非常", "比较", "感觉", "觉得", "可以", "什么", "时候", "经常")
)
_SPLIT = re.compile(r"[^\u4e00-\u9fff]+")
#: words that hold other words or read as other words when cut in pairs: counted whole
COMPOUNDS = (
    "地下车库",
    "地下室",
    "车库",
    "停车场",
    "下水道",
    "化粪池",
    "物业公司",
    "物业管理",
    "业主群",
    "小区",
    "门口",
    "大门",
    "垃圾桶",
    "电动车",
    "充电",
    "水电",
    "单元门",
    "外墙",
    "楼顶",
    "漏雨",
    "巡逻",
    "安全",
    "设施",
    "环境",
    "健身器材",
    "儿童",
    "老人",
    "业主",
    "物业",
    "工作人员",
)
_LEXICON = frozenset((*PHRASES, *COMPOUNDS, *_FRAGMENTS))
_LENGTHS = sorted({len(w) for w in _LEXICON}, reverse=True)


def common_phrases(comments: list[str], limit: int = 10) -> list[tuple[str, int]]:
    """The words most comments use: each counted once per comment, said in at least two.
    A comment is cut into words at the boundaries it shows (``comment_words``), never into
    overlapping pairs of characters: 地下车库 gives 地下车库, not 下车."""
    counts: Counter[str] = Counter()
    for comment in comments:
        if comment:
            counts.update({w for w in comment_words(comment) if w not in _FRAGMENTS})
    ranked = sorted(
        ((p, c) for p, c in counts.items() if c >= 2),
        key=lambda pc: (-pc[1], pc[0] not in PHRASES, pc[0]),
    )
    return ranked[:limit]


def comment_words(comment: str) -> list[str]:
    """The words of a comment: in each run of Chinese characters, the known words (``PHRASES``,
    ``COMPOUNDS``, the fragments), longest first from the left; and the text between two
    known words, stop characters (的, 了, 很, 不 …) or punctuation, taken whole when it is two
    to four characters long (a longer stretch is a clause, not a word)."""
    words: list[str] = []
    for run in _SPLIT.split(comment):
        pending, i = "", 0
        while i < len(run):
            known = next((run[i : i + n] for n in _LENGTHS if run[i : i + n] in _LEXICON), None)
            if known is None and run[i] not in _STOP:
                pending += run[i]
                i += 1
                continue
            words += _whole(pending)
            pending = ""
            if known is not None:
                words.append(known)
                i += len(known)
            else:
                i += 1
        words += _whole(pending)
    return words


def _whole(stretch: str) -> list[str]:
    return [stretch] if 2 <= len(stretch) <= 4 else []
