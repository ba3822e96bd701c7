"""Township platform adapters: native feeds in, signed events out (SPEC §10).

Adapters depend only on `ledger.contract`, never on the ledger's internals.
"""
