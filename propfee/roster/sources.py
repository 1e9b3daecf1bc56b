"""What other property systems write in their rosters: the words they use for a unit's state
and a person's role, addresses kept in one cell, and people on repeated rows.

The codes a system stores (HC小区管理系统's 房屋类型 110, 房屋状态 2001, 业主类型 1001 …) are data:
one source profile per system in ``profiles/*.toml`` (each citing where its codes come from),
recognised by its header signature and in the same format as a ``--map`` file.
"""

from __future__ import annotations

import re
from pathlib import Path

from propfee.core.i18n import N_
from propfee.files import cells
from propfee.files.headers import norm_header

VACANT, LIVED_IN, UNKNOWN = "vacant", "lived-in", "unknown"
#: 房屋状态 words -> vacant / lived in / not said
STATES = {
    **{norm_header(w): VACANT for w in ("未销售", "已交房", "已装修", "空闲", "装修中", "未售")},
    **{norm_header(w): LIVED_IN for w in ("已出租", "已租")},
    **{norm_header(w): UNKNOWN for w in ("已售", "已出售", "已销售")},
}

OWNER, FAMILY, TENANT = "owner", "family", "tenant"
#: 业主类型 words -> the person's role on the unit
ROLES = {
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
    "gender": ("male", "female", "unknown"),
    "lift": ("yes", "no"),
}
ROLE_LABELS = {OWNER: N_("owner"), FAMILY: N_("family member"), TENANT: N_("tenant")}

#: 出租还是出售（H出租S出售）and similar: a parking space sold or rented
TENURES = {
    **{norm_header(w): "rent" for w in ("h", "出租", "租", "租用", "rent", "rented")},
    **{norm_header(w): "sale" for w in ("s", "出售", "售", "已售", "产权", "sale", "sold")},
}


#: 性别 words and codes -> male / female / not said
GENDERS = {
    **{norm_header(w): "male" for w in ("男", "男性", "m", "male", "1", "先生")},
    **{norm_header(w): "female" for w in ("女", "女性", "f", "female", "2", "女士")},
    **{norm_header(w): "unknown" for w in ("未知", "不详", "保密", "0", "9", "unknown")},
}
GENDER_LABELS = {"male": N_("male"), "female": N_("female")}

#: 是否有电梯 and other yes/no columns
YES_NO = {
    **{norm_header(w): "yes" for w in ("是", "有", "y", "yes", "1", "true", "√", "✓")},
    **{norm_header(w): "no" for w in ("否", "无", "没有", "n", "no", "0", "false", "×")},
}


def code_key(value: object) -> str:
    """A coded cell as a lookup key: 110, 110.0 and "110" are one code."""
    return norm_header(cells.number_text(value))


def placeholder_id(value: object) -> bool:
    """HC's documented "no ID" (111111111111111111) and the like: one digit repeated."""
    if type(value) is str and len(value) == 18 and value.isascii() and value.isalnum():
        return len(set(value.upper())) == 1  # the usual cell: nothing to tidy first
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


#: the source profiles shipped with propfee (HC, pigcms, a small owner system)
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
