"""Billing: fee standards and their publication (明码标价), the bill run, adjustments, bill
balances, meter readings and bill notices."""

from propfee.billing.bills import (
    ADJUSTMENT_KINDS,
    BillRunReport,
    adjust,
    all_billed,
    created_bills,
    months_to_bill,
    rebill,
    rebill_after_edit,
    rebill_after_import,
    run_bills,
)

__all__ = [
    "ADJUSTMENT_KINDS",
    "BillRunReport",
    "adjust",
    "all_billed",
    "created_bills",
    "months_to_bill",
    "rebill",
    "rebill_after_edit",
    "rebill_after_import",
    "run_bills",
]
