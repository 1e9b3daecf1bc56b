"""Reading a roster file other systems export: which header names which field (and a
``--map`` file for unusual ones), the sheets and rows of a file, and each cell converted and
validated into a ``RosterRow``. No database: ``read_roster`` returns the rows, or hands them in
batches to a sink, or raises RowErrors listing every bad row.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import propfee.roster.feedraft as feedraft
import propfee.roster.others as others
import propfee.roster.sources as sources
from propfee.core.errors import FileFormatError, InvalidValue, RowError, RowErrors, grouped
from propfee.core.i18n import N_, _, ngettext, zh
from propfee.core.money import parse_area
from propfee.files import cells
from propfee.files.headers import (
    ColumnMap,
    HeaderMatch,
    alias_index,
    ambiguous_columns,
    find_header,
    load_column_map,
    norm_header,
)
from propfee.files.tabular import Sheet, lost_digits, read_sheets
from propfee.roster.units import KIND_ALIASES, KINDS, NEEDS_AREA, kind_label

Progress = Callable[[int, int], None]

# ---------------------------------------------------------------- vocabulary

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
        "停车场编号",
        "车库名",
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
    "entrance": ("单元", "单元号", "单元名称", "单元编号", "entrance", "stairwell"),
    "room": (
        "房间",
        "室号",
        "门牌号",
        "室",
        "房间编号",
        "车位编码",
        "车位号",
        "车位编号",
        "room",
        "room no",
        "room number",
    ),
    "floor": ("楼层", "所在楼层", "层", "层号", "房屋楼层", "floor", "storey"),
    "address": ("住址", "位置", "地址", "房屋地址", "房屋位置", "房产地址", "address"),
    "zone": ("分区", "片区", "zone"),
    "gender": ("性别", "gender", "sex"),
    "lift": ("是否有电梯", "有无电梯", "电梯", "lift", "elevator"),
    "contacts": ("其他联系人", "家庭成员", "other contacts", "contacts"),
    "owner_ref": ("业主编号", "业主id", "业主ID", "owner id", "owner ref"),
    "tenure": ("出租还是出售", "出租或出售", "租售", "租售类型", "销售类型", "tenure"),
    "start": ("开始时间", "起始时间", "start"),
    "end": ("结束时间", "到期时间", "截止时间", "end"),
    "plate": ("车牌号", "车牌号码", "车牌", "plate"),
    "moved_in": ("入住日期", "入住时间", "move-in date", "moved in"),
    "area": (
        "计费面积",
        "收费面积",
        "建筑面积",
        "产权面积",
        "面积",
        "房屋面积",
        "房子平方",
        "车位面积",
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
        "业主名",
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
        "物业开始时间",
        "费用开始时间",
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
    "payer": (
        "缴费方",
        "缴费人",
        "付款方",
        "付费方",
        "缴费主体",
        "费用承担方",
        "payer",
        "paying party",
    ),
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
    "code": N_("Unit code"),
    "building": N_("Building"),
    "entrance": N_("Entrance"),
    "room": N_("Room"),
    "floor": N_("Floor"),
    "area": N_("Gross area"),
    "area_basis": N_("Area basis"),
    "inner_area": N_("Inner area"),
    "kind": N_("Unit type"),
    "owner": N_("Owner"),
    "owner_kind": N_("Owner type"),
    "phone": N_("Mobile"),
    "id_number": N_("ID number"),
    "birthday": N_("Date of birth"),
    "delivered_on": N_("Delivery date"),
    "changed_on": N_("Transfer date"),
    "tenant": N_("Tenant"),
    "tenant_phone": N_("Tenant phone"),
    "tenant_id_number": N_("Tenant ID number"),
    "tenant_from": N_("Lease start"),
    "payer": N_("Paying party"),
    "notes": N_("Notes"),
    "vacant": N_("Occupancy"),
    "address": N_("Address"),
    "owner_ref": N_("Owner no."),
    "tenure": N_("Sold or rented"),
    "start": N_("Start"),
    "end": N_("End"),
    "plate": N_("Plate"),
    "moved_in": N_("Move-in date"),
    "zone": N_("Zone"),
    "gender": N_("Gender"),
    "lift": N_("Lift"),
    "contacts": N_("Other contacts"),
}
_ALIASES = alias_index(FIELDS)
_ROOMISH_CODE_HEADERS = {
    norm_header(h) for h in ("房号", "房间号", "户号", "房屋号", "房屋编号", "房间编码")
}
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


# ---------------------------------------------------------------- parsed rows


class PartyIn(NamedTuple):
    name: str
    kind: str
    phones: str  # "/"-joined, primary first; or the masked text as written
    id_number: str
    birthday: str | None
    phones_masked: bool
    id_masked: bool


class ContactIn(NamedTuple):
    """A family member or a further tenant at a unit: a contact, never a paying party."""

    name: str
    relation: str  # family / tenant / other
    phones: str  # "/"-joined; or the masked text as written
    id_number: str
    gender: str  # male / female / ""
    phones_masked: bool = False


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
    zone: str = ""  # 北二区 of 北二区30栋三单元1102
    contacts: tuple[ContactIn, ...] = ()  # family members and further tenants


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
    warnings: list[str] = field(default_factory=list)
    units_only: bool = False  # --units-only: no owner column is needed
    profiles: list[str] = field(default_factory=list)  # the source profiles recognised
    #: sheet -> rows read, columns used, columns left out, profile (for the migration report)
    facts: dict[str, tuple[int, list[str], list[str], str]] = field(default_factory=dict)
    #: fee settings sheets (HC 费用设置): sheet -> one dict per fee, for a draft fee list
    fee_settings: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def label(self, sheet: str, field_: str) -> str:
        """The column header (with its letter) a field came from, for messages."""
        return self.labels.get(sheet, {}).get(field_) or _(FIELD_LABELS.get(field_, field_))


# ---------------------------------------------------------------- the --map file


@functools.cache
def shipped_profiles() -> tuple[ColumnMap, ...]:
    """The source profiles shipped with propfee (HC, pigcms, …): each a --map file with a
    name and the headers that recognise its system's files."""
    return tuple(load_map(p) for p in sorted(sources.PROFILE_DIR.glob("*.toml")))


