"""The owner roster: units, their owners and tenants — read from the files other systems
export, validated row by row, and merged into the database (an upsert by unit code that
keeps ownership history).

``read_roster`` only reads and validates (no database); ``apply_roster`` writes inside the
caller's transaction; ``import_roster`` does both as one command.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import sqlite3
import tomllib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from propfee.core.errors import FileFormatError, InvalidValue, NotFound, RowError, RowErrors
from propfee.core.money import hundredths_to_decimal, parse_area
from propfee.files import cells
from propfee.files.headers import (
    HeaderMatch,
    alias_index,
    ambiguous_columns,
    find_header,
    norm_header,
)
from propfee.files.tabular import Sheet, lost_digits, read_sheets
from propfee.files.writers import write_table
from propfee.store.db import transaction

Progress = Callable[[int, int], None]

# ---------------------------------------------------------------- vocabulary

KINDS = {
    "residential": "住宅",
    "commercial": "商铺",
    "office": "写字楼",
    "parking": "车位",
    "storage": "储藏室",
}

KIND_ALIASES: dict[str, str] = {}
for _kind, _words in {
    "residential": "住宅 住房 普通住宅 高层住宅 多层住宅 小高层 洋房 叠拼 别墅 联排 公寓 复式 跃层 "
    "平层 住宅楼 商品房 安置房 回迁房 经适房 residential home house apartment flat",
    "commercial": "商铺 商业 门面 门市 底商 商铺房 商业用房 店面 店铺 商场 商服 shop store commercial retail",
    "office": "写字楼 办公 办公楼 办公用房 写字间 office",
    "parking": "车位 停车位 地下车位 地上车位 机械车位 产权车位 人防车位 车库 parking carpark garage",
    "storage": "储藏室 储藏间 储物间 地下室 杂物间 仓库 储物室 storage",
}.items():
    for _word in _words.split():
        KIND_ALIASES[norm_header(_word)] = _kind

#: fields of a roster row -> header aliases, most specific first
FIELDS: dict[str, tuple[str, ...]] = {
    "code": (
        "房屋编号",
        "房屋编码",
        "房产编号",
        "房产编码",
        "房屋代码",
        "资源编号",
        "资源编码",
        "房号",
        "房间号",
        "户号",
        "房屋号",
        "unit code",
        "unit id",
        "unit no",
        "unit number",
        "unit",
        "code",
    ),
    "building": (
        "楼栋",
        "楼号",
        "楼栋号",
        "栋号",
        "楼栋名称",
        "楼栋编号",
        "楼宇",
        "楼宇名称",
        "楼座",
        "幢号",
        "栋",
        "幢",
        "building",
        "building no",
        "building number",
        "bldg",
        "block",
        "tower",
    ),
    "entrance": ("单元", "单元号", "单元名称", "entrance", "stairwell"),
    "room": ("房间", "室号", "门牌号", "室", "房间编号", "room", "room no", "room number"),
    "floor": ("楼层", "所在楼层", "层", "floor", "storey"),
    "area": (
        "计费面积",
        "收费面积",
        "建筑面积",
        "产权面积",
        "面积",
        "房屋面积",
        "建面",
        "billing area",
        "gross area",
        "floor area",
        "area",
    ),
    "area_basis": ("面积依据", "计费面积依据", "area basis"),
    "inner_area": ("套内面积", "套内建筑面积", "室内面积", "使用面积", "inner area", "net area"),
    "kind": (
        "房屋类型",
        "房产类型",
        "物业类型",
        "房屋性质",
        "房屋用途",
        "房屋类别",
        "资源类型",
        "用途",
        "类型",
        "类别",
        "unit type",
        "property type",
        "kind",
        "type",
    ),
    "owner": (
        "业主",
        "业主姓名",
        "业主名称",
        "产权人",
        "产权人姓名",
        "业主单位",
        "客户名称",
        "客户姓名",
        "户主",
        "户主姓名",
        "住户姓名",
        "姓名",
        "名称",
        "owner",
        "owner name",
        "name",
    ),
    "owner_kind": ("业主类型", "客户类型", "客户性质", "业主性质", "owner type"),
    "phone": (
        "手机号",
        "手机号码",
        "手机",
        "联系电话",
        "电话",
        "电话号码",
        "联系方式",
        "业主电话",
        "业主手机",
        "业主手机号",
        "业主联系电话",
        "联系手机",
        "移动电话",
        "备用电话",
        "固定电话",
        "办公电话",
        "phone",
        "phone number",
        "phone no",
        "mobile",
        "mobile number",
        "mobile phone",
        "cell phone",
        "tel",
        "tel no",
        "telephone",
        "contact number",
    ),
    "id_number": (
        "身份证号",
        "身份证",
        "身份证号码",
        "证件号码",
        "证件号",
        "证件编号",
        "业主身份证号",
        "id number",
        "id no",
        "id card",
    ),
    "birthday": ("出生日期", "生日", "birthday", "date of birth"),
    "delivered_on": (
        "交付日期",
        "收房日期",
        "计费开始日期",
        "开始计费日期",
        "起始计费日期",
        "计费起始日期",
        "计费日期",
        "交房日期",
        "入伙日期",
        "接房日期",
        "收楼日期",
        "delivery date",
        "delivered on",
        "billing start",
    ),
    "changed_on": ("过户日期", "变更日期", "产权变更日期", "transfer date"),
    "tenant": ("租户", "租户姓名", "租户名称", "承租人", "承租方", "租客", "tenant", "tenant name"),
    "tenant_phone": (
        "租户电话",
        "租户手机",
        "租户手机号",
        "租户联系电话",
        "承租人电话",
        "租客电话",
        "tenant phone",
    ),
    "tenant_id_number": ("租户身份证号", "租户证件号码", "承租人身份证号", "tenant id number"),
    "tenant_from": ("起租日期", "租赁开始日期", "租赁起始日期", "租期开始", "lease start"),
    "payer": ("缴费方", "缴费人", "付款方", "付费方", "缴费主体", "费用承担方", "payer"),
    "notes": ("备注", "备注信息", "notes", "note", "remark", "remarks"),
    "vacant": (
        "入住状态",
        "是否空置",
        "空置",
        "居住状态",
        "使用状态",
        "房屋状态",
        "vacant",
        "occupancy",
    ),
    "ignore": ("序号", "说明", "填表说明", "no", "seq"),
}
FIELD_LABELS = {
    "code": "房号",
    "building": "楼栋",
    "entrance": "单元",
    "room": "房间",
    "floor": "楼层",
    "area": "建筑面积",
    "area_basis": "面积依据",
    "inner_area": "套内面积",
    "kind": "房屋类型",
    "owner": "业主",
    "owner_kind": "业主类型",
    "phone": "手机号",
    "id_number": "身份证号",
    "birthday": "出生日期",
    "delivered_on": "交付日期",
    "changed_on": "过户日期",
    "tenant": "租户",
    "tenant_phone": "租户电话",
    "tenant_id_number": "租户身份证号",
    "tenant_from": "起租日期",
    "payer": "缴费方",
    "notes": "备注",
    "vacant": "入住状态",
}
_ALIASES = alias_index(FIELDS)
_ROOMISH_CODE_HEADERS = {norm_header(h) for h in ("房号", "房间号", "户号", "房屋号")}
_MULTI = frozenset({"phone", "tenant_phone"})
_NO_OWNER = frozenset(
    ("未售", "待售", "未出售", "开发商", "开发商持有", "无", "空", "-", "—", "/", "－")
)
_COMPANY_WORDS = re.compile(
    r"公司|有限|集团|企业|银行|支行|分行|商行|超市|商店|店$|中心$|工作室|事务所|医院|诊所|药房|学校|"
    r"幼儿园|酒店|宾馆|会所|协会|委员会|政府|局$|厂$|合作社|经营部|门市部|co\.|ltd|inc\.?$|llc",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^(合计|总计|小计|共计|共\s*\d|总户数|户数[:：]|经办|负责人|复核|审批|审核|制表|打印|填表|"
    r"注[:：]|注意|说明|备注[:：]|第\s*\d+\s*页|page\s*\d)",
    re.IGNORECASE,
)
_PAYER_OWNER = {norm_header(w) for w in ("业主", "owner", "产权人", "业主方", "房东", "业主本人")}
_PAYER_TENANT = {
    norm_header(w) for w in ("租户", "tenant", "承租人", "承租方", "租赁方", "租客", "使用人")
}
_OWNER_KIND = {
    **{norm_header(w): "person" for w in ("个人", "自然人", "person", "individual", "私人")},
    **{
        norm_header(w): "company"
        for w in ("企业", "公司", "单位", "法人", "机构", "company", "organisation")
    },
}


NEEDS_AREA = frozenset({"residential", "commercial", "office"})


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind)


# ---------------------------------------------------------------- parsed rows


class PartyIn(NamedTuple):
    name: str
    kind: str
    phones: str  # "/"-joined, primary first; or the masked text as written
    id_number: str
    birthday: str | None
    phones_masked: bool
    id_masked: bool


class RosterRow(NamedTuple):
    sheet: str
    row: int
    code: str
    building: str
    entrance: str
    room: str
    floor: str
    kind: str
    area_x100: int | None
    area_basis: str
    inner_area_x100: int | None
    delivered_on: str | None
    notes: str
    owner: PartyIn | None
    tenant: PartyIn | None
    tenant_pays: bool
    tenant_from: str | None
    changed_on: str | None
    vacant: int | None = None  # 1 vacant (空置), 0 lived in, None not given


@dataclass
class Roster:
    """A validated roster file: its rows (unless they were streamed to a sink), and for each
    sheet which fields its columns give and under which headers."""

    file: str
    rows: list[RosterRow] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    presence: dict[str, frozenset[str]] = field(default_factory=dict)  # sheet -> fields
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet -> field -> header
    notices: list[str] = field(default_factory=list)
    count: int = 0  # unit rows read
    codes: set[str] = field(default_factory=set)
    skipped_blank: int = 0
    skipped_footer: int = 0

    def label(self, sheet: str, field_: str) -> str:
        """The column header (with its letter) a field came from, for messages."""
        return self.labels.get(sheet, {}).get(field_) or FIELD_LABELS.get(field_, field_)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    owner_changes: int = 0
    tenant_changes: int = 0
    not_in_file: int = 0
    rows: int = 0
    sheets: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    changed_codes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "owner_changes": self.owner_changes,
            "tenant_changes": self.tenant_changes,
            "not_in_file": self.not_in_file,
            "rows": self.rows,
            "sheets": self.sheets,
            "notices": self.notices,
            "dry_run": self.dry_run,
            "errors": [],
        }


# ---------------------------------------------------------------- the --map file


@dataclass
class ColumnMap:
    columns: dict[str, str] = field(default_factory=dict)  # normalised header -> field
    kinds: dict[str, str] = field(default_factory=dict)  # normalised value -> kind
    sheet: str | None = None
    header_row: int | None = None


def load_map(path: Path | None) -> ColumnMap:
    """Read a TOML map: ``[columns]`` header = field (or "ignore"), ``[kinds]`` value = kind,
    optional ``sheet`` and ``header_row``."""
    if path is None:
        return ColumnMap()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FileFormatError(f"map file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"map file {path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"columns", "kinds", "sheet", "header_row"}
    if unknown:
        raise FileFormatError(
            f"map file {path}: unknown key {sorted(unknown)[0]} (use columns, kinds, sheet, header_row)"
        )
    result = ColumnMap(sheet=data.get("sheet"), header_row=data.get("header_row"))
    for header, target in (data.get("columns") or {}).items():
        if target not in FIELDS:
            known = ", ".join(f for f in FIELDS if f != "ignore")
            raise FileFormatError(
                f"map file {path}: column {header!r} maps to unknown field {target!r} "
                f"(fields: {known}, or ignore)"
            )
        result.columns[norm_header(header)] = target
    for value, kind in (data.get("kinds") or {}).items():
        if kind not in KINDS:
            raise FileFormatError(
                f"map file {path}: kind {value!r} maps to {kind!r}; use one of {', '.join(KINDS)}"
            )
        result.kinds[norm_header(value)] = kind
    return result


# ---------------------------------------------------------------- reading


def read_roster(
    path: Path,
    *,
    column_map: ColumnMap | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    sink: Callable[[Roster, list[RosterRow]], None] | None = None,
) -> Roster:
    """Read and validate a roster file. Raises RowErrors listing every bad row.

    With a ``sink``, good rows are handed to it in batches as they are read (and not kept in
    ``Roster.rows``), so a writer can merge them while the rest of the file is still read."""
    column_map = column_map or ColumnMap()
    sheet = sheet or column_map.sheet
    sheets = read_sheets(path)
    notices = []
    if sheet is not None:
        chosen = [s for s in sheets if s.name == sheet]
        if not chosen:
            names = ", ".join(s.name for s in sheets)
            raise FileFormatError(f"{path.name}: no sheet named {sheet!r} (sheets: {names})")
        sheets = chosen
    else:
        notices = [
            f"hidden sheet {s.name!r} skipped (name it with --sheet to read it)"
            for s in sheets
            if s.hidden
        ]
        sheets = [s for s in sheets if not s.hidden] or sheets
    total = sum(s.nrows for s in sheets)
    reader = _RosterReader(path.name, column_map, total, progress, sink)
    reader.roster.notices.extend(notices)
    for one in sheets:
        reader.read_sheet(one, required=sheet is not None or len(sheets) == 1)
    reader.flush()
    if reader.errors:
        raise RowErrors(reader.errors)
    if not reader.roster.sheets:
        names = ", ".join(s.name for s in sheets)
        raise FileFormatError(
            f"{path.name}: no roster header found in {names}; expected a header row naming the "
            "unit (房号, or 楼号/单元/房间), 建筑面积 and 业主 within the first 30 rows "
            "(use --map to name unusual headers)"
        )
    reader.roster.codes = set(reader.seen)
    if not reader.roster.count:
        reader.roster.notices.append("no data rows below the header")
    return reader.roster


class _RosterReader:
    def __init__(
        self,
        file: str,
        column_map: ColumnMap,
        total: int,
        progress: Progress | None,
        sink: Callable[[Roster, list[RosterRow]], None] | None,
    ):
        self.file = file
        self.map = column_map
        self.errors: list[RowError] = []
        self.roster = Roster(file)
        self.sink = sink
        self.batch: list[RosterRow] = []
        self.seen: dict[str, tuple[str, int]] = {}
        self.total = total
        self.done = 0
        self.progress = progress
        self.convert = _Converters(column_map.kinds)

    # -- one sheet

    def read_sheet(self, sheet: Sheet, *, required: bool) -> None:
        rows = sheet.rows()
        head: list[tuple[int, list]] = []
        wanted = max(30, (self.map.header_row or 0) + 2)
        for item in rows:
            head.append(item)
            if item[0] >= wanted:
                break
        match = find_header(
            head,
            _ALIASES,
            self.map.columns,
            first_column=sheet.first_column,
            header_row=self.map.header_row,
            multi=_MULTI,
            is_identity=_has_identity,
        )
        if match is None:
            if required:
                raise FileFormatError(
                    f"{self.file} [{sheet.name}]: no roster header found; expected a header row "
                    "naming the unit (房号, or 楼号/单元/房间), 建筑面积 and 业主 within the first "
                    "30 rows (use --map to name unusual headers)"
                )
            self.roster.notices.append(f"sheet {sheet.name!r} skipped: no roster header")
            self._tick(sheet.nrows)
            return
        errors = ambiguous_columns(match, self.file, sheet.name)
        if errors:
            self.errors.extend(errors)
            return
        self._resolve_code_column(match, head, sheet)
        missing = self._missing_required(match)
        if missing:
            self.errors.append(RowError(self.file, sheet.name, match.row, "", "", missing))
            return
        self.roster.sheets.append(sheet.name)
        self.roster.presence[sheet.name] = frozenset(match.columns)
        self.roster.labels[sheet.name] = {f: c.label for f, c in match.columns.items()}
        if "phone" not in match.columns:
            self.roster.notices.append(
                f"sheet {sheet.name!r} has no 手机号/联系电话 column: owners are read without phones"
            )
        if "kind" not in match.columns:
            self.roster.notices.append(
                f"sheet {sheet.name!r} has no 房屋类型 column: its units are read as 住宅 (residential)"
            )
        if match.ignored:
            shown = [h if len(h) <= 16 else h[:15] + "…" for h in match.ignored]
            self.roster.notices.append(
                f"sheet {sheet.name!r}: columns not used: {', '.join(shown)}"
            )
        position = 0
        for position, (number, cells_) in enumerate(head):  # noqa: B007
            if number == match.row:
                break
        self._tick(position + 1)
        plan = _Plan(match)
        if "building" not in match.columns and "code" not in match.columns:
            named = _sheet_building(sheet.name)
            if named:  # a sheet called 1栋, 2号楼, A座: its building
                plan.sheet_building = named
                self.roster.notices.append(f"sheet {sheet.name!r}: building {named} from its name")
        self._read_rows(sheet, plan, match, head[position + 1 :], rows)

    def _resolve_code_column(self, match: HeaderMatch, head: list, sheet: Sheet) -> None:
        """``楼号 | 单元 | 房号``: here 房号 is the room, not the whole code. Decide by the
        values: plain room numbers under a building column (or in a sheet named after its
        building, such as 1栋) are rooms; codes such as ``1-101`` that repeat from building to
        building are local to their building."""
        code = match.columns.get("code")
        if code is None or "room" in match.columns:
            return
        if norm_header(code.header) not in _ROOMISH_CODE_HEADERS:
            return
        if "building" not in match.columns and not _sheet_building(sheet.name):
            return
        values = [
            cells.number_text(row[code.index])
            for number, row in head
            if number > match.row and code.index < len(row) and row[code.index] not in ("", None)
        ]
        plain = [v for v in values if re.fullmatch(r"[A-Za-z]?\d{1,5}[A-Za-z]?", v)]
        if values and len(plain) >= 0.8 * len(values):
            match.columns["room"] = dataclasses.replace(code, field="room")
            del match.columns["code"]
            return
        if "building" in match.columns:
            match.local_code = _codes_repeat_across_buildings(
                sheet, match.row, code.index, match.columns["building"].index
            )

    def _missing_required(self, match: HeaderMatch) -> str:
        found = set(match.columns)
        wanted = []
        if "code" not in found and "room" not in found:
            wanted.append("房号 (unit code) or 房间 (room)")
        if "owner" not in found and not found & {
            "phone",
            "id_number",
            "tenant",
            "tenant_phone",
            "changed_on",
            "payer",
            "notes",
            "vacant",
            "area",
            "delivered_on",
        }:
            wanted.append("业主 (owner)")
        if not wanted:
            return ""
        headers = ", ".join(c.header for c in match.columns.values())
        return f"missing required column {' and '.join(wanted)}; the header row has: {headers}"

    def _tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    # -- the rows

    def _read_rows(
        self, sheet: Sheet, plan: _Plan, match: HeaderMatch, head_rest: list, rows
    ) -> None:
        import itertools

        identity = match.columns.get("code") or match.columns["room"]
        identity_index, identity_header = identity.index, norm_header(identity.header)
        mapped = plan.mapped
        need, pad = plan.width, plan.width * [""]
        skipped_blank = skipped_footer = ticks = 0
        for number, row in itertools.chain(head_rest, rows):
            ticks += 1
            if ticks == 5000:
                self._tick(ticks)
                self.flush()
                ticks = 0
            if len(row) < need:
                row.extend(pad[: need - len(row)])
            row.append("")
            first, lead = row[identity_index], row[0]
            if (type(first) is not float and not (type(first) is str and first[:1].isdigit())) or (
                type(lead) is str and lead and not lead[:1].isdigit()
            ):
                # not a plain data row at a glance: blank, a repeated header, a footer or title?
                skip = _not_data(row, mapped, first, identity_header)
                if skip == "blank":
                    skipped_blank += 1
                    continue
                if skip == "footer":
                    skipped_footer += 1
                    continue
                if skip == "header":
                    continue
            self._read_row(plan, sheet.name, number, row)
        self.roster.skipped_blank += skipped_blank
        self.roster.skipped_footer += skipped_footer
        self._tick(ticks)

    def _read_row(self, plan: _Plan, sheet: str, number: int, row: list) -> None:
        convert = self.convert
        errors: list[RowError] = []

        def bad(field_: str, value: object, message: str) -> None:
            errors.append(
                RowError(self.file, sheet, number, plan.label(field_), cells.text(value), message)
            )

        # where the unit is
        building = convert.building(row[plan.building]) or plan.sheet_building
        entrance = convert.entrance(row[plan.entrance])
        room = convert.room(row[plan.room])
        code = cells.unit_code(row[plan.code])
        if code and plan.local_code and building:
            local = code  # 楼栋 1 | 房号 1-101: the code is local to its building
            code = f"{building}-{local}"
            _, entrance, room = _split_code(code)
        if not code:
            if room:
                code = "-".join(p for p in (building, entrance, room) if p)
            else:
                bad(plan.identity, "", "no unit code or room number")
        elif not building and not room:
            building, entrance, room = _split_code(code)
        floor = convert.floor(row[plan.floor])
        # what it is
        raw = row[plan.kind]
        try:
            kind = convert.kind(raw)
        except InvalidValue as exc:
            bad("kind", raw, str(exc))
            kind = "residential"
        raw = row[plan.area]
        try:
            area = convert.area(raw)
        except InvalidValue as exc:
            bad("area", raw, str(exc))
            area = None
        else:
            if area == 0:  # 0 means "no area" for a parking space, and is wrong for a home
                area = None
                if kind in NEEDS_AREA:
                    bad("area", raw, "must be greater than zero")
            elif area is None and kind in NEEDS_AREA and plan.has("area"):
                bad("area", "", f"area is required for a {kind_label(kind)} unit")
        basis = cells.text(row[plan.area_basis]) or plan.basis
        raw = row[plan.inner_area]
        try:
            inner = convert.area(raw) or None
        except InvalidValue as exc:
            bad("inner_area", raw, str(exc))
            inner = None
        if area is not None and inner is not None and inner > area and basis == "建筑面积":
            bad("inner_area", raw, "套内面积 is larger than 建筑面积")
        # when
        dates = dict.fromkeys(_DATE_FIELDS)
        for field_, index in plan.dates:
            raw = row[index]
            try:
                dates[field_] = convert.date(raw)
            except InvalidValue as exc:
                bad(field_, raw, str(exc))
        # who
        owner = self._party(plan, row, "owner", bad, dates["birthday"])
        tenant = self._party(plan, row, "tenant", bad, None) if plan.tenants else None
        tenant_pays = False
        raw = row[plan.payer]
        if raw != "" and raw is not None:
            payer = norm_header(cells.text(raw))
            if payer in _PAYER_TENANT or (tenant and payer == norm_header(tenant.name)):
                tenant_pays = True
            elif payer not in _PAYER_OWNER and not (owner and payer == norm_header(owner.name)):
                bad("payer", raw, "payer must be 业主 (owner) or 租户 (tenant)")
            if tenant_pays and tenant is None:
                bad("payer", raw, "the tenant pays, but no tenant is named")
        notes = cells.text(row[plan.notes])
        raw = row[plan.vacant]
        try:
            vacant = convert.vacant(raw)
        except InvalidValue as exc:
            bad("vacant", raw, str(exc))
            vacant = None
        # one row per unit
        if code:
            first = self.seen.get(code)
            if first is None:
                self.seen[code] = (sheet, number)
            else:
                where = (
                    f"row {first[1]}" if first[0] == sheet else f"sheet {first[0]} row {first[1]}"
                )
                bad(plan.identity, code, f"duplicate unit code (first on {where})")
        if errors:
            self.errors.extend(errors)
            return
        self.roster.count += 1
        self.batch.append(
            RosterRow(
                sheet,
                number,
                code,
                building,
                entrance,
                room,
                floor,
                kind,
                area,
                basis,
                inner,
                dates["delivered_on"],
                notes,
                owner,
                tenant,
                tenant_pays,
                dates["tenant_from"],
                dates["changed_on"],
                vacant,
            )
        )

    def flush(self) -> None:
        """Hand the rows read so far to the sink (or keep them)."""
        if self.sink is None:
            self.roster.rows.extend(self.batch)
        elif self.batch and not self.errors:
            self.sink(self.roster, self.batch)
        self.batch = []

    def _party(
        self, plan: _Plan, row: list, role: str, bad, birthday: str | None
    ) -> PartyIn | None:
        phone_field = "phone" if role == "owner" else "tenant_phone"
        name = cells.text(row[getattr(plan, role)])
        phone_cells = [c for i in plan.phone_columns(role) if (c := row[i]) != "" and c is not None]
        if not name or name in _NO_OWNER:
            if phone_cells:
                bad(phone_field, phone_cells[0], f"a phone number but no {FIELD_LABELS[role]} name")
            return None
        phones: list[str] = []
        masked = False
        for value in phone_cells:
            if type(value) is str:
                if "*" in value or "＊" in value:
                    masked = True
                    phones.append(cells.text(value))
                    continue
                if lost_digits(value):
                    bad(
                        phone_field,
                        value,
                        "the number was saved in scientific notation and its "
                        "digits are lost; format the column as text and export again",
                    )
                    continue
            try:
                found = cells.phones(value)
            except InvalidValue as exc:
                bad(phone_field, value, str(exc))
                continue
            if phones:
                phones.extend(p for p in found if p not in phones)
            else:
                phones = found
        id_field = "id_number" if role == "owner" else "tenant_id_number"
        raw = row[getattr(plan, id_field)]
        id_number = ""
        try:
            id_number = cells.id_number(raw)
        except InvalidValue as exc:
            bad(id_field, raw, str(exc))
        id_masked = cells.is_masked(id_number)
        kind = ""
        if role == "owner":
            raw = row[plan.owner_kind]
            if raw != "" and raw is not None:
                kind = _OWNER_KIND.get(norm_header(cells.text(raw)), "")
                if not kind:
                    bad("owner_kind", raw, "owner type must be 个人 (person) or 企业 (company)")
        return PartyIn(
            name,
            kind or party_kind(name, id_number),
            "/".join(phones),
            id_number,
            birthday,
            masked,
            id_masked,
        )


_DATE_FIELDS = ("delivered_on", "changed_on", "tenant_from", "birthday")


class _Plan:
    """Where each field sits in a row of one sheet. A row is padded to ``width`` cells and
    gets one blank cell at its end; a field the sheet does not have points at that cell."""

    def __init__(self, match: HeaderMatch):
        self.columns = match.columns
        self.extra = {f: [c.index for c in match.extra.get(f, [])] for f in _MULTI}
        used = [c.index for c in match.columns.values()] + [
            i for v in self.extra.values() for i in v
        ]
        self.width = max(used) + 1
        for name in FIELDS:
            column = match.columns.get(name)
            setattr(self, name, column.index if column else -1)  # -1: the blank cell at the end
        self.mapped = sorted(
            {c.index for c in match.columns.values()} | {i for v in self.extra.values() for i in v}
        )
        self.identity = "code" if "code" in match.columns else "room"
        area = match.columns.get("area")
        self.basis = _basis_name(area.header) if area else ""
        self.local_code = match.local_code
        self.sheet_building = ""
        self.dates = [(f, getattr(self, f)) for f in _DATE_FIELDS if f in match.columns]
        self.tenants = any(f in match.columns for f in ("tenant", "tenant_phone"))

    def has(self, field_: str) -> bool:
        return field_ in self.columns

    def label(self, field_: str) -> str:
        column = self.columns.get(field_)
        return column.label if column else FIELD_LABELS.get(field_, field_)

    def phone_columns(self, role: str) -> list[int]:
        field_ = "phone" if role == "owner" else "tenant_phone"
        return [getattr(self, field_), *self.extra[field_]]


class _Failed:
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


def _memo(convert):
    """Convert each distinct cell value once: buildings, kinds, areas and dates repeat."""
    cache: dict = {}

    def cached(value):
        try:
            hit = cache[value]
        except KeyError:
            try:
                hit = convert(value)
            except InvalidValue as exc:
                hit = _Failed(str(exc))
            cache[value] = hit
        except TypeError:  # an unhashable cell
            return convert(value)
        if type(hit) is _Failed:
            raise InvalidValue(hit.message)
        return hit

    return cached


class _Converters:
    """The cell conversions of one import, memoised."""

    def __init__(self, kinds: dict[str, str]):
        self.building = _memo(cells.building_part)
        self.entrance = _memo(cells.entrance_part)
        self.room = _memo(cells.room_part)
        self.floor = _memo(cells.number_text)
        self.kind = _memo(lambda value: _kind_of(value, kinds))
        self.area = _memo(_area_of)
        self.date = _memo(_date_of)
        self.vacant = _memo(_vacant_of)


def _kind_of(value: object, kinds: dict[str, str]) -> str:
    if value == "" or value is None:
        return "residential"
    normal = norm_header(cells.text(value))
    kind = kinds.get(normal) or KIND_ALIASES.get(normal)
    if kind is None:
        raise InvalidValue(
            f"unknown kind (use one of {', '.join(KINDS.values())}, or map it in --map [kinds])"
        )
    return kind


def _area_of(value: object) -> int | None:
    """Hundredths of ㎡; None for a blank cell, 0 for a zero (the caller decides)."""
    if cells.is_blank(value):
        return None
    if value == 0 or (type(value) is str and re.fullmatch(r"\s*0+(\.0*)?\s*", value)):
        return 0
    try:
        return parse_area(value, what="area")
    except InvalidValue as exc:
        raise InvalidValue(str(exc).removeprefix("area: ")) from None


_VACANT = {
    norm_header(w): 1 for w in ("空置", "是", "y", "yes", "vacant", "未入住", "空房", "闲置")
}
_LIVED_IN = {
    norm_header(w): 0
    for w in (
        "已入住",
        "入住",
        "否",
        "n",
        "no",
        "自住",
        "出租",
        "在住",
        "居住",
        "occupied",
        "使用中",
    )
}


def _vacant_of(value: object) -> int | None:
    if value == "" or value is None:
        return None
    key = norm_header(cells.text(value))
    state = _VACANT.get(key, _LIVED_IN.get(key))
    if state is None:
        raise InvalidValue("入住状态 must be 空置 (vacant) or 已入住 (lived in)")
    return state


def _date_of(value: object) -> str | None:
    parsed = cells.parse_date(value)
    if parsed is None:
        return None
    if not 1900 <= parsed.year <= 2100:
        raise InvalidValue("date out of range")
    return parsed.isoformat()


def _not_data(row: list, mapped: list[int], first: object, identity_header: str) -> str:
    """Why a row is not a unit: "blank", "header" (repeated per printed page), "footer"
    (合计, 制表人：…, a page number) or a merged "footer"-like title; "" if it is a unit."""
    if all(row[i] == "" or row[i] is None for i in mapped):
        return "blank"
    if type(first) is str and first and norm_header(first) == identity_header:
        return "header"
    filled = [c for c in row if c != "" and c is not None]
    lead = filled[0]
    if type(lead) is str and (
        _FOOTER.match(lead.strip())
        or (len(filled) == 1 and (":" in lead or "：" in lead))
        or (len(filled) > 1 and filled.count(lead) == len(filled))  # a merged title
    ):
        return "footer"
    return ""


def _sheet_building(name: str) -> str:
    """The building a sheet's name gives (1栋 -> 1, A座 -> A), or ""."""
    named = cells.building_part(name)
    return named if named != name.strip() else ""


