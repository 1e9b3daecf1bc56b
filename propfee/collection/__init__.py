"""Arrears and aging, tiered reminders, the contact log, late fees, installment plans, limitation clocks, the legal pack."""