def load_map(path: Path | None) -> ColumnMap:
    """Read a roster's TOML map: ``[columns]`` header = field (or "ignore"), ``[kinds]``
    value = kind, optional ``sheet`` and ``header_row``."""
    return load_column_map(path, FIELDS, KINDS, sources.VALUE_TARGETS)


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
            raise FileFormatError(
                _("{file}: no sheet named {sheet} (sheets: {names})").format(
                    file=path.name, sheet=repr(sheet), names=names
                )
            )
        sheets = chosen
    else:
        notices = [
            _("hidden sheet {sheet} skipped (name it with --sheet to read it)").format(
                sheet=repr(s.name)
            )
            for s in sheets
            if s.hidden
        ]
        sheets = [s for s in sheets if not s.hidden] or sheets
    other = others.recognise(sheets)
    if other is not None:
        raise others.NotARoster(other)
    total = sum(s.nrows for s in sheets)
    reader = _RosterReader(path.name, column_map, total, progress, sink)
    reader.roster.notices.extend(notices)
    reader.roster.units_only = column_map.units_only
    owner_sheets = {one.name for one in sheets if reader.read_owners(one)}
    rest = [one for one in sheets if one.name not in owner_sheets]
    for one in rest:
        reader.read_sheet(one, required=sheet is not None or len(rest) == 1)
    reader.flush(final=True)
    if reader.errors:
        raise RowErrors(grouped(reader.errors))
    reader.summarise()
    if not reader.roster.sheets:
        names = ", ".join(s.name for s in sheets)
        raise FileFormatError(
            _(
                "{file}: no roster header found in {names}; expected a header row naming the "
                "unit (房号, or 楼号/单元/房间), 建筑面积 and 业主 within the first 30 rows "
                "(use --map to name unusual headers)"
            ).format(file=path.name, names=names)
        )
    reader.roster.codes = set(reader.seen)
    if not reader.roster.count:
        reader.roster.notices.append(_("no data rows below the header"))
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
        self.convert = _Converters(column_map)
        self.owners: dict[str, tuple[PartyIn, str, str]] = {}  # 业主编号 -> person, role, gender
        #: 业主编号 -> the family members and tenants listed under the owner's number
        self.members: dict[str, list[tuple[PartyIn, str, str]]] = {}
        #: family and tenant rows of a unit: the row, the person's role and gender
        self.extras: list[tuple[RosterRow, str, str]] = []
        self.hold = False  # keep every row to the end: later rows add people to earlier ones
        self.profile_values: dict[str, dict[str, str]] = {}
        self.profile_here = ""  # the profile the sheet being read was recognised as
        self.placeholders = 0
        self.missing_refs = 0
        self.contacts = 0
        self.at: tuple[str, int] | None = None  # the sheet and row being read
        self.address_floor = ""
        self.address_zone = ""
        self.joined_gender = ""  # the gender the owners sheet gives the room's person

    # -- one sheet

    @property
    def where(self) -> str:
        """The sheet and row being read, for a warning."""
        if self.at is None:
            return ""
        return _("sheet {sheet} row {row}").format(sheet=self.at[0], row=self.at[1])

    def read_owners(self, sheet: Sheet) -> bool:
        """A sheet of owners keyed by 业主编号 and naming no unit (HC's 业主信息): read for the
        rooms that name their owner by number. False when the sheet is not one."""
        rows = sheet.rows()
        head = list(itertools.islice(rows, 30))
        match = find_header(
            head,
            _ALIASES,
            self.map.columns,
            first_column=sheet.first_column,
            multi=_MULTI,
            is_identity=_is_owner_list,
        )
        if match is None:
            return False
        self._recognise(head, match)
        plan = _Plan(match)
        start = next(i for i, (n, _c) in enumerate(head) if n == match.row) + 1
        read = 0
        for number, row in itertools.chain(head[start:], rows):
            row.extend([""] * (plan.width - len(row)) + [""])
            ref = cells.number_text(row[plan.owner_ref]).strip()
            if not ref:
                continue
            read += 1
            errors: list[RowError] = []

            def bad(field_: str, value: object, message: str, number=number, errors=errors):
                errors.append(
                    RowError(
                        self.file,
                        sheet.name,
                        number,
                        plan.label(field_),
                        cells.text(value),
                        message,
                    )
                )

            self.at = (sheet.name, number)
            role = self._role(plan, row, bad)
            person = self._party(plan, row, "owner", bad, None)
            gender = self._gender(plan, row, bad)
            self.errors.extend(errors)
            if person is not None and not errors:
                self._owner_or_member(ref, person, role, gender)
        self.roster.notices.append(
            _("sheet {sheet}: {n} people read, joined to the rooms by 业主编号").format(
                sheet=repr(sheet.name), n=len(self.owners)
            )
        )
        used = [c.label for c in match.columns.values()]
        self.roster.facts[sheet.name] = (read, used, list(match.ignored), self.profile_here)
        self._tick(sheet.nrows)
        return True

    def _owner_or_member(self, ref: str, person: PartyIn, role: str, gender: str) -> None:
        """The first person under a 业主编号 who is no family member or tenant is its owner;
        family members and tenants listed under an owner's number are that unit's contacts
        (a tenant its tenant when it has none) — never its owner, never the payer."""
        held = self.owners.get(ref)
        if held is None:
            self.owners[ref] = (person, role, gender)
            return
        if held[1] in (sources.FAMILY, sources.TENANT) and role not in (
            sources.FAMILY,
            sources.TENANT,
        ):
            self.owners[ref] = (person, role, gender)
            person, role, gender = held
        self.members.setdefault(ref, []).append((person, role or sources.FAMILY, gender))

    def _recognise(self, head: list, match: HeaderMatch) -> None:
        """Say which system's file this is (by its profile's header signature) and read its
        codes by that system's tables; the --map file's own tables win."""
        texts = {
            norm_header(c) for n, row in head if n == match.row for c in row if isinstance(c, str)
        }
        self.profile_here = ""
        for profile in shipped_profiles():
            if not profile.signature or not {norm_header(h) for h in profile.signature} <= texts:
                continue
            self.profile_here = profile.name
            if profile.name not in self.roster.profiles:
                self.roster.profiles.append(profile.name)
                self.roster.notices.append(
                    _("recognised: {name} — {system}").format(
                        name=profile.name, system=profile.system
                    )
                )
                for field_, table in profile.values.items():
                    self.profile_values.setdefault(field_, {}).update(table)
                values = {
                    f: {**self.profile_values.get(f, {}), **self.map.values.get(f, {})}
                    for f in {*self.profile_values, *self.map.values}
                }
                self.convert = _Converters(dataclasses.replace(self.map, values=values))
            return

    def _names_roles(self, head: list, match: HeaderMatch, plan: _Plan) -> bool:
        """Whether the 业主类型 column holds roles (HC's 1001 业主本人 / 1002 家庭成员 / 1003
        租客) rather than 个人/企业: then a unit's family and tenants follow on rows of their
        own."""
        index = plan.owner_kind
        if index < 0:
            return False
        for n, row in head:
            if n <= match.row or index >= len(row) or cells.is_blank(row[index]):
                continue
            try:
                if self.convert.role(row[index]) in sources.ROLE_LABELS:
                    return True
            except InvalidValue:
                continue
        return False

    def summarise(self) -> None:
        """What the import did with what propfee has no place for, said in the summary."""
        notices = self.roster.notices
        if self.placeholders:
            notices.append(
                ngettext(
                    "{n} placeholder ID number (such as 111111111111111111) read as no ID",
                    "{n} placeholder ID numbers (such as 111111111111111111) read as no ID",
                    self.placeholders,
                ).format(n=self.placeholders)
            )
        if self.contacts:
            notices.append(
                _(
                    "{n} family members and further tenants are kept as their unit's contacts "
                    "(shown by propfee units show; a contact never pays and gets no bill)"
                ).format(n=self.contacts)
            )
        if self.missing_refs:
            notices.append(
                ngettext(
                    "{n} room names an owner number the owners sheet does not have (see the "
                    "warnings)",
                    "{n} rooms name an owner number the owners sheet does not have (see the "
                    "warnings)",
                    self.missing_refs,
                ).format(n=self.missing_refs)
            )

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
                    _(
                        "{file} [{sheet}]: no roster header found; expected a header row "
                        "naming the unit (房号, or 楼号/单元/房间), 建筑面积 and 业主 within the "
                        "first 30 rows (use --map to name unusual headers)"
                    ).format(file=self.file, sheet=sheet.name)
                )
            self.roster.notices.append(
                _("sheet {sheet} skipped: no roster header").format(sheet=repr(sheet.name))
            )
            fees = feedraft.read_sheet(sheet)
            if fees:
                self.roster.fee_settings[sheet.name] = fees
            if fees or _FEE_SHEET.search(sheet.name):
                self.roster.notices.append(
                    _(
                        "sheet {sheet} holds fee settings: enter them with propfee fees add and "
                        "publish them with propfee fees publish (--fees-draft FILE writes them "
                        "as fees add lines to review)"
                    ).format(sheet=repr(sheet.name))
                )
            self._tick(sheet.nrows)
            return
        self._recognise(head, match)
        errors = ambiguous_columns(match, self.file, sheet.name)
        if errors:
            self.errors.extend(errors)
            return
        self._resolve_code_column(match, head, sheet)
        moved_in = match.columns.get("moved_in")
        if moved_in is not None and "delivered_on" not in match.columns:
            self.errors.append(_ask_moved_in(self.file, sheet.name, match.row, moved_in))
            return
        missing = self._missing_required(match)
        if missing:
            self.errors.append(RowError(self.file, sheet.name, match.row, "", "", missing))
            return
        self._take_sheet(sheet.name, match)
        position = 0
        for position, (number, cells_) in enumerate(head):  # noqa: B007
            if number == match.row:
                break
        self._tick(position + 1)
        plan = _Plan(match)
        if plan.people or plan.has("owner_ref") or self._names_roles(head, match, plan):
            self.hold = True  # later rows may add people to a unit read earlier
        if "building" not in match.columns and "code" not in match.columns:
            named = _sheet_building(sheet.name)
            if named:  # a sheet called 1栋, 2号楼, A座: its building
                plan.sheet_building = named
                self.roster.notices.append(
                    _("sheet {sheet}: building {building} from its name").format(
                        sheet=repr(sheet.name), building=named
                    )
                )
        self._read_rows(sheet, plan, match, head[position + 1 :], rows)

    def _take_sheet(self, name: str, match: HeaderMatch) -> None:
        """Record a sheet's columns, with a note for each thing it lacks or does not use."""
        self.roster.sheets.append(name)
        joined = (
            {"owner", "phone", "id_number", "owner_kind"} if "owner_ref" in match.columns else set()
        )
        if "address" in match.columns:
            joined.add("zone")  # 北二区 of 北二区30栋三单元1102
        self.roster.presence[name] = frozenset(match.columns) | joined  # owners by 业主编号
        self.roster.labels[name] = {f: c.label for f, c in match.columns.items()}
        unkept = [match.columns[f].label for f in ("lift", "gender") if f in match.columns]
        used = [c.label for c in match.columns.values() if c.label not in unkept]
        self.roster.facts[name] = (0, used, list(match.ignored) + unkept, self.profile_here)
        if unkept:
            self.roster.notices.append(
                _(
                    "sheet {sheet}: {columns} checked against their codes; propfee keeps a "
                    "gender for contacts only, and has no place for an owner's gender or a lift"
                ).format(sheet=repr(name), columns=", ".join(unkept))
            )
        if "phone" not in match.columns and "owner_ref" not in match.columns:
            self.roster.notices.append(
                _(
                    "sheet {sheet} has no 手机号/联系电话 column: owners are read without phones"
                ).format(sheet=repr(name))
            )
        room = match.columns.get("room")
        if "kind" not in match.columns and not (room and "车位" in room.header):
            self.roster.notices.append(
                _(
                    "sheet {sheet} has no 房屋类型 column: its units are read as 住宅 (residential)"
                ).format(sheet=repr(name))
            )
        if match.ignored:
            shown = [h if len(h) <= 16 else h[:15] + "…" for h in match.ignored]
            self.roster.notices.append(
                _("sheet {sheet}: columns not used: {columns}").format(
                    sheet=repr(name), columns=", ".join(shown)
                )
            )
            self.roster.notices.extend(_where_it_goes(match.ignored))

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
        if "code" not in found and "room" not in found and "address" not in found:
            wanted.append(_("房号 (unit code) or 房间 (room)"))
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
            wanted.append(_("业主 (owner)"))
        if not wanted:
            return ""
        headers = ", ".join(c.header for c in match.columns.values())
        return _("missing required column {columns}; the header row has: {headers}").format(
            columns=_(" and ").join(wanted), headers=headers
        )

    def _tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    # -- the rows

    def _read_rows(
        self, sheet: Sheet, plan: _Plan, match: HeaderMatch, head_rest: list, rows
    ) -> None:
        identity = (
            match.columns.get("code") or match.columns.get("room") or match.columns["address"]
        )
        identity_index, identity_header = identity.index, norm_header(identity.header)
        mapped = plan.mapped
        need, pad = plan.width, plan.width * [""]
        skipped_blank = skipped_footer = ticks = read = 0
        plain = _PlainRows(self, plan, sheet.name) if plan.plain else None
        for number, row in itertools.chain(head_rest, rows):
            ticks += 1
            if ticks == 5000:
                if plain is not None:
                    plain.read()
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
            if plain is None:
                self._read_row(plan, sheet.name, number, row)
            else:
                plain.rows.append((number, row))
            read += 1
        if plain is not None:
            plain.read()
        self.roster.skipped_blank += skipped_blank
        self.roster.skipped_footer += skipped_footer
        self._tick(ticks)
        _read, used, left, profile = self.roster.facts[sheet.name]
        self.roster.facts[sheet.name] = (read, used, left, profile)

    def _read_row(self, plan: _Plan, sheet: str, number: int, row: list) -> None:
        """Convert and check one row: a RosterRow for the batch, or its errors."""
        errors: list[RowError] = []

        def bad(field_: str, value: object, message: str) -> None:
            errors.append(
                RowError(self.file, sheet, number, plan.label(field_), cells.text(value), message)
            )

        self.at = (sheet, number)  # ``where``, put into words only for a warning
        code, building, entrance, room = self._place(plan, row, bad)
        floor = self.convert.floor(row[plan.floor]) or self.address_floor
        zone = cells.text(row[plan.zone]) or self.address_zone
        repeat = plan.people and code in self.seen  # another person at a unit already read
        kind, area, basis, inner = self._what(plan, row, _unheeded if repeat else bad)
        dates = dict.fromkeys(_DATE_FIELDS)  # when
        for field_, index in plan.dates:
            raw = row[index]
            try:
                dates[field_] = self.convert.date(raw)
            except InvalidValue as exc:
                bad(field_, raw, str(exc))
        role = self._role(plan, row, bad)
        gender, contacts = self._people_cells(plan, row, bad) if plan.cells_of_people else ("", ())
        owner, tenant, tenant_pays = self._who(plan, row, bad, dates["birthday"])
        if plan.joins_owners:  # 业主编号 names the owner on the workbook's owners sheet
            owner, role, members = self._joined_owner(plan, row, owner, role)
        else:
            self.joined_gender, members = "", ()
        owner, tenant, tenant_pays = _by_role(owner, tenant, tenant_pays, role)
        if members:
            tenant, contacts = _with_members(tenant, contacts, members)
        owner, tenant, tenant_pays, tenure = self._tenure(
            plan, row, bad, (owner, tenant, tenant_pays)
        )
        if tenure == "sale" and not dates["delivered_on"]:
            dates["delivered_on"] = dates["start"]
        if tenant is not None and not dates["tenant_from"]:
            dates["tenant_from"] = dates["start"]
        notes = _notes(plan, row, dates, tenure)
        vacant = self._vacant(plan, row, bad)
        extra = role in (sources.FAMILY, sources.TENANT)
        if code and not extra:
            if plan.people and code in self.seen:
                extra, role = True, sources.FAMILY  # one row per person: another at the unit
            else:
                self._once(plan, sheet, number, code, bad)
        if errors:
            self.errors.extend(errors)
            return
        unit = RosterRow(
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
            zone,
            contacts,
        )
        if extra:
            self.extras.append((unit, role, gender or self.joined_gender))
            self.hold = True
            return
        self.roster.count += 1
        self.batch.append(unit)

    def _place(self, plan: _Plan, row: list, bad) -> tuple[str, str, str, str]:
        """Where the unit is: its code, building, entrance and room."""
        convert = self.convert
        building = convert.building(row[plan.building]) or plan.sheet_building
        entrance = convert.entrance(row[plan.entrance])
        room = convert.room(row[plan.room])
        code = cells.unit_code(row[plan.code])
        self.address_floor = self.address_zone = ""
        if not code and not room and plan.has("address"):
            building, entrance, room = self._address(plan, row, bad, (building, entrance))
        if code and plan.local_code and building:
            local = code  # 楼栋 1 | 房号 1-101: the code is local to its building
            code = f"{building}-{local}"
            _building, entrance, room = _split_code(code)
        if not code:
            if room:  # a zone read from an address leads the building in the code
                code = "-".join(p for p in (self.address_zone + building, entrance, room) if p)
            else:
                bad(plan.identity, "", _("no unit code or room number"))
        elif not building and not room:
            building, entrance, room = _split_code(code)
        return code, building, entrance, room

    def _address(self, plan: _Plan, row: list, bad, known: tuple[str, str]) -> tuple[str, str, str]:
        """Building, entrance and room from an address in one cell (2栋3楼5号, 北二区30栋三单元
        1102); the zone (北二区) is kept apart, and leads the building in the unit's code so
        two zones' 30栋 stay apart."""
        raw = row[plan.address]
        if cells.is_blank(raw):
            return known[0], known[1], ""
        parts = sources.split_address(raw)
        if parts is None:
            bad(
                "address",
                raw,
                _(
                    "cannot read the address as building, entrance, floor and room (such as "
                    "2栋3楼5号 or 北二区30栋三单元1102); name the columns in --map"
                ),
            )
            return known[0], known[1], ""
        zone, building, entrance, floor, room = parts
        self.address_floor = floor
        if known[0]:
            return known[0], known[1] or entrance, room
        self.address_zone = zone
        return building, known[1] or entrance, room

    def _vacant(self, plan: _Plan, row: list, bad) -> int | None:
        """空置: 1 vacant, 0 lived in, None not said."""
        raw = row[plan.vacant]
        try:
            return self.convert.vacant(raw)
        except InvalidValue as exc:
            bad("vacant", raw, str(exc))
            return None

    def _role(self, plan: _Plan, row: list, bad) -> str:
        """The row's person as HC's 业主类型 says: owner, family member or tenant ("" if not
        said, or when the column holds 个人/企业)."""
        raw = row[plan.owner_kind]
        try:
            role = self.convert.role(raw)
        except InvalidValue as exc:
            bad("owner_kind", raw, str(exc))
            return ""
        return role if role in sources.ROLE_LABELS else ""

    def _joined_owner(
        self, plan: _Plan, row: list, owner: PartyIn | None, role: str
    ) -> tuple[PartyIn | None, str, list]:
        """The owner a room names by 业主编号, from the workbook's owners sheet, and the
        family members and tenants listed under that number; a number that is not there is
        a warning (the unit is read without an owner), never silent."""
        self.joined_gender = ""
        if owner is not None or not plan.has("owner_ref"):
            return owner, role, []
        ref = cells.number_text(row[plan.owner_ref]).strip()
        if not ref:
            return owner, role, []
        found = self.owners.get(ref)
        if found is None:
            self.missing_refs += 1
            self.roster.warnings.append(
                _(
                    "{where}: 业主编号 {ref} is not in the owners sheet; the unit is read "
                    "without an owner (the developer pays): add the owner or correct the number"
                ).format(where=self.where, ref=ref)
            )
            return owner, role, []
        self.joined_gender = found[2]
        return found[0], role or found[1], self.members.get(ref, [])

    def _people_cells(self, plan: _Plan, row: list, bad) -> tuple[str, tuple[ContactIn, ...]]:
        """The row's person's gender and the unit's contacts cell; 是否有电梯 checked."""
        self._yes_no(plan, row, "lift", bad)
        return self._gender(plan, row, bad), self._contacts(plan, row, bad)

    def _gender(self, plan: _Plan, row: list, bad) -> str:
        """性别: "male", "female" or "" (not said), by the profile's or --map's table."""
        raw = row[plan.gender]
        try:
            found = self.convert.gender(raw)
        except InvalidValue as exc:
            bad("gender", raw, str(exc))
            return ""
        return found if found in sources.GENDER_LABELS else ""

    def _yes_no(self, plan: _Plan, row: list, field_: str, bad) -> str:
        """A yes/no column (是否有电梯): checked against its table; "yes", "no" or ""."""
        raw = row[getattr(plan, field_)]
        try:
            return self.convert.yes_no(raw)
        except InvalidValue as exc:
            bad(field_, raw, str(exc))
            return ""

    def _contacts(self, plan: _Plan, row: list, bad) -> tuple[ContactIn, ...]:
        """A 其他联系人 cell (as propfee's export writes it): ``家庭成员 李梅（女） 13900139000；
        租客 王五 13700137000``."""
        raw = row[plan.contacts]
        try:
            return self.convert.contacts(raw)
        except InvalidValue as exc:
            bad("contacts", raw, str(exc))
            return ()

    def _tenure(self, plan: _Plan, row: list, bad, people: tuple) -> tuple:
        """A parking space sold (S) or rented (H): a renter is the space's paying tenant."""
        owner, tenant, tenant_pays = people
        if not plan.has("tenure"):
            return owner, tenant, tenant_pays, ""
        raw = row[plan.tenure]
        try:
            tenure = self.convert.tenure(raw)
        except InvalidValue as exc:
            bad("tenure", raw, str(exc))
            return owner, tenant, tenant_pays, ""
        if tenure == "rent" and (owner or tenant):
            return None, tenant or owner, True, tenure
        return owner, tenant, tenant_pays, tenure

    def _what(self, plan: _Plan, row: list, bad) -> tuple[str, int | None, str, int | None]:
        """What the unit is: its kind, area, what the area is measured on, and inner area."""
        convert = self.convert
        raw = row[plan.kind]
        try:
            kind = convert.kind(raw) if not cells.is_blank(raw) else plan.default_kind
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
                    bad("area", raw, _("must be greater than zero"))
            elif area is None and kind in NEEDS_AREA and plan.has("area"):
                bad(
                    "area",
                    "",
                    _("area is required for a {kind} unit").format(kind=kind_label(kind)),
                )
        basis = cells.text(row[plan.area_basis]) or plan.basis
        raw = row[plan.inner_area]
        try:
            inner = convert.area(raw) or None
        except InvalidValue as exc:
            bad("inner_area", raw, str(exc))
            inner = None
        if area is not None and inner is not None and inner > area and basis == "建筑面积":
            bad("inner_area", raw, _("套内面积 is larger than 建筑面积"))
        return kind, area, basis, inner

    def _who(
        self, plan: _Plan, row: list, bad, birthday: str | None
    ) -> tuple[PartyIn | None, PartyIn | None, bool]:
        """Who: the owner, the tenant, and whether the tenant pays."""
        owner = self._party(plan, row, "owner", bad, birthday)
        tenant = self._party(plan, row, "tenant", bad, None) if plan.tenants else None
        tenant_pays = False
        raw = row[plan.payer]
        if raw != "" and raw is not None:
            payer = norm_header(cells.text(raw))
            if payer in _PAYER_TENANT or (tenant and payer == norm_header(tenant.name)):
                tenant_pays = True
            elif payer not in _PAYER_OWNER and not (owner and payer == norm_header(owner.name)):
                bad("payer", raw, _("payer must be 业主 (owner) or 租户 (tenant)"))
            if tenant_pays and tenant is None:
                bad("payer", raw, _("the tenant pays, but no tenant is named"))
        return owner, tenant, tenant_pays

    def _id_number(self, plan: _Plan, row: list, id_field: str, bad) -> str:
        """A checked ID number. HC's "no ID" placeholder (111111111111111111) is no ID; a
        wrong check digit or birth date is a warning and the number is not kept (refused with
        --strict): the unit still imports."""
        raw = row[getattr(plan, id_field)]
        if raw is None or raw == "":  # no ID: neither a placeholder nor a number to check
            return ""
        if sources.placeholder_id(raw):
            self.placeholders += 1
            return ""
        try:
            return cells.id_number(raw)
        except InvalidValue as exc:
            if self.map.strict or isinstance(raw, float) or lost_digits(raw):
                bad(id_field, raw, str(exc))
            else:
                self.roster.warnings.append(
                    _("{where}, {column}: {message}; the ID number is not kept").format(
                        where=self.where, column=plan.label(id_field), message=exc
                    )
                )
            return ""

    def _once(self, plan: _Plan, sheet: str, number: int, code: str, bad) -> None:
        """One row per unit: a code seen before is a duplicate."""
        first = self.seen.get(code)
        if first is None:
            self.seen[code] = (sheet, number)
        else:
            where = (
                _("row {row}").format(row=first[1])
                if first[0] == sheet
                else _("sheet {sheet} row {row}").format(sheet=first[0], row=first[1])
            )
            bad(
                plan.identity, code, _("duplicate unit code (first on {where})").format(where=where)
            )

    def flush(self, *, final: bool = False) -> None:
        """Hand the rows read so far to the sink (or keep them). While later rows may add
        people to a unit read earlier (HC's family and tenant rows), rows wait for the end."""
        if self.hold and not final:
            return
        if final:
            self._attach_extras()
        if self.sink is None:
            self.roster.rows.extend(self.batch)
        elif self.batch and not self.errors:
            self.sink(self.roster, self.batch)
        self.batch = []

    def _attach_extras(self) -> None:
        """Family and tenant rows join their unit: the first tenant becomes its tenant, the
        others are named in its notes; a unit with no owner row is read from them."""
        mains = {r.code: i for i, r in enumerate(self.batch)}
        for unit, role, gender in self.extras:
            person = unit.owner or unit.tenant
            i = mains.get(unit.code)
            if i is None:  # no owner row: the unit is read from this one, with no owner
                keep = unit._replace(owner=None) if role == sources.FAMILY else unit
                if role == sources.FAMILY and person is not None:
                    keep = _with_contact(keep, role, person, gender)
                    self.contacts += 1
                mains[unit.code] = len(self.batch)
                self.seen.setdefault(unit.code, (unit.sheet, unit.row))
                self.batch.append(keep)
                self.roster.count += 1
                continue
            main = self.batch[i]
            if role == sources.TENANT and main.tenant is None and unit.tenant is not None:
                self.batch[i] = main._replace(
                    tenant=unit.tenant, tenant_pays=unit.tenant_pays, tenant_from=unit.tenant_from
                )
            elif person is not None and person.name not in {c.name for c in main.contacts}:
                self.batch[i] = _with_contact(main, role, person, gender)
                self.contacts += 1
        self.extras = []

    def _party(
        self, plan: _Plan, row: list, role: str, bad, birthday: str | None
    ) -> PartyIn | None:
        phone_field = "phone" if role == "owner" else "tenant_phone"
        name = cells.text(row[getattr(plan, role)])
        phone_cells = [c for i in plan.phone_columns(role) if (c := row[i]) != "" and c is not None]
        if not name or name in _NO_OWNER:
            if phone_cells:
                bad(
                    phone_field,
                    phone_cells[0],
                    _("a phone number but no {role} name").format(role=_(FIELD_LABELS[role])),
                )
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
                        _(
                            "the number was saved in scientific notation and its "
                            "digits are lost; format the column as text and export again"
                        ),
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
        id_number = self._id_number(plan, row, id_field, bad)
        id_masked = cells.is_masked(id_number)
        kind = ""
        if role == "owner":
            raw = row[plan.owner_kind]
            try:
                kind = self.convert.role(raw)
            except InvalidValue:
                kind = ""  # reported by _role
            kind = kind if kind in ("person", "company") else ""
        return PartyIn(
            name,
            kind or party_kind(name, id_number),
            "/".join(phones),
            id_number,
            birthday,
            masked,
            id_masked,
        )