def _codes_repeat_across_buildings(sheet: Sheet, header_row: int, code: int, building: int) -> bool:
    """True when the codes repeat but building + code does not: the codes are local to their
    building (楼栋 1号楼 | 房号 1-101 means unit 1-1-101)."""
    codes: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    repeats = False
    for number, row in sheet.rows():
        if number <= header_row or code >= len(row) or building >= len(row):
            continue
        value = cells.unit_code(row[code])
        if not value:
            continue
        place = cells.building_part(row[building])
        if value in codes:
            repeats = True
            if (place, value) in pairs:
                return False  # repeats within a building too: plain duplicates, reported as such
        codes.add(value)
        pairs.add((place, value))
    return repeats


def _has_identity(fields: set[str]) -> bool:
    return "code" in fields or "room" in fields


def _basis_name(header: str) -> str:
    normal = norm_header(header)
    for basis in ("建筑面积", "套内面积", "计费面积", "收费面积", "产权面积", "使用面积"):
        if normal.startswith(norm_header(basis)):
            return basis
    return "建筑面积" if normal in ("面积", "area", "建面", "房屋面积") else header


_CN_CODE = re.compile(
    r"^(?P<b>[0-9A-Za-z一二三四五六七八九十]+)\s*(?:#楼|#|号楼|栋|幢|座)\s*"
    r"(?:(?P<e>[0-9A-Za-z一二三四五六七八九十]+)\s*单元)?\s*(?P<r>[0-9A-Za-z]+)\s*(?:室|号)?$"
)


