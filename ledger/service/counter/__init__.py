"""Gifts and redemption at the branch counter (SPEC §9)."""