_DATE_FIELDS = ("delivered_on", "changed_on", "tenant_from", "birthday", "start", "end")


#: the fields a plain sheet may have (``_Plan.plain``)
_PLAIN_FIELDS = frozenset(
    (
        "code",
        "building",
        "entrance",
        "room",
        "floor",
        "zone",
        "kind",
        "area",
        "area_basis",
        "inner_area",
        "owner",
        "phone",
        "id_number",
        "notes",
        "vacant",
        "moved_in",
        *_DATE_FIELDS[:-2],
    )
)


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
        self.cells_of_people = any(f in match.columns for f in ("gender", "lift", "contacts"))
        room = match.columns.get("room")
        self.default_kind = (
            "parking" if room is not None and "车位" in norm_header(room.header) else "residential"
        )
        #: one row per person (a unit found by an address cell): a unit's later rows are its
        #: other people, not duplicates
        self.people = "address" in match.columns and "code" not in match.columns
        self.joins_owners = "owner_ref" in match.columns
        self._phones: dict[str, list[int]] = {}  # role -> its phone columns
        #: every field a cell of its own that the row alone decides (no address, people,
        #: roles, tenures, payers or plates; one phone column): read by ``_PlainRows``
        self.plain = (
            set(match.columns) <= _PLAIN_FIELDS
            and not self.extra["phone"]
            and not self.local_code
            and not self.people
        )

    def has(self, field_: str) -> bool:
        return field_ in self.columns

    def label(self, field_: str) -> str:
        column = self.columns.get(field_)
        return column.label if column else _(FIELD_LABELS.get(field_, field_))

    def phone_columns(self, role: str) -> list[int]:
        found = self._phones.get(role)
        if found is None:  # the same for every row of the sheet: made once
            field_ = "phone" if role == "owner" else "tenant_phone"
            found = self._phones[role] = [getattr(self, field_), *self.extra[field_]]
        return found