def _split_code(code: str) -> tuple[str, str, str]:
    """Building, entrance and room from a code: ``1-1-1001``, ``A座-1201``, ``1栋1单元1001``."""
    parts = code.split("-")
    if len(parts) == 3:
        return (
            cells.building_part(parts[0]),
            cells.entrance_part(parts[1]),
            cells.room_part(parts[2]),
        )
    if len(parts) == 2:
        return cells.building_part(parts[0]), "", cells.room_part(parts[1])
    match = _CN_CODE.match(code)
    if match:
        return (
            cells.building_part(match["b"] + "栋"),
            cells.entrance_part(match["e"] + "单元") if match["e"] else "",
            match["r"],
        )
    return "", "", ""


def party_kind(name: str, id_number: str = "") -> str:
    """A company when the ID is a credit code or the name reads like one (有限公司, 超市 …)."""
    if len(id_number) == 18 and not id_number[:17].isdigit():
        return "company"
    return "company" if _COMPANY_WORDS.search(name) else "person"


# ---------------------------------------------------------------- writing


class _Current(NamedTuple):
    occupancy_id: int
    party_id: int
    start_on: str | None
    pays: int
    name: str
    kind: str
    phones: str
    id_number: str
    birthday: str | None


_UNIT_FIELDS = (
    "vacant",
    "building",
    "entrance",
    "room",
    "floor",
    "kind",
    "area_x100",
    "area_basis",
    "inner_area_x100",
    "delivered_on",
    "notes",
)
_PLACE_FIELDS = frozenset({"building", "entrance", "room"})
_FIELD_OF_COLUMN = {
    "vacant": "vacant",
    "building": "building",
    "entrance": "entrance",
    "room": "room",
    "floor": "floor",
    "kind": "kind",
    "area_x100": "area",
    "area_basis": "area",
    "inner_area_x100": "inner_area",
    "delivered_on": "delivered_on",
    "notes": "notes",
}


