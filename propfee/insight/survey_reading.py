"""Reading a satisfaction survey's answers from a spreadsheet, one row per respondent: finding
the header, telling the unit's columns from the questions, reading scores however they are
written (numbers, 非常满意 …, "A.非常满意", "5分") and the unit however it is written.

Reading follows the roster's discipline: every bad cell is reported with its file, row and
column, and nothing is returned unless the whole file is good.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from propfee.core.errors import FileFormatError, InvalidValue, RowError, RowErrors
from propfee.core.i18n import _
from propfee.files import cells
from propfee.files.headers import alias_index, lookup, norm_header
from propfee.files.tabular import column_letter, read_sheets
from propfee.insight import survey_store
from propfee.roster.units import resolve_code

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
        raise InvalidValue(_("not a score"))
    if isinstance(value, int):
        return value, False
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidValue(_("a score is a whole number"))
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
        raise InvalidValue(_("a score is a whole number"))
    raise InvalidValue(
        _("not a score: give a number, or 非常满意/满意/一般/不满意/非常不满意 on a 5-point scale")
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


@dataclass
class _Table:
    """A sheet's survey table: its header row, what its columns are, and the rows below."""

    file: str
    sheet: str  # "" for a CSV file: one table
    header_row: int
    texts: list[str]  # the header's texts, by column
    known: dict[str, int]  # field -> column
    soft: dict[int, str]  # column -> field, decided by what the column holds
    candidates: dict[int, str]  # column -> header of a possible question
    body: list[tuple[int, list]]  # (row number, cells)
    first_column: int
    labels: dict[str, str] = field(default_factory=dict)  # field -> "header (letter)"

    def column(self, i: int, header: str) -> _Column:
        return _Column(i, header, column_letter(i + self.first_column))

    def values(self, i: int) -> list:
        """The answers in column ``i`` (what was not answered left out)."""
        return [r[i] for _, r in self.body if i < len(r) and not _not_answered(r[i])]