class _PlainRows:
    """The rows of a plain sheet (``_Plan.plain``: each field a cell of its own; no address,
    people, roles, tenures or payers), read a column at a time: each distinct building,
    kind, area, date or state converted once, the other cells in one pass per column, and a
    row built only at the end. A row with anything not plainly right (a bad or unusual cell,
    a placeholder ID, a duplicate code) is left to ``_read_row``, which names what is wrong:
    the rows and errors come out as ``_read_row`` alone makes them, in the file's order."""

    def __init__(self, reader: _RosterReader, plan: _Plan, sheet: str):
        self.reader, self.plan, self.sheet = reader, plan, sheet
        self.rows: list[tuple[int, list]] = []  # (number, padded cells) waiting to be read
        convert = reader.convert
        default = plan.default_kind
        self.kind = _Tried(lambda value: default if cells.is_blank(value) else convert.kind(value))
        self.area = _Tried(convert.area)
        self.date = _Tried(convert.date)
        self.vacant = _Tried(convert.vacant)
        self.basis = plan.basis
        self.needs_area = plan.has("area")

    def read(self) -> None:
        """Read the rows waiting, into the reader's batch (or its errors)."""
        chunk, self.rows = self.rows, []
        if not chunk:
            return
        rows = [row for _number, row in chunk]
        plan, convert = self.plan, self.reader.convert
        cut, each = _column(rows), _converted(rows)
        buildings = each(convert.building, plan.building)
        if plan.sheet_building:
            buildings = (b or plan.sheet_building for b in buildings)
        codes = map(cells.unit_code, cut(plan.code)) if plan.code >= 0 else itertools.repeat("")
        places = map(
            _plain_place,
            codes,
            buildings,
            each(convert.entrance, plan.entrance),
            each(convert.room, plan.room),
        )
        whats = map(
            self._what,
            each(self.kind.__getitem__, plan.kind),
            each(self.area.__getitem__, plan.area),
            each(self.area.__getitem__, plan.inner_area),
            each(cells.text, plan.area_basis),
        )
        dates = {f: list(map(self.date.__getitem__, cut(i))) for f, i in plan.dates}
        owners = map(
            _plain_owner,
            cut(plan.owner),
            cut(plan.phone),
            cut(plan.id_number),
            dates.get("birthday") or itertools.repeat(None),
        )
        none = itertools.repeat(None)
        self._build(
            chunk,
            zip(
                places,
                each(convert.floor, plan.floor),
                whats,
                dates.get("delivered_on") or none,
                each(cells.text, plan.notes),
                owners,
                dates.get("tenant_from") or none,
                dates.get("changed_on") or none,
                each(self.vacant.__getitem__, plan.vacant),
                each(cells.text, plan.zone),
                strict=False,  # the columns a sheet does not have repeat
            ),
            _failed_dates(dates),
        )

    def _build(self, chunk: list, columns, failed: set[int]) -> None:
        """The RosterRows of the rows read whole; the others read by ``_read_row``."""
        reader, sheet, plan = self.reader, self.sheet, self.plan
        seen, batch = reader.seen, reader.batch
        count = 0
        for i, ((number, row), one) in enumerate(zip(chunk, columns, strict=True)):
            place, floor, what, delivered, notes, owner, tenant_from, changed, vacant, zone = one
            if (
                place is None
                or what is None
                or owner is False
                or vacant is _FAIL
                or i in failed
                or place[0] in seen
            ):
                reader._read_row(plan, sheet, number, row)
                continue
            seen[place[0]] = (sheet, number)
            batch.append(
                _whole(
                    RosterRow,
                    (
                        sheet,
                        number,
                        *place,
                        floor,
                        *what,
                        delivered,
                        notes,
                        owner,
                        None,
                        False,
                        tenant_from,
                        changed,
                        vacant,
                        zone,
                        (),
                    ),
                )
            )
            count += 1
        reader.roster.count += count

    def _what(self, kind, area, inner, basis: str) -> tuple | None:
        """``_what`` of a row: kind, area, basis, inner area; None where it would refuse."""
        if kind is _FAIL or area is _FAIL or inner is _FAIL:
            return None
        inner = inner or None
        if area == 0:  # 0 means "no area" for a parking space, and is wrong for a home
            if kind in NEEDS_AREA:
                return None
            area = None
        elif area is None and kind in NEEDS_AREA and self.needs_area:
            return None
        basis = basis or self.basis
        if area is not None and inner is not None and inner > area and basis == "建筑面积":
            return None
        return kind, area, basis, inner