class _Merge:
    """The state of one roster merge: what is on record, and what this file changes."""

    def __init__(self, conn: sqlite3.Connection, roster: Roster, *, as_of: date, now: datetime):
        self.conn = conn
        self.roster = roster  # its sheets, columns and labels; rows arrive through merge()
        self.report = ImportReport()
        self.present: frozenset[str] = frozenset()  # the fields of the row being merged
        self.effective = as_of.isoformat()
        self.stamp = now.isoformat(sep=" ", timespec="seconds")
        self.source = f"import {roster.file}"
        # A 100k-unit estate is read here in full: plain tuples, and the many repeated
        # strings (kinds, buildings, dates) shared rather than held 100k times over.
        fast = conn.cursor()
        fast.row_factory = None
        pool: dict[object, object] = {}
        share = pool.setdefault
        self.units = {
            row[1]: tuple(share(v, v) if i not in (0, 1) else v for i, v in enumerate(row))
            for row in fast.execute(
                "SELECT id, code, vacant, building, entrance, room, floor, kind, area_x100, "
                "area_basis, inner_area_x100, delivered_on, notes FROM unit"
            )
        }
        self.current: dict[tuple[int, str], _Current] = {
            (row[0], row[1]): _Current(
                row[2],
                row[3],
                share(row[4], row[4]),
                row[5],
                row[6],
                share(row[7], row[7]),
                row[8],
                row[9],
                share(row[10], row[10]),
            )
            for row in fast.execute(
                "SELECT o.unit_id, o.role, o.id, o.party_id, o.start_on, o.pays, p.name, p.kind, "
                "p.phones, p.id_number, p.birthday FROM occupancy o "
                "JOIN party p ON p.id = o.party_id WHERE o.end_on IS NULL"
            )
        }
        self._keys: dict[tuple[str, str], int] | None = None  # read when first needed
        self.phones: dict[int, str] = {}
        self.next_unit = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM unit").fetchone()[0]
        self.next_party = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM party").fetchone()[0]
        self.new_units: list[tuple] = []
        self.new_parties: dict[int, list] = {}
        self.new_occupancies: list[tuple] = []
        self.ended: list[tuple[str, int]] = []
        self.unit_updates: list[tuple] = []
        self.party_updates: dict[int, tuple[tuple, RosterRow]] = {}  # (kind, ID, birthday)
        self.more_phones: dict[int, str] = {}  # parties on record that gain phones
        self.file_phones: dict[int, list[str]] = {}  # every phone this file gives a party
        self.phone_changes: set[int] = set()
        self.errors: list[RowError] = []
        self.needs_area: list[RosterRow] = []
        self.needs_owner: list[RosterRow] = []
        self.changed_on: list[tuple[int, str, str]] = []  # (unit, code, day) who pays changed

    def error(self, row: RosterRow, field_: str, value: str, message: str) -> None:
        label = self.roster.label(row.sheet, field_)
        self.errors.append(RowError(self.roster.file, row.sheet, row.row, label, value, message))

    def occupy(self, uid: int, pid: int | None, role: str, start: str | None, pays: bool) -> None:
        self.new_occupancies.append(
            (uid, pid, role, start, None, int(pays), self.source, self.stamp)
        )

    # -- a new unit

    def add(self, row: RosterRow) -> None:
        if row.area_x100 is None and row.kind in NEEDS_AREA:
            self.needs_area.append(row)
        if "owner" not in self.present:
            self.needs_owner.append(row)
        uid = self.next_unit
        self.next_unit += 1
        self.new_units.append((uid, row.code, *_unit_values(row), self.stamp, self.stamp))
        tenant_pays = row.tenant is not None and row.tenant_pays
        if row.owner is not None:
            pid = self.party_for(row.owner, row, "owner")
            self.occupy(uid, pid, "owner", row.changed_on or row.delivered_on, not tenant_pays)
        if row.tenant is not None:
            pid = self.party_for(row.tenant, row, "tenant")
            self.occupy(uid, pid, "tenant", row.tenant_from, tenant_pays)

    def party_for(self, person: PartyIn, row: RosterRow, role: str) -> int | None:
        """The party a new occupancy belongs to: one already known by name and ID number or
        name and phone, else a new one. The same person on several rows keeps every phone."""
        if person.phones_masked or person.id_masked:
            masked_field = "phone" if role == "owner" else "tenant_phone"
            if person.id_masked:
                masked_field = "id_number" if role == "owner" else "tenant_id_number"
            self.error(
                row,
                masked_field,
                person.phones if person.phones_masked else person.id_number,
                "a masked value cannot be imported for a new owner or tenant; use an unmasked file",
            )
            return None
        keys = []
        if person.id_number:
            keys.append((person.name, "id:" + person.id_number))
        if person.phones:
            keys.append((person.name, "tel:" + person.phones.split("/")[0]))
        known = self.keys
        for key in keys:
            pid = known.get(key)
            if pid is not None:
                self._add_phones(pid, person.phones)
                return pid
        pid = self.next_party
        self.next_party += 1
        self.new_parties[pid] = [
            pid,
            person.kind,
            person.name,
            person.phones,
            person.id_number,
            person.birthday,
            self.stamp,
            self.stamp,
        ]
        self.phones[pid] = person.phones
        for key in keys:
            self.keys[key] = pid
        return pid

    @property
    def keys(self) -> dict[tuple[str, str], int]:
        """Parties on record by (name, "id:" ID number) and (name, "tel:" first phone)."""
        if self._keys is None:
            self._keys = {}
            for pid, name, phones, id_number in self.conn.execute(
                "SELECT id, name, phones, id_number FROM party WHERE is_developer = 0 ORDER BY id"
            ):
                self.phones[pid] = phones
                if id_number:
                    self._keys.setdefault((name, "id:" + id_number), pid)
                if phones:
                    self._keys.setdefault((name, "tel:" + phones.split("/")[0]), pid)
        return self._keys

    def _add_phones(self, pid: int, phones: str) -> None:
        known = self.phones.get(pid, "")
        extra = [p for p in phones.split("/") if p and p not in known.split("/")]
        if not extra:
            return
        merged = "/".join([p for p in known.split("/") if p] + extra)
        self.phones[pid] = merged
        if pid in self.new_parties:
            self.new_parties[pid][3] = merged
        else:
            self.more_phones[pid] = merged

    # -- a unit on record

    def update(self, row: RosterRow, existing: tuple, report: ImportReport) -> bool:
        uid = existing[0]
        changed = False
        old = tuple(existing[2:])
        given = self.present if not row.room else self.present | _PLACE_FIELDS
        merged = tuple(
            was
            if _FIELD_OF_COLUMN[name] not in given or (new in (None, "") and name in _KEEP)
            else new
            for name, new, was in zip(_UNIT_FIELDS, _unit_values(row), old, strict=True)
        )
        if merged != old:
            self.unit_updates.append((*merged, self.stamp, uid))
            changed = True
            delivered_was, delivered_now = old[-2], merged[-2]
            if delivered_now != delivered_was:
                day = (
                    min(d for d in (delivered_was, delivered_now) if d)
                    if (delivered_was or delivered_now)
                    else None
                )
                if day:
                    self.changed_on.append((uid, row.code, day))
        held_owner = self.current.get((uid, "owner"))
        held_tenant = self.current.get((uid, "tenant"))
        if "payer" in self.present:
            tenant_pays = row.tenant is not None and row.tenant_pays
        elif "tenant" in self.present:  # a new tenant takes over the old one's arrangement
            tenant_pays = row.tenant is not None and bool(held_tenant and held_tenant.pays)
        else:
            tenant_pays = bool(held_tenant and held_tenant.pays)
        on = row.changed_on or self.effective
        if self._owner(uid, row, held_owner, on, not tenant_pays, report):
            changed = True
        if "tenant" in self.present and self._tenant(
            uid, row, held_tenant, on, tenant_pays, report
        ):
            changed = True
        return changed

    def _owner(self, uid, row, held, on, pays, report) -> bool:
        if row.owner is None:
            if held is not None and "owner" in self.present:
                self.error(
                    row,
                    "owner",
                    "",
                    f"the owner {held.name} on record is missing; an "
                    "owner cannot be removed by import",
                )
            return False
        if held is None or row.owner.name != held.name:
            start = on if held is not None else (row.changed_on or row.delivered_on or on)
            if held is not None:
                if held.start_on and start < held.start_on:
                    self.error(
                        row,
                        "owner",
                        row.owner.name,
                        f"owner change dated {start}, before the current owner "
                        f"{held.name} took over on {held.start_on}; give a 过户日期 or "
                        "--as-of on or after it",
                    )
                self.ended.append((start, held.occupancy_id))
            self.occupy(uid, self.party_for(row.owner, row, "owner"), "owner", start, pays)
            report.owner_changes += 1
            if start:
                self.changed_on.append((uid, row.code, start))
            return True
        changed = self._details(row.owner, held, row, "owner")
        if held.pays != pays:
            self.ended.append((on, held.occupancy_id))
            self.occupy(uid, held.party_id, "owner", on, pays)
            changed = True
        return changed

    def _tenant(self, uid, row, held, on, pays, report) -> bool:
        if row.tenant is None:
            if held is None:
                return False
            self.ended.append((on, held.occupancy_id))
            report.tenant_changes += 1
            return True
        if held is None or row.tenant.name != held.name:
            start = row.tenant_from or self.effective
            if held is not None:
                self.ended.append((start, held.occupancy_id))
            self.occupy(uid, self.party_for(row.tenant, row, "tenant"), "tenant", start, pays)
            report.tenant_changes += 1
            return True
        changed = self._details(row.tenant, held, row, "tenant")
        if held.pays != pays:
            self.ended.append((on, held.occupancy_id))
            self.occupy(uid, held.party_id, "tenant", on, pays)
            changed = True
        return changed

    def _details(self, person: PartyIn, held: _Current, row: RosterRow, role: str) -> bool:
        """Contact details of a party on record: phones, ID number, kind, birthday. A blank
        cell keeps what is on record and a masked one must match it. A person on several
        rows keeps every phone the rows give; the phones change only when a row brings a
        number not on record."""
        phone_field = "phone" if role == "owner" else "tenant_phone"
        id_field = "id_number" if role == "owner" else "tenant_id_number"
        pid = held.party_id
        changed = False
        if phone_field in self.present and person.phones:
            if person.phones_masked:
                if cells.mask_phones(held.phones) != person.phones:
                    self.error(
                        row,
                        phone_field,
                        person.phones,
                        "a masked phone that does not "
                        "match the phone on record; use an unmasked file",
                    )
            else:
                given = person.phones.split("/")
                union = self.file_phones.setdefault(pid, [])
                union.extend(p for p in given if p not in union)
                if not set(given) <= set(held.phones.split("/")):
                    self.phone_changes.add(pid)
                    changed = True
        id_number = held.id_number
        if id_field in self.present and person.id_number:
            if not person.id_masked:
                id_number = person.id_number
            elif cells.mask_id(held.id_number) != person.id_number:
                self.error(
                    row,
                    id_field,
                    person.id_number,
                    "a masked ID number that does not "
                    "match the one on record; use an unmasked file",
                )
        kind = person.kind if (role == "tenant" or "owner_kind" in self.present) else held.kind
        birthday = held.birthday
        if role == "owner" and "birthday" in self.present and person.birthday:
            birthday = person.birthday
        wanted = (kind, id_number, birthday)
        if wanted == (held.kind, held.id_number, held.birthday):
            return changed
        earlier = self.party_updates.get(pid)
        if earlier is not None and earlier[0] != wanted:
            self.error(
                row,
                id_field if id_number != earlier[0][1] else "owner",
                held.name,
                f"{held.name} has different details on row {earlier[1].row}; one "
                "person's ID number and type must agree",
            )
        self.party_updates[pid] = (wanted, row)
        return True

    # -- finishing

    def check_missing_area(self) -> None:
        for rows, column in ((self.needs_area, "area"), (self.needs_owner, "owner")):
            if rows:
                codes = ", ".join(r.code for r in rows[:3]) + ("…" if len(rows) > 3 else "")
                self.error(
                    rows[0],
                    column,
                    "",
                    f"the file has no {FIELD_LABELS[column]} column, "
                    f"and {len(rows)} new unit(s) need one ({codes})",
                )

    def merge(self, rows: list[RosterRow]) -> None:
        """Compare a batch of rows with what is on record, then write what is new."""
        report = self.report
        presence = self.roster.presence
        for row in rows:
            self.present = presence[row.sheet]
            existing = self.units.get(row.code)
            if existing is None:
                self.add(row)
                report.added += 1
            elif self.update(row, existing, report):
                report.updated += 1
                report.changed_codes.append(row.code)
            else:
                report.unchanged += 1
        if not self.errors:
            self.flush()

    def flush(self) -> None:
        """Write the new units, parties and occupancies merged so far."""
        conn = self.conn
        conn.executemany(
            "INSERT INTO unit (id, code, vacant, building, entrance, room, floor, kind, area_x100, "
            "area_basis, inner_area_x100, delivered_on, notes, created_at, updated_at) "
            "VALUES (?, ?, coalesce(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.new_units,
        )
        conn.executemany(
            "UPDATE unit SET vacant = coalesce(?, vacant), building = ?, entrance = ?, room = ?, "
            "floor = ?, kind = ?, "
            "area_x100 = ?, area_basis = ?, inner_area_x100 = ?, delivered_on = ?, notes = ?, "
            "updated_at = ? WHERE id = ?",
            self.unit_updates,
        )
        conn.executemany(
            "INSERT INTO party (id, kind, name, phones, id_number, birthday, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.new_parties.values(),
        )
        conn.executemany("UPDATE occupancy SET end_on = ? WHERE id = ?", self.ended)
        conn.executemany(
            "INSERT INTO occupancy (unit_id, party_id, role, start_on, end_on, pays, source, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.new_occupancies,
        )
        for pid, party in self.new_parties.items():
            self.phones[pid] = party[3]  # a later row may add phones: then it is an update
        self.new_units, self.unit_updates, self.ended, self.new_occupancies = [], [], [], []
        self.new_parties = {}

    def finish(self) -> ImportReport:
        """The last writes (contact details settle only once every row is seen) and the
        report; RowErrors if anything could not be merged."""
        self.check_missing_area()
        if self.errors:
            raise RowErrors(self.errors)
        self.flush()
        conn = self.conn
        conn.executemany(
            "UPDATE party SET kind = ?, id_number = ?, birthday = ?, updated_at = ? WHERE id = ?",
            [(*wanted, self.stamp, pid) for pid, (wanted, _row) in self.party_updates.items()],
        )
        for pid in self.phone_changes:
            self.more_phones[pid] = "/".join(self.file_phones[pid])
        conn.executemany(
            "UPDATE party SET phones = ?, updated_at = ? WHERE id = ?",
            [(phones, self.stamp, pid) for pid, phones in self.more_phones.items()],
        )
        report = self.report
        roster = self.roster
        report.rows = roster.count
        report.sheets = list(roster.sheets)
        report.notices = list(roster.notices)
        codes = roster.codes or {row.code for row in roster.rows}
        report.not_in_file = sum(1 for code in self.units if code not in codes)
        if report.not_in_file:
            report.notices.append(
                f"{report.not_in_file} unit(s) on record are not in this file; they are kept "
                "as they are"
            )
        if roster.skipped_footer:
            report.notices.append(f"{roster.skipped_footer} total/footnote row(s) skipped")
        for uid, code, day in self.changed_on:
            if conn.execute(
                "SELECT 1 FROM bill WHERE unit_id = ? AND covers_to >= ? AND opening = 0 LIMIT 1",
                (uid, day),
            ).fetchone():
                report.notices.append(
                    f"{code}: days from {day} are already billed to whoever was responsible "
                    f"before this change; bill them to the right party with: propfee rebill "
                    f"{code} --from {day}"
                )
        return report


