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
from propfee.core.i18n import N_, _
from propfee.core.money import parse_price, price_str
from propfee.core.periods import CYCLE_MONTHS, add_months
from propfee.core.said import Said
from propfee.files import cells
from propfee.files.render import render
from propfee.roster.units import kind_label, resolve_kind

#: how an item is billed, as staff read it (``_()`` where shown)
BASES = {
    "area": N_("by floor area"),
    "fixed": N_("fixed per unit"),
    "metered": N_("by use"),
    "one_off": N_("one-off"),
}
DEFAULT_UNIT_LABELS = {
    "area": "元/㎡·月",
    "fixed": "元/户·月",
    "metered": "元/单位用量",
    "one_off": "元/次",
}
METERS = {
    "water": N_("water meter"),
    "electricity": N_("electricity meter"),
    "gas": N_("gas meter"),
    "heat": N_("heat meter"),
}

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


PENALTY_RULE = Said(
    N_(
        "a late fee comes only from the late-fee clause of the property service contract, "
        "worked out and posted by propfee latefee (set [late_fee] daily_rate; LEGAL rule 7, "
        "Civil Code art. 585), never as a fee item of its own or added by a correction"
    )
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
        raise InvalidValue(
            _("fee item name {name!r} is a fine or late fee: {rule}").format(
                name=name.strip(), rule=PENALTY_RULE
            )
        )
    if reads_as_penalty(code, code=True):
        raise InvalidValue(
            _("fee item code {code!r} looks like a late fee or a fine: {rule}").format(
                code=code.strip(), rule=PENALTY_RULE
            )
        )


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
            raise NotFound(
                _("no fee item {code!r} (see: propfee fees list)").format(code=missing[0])
            )
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
    """Where the item applies, in the reader's language: its buildings (``1、2栋``), else its
    units, else ``全部``."""
    if item.buildings:
        return _("buildings {list}").format(list=_(", ").join(item.buildings))
    return _(", ").join(item.units) if item.units else _("all")


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
        raise InvalidValue(
            _("fee item code {code!r} must be one word, e.g. PROP or PARK").format(code=code)
        )
    if code.upper() == "LATEFEE":
        raise InvalidValue(
            _("LATEFEE is kept for late fees (propfee latefee post); choose another code")
        )
    check_not_penalty(code, name)
    if basis not in BASES:
        raise InvalidValue(_("--basis must be one of {values}").format(values=", ".join(BASES)))
    if cycle not in CYCLE_MONTHS:
        raise InvalidValue(
            _("--cycle must be one of {values}").format(values=", ".join(CYCLE_MONTHS))
        )
    if not 1 <= due_day <= 31:
        raise InvalidValue(_("--due-day must be between 1 and 31"))
    if basis == "metered" and meter not in METERS:
        raise InvalidValue(
            _("a metered item needs --meter ({values})").format(values=", ".join(METERS))
        )
    kind_list = [resolve_kind(k) for k in kinds]
    if not kind_list:
        raise InvalidValue(_("--kinds names the kinds of unit the fee applies to"))
    if store.fee_item_exists(conn, code):
        raise PropfeeError(
            _(
                "fee item {code} exists; change its price with: propfee fees "
                "set-price {code} --price P --from YYYY-MM-DD"
            ).format(code=code)
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
                _(
                    "{code} already has a published price from {day} (¥{price}); "
                    "a change needs a new date and a new publication"
                ).format(code=code, day=effective_from, price=existing.text)
            )
        store.change_price(conn, item.id, effective_from.isoformat(), value)
    else:
        billed = store.billed_through(conn, item.id)
        if billed and effective_from.isoformat() <= billed:
            raise PropfeeError(
                _(
                    "{code} is already billed up to {billed}; a new price can take effect "
                    "only after that (bills keep their price; use propfee adjust for "
                    "corrections)"
                ).format(code=code, billed=billed)
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
        raise NotFound(
            _("{code} has no price from {day} (see propfee fees show {code})").format(
                code=item.code, day=old
            )
        )
    later = [p.effective_from for p in item.prices if p.effective_from > old]
    if new <= old or (later and new >= later[0]):
        raise InvalidValue(
            (
                _(
                    "--from {new}: the price can only be put off to after {old} and before "
                    "{next} (the next price starts that day)"
                )
                if later
                else _("--from {new}: the price can only be put off to after {old}")
            ).format(new=new, old=old, next=later[0] if later else "")
        )
    billed = store.billed_through(conn, item.id)
    if billed and old.isoformat() <= billed:
        raise PropfeeError(
            _(
                "{code} is billed up to {billed}: the price from {old} is in use and its "
                "first day can no longer change"
            ).format(code=item.code, billed=billed, old=old)
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


RECORD_LATER_HINT = Said(
    N_(
        "a publication posted at the estate before propfee was in use is recorded with "
        "propfee fees publish --recorded-later --published-on YYYY-MM-DD "
        '--evidence "notice photo IMG_0231.jpg"'
    )
)


def lawful_ways(item: FeeItem) -> str:
    """The two lawful ways forward for periods before a price's recorded publication, and the
    way out for an item added by mistake."""
    return _(
        "Two lawful ways: (1) publish now: propfee fees publish --out notices, billing from "
        "the day of publication (a new price takes effect a month after it is published); "
        "(2) if a notice was posted at the estate before propfee was in use, record that "
        "publication: propfee fees publish --recorded-later --published-on YYYY-MM-DD "
        '--evidence "notice photo IMG_0231.jpg", then bill again. If the fee item was added '
        "by mistake: propfee fees remove {code} (never billed, never published), or propfee "
        "fees end {code} --to YYYY-MM-DD (stop billing, history kept)"
    ).format(code=item.code)


def never_published_message(item: FeeItem, price: Price) -> str:
    return _(
        "{code} {name}: the price ¥{price} from {day} was never published and cannot be "
        "billed. {ways}"
    ).format(
        code=item.code,
        name=item.name,
        price=price.text,
        day=price.effective_from,
        ways=lawful_ways(item),
    )


def before_publication_message(item: FeeItem, price: Price, period: str) -> str:
    return _(
        "{code} {name} {period}: the price was published only on {published}; {period} is "
        "before the publication and cannot be billed. {ways}"
    ).format(
        code=item.code,
        name=item.name,
        period=period,
        published=price.published_on,
        ways=lawful_ways(item),
    )


def publication_day(
    *, today: date, as_of: date | None, recorded_later: bool, published_on: date | None
) -> date:
    """The day a publication is recorded on: the day the command runs; only a publication
    recorded later (补录) names another day, with --published-on."""
    if as_of is not None and as_of != today:
        raise InvalidValue(
            _(
                "fees publish records the day it runs ({today}); --as-of {as_of} cannot "
                "change it; {hint}"
            ).format(today=today, as_of=as_of, hint=RECORD_LATER_HINT)
        )
    if recorded_later != (published_on is not None):
        raise InvalidValue(
            _(
                "--recorded-later and --published-on go together: they record a publication "
                "posted before propfee was in use"
            )
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
            _(
                "--published-on {day}: a publication recorded later must be before today "
                "({today}); for today's publication run propfee fees publish"
            ).format(day=published_on, today=today)
        )
    if len(evidence.strip()) < 4:
        raise InvalidValue(
            _(
                "--evidence is required (at least 4 characters): the notice's number or the "
                'file name of its photo ("notice photo IMG_0231.jpg")'
            )
        )
    first_live = store.first_live_publication(conn)
    if first_live and published_on.isoformat() >= first_live:
        raise PropfeeError(
            _(
                "propfee has published the fee standard since {day}; a later publication "
                "cannot be recorded later, only run propfee fees publish on its day"
            ).format(day=first_live)
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
        raise PropfeeError(_("no fee items yet; add one with: propfee fees add CODE …"))
    context = notice_context(items, settings, as_of)
    if not context["rows"]:
        raise PropfeeError(_("no price is in effect on or after {day}").format(day=as_of))
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
    return _(
        "{code} {name}: the new price ¥{price} starts on {day} but is published only on "
        "{published}, less than a month ahead; it can be billed from {lawful} at the "
        "earliest, and billing an earlier period at it will be refused (move its first day "
        "with propfee fees set-price {code} --price {price} --from {lawful} --instead-of {day})"
    ).format(
        code=item.code,
        name=item.name,
        price=price.text,
        day=price.effective_from,
        published=published_on,
        lawful=lawful,
    )


def too_early_message(item: FeeItem, price: Price, period: str) -> str:
    """Why ``period`` cannot be billed at a price change posted less than a month ahead."""
    lawful = item.lawful_from(price)
    return _(
        "{code} {name}: the new price ¥{price} starts on {day} but was published only on "
        "{published}, less than a month ahead; it can be billed from {lawful} at the "
        "earliest, so {period} cannot be billed at it. Move its first day to {lawful} or "
        "later: propfee fees set-price {code} --price {price} --from {lawful} --instead-of {day}"
    ).format(
        code=item.code,
        name=item.name,
        price=price.text,
        day=price.effective_from,
        published=price.published_on,
        lawful=lawful,
        period=period,
    )
