"""The `pointsledger` command line (SPEC §3)."""