_KEEP = frozenset(
    {"vacant", "floor", "area_x100", "area_basis", "inner_area_x100", "delivered_on", "notes"}
)


def _unit_values(row: RosterRow) -> tuple:
    return (
        row.vacant,
        row.building,
        row.entrance,
        row.room,
        row.floor,
        row.kind,
        row.area_x100,
        row.area_basis if row.area_x100 is not None else "",
        row.inner_area_x100,
        row.delivered_on,
        row.notes,
    )


def apply_roster(
    conn: sqlite3.Connection, roster: Roster, *, as_of: date, now: datetime
) -> ImportReport:
    """Merge a validated roster into the database, inside the caller's transaction.

    New units are added with their owner (and tenant); existing units are compared field by
    field — only for the columns their sheet has, and a blank cell never erases what is on
    record — and updated. A different owner or tenant ends the current occupancy and starts
    a new one on the row's 过户日期, else ``as_of``. Raises RowErrors (and the caller rolls
    back) for conflicts only the database reveals.
    """
    state = _Merge(conn, roster, as_of=as_of, now=now)
    state.merge(roster.rows)
    return state.finish()


# ---------------------------------------------------------------- listing and export


class UnitView(NamedTuple):
    code: str
    building: str
    entrance: str
    room: str
    floor: str
    kind: str
    area_x100: int | None
    area_basis: str
    inner_area_x100: int | None
    delivered_on: str | None
    notes: str
    owner: str
    owner_kind: str
    phones: str
    id_number: str
    birthday: str | None
    tenant: str
    tenant_phones: str
    payer: str  # "owner" / "tenant" / "developer"
    vacant: int = 0


