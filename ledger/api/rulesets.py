"""Rule sets: drafting, four-eyes approval, diffs and simulations (SPEC §8).

Risk officers write; auditors read. Every step is in the audit trail (`GET /audit`).
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from ledger.api.access import current_principal, roles
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageQuerySchema, PageRequest
from ledger.api.rule_schemas import (
    ApprovalSchema,
    DiffQuerySchema,
    DiffSchema,
    DraftSchema,
    SimulationListSchema,
    SimulationSchema,
    StepSchema,
    VersionPageSchema,
    VersionSchema,
)
from ledger.app_context import current_ledger
from ledger.service.rules import documents, lifecycle, simulations
from ledger.service.rules.lifecycle import Actor

blp = Blueprint("rulesets", __name__, description="Rule sets: contribution to credit terms")

READERS = ("risk_officer", "auditor")
WRITERS = ("risk_officer",)


def _actor() -> Actor:
    principal = current_principal()
    return Actor(principal.username, principal.role)


def _version_response(version: int, status: int) -> Response:
    ledger = current_ledger()
    with ledger.sessions() as session:
        document = documents.show_version(session, version, ledger.clock())
    response = jsonify(VersionSchema().dump(document))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("rulesets.show", version=version)
    return response


@blp.route("/rulesets", methods=["POST"])
@roles(*WRITERS)
@blp.arguments(DraftSchema)
@blp.response(201, VersionSchema)
def draft(body: dict[str, Any]) -> Response:
    """Draft a new version (a new version replaces a draft; documents never change)"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        version = lifecycle.draft(session, _actor(), body["document"], body["comment"],
                                  ledger.clock(), replaces=body.get("replaces"))
    return _version_response(version, 201)


@blp.route("/rulesets")
@roles(*READERS)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, VersionPageSchema)
def list_versions(query: dict[str, Any]) -> dict[str, Any]:
    """Every version in version order, with its status; `next` is the last version of the page"""
    asked = PageRequest.of(query)
    ledger = current_ledger()
    with ledger.sessions() as session:
        items, following = documents.list_versions(session, ledger.clock(), asked.after,
                                                   asked.limit)
    return {"items": items, "next": following}


@blp.route("/rulesets/active")
@roles(*READERS)
@blp.response(200, VersionSchema)
def show_active() -> dict[str, Any]:
    """The version in force now (404 when none is)"""
    ledger = current_ledger()
    with ledger.sessions() as session:
        return documents.show_active(session, ledger.clock())


@blp.route("/rulesets/<int:version>")
@roles(*READERS)
@blp.response(200, VersionSchema)
def show(version: int) -> dict[str, Any]:
    """One version: its document, status and history"""
    ledger = current_ledger()
    with ledger.sessions() as session:
        return documents.show_version(session, version, ledger.clock())


@blp.route("/rulesets/<int:version>/submit", methods=["POST"])
@roles(*WRITERS)
@blp.arguments(StepSchema)
@blp.response(200, VersionSchema)
def submit(body: dict[str, Any], version: int) -> Response:
    """Submit your draft for approval"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        lifecycle.submit(session, _actor(), version, body["comment"], ledger.clock())
    return _version_response(version, 200)


@blp.route("/rulesets/<int:version>/approve", methods=["POST"])
@roles(*WRITERS)
@blp.arguments(ApprovalSchema)
@blp.response(200, VersionSchema)
def approve(body: dict[str, Any], version: int) -> Response:
    """Approve a submitted version: not its author, and only after a simulation of it against
    the active version"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        lifecycle.approve(session, _actor(), version, body["comment"], ledger.clock(),
                          body.get("effective_from"))
    return _version_response(version, 200)


@blp.route("/rulesets/<int:version>/reject", methods=["POST"])
@roles(*WRITERS)
@blp.arguments(StepSchema)
@blp.response(200, VersionSchema)
def reject(body: dict[str, Any], version: int) -> Response:
    """Reject a draft or a submitted version"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        lifecycle.reject(session, _actor(), version, body["comment"], ledger.clock())
    return _version_response(version, 200)


@blp.route("/rulesets/<int:version>/diff")
@roles(*READERS)
@blp.arguments(DiffQuerySchema, location="query")
@blp.response(200, DiffSchema)
def diff(query: dict[str, Any], version: int) -> dict[str, Any]:
    """What changes from version `against` to this one, path by path"""
    ledger = current_ledger()
    with ledger.sessions() as session:
        return documents.diff_versions(session, version, query["against"], ledger.clock())


@blp.route("/rulesets/<int:version>/simulations", methods=["POST"])
@roles(*WRITERS)
@blp.response(201, SimulationSchema)
def simulate(version: int) -> Response:
    """Simulate this version against the active one over every resident, as of now"""
    ledger = current_ledger()
    document = simulations.simulate(ledger.sessions, _actor(), version, ledger.clock())
    response = jsonify(SimulationSchema().dump(document))
    response.status_code = 201
    response.headers["Location"] = url_for("rulesets.show_simulation", version=version,
                                           simulation_id=document["id"])
    return response


@blp.route("/rulesets/<int:version>/simulations")
@roles(*READERS)
@blp.response(200, SimulationListSchema)
def list_simulations(version: int) -> dict[str, Any]:
    """This version's simulations, oldest first"""
    ledger = current_ledger()
    with ledger.sessions() as session:
        documents.show_version(session, version, ledger.clock())  # 404 for an unknown version
        return {"items": simulations.simulations_of(session, version)}


@blp.route("/rulesets/<int:version>/simulations/<int:simulation_id>")
@roles(*READERS)
@blp.response(200, SimulationSchema)
def show_simulation(version: int, simulation_id: int) -> dict[str, Any]:
    """One simulation, as it was recorded"""
    with current_ledger().sessions() as session:
        return simulations.simulation_of(session, version, simulation_id)