def _cell(row: list, i: int | None) -> object:
    return row[i] if i is not None and i < len(row) else None


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
        raise InvalidValue(_("--scale must be 5 or 10"))
    data = _file_bytes(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and data and not data.startswith(b"PK"):
        raise FileFormatError(
            _(
                "{file}: damaged, or not an .xlsx workbook (another kind of file renamed); "
                "open it in Excel and save it again as .xlsx"
            ).format(file=path.name)
        )
    sheets = [s for s in read_sheets(path) if not s.hidden] or read_sheets(path)
    for sheet in sheets:
        table = _table(path.name, sheet)
        if table is None:
            continue
        notices = _settle_columns(table, anonymous=anonymous)
        return _read_body(conn, table, data, scale, notices)
    raise FileFormatError(
        _(
            "{file}: no survey header found; expected a header row naming the unit (房号, or "
            "楼栋/单元/房间) or the questions (服务态度, 保洁 …) within the first 30 rows"
        ).format(file=path.name)
    )


def _table(file: str, sheet) -> _Table | None:
    """The sheet's survey table: its header, and the rows below it that are answers (blank
    rows, footers and the header repeated left out); None when it has no header."""
    rows = list(sheet.rows())
    found = _find_header(rows)
    if found is None:
        return None
    position, texts, known, soft, candidates = found
    body = []
    for n, c in rows[position + 1 :]:
        if not any(not cells.is_blank(v) for v in c) or _is_footer(c):
            continue
        if [t for t in _texts(c) if t] == [t for t in texts if t]:
            continue  # the header repeated
        body.append((n, c))
    return _Table(
        file,
        "" if sheet.name == file else sheet.name,
        rows[position][0],
        texts,
        known,
        soft,
        candidates,
        body,
        sheet.first_column,
    )


def _settle_columns(table: _Table, *, anonymous: bool) -> list[str]:
    """Decide the soft columns by what they hold, leave out a yes/no recommend question and,
    for an anonymous survey, the unit; label the fields. Returns the notices so far."""
    _settle_soft(table)
    notices = _drop_yes_no_recommend(table)
    if anonymous:
        for f in _UNIT_FIELDS:
            table.known.pop(f, None)
    elif table.body and not any(f in table.known for f in _UNIT_FIELDS):
        seen = "、".join(t for t in table.texts if t)
        raise FileFormatError(
            _(
                "{file}: no column names the unit (房号, or 楼栋/单元/房间); headers seen: "
                "{seen}. Name the unit column so, or give --anonymous for an anonymous survey"
            ).format(file=table.file, seen=seen)
        )
    table.labels = {
        f: f"{table.texts[i]} ({column_letter(i + table.first_column)})"
        for f, i in table.known.items()
    }
    return notices


def _settle_soft(table: _Table) -> None:
    """A recommend column holds whole numbers 0–10, a comment column text rather than scores;
    a soft column that does not (or a second one) may be a question."""
    for i, field_ in table.soft.items():
        values = table.values(i)
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
        if fits and field_ not in table.known:
            table.known[field_] = i
        elif field_ == "recommend" or not fits:
            table.candidates[i] = table.texts[i]


def _drop_yes_no_recommend(table: _Table) -> list[str]:
    """A recommend column answered yes/no is not the 0–10 question: left out, with a notice."""
    if "recommend" not in table.known:
        return []
    i = table.known["recommend"]
    values = table.values(i)
    if values and all(isinstance(v, str) and cells.ascii_text(v).lower() in YES_NO for v in values):
        del table.known["recommend"]
        return [
            _(
                "column {header} is a yes/no question, not the 0–10 recommend question: left out "
                "(no NPS)"
            ).format(header=table.texts[i])
        ]
    return []


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileFormatError(_("{path}: no such file").format(path=path)) from None
    except IsADirectoryError:
        raise FileFormatError(_("{path}: is a folder, not a file").format(path=path)) from None
    except OSError as exc:
        raise FileFormatError(
            _("{path}: cannot be read ({reason})").format(path=path, reason=exc.strerror)
        ) from None


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
    for position, (_row_number, row) in enumerate(rows[:30]):
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
            _(
                "{file}: the questions do not share one scale: {tens} are answered up to 10 but "
                "{fives} only 1–5; give --scale 5 (answers above 5 are then listed as bad cells) "
                "or --scale 10"
            ).format(file=file, tens="、".join(tens), fives="、".join(fives))
        )
    return 10


def _read_body(
    conn: sqlite3.Connection,
    table: _Table,
    data: bytes,
    scale: int | None,
    notices: list[str],
) -> SurveyFile:
    """The table's answers, checked: its questions, its scale, each row's scores, recommend,
    comment, date and unit. Raises RowErrors naming every bad cell."""
    errors: list[RowError] = []
    dimensions = _dimensions(table, notices, errors)
    # the scale: declared, else from how the answers run
    per_column, words = _plain_scores(table, dimensions)
    chosen = scale or _scale_of(per_column, table.file)
    if words and chosen == 10:
        notices.append(_("answers in words (满意 …) read on the 5-point scale"))
    answers = _Answers(conn, table, dimensions, chosen, errors)
    rows = answers.read()
    if errors:
        raise RowErrors(errors)
    rows = _tidy(rows, table, notices)
    if answers.unanswered:
        notices.append(
            _("{n} answers such as (跳过), 不适用, 不清楚, -, 无 read as not answered").format(
                n=answers.unanswered
            )
        )
    if answers.skipped:
        notices.append(
            _("{n} rows without answers skipped (questionnaires not returned)").format(
                n=answers.skipped
            )
        )
    if not rows:
        notices.append(_("no answers below the header"))
    return SurveyFile(
        table.file,
        hashlib.sha256(data).hexdigest(),
        [c.header for c in dimensions.values()],
        chosen,
        rows,
        answers.latest,
        notices,
        answers.skipped,
        scale is None,
    )


