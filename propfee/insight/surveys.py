"""Satisfaction surveys (客户满意度调查): a questionnaire's answers read from a spreadsheet,
one row per respondent, and the analysis the service centre acts on — who answered, how each
part of the service scores and whether it moved beyond the noise since the last survey, who
to visit again (回访), what the comments talk about, and how satisfaction and payment go
together.

Reading follows the roster's discipline: every bad cell is reported with its file, row and
column, and nothing is written unless the whole file is good. A survey is a record: the
same file imported again under its name changes nothing; another file under a name already
used is refused.

Scores are whole numbers on a 1–5 or 1–10 scale; means and shares are exact fractions shown
to two places. Only the confidence interval and the test of a change use floating point
(the t distribution), rounded to two places.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from propfee.collection.arrears import overdue
from propfee.core.errors import (
    FileFormatError,
    InvalidValue,
    NotFound,
    PropfeeError,
    RowError,
    RowErrors,
)
from propfee.core.money import fen_to_decimal
from propfee.files import cells
from propfee.files.headers import alias_index, lookup, norm_header
from propfee.files.tabular import column_letter, read_sheets
from propfee.files.writers import check_output, neutralise, save_workbook
from propfee.roster.units import natural_key, resolve_code
from propfee.service import complaints

# ---------------------------------------------------------------- vocabulary

#: columns that are not scores -> header aliases (anything else holding numbers is a score)
FIELDS: dict[str, tuple[str, ...]] = {
    "code": (
        "房屋编号",
        "房屋编码",
        "房产编号",
        "房号",
        "房间号",
        "户号",
        "房屋号",
        "unit code",
        "unit",
        "code",
    ),
    "building": ("楼栋", "楼号", "楼栋号", "栋号", "楼宇", "楼座", "幢号", "栋", "幢", "building"),
    "entrance": ("单元", "单元号", "entrance"),
    "room": ("房间", "室号", "门牌号", "室", "room", "room no"),
    "recommend": (
        "推荐意愿",
        "是否愿意推荐",
        "愿意推荐",
        "推荐给亲友",
        "推荐度",
        "推荐",
        "nps",
        "recommend",
        "would recommend",
    ),
    "comment": (
        "意见建议",
        "意见和建议",
        "意见或建议",
        "其他意见",
        "建议",
        "意见",
        "评价",
        "备注",
        "留言",
        "comment",
        "comments",
        "remarks",
    ),
    "date": ("填写日期", "调查日期", "提交日期", "提交时间", "答卷时间", "日期", "date"),
    "ignore": (
        "序号",
        "编号",
        "no",
        "seq",
        "受访人",
        "受访者",
        "填写人",
        "业主",
        "业主姓名",
        "姓名",
        "respondent",
        "name",
        "联系电话",
        "电话",
        "手机",
        "手机号",
        "phone",
        "mobile",
        "身份证号",
        "年龄",
        "age",
        "性别",
        "楼层",
        "floor",
        "面积",
        "建筑面积",
        "调查方式",
        "来源",
        "ip",
        "ip地址",
        "用时",
        "答题时间",
        "所用时间",
        "居住年限",
        "入住年限",
        "居住时间",
        "入住时间",
        "家庭人口",
        "家庭人数",
        "常住人口",
        "人口",
        "车辆数",
        "车辆数量",
        "拥有车辆",
        "学历",
        "职业",
        "收入",
        "家庭收入",
        "月收入",
        "户型",
        "总分",
    ),
}
_ALIASES = alias_index(FIELDS)
_UNIT_FIELDS = ("code", "building", "entrance", "room")
#: a question's numbering: ``1、`` ``Q3.`` ``Q1 `` ``(2)`` ``第7题``
_NUMBERING = re.compile(
    r"^\s*(?:第\s*\d{1,3}\s*题\s*[、.．:：)）]?|[Qq]\s*\d{1,3}\s*(?:[、.．:：)）_]|\s)"
    r"|\d{1,3}\s*[、.．:：)）]|[（(]\d{1,3}[)）])\s*"
)
#: words that name the unit wherever they stand in a header (您的房号, 楼号-单元-房号)
_UNIT_WORDS = (
    "房号",
    "房间号",
    "户号",
    "房屋编号",
    "房屋编码",
    "房屋地址",
    "门牌号",
    "住址",
    "地址",
)
#: words asking for something, left off before a header is looked up (请填写您的楼栋)
_FILLER = re.compile(r"^(?:请(?:填写|输入|选择)|您(?:家)?(?:所在|所住)?的?|所在的?|所住的?)+")
#: header words of soft columns: decided by what the column holds
_RECOMMEND_WORDS = ("推荐", "nps", "recommend")
_COMMENT_WORDS = ("意见", "建议", "留言", "备注", "comment")
_DATE_WORDS = ("日期", "提交时间", "答卷时间", "提交答卷", "结束答题", "完成时间", "填写时间")

#: words people answer instead of a number, on a 1–5 scale
SCORE_WORDS = {
    "非常满意": 5,
    "很满意": 5,
    "十分满意": 5,
    "满意": 4,
    "比较满意": 4,
    "较满意": 4,
    "基本满意": 3,
    "一般": 3,
    "还行": 3,
    "不太满意": 2,
    "不满意": 2,
    "较不满意": 2,
    "比较不满意": 2,
    "非常不满意": 1,
    "很不满意": 1,
    "极不满意": 1,
}
#: what questionnaire sites write for a question not answered (besides 无, -, / …)
NOT_ANSWERED = frozenset(
    (
        "(跳过)",
        "跳过",
        "(空)",
        "不适用",
        "不清楚",
        "不了解",
        "未回答",
        "未作答",
        "未答",
        "未使用",
        "没用过",
        "不知道",
        "(未填)",
    )
)
_SCORE_TAIL = re.compile(r"^(\d{1,2})(?:\.0+)?\s*分?$")
#: "A.非常满意", "B、满意", "(C) 一般": the option letter of a questionnaire site
_OPTION_LETTER = re.compile(r"^\(?[A-Ka-k]\)?\s*[.、:)\s]\s*(?=\S)")
#: "非常满意(5分)", "5分-非常满意", "非常满意 5": the points written beside the words
_POINTS = re.compile(r"\(?\[?(\d{1,2})\s*分?\]?\)?")
#: a yes/no question (是否愿意推荐: 愿意/不愿意) is not a 0–10 score
YES_NO = frozenset(
    ("是", "否", "愿意", "不愿意", "会", "不会", "可能", "不一定", "yes", "no", "y", "n")
)
_FOOTERS = (
    "合计",
    "总计",
    "小计",
    "平均",
    "均值",
    "共计",
    "总平均",
    "总体平均",
    "满意率",
    "满意度合计",
    "参与率",
    "回收率",
    "有效问卷",
    "问卷总数",
    "统计",
    "制表",
    "说明",
    "注:",
    "注：",
)


def _strip_numbering(header: str) -> str:
    return _NUMBERING.sub("", str(header)).strip()


def dimension_name(header: str) -> str:
    """A question's header as a dimension: its numbering (``1、``, ``Q3.``, ``第7题``) left
    off, spaces removed, otherwise as written."""
    text = re.sub(r"\s+", "", _strip_numbering(header))
    # the scale written into the header: "总体满意度(1-5分)" is 总体满意度
    text = _SCALE_HINT.sub("", text) or text
    # a matrix question's shared stem: "请对以下各项打分—服务态度" is 服务态度
    parts = [p for p in re.split(r"[—\-－:：_|｜]+", text) if p]
    if len(parts) >= 2 and any(w in parts[0] for w in ("打分", "评价", "以下", "各项")):
        text = parts[-1]
    return text or str(header).strip()


_SCALE_HINT = re.compile(r"[(（\[【]\s*(?:0|1)\s*[-~～—至到]\s*(?:5|10)\s*分?\s*[)）\]】]")


def _field_of(header: str) -> tuple[str, bool] | None:
    """(field, firm) a header names, its numbering left off; None for a question. A firm
    match is by the header alone; a soft one (a header mentioning 推荐 or 意见) is decided by
    what the column holds."""
    text = _strip_numbering(header)
    hit = lookup(text, _ALIASES, {})
    if hit is not None:
        return hit[0], True
    key = norm_header(text)
    if any(word in key for word in _UNIT_WORDS):
        return "code", True
    plain = _FILLER.sub("", key)
    if plain != key and plain:
        hit = lookup(plain, _ALIASES, {})
        if hit is not None and hit[0] in (*_UNIT_FIELDS, "ignore"):
            return hit[0], True
    if any(word in key for word in _DATE_WORDS):
        return "date", True
    if any(word in key for word in _RECOMMEND_WORDS):
        return "recommend", False
    if any(word in key for word in _COMMENT_WORDS):
        return "comment", False
    return None


# ---------------------------------------------------------------- reading


@dataclass
class SurveyRow:
    sheet: str
    row: int
    unit_id: int | None
    unit: str  # its code, "" when anonymous
    scores: dict[str, int]
    recommend: int | None
    comment: str


@dataclass
class SurveyFile:
    file: str
    sha256: str
    dimensions: list[str]
    scale: int
    rows: list[SurveyRow]
    held_on: date | None  # the latest answer date in the file, when it has a date column
    notices: list[str] = field(default_factory=list)
    skipped: int = 0  # rows with a unit but no answers: not returned
    scale_detected: bool = True  # False when --scale gave it


@dataclass
class _Column:
    index: int
    header: str
    letter: str

    @property
    def label(self) -> str:
        return f"{self.header} ({self.letter})"


def _not_answered(value: object) -> bool:
    """A cell that says the question was not answered: blank, 无, -, (跳过), 不适用 …"""
    if cells.is_blank(value):
        return True
    if not isinstance(value, str):
        return False
    text = cells.ascii_text(value).lower().replace(" ", "")
    return text in NOT_ANSWERED or cells.is_blank(text)


def _score_of(value: object) -> tuple[int | None, bool]:
    """(score, said in words) of a cell; (None, False) when not answered. Raises
    InvalidValue."""
    if _not_answered(value):
        return None, False
    if isinstance(value, bool):
        raise InvalidValue("not a score")
    if isinstance(value, int):
        return value, False
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidValue("a score is a whole number")
        return int(value), False
    text = cells.ascii_text(value)
    if text in SCORE_WORDS:
        return SCORE_WORDS[text], True
    match = _SCORE_TAIL.match(text)
    if match:
        return int(match.group(1)), False
    spelled = _spelled_score(text)
    if spelled is not None:
        return spelled
    if re.fullmatch(r"\d+\.\d+", text):
        raise InvalidValue("a score is a whole number")
    raise InvalidValue(
        "not a score: give a number, or 非常满意/满意/一般/不满意/非常不满意 on a 5-point scale"
    )


def _spelled_score(text: str) -> tuple[int, bool] | None:
    """An answer as questionnaire sites export it: "A.非常满意", "非常满意(5分)",
    "5分 非常满意", "B、4". Points written out win over the words beside them."""
    rest = _OPTION_LETTER.sub("", text, count=1).strip()
    if rest != text and (rest in SCORE_WORDS or _SCORE_TAIL.match(rest)):
        return _score_of(rest)  # type: ignore[return-value]
    points = [m for m in _POINTS.finditer(rest) if m.group(1)]
    if len(points) == 1:
        words = (rest[: points[0].start()] + rest[points[0].end() :]).strip(" -—:()[]")
        if not words or words in SCORE_WORDS:
            return int(points[0].group(1)), False
    return None


def _is_scoreish(value: object) -> bool:
    """A cell that reads as an answer on a 0–10 scale (a phone number or a duration does
    not)."""
    try:
        score, _ = _score_of(value)
    except InvalidValue:
        return False
    return score is not None and 0 <= score <= 10


def read_survey(
    conn: sqlite3.Connection,
    path: Path,
    *,
    scale: int | None = None,
    anonymous: bool = False,
) -> SurveyFile:
    """Read and check a survey file against the roster. Raises RowErrors naming every bad
    cell (file, row, column); writes nothing. A file naming no unit is refused unless
    ``anonymous`` (then every answer is anonymous)."""
    if scale not in (None, 5, 10):
        raise InvalidValue("--scale must be 5 or 10")
    data = _file_bytes(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and data and not data.startswith(b"PK"):
        raise FileFormatError(
            f"{path.name}: damaged, or not an .xlsx workbook (another kind of file renamed); "
            "open it in Excel and save it again as .xlsx"
        )
    sheets = [s for s in read_sheets(path) if not s.hidden] or read_sheets(path)
    file = path.name
    errors: list[RowError] = []
    for sheet in sheets:
        rows = list(sheet.rows())
        found = _find_header(rows)
        if found is None:
            continue
        position, texts, known, soft, candidates = found
        header_row = rows[position][0]
        body = []
        for n, c in rows[position + 1 :]:
            if not any(not cells.is_blank(v) for v in c) or _is_footer(c):
                continue
            if [t for t in _texts(c) if t] == [t for t in texts if t]:
                continue  # the header repeated
            body.append((n, c))
        for i, field_ in soft.items():
            values = [r[i] for _, r in body if i < len(r) and not _not_answered(r[i])]
            if field_ == "recommend":
                fits = all(
                    not isinstance(v, bool)
                    and (
                        (isinstance(v, int | float) and float(v).is_integer() and 0 <= v <= 10)
                        or (isinstance(v, str) and _SCORE_TAIL.match(cells.ascii_text(v)))
                    )
                    for v in values
                )
            else:  # a comment column holds text, not scores
                fits = not values or sum(1 for v in values if _is_scoreish(v)) * 2 < len(values)
            if fits and field_ not in known:
                known[field_] = i
            elif field_ == "recommend" or not fits:
                candidates[i] = texts[i]
        early: list[str] = []
        if "recommend" in known:
            i = known["recommend"]
            values = [r[i] for _, r in body if i < len(r) and not _not_answered(r[i])]
            if values and all(
                isinstance(v, str) and cells.ascii_text(v).lower() in YES_NO for v in values
            ):
                early.append(
                    f"column {texts[i]} is a yes/no question, not the 0–10 recommend question: "
                    "left out (no NPS)"
                )
                del known["recommend"]
        if anonymous:
            for f in _UNIT_FIELDS:
                known.pop(f, None)
        elif body and not any(f in known for f in _UNIT_FIELDS):
            seen = "、".join(t for t in texts if t)
            raise FileFormatError(
                f"{file}: no column names the unit (房号, or 楼栋/单元/房间); headers seen: "
                f"{seen}. Name the unit column so, or give --anonymous for an anonymous survey"
            )
        labels = {
            f: f"{texts[i]} ({column_letter(i + sheet.first_column)})" for f, i in known.items()
        }
        return _read_body(
            conn,
            file,
            "" if sheet.name == file else sheet.name,  # a CSV file: one table
            header_row,
            (known, labels),
            candidates,
            body,
            data,
            scale,
            errors,
            sheet.first_column,
            early,
        )
    raise FileFormatError(
        f"{file}: no survey header found; expected a header row naming the unit (房号, or "
        "楼栋/单元/房间) or the questions (服务态度, 保洁 …) within the first 30 rows"
    )


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror})") from None


def _texts(row: list) -> list[str]:
    return [cells.text(v) if isinstance(v, str) else "" for v in row]


def _classify(texts: list[str]) -> tuple[dict[str, int], dict[int, str], dict[int, str]]:
    """(firm field -> column, soft column -> field, question column -> header) of a row."""
    known: dict[str, int] = {}
    soft: dict[int, str] = {}
    candidates: dict[int, str] = {}
    for i, header in enumerate(texts):
        if not header:
            continue
        hit = _field_of(header)
        if hit is None:
            candidates[i] = header
        elif not hit[1]:
            soft[i] = hit[0]
        elif hit[0] != "ignore" and hit[0] not in known:
            known[hit[0]] = i
    return known, soft, candidates


def _find_header(rows: list) -> tuple[int, list[str], dict, dict, dict] | None:
    """The header among the first 30 rows: the row (or, under a merged group label such as
    满意度评价, the lower row of a two-row header) naming the most known columns and
    questions whose answers below read as scores. A title row (one text merged across the
    table) or a preamble names none and is passed over."""
    best = None
    for position, (_, row) in enumerate(rows[:30]):
        options = [_texts(row)]
        if position > 0:
            upper = _texts(rows[position - 1][1])
            lower = options[0]
            if len({t for t in upper if t}) >= 2 and any(
                u and not w for u, w in zip(upper, lower, strict=False)
            ):
                width = max(len(upper), len(lower))
                upper += [""] * (width - len(upper))
                lower = lower + [""] * (width - len(lower))
                options.append([w or u for u, w in zip(upper, lower, strict=True)])
        sample = [r for _, r in rows[position + 1 : position + 21]]
        for texts in options:
            texts = ["" if _is_answer_text(t) else t for t in texts]
            if sum(1 for t in texts if t) < 2:
                continue
            known, soft, candidates = _classify(texts)
            scored = {
                header
                for i, header in candidates.items()
                if (values := [r[i] for r in sample if i < len(r) and not cells.is_blank(r[i])])
                and sum(1 for v in values if _is_scoreish(v)) * 2 >= len(values)
            }
            if not scored and not known:
                continue
            score = len(known) + len(set(soft.values())) + len(scored)
            if best is None or score > best[0]:
                best = (score, position, texts, known, soft, candidates)
    if best is None:
        return None
    return best[1:]


def _is_answer_text(text: str) -> bool:
    """A cell that reads as an answer or a value (3, 2026-11-05, 满意), never a header."""
    return bool(text) and (
        re.fullmatch(r"[\d\s.:/\-]+", text) is not None
        or text in SCORE_WORDS
        or _SCORE_TAIL.match(text) is not None
        or _spelled_score(text) is not None
    )


def _is_footer(row: list) -> bool:
    first = next((v for v in row if not cells.is_blank(v)), "")
    return isinstance(first, str) and first.strip().startswith(_FOOTERS)


def _scale_of(per_column: dict[str, list[int]], file: str) -> int:
    """The scale the answers use: 10 when a question's answers clearly run above 5 (a third
    or more of them, at least two), else 5 — a stray 6 among 1–5 answers is a bad cell, not
    a 10-point survey. Questions answered 1–10 beside others answered only 1–5 (three or
    more answers) cannot be told apart: an error asking for --scale."""
    tens, fives = [], []
    for name, values in per_column.items():
        high = sum(1 for v in values if v > 5)
        if high and high * 3 >= len(values) and (high >= 2 or len(values) <= 2):
            tens.append(name)
        elif not high and len(values) >= 3:
            fives.append(name)
    if not tens:
        return 5
    if fives:
        raise FileFormatError(
            f"{file}: the questions do not share one scale: {'、'.join(tens)} are answered "
            f"up to 10 but {'、'.join(fives)} only 1–5; give --scale 5 (answers above 5 are "
            "then listed as bad cells) or --scale 10"
        )
    return 10


def _read_body(
    conn,
    file,
    sheet,
    header_row,
    columns,
    candidates,
    body,
    data,
    scale,
    errors,
    first_column,
    notices: list[str],
) -> SurveyFile:
    known, labels = columns

    def column(i: int, header: str) -> _Column:
        return _Column(i, header, column_letter(i + first_column))

    def cell(row: list, i: int | None) -> object:
        return row[i] if i is not None and i < len(row) else None

    # which of the other columns hold scores: most of their answers are numbers or words
    dimensions: dict[int, _Column] = {}
    for i, header in sorted(candidates.items()):
        values = [cell(r, i) for _, r in body if not _not_answered(cell(r, i))]
        if values and sum(1 for v in values if _is_scoreish(v)) * 2 >= len(values):
            dimensions[i] = column(i, dimension_name(header))
        elif values:
            notices.append(f"column {header} ({column(i, header).letter}) ignored: no scores")
        else:
            notices.append(f"column {header} ({column(i, header).letter}) ignored: no answers")
    names = [c.header for c in dimensions.values()]
    doubled = {n for n in names if names.count(n) > 1}
    for c in dimensions.values():
        if c.header in doubled:
            errors.append(
                RowError(file, sheet, header_row, c.label, "", "two questions with this name")
            )
    if not dimensions:
        raise FileFormatError(
            f"{file}: no score columns found (a column of numbers 1–5 or 1–10, or 满意/一般 …)"
        )
    # the scale: declared, else from how the answers run
    per_column: dict[str, list[int]] = {}
    words = False
    for _, row in body:
        for i, col in dimensions.items():
            try:
                score, said = _score_of(cell(row, i))
            except InvalidValue:
                continue
            if score is not None:
                if said:
                    words = True
                else:
                    per_column.setdefault(col.header, []).append(score)
    chosen = scale or _scale_of(per_column, file)
    if words and chosen == 10:
        notices.append("answers in words (满意 …) read on the 5-point scale")
    units = _Units(conn)
    rows: list[SurveyRow] = []
    skipped = 0
    unanswered = 0
    latest: date | None = None
    for number, row in body:
        bad_before = len(errors)

        def bad(label: str, value: object, message: str, number=number) -> None:
            errors.append(RowError(file, sheet, number, label, cells.text(value), message))

        scores: dict[str, int] = {}
        for i, col in dimensions.items():
            raw = cell(row, i)
            try:
                score, said = _score_of(raw)
            except InvalidValue as exc:
                bad(col.label, raw, str(exc))
                continue
            if score is None:
                if not cells.is_blank(raw) or (isinstance(raw, str) and raw.strip()):
                    unanswered += 1
                continue
            if said and chosen != 5:
                bad(col.label, raw, "answers in words need a 5-point scale (--scale 5)")
            elif not 1 <= score <= chosen:
                bad(col.label, raw, f"{score} is outside this survey's 1–{chosen} scale")
            else:
                scores[col.header] = score
        recommend = None
        raw = cell(row, known.get("recommend"))
        if not _not_answered(raw):
            try:
                value, said = _score_of(raw)
                if said or value is None or not 0 <= value <= 10:
                    raise InvalidValue("")
                recommend = value
            except InvalidValue:
                bad(labels["recommend"], raw, "would-recommend is a whole number from 0 to 10")
        elif isinstance(raw, str) and raw.strip():
            unanswered += 1
        comment = cells.text(cell(row, known.get("comment")))
        if _not_answered(comment):
            comment = ""
        raw = cell(row, known.get("date"))
        try:
            answered = cells.parse_date(raw)
        except InvalidValue as exc:
            bad(labels["date"], raw, str(exc))
            answered = None
        if answered and (latest is None or answered > latest):
            latest = answered
        unit_id, code, unit_error = _unit_of(conn, units, row, known, cell)
        if unit_error:
            field_, value, message = unit_error
            bad(labels[field_], value, message)
        if not scores and recommend is None and not comment:
            if len(errors) == bad_before:
                skipped += 1  # a pre-filled row for a unit that did not answer
            continue
        rows.append(SurveyRow(sheet, number, unit_id, code, scores, recommend, comment))
    if errors:
        raise RowErrors(errors)
    trailing = _summary_rows(rows, has_unit=any(f in known for f in _UNIT_FIELDS))
    if trailing:
        rows = rows[: -len(trailing)]
        notices.append(
            "row " + ", ".join(str(r.row) for r in trailing) + ": no unit below answers that "
            "all name one — read as a total or average row and left out"
        )
    recommended = [r.recommend for r in rows if r.recommend is not None]
    if len(recommended) >= 3 and max(recommended) <= 5:
        # every answer 0–5: a 5-point question under a recommend header; as NPS it would
        # make every respondent a detractor
        notices.append(
            f"{labels['recommend']} is answered only 0–5: it reads as a 5-point question, not "
            "the 0–10 recommend question, so no NPS is given (ask it on 0–10)"
        )
        for r in rows:
            r.recommend = None
    rows, repeated = _drop_repeats(rows)
    if repeated:
        notices.append(
            f"{len(repeated)} repeated submissions (the same unit, the same answers) counted "
            "once: rows " + ", ".join(str(r) for r in repeated[:10])
        )
    if unanswered:
        notices.append(
            f"{unanswered} answers such as (跳过), 不适用, 不清楚, -, 无 read as not answered"
        )
    if skipped:
        notices.append(f"{skipped} rows without answers skipped (questionnaires not returned)")
    if not rows:
        notices.append("no answers below the header")
    return SurveyFile(
        file,
        hashlib.sha256(data).hexdigest(),
        list(names),
        chosen,
        rows,
        latest,
        notices,
        skipped,
        scale is None,
    )


def _summary_rows(rows: list[SurveyRow], *, has_unit: bool) -> list[SurveyRow]:
    """The rows at the bottom with no unit and no comment, under answers that all name their
    unit: a sum or average row without a label (合计 and the like are skipped earlier)."""
    if not has_unit:
        return []
    tail = 0
    while tail < len(rows) and not rows[-1 - tail].unit and not rows[-1 - tail].comment:
        tail += 1
    above = rows[: len(rows) - tail]
    if tail and len(above) >= 2 and all(r.unit for r in above):
        return rows[len(rows) - tail :]
    return []


def _drop_repeats(rows: list[SurveyRow]) -> tuple[list[SurveyRow], list[int]]:
    """A unit's questionnaire submitted twice with the same answers counts once."""
    seen: set[tuple] = set()
    kept, repeated = [], []
    for row in rows:
        if row.unit_id is None:
            kept.append(row)
            continue
        key = (row.unit_id, tuple(sorted(row.scores.items())), row.recommend, row.comment)
        if key in seen:
            repeated.append(row.row)
            continue
        seen.add(key)
        kept.append(row)
    return kept, repeated


