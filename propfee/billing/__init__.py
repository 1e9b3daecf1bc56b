"""Billing: fee standards and their publication (明码标价), the bill run, adjustments, bill
balances, meter readings and bill notices."""
