"""The witness a township or the regulator runs (SPEC §14, C2SP tlog-witness): it cosigns a
log's checkpoint only when the log's key signed it and it extends, by a consistency proof, the
last checkpoint it cosigned of that log, so a log cannot show two histories to those who check
cosignatures. It runs on the witness's own machine on `ledger.contract` and `ledger.runtime`
alone (the import contracts in pyproject.toml keep it so)."""
