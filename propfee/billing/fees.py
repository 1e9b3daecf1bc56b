"""Fee standards (收费标准): fee items, their price history, and publication (明码标价).

A fee item says what is charged (物业服务费, 停车服务费 …), on what basis (per ㎡ of billing
area, a fixed amount per unit, metered usage, or once), to which kinds of unit, in which
cycle and when it falls due. Its prices form a history: each takes effect from a date, and
old bills keep the price they were made with. A price may be billed only once it has been
published (LEGAL rule 8); a change should be published at least a month before it applies.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import propfee.billing.store as store
from propfee.core.errors import InvalidValue, NotFound, PropfeeError
from propfee.core.money import parse_price, price_str
from propfee.core.periods import CYCLE_MONTHS, add_months
from propfee.files import cells
from propfee.files.render import render
from propfee.roster.units import kind_label, resolve_kind

BASES = {"area": "按建筑面积", "fixed": "按户/个定额", "metered": "按用量", "one_off": "一次性"}
DEFAULT_UNIT_LABELS = {
    "area": "元/㎡·月",
    "fixed": "元/户·月",
    "metered": "元/单位用量",
    "one_off": "元/次",
}
METERS = {"water": "水表", "electricity": "电表", "gas": "燃气表", "heat": "热表"}

# what reads as a penalty for paying late (LEGAL rule 7): such a charge comes only from the
# contract's late-fee clause, through ``propfee latefee`` — never as a fee item or a correction
_PENALTY_WORDS = (
    "滞纳",
    "违约",
    "罚",
    "迟缴",
    "逾期费",
    "逾期金",
    "逾期缴费",
    "延迟缴费",
    "延期缴费",
)
_PENALTY_ENGLISH = re.compile(
    r"late[\s_-]*(fee|charge|payment|penalt)|penalt(y|ies)|\bfines?\b|\bfined\b|"
    r"overdue[\s_-]*(fee|charge)"
)
_PENALTY_CODES = ("ZNJ", "WYJ", "FAKUAN", "LATE", "PENALTY", "FINE")
PENALTY_RULE = (
    "违约金只能依据物业服务合同的违约金条款、通过 propfee latefee 计算和入账"
    "（设置 [late_fee] daily_rate；LEGAL 第7条，民法典第585条），不得另设收费项目或以更正加收"
)


def reads_as_penalty(text: str, *, code: bool = False) -> bool:
    """Whether a fee item's name or code, or a reason, reads as a charge for paying late:
    滞纳金, 违约金, 罚款, late fee, penalty, fine … (a code also by ZNJ, WYJ and the like)."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    if any(word in folded for word in _PENALTY_WORDS) or _PENALTY_ENGLISH.search(folded):
        return True
    if code:
        upper = re.sub(r"[^A-Z]", "", folded.upper())
        return any(upper.startswith(c) for c in _PENALTY_CODES) or "PENALT" in upper
    return False


def check_not_penalty(code: str, name: str) -> None:
    """Refuse a fee item that reads as a penalty for paying late, naming what gave it away."""
    if reads_as_penalty(name):
        raise InvalidValue(f"收费项目名称 {name.strip()!r} 是罚款/滞纳金性质的收费：{PENALTY_RULE}")
    if reads_as_penalty(code, code=True):
        raise InvalidValue(f"收费项目代码 {code.strip()!r} 看起来是违约金或罚款：{PENALTY_RULE}")


@dataclass(frozen=True)
class Price:
    price_x10000: int
    effective_from: date
    published_on: date | None
    recorded_later: bool = False  # its publication was recorded after the fact (补录)

    @property
    def text(self) -> str:
        return price_str(self.price_x10000)