_ROSTER_SQL = """
SELECT u.code, u.building, u.entrance, u.room, u.floor, u.kind, u.area_x100, u.area_basis,
       u.inner_area_x100, u.delivered_on, u.notes,
       coalesce(po.name, ''), coalesce(po.kind, ''), coalesce(po.phones, ''),
       coalesce(po.id_number, ''), po.birthday,
       coalesce(pt.name, ''), coalesce(pt.phones, ''),
       CASE WHEN t.pays = 1 THEN 'tenant' WHEN o.id IS NULL THEN 'developer' ELSE 'owner' END,
       u.vacant
FROM unit u
LEFT JOIN occupancy o ON o.unit_id = u.id AND o.role = 'owner' AND o.end_on IS NULL
LEFT JOIN party po ON po.id = o.party_id
LEFT JOIN occupancy t ON t.unit_id = u.id AND t.role = 'tenant' AND t.end_on IS NULL
LEFT JOIN party pt ON pt.id = t.party_id
"""


def natural_key(code: str) -> tuple:
    """Sort ``1-1-902`` before ``1-1-1001`` and ``2-…`` after ``1-…``."""
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", code) if p
    )


def list_units(
    conn: sqlite3.Connection,
    *,
    building: str | None = None,
    kind: str | None = None,
    owner: str | None = None,
) -> list[UnitView]:
    where, params = [], []
    if building:
        where.append("u.building = ?")
        params.append(cells.building_part(building))
    if kind:
        kinds = resolve_kind(kind)
        where.append("u.kind = ?")
        params.append(kinds)
    if owner:
        where.append("po.name LIKE ?")
        params.append(f"%{owner}%")
    sql = _ROSTER_SQL + (" WHERE " + " AND ".join(where) if where else "")
    rows = [UnitView(*row) for row in conn.execute(sql, params)]
    rows.sort(key=lambda r: natural_key(r.code))
    return rows


