"""The verifiable logs' checkpoints and proofs (SPEC §14): the ledger's under /ledger, the audit
trail's under /audit (beside its listing, GET /audit), the same routes over each log.

Checkpoints and consistency proofs are public: a township or a regulator holds the ledger to
its history without an account at the bank. An inclusion proof names an entry, so it is read by
those who may read entries (a platform's operator: its own platform's events).
"""

from __future__ import annotations

from typing import Any

from flask import Response

from ledger.api.access import current_principal, public, roles
from ledger.api.blueprint import Blueprint
from ledger.api.log_schemas import (
    CheckpointPageSchema,
    ConsistencyProofSchema,
    ConsistencyQuerySchema,
    InclusionProofSchema,
    InclusionQuerySchema,
)
from ledger.api.pagination import PageQuerySchema, PageRequest
from ledger.app_context import current_ledger
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service.access import platform_scope
from ledger.service.entry_proofs import scoped_inclusion
from ledger.service.proofs import InclusionProof, consistency
from ledger.service.published_checkpoints import (
    PublishedCheckpoint,
    latest_published,
    published_page,
)

# tlog-tiles: the checkpoint is mutable, so no cache should keep it beyond a few seconds.
CHECKPOINT_CACHE_CONTROL = "public, max-age=5"
SIGNED_NOTE_DOCUMENTATION: dict[str, Any] = {"responses": {"200": {
    "description": "the C2SP signed note (tlog-checkpoint), cosignatures included",
    "content": {"text/plain": {"schema": {"type": "string"}}}}}}


def checkpoint_response(log: str) -> Response:
    """The log's latest checkpoint as published, as text/plain; a 404 problem before the
    first is signed."""
    with current_ledger().sessions() as session:
        latest = latest_published(session, log)
    return Response(latest.note, mimetype="text/plain",
                    headers={"Cache-Control": CHECKPOINT_CACHE_CONTROL})


def checkpoint_document(checkpoint: PublishedCheckpoint) -> dict[str, Any]:
    return {"size": checkpoint.size, "root_hash": checkpoint.root.hex(),
            "signed_at": checkpoint.signed_at, "note": checkpoint.note}


def inclusion_document(proof: InclusionProof) -> dict[str, Any]:
    return {"seq": proof.seq, "leaf_index": proof.leaf_index, "tree_size": proof.tree_size,
            "leaf_hash": proof.leaf_hash.hex(), "hashes": [hash_.hex() for hash_ in proof.hashes]}


def log_blueprint(log: str, name: str, path: str, description: str,
                  inclusion_readers: tuple[str, ...]) -> Blueprint:
    """The routes of one log under `path`."""
    blp = Blueprint(name, __name__, description=description)

    @blp.route(f"{path}/checkpoint")
    @public
    @blp.response(200)
    @blp.doc(**SIGNED_NOTE_DOCUMENTATION)
    @blp.alt_response(404, response="NOT_FOUND")
    def checkpoint() -> Response:
        """The latest checkpoint: the signed note with every cosignature gathered"""
        return checkpoint_response(log)

    @blp.route(f"{path}/checkpoints")
    @public
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, CheckpointPageSchema)
    def checkpoints(query: dict[str, Any]) -> dict[str, Any]:
        """Every checkpoint larger than `after` (a tree size), smallest first; `next` is the
        last size of the page"""
        with current_ledger().sessions() as session:
            found = published_page(session, log, PageRequest.of(query).keyset)
        return {"items": [checkpoint_document(item) for item in found.items],
                "next": found.next}

    @blp.route(f"{path}/proofs/consistency")
    @public
    @blp.arguments(ConsistencyQuerySchema, location="query")
    @blp.response(200, ConsistencyProofSchema)
    def consistency_proof(query: dict[str, Any]) -> dict[str, Any]:
        """RFC 9162 §2.1.4 proof that the tree of `first` leaves is a prefix of the tree of
        `second` leaves; `second` must be the size of a signed checkpoint"""
        first, second = query["first"], query["second"]
        with current_ledger().sessions() as session:
            hashes = consistency(session, log, first, second)
        return {"first": first, "second": second, "hashes": [hash_.hex() for hash_ in hashes]}

    @blp.route(f"{path}/proofs/inclusion")
    @roles(*inclusion_readers)
    @blp.arguments(InclusionQuerySchema, location="query")
    @blp.response(200, InclusionProofSchema)
    def inclusion_proof(query: dict[str, Any]) -> dict[str, Any]:
        """RFC 9162 §2.1.3 proof that entry `seq` is in the tree of `tree_size` leaves, the
        size of a signed checkpoint (a platform operator: its own platform's events only)"""
        scope = platform_scope(current_principal())
        with current_ledger().sessions() as session:
            proof = scoped_inclusion(session, log, query["seq"], query["tree_size"], scope)
        return inclusion_document(proof)

    return blp


ledger_blp = log_blueprint(
    LEDGER_LOG, "ledger_log", "/ledger",
    "The ledger as a verifiable log: its signed checkpoints and proofs (SPEC §14)",
    ("admin", "auditor", "platform_operator"))
audit_blp = log_blueprint(
    AUDIT_LOG, "audit_log", "/audit",
    "The audit trail as a verifiable log (origin `<origin>/audit`): checkpoints and proofs",
    ("admin", "auditor"))
