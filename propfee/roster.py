"""The owner roster: units, their owners and tenants — read from the files other systems
export, validated row by row, and merged into the database (an upsert by unit code that
keeps ownership history).

``read_roster`` only reads and validates (no database); ``apply_roster`` writes inside the
caller's transaction; ``import_roster`` does both as one command.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from propfee import cells
from propfee.errors import FileFormatError, InvalidValue, RowError, RowErrors
from propfee.headers import HeaderMatch, alias_index, ambiguous_columns, find_header, norm_header
from propfee.money import hundredths_to_decimal, parse_area
from propfee.tabular import Sheet, read_sheets

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
        "bldg",
        "block",
        "tower",
    ),
    "entrance": ("单元", "单元号", "单元名称", "entrance", "stairwell"),
    "room": ("房间", "室号", "门牌号", "室", "房间编号", "room", "room no"),
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
        "mobile",
        "tel",
        "telephone",
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
    "tenant_from": ("起租日期", "租赁开始日期", "租赁起始日期", "租期开始", "lease start"),
    "payer": ("缴费方", "缴费人", "付款方", "付费方", "缴费主体", "费用承担方", "payer"),
    "notes": ("备注", "备注信息", "notes", "note", "remark", "remarks"),
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
    "tenant_from": "起租日期",
    "payer": "缴费方",
    "notes": "备注",
}
_ALIASES = alias_index(FIELDS)
_ROOMISH_CODE_HEADERS = {norm_header(h) for h in ("房号", "房间号", "户号", "房屋号")}
_MULTI = frozenset({"phone", "tenant_phone"})
_NO_OWNER = {
    norm_header(w) for w in ("未售", "待售", "开发商", "开发商持有", "无", "空", "-", "—", "/")
}
_COMPANY_WORDS = re.compile(
    r"公司|有限|集团|企业|银行|支行|分行|商行|超市|商店|店$|中心$|工作室|事务所|医院|诊所|药房|学校|"
    r"幼儿园|酒店|宾馆|会所|协会|委员会|政府|局$|厂$|合作社|经营部|门市部|co\.|ltd|inc\.?$|llc",
    re.IGNORECASE,
)
_FOOTER = re.compile(r"^(合计|总计|小计|共计|注[:：]|说明|备注[:：]|制表|审核|打印|填表)")
_PAYER_OWNER = {norm_header(w) for w in ("业主", "owner", "产权人")}
_PAYER_TENANT = {norm_header(w) for w in ("租户", "tenant", "承租人", "租客")}
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


@dataclass
class Roster:
    """A validated roster file: its rows and which fields its columns gave."""

    file: str
    rows: list[RosterRow]
    present: set[str]
    sheets: list[str]
    notices: list[str] = field(default_factory=list)
    skipped_blank: int = 0
    skipped_footer: int = 0


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
) -> Roster:
    """Read and validate a roster file. Raises RowErrors listing every bad row."""
    column_map = column_map or ColumnMap()
    sheet = sheet or column_map.sheet
    sheets = read_sheets(path)
    if sheet is not None:
        chosen = [s for s in sheets if s.name == sheet]
        if not chosen:
            names = ", ".join(s.name for s in sheets)
            raise FileFormatError(f"{path.name}: no sheet named {sheet!r} (sheets: {names})")
        sheets = chosen
    total = sum(s.nrows for s in sheets)
    reader = _RosterReader(path.name, column_map, total, progress)
    for one in sheets:
        reader.read_sheet(one, required=sheet is not None or len(sheets) == 1)
    if not reader.roster.sheets:
        names = ", ".join(s.name for s in sheets)
        raise FileFormatError(
            f"{path.name}: no roster header found in {names}; expected a header row naming the "
            "unit (房号, or 楼号/单元/房间), 建筑面积 and 业主 within the first 30 rows "
            "(use --map to name unusual headers)"
        )
    if reader.errors:
        raise RowErrors(reader.errors)
    return reader.roster


class _RosterReader:
    def __init__(self, file: str, column_map: ColumnMap, total: int, progress: Progress | None):
        self.file = file
        self.map = column_map
        self.errors: list[RowError] = []
        self.roster = Roster(file, [], set(), [])
        self.seen: dict[str, tuple[str, int]] = {}
        self.total = total
        self.done = 0
        self.progress = progress
        self.kind_cache: dict[str, str | None] = {}
        self.date_cache: dict[object, str | None] = {}

    # -- one sheet

    def read_sheet(self, sheet: Sheet, *, required: bool) -> None:
        rows = sheet.rows()
        head: list[tuple[int, list]] = []
        for item in rows:
            head.append(item)
            if len(head) >= 30:
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
        self._resolve_code_column(match, head)
        missing = self._missing_required(match)
        if missing:
            self.errors.append(RowError(self.file, sheet.name, match.row, "", "", missing))
            return
        self.roster.sheets.append(sheet.name)
        self.roster.present |= set(match.columns)
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
        self._read_rows(sheet, match, head[position + 1 :], rows)

    def _resolve_code_column(self, match: HeaderMatch, head: list) -> None:
        """``楼号 | 单元 | 房号``: here 房号 is the room, not the whole code. Decide by the
        values: plain room numbers under a building column are rooms."""
        code = match.columns.get("code")
        if code is None or "room" in match.columns or "building" not in match.columns:
            return
        if norm_header(code.header) not in _ROOMISH_CODE_HEADERS:
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

    def _missing_required(self, match: HeaderMatch) -> str:
        found = set(match.columns)
        wanted = []
        if "code" not in found and "room" not in found:
            wanted.append("房号 (unit code) or 房间 (room)")
        if "owner" not in found:
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

    def _read_rows(self, sheet: Sheet, match: HeaderMatch, head_rest: list, rows) -> None:
        import itertools

        cols = match.columns
        get = {name: column.index for name, column in cols.items()}
        extra_phone = [c.index for c in match.extra.get("phone", [])]
        extra_tenant_phone = [c.index for c in match.extra.get("tenant_phone", [])]
        mapped = sorted(
            {c.index for c in cols.values()} | set(extra_phone) | set(extra_tenant_phone)
        )
        area_col = cols.get("area")
        area_basis = _basis_name(area_col.header) if area_col else ""
        sheet_name = sheet.name
        identity = cols.get("code") or cols.get("room")
        identity_index, identity_header = identity.index, norm_header(identity.header)
        ticks = 0
        for number, row in itertools.chain(head_rest, rows):
            ticks += 1
            if ticks == 2000:
                self._tick(ticks)
                ticks = 0
            width = len(row)
            if all(i >= width or row[i] in ("", None) for i in mapped):
                self.roster.skipped_blank += 1
                continue
            first = next((c for c in row if c not in ("", None)), "")
            if isinstance(first, str) and _FOOTER.match(first.strip()):
                self.roster.skipped_footer += 1
                continue
            if identity_index < width:
                value = row[identity_index]
                if (
                    isinstance(value, str)
                    and not value[:1].isdigit()
                    and norm_header(value) == identity_header
                ):
                    continue  # the header repeated (a printed export repeats it per page)
            self._read_row(
                sheet_name, number, row, get, cols, extra_phone, extra_tenant_phone, area_basis
            )
        self._tick(ticks)

    def _cell(self, row: list, index: int | None) -> object:
        if index is None or index < 0 or index >= len(row):
            return ""
        return row[index]

    def _read_row(
        self, sheet, number, row, get, cols, extra_phone, extra_tenant_phone, area_basis
    ) -> None:
        errors: list[RowError] = []
        cell = self._cell

        def bad(fieldname: str, value: object, message: str) -> None:
            column = cols.get(fieldname)
            errors.append(
                RowError(
                    self.file,
                    sheet,
                    number,
                    column.label if column else FIELD_LABELS.get(fieldname, fieldname),
                    cells.text(value),
                    message,
                )
            )

        # identity
        code_raw = cell(row, get.get("code"))
        building = cells.building_part(cell(row, get.get("building")))
        entrance = cells.entrance_part(cell(row, get.get("entrance")))
        room = cells.room_part(cell(row, get.get("room")))
        code = cells.unit_code(code_raw)
        if not code:
            code = "-".join(p for p in (building, entrance, room) if p)
            if not room:
                bad("code" if "code" in cols else "room", "", "no unit code or room number")
                code = ""
        elif not building and not room:
            building, entrance, room = _split_code(code)
        floor = cells.number_text(cell(row, get.get("floor")))
        # kind
        kind_raw = cell(row, get.get("kind"))
        kind = self._kind(kind_raw)
        if kind is None:
            bad(
                "kind",
                kind_raw,
                f"unknown kind (use one of {', '.join(KINDS.values())}, or map it in --map [kinds])",
            )
            kind = "residential"
        # areas
        area = self._area(row, get.get("area"), "area", bad)
        if area is None and kind in NEEDS_AREA and not errors and "area" in cols:
            bad("area", "", f"area is required for a {kind_label(kind)} unit")
        basis = area_basis
        if "area_basis" in get:
            written = cells.text(cell(row, get["area_basis"]))
            basis = written or basis
        inner = self._area(row, get.get("inner_area"), "inner_area", bad)
        if area is not None and inner is not None and inner > area and basis == "建筑面积":
            bad("inner_area", cell(row, get["inner_area"]), "套内面积 is larger than 建筑面积")
        # dates
        delivered = self._date(row, get.get("delivered_on"), "delivered_on", bad)
        changed = self._date(row, get.get("changed_on"), "changed_on", bad)
        tenant_from = self._date(row, get.get("tenant_from"), "tenant_from", bad)
        birthday = self._date(row, get.get("birthday"), "birthday", bad)
        # parties
        owner = self._party(row, get, "owner", "phone", extra_phone, "owner_kind", bad, birthday)
        tenant = None
        if "tenant" in get:
            tenant = self._party(
                row, get, "tenant", "tenant_phone", extra_tenant_phone, None, bad, None
            )
        elif "tenant_phone" in get and cells.text(cell(row, get["tenant_phone"])):
            bad("tenant_phone", cell(row, get["tenant_phone"]), "a tenant phone but no tenant name")
        tenant_pays = False
        if "payer" in get:
            payer_raw = cell(row, get["payer"])
            payer = norm_header(cells.text(payer_raw))
            if payer in _PAYER_TENANT or (tenant and payer == norm_header(tenant.name)):
                tenant_pays = True
            elif (
                payer
                and payer not in _PAYER_OWNER
                and not (owner and payer == norm_header(owner.name))
            ):
                bad("payer", payer_raw, "payer must be 业主 (owner) or 租户 (tenant)")
            if tenant_pays and tenant is None:
                bad("payer", payer_raw, "the tenant pays, but no tenant is named")
        notes = cells.text(cell(row, get.get("notes")))
        # duplicates
        if code:
            first = self.seen.get(code)
            if first is not None:
                where = (
                    f"row {first[1]}" if first[0] == sheet else f"sheet {first[0]} row {first[1]}"
                )
                column = cols.get("code") or cols.get("room")
                errors.append(
                    RowError(
                        self.file,
                        sheet,
                        number,
                        column.label if column else "",
                        code,
                        f"duplicate unit code (first on {where})",
                    )
                )
            else:
                self.seen[code] = (sheet, number)
        if errors:
            self.errors.extend(errors)
            return
        self.roster.rows.append(
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
                delivered,
                notes,
                owner,
                tenant,
                tenant_pays,
                tenant_from,
                changed,
            )
        )

    def _kind(self, value: object) -> str | None:
        if value in ("", None):
            return "residential"
        key = value if isinstance(value, str) else str(value)
        try:
            return self.kind_cache[key]
        except KeyError:
            normal = norm_header(cells.text(value))
            kind = self.map.kinds.get(normal) or KIND_ALIASES.get(normal)
            self.kind_cache[key] = kind
            return kind

    def _area(self, row, index, fieldname, bad) -> int | None:
        value = self._cell(row, index)
        if value in ("", None):
            return None
        try:
            return parse_area(value, what="area")
        except InvalidValue as exc:
            bad(fieldname, value, str(exc).removeprefix("area: "))
            return None

    def _date(self, row, index, fieldname, bad) -> str | None:
        value = self._cell(row, index)
        if value in ("", None):
            return None
        try:
            return self.date_cache[value]
        except (KeyError, TypeError):
            pass
        try:
            parsed = cells.parse_date(value)
        except InvalidValue as exc:
            bad(fieldname, value, str(exc))
            return None
        iso = parsed.isoformat() if parsed else None
        if parsed and not (1900 <= parsed.year <= 2100):
            bad(fieldname, value, "date out of range")
            return None
        self.date_cache[value] = iso
        return iso

    def _party(
        self, row, get, name_field, phone_field, extra_phone, kind_field, bad, birthday
    ) -> PartyIn | None:
        cell = self._cell
        name_raw = cell(row, get.get(name_field))
        name = cells.text(name_raw)
        phone_cells = [cell(row, get.get(phone_field))] + [cell(row, i) for i in extra_phone]
        phone_text = [c for c in phone_cells if c not in ("", None)]
        if not name or norm_header(name) in _NO_OWNER:
            if phone_text:
                bad(
                    phone_field,
                    phone_text[0],
                    f"a phone number but no {FIELD_LABELS[name_field]} name",
                )
            return None
        phones: list[str] = []
        phones_masked = False
        for value in phone_text:
            if cells.is_masked(cells.text(value)):
                phones_masked = True
                phones.append(cells.text(value))
                continue
            try:
                from propfee.tabular import lost_digits

                if lost_digits(value):
                    bad(
                        phone_field,
                        value,
                        "the number was saved in scientific notation and its "
                        "digits are lost; format the column as text and export again",
                    )
                    continue
                phones.extend(p for p in cells.phones(value) if p not in phones)
            except InvalidValue as exc:
                bad(phone_field, value, str(exc))
        id_number = ""
        id_masked = False
        if name_field == "owner" and "id_number" in get:
            id_raw = cell(row, get["id_number"])
            try:
                id_number = cells.id_number(id_raw)
                id_masked = cells.is_masked(id_number)
            except InvalidValue as exc:
                bad("id_number", id_raw, str(exc))
        kind = ""
        if kind_field and kind_field in get:
            kind_raw = cell(row, get[kind_field])
            if kind_raw not in ("", None):
                kind = _OWNER_KIND.get(norm_header(cells.text(kind_raw)), "")
                if not kind:
                    bad(kind_field, kind_raw, "owner type must be 个人 (person) or 企业 (company)")
        if not kind:
            kind = party_kind(name, id_number)
        return PartyIn(name, kind, "/".join(phones), id_number, birthday, phones_masked, id_masked)


def _has_identity(fields: set[str]) -> bool:
    return "code" in fields or "room" in fields


def _basis_name(header: str) -> str:
    normal = norm_header(header)
    for basis in ("建筑面积", "套内面积", "计费面积", "收费面积", "产权面积", "使用面积"):
        if normal.startswith(norm_header(basis)):
            return basis
    return "建筑面积" if normal in ("面积", "area", "建面", "房屋面积") else header


def _split_code(code: str) -> tuple[str, str, str]:
    parts = code.split("-")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], "", parts[1]
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


def apply_roster(
    conn: sqlite3.Connection,
    roster: Roster,
    *,
    as_of: date,
    now: datetime,
    progress: Progress | None = None,
) -> ImportReport:
    """Merge a validated roster into the database, inside the caller's transaction.

    New units are added with their owner (and tenant); existing units are compared field by
    field — only for the columns the file has — and updated. A different owner or tenant
    ends the current occupancy and starts a new one on the row's 过户日期, else ``as_of``.
    Raises RowErrors (and the caller rolls back) for conflicts only the database reveals.
    """
    stamp = now.isoformat(sep=" ", timespec="seconds")
    effective = as_of.isoformat()
    source = f"import {roster.file}"
    present = roster.present
    report = ImportReport(
        rows=len(roster.rows), sheets=list(roster.sheets), notices=list(roster.notices)
    )

    units = {
        row[1]: row
        for row in conn.execute(
            "SELECT id, code, building, entrance, room, floor, kind, area_x100, area_basis, "
            "inner_area_x100, delivered_on, notes FROM unit"
        )
    }
    current: dict[tuple[int, str], _Current] = {}
    for row in conn.execute(
        "SELECT o.unit_id, o.role, o.id, o.party_id, o.start_on, o.pays, p.name, p.kind, "
        "p.phones, p.id_number, p.birthday FROM occupancy o JOIN party p ON p.id = o.party_id "
        "WHERE o.end_on IS NULL"
    ):
        current[(row[0], row[1])] = _Current(*row[2:])
    parties: dict[tuple[str, str], int] = {}
    for pid, name, phones, id_number in conn.execute(
        "SELECT id, name, phones, id_number FROM party WHERE is_developer = 0 ORDER BY id"
    ):
        if id_number:
            parties.setdefault((name, "id:" + id_number), pid)
        if phones:
            parties.setdefault((name, "tel:" + phones.split("/")[0]), pid)

    next_unit = (conn.execute("SELECT coalesce(max(id), 0) FROM unit").fetchone()[0]) + 1
    next_party = (conn.execute("SELECT coalesce(max(id), 0) FROM party").fetchone()[0]) + 1
    new_units: list[tuple] = []
    new_parties: list[tuple] = []
    new_occupancies: list[tuple] = []
    end_occupancies: list[tuple] = []
    unit_updates: list[tuple] = []
    party_updates: dict[int, tuple[PartyIn, RosterRow]] = {}
    errors: list[RowError] = []

    def party_for(person: PartyIn, row: RosterRow, column: str) -> int | None:
        nonlocal next_party
        if person.phones_masked or person.id_masked:
            errors.append(
                RowError(
                    roster.file,
                    row.sheet,
                    row.row,
                    column,
                    person.phones if person.phones_masked else person.id_number,
                    "a masked value cannot be imported for a new owner or tenant; "
                    "use an unmasked file",
                )
            )
            return None
        keys = []
        if person.id_number:
            keys.append((person.name, "id:" + person.id_number))
        if person.phones:
            keys.append((person.name, "tel:" + person.phones.split("/")[0]))
        for key in keys:
            if key in parties:
                return parties[key]
        pid = next_party
        next_party += 1
        new_parties.append(
            (
                pid,
                person.kind,
                person.name,
                person.phones,
                person.id_number,
                person.birthday,
                stamp,
                stamp,
            )
        )
        for key in keys:
            parties[key] = pid
        return pid

    def same_party(person: PartyIn, held: _Current) -> bool:
        return person.name == held.name

    def party_changes(person: PartyIn, held: _Current, row: RosterRow, role: str) -> bool:
        """Record contact-detail changes for a held party; True if anything differs."""
        phones = held.phones
        phone_field = "phone" if role == "owner" else "tenant_phone"
        if phone_field in present:
            if person.phones_masked:
                if cells.mask_phones(held.phones) != person.phones:
                    errors.append(
                        RowError(
                            roster.file,
                            row.sheet,
                            row.row,
                            FIELD_LABELS[phone_field],
                            person.phones,
                            "a masked phone that does not match the "
                            "phone on record; use an unmasked file",
                        )
                    )
            else:
                phones = person.phones
        id_number = held.id_number
        if role == "owner" and "id_number" in present:
            if person.id_masked:
                if cells.mask_id(held.id_number) != person.id_number:
                    errors.append(
                        RowError(
                            roster.file,
                            row.sheet,
                            row.row,
                            "身份证号",
                            person.id_number,
                            "a masked ID number that does not "
                            "match the one on record; use an unmasked file",
                        )
                    )
            else:
                id_number = person.id_number
        kind = person.kind if (role == "tenant" or "owner_kind" in present) else held.kind
        birthday = person.birthday if (role == "owner" and "birthday" in present) else held.birthday
        if (phones, id_number, kind, birthday) == (
            held.phones,
            held.id_number,
            held.kind,
            held.birthday,
        ):
            return False
        wanted = PartyIn(held.name, kind, phones, id_number, birthday, False, False)
        earlier = party_updates.get(held.party_id)
        if earlier is not None and earlier[0] != wanted:
            errors.append(
                RowError(
                    roster.file,
                    row.sheet,
                    row.row,
                    FIELD_LABELS[phone_field],
                    person.phones,
                    f"{held.name} has different details on row "
                    f"{earlier[1].row}; one person's phone and ID must agree",
                )
            )
        party_updates[held.party_id] = (wanted, row)
        return True

    rows_done = 0
    for row in roster.rows:
        rows_done += 1
        if progress is not None and rows_done % 5000 == 0:
            progress(rows_done, len(roster.rows))
        existing = units.get(row.code)
        values = (
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
        if existing is None:
            if row.area_x100 is None and row.kind in NEEDS_AREA:
                errors.append(
                    RowError(
                        roster.file,
                        row.sheet,
                        row.row,
                        "建筑面积",
                        "",
                        f"a new {kind_label(row.kind)} unit needs an area, and the "
                        "file has no 建筑面积 column",
                    )
                )
            uid = next_unit
            next_unit += 1
            new_units.append((uid, row.code, *values, stamp, stamp))
            report.added += 1
            tenant_pays = row.tenant is not None and row.tenant_pays
            if row.owner is not None:
                pid = party_for(row.owner, row, "业主")
                start = row.changed_on or row.delivered_on
                new_occupancies.append(
                    (uid, pid, "owner", start, None, int(not tenant_pays), source, stamp)
                )
            if row.tenant is not None:
                pid = party_for(row.tenant, row, "租户")
                new_occupancies.append(
                    (uid, pid, "tenant", row.tenant_from, None, int(tenant_pays), source, stamp)
                )
            continue

        uid = existing[0]
        changed = False
        old = tuple(existing[2:])
        given = present if not row.room else present | _PLACE_FIELDS
        merged = tuple(
            new if _FIELD_OF_COLUMN[name] in given else was
            for name, new, was in zip(_UNIT_FIELDS, values, old, strict=True)
        )
        if merged != old:
            unit_updates.append((*merged, stamp, uid))
            changed = True

        held_owner = current.get((uid, "owner"))
        held_tenant = current.get((uid, "tenant"))
        if "payer" in present:
            tenant_pays = row.tenant is not None and row.tenant_pays
        elif "tenant" in present:  # a new tenant takes over the old one's arrangement
            tenant_pays = row.tenant is not None and bool(held_tenant and held_tenant.pays)
        else:
            tenant_pays = bool(held_tenant and held_tenant.pays)
        owner_pays = int(not tenant_pays)
        on = row.changed_on or effective

        # the owner
        if row.owner is None:
            if held_owner is not None:
                errors.append(
                    RowError(
                        roster.file,
                        row.sheet,
                        row.row,
                        "业主",
                        "",
                        f"the owner {held_owner.name} on record is missing; an "
                        "owner cannot be removed by import",
                    )
                )
        elif held_owner is None or not same_party(row.owner, held_owner):
            start = (
                on if held_owner is not None else (row.changed_on or row.delivered_on or effective)
            )
            if held_owner is not None:
                if held_owner.start_on and start < held_owner.start_on:
                    errors.append(
                        RowError(
                            roster.file,
                            row.sheet,
                            row.row,
                            "业主",
                            row.owner.name,
                            f"owner change dated {start}, before the current owner "
                            f"{held_owner.name} took over on {held_owner.start_on}; "
                            "give a 过户日期 or --as-of on or after it",
                        )
                    )
                end_occupancies.append((start, held_owner.occupancy_id))
            pid = party_for(row.owner, row, "业主")
            new_occupancies.append((uid, pid, "owner", start, None, owner_pays, source, stamp))
            report.owner_changes += 1
            changed = True
        else:
            if party_changes(row.owner, held_owner, row, "owner"):
                changed = True
            if held_owner.pays != owner_pays:
                end_occupancies.append((on, held_owner.occupancy_id))
                new_occupancies.append(
                    (uid, held_owner.party_id, "owner", on, None, owner_pays, source, stamp)
                )
                changed = True

        # the tenant (only when the file has tenant columns)
        if "tenant" in present:
            if row.tenant is None:
                if held_tenant is not None:
                    end_occupancies.append((row.changed_on or effective, held_tenant.occupancy_id))
                    report.tenant_changes += 1
                    changed = True
            elif held_tenant is None or not same_party(row.tenant, held_tenant):
                start = row.tenant_from or effective
                if held_tenant is not None:
                    end_occupancies.append((start, held_tenant.occupancy_id))
                pid = party_for(row.tenant, row, "租户")
                new_occupancies.append(
                    (uid, pid, "tenant", start, None, int(tenant_pays), source, stamp)
                )
                report.tenant_changes += 1
                changed = True
            else:
                if party_changes(row.tenant, held_tenant, row, "tenant"):
                    changed = True
                if held_tenant.pays != int(tenant_pays):
                    end_occupancies.append((on, held_tenant.occupancy_id))
                    new_occupancies.append(
                        (
                            uid,
                            held_tenant.party_id,
                            "tenant",
                            on,
                            None,
                            int(tenant_pays),
                            source,
                            stamp,
                        )
                    )
                    changed = True

        if changed:
            report.updated += 1
            report.changed_codes.append(row.code)
        else:
            report.unchanged += 1

    if errors:
        raise RowErrors(errors)

    in_file = {row.code for row in roster.rows}
    report.not_in_file = sum(1 for code in units if code not in in_file)
    if report.not_in_file:
        report.notices.append(
            f"{report.not_in_file} unit(s) on record are not in this file; they are kept as they are"
        )

    conn.executemany(
        "INSERT INTO unit (id, code, building, entrance, room, floor, kind, area_x100, "
        "area_basis, inner_area_x100, delivered_on, notes, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        new_units,
    )
    conn.executemany(
        "UPDATE unit SET building = ?, entrance = ?, room = ?, floor = ?, kind = ?, "
        "area_x100 = ?, area_basis = ?, inner_area_x100 = ?, delivered_on = ?, notes = ?, "
        "updated_at = ? WHERE id = ?",
        unit_updates,
    )
    conn.executemany(
        "INSERT INTO party (id, kind, name, phones, id_number, birthday, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        new_parties,
    )
    conn.executemany(
        "UPDATE party SET kind = ?, phones = ?, id_number = ?, birthday = ?, updated_at = ? "
        "WHERE id = ?",
        [
            (p.kind, p.phones, p.id_number, p.birthday, stamp, pid)
            for pid, (p, _row) in party_updates.items()
        ],
    )
    conn.executemany("UPDATE occupancy SET end_on = ? WHERE id = ?", end_occupancies)
    conn.executemany(
        "INSERT INTO occupancy (unit_id, party_id, role, start_on, end_on, pays, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        new_occupancies,
    )
    if progress is not None:
        progress(len(roster.rows), len(roster.rows))
    return report


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


_ROSTER_SQL = """
SELECT u.code, u.building, u.entrance, u.room, u.floor, u.kind, u.area_x100, u.area_basis,
       u.inner_area_x100, u.delivered_on, u.notes,
       coalesce(po.name, ''), coalesce(po.kind, ''), coalesce(po.phones, ''),
       coalesce(po.id_number, ''), po.birthday,
       coalesce(pt.name, ''), coalesce(pt.phones, ''),
       CASE WHEN t.pays = 1 THEN 'tenant' WHEN o.id IS NULL THEN 'developer' ELSE 'owner' END
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


def unit_detail(conn: sqlite3.Connection, code: str) -> UnitDetail:
    from propfee.errors import NotFound

    code = cells.unit_code(code)
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
    from propfee.export import write_table

    units = list_units(conn, building=building, kind=kind)
    write_table(
        path,
        EXPORT_HEADERS,
        export_rows(units, mask=mask),
        sheet="业主信息",
        text_columns=("房号", "楼栋", "单元", "房间", "楼层", "手机号", "身份证号", "租户电话"),
    )
    return len(units)


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
    """Read, validate and merge a roster file as one transaction (rolled back on any bad row,
    or at the end of a dry run)."""
    from propfee.db import transaction

    roster = read_roster(path, column_map=column_map, sheet=sheet, progress=progress)
    with transaction(conn, dry_run=dry_run):
        report = apply_roster(conn, roster, as_of=as_of, now=now)
    report.dry_run = dry_run
    if roster.skipped_footer:
        report.notices.append(f"{roster.skipped_footer} total/footnote row(s) skipped")
    return report