@dataclass(frozen=True)
class FeeItem:
    id: int
    code: str
    name: str
    basis: str
    cycle: str
    kinds: tuple[str, ...]
    buildings: tuple[str, ...]
    units: tuple[str, ...]
    due_day: int
    meter: str
    unit_label: str
    price_type: str
    services: str
    position: int
    prices: tuple[Price, ...] = field(default=())
    ends_on: date | None = None  # ended (fees end): nothing billed after this day

    @property
    def months(self) -> int:
        return CYCLE_MONTHS[self.cycle]

    def price_on(self, day: date) -> Price | None:
        """The price in effect on ``day`` by the fee standard (None before the first one)."""
        found = None
        for price in self.prices:
            if price.effective_from <= day:
                found = price
        return found

    def billable_on(self, day: date) -> Price | None:
        """The price that may be charged for ``day``: the latest one in effect that had been
        published by then. Until a change is published, the old price goes on (LEGAL 8).
        Nothing is charged after the day the item ended."""
        if self.ends_on is not None and day > self.ends_on:
            return None
        found = None
        for price in self.prices:
            if (
                price.effective_from <= day
                and price.published_on is not None
                and price.published_on <= day
            ):
                found = price
        return found

    def lawful_from(self, price: Price) -> date | None:
        """The first day ``price`` may be charged: a first price from its publication, a change
        of price no earlier than one month after its publication (LEGAL rule 8)."""
        if price.published_on is None:
            return None
        if not any(p.effective_from < price.effective_from for p in self.prices):
            return max(price.effective_from, price.published_on)
        return max(price.effective_from, add_months(price.published_on, 1))

    def applies_to(self, kind: str, building: str, code: str) -> bool:
        return (
            kind in self.kinds
            and (not self.buildings or building in self.buildings)
            and (not self.units or code in self.units)
        )


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(",") if v)


def load_items(conn: sqlite3.Connection, codes: list[str] | None = None) -> list[FeeItem]:
    """Fee items in their order, each with its price history."""
    prices: dict[int, list[Price]] = {}
    for row in store.price_history(conn):
        prices.setdefault(row[0], []).append(
            Price(
                row[1],
                date.fromisoformat(row[2]),
                date.fromisoformat(row[3]) if row[3] else None,
                bool(row[4]),
            )
        )
    items = []
    for row in store.fee_item_rows(conn):  # never the contract's late-fee item
        item = FeeItem(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            _split(row[5]),
            _split(row[6]),
            _split(row[7]),
            row[8],
            row[9],
            row[10],
            row[11],
            row[12],
            row[13],
            tuple(prices.get(row[0], ())),
            date.fromisoformat(row[14]) if row[14] else None,
        )
        items.append(item)
    if codes:
        known = {item.code: item for item in items}
        missing = [c for c in codes if c not in known]
        if missing:
            raise NotFound(f"no fee item {missing[0]!r} (see: propfee fees list)")
        return [known[c] for c in codes]
    return items


def option_list(values: list[str] | None) -> list[str]:
    """Values given as repeated options and/or comma lists (``,`` or ``，``), blanks dropped."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.replace("，", ",").split(",") if v.strip())
    return out


def item_summary(item: FeeItem, as_of: date) -> dict:
    """An item as plain data: what it is, the price in effect on ``as_of`` and the next one."""
    current = item.price_on(as_of)
    coming = [p for p in item.prices if p.effective_from > as_of]
    return {
        "code": item.code,
        "name": item.name,
        "basis": item.basis,
        "cycle": item.cycle,
        "kinds": ",".join(item.kinds),
        "buildings": ",".join(item.buildings),
        "units": ",".join(item.units),
        "due_day": item.due_day,
        "meter": item.meter,
        "unit_label": item.unit_label,
        "price": current.text if current else None,
        "price_from": current.effective_from.isoformat() if current else None,
        "published_on": (
            current.published_on.isoformat() if current and current.published_on else None
        ),
        "next_price": coming[0].text if coming else None,
        "next_from": coming[0].effective_from.isoformat() if coming else None,
        "ends_on": item.ends_on.isoformat() if item.ends_on else None,
    }


def price_rows(item: FeeItem) -> list[dict]:
    """The item's prices as plain data, oldest first, each with its publication date."""
    return [
        {
            "price": p.text,
            "unit_label": item.unit_label,
            "from": p.effective_from.isoformat(),
            "published_on": p.published_on.isoformat() if p.published_on else None,
            "recorded_later": p.recorded_later,
        }
        for p in item.prices
    ]


def scope_text(item: FeeItem) -> str:
    """Where the item applies: its buildings (``1、2栋``), else its units, else ``全部``."""
    return ("、".join(item.buildings) + "栋" if item.buildings else "") or (
        "、".join(item.units) if item.units else "全部"
    )


def get_item(conn: sqlite3.Connection, code: str) -> FeeItem:
    return load_items(conn, [code])[0]