def _part_key(part: str) -> str:
    """A part of a unit's place compared as the roster means it: ``01`` is ``1``, letter
    case tells nothing apart."""
    return (part.lstrip("0") or "0") if part.isdigit() else part.lower()


class _Units:
    """The roster's units by code and by building/entrance/room."""

    def __init__(self, conn: sqlite3.Connection):
        self.codes: dict[str, int] = {}
        self.by_room: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
        for uid, code, building, entrance, room in conn.execute(
            "SELECT id, code, building, entrance, room FROM unit"
        ):
            self.codes[code] = uid
            if room:
                self.by_room[_part_key(room)].append(
                    (uid, code, _part_key(building), _part_key(entrance))
                )

    def find(self, building: str, entrance: str, room: str) -> list[tuple[int, str]]:
        b, e = _part_key(building) if building else "", _part_key(entrance) if entrance else ""
        return [
            (uid, code)
            for uid, code, ub, ue in self.by_room.get(_part_key(room), ())
            if (not b or ub == b) and (not e or ue == e)
        ]


_TOKEN = re.compile(r"[0-9A-Za-z]+")


def _unit_of(conn, units: _Units, row, known, cell) -> tuple[int | None, str, tuple | None]:
    """(unit id, code, error) of a row: by its code as the roster writes it (``1-1-101``),
    else by its parts however written (``1栋1单元101室``, ``1#1-201``, ``01-01-0402``),
    else by building/entrance/room columns. A row naming no unit at all is anonymous."""
    import unicodedata


    raw_code = cell(row, known.get("code"))
    building = cells.building_part(cell(row, known.get("building")))
    entrance = cells.entrance_part(cell(row, known.get("entrance")))
    room = cells.room_part(cell(row, known.get("room")))
    building, entrance, room = ("" if cells.is_blank(p) else p for p in (building, entrance, room))
    if not cells.is_blank(raw_code):
        code = resolve_code(conn, raw_code)
        if code in units.codes:
            return units.codes[code], code, None
        if building and f"{building}-{code}" in units.codes:  # 楼栋 1 | 房号 1-101
            local = f"{building}-{code}"
            return units.codes[local], local, None
        tokens = _TOKEN.findall(unicodedata.normalize("NFKC", code))[-3:]
        if len(tokens) == 3:
            parts = tuple(tokens)
        elif len(tokens) == 2:
            parts = (building, *tokens) if building else (tokens[0], entrance, tokens[1])
        elif len(tokens) == 1:  # 楼栋 | 单元 | 房号 101室: the code column holds the room
            parts = (building, entrance, tokens[0])
        else:
            parts = ("", "", "")
        found = units.find(*parts) if parts[2] else []
        if len(found) == 1:
            return found[0][0], found[0][1], None
        if len(found) > 1:
            return None, "", ("code", raw_code, f"{code} names several units; give the full code")
        return None, "", ("code", raw_code, f"no unit {code} in the roster")
    if not room:
        if building or entrance:
            field_ = "building" if building else "entrance"
            return None, "", (field_, building or entrance, "no room number: which unit?")
        return None, "", None  # anonymous
    found = units.find(building, entrance, room)
    place = "-".join(p for p in (building, entrance, room) if p)
    if not found:
        return None, "", ("room", room, f"no unit {place} in the roster")
    if len(found) > 1:
        return None, "", ("room", room, f"{place} names several units; give 楼栋 and 单元")
    return found[0][0], found[0][1], None


