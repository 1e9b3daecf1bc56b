"""Money received: payments, allocation, credit, receipts, reversals, reconciliation of payment files."""
