"""Helpers for rule tests: officers, a ledger with platforms, approved versions."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ledger.bootstrap import Ledger
from ledger.service.rules import lifecycle, simulations
from ledger.service.rules.lifecycle import Actor
from tests.rules.test_ruleset_document import SPEC_EXAMPLE
from tests.support import PlatformFixture, register_platform

AUTHOR = Actor("risk-li", "risk_officer")
APPROVER = Actor("risk-wang", "risk_officer")
TELLER = Actor("teller-zhao", "teller")


def spec_document(**changes: Any) -> dict[str, Any]:
    """The SPEC §8 example with top-level fields replaced."""
    document = copy.deepcopy(SPEC_EXAMPLE)
    document.update(changes)
    return document


def platforms(ledger: Ledger) -> dict[str, PlatformFixture]:
    """The two platforms the SPEC example weighs, and one it does not (weight 0)."""
    return {code: register_platform(ledger.sessions, code)
            for code in ("lijiayuan", "nanyang_young", "wuhe_zhonglian")}


def now() -> datetime:
    return datetime.now(UTC)


def draft(ledger: Ledger, document: dict[str, Any], author: Actor = AUTHOR,
          comment: str = "proposal") -> int:
    with ledger.sessions.begin() as session:
        return lifecycle.draft(session, author, document, comment, now())


def submit(ledger: Ledger, version: int, author: Actor = AUTHOR) -> None:
    with ledger.sessions.begin() as session:
        lifecycle.submit(session, author, version, "ready for review", now())


def simulate(ledger: Ledger, version: int, actor: Actor = APPROVER) -> dict[str, Any]:
    return simulations.simulate(ledger.sessions, actor, version, now())


def approve(ledger: Ledger, version: int, approver: Actor = APPROVER,
            effective_from: datetime | None = None) -> None:
    with ledger.sessions.begin() as session:
        lifecycle.approve(session, approver, version, "impact reviewed", now(), effective_from)


def activate(ledger: Ledger, document: dict[str, Any]) -> int:
    """Draft, submit, simulate and approve: the version is active now."""
    version = draft(ledger, document)
    submit(ledger, version)
    simulate(ledger, version)
    approve(ledger, version)
    return version