# ---------------------------------------------------------------- importing


@dataclass
class ImportResult:
    name: str
    held_on: str
    scale: int
    dimensions: list[str]
    responses: int
    anonymous: int
    units: int
    skipped: int
    unchanged: bool
    notices: list[str]
    dry_run: bool = False
    scale_detected: bool = True  # read from the answers rather than given with --scale

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "held_on": self.held_on,
            "scale": self.scale,
            "scale_detected": self.scale_detected,
            "dimensions": self.dimensions,
            "responses": self.responses,
            "anonymous": self.anonymous,
            "units": self.units,
            "skipped": self.skipped,
            "unchanged": self.unchanged,
            "notices": self.notices,
            "dry_run": self.dry_run,
            "errors": [],
        }


class SurveyExists(PropfeeError):
    """A survey name already holds another file's answers."""


def import_survey(
    conn: sqlite3.Connection,
    path: Path,
    *,
    name: str,
    held_on: date | None,
    scale: int | None,
    now: datetime,
    anonymous: bool = False,
) -> ImportResult:
    """Read a survey file and record it inside the caller's transaction. The same file
    under the same name again is a no-op; another file under a used name is refused."""
    name = name.strip()
    if not name:
        raise InvalidValue("--name must not be empty")
    parsed = read_survey(conn, path, scale=scale, anonymous=anonymous)
    existing = conn.execute(
        "SELECT name, sha256, held_on, scale, dimensions FROM survey WHERE name = ? OR sha256 = ?",
        (name, parsed.sha256),
    ).fetchall()
    for other, sha, on, sc, dims in existing:
        if other == name and sha == parsed.sha256:
            count, nameless, units = _counts(conn, name)
            notices = list(parsed.notices)
            if held_on is not None and held_on.isoformat() != on:
                notices.append(
                    f"--date {held_on} ignored: the survey was recorded with the day {on}"
                )
            if scale is not None and scale != sc:
                notices.append(f"--scale {scale} ignored: the survey was recorded on {sc} points")
            return ImportResult(
                name,
                on,
                sc,
                json.loads(dims),
                count,
                nameless,
                units,
                parsed.skipped,
                True,
                notices,
                scale_detected=parsed.scale_detected,
            )
    for other, _sha, *_ in existing:
        if other == name:
            raise SurveyExists(
                f"survey {name!r} already holds the answers of another file; a survey is a "
                "record and is not replaced — import this file under a new --name"
            )
        raise SurveyExists(f"{path.name} was already imported as survey {other!r}")
    day = held_on or parsed.held_on
    if day is None:
        raise InvalidValue(f"{path.name} has no date column: give the survey's day with --date")
    if day > now.date():
        raise InvalidValue(f"--date {day} is in the future")

    notices = list(parsed.notices)
    occupied = occupied_units(conn, day)
    outside = sorted(
        {r.unit for r in parsed.rows if r.unit_id is not None and r.unit_id not in occupied},
        key=natural_key,
    )
    if outside:
        answers = sum(1 for r in parsed.rows if r.unit_id is not None and r.unit_id not in occupied)
        notices.append(
            f"{answers} answers come from units that are not an occupied home, shop or office "
            f"on {day} (parking, storage, unsold or empty: {'、'.join(outside[:8])}"
            + (" …" if len(outside) > 8 else "")
            + "); their scores count in the question means, but not in the response rates, "
            "building means, the payment tables or the return-visit list"
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    survey_id = conn.execute(
        "INSERT INTO survey (name, held_on, scale, dimensions, source, sha256, imported_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            name,
            day.isoformat(),
            parsed.scale,
            json.dumps(parsed.dimensions, ensure_ascii=False),
            parsed.file,
            parsed.sha256,
            stamp,
        ),
    ).lastrowid
    for row in parsed.rows:
        rid = conn.execute(
            "INSERT INTO survey_response (survey_id, sheet, row, unit_id, recommend, comment) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (survey_id, row.sheet, row.row, row.unit_id, row.recommend, row.comment),
        ).lastrowid
        conn.executemany(
            "INSERT INTO survey_score (response_id, dimension, score) VALUES (?, ?, ?)",
            [(rid, d, s) for d, s in row.scores.items()],
        )
    count, anonymous, units = _counts(conn, name)
    return ImportResult(
        name,
        day.isoformat(),
        parsed.scale,
        parsed.dimensions,
        count,
        anonymous,
        units,
        parsed.skipped,
        False,
        notices,
        scale_detected=parsed.scale_detected,
    )