def _dimensions(table: _Table, notices: list[str], errors: list[RowError]) -> dict[int, _Column]:
    """The questions: the other columns most of whose answers are numbers or words. Two
    questions of one name are bad cells; no question at all, a bad file."""
    dimensions: dict[int, _Column] = {}
    for i, header in sorted(table.candidates.items()):
        values = [_cell(r, i) for _, r in table.body if not _not_answered(_cell(r, i))]
        if values and sum(1 for v in values if _is_scoreish(v)) * 2 >= len(values):
            dimensions[i] = table.column(i, dimension_name(header))
        elif values:
            notices.append(
                _("column {header} ({letter}) ignored: no scores").format(
                    header=header, letter=table.column(i, header).letter
                )
            )
        else:
            notices.append(
                _("column {header} ({letter}) ignored: no answers").format(
                    header=header, letter=table.column(i, header).letter
                )
            )
    names = [c.header for c in dimensions.values()]
    doubled = {n for n in names if names.count(n) > 1}
    for c in dimensions.values():
        if c.header in doubled:
            errors.append(
                RowError(
                    table.file,
                    table.sheet,
                    table.header_row,
                    c.label,
                    "",
                    _("two questions with this name"),
                )
            )
    if not dimensions:
        raise FileFormatError(
            _(
                "{file}: no score columns found (a column of numbers 1–5 or 1–10, or 满意/一般 …)"
            ).format(file=table.file)
        )
    return dimensions


def _plain_scores(
    table: _Table, dimensions: dict[int, _Column]
) -> tuple[dict[str, list[int]], bool]:
    """(question -> the scores given as numbers, whether any answer was given in words)."""
    per_column: dict[str, list[int]] = {}
    words = False
    for _row_number, row in table.body:
        for i, col in dimensions.items():
            try:
                score, said = _score_of(_cell(row, i))
            except InvalidValue:
                continue
            if score is not None:
                if said:
                    words = True
                else:
                    per_column.setdefault(col.header, []).append(score)
    return per_column, words


class _Answers:
    """Reads the table's rows on the chosen scale: each row's scores, recommend, comment, date
    and unit; collects the bad cells, counts answers read as not answered and rows without
    answers, and keeps the latest date answered."""

    def __init__(self, conn, table: _Table, dimensions: dict[int, _Column], scale: int, errors):
        self.conn = conn
        self.table = table
        self.dimensions = dimensions
        self.scale = scale
        self.errors: list[RowError] = errors
        self.units = _Units(conn)
        self.skipped = 0
        self.unanswered = 0
        self.latest: date | None = None

    def read(self) -> list[SurveyRow]:
        rows = []
        for number, row in self.table.body:
            found = self._row(number, row)
            if found is not None:
                rows.append(found)
        return rows

    def _bad(self, number: int, label: str, value: object, message: str) -> None:
        table = self.table
        self.errors.append(
            RowError(table.file, table.sheet, number, label, cells.text(value), message)
        )

    def _row(self, number: int, row: list) -> SurveyRow | None:
        known, labels = self.table.known, self.table.labels
        bad_before = len(self.errors)
        scores = self._scores(number, row)
        recommend = self._recommend(number, row)
        comment = cells.text(_cell(row, known.get("comment")))
        if _not_answered(comment):
            comment = ""
        raw = _cell(row, known.get("date"))
        try:
            answered = cells.parse_date(raw)
        except InvalidValue as exc:
            self._bad(number, labels["date"], raw, str(exc))
            answered = None
        if answered and (self.latest is None or answered > self.latest):
            self.latest = answered
        unit_id, code, unit_error = _unit_of(self.conn, self.units, row, known, _cell)
        if unit_error:
            field_, value, message = unit_error
            self._bad(number, labels[field_], value, message)
        if not scores and recommend is None and not comment:
            if len(self.errors) == bad_before:
                self.skipped += 1  # a pre-filled row for a unit that did not answer
            return None
        return SurveyRow(self.table.sheet, number, unit_id, code, scores, recommend, comment)

    def _scores(self, number: int, row: list) -> dict[str, int]:
        scores: dict[str, int] = {}
        chosen = self.scale
        for i, col in self.dimensions.items():
            raw = _cell(row, i)
            try:
                score, said = _score_of(raw)
            except InvalidValue as exc:
                self._bad(number, col.label, raw, str(exc))
                continue
            if score is None:
                if not cells.is_blank(raw) or (isinstance(raw, str) and raw.strip()):
                    self.unanswered += 1
                continue
            if said and chosen != 5:
                self._bad(
                    number, col.label, raw, _("answers in words need a 5-point scale (--scale 5)")
                )
            elif not 1 <= score <= chosen:
                self._bad(
                    number,
                    col.label,
                    raw,
                    _("{score} is outside this survey's 1–{top} scale").format(
                        score=score, top=chosen
                    ),
                )
            else:
                scores[col.header] = score
        return scores

    def _recommend(self, number: int, row: list) -> int | None:
        raw = _cell(row, self.table.known.get("recommend"))
        if not _not_answered(raw):
            try:
                value, said = _score_of(raw)
                if said or value is None or not 0 <= value <= 10:
                    raise InvalidValue("")
                return value
            except InvalidValue:
                self._bad(
                    number,
                    self.table.labels["recommend"],
                    raw,
                    "would-recommend is a whole number from 0 to 10",
                )
        elif isinstance(raw, str) and raw.strip():
            self.unanswered += 1
        return None