def resolve_kind(value: str) -> str:
    """A kind given on the command line, in English or Chinese."""
    if value in KINDS:
        return value
    kind = KIND_ALIASES.get(norm_header(value))
    if kind is None:
        raise InvalidValue(
            f"unknown kind {value!r}; use one of "
            + ", ".join(f"{k} ({v})" for k, v in KINDS.items())
        )
    return kind


@dataclass
class Occupancy:
    role: str
    name: str
    kind: str
    phones: str
    id_number: str
    start_on: str | None
    end_on: str | None
    pays: bool
    source: str


@dataclass
class UnitDetail:
    unit: UnitView
    history: list[Occupancy]


def resolve_code(conn: sqlite3.Connection, value: object) -> str:
    """A unit code as typed, as the roster writes it: ``p-041`` is ``P-041`` when the roster
    holds only that one (letter case never tells two units apart). Unknown codes come back
    as typed, for the caller's "no unit" message."""
    code = cells.unit_code(value)
    if code.isascii() and code.lower() == code.upper():
        return code
    if conn.execute("SELECT 1 FROM unit WHERE code = ?", (code,)).fetchone():
        return code
    rows = conn.execute(
        "SELECT code FROM unit WHERE code = ? COLLATE NOCASE LIMIT 2", (code,)
    ).fetchall()
    return rows[0][0] if len(rows) == 1 else code