def _counts(conn, name: str) -> tuple[int, int, int]:
    return conn.execute(
        "SELECT count(*), count(*) - count(r.unit_id), count(DISTINCT r.unit_id) "
        "FROM survey_response r JOIN survey s ON s.id = r.survey_id WHERE s.name = ?",
        (name,),
    ).fetchone()


@dataclass
class SurveyInfo:
    id: int
    name: str
    held_on: str
    scale: int
    dimensions: list[str]
    source: str
    imported_at: str
    responses: int


def surveys(conn: sqlite3.Connection) -> list[SurveyInfo]:
    """Every survey, latest first."""
    return [
        SurveyInfo(sid, name, on, sc, json.loads(dims), source, at, count)
        for sid, name, on, sc, dims, source, at, count in conn.execute(
            "SELECT s.id, s.name, s.held_on, s.scale, s.dimensions, s.source, s.imported_at, "
            "(SELECT count(*) FROM survey_response r WHERE r.survey_id = s.id) FROM survey s "
            "ORDER BY s.held_on DESC, s.id DESC"
        )
    ]


def find_survey(conn: sqlite3.Connection, name: str | None) -> SurveyInfo:
    """The survey named, else the latest by its date."""
    found = surveys(conn)
    if not found:
        raise NotFound("no survey yet (import one with propfee survey import)")
    if name is None:
        return found[0]
    for one in found:
        if one.name == name.strip():
            return one
    raise NotFound(f"no survey {name!r} (surveys: {', '.join(s.name for s in found[:8])})")


