"""The owner roster: units, owners and tenants — read from other systems' files, kept, listed
and exported — and who answers for a unit on a day."""