def add_item(
    conn: sqlite3.Connection,
    *,
    code: str,
    name: str,
    basis: str,
    price: str,
    kinds: list[str],
    cycle: str,
    effective_from: date,
    now: datetime,
    due_day: int = 15,
    buildings: list[str] = (),
    units: list[str] = (),
    meter: str = "",
    unit_label: str = "",
    price_type: str = "市场调节价",
    services: str = "",
) -> FeeItem:
    """Define a fee item with its first price (not yet published)."""
    code = code.strip()
    if not code or any(c.isspace() for c in code):
        raise InvalidValue(f"fee item code {code!r} must be one word, e.g. PROP or PARK")
    if code.upper() == "LATEFEE":
        raise InvalidValue(
            "LATEFEE is kept for late fees (propfee latefee post); choose another code"
        )
    check_not_penalty(code, name)
    if basis not in BASES:
        raise InvalidValue(f"basis must be one of {', '.join(BASES)}")
    if cycle not in CYCLE_MONTHS:
        raise InvalidValue(f"cycle must be one of {', '.join(CYCLE_MONTHS)}")
    if not 1 <= due_day <= 31:
        raise InvalidValue("--due-day must be between 1 and 31")
    if basis == "metered" and meter not in METERS:
        raise InvalidValue(f"a metered item needs --meter ({', '.join(METERS)})")
    kind_list = [resolve_kind(k) for k in kinds]
    if not kind_list:
        raise InvalidValue("--kinds names the kinds of unit the fee applies to")
    if store.fee_item_exists(conn, code):
        raise PropfeeError(
            f"fee item {code} exists; change its price with: propfee fees "
            f"set-price {code} --price P --from YYYY-MM-DD"
        )

    position = store.next_item_position(conn)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    item_id = store.insert_fee_item(
        conn,
        (
            code,
            name.strip(),
            basis,
            cycle,
            ",".join(dict.fromkeys(kind_list)),
            ",".join(cells.building_part(b) for b in buildings),
            ",".join(cells.unit_code(u) for u in units),
            due_day,
            meter,
            unit_label or DEFAULT_UNIT_LABELS[basis],
            price_type,
            services,
            position,
            stamp,
        ),
    )
    store.insert_price(conn, item_id, parse_price(price), effective_from.isoformat(), stamp)
    return get_item(conn, code)


def set_price(
    conn: sqlite3.Connection,
    code: str,
    *,
    price: str,
    effective_from: date,
    now: datetime,
    instead_of: date | None = None,
) -> tuple[FeeItem, Price]:
    """A new price from a date. Bills already made keep their price; an unpublished price for
    the same date may be corrected, a published one may not — only put off to a later date
    (``instead_of``) while nothing is billed at it."""
    item = get_item(conn, code)
    value = parse_price(price)
    if instead_of is not None:
        return _postpone(conn, item, value, instead_of, effective_from)
    existing = next((p for p in item.prices if p.effective_from == effective_from), None)
    stamp = now.isoformat(sep=" ", timespec="seconds")
    if existing is not None:
        if existing.published_on is not None:
            raise PropfeeError(
                f"{code} already has a published price from {effective_from} "
                f"(¥{existing.text}); a change needs a new date and a new publication"
            )
        store.change_price(conn, item.id, effective_from.isoformat(), value)
    else:
        billed = store.billed_through(conn, item.id)
        if billed and effective_from.isoformat() <= billed:
            raise PropfeeError(
                f"{code} is already billed up to {billed}; a new price can take effect only "
                "after that (bills keep their price; use propfee adjust for corrections)"
            )
        store.insert_price(conn, item.id, value, effective_from.isoformat(), stamp)
    item = get_item(conn, code)
    return item, next(p for p in item.prices if p.effective_from == effective_from)


def _postpone(
    conn: sqlite3.Connection, item: FeeItem, value: int, old: date, new: date
) -> tuple[FeeItem, Price]:
    """Move a price not yet billed to a later first day. The same price keeps its publication
    (starting later than posted is in the owners' favour); another price must be published."""
    moved = next((p for p in item.prices if p.effective_from == old), None)
    if moved is None:
        raise NotFound(f"{item.code} 没有自 {old} 执行的价格（见 propfee fees show {item.code}）")
    later = [p.effective_from for p in item.prices if p.effective_from > old]
    if new <= old or (later and new >= later[0]):
        raise InvalidValue(
            f"--from {new}：只能推后到 {old} 之后"
            + (f"、{later[0]} 之前（那天起是下一个价格）" if later else "")
        )
    billed = store.billed_through(conn, item.id)
    if billed and old.isoformat() <= billed:
        raise PropfeeError(
            f"{item.code} 已开票到 {billed}，自 {old} 的价格已经用过，不能再改执行日期"
        )
    keep = value == moved.price_x10000
    store.move_price(conn, item.id, old.isoformat(), new.isoformat(), value, keep)
    item = get_item(conn, item.code)
    return item, next(p for p in item.prices if p.effective_from == new)