def _column(rows: list[list]) -> Callable[[int], list]:
    """One column of the rows, by index."""
    return lambda index: list(map(operator.itemgetter(index), rows))


def _converted(rows: list[list]) -> Callable[[Callable, int], Iterator]:
    """A column of the rows converted, by index. A field the sheet does not have (-1: the
    blank cell at the end of every row) is the blank cell converted once, repeated."""

    def each(convert: Callable, index: int) -> Iterator:
        if index < 0:
            return itertools.repeat(convert(""))
        return map(convert, map(operator.itemgetter(index), rows))

    return each


def _failed_dates(dates: dict[str, list]) -> set[int]:
    """The rows with a date that does not convert."""
    return {
        i for found in dates.values() if _FAIL in found for i, v in enumerate(found) if v is _FAIL
    }


def _plain_place(code: str, building: str, entrance: str, room: str) -> tuple | None:
    """``_place`` of a plain row: code, building, entrance, room; None with neither a code
    nor a room."""
    if not code:
        if not room:
            return None
        return "-".join(filter(None, (building, entrance, room))), building, entrance, room
    if not building and not room:
        return (code, *_split_code(code))
    return code, building, entrance, room


def _plain_owner(name: object, phone: object, id_number: object, birthday: str | None):
    """``_party`` of a plain row's owner (one phone column, no 业主类型): the PartyIn, None
    for no owner, or False where ``_party`` would refuse, warn or count a cell (a masked
    phone, a placeholder ID …)."""
    name = cells.text(name)
    if phone == "" or phone is None:
        phone = None
    if not name or name in _NO_OWNER:
        return False if phone is not None else None
    phones = ""
    if type(phone) is float and 1.3e10 <= phone < 2e10 and phone.is_integer():
        phones = str(int(phone))  # a mobile number stored as a number: as cells.phones says
    elif phone is not None:
        if type(phone) is str and ("*" in phone or "＊" in phone or lost_digits(phone)):
            return False
        try:
            phones = "/".join(cells.phones(phone))
        except InvalidValue:
            return False
    if id_number is None or id_number == "":
        id_number = ""
    elif cells.usual_resident_id(id_number):
        # The usual cell, checked as id_number checks it. Never a placeholder (one digit 18
        # times has no valid check digit and birth date) nor masked; its 17 digits make it
        # a person's ID, so the name alone tells a company (as party_kind tells it).
        try:
            cells.resident_id(id_number)
        except InvalidValue:
            return False
        kind = "company" if _company_name(name) else "person"
        return _whole(PartyIn, (name, kind, phones, id_number, birthday, False, False))
    elif sources.placeholder_id(id_number):
        return False
    else:
        try:
            id_number = cells.id_number(id_number)
        except InvalidValue:
            return False
    masked = cells.is_masked(id_number)
    kind = party_kind(name, id_number)
    return _whole(PartyIn, (name, kind, phones, id_number, birthday, False, masked))


