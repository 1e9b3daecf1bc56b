"""What other property systems write in their rosters: the codes they store for a unit's type,
its state and a person's role, addresses kept in one cell, and people on repeated rows.

HC小区管理系统 (java110/MicroCommunity) stores codes from its own dictionaries; the tables below
are taken from its source (github.com/java110/MicroCommunity):

- 房屋类型 (room sub type) and room type: ``java110-bean/src/main/java/com/java110/dto/RoomDto.java``
  at commit c518d447ae377f9e41b76a613ae0237b014edf6d — ``ROOM_SUB_TYPE_PERSON = "110"``,
  ``ROOM_SUB_TYPE_WORK = "119"``, ``ROOM_SUB_TYPE_HOUSE = "120"``, ``ROOM_TYPE_ROOM =
  "1010301"`` (普通房屋), ``ROOM_TYPE_SHOPS = "2020602"`` (商铺).
- 房屋状态 (room state): the same file — 2001 已入住, 2002 未销售, 2003 已交房, 2004 未入住,
  2005 已装修, 2006 已出租, 2007 已售, 2008 空闲, 2009 装修中.
- 业主类型 (owner type): ``java110-bean/src/main/java/com/java110/dto/owner/OwnerDto.java`` —
  1001 业主, 1002 家庭成员, 1003 租客, 1004 临时人员, 1005 其他.
"""

from __future__ import annotations

import re

from propfee.core.i18n import N_
from propfee.files import cells
from propfee.files.headers import norm_header

#: 房屋类型 codes -> kind (HC RoomDto; 110 住宅, 119 办公, 120 住房)
CODE_KINDS = {
    "110": "residential",
    "119": "office",
    "120": "residential",
    "1010301": "residential",
    "2020602": "commercial",
}

VACANT, LIVED_IN, UNKNOWN = "vacant", "lived-in", "unknown"
#: 房屋状态 codes and words -> vacant / lived in / not said (HC RoomDto states)
STATES = {
    "2001": LIVED_IN,  # 已入住
    "2002": VACANT,  # 未销售: unsold, the developer pays
    "2003": VACANT,  # 已交房: keys handed over, nobody living there yet
    "2004": VACANT,  # 未入住
    "2005": VACANT,  # 已装修
    "2006": LIVED_IN,  # 已出租
    "2007": UNKNOWN,  # 已售: sold says nothing of who lives there
    "2008": VACANT,  # 空闲
    "2009": VACANT,  # 装修中
    **{norm_header(w): VACANT for w in ("未销售", "已交房", "已装修", "空闲", "装修中", "未售")},
    **{norm_header(w): LIVED_IN for w in ("已出租", "已租")},
    **{norm_header(w): UNKNOWN for w in ("已售", "已出售", "已销售")},
}

OWNER, FAMILY, TENANT = "owner", "family", "tenant"
#: 业主类型 codes and words -> the person's role on the unit (HC OwnerDto)
ROLES = {
    "1001": OWNER,
    "1002": FAMILY,
    "1003": TENANT,
    "1004": FAMILY,  # 临时人员: kept as a contact
    "1005": FAMILY,  # 其他
    **{norm_header(w): OWNER for w in ("业主本人", "本人", "业主", "产权人", "owner")},
    **{
        norm_header(w): FAMILY
        for w in ("家庭成员", "家属", "成员", "临时人员", "其他", "family", "member")
    },
    **{norm_header(w): TENANT for w in ("租客", "租户", "承租人", "tenant")},
}

#: what a ``[values.FIELD]`` table of a --map file may map a value to
VALUE_TARGETS: dict[str, tuple[str, ...]] = {
    "vacant": (VACANT, LIVED_IN, UNKNOWN),
    "owner_kind": (OWNER, FAMILY, TENANT, "person", "company"),
    "tenure": ("sale", "rent"),
}
ROLE_LABELS = {OWNER: N_("owner"), FAMILY: N_("family member"), TENANT: N_("tenant")}

#: 出租还是出售（H出租S出售）and similar: a parking space sold or rented
TENURES = {
    **{norm_header(w): "rent" for w in ("h", "出租", "租", "租用", "rent", "rented")},
    **{norm_header(w): "sale" for w in ("s", "出售", "售", "已售", "产权", "sale", "sold")},
}


def code_key(value: object) -> str:
    """A coded cell as a lookup key: 110, 110.0 and "110" are one code."""
    return norm_header(cells.number_text(value))


def placeholder_id(value: object) -> bool:
    """HC's documented "no ID" (111111111111111111) and the like: one digit repeated."""
    raw = cells.number_text(value).strip().upper()
    return len(raw) >= 15 and len(set(raw)) == 1


# ---------------------------------------------------------------- addresses in one cell

_CN = "0-9A-Za-z一二三四五六七八九十百零〇两"
_ADDRESS = re.compile(
    rf"^(?P<zone>.*?[区期苑园])?\s*"
    rf"(?P<b>[{_CN}]+)\s*(?:号楼|#楼|栋|幢|座|号院|#)\s*"
    rf"(?:(?P<e>[{_CN}]+)\s*单元)?\s*"
    rf"(?:(?P<f>[{_CN}]+)\s*(?:楼|层|F|f)(?![{_CN}]*单元))?\s*"
    rf"(?P<r>[0-9A-Za-z]+)\s*(?:室|号|房)?$"
)


def split_address(value: object) -> tuple[str, str, str, str, str] | None:
    """Zone, building, entrance, floor and room of an address in one cell: ``2栋3楼5号`` ->
    ("", "2", "", "3", "5"); ``北二区30栋三单元1102`` -> ("北二区", "30", "3", "", "1102");
    ``5号楼一单元1102`` -> ("", "5", "1", "", "1102"). None when it does not read as one."""
    text = cells.text(value).replace(" ", "")
    match = _ADDRESS.match(text)
    if not match:
        return None
    zone = (match["zone"] or "").strip()
    building = cells.building_part(match["b"] + "栋")
    entrance = cells.entrance_part(match["e"] + "单元") if match["e"] else ""
    floor = cells.building_part(match["f"] + "栋") if match["f"] else ""
    return zone, building, entrance, floor, match["r"]