# ---------------------------------------------------------------- publication (明码标价)


@dataclass
class Publication:
    id: int
    published_on: date
    prices: int  # prices newly marked published
    html_path: Path | None
    text_path: Path | None
    warnings: list[str]


def notice_context(items: list[FeeItem], settings, as_of: date) -> dict:
    """What the fee-publication notice shows: every item with its current and coming prices."""
    rows = []
    for item in items:
        if item.ends_on is not None and item.ends_on < as_of:
            continue  # ended: no longer part of the standard
        current = item.price_on(as_of)
        coming = [p for p in item.prices if p.effective_from > as_of]
        shown = [
            p
            for p in ([current] if current else []) + coming
            if item.ends_on is None or p.effective_from <= item.ends_on
        ]
        for price in shown:
            rows.append(
                {
                    "code": item.code,
                    "name": item.name,
                    "basis": item.basis,
                    "price": price.text,
                    "unit_label": item.unit_label,
                    "cycle": item.cycle,
                    "kinds": [kind_label(k) for k in item.kinds],
                    "kind_keys": list(item.kinds),
                    "buildings": list(item.buildings),
                    "units": list(item.units),
                    "effective_from": price.effective_from.isoformat(),
                    "price_type": item.price_type,
                    "services": item.services,
                    "due_day": item.due_day,
                    "is_coming": price.effective_from > as_of,
                }
            )
    billing = settings.billing
    return {
        "estate": settings.estate,
        "published_on": as_of.isoformat(),
        "recorded_later": False,
        "recorded_on": "",
        "evidence": "",
        "rows": rows,
        "owner_pays_from": billing.owner_pays_from,
        "vacancy_percent": billing.vacancy_discount_percent,
        "complaint_line": "12358",
    }


RECORD_LATER_HINT = (
    "已在小区张贴过的公示（启用 propfee 之前），用 propfee fees publish --recorded-later "
    "--published-on YYYY-MM-DD --evidence \"公示照片 IMG_0231.jpg\" 补录"
)


def lawful_ways(item: FeeItem) -> str:
    """The two lawful ways forward for periods before a price's recorded publication, and the
    way out for an item added by mistake."""
    return (
        "两种合法做法：① 现在公示：propfee fees publish --out 公示，自公示当天起计费"
        "（调价的新价格公示满一个月后才执行）；② 启用 propfee 之前已在小区张贴过公示的，"
        "补录那次公示：propfee fees publish --recorded-later --published-on YYYY-MM-DD "
        '--evidence "公示照片 IMG_0231.jpg"，之后重新开票。收费项目是加错的：'
        f"propfee fees remove {item.code}（从未开票、从未公示），或 propfee fees end "
        f"{item.code} --to YYYY-MM-DD（停止收费，历史保留）"
    )


def never_published_message(item: FeeItem, price: Price) -> str:
    return (
        f"{item.code} {item.name}：自 {price.effective_from} 执行的价格 ¥{price.text} 从未公示，"
        f"不能开票。{lawful_ways(item)}"
    )


def before_publication_message(item: FeeItem, price: Price, period: str) -> str:
    return (
        f"{item.code} {item.name} {period}：价格 {price.published_on} 才公示，{period} 在公示"
        f"之前，不能开票。{lawful_ways(item)}"
    )


def publication_day(
    *, today: date, as_of: date | None, recorded_later: bool, published_on: date | None
) -> date:
    """The day a publication is recorded on: the day the command runs; only a publication
    recorded later (补录) names another day, with --published-on."""
    if as_of is not None and as_of != today:
        raise InvalidValue(
            f"fees publish 记录的是运行当天（{today}），不能用 --as-of {as_of} 改日期；"
            + RECORD_LATER_HINT
        )
    if recorded_later != (published_on is not None):
        raise InvalidValue(
            "--recorded-later 与 --published-on 要一起用：补录启用 propfee 之前张贴的公示"
        )
    return published_on or today


def check_recorded_later(
    conn: sqlite3.Connection, published_on: date, evidence: str, today: date
) -> None:
    """A publication recorded after the fact (补录) is one that happened before propfee was
    used to publish: dated before today and before the first publication propfee made, and
    backed by evidence (a notice number, a photo file name)."""
    if published_on >= today:
        raise InvalidValue(
            f"--published-on {published_on}：补录的公示必须早于今天（{today}）；"
            "今天的公示直接运行 propfee fees publish"
        )
    if len(evidence.strip()) < 4:
        raise InvalidValue(
            "--evidence 必填（至少 4 个字）：写明公示凭证，例如公示编号或照片文件名"
            "（\"公示照片 IMG_0231.jpg\"）"
        )
    first_live = store.first_live_publication(conn)
    if first_live and published_on.isoformat() >= first_live:
        raise PropfeeError(
            f"propfee 自 {first_live} 起已用于公示收费标准；之后的公示不能补录，"
            "只能在公示当天运行 propfee fees publish"
        )


