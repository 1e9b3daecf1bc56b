"""The setup path of a new estate, and the ways out of a fee item added by mistake.

``SETUP_STEPS`` is the order a new estate is set up in (shown by ``propfee init`` and by the
first ``fees add``). A fee item is never deleted: it is **ended** (``end_item``: nothing is
billed after a day, its bills and prices stay) or, while it was never billed nor published,
**removed** (``remove_item``: it leaves every list and run, its code is free again, and the
removal stays on record as an event).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

import propfee.billing.store as store
from propfee.billing.fees import FeeItem, get_item
from propfee.core.errors import PropfeeError
from propfee.core.money import format_money

SETUP_STEPS = (
    "新小区的设置顺序：",
    "  1. 导入房屋与业主：propfee import-units 业主信息.xlsx",
    "  2. 添加收费项目：propfee fees add PROP --name 物业服务费 --basis area --price 2.50 "
    "--kinds residential --from YYYY-MM-DD",
    "  3. 公示收费标准：propfee fees publish --out 公示（自公示当天起可计费）；"
    "启用 propfee 之前已在小区张贴过的公示，用 propfee fees publish --recorded-later "
    '--published-on YYYY-MM-DD --evidence "公示照片 IMG_0231.jpg" 补录，此前的账期才能开票',
    "  4. 导入以前系统的欠费（如有）：propfee import-history 期初欠费.xlsx",
    "  5. 开票并打印通知单：propfee bill --period YYYY-MM --notices 通知单",
    "  6. 收款：propfee pay / propfee reconcile；催缴：propfee remind",
    "加错的收费项目：从未开票、从未公示的，用 propfee fees remove CODE 删除；"
    "已经用过的，用 propfee fees end CODE --to YYYY-MM-DD 停止收费（历史保留）。",
)

#: bills named in a refusal at most (the rest are counted)
NAMED_BILLS = 10


@dataclass(frozen=True)
class Change:
    code: str
    name: str
    ends_on: date | None
    changed: bool  # False: the same change was recorded already (a re-run)


def end_item(
    conn: sqlite3.Connection, code: str, *, to: date, reason: str, now: datetime
) -> Change:
    """End a fee item after ``to``: no bill covers a later day. Refused while a bill covers a
    later day and is not brought to zero by an adjustment — the message names them."""
    item = get_item(conn, code)
    if item.ends_on == to:
        return Change(item.code, item.name, to, False)
    later = store.bills_of_item_after(conn, item.id, to.isoformat())
    if later:
        raise PropfeeError(_bills_after_message(item, to, later))
    stamp = now.isoformat(sep=" ", timespec="seconds")
    store.insert_fee_item_event(
        conn, (item.id, "end", item.code, to.isoformat(), reason.strip(), stamp, stamp)
    )
    return Change(item.code, item.name, to, True)


def _bills_after_message(item: FeeItem, to: date, later: list[tuple]) -> str:
    named = "；".join(
        f"账单 {bill_id}（{unit} {period}，{frm}至{upto}，{format_money(net)}）"
        for bill_id, unit, period, frm, upto, net in later[:NAMED_BILLS]
    )
    more = f" 等共 {len(later)} 张" if len(later) > NAMED_BILLS else ""
    return (
        f"{item.code} {item.name}：{to} 之后已有账单，不能在这天停止收费：{named}{more}。"
        f"先逐张冲减为零（propfee adjust 账单号 --amount -金额 --kind correction "
        f'--reason "收费项目停止" --approved-by 审批人），或把停止日期改到这些账单之后'
    )


def remove_item(conn: sqlite3.Connection, code: str, *, reason: str, now: datetime) -> Change:
    """Remove a fee item added by mistake: only while it was never billed and no price of it
    was ever published (otherwise it is ended, keeping its history). Removing an item
    removed already changes nothing."""
    removed = None if store.fee_item_exists(conn, code) else store.removed_item_name(conn, code)
    if removed is not None:
        return Change(code, removed, None, False)
    item = get_item(conn, code)
    published = [p for p in item.prices if p.published_on is not None]
    if published:
        raise PropfeeError(
            f"{item.code} {item.name} 已于 {published[0].published_on} 公示，公示过的收费项目"
            f"不能删除；用 propfee fees end {item.code} --to YYYY-MM-DD 停止收费（历史保留）"
        )
    if store.item_has_bills(conn, item.id):
        raise PropfeeError(
            f"{item.code} {item.name} 已经开过票，不能删除；用 propfee fees end {item.code} "
            "--to YYYY-MM-DD 停止收费（账单保留，之后不再开票）"
        )
    stamp = now.isoformat(sep=" ", timespec="seconds")
    store.insert_fee_item_event(
        conn, (item.id, "remove", item.code, None, reason.strip(), stamp, stamp)
    )
    store.free_item_code(conn, item.id)
    return Change(item.code, item.name, None, True)