# ---------------------------------------------------------------- statistics


def fmt(value: Fraction | None, places: int = 2) -> str:
    """An exact fraction to ``places`` decimals, halves rounded up; None is ``—``."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return str(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, ROUND_HALF_UP)
    )


def percent(value: Fraction | None, places: int = 1) -> str:
    return "—" if value is None else fmt(value * 100, places) + "%"


def ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    return _betai(df / 2.0, 0.5, df / (df + t * t))


def t_critical(df: float, level: float = 0.95) -> float:
    """The two-sided critical value of Student's t (1.96 as df grows)."""
    low, high = 0.0, 1000.0
    for _ in range(200):
        mid = (low + high) / 2
        if t_two_sided_p(mid, df) > 1 - level:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _variance(scores: list[int], mean: Fraction) -> Fraction:
    """The sample variance (n − 1), exactly."""
    return sum(((s - mean) ** 2 for s in scores), Fraction(0)) / (len(scores) - 1)


def confidence_interval(scores: list[int], scale: int) -> tuple[Fraction, Fraction] | None:
    """The 95% confidence interval of the mean, by Student's t, kept within the scale (1 to
    ``scale``); None below two answers. Each bound is worked out in floating point and
    rounded once, to two places (a mean of 3.625 ± 0.2235 is 3.40 … 3.85)."""
    n = len(scores)
    if n < 2:
        return None
    mean = Fraction(sum(scores), n)
    half = t_critical(n - 1) * math.sqrt(float(_variance(scores, mean)) / n)

    def bound(value: float) -> Fraction:
        return Fraction(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))

    low_end, high_end = bound(float(mean) - half), bound(float(mean) + half)
    return max(low_end, Fraction(1)), min(high_end, Fraction(scale))