def unit_detail(conn: sqlite3.Connection, code: str) -> UnitDetail:

    code = resolve_code(conn, code)
    row = conn.execute(_ROSTER_SQL + " WHERE u.code = ?", (code,)).fetchone()
    if row is None:
        hint = ""
        near = conn.execute(
            "SELECT code FROM unit WHERE code LIKE ? ORDER BY code LIMIT 3", (f"%{code}%",)
        ).fetchall()
        if near:
            hint = " (did you mean " + ", ".join(r[0] for r in near) + "?)"
        raise NotFound(f"no unit {code!r}{hint}")
    history = [
        Occupancy(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8])
        for r in conn.execute(
            "SELECT o.role, p.name, p.kind, p.phones, p.id_number, o.start_on, o.end_on, o.pays, "
            "o.source FROM occupancy o JOIN party p ON p.id = o.party_id "
            "JOIN unit u ON u.id = o.unit_id WHERE u.code = ? "
            "ORDER BY o.role, coalesce(o.start_on, ''), o.id",
            (code,),
        )
    ]
    return UnitDetail(UnitView(*row), history)


EXPORT_HEADERS = (
    "房号",
    "楼栋",
    "单元",
    "房间",
    "楼层",
    "房屋类型",
    "计费面积",
    "面积依据",
    "套内面积",
    "交付日期",
    "业主",
    "业主类型",
    "手机号",
    "身份证号",
    "出生日期",
    "租户",
    "租户电话",
    "缴费方",
    "入住状态",
    "备注",
)


def export_rows(units: list[UnitView], *, mask: bool) -> list[list[object]]:
    """The roster as export rows under EXPORT_HEADERS (cells as text, dates as ``date``)."""
    out = []
    for u in units:
        phones = cells.mask_phones(u.phones) if mask else u.phones
        tenant_phones = cells.mask_phones(u.tenant_phones) if mask else u.tenant_phones
        id_number = cells.mask_id(u.id_number) if mask else u.id_number
        out.append(
            [
                u.code,
                u.building,
                u.entrance,
                u.room,
                u.floor,
                kind_label(u.kind),
                _area(u.area_x100),
                u.area_basis if u.area_x100 is not None else "",
                _area(u.inner_area_x100),
                date.fromisoformat(u.delivered_on) if u.delivered_on else None,
                u.owner,
                {"person": "个人", "company": "企业"}.get(u.owner_kind, ""),
                phones,
                id_number,
                date.fromisoformat(u.birthday) if u.birthday else None,
                u.tenant,
                tenant_phones,
                "租户" if u.payer == "tenant" else ("业主" if u.owner else ""),
                "空置" if u.vacant else "已入住",
                u.notes,
            ]
        )
    return out


def _area(value: int | None) -> Decimal | None:
    return None if value is None else hundredths_to_decimal(value)


def export_units(
    conn: sqlite3.Connection,
    path: Path,
    *,
    mask: bool,
    building: str | None = None,
    kind: str | None = None,
) -> int:
    """Write the current roster to ``path`` (.xlsx or .csv); return the number of units."""

    units = list_units(conn, building=building, kind=kind)
    write_table(
        path,
        EXPORT_HEADERS,
        export_rows(units, mask=mask),
        sheet="业主信息",
        text_columns=("房号", "楼栋", "单元", "房间", "楼层", "手机号", "身份证号", "租户电话"),
    )
    return len(units)


@contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def has_units(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM unit LIMIT 1").fetchone() is not None


def import_roster(
    conn: sqlite3.Connection,
    path: Path,
    *,
    as_of: date,
    now: datetime,
    column_map: ColumnMap | None = None,
    sheet: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Read, validate and merge a roster file as one transaction: committed whole, or rolled
    back on any bad row (and at the end of a dry run). Rows are merged in batches as they
    are read, so a 100k-unit roster is never held in memory twice."""

    merge: _Merge | None = None

    def sink(roster: Roster, rows: list[RosterRow]) -> None:
        nonlocal merge
        if merge is None:
            merge = _Merge(conn, roster, as_of=as_of, now=now)
        merge.merge(rows)

    with _no_gc(), transaction(conn, dry_run=dry_run):
        try:
            roster = read_roster(
                path, column_map=column_map, sheet=sheet, progress=progress, sink=sink
            )
        except RowErrors as exc:  # bad cells, and what the rows read before them revealed
            raise RowErrors(exc.errors + (merge.errors if merge else [])) from None
        report = (merge or _Merge(conn, roster, as_of=as_of, now=now)).finish()
    report.dry_run = dry_run
    return report