_FAIL = object()  # a cell that does not convert: its row is read by _read_row
#: a NamedTuple from a tuple of every one of its fields, in order: ``_whole(PartyIn, (…))``
#: is ``PartyIn(…)`` without the Python call a NamedTuple's own constructor makes (a plain
#: sheet makes two a row)
_whole = tuple.__new__


class _Tried(dict):
    """A conversion memoised, a value that fails kept as ``_FAIL`` (its row is read the
    slow way, which says what is wrong)."""

    __slots__ = ("convert",)

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, value):
        try:
            hit = self.convert(value)
        except InvalidValue:
            hit = _FAIL
        self[value] = hit
        return hit


class _Memo(dict):
    """Cell values converted so far: a value seen before is a plain dict lookup (buildings,
    kinds, areas and dates repeat thousands of times). A value that fails is not kept: it
    fails again, with the same message, wherever it is met."""

    __slots__ = ("convert",)

    def __init__(self, convert):
        super().__init__()
        self.convert = convert

    def __missing__(self, value):
        hit = self[value] = self.convert(value)
        return hit


def _memo(convert):
    """Convert each distinct cell value once (cells are str, numbers, dates: hashable)."""
    return _Memo(convert).__getitem__


class _Converters:
    """The cell conversions of one import, memoised."""

    def __init__(self, column_map: ColumnMap):
        kinds = {**column_map.kinds, **column_map.values.get("kind", {})}
        states = column_map.values.get("vacant", {})
        roles = column_map.values.get("owner_kind", {})
        tenures = column_map.values.get("tenure", {})
        genders = column_map.values.get("gender", {})
        answers = column_map.values.get("lift", {})
        self.building = _memo(cells.building_part)
        self.entrance = _memo(cells.entrance_part)
        self.room = _memo(cells.room_part)
        self.floor = _memo(cells.number_text)
        self.kind = _memo(lambda value: _kind_of(value, kinds))
        self.area = _memo(_area_of)
        self.date = _memo(_date_of)
        self.vacant = _memo(lambda value: _vacant_of(value, states))
        self.role = _memo(lambda value: _role_of(value, roles))
        self.tenure = _memo(lambda value: _tenure_of(value, tenures))
        self.gender = _memo(lambda value: _gender_of(value, genders))
        self.yes_no = _memo(lambda value: _yes_no_of(value, answers))
        self.contacts = _memo(_contacts_of)


