"""The shape of an approval record (LEGAL rules 8 and 11): who approved, and a reference a
reader can find again — at least four characters holding a digit (``业委会决议2026-03``,
``OA-20261104``), or a Chinese document number (``业委发〔二〇二六〕三号``). ``x``, ``ok`` or
``同意`` are not references."""

from __future__ import annotations

import re

from propfee.core.i18n import N_
from propfee.core.said import Said

DOCUMENT_NUMBER = re.compile(
    r"[〔\[【（(]\s*[〇零一二三四五六七八九\d０-９]{4}\s*[〕\]】）)]\s*"
    r"[〇零一二三四五六七八九十百千\d０-９]+\s*号"
)
REFERENCE_RULE = Said(
    N_(
        "at least 4 characters holding a digit (e.g. 业委会决议2026-03), or a document number "
        "(e.g. 业委发〔2026〕3号)"
    )
)
APPROVER_RULE = Said(
    N_("name the approver or their post (at least 2 characters, e.g. 王经理, 业委会)")
)


def reference_ok(text: str) -> bool:
    """Whether ``text`` has the shape of an approval reference."""
    value = text.strip()
    if DOCUMENT_NUMBER.search(value):
        return True
    return len(value) >= 4 and any(c.isdigit() for c in value)


def approver_ok(text: str) -> bool:
    """Whether ``text`` names someone: two or more characters, at least one a letter."""
    value = text.strip()
    return len(value) >= 2 and any(c.isalpha() for c in value)
