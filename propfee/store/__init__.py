"""The database: connection and transactions, migrations, the audit trail, backup and restore."""