def _kind_of(value: object, kinds: dict[str, str]) -> str:
    if value == "" or value is None:
        return "residential"
    normal = norm_header(cells.text(value))
    code = sources.code_key(value)
    kind = kinds.get(normal) or kinds.get(code) or KIND_ALIASES.get(normal)
    if kind is None:
        raise InvalidValue(
            _(
                "unknown kind {value} (use one of {kinds}, or add to the --map file: "
                '[values.kind] "{value}" = "residential")'
            ).format(value=cells.text(value), kinds=", ".join(kind_label(k) for k in KINDS))
        )
    return kind


def _coded(value: object, table: dict[str, str], own: dict[str, str]) -> str | None:
    """A coded cell's meaning: the --map table first, then propfee's own."""
    normal, code = norm_header(cells.text(value)), sources.code_key(value)
    return own.get(normal) or own.get(code) or table.get(normal) or table.get(code)


def _role_of(value: object, roles: dict[str, str]) -> str:
    """业主类型: owner / family / tenant (HC 1001/1002/1003), or person / company."""
    if value == "" or value is None:
        return ""
    found = _coded(value, {**_OWNER_KIND, **sources.ROLES}, roles)
    if found is None:
        raise InvalidValue(
            _(
                "unknown owner type {value} (use 个人, 企业, 业主本人, 家庭成员, 租客, or add to "
                'the --map file: [values.owner_kind] "{value}" = "owner", "family", "tenant", '
                '"person" or "company")'
            ).format(value=cells.text(value))
        )
    return found


def _tenure_of(value: object, tenures: dict[str, str]) -> str:
    """出租还是出售（H出租S出售）: "rent" or "sale"."""
    if value == "" or value is None:
        return ""
    found = _coded(value, sources.TENURES, tenures)
    if found is None:
        raise InvalidValue(
            _(
                "{value} is neither sold nor rented (use H/出租 or S/出售, or add to the --map "
                'file: [values.tenure] "{value}" = "rent" or "sale")'
            ).format(value=cells.text(value))
        )
    return found


#: what an unknown gender or yes/no code is told (the value, and the --map line that takes it)
_UNKNOWN_GENDER = N_(
    "unknown gender {value} (use 男 or 女, or add to the --map file: "
    '[values.gender] "{value}" = "male", "female" or "unknown")'
)
_UNKNOWN_YES_NO = N_(
    "{value} is neither yes nor no (use 是/有 or 否/无, or add to the --map file: "
    '[values.lift] "{value}" = "yes" or "no")'
)


def _decoded(
    value: object, shipped: dict[str, str], overrides: dict[str, str], unknown: str
) -> str:
    """A coded cell read through its value table: "" when blank, else refused with
    ``unknown`` (a catalogue message naming the value) when no table knows it."""
    if cells.is_blank(value):
        return ""
    found = _coded(value, shipped, overrides)
    if found is None:
        raise InvalidValue(_(unknown).format(value=cells.text(value)))
    return found


def _gender_of(value: object, genders: dict[str, str]) -> str:
    """性别: "male", "female", "unknown" (未知, 保密) or "" (blank)."""
    return _decoded(value, sources.GENDERS, genders, _UNKNOWN_GENDER)


