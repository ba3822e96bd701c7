"""Township platform adapters: native feeds in, signed events out (SPEC §10).

Adapters depend on `ledger.contract` (the envelope, signatures, pseudonyms) and on the wire and
storage plumbing of `ledger.infra` (broker topology, pipelined publishing, database engines);
never on the ledger's services, database schema or API.
"""
