"""The console's areas, each a blueprint with its own templates and catalog."""

from __future__ import annotations

from flask import Blueprint

from ledger.console import admin, branch, counter, ledger_pages, platform, rules

BLUEPRINTS: tuple[Blueprint, ...] = (counter.blp, branch.blp, rules.blp, ledger_pages.blp,
                                     admin.blp, platform.blp)
