"""The ledger's pure domain: no Flask, SQLAlchemy or pika imported here."""