@dataclass
class Change:
    previous_mean: Fraction | None
    delta: Fraction | None
    p_value: float | None
    beyond_noise: bool | None  # None: not enough answers to tell

    @property
    def statement(self) -> str:
        if self.delta is None:
            return "上期无此项"
        if self.beyond_noise is None:
            return "样本太少，无法判断"
        if not self.beyond_noise:
            return "变化在误差范围内"
        return ("上升" if self.delta > 0 else "下降") + "，超出误差范围"


def welch(current: list[int], previous: list[int]) -> Change:
    """The change in the mean from ``previous`` to ``current``, and whether Welch's
    two-sample t test finds it beyond the noise at 95% (p < 0.05)."""
    if not previous or not current:
        return Change(None, None, None, None)
    m1, m0 = Fraction(sum(current), len(current)), Fraction(sum(previous), len(previous))
    delta = m1 - m0
    if len(current) < 2 or len(previous) < 2:
        return Change(m0, delta, None, None)
    v1 = _variance(current, m1) / len(current)
    v0 = _variance(previous, m0) / len(previous)
    se2 = v1 + v0
    if se2 == 0:
        return Change(m0, delta, 0.0 if delta else 1.0, delta != 0)
    t = float(delta) / math.sqrt(float(se2))
    df = float(se2) ** 2 / (
        (float(v1) ** 2 / (len(current) - 1) if v1 else 0.0)
        + (float(v0) ** 2 / (len(previous) - 1) if v0 else 0.0)
    )
    p = t_two_sided_p(t, df)
    return Change(m0, delta, round(p, 4), p < 0.05)


def satisfied(score: int, scale: int) -> bool:
    """4–5 of 5; on a 10-point scale 8–10 (a score of at least 0.8 × the scale)."""
    return score * 5 >= 4 * scale


def low(score: int, scale: int) -> bool:
    """1–2 of 5; on a 10-point scale 1–4 (a score of at most 0.4 × the scale)."""
    return score * 5 <= 2 * scale


def on_five(value: Fraction, scale: int) -> Fraction:
    return value * 5 / scale


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
    responses = {
        rid: (uid, code, building, recommend, comment)
        for rid, uid, code, building, recommend, comment in conn.execute(
            "SELECT r.id, r.unit_id, coalesce(u.code, ''), coalesce(u.building, ''), "
            "r.recommend, r.comment FROM survey_response r LEFT JOIN unit u ON u.id = r.unit_id "
            "WHERE r.survey_id = ? ORDER BY r.id",
            (survey_id,),
        )
    }
    scores: dict[int, dict[str, int]] = {rid: {} for rid in responses}
    for rid, dimension, score in conn.execute(
        "SELECT s.response_id, s.dimension, s.score FROM survey_score s "
        "JOIN survey_response r ON r.id = s.response_id WHERE r.survey_id = ?",
        (survey_id,),
    ):
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


