"""Rule-set versions, drafts, simulations and decisions for risk officers, and the explanation
of a resident's credit terms for the counter (SPEC §8, §13)."""

from __future__ import annotations

# Each module adds its pages to the blueprint when imported.
from ledger.console.rules import drafts, resident_pages, simulation_pages, version_pages
from ledger.console.rules.blueprint import blp

__all__ = ["blp", "drafts", "resident_pages", "simulation_pages", "version_pages"]