def publish(
    conn: sqlite3.Connection,
    *,
    as_of: date,
    now: datetime,
    settings,
    out_dir: Path | None,
    language: str = "zh",
    recorded_later: bool = False,
    evidence: str = "",
) -> Publication:
    """Render the fee-publication notice (HTML and text) and record every price it shows as
    published on ``as_of`` — the day the command runs, or, for a publication recorded later
    (补录), the day it was really posted, with its evidence."""
    if recorded_later:
        check_recorded_later(conn, as_of, evidence, now.date())
    items = load_items(conn)
    if not items:
        raise PropfeeError("no fee items yet; add one with: propfee fees add CODE …")
    context = notice_context(items, settings, as_of)
    if not context["rows"]:
        raise PropfeeError(f"no price is in effect on or after {as_of}")
    if recorded_later:
        context.update(
            recorded_later=True, recorded_on=now.date().isoformat(), evidence=evidence.strip()
        )
    text = render(settings, f"{language}/fee_notice.txt", context)
    html = render(settings, f"{language}/fee_notice.html", context)
    html_path = text_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = "-补录" if recorded_later else ""
        html_path = out_dir / f"收费公示-{as_of.isoformat()}{suffix}.html"
        text_path = out_dir / f"收费公示-{as_of.isoformat()}{suffix}.txt"
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
    stamp = now.isoformat(sep=" ", timespec="seconds")
    publication_id = store.insert_publication(
        conn,
        as_of.isoformat(),
        str(html_path or ""),
        str(text_path or ""),
        text,
        stamp,
        recorded_later=recorded_later,
        evidence=evidence.strip(),
    )
    marked, warnings = _mark_shown(conn, items, context, as_of, publication_id)
    return Publication(publication_id, as_of, marked, html_path, text_path, warnings)


def _mark_shown(
    conn: sqlite3.Connection, items: list[FeeItem], context: dict, as_of: date, publication_id: int
) -> tuple[int, list[str]]:
    """Mark each unpublished price the notice shows as published — and, for a publication
    recorded later, each price it shows that is on record only from a later publication (the
    price was posted earlier than known); (how many, warnings)."""
    shown = {(r["code"], r["effective_from"]) for r in context["rows"]}
    marked = 0
    warnings = []
    for item in items:
        for price in item.prices:
            if (item.code, price.effective_from.isoformat()) not in shown:
                continue
            if price.published_on is None or price.published_on > as_of:
                store.mark_published(
                    conn,
                    item.id,
                    price.effective_from.isoformat(),
                    as_of.isoformat(),
                    publication_id,
                )
                marked += 1
                warning = short_notice_warning(item, price, as_of)
                if warning:
                    warnings.append(warning)
    return marked, warnings


def short_notice_warning(item: FeeItem, price: Price, published_on: date) -> str:
    """A change of price takes effect no earlier than one month after it is posted (LEGAL 8):
    said when it is published, refused when a period before then is billed."""
    earlier = [p for p in item.prices if p.effective_from < price.effective_from]
    lawful = add_months(published_on, 1)
    if not earlier or price.effective_from >= lawful:
        return ""
    return (
        f"{item.code} {item.name}：新价格 ¥{price.text} 定于 {price.effective_from} 执行，"
        f"{published_on} 才公示，不足一个月；最早 {lawful} 起才能按新价收费，"
        f"此前的账期按新价开票会被拒绝（可用 propfee fees set-price {item.code} --price "
        f"{price.text} --from {lawful} --instead-of {price.effective_from} 改定执行日期）"
    )


def too_early_message(item: FeeItem, price: Price, period: str) -> str:
    """Why ``period`` cannot be billed at a price change posted less than a month ahead."""
    lawful = item.lawful_from(price)
    return (
        f"{item.code} {item.name}：新价格 ¥{price.text} 定于 {price.effective_from} 执行，但 "
        f"{price.published_on} 才公示，不足一个月，最早 {lawful} 起才能按新价收费；"
        f"{period} 不能按新价开票。把执行日期改到 {lawful} 或之后：propfee fees set-price "
        f"{item.code} --price {price.text} --from {lawful} --instead-of {price.effective_from}"
    )