def occupied_units(conn: sqlite3.Connection, on: date) -> dict[int, str]:
    """Unit id -> building of every home, shop or office with an owner or tenant on ``on``
    (parking spaces and storage rooms are not households and are left out)."""
    day = on.isoformat()
    return dict(
        conn.execute(
            "SELECT u.id, u.building FROM unit u WHERE u.kind NOT IN ('parking', 'storage') "
            "AND EXISTS (SELECT 1 FROM occupancy o WHERE o.unit_id = u.id "
            "AND (o.start_on IS NULL OR o.start_on <= ?1) AND (o.end_on IS NULL OR o.end_on > ?1))",
            (day,),
        ).fetchall()
    )


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
    survey = find_survey(conn, name)
    previous = find_survey(conn, compare) if compare else None
    if previous is not None and previous.id == survey.id:
        raise InvalidValue("--compare names the survey itself; name an earlier one")
    if previous is not None and previous.scale != survey.scale:
        raise InvalidValue(
            f"{survey.name} is on a {survey.scale}-point scale and {previous.name} on a "
            f"{previous.scale}-point one; their means cannot be compared"
        )
    scale = survey.scale
    notes: list[str] = []
    if previous is not None and previous.held_on > survey.held_on:
        notes.append(
            f"--compare {previous.name} ({previous.held_on}) is later than {survey.name} "
            f"({survey.held_on}): the changes shown run backwards in time"
        )
    if previous is not None and set(previous.dimensions) != set(survey.dimensions):
        only_now = [d for d in survey.dimensions if d not in previous.dimensions]
        only_then = [d for d in previous.dimensions if d not in survey.dimensions]
        notes.append(
            "the two surveys ask different questions"
            + (f"; only in {survey.name}: {'、'.join(only_now)}" if only_now else "")
            + (f"; only in {previous.name}: {'、'.join(only_then)}" if only_then else "")
            + " (the indexes are over different questions)"
        )
    responses, scores = _answers(conn, survey.id)
    weights_set = settings.survey.weights
    unknown = sorted(
        w
        for w in weights_set
        if w not in survey.dimensions and (previous is None or w not in previous.dimensions)
    )
    if unknown:
        notes.append(
            f"[survey] weights name no question of {survey.name}: {'、'.join(unknown)} "
            f"(its questions: {'、'.join(survey.dimensions)})"
        )
    by_dimension: dict[str, list[int]] = {d: [] for d in survey.dimensions}
    for answer in scores.values():
        for d, s in answer.items():
            by_dimension.setdefault(d, []).append(s)
    before: dict[str, list[int]] = {}
    if previous is not None:
        _, old = _answers(conn, previous.id)
        for answer in old.values():
            for d, s in answer.items():
                before.setdefault(d, []).append(s)
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
            weights_set.get(d, 1),
        )
        if previous is not None:
            stat.change = welch(values, before.get(d, []))
        stats.append(stat)
    index = satisfaction_index(stats, scale)
    previous_index = None
    if previous is not None:
        old_stats = [
            DimensionStat(d, len(v), _mean(v), None, None, {}, weights_set.get(d, 1))
            for d, v in before.items()
        ]
        previous_index = satisfaction_index(old_stats, scale)
    stats.sort(key=lambda s: (s.mean is None, s.mean if s.mean is not None else 0, s.name))
    # who answered, against the households there were
    held_on = date.fromisoformat(survey.held_on)
    occupied = occupied_units(conn, held_on)
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
        "合计",
        answered_total,
        len(occupied),
        ratio(answered_total, len(occupied)) if named else None,
        _mean([s for v in household.values() for s in v]),
        {d: _mean(household.get(d, [])) for d in survey.dimensions},
    )
    # would you recommend us
    recommends = [r[3] for r in responses.values() if r[3] is not None]
    promoters = sum(1 for r in recommends if r >= 9)
    detractors = sum(1 for r in recommends if r <= 6)
    nps = ratio((promoters - detractors) * 100, len(recommends))
    follow_up, anonymous_low, outside_low = _follow_up(conn, responses, scores, scale, at, occupied)
    unit_means = _unit_means(responses, scores, occupied)
    outside = sum(1 for r in responses.values() if r[0] is not None and r[0] not in occupied)
    by_payment = _by_payment(conn, unit_means, held_on, settings)
    by_band = _by_band(conn, unit_means, held_on, scale)
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
        nps,
        promoters,
        len(recommends) - promoters - detractors,
        detractors,
        follow_up,
        anonymous_low,
        by_payment,
        by_band,
        common_phrases([r[4] for r in responses.values()]),
        {s.name: s.weight for s in stats},
        outside,
        outside_low,
        notes,
    )


def _follow_up(conn, responses, scores, scale, at, occupied) -> tuple[list[FollowUp], int, int]:
    """Respondents who gave any low score, with their unit's open complaints: a return visit.
    Anonymous answers and answers from units outside the households are only counted."""

    owners = dict(
        conn.execute(
            "SELECT o.unit_id, p.name FROM occupancy o JOIN party p ON p.id = o.party_id "
            "WHERE o.role = 'owner' AND o.end_on IS NULL"
        ).fetchall()
    )
    open_cases: dict[str, list[str]] = defaultdict(list)
    for case in complaints.cases(conn, at=at):
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
                owners.get(uid, ""),
                lows,
                _mean(list(scores[rid].values())),
                comment,
                open_cases.get(code, []),
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


PAYMENT_GROUPS = ("按时缴费", "逾期1–30天", "逾期31天以上")
BANDS = ("满意", "一般", "不满意")


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
        PaymentGroup(g, len(v), sum(v, Fraction(0)) / len(v) if v else None)
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
        for uid, owed, paid in conn.execute(
            "SELECT b.unit_id, sum(b.amount_fen + coalesce((SELECT sum(a.amount_fen) FROM "
            "adjustment a WHERE a.bill_id = b.id AND a.made_on <= ?1), 0)), "
            "sum(coalesce((SELECT sum(l.amount_fen) FROM allocation l WHERE l.bill_id = b.id "
            "AND l.allocated_on <= ?1), 0)) FROM bill b WHERE b.due_on <= ?1 "
            "AND b.unit_id IN (SELECT value FROM json_each(?2)) GROUP BY b.unit_id",
            (day, json.dumps(sorted(unit_means))),
        ):
            due[uid] = (owed, paid)
    bands: dict[str, list[int]] = {b: [] for b in BANDS}
    for uid, mean in unit_means.items():
        bands[band_of(mean, scale)].append(uid)
    out = []
    for band, units in bands.items():
        owed = sum(due.get(u, (0, 0))[0] for u in units)
        paid = sum(due.get(u, (0, 0))[1] for u in units)
        out.append(BandCollection(band, len(units), owed, paid, ratio(paid, owed)))
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


