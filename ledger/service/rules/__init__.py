"""Rules: from contribution to credit terms (SPEC §8)."""
