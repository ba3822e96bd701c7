"""The embedded quick start: the four platforms' simulated native records, through their
adapters, into the embedded ledger."""