def common_phrases(comments: list[str], limit: int = 10) -> list[tuple[str, int]]:
    """The phrases most comments mention: each counted once per comment, the named phrases
    whole and the rest of the text in pairs of characters; said in at least two comments."""
    counts: Counter[str] = Counter()
    for comment in comments:
        if not comment:
            continue
        found: set[str] = set()
        rest = comment
        for phrase in PHRASES:
            if phrase in rest:
                found.add(phrase)
                rest = rest.replace(phrase, " ")
        for run in _SPLIT.split(rest):
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if not (set(pair) & _STOP) and pair not in _FRAGMENTS:
                    found.add(pair)
        counts.update(found)
    ranked = sorted(
        ((p, c) for p, c in counts.items() if c >= 2),
        key=lambda pc: (-pc[1], pc[0] not in PHRASES, pc[0]),
    )
    return ranked[:limit]


# ---------------------------------------------------------------- the workbook


def write_workbook(path: Path, report: SurveyReport) -> None:
    """The report as an .xlsx with a bar chart of the dimensions and of satisfaction by
    payment; written under a temporary name and renamed."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font


    if path.suffix.lower() != ".xlsx":
        raise PropfeeError(f"--out {path}: write an .xlsx file")
    check_output(path, "--out")
    bold = Font(bold=True)

    def number(value: Fraction | None, places: int = 2):
        return None if value is None else Decimal(fmt(value, places))

    def sheet(wb, title: str, headers: list[str], rows: list[list]):
        ws = wb.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([neutralise(v) if isinstance(v, str) else v for v in row])
        for i, header in enumerate(headers):
            ws.column_dimensions[column_letter(i)].width = max(10, len(header) * 2 + 2)
        ws.freeze_panes = "A2"
        return ws

    s = report.survey
    wb = Workbook()
    wb.remove(wb.active)
    summary = [
        ["调查", s.name],
        ["调查日期", s.held_on],
        ["评分制", f"{s.scale}分制"],
        ["有效问卷", report.responses],
        ["匿名问卷", report.anonymous],
        ["参与率", number(report.total.rate, 3)],
        ["满意度指数(0–100)", number(report.index, 1)],
        ["净推荐值NPS", number(report.nps, 1)],
    ]
    if report.compare is not None:
        summary.append([f"上期指数（{report.compare.name}）", number(report.previous_index, 1)])
    ws = sheet(wb, "概况", ["项目", "数值"], summary)
    rate_row = 2 + [k for k, _ in summary].index("参与率")
    ws.cell(rate_row, 2).number_format = "0.0%"  # a share, shown as a percentage
    scores = list(range(1, s.scale + 1))
    ws = sheet(
        wb,
        "各项满意度",
        ["项目", "回答数", "平均分", "满意率%", "95%置信下限", "95%置信上限", "权重"]
        + (["上期平均分", "变化", "判断"] if report.compare else [])
        + [f"{n}分" for n in scores],
        [
            [
                d.name,
                d.answers,
                number(d.mean),
                number(d.satisfied * 100 if d.satisfied is not None else None, 1),
                number(d.ci[0]) if d.ci else None,
                number(d.ci[1]) if d.ci else None,
                d.weight,
            ]
            + (
                [
                    number(d.change.previous_mean) if d.change else None,
                    number(d.change.delta) if d.change else None,
                    d.change.statement if d.change else "",
                ]
                if report.compare
                else []
            )
            + [d.distribution.get(n, 0) for n in scores]
            for d in report.dimensions
        ],
    )
    if report.dimensions:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "各项平均分"
        chart.y_axis.title = f"平均分（{s.scale}分制）"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = s.scale
        rows = len(report.dimensions) + 1
        chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=rows), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=rows))
        chart.legend = None
        ws.add_chart(chart, f"A{rows + 3}")
    sheet(
        wb,
        "楼栋参与率",
        ["楼栋", "参与户数", "在住户数", "参与率%", "平均分"],
        [
            [
                b.building,
                b.respondents,
                b.occupied,
                number(b.rate * 100 if b.rate else b.rate, 1),
                number(b.mean),
            ]
            for b in [*report.buildings, report.total]
        ],
    )
    ws = sheet(
        wb,
        "满意度与缴费",
        ["缴费状态", "户数", "平均满意度"],
        [[g.label, g.units, number(g.mean)] for g in report.by_payment],
    )
    chart = BarChart()
    chart.title = "缴费状态与满意度"
    chart.y_axis.title = "平均分"
    chart.add_data(
        Reference(ws, min_col=3, min_row=1, max_row=len(report.by_payment) + 1),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(report.by_payment) + 1))
    chart.legend = None
    ws.add_chart(chart, "E2")
    start = len(report.by_payment) + 3
    ws.cell(start, 1, "满意度分档").font = bold
    ws.cell(start, 2, "户数").font = bold
    ws.cell(start, 3, "应收(截至调查日)").font = bold
    ws.cell(start, 4, "实收(截至调查日)").font = bold
    ws.cell(start, 5, "收缴率%").font = bold
    for offset, band in enumerate(report.by_band, start=1):
        ws.cell(start + offset, 1, band.label)
        ws.cell(start + offset, 2, band.units)
        for col, fen in ((3, band.due_fen), (4, band.collected_fen)):
            cell = ws.cell(start + offset, col, fen_to_decimal(fen))
            cell.number_format = "#,##0.00"
        ws.cell(start + offset, 5, number(band.rate * 100 if band.rate else band.rate, 1))
    sheet(
        wb,
        "回访名单",
        ["房号", "楼栋", "业主", "低分项", "平均分", "意见建议", "未办结投诉"],
        [
            [
                f.unit,
                f.building,
                f.owner,
                "、".join(f"{d}{v}分" for d, v in f.low_scores.items()),
                number(f.mean),
                f.comment,
                "；".join(f.complaints),
            ]
            for f in report.follow_up
        ],
    )
    sheet(wb, "意见关键词", ["词语", "提及条数"], [list(p) for p in report.phrases])

    save_workbook(wb, path)
