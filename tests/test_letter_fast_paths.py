"""A reminder run's quicker ways of making a letter agree with the plain ones they replaced:
the fee basis, made once for each set of items and periods, and rule 2's check of one
letter's basis and court sentences (LEGAL rule 2)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from propfee.collection import dunning
from propfee.collection.arrears import OverdueBill, OverdueRow
from propfee.core import lawful


def plain_fee_basis(party: dunning.PartyDue, prices: dict) -> dict:
    """The fee basis as each letter made it before."""
    items, carried = [], False
    for name in sorted({b.item for row in party.rows for b in row.bills}):
        spans = [
            (b.covers_from, b.covers_to)
            for row in party.rows
            for b in row.bills
            if b.item == name and not b.basis.startswith("期初")
        ]
        carried = carried or any(
            b.basis.startswith("期初") for row in party.rows for b in row.bills if b.item == name
        )
        for since, until, price, published in prices.get(name, ()):
            if any(frm <= until and to >= since for frm, to in spans):
                items.append(
                    {"name": name, "price": price, "since": since, "published_on": published}
                )
    names = sorted({b.item for row in party.rows for b in row.bills})
    return {
        "published_on": max((i["published_on"] for i in items), default=""),
        "item_names": names,
        "items": items,
        "carried_over": carried,
    }


MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
PRICES = {
    "物业服务费": [
        ("2025-01-01", "2026-05-31", "2.20元/㎡·月", "2024-12-01"),
        ("2026-06-01", "9999-12-31", "2.50元/㎡·月", "2026-04-20"),
    ],
    "停车服务费": [("2024-01-01", "9999-12-31", "80.00元/个·月", "2023-12-01")],
}
BILL = st.tuples(
    st.sampled_from(["物业服务费", "停车服务费", "装修垃圾清运费"]),
    st.sampled_from(MONTHS),
    st.sampled_from(["89.37㎡ × 2.50元/㎡·月", "期初欠费（原系统结转）", ""]),
)
PARTIES = st.lists(st.lists(BILL, min_size=1, max_size=6), min_size=1, max_size=3)


def party_of(units: list[list[tuple]]) -> dunning.PartyDue:
    rows = []
    for number, bills in enumerate(units):
        made = [
            OverdueBill(
                f"{month}-15", index, month, 30, item, f"{month}-01", f"{month}-28", basis, 100
            )
            for index, (item, month, basis) in enumerate(bills)
        ]
        row = OverdueRow(number, f"1-{101 + number}", "1", "residential", 7, "张三", "person",
                         "", False, made)  # fmt: skip
        rows.append(row)
    return dunning.PartyDue("notice", rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(PARTIES, min_size=1, max_size=8))
def test_the_fee_basis_made_once_is_each_letters_own(parties):
    cache = {"prices": PRICES}
    for units in parties:
        party = party_of(units)
        assert dunning._fee_basis(None, party, None, cache) == plain_fee_basis(party, PRICES)


WORDS = st.sampled_from(
    ["合同", "收费标准", "明码标价", "诉讼", "起诉", "仲裁", "Contract", "FEE STANDARD", "Court",
     "arbitration", "lawsuit", "legal action", "。", "！", "？", "!", "?", "\n", "请缴费", " ",
     "İ", "ǅ", "物业服务"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(WORDS, max_size=30).map("".join))
@example("依据物业服务合同。逾期将依法起诉")
@example("Under the CONTRACT; we may go to Court")
def test_one_letters_basis_and_court_sentences_read_as_before(text):
    basis, suit = lawful._sentences(text.lower())
    assert lawful._stated(text, None) == (basis >= 1, suit >= 1)
    assert lawful._stated(text, text.lower()) == (basis >= 1, suit >= 1)


def general_context(party: dunning.PartyDue) -> dict:
    """PartyDue.context's figures as any number of rows gives them (the one-row path must
    give the same)."""
    rows = party.rows
    units = party.units
    return {
        "unit": units,
        "units": units.split("、"),
        "payer": rows[0].payer,
        "business": any(r.business for r in rows),
        "history": party.history,
        "late_periods": max(r.late_periods for r in rows),
        "outstanding_fen": sum(r.outstanding_fen for r in rows),
        "oldest_due": min(r.oldest_due for r in rows),
        "days": max(r.days_overdue for r in rows),
        "tier": party.tier,
        "reason": party.reason,
        "follow_up": any(r.follow_up for r in rows),
        "delivered_on": max((r.delivered_on or "" for r in rows), default=""),
    }


@settings(max_examples=200, deadline=None)
@given(
    st.lists(BILL, min_size=1, max_size=40),
    st.sampled_from(["person", "company"]),
    st.sampled_from(["none", "good", "occasional", "chronic"]),
    st.sampled_from(["", "忘记了", "对金额有异议"]),
    st.sampled_from([None, "2026-10-03"]),
    st.booleans(),
    st.integers(0, 40),
)
def test_a_one_unit_partys_letter_says_what_any_party_would(
    bills, kind, history, reason, delivered, follow_up, late
):
    party = party_of([bills])
    row = party.rows[0]
    row.party_kind, row.history, row.reason, row.delivered_on = kind, history, reason, delivered
    row.follow_up, row.late_periods = follow_up, late
    row.outstanding_fen, row.oldest_due, row.days_overdue = 100 * len(bills), "2026-01-15", 300
    context = party.context(letter=True)
    assert {k: context[k] for k in general_context(party)} == general_context(party)
    # the letter's rows: back-to-back periods of a unit, item and amount merged as before
    plain = [
        (b["item"], b["covers_from"], b["covers_to"], b["periods"], b["owed_fen"])
        for b in context["lines"]
    ]
    assert sum(periods for *_rest, periods, _fen in plain) == len(bills)
    assert sum(fen for *_rest, fen in plain) == 100 * len(bills)


def test_back_to_back_periods_merge_across_month_and_year_ends():
    import calendar

    def bill(year: int, month: int, fen: int = 100) -> dict:
        last = calendar.monthrange(year, month)[1]
        start, end = f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}"
        return {"unit": "1-101", "item": "物业服务费", "covers_from": start, "covers_to": end,
                "due_on": f"{year}-{month:02d}-15", "owed_fen": fen, "each_fen": fen,
                "basis": "", "periods": 1, "last_due": f"{year}-{month:02d}-15"}  # fmt: skip

    months = [(2023 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(11, 32)]  # 2023-11…
    bills = [bill(y, m) for y, m in months if (y, m) != (2024, 6)]  # June 2024 paid
    lines = dunning.letter_lines(bills)
    assert [(b["covers_from"], b["covers_to"], b["periods"]) for b in lines] == [
        ("2023-11-01", "2024-05-31", 7),  # across the year end and 29 February
        ("2024-07-01", "2025-07-31", 13),
    ]
