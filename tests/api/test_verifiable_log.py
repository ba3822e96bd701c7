"""SPEC §14 over HTTP: each log's checkpoints and proofs, the inclusion proof of a platform's
event, and the platforms' key histories. Every answer is checked as an outside auditor checks
it, with ledger.contract and the log's verifier key alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.checkpoint import open_checkpoint
from ledger.contract.cosignature import CosignatureSigner, CosignatureVerifier
from ledger.contract.merkle import root_from_leaf_hashes, verify_consistency, verify_inclusion
from ledger.contract.note_keys import Verifier
from ledger.contract.webhook import encode_public_key, public_key_bytes
from ledger.infra.db.models import CheckpointRow, Witness
from ledger.service.witnesses import add_witness, record_cosignature
from tests.api.log_support import (
    API,
    leaf_hashes,
    opened,
    record,
    sign_checkpoints,
    vkey,
)
from tests.api.support import Tokens, bearer, create_tokens
from tests.api.test_problems import assert_problem
from tests.support import PlatformFixture, register_platform


@pytest.fixture
def tokens(ledger: Ledger, platform: PlatformFixture) -> Tokens:
    return create_tokens(ledger.sessions, operated_platform=platform.code)


@pytest.fixture
def neighbour(ledger: Ledger, platform: PlatformFixture) -> PlatformFixture:
    return register_platform(ledger.sessions, "nanyang_young", "南阳young", "南阳街道")


def as_(tokens: Tokens, role: str) -> dict[str, str]:
    return bearer(tokens.by_role[role])


def test_the_latest_checkpoint_is_the_signed_note_with_every_cosignature(
        client: FlaskClient, ledger: Ledger, platform: PlatformFixture) -> None:
    assert_problem(client.get(f"{API}/ledger/checkpoint"), 404, "no_checkpoint")
    record(ledger, platform, 3)
    sign_checkpoints(ledger)

    response = client.get(f"{API}/ledger/checkpoint")  # no token: public

    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=5"
    checkpoint = opened(ledger, response.get_data(as_text=True))
    assert checkpoint.size == 3

    witness = CosignatureSigner("witness.township.example", Ed25519PrivateKey.generate())
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        add_witness(session, "admin", "township", "https://w.example", witness.vkey(), now)
        row = session.query(CheckpointRow).filter_by(log="ledger", size=3).one()
        record_cosignature(session, row, session.get_one(Witness, "township"),
                           witness.cosign(checkpoint.text(), int(now.timestamp())), now, now)
    published = client.get(f"{API}/ledger/checkpoint").get_data(as_text=True)
    _, note = open_checkpoint(published, ledger.settings.log_origin,
                              Verifier.from_vkey(vkey(ledger)),
                              [CosignatureVerifier.from_vkey(witness.vkey())])
    assert {signature.name for signature in note.signatures} == {
        ledger.settings.log_origin, "witness.township.example"}


def test_checkpoints_are_listed_smallest_first_from_a_size(
        client: FlaskClient, ledger: Ledger, platform: PlatformFixture) -> None:
    for count in (2, 1, 2):
        record(ledger, platform, count)
        sign_checkpoints(ledger)

    first = client.get(f"{API}/ledger/checkpoints", query_string={"limit": 2})
    rest = client.get(f"{API}/ledger/checkpoints", query_string={"after": first.json["next"]})

    assert first.status_code == rest.status_code == 200
    assert [item["size"] for item in first.json["items"]] == [2, 3]
    assert first.json["next"] == 3
    assert [item["size"] for item in rest.json["items"]] == [5]
    assert rest.json["next"] is None
    for item in first.json["items"] + rest.json["items"]:
        checkpoint = opened(ledger, item["note"])
        assert (checkpoint.size, checkpoint.root_hash.hex()) == (item["size"], item["root_hash"])
        assert datetime.fromisoformat(item["signed_at"]).tzinfo == UTC
        assert item["signed_at"].endswith("Z")
    # The audit trail's checkpoints are its own.
    assert client.get(f"{API}/audit/checkpoints").json == {"items": [], "next": None}


@pytest.mark.parametrize(("query", "named"), [
    ({"limit": 1001}, "limit"), ({"limit": 0}, "limit"), ({"after": -1}, "after"),
    ({"after": "x"}, "after"),
])
def test_a_bad_page_of_checkpoints_is_refused_naming_the_parameter(
        client: FlaskClient, query: dict[str, object], named: str) -> None:
    problem = assert_problem(client.get(f"{API}/ledger/checkpoints", query_string=query), 422,
                             "invalid_input")
    assert set(problem["errors"]) == {named}


def test_consistency_proofs_verify_between_signed_roots(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    record(ledger, platform, 3)
    sign_checkpoints(ledger)
    record(ledger, platform, 4)
    sign_checkpoints(ledger)
    leaves = leaf_hashes(client, as_(tokens, "auditor"))
    roots = {item["size"]: bytes.fromhex(item["root_hash"])
             for item in client.get(f"{API}/ledger/checkpoints").json["items"]}
    assert roots == {3: root_from_leaf_hashes(leaves[:3]), 7: root_from_leaf_hashes(leaves)}

    for first in range(8):  # any older size: a client may hold one from elsewhere
        response = client.get(f"{API}/ledger/proofs/consistency",
                              query_string={"first": first, "second": 7})
        assert response.status_code == 200
        assert (response.json["first"], response.json["second"]) == (first, 7)
        verify_consistency(first, 7, root_from_leaf_hashes(leaves[:first]), roots[7],
                           [bytes.fromhex(hash_) for hash_ in response.json["hashes"]])


@pytest.mark.parametrize(("query", "named", "code"), [
    ({"first": 3, "second": 5}, "second", "not_a_checkpoint_size"),
    ({"first": 8, "second": 7}, "first", "bad_range"),
    ({"first": 3}, "second", "invalid_input"),
    ({"first": -1, "second": 7}, "first", "invalid_input"),
    ({"first": 3, "second": 2**63}, "second", "invalid_input"),
])
def test_a_consistency_proof_to_an_unsigned_size_is_refused_naming_the_parameter(
        client: FlaskClient, ledger: Ledger, platform: PlatformFixture,
        query: dict[str, int], named: str, code: str) -> None:
    record(ledger, platform, 7)
    sign_checkpoints(ledger)
    problem = assert_problem(client.get(f"{API}/ledger/proofs/consistency", query_string=query),
                             422, code)
    assert set(problem["errors"]) == {named}


def test_inclusion_proofs_verify_against_the_checkpoints_root(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    record(ledger, platform, 5)
    sign_checkpoints(ledger)
    leaves = leaf_hashes(client, as_(tokens, "auditor"))
    root = opened(ledger, client.get(f"{API}/ledger/checkpoint").get_data(as_text=True)
                  ).root_hash

    for seq in range(1, 6):
        response = client.get(f"{API}/ledger/proofs/inclusion",
                              query_string={"seq": seq, "tree_size": 5},
                              headers=as_(tokens, "auditor"))
        assert response.status_code == 200
        proof = response.json
        assert (proof["seq"], proof["leaf_index"], proof["tree_size"]) == (seq, seq - 1, 5)
        assert bytes.fromhex(proof["leaf_hash"]) == leaves[seq - 1]
        verify_inclusion(seq - 1, 5, leaves[seq - 1],
                         [bytes.fromhex(hash_) for hash_ in proof["hashes"]], root)


@pytest.mark.parametrize(("query", "named", "code"), [
    ({"seq": 1, "tree_size": 4}, "tree_size", "not_a_checkpoint_size"),
    ({"seq": 6, "tree_size": 5}, "seq", "bad_range"),
    ({"seq": 0, "tree_size": 5}, "seq", "invalid_input"),
    ({"seq": 1}, "tree_size", "invalid_input"),
])
def test_an_inclusion_proof_outside_a_signed_tree_is_refused_naming_the_parameter(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        query: dict[str, int], named: str, code: str) -> None:
    record(ledger, platform, 5)
    sign_checkpoints(ledger)
    response = client.get(f"{API}/ledger/proofs/inclusion", query_string=query,
                          headers=as_(tokens, "admin"))
    assert set(assert_problem(response, 422, code)["errors"]) == {named}


def test_inclusion_proofs_need_a_reader_and_an_operator_reads_its_own_events_only(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        neighbour: PlatformFixture) -> None:
    record(ledger, platform, 1)
    record(ledger, neighbour, 1)
    sign_checkpoints(ledger)
    url = f"{API}/ledger/proofs/inclusion"

    assert_problem(client.get(url, query_string={"seq": 1, "tree_size": 2}), 401,
                   "unauthorized")
    assert_problem(client.get(url, query_string={"seq": 1, "tree_size": 2},
                              headers=as_(tokens, "teller")), 403, "forbidden")
    own = client.get(url, query_string={"seq": 1, "tree_size": 2},
                     headers=as_(tokens, "platform_operator"))
    assert own.status_code == 200
    assert_problem(client.get(url, query_string={"seq": 2, "tree_size": 2},
                              headers=as_(tokens, "platform_operator")), 403, "wrong_platform")
    # An entry that does not exist is not told apart from another platform's.
    assert_problem(client.get(url, query_string={"seq": 3, "tree_size": 2},
                              headers=as_(tokens, "platform_operator")), 403, "wrong_platform")
    assert_problem(client.get(f"{API}/audit/proofs/inclusion",
                              query_string={"seq": 1, "tree_size": 1},
                              headers=as_(tokens, "platform_operator")), 403, "forbidden")


def test_a_recorded_events_proof_comes_with_the_latest_checkpoint(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    record(ledger, platform, 2)
    url = f"{API}/platforms/{platform.code}/events/{platform.code}-2/proof"
    waiting = assert_problem(client.get(url, headers=as_(tokens, "auditor")), 404,
                             "not_yet_checkpointed")
    assert "recorded but no signed checkpoint includes it yet" in waiting["detail"]
    sign_checkpoints(ledger)
    record(ledger, platform, 1)  # not in the latest checkpoint: the proof is in size 2

    for role in ("auditor", "admin", "platform_operator"):
        response = client.get(url, headers=as_(tokens, role))
        assert response.status_code == 200, role
    proof = response.json
    checkpoint = opened(ledger, proof["checkpoint"])
    assert (proof["seq"], proof["leaf_index"], proof["tree_size"]) == (2, 1, checkpoint.size)
    leaf = leaf_hashes(client, as_(tokens, "auditor"))[1]
    assert bytes.fromhex(proof["leaf_hash"]) == leaf
    verify_inclusion(1, 2, leaf, [bytes.fromhex(hash_) for hash_ in proof["hashes"]],
                     checkpoint.root_hash)


def test_an_event_not_recorded_has_no_proof(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        neighbour: PlatformFixture) -> None:
    record(ledger, platform, 1)
    refused = ledger.ingestor.ingest([platform.delivery(points=0)])  # schema_invalid
    assert refused[0].status.value == "rejected"
    record(ledger, neighbour, 1)
    sign_checkpoints(ledger)
    auditor = as_(tokens, "auditor")
    base = f"{API}/platforms/{platform.code}/events"

    assert_problem(client.get(f"{base}/{platform.code}-2/proof", headers=auditor), 404,
                   "not_found")  # rejected
    assert_problem(client.get(f"{base}/nothing/proof", headers=auditor), 404, "not_found")
    assert_problem(client.get(f"{base}/{platform.code}-1/proof"), 401, "unauthorized")
    other = f"{API}/platforms/{neighbour.code}/events/{neighbour.code}-1/proof"
    assert_problem(client.get(other, headers=as_(tokens, "platform_operator")), 403,
                   "wrong_platform")


def test_the_audit_trail_is_a_log_of_its_own(
        client: FlaskClient, ledger: Ledger, tokens: Tokens) -> None:
    admin = as_(tokens, "admin")
    for code in ("guali01", "guali02", "guali03"):
        assert client.post(f"{API}/branches", json={"code": code, "name": "瓜沥支行"},
                           headers=admin).status_code == 201
    sign_checkpoints(ledger)
    leaves = leaf_hashes(client, as_(tokens, "auditor"), log="audit")
    assert len(leaves) == 3

    note = client.get(f"{API}/audit/checkpoint").get_data(as_text=True)
    checkpoint = opened(ledger, note, log="audit")
    assert checkpoint.origin == ledger.settings.log_origin + "/audit"
    assert (checkpoint.size, checkpoint.root_hash) == (3, root_from_leaf_hashes(leaves))
    # The ledger's own log has no entry, so no checkpoint either.
    assert_problem(client.get(f"{API}/ledger/checkpoint"), 404, "no_checkpoint")

    for seq in (1, 2, 3):
        proof = client.get(f"{API}/audit/proofs/inclusion",
                           query_string={"seq": seq, "tree_size": 3}, headers=admin).json
        verify_inclusion(seq - 1, 3, leaves[seq - 1],
                         [bytes.fromhex(hash_) for hash_ in proof["hashes"]],
                         checkpoint.root_hash)
    consistency = client.get(f"{API}/audit/proofs/consistency",
                             query_string={"first": 2, "second": 3}).json
    verify_consistency(2, 3, root_from_leaf_hashes(leaves[:2]), checkpoint.root_hash,
                       [bytes.fromhex(hash_) for hash_ in consistency["hashes"]])
    assert [item["size"] for item in client.get(f"{API}/audit/checkpoints").json["items"]] == [3]
    # The trail's own listing is where it was.
    assert len(client.get(f"{API}/audit", headers=admin).json["items"]) == 3


def test_a_platforms_key_history_shows_when_each_key_was_retired_or_compromised(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    admin = as_(tokens, "admin")
    new_keys = [encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
                for _ in range(2)]
    added = [client.post(f"{API}/platforms/{platform.code}/keys", json={"public_key": key},
                         headers=admin).json for key in new_keys]
    retired = client.post(f"{API}/keys/{platform.key_id}/revoke", json={}, headers=admin).json
    compromised = client.post(f"{API}/keys/{added[0]['key_id']}/revoke",
                              json={"compromised": True}, headers=admin).json

    response = client.get(f"{API}/platforms/{platform.code}/keys",
                          headers=as_(tokens, "auditor"))

    assert response.status_code == 200 and response.json["next"] is None
    history = {item["key_id"]: item for item in response.json["items"]}
    assert list(history) == [platform.key_id, added[0]["key_id"], added[1]["key_id"]]
    first = history[platform.key_id]
    assert first["public_key"] == encode_public_key(public_key_bytes(platform.private_key))
    assert (first["revoked_at"], first["compromised_at"]) == (retired["revoked_at"], None)
    leaked = history[added[0]["key_id"]]
    assert leaked["public_key"] == new_keys[0]
    assert leaked["compromised_at"] == compromised["compromised_at"] is not None
    assert leaked["revoked_at"] == compromised["revoked_at"] is not None
    current = history[added[1]["key_id"]]
    assert (current["revoked_at"], current["compromised_at"]) == (None, None)
    for item in history.values():
        assert item["platform"] == platform.code
        assert datetime.fromisoformat(item["added_at"]) <= datetime.now(UTC)
    assert first["added_at"] <= current["added_at"]


def test_key_histories_are_for_readers_of_that_platform(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture,
        neighbour: PlatformFixture) -> None:
    url = f"{API}/platforms/{{}}/keys"
    assert client.get(url.format(platform.code), headers=as_(tokens, "admin")).status_code == 200
    own = client.get(url.format(platform.code), headers=as_(tokens, "platform_operator"))
    assert [item["key_id"] for item in own.json["items"]] == [platform.key_id]
    assert_problem(client.get(url.format(neighbour.code),
                              headers=as_(tokens, "platform_operator")), 403, "wrong_platform")
    assert_problem(client.get(url.format(platform.code)), 401, "unauthorized")
    assert_problem(client.get(url.format(platform.code), headers=as_(tokens, "teller")), 403,
                   "forbidden")
    assert_problem(client.get(url.format("nowhere"), headers=as_(tokens, "auditor")), 404,
                   "unknown_platform")

