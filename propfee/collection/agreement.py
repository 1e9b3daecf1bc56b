"""The printed installment agreement (分期缴费协议, LEGAL rule 5): an A4 page for both parties
to sign — who they are, the unit, the debt the owner acknowledges bill by bill, the schedule of
installments (which sums exactly to that debt), how to pay, and signature and date lines.

Its wording is lawful by construction: no threat of any kind (rule 1), no penalty of its own —
the contract's late-fee clause, if there is one, stays as it is (rule 7) — and it says only
that the company may go to court or arbitration for what stays unpaid (rule 2). Phones and ID
numbers are masked unless the caller asks otherwise (rule 10).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from propfee.collection import plans, store
from propfee.core.errors import NotFound
from propfee.core.i18n import _
from propfee.core.money import chinese_amount
from propfee.core.privacy import mask_id, mask_phones
from propfee.files.render import render
from propfee.files.writers import write_text

SUMMARY_OVER = 12  # more bills than this: a summary by item, every bill in an annex


@dataclass
class Agreement:
    plan_id: int
    unit: str
    party: str
    total_fen: int
    installments: int
    path: Path


def write_agreement(
    conn: sqlite3.Connection,
    plan_id: int,
    out: Path,
    *,
    settings,
    mask: bool = True,
    language: str | None = None,
) -> Agreement:
    """Render plan ``plan_id``'s agreement as A4 HTML into ``out``."""
    facts = store.agreement_facts(conn, plan_id)
    if facts is None:
        raise NotFound(
            _("no installment agreement no. {plan} (propfee plan list lists them all)").format(
                plan=plan_id
            )
        )
    name, phones, id_number, kind, area_x100, signed_on = facts
    # what it covers and owes, read as of the signing
    plan = plans.plan_status(conn, plan_id, as_of=date.fromisoformat(signed_on), settings=settings)
    spans = store.bill_spans(conn, [bill for bill, _, _, _ in plan.bills])
    context = {
        "estate": settings.estate,
        "payment": settings.payment,
        "plan": {
            "id": plan.id,
            "unit": plan.unit,
            "signed_on": plan.signed_on,
            "every": plan.every,
            "total_fen": plan.total_fen,
            "total_words": chinese_amount(plan.total_fen),
            "grace_days": settings.dunning.plan_grace_days,
        },
        "party": {
            "name": name or plan.party,
            "company": kind == "company",
            "phone": (mask_phones(phones) if mask else phones).split("/")[0],
            "id_number": (mask_id(id_number) if mask else id_number),
        },
        "area_x100": area_x100,
        "bills": [
            {
                "item": item,
                "period": period,
                "covers_from": spans.get(bill, ("", ""))[0],
                "covers_to": spans.get(bill, ("", ""))[1],
                "amount_fen": fen,
            }
            for bill, item, period, fen in plan.bills
        ],
        "installments": [
            {"seq": i.seq, "due_on": i.due_on, "amount_fen": i.amount_fen}
            for i in plan.installments
        ],
    }
    # a long debt is summed up by item (every bill in an annex), so the page still holds the
    # schedule and the signatures
    over = SUMMARY_OVER if len(plan.installments) <= SUMMARY_OVER else SUMMARY_OVER // 2
    context["summary"] = _summary(context["bills"]) if len(context["bills"]) > over else []
    name_of_template = f"{language or settings.language}/plan_agreement.html"
    write_text(out, render(settings, name_of_template, context), option="--out")
    return Agreement(plan.id, plan.unit, plan.party, plan.total_fen, len(plan.installments), out)


def _summary(bills: list[dict]) -> list[dict]:
    """The bills by item: first and last day covered, how many periods, what they owe."""
    items: dict[str, dict] = {}
    for bill in bills:
        line = items.setdefault(
            bill["item"],
            {"item": bill["item"], "covers_from": "", "covers_to": "", "periods": 0,
             "amount_fen": 0},
        )  # fmt: skip
        start, end = bill["covers_from"] or bill["period"], bill["covers_to"] or bill["period"]
        line["covers_from"] = min(line["covers_from"] or start, start)
        line["covers_to"] = max(line["covers_to"], end)
        line["periods"] += 1
        line["amount_fen"] += bill["amount_fen"]
    return list(items.values())