def _yes_no_of(value: object, answers: dict[str, str]) -> str:
    """是否有电梯 and the like: "yes", "no" or "" (blank)."""
    return _decoded(value, sources.YES_NO, answers, _UNKNOWN_YES_NO)


_RELATIONS = {
    **{w: sources.FAMILY for w in ("家庭成员", "家属", "成员", "family")},
    **{w: sources.TENANT for w in ("租客", "租户", "tenant")},
    **{w: "other" for w in ("其他", "联系人", "other")},
}
_CONTACT = re.compile(
    r"^(?:(?P<relation>家庭成员|家属|成员|租客|租户|其他|联系人|family|tenant|other)\s*[：:]?\s*)?"
    r"(?P<name>[^\s\d（(：:*/]+?)\s*(?:[（(](?P<gender>[^）)]*)[）)])?\s*"
    r"(?P<phones>[\d*＊/\s\-]*)$"
)


def _contacts_of(value: object) -> tuple[ContactIn, ...]:
    """The people of a 其他联系人 cell, separated by ；: relation, name, （gender）, phones."""
    text = cells.text(value)
    if not text:
        return ()
    found = []
    for part in re.split(r"[；;\n]+", text):
        part = part.strip()
        if not part:
            continue
        match = _CONTACT.match(part)
        if match is None:
            raise InvalidValue(
                _(
                    "cannot read {value} as a contact: write 家庭成员 李梅（女） 13900139000, one "
                    "person between each ；"
                ).format(value=part)
            )
        phones = re.sub(r"[\s\-]", "", match["phones"] or "")
        masked = "*" in phones or "＊" in phones
        if phones and not masked:
            phones = "/".join(cells.phones(phones))
        gender = _gender_of(match["gender"] or "", {})
        found.append(
            ContactIn(
                match["name"],
                _RELATIONS.get(match["relation"] or "", sources.FAMILY),
                phones,
                "",
                gender if gender in sources.GENDER_LABELS else "",
                masked,
            )
        )
    return tuple(found)


def _unheeded(field_: str, value: object, message: str) -> None:
    """The unit's own cells on a later person's row: the unit was read from its first row."""


def _by_role(
    owner: PartyIn | None, tenant: PartyIn | None, tenant_pays: bool, role: str
) -> tuple[PartyIn | None, PartyIn | None, bool]:
    """A row whose person is a tenant (HC 业主类型 1003) names the unit's tenant."""
    if role == sources.TENANT and owner is not None and tenant is None:
        return None, owner, tenant_pays
    return owner, tenant, tenant_pays


def _with_contact(unit: RosterRow, role: str, person: PartyIn, gender: str) -> RosterRow:
    """The unit with one more contact: a family member or a further tenant."""
    contact = ContactIn(
        person.name, role, person.phones, person.id_number, gender, person.phones_masked
    )
    return unit._replace(contacts=(*unit.contacts, contact))


def _with_members(
    tenant: PartyIn | None, contacts: tuple[ContactIn, ...], members: list
) -> tuple[PartyIn | None, tuple[ContactIn, ...]]:
    """The people an owners sheet lists under the room's owner number: the first tenant is
    the unit's tenant when it has none, the others its contacts."""
    for person, role, gender in members:
        if role == sources.TENANT and tenant is None:
            tenant = person
            continue
        contact = ContactIn(person.name, role, person.phones, person.id_number, gender)
        if contact.name not in {c.name for c in contacts}:
            contacts = (*contacts, contact)
    return tenant, contacts


def _notes(plan: _Plan, row: list, dates: dict, tenure: str) -> str:
    """The notes cell, with what a parking row says that has no column of its own: the
    plate, and when a rental or sale ends."""
    notes = cells.text(row[plan.notes])
    plate = cells.text(row[plan.plate])
    if not plate and not dates.get("end"):  # the usual row: the notes cell alone
        return notes
    parts = [notes]
    if plate:
        parts.append(zh("plate {plate}").format(plate=plate))
    if dates.get("end"):
        label = zh("rented until {day}") if tenure == "rent" else zh("until {day}")
        parts.append(label.format(day=dates["end"]))
    return "；".join(p for p in parts if p)


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
        "lived in",
        "使用中",
    )
}


_STATE_VALUE = {sources.VACANT: 1, sources.LIVED_IN: 0, sources.UNKNOWN: None}


def _vacant_of(value: object, states: dict[str, str]) -> int | None:
    if value == "" or value is None:
        return None
    key = norm_header(cells.text(value))
    if key in _VACANT or key in _LIVED_IN:
        return _VACANT.get(key, _LIVED_IN.get(key))
    state = _coded(value, sources.STATES, states)
    if state is None:
        raise InvalidValue(
            _(
                "unknown state {value} (use 空置 or 已入住, or add to the --map file: "
                '[values.vacant] "{value}" = "vacant", "lived-in" or "unknown")'
            ).format(value=cells.text(value))
        )
    return _STATE_VALUE[state]


def _date_of(value: object) -> str | None:
    parsed = cells.parse_date(value)
    if parsed is None:
        return None
    if not 1900 <= parsed.year <= 2100:
        raise InvalidValue(_("date out of range"))
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


_FEE_SHEET = re.compile(r"费用|收费|费项")
_ARREARS = re.compile(r"欠费|欠缴|应收|未缴|arrears")
_METERS = re.compile(r"用水|用电|燃气|读数|表底|立方米|千瓦时")


def _where_it_goes(ignored: list[str]) -> list[str]:
    """For columns left out that propfee keeps elsewhere, the command that takes them."""
    notes = []
    arrears = [h for h in ignored if _ARREARS.search(h)]
    if arrears:
        notes.append(
            _(
                "{columns}: opening arrears go in with propfee import-history (the previous "
                "system's bills and what was paid on them)"
            ).format(columns=", ".join(arrears))
        )
    meters = [h for h in ignored if _METERS.search(h)]
    if meters:
        notes.append(
            _("{columns}: meter readings go in with propfee readings import").format(
                columns=", ".join(meters)
            )
        )
    return notes


def _ask_moved_in(file: str, sheet: str, row: int, column) -> RowError:
    """入住日期 is the delivery (交付/收房) date in most offices and the day people moved in at
    others; who pays follows the first, so propfee asks rather than guess or drop it."""
    return RowError(
        file,
        sheet,
        row,
        column.label,
        column.header,
        _(
            "is this the delivery date (交付/收房: the owner pays from it) or the day people "
            'moved in? Say which in a --map file: [columns] "{header}" = "delivered_on", or '
            '"{header}" = "ignore"'
        ).format(header=column.header),
    )


def _is_owner_list(fields: set[str]) -> bool:
    return "owner_ref" in fields and "owner" in fields and not _has_identity(fields)


def _has_identity(fields: set[str]) -> bool:
    return "code" in fields or "room" in fields or "address" in fields


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
    return "company" if _company_name(name) else "person"


@functools.lru_cache(maxsize=1 << 17)
def _company_name(name: str) -> bool:
    """Whether a name reads like a company's (names repeat across a roster: each read once)."""
    return _COMPANY_WORDS.search(name) is not None
