"""The contract shared by the ledger and the adapters (SPEC §4).

Pure Python: no Flask, SQLAlchemy or pika here, so an adapter can depend on it without pulling
in the ledger's internals.
"""
