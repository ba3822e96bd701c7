"""Township platform adapters: native feeds in, signed events out (SPEC §10).

A township runs its adapter on its own machine: adapters depend on `ledger.contract` (the
envelope, signatures, pseudonyms, notices) and on the small shared runtime `ledger.runtime`
(broker messages and topology, pipelined publishing, opening a database, retrying), never on
the rest of the ledger. The import contracts in pyproject.toml keep it so.
"""
