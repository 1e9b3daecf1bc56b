"""Finding columns by their headers, Chinese or English, as other systems name them.

A header is normalised (full-width folded, lower-cased, spaces, ``*`` markers and bracketed
units such as ``(㎡)`` removed; a bracketed direction such as ``(收入)`` or ``(借)`` is kept, so
``记账金额(收入)`` and ``记账金额(支出)`` stay two columns) and looked up among each field's aliases. Aliases are listed
most specific first: when two columns could be the billing area, ``计费面积`` beats
``建筑面积`` beats ``面积``.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from propfee.core.errors import FileFormatError, RowError
from propfee.core.i18n import _
from propfee.files.tabular import Cells, column_letter

_BRACKETS = re.compile(r"[(\[【{<（][^)\]】}>）]*[)\]】}>）]")
#: a bracketed qualifier that tells two columns apart (记账金额(收入) / 记账金额(支出)): kept
_QUALIFIER = re.compile(r"[(\[【（]\s*(收入|支出|收|支|借|贷|借方|贷方)\s*[)\]】）]")
_NOISE = re.compile(r"[\s*★☆:：_\-.。、/\\|'\"“”‘’#]+")
_TRAILING_DIGITS = re.compile(r"\d+$")
_ALTERNATIVES = re.compile(r"[/／、|或]")
_GROUP_SUFFIX = re.compile(r"(基本信息|信息|资料|情况)$")
_UNIT_SUFFIX = re.compile(r"(?:㎡|m²|m2|平方米|平米|元/月|元|人民币|rmb|yuan|sqm)$")
#: a group label naming another person: its columns never fall back to the owner's fields
OTHER_PEOPLE = (
    "租户",
    "承租人",
    "承租方",
    "租客",
    "紧急联系人",
    "联系人",
    "代理人",
    "委托人",
    "家属",
    "住户",
    "使用人",
    "实际居住人",
    "tenant",
    "contact",
    "emergency",
)


def norm_header(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).lower()
    text = _QUALIFIER.sub(r"\1", text)
    text = _BRACKETS.sub("", text)
    text = _NOISE.sub("", text)
    stripped = _UNIT_SUFFIX.sub("", text)
    return stripped or text


@dataclass(frozen=True)
class Column:
    field: str
    index: int  # position in the row's cells
    header: str  # as written in the file
    priority: int  # lower is more specific
    letter: str

    @property
    def label(self) -> str:
        return f"{self.header} ({self.letter})"


@dataclass
class HeaderMatch:
    row: int  # Excel row number of the header
    columns: dict[str, Column]  # field -> the column that feeds it
    extra: dict[str, list[Column]]  # field -> further columns (extra phone columns)
    ignored: list[str]  # headers not used
    local_code: bool = False  # the code column holds codes within each building (1-101)


@dataclass
class ColumnMap:
    """A ``--map`` file: headers named to fields (or "ignore"), values named to kinds."""

    columns: dict[str, str] = dataclasses.field(default_factory=dict)  # normalised header -> field
    kinds: dict[str, str] = dataclasses.field(default_factory=dict)  # normalised value -> kind
    sheet: str | None = None
    header_row: int | None = None
    #: ``[values.FIELD]`` tables: field -> normalised value -> what it means
    values: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    strict: bool = False  # refuse soft faults (a bad ID check digit) instead of warning
    units_only: bool = False  # the file lists units only: their owners come from another file
    #: a source profile: the system's name and the headers that recognise its files
    name: str = ""
    system: str = ""
    signature: tuple[str, ...] = ()  # headers as the system writes them


def load_column_map(
    path: Path | None,
    fields: dict[str, object],
    kinds: dict[str, object] | None = None,
    values: dict[str, tuple[str, ...]] | None = None,
) -> ColumnMap:
    """Read a TOML map: ``[columns]`` header = field (or "ignore"), ``[kinds]`` value = kind
    (when the file has kinds), ``[values.FIELD]`` value = meaning (for the coded fields in
    ``values``), optional ``sheet`` and ``header_row``."""
    if path is None:
        return ColumnMap()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise FileFormatError(_("map file {path} does not exist").format(path=path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            _("map file {path}: not valid TOML ({error})").format(path=path, error=exc)
        ) from None
    keys = {"columns", "sheet", "header_row"} | ({"kinds"} if kinds is not None else set())
    keys |= {"values", "name", "system", "signature"} if values else set()
    unknown = set(data) - keys
    if unknown:
        raise FileFormatError(
            _("map file {path}: unknown key {key} (use {keys})").format(
                path=path, key=sorted(unknown)[0], keys=", ".join(sorted(keys))
            )
        )
    result = ColumnMap(
        sheet=data.get("sheet"),
        header_row=data.get("header_row"),
        name=str(data.get("name") or ""),
        system=str(data.get("system") or ""),
        signature=tuple(str(h) for h in data.get("signature") or ()),
    )
    for header, target in (data.get("columns") or {}).items():
        if target != "ignore" and target not in fields:
            known = ", ".join(f for f in fields if f != "ignore")
            raise FileFormatError(
                _(
                    "map file {path}: column {header} maps to unknown field {field} "
                    "(fields: {known}, or ignore)"
                ).format(path=path, header=repr(header), field=repr(target), known=known)
            )
        result.columns[norm_header(header)] = target
    for value, kind in (data.get("kinds") or {}).items():
        if kind not in (kinds or {}):
            raise FileFormatError(
                _("map file {path}: kind {value} maps to {kind}; use one of {kinds}").format(
                    path=path, value=repr(value), kind=repr(kind), kinds=", ".join(kinds or {})
                )
            )
        result.kinds[norm_header(value)] = kind
    result.values = _value_tables(path, data.get("values") or {}, values or {}, kinds or {})
    return result


def _value_tables(
    path: Path, given: dict, allowed: dict[str, tuple[str, ...]], kinds: dict[str, object]
) -> dict[str, dict[str, str]]:
    """``[values.kind]``, ``[values.vacant]`` …: each value a coded column holds, named to
    what it means; a field or a meaning propfee does not know is an error."""
    tables: dict[str, dict[str, str]] = {}
    if not isinstance(given, dict):
        given = {"values": None}  # reported below as a table that is not one
    for field, table in given.items():
        targets = tuple(kinds) if field == "kind" else allowed.get(field)
        if targets is None or not isinstance(table, dict):
            raise FileFormatError(
                _("map file {path}: [values.{field}] is not a coded column (use {fields})").format(
                    path=path, field=field, fields=", ".join(["kind", *allowed])
                )
            )
        for value, meaning in table.items():
            if meaning not in targets:
                raise FileFormatError(
                    _(
                        "map file {path}: [values.{field}] {value} = {meaning}; use one of "
                        "{targets}"
                    ).format(
                        path=path,
                        field=field,
                        value=repr(value),
                        meaning=repr(meaning),
                        targets=", ".join(targets),
                    )
                )
            tables.setdefault(field, {})[norm_header(value)] = meaning
    return tables


def alias_index(fields: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for field, aliases in fields.items():
        for priority, alias in enumerate(aliases):
            key = norm_header(alias)
            if key in index and index[key][0] != field:
                raise ValueError(f"alias {alias!r} given for {index[key][0]} and {field}")
            index.setdefault(key, (field, priority))
    return index


def lookup(
    header: str, index: dict[str, tuple[str, int]], explicit: dict[str, str]
) -> tuple[str, int] | None:
    """The (field, priority) a header names, or None; ``explicit`` (from a --map file) wins
    and may map a header to ``"ignore"``."""
    key = norm_header(header)
    if not key:
        return None
    if key in explicit:
        return (explicit[key], -1)
    if key in index:
        return index[key]
    stripped = _TRAILING_DIGITS.sub("", key)
    if stripped != key and stripped in explicit:  # "联系电话2" of a column the map ignores
        return (explicit[stripped], 999)
    if stripped != key and stripped in index:
        field, priority = index[stripped]
        return field, priority + 1000  # "联系电话2": a further column of the same kind
    parts = [p for p in _ALTERNATIVES.split(str(header)) if p.strip()]
    if len(parts) > 1:  # "手机号/电话", "业主/单位": the first part that names a field
        for part in parts:
            hit = lookup(part, index, explicit)
            if hit is not None:
                return hit
    return None


def find_header(
    head: list[tuple[int, Cells]],
    index: dict[str, tuple[str, int]],
    explicit: dict[str, str],
    *,
    first_column: int = 0,
    header_row: int | None = None,
    multi: frozenset[str] = frozenset(),
    is_identity=lambda fields: True,
) -> HeaderMatch | None:
    """Find the header among the first rows: the row naming the most known fields (at least
    two, including what identifies a unit). A two-row header — a group label such as
    ``业主信息`` over ``姓名 | 电话`` — is read as ``业主姓名 | 业主电话``."""
    best: tuple[tuple[int, int], int, list[str]] | None = None  # (score, position, headers)
    for position, (number, cells) in enumerate(head):
        candidates = []
        if header_row is None or number == header_row:
            candidates.append(_texts(cells))
        if position > 0 and (header_row is None or number == header_row):
            candidates.append(_combine(head[position - 1][1], cells, index, explicit))
        for texts in candidates:
            hits = [hit[0] for t in texts if (hit := lookup(t, index, explicit))]
            fields = set(hits) - {"ignore"}
            clashes = sum(1 for f in fields if f not in multi and hits.count(f) > 1)
            score = (len(fields), -clashes)  # a two-row header that resolves a clash wins
            if len(fields) >= 2 and is_identity(fields) and (best is None or score > best[0]):
                best = (score, position, texts)
    if best is None:
        return None
    _score, position, texts = best
    number = head[position][0]
    columns: dict[str, Column] = {}
    extra: dict[str, list[Column]] = {}
    ignored: list[str] = []
    for i, header in enumerate(texts):
        if not header:
            continue
        hit = lookup(header, index, explicit)
        if hit is None or hit[0] == "ignore":
            ignored.append(header)
            continue
        field, priority = hit
        column = Column(field, i, header, priority, column_letter(i + first_column))
        current = columns.get(field)
        if current is None:
            columns[field] = column
        elif field in multi:
            if priority < current.priority:
                columns[field] = column
                column = current
            extra.setdefault(field, []).append(column)
        elif priority < current.priority:
            ignored.append(current.header)
            columns[field] = column
        elif priority > current.priority:
            ignored.append(header)
        else:
            columns[field] = Column(field, -1, f"{current.label} / {column.label}", priority, "")
    return HeaderMatch(number, columns, extra, ignored)


def _texts(cells: Cells) -> list[str]:
    return [str(c).strip() if isinstance(c, str) else "" for c in cells]


def _combine(upper: Cells, lower: Cells, index, explicit) -> list[str]:
    """Headers of a two-row header: the lower cell under its group label (a merged or
    left-filled upper cell), as ``业主`` + ``姓名`` -> ``业主姓名`` when that names a field."""
    tops, bottoms = _texts(upper), _texts(lower)
    width = max(len(tops), len(bottoms))
    tops += [""] * (width - len(tops))
    bottoms += [""] * (width - len(bottoms))
    texts = []
    group = ""
    for top, bottom in zip(tops, bottoms, strict=True):
        if top:
            group = top
        elif not bottom:
            group = ""
        if not bottom:
            texts.append(top)
            continue
        label = top or group
        if label and norm_header(label) != norm_header(bottom):
            prefix = _GROUP_SUFFIX.sub("", norm_header(label))
            joined = prefix + norm_header(bottom)
            if lookup(joined, index, explicit) or prefix.startswith(OTHER_PEOPLE):
                # 租户信息 over 身份证号 is the tenant's ID, never the owner's: keep it joined
                texts.append(joined if lookup(joined, index, explicit) else f"{label}·{bottom}")
                continue
        texts.append(bottom if lookup(bottom, index, explicit) else (top or bottom))
    return texts


def ambiguous_columns(match: HeaderMatch, file: str, sheet: str) -> list[RowError]:
    """Two columns that name the same field equally (two ``面积`` columns): an error."""
    return [
        RowError(
            file,
            sheet,
            match.row,
            column.header,
            "",
            _("two columns could be the {field}; keep one or name them in --map").format(
                field=field
            ),
        )
        for field, column in match.columns.items()
        if column.index < 0
    ]