def _tidy(rows: list[SurveyRow], table: _Table, notices: list[str]) -> list[SurveyRow]:
    """Leave out a total row at the bottom, a recommend question answered only 0–5, and
    repeated submissions, each with a notice."""
    trailing = _summary_rows(rows, has_unit=any(f in table.known for f in _UNIT_FIELDS))
    if trailing:
        rows = rows[: -len(trailing)]
        notices.append(
            _(
                "row {rows}: no unit below answers that all name one — read as a total or "
                "average row and left out"
            ).format(rows=", ".join(str(r.row) for r in trailing))
        )
    recommended = [r.recommend for r in rows if r.recommend is not None]
    if len(recommended) >= 3 and max(recommended) <= 5:
        # every answer 0–5: a 5-point question under a recommend header; as NPS it would
        # make every respondent a detractor
        notices.append(
            _(
                "{header} is answered only 0–5: it reads as a 5-point question, not the 0–10 "
                "recommend question, so no NPS is given (ask it on 0–10)"
            ).format(header=table.labels["recommend"])
        )
        for r in rows:
            r.recommend = None
    rows, repeated = _drop_repeats(rows)
    if repeated:
        notices.append(
            _(
                "{n} repeated submissions (the same unit, the same answers) counted once: rows "
                "{rows}"
            ).format(n=len(repeated), rows=", ".join(str(r) for r in repeated[:10]))
        )
    return rows


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
        for uid, code, building, entrance, room in survey_store.unit_places(conn):
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
            return (
                None,
                "",
                (
                    "code",
                    raw_code,
                    _("{code} names several units; give the full code").format(code=code),
                ),
            )
        return None, "", ("code", raw_code, _("no unit {code} in the roster").format(code=code))
    if not room:
        if building or entrance:
            field_ = "building" if building else "entrance"
            return None, "", (field_, building or entrance, _("no room number: which unit?"))
        return None, "", None  # anonymous
    found = units.find(building, entrance, room)
    place = "-".join(p for p in (building, entrance, room) if p)
    if not found:
        return None, "", ("room", room, _("no unit {code} in the roster").format(code=place))
    if len(found) > 1:
        return (
            None,
            "",
            (
                "room",
                room,
                _("{place} names several units; give 楼栋 and 单元").format(place=place),
            ),
        )
    return found[0][0], found[0][1], None
