"""Request and response documents of the verifiable logs (SPEC §14): checkpoints, proofs,
platform key histories. Hashes are lowercase hex, as `entry_hash` is."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ledger.api.fields import BoundedInteger, FullMatch
from ledger.api.schemas import UtcDateTime

HEX_HASH_PATTERN = r"[0-9a-f]{64}"


def _hash(description: str, **options: Any) -> fields.String:
    return fields.String(validate=FullMatch(HEX_HASH_PATTERN),
                         metadata={"description": description}, **options)


def _hashes(description: str) -> fields.List[str]:
    return fields.List(_hash("SHA-256, hex"), required=True,
                       metadata={"description": description})


class CheckpointSchema(Schema):
    size = fields.Integer(required=True, metadata={"description": "the tree size signed"})
    root_hash = _hash("the tree's root hash at that size", required=True)
    signed_at = UtcDateTime(required=True)
    note = fields.String(required=True, metadata={
        "description": "the C2SP signed note: the ledger's signature and every witness's "
                       "cosignature gathered"})


class CheckpointPageSchema(Schema):
    items = fields.List(fields.Nested(CheckpointSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class ConsistencyQuerySchema(Schema):
    first = BoundedInteger(required=True, metadata={"description": "the older tree size"})
    second = BoundedInteger(required=True, metadata={
        "description": "the newer tree size: the size of a signed checkpoint"})


class ConsistencyProofSchema(Schema):
    first = fields.Integer(required=True)
    second = fields.Integer(required=True)
    hashes = _hashes("RFC 9162 §2.1.4 consistency proof")


class InclusionQuerySchema(Schema):
    seq = BoundedInteger(minimum=1, required=True, metadata={
        "description": "the entry's seq (its leaf index + 1)"})
    tree_size = BoundedInteger(minimum=1, required=True, metadata={
        "description": "the size of a signed checkpoint"})


class InclusionProofSchema(Schema):
    seq = fields.Integer(required=True)
    leaf_index = fields.Integer(required=True, metadata={"description": "seq − 1"})
    tree_size = fields.Integer(required=True)
    leaf_hash = _hash("SHA-256(0x00 ‖ JCS(entry))", required=True)
    hashes = _hashes("RFC 9162 §2.1.3 inclusion proof, deepest sibling first")


class EventProofSchema(InclusionProofSchema):
    checkpoint = fields.String(required=True, metadata={
        "description": "the latest checkpoint, whose size is tree_size, as published (the "
                       "signed note with every cosignature)"})


class PlatformKeySchema(Schema):
    key_id = fields.String(required=True)
    platform = fields.String(required=True)
    public_key = fields.String(required=True, metadata={"description": "whpk_<base64>"})
    added_at = UtcDateTime(required=True)
    revoked_at = UtcDateTime(required=True, allow_none=True, metadata={
        "description": "retired (or compromised) since: its signatures timestamped before "
                       "count until the grace after it has passed"})
    compromised_at = UtcDateTime(required=True, allow_none=True, metadata={
        "description": "declared compromised since: nothing received after counts"})


class PlatformKeyPageSchema(Schema):
    items = fields.List(fields.Nested(PlatformKeySchema), required=True)
    next = fields.Integer(required=True, allow_none=True)
