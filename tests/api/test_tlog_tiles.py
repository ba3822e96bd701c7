"""SPEC §14: both logs served as C2SP tlog-tiles under /tlog/ and /tlog/audit/, walked as a
standard client walks them: read the checkpoint, fetch the tiles its size names, recompute the
root from them and compare; then check that the entry bundles hash to the level-0 tiles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.checkpoint import Checkpoint
from ledger.contract.envelope import BODY_SIZE_MAX_BYTES
from ledger.contract.merkle import HASH_SIZE_BYTES, leaf_hash, root_from_leaf_hashes
from ledger.contract.merkle import root_from_stored as root_from_hashes
from ledger.contract.tiles import (
    ENTRY_SIZE_MAX_BYTES,
    Tile,
    decode_entry_bundle,
    node_from_tile,
    tile_of_node,
    tiles_for_size,
)
from ledger.domain.verification import Delivery
from ledger.infra.db.tree_store import AUDIT_LOG, LEDGER_LOG
from ledger.service.audit_trail import append_audit
from tests.api.log_support import API, leaf_hashes, opened, record, sign_checkpoints
from tests.api.support import Tokens, bearer, create_tokens
from tests.api.test_problems import assert_problem
from tests.support import PlatformFixture

BASES = {LEDGER_LOG: "/tlog", AUDIT_LOG: "/tlog/audit"}
# One full level-0 tile and a partial one, so a level-1 tile too.
LOG_SIZE = 260


@pytest.fixture
def tokens(ledger: Ledger, platform: PlatformFixture) -> Tokens:
    return create_tokens(ledger.sessions, operated_platform=platform.code)


def grow(ledger: Ledger, platform: PlatformFixture, log: str, count: int) -> None:
    if log == LEDGER_LOG:
        record(ledger, platform, count)
        return
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        for number in range(count):
            append_audit(session, now, "admin", "branch.added", f"branch:b{number}", "opened")


def read_checkpoint(client: FlaskClient, ledger: Ledger, log: str) -> Checkpoint:
    response = client.get(f"{BASES[log]}/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    return opened(ledger, response.get_data(as_text=True), log)


def fetch(client: FlaskClient, log: str, tile: Tile) -> bytes:
    response = client.get(f"{BASES[log]}/{tile.path}")
    assert response.status_code == 200, tile.path
    assert response.content_type == "application/octet-stream"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(response.data) == tile.width * HASH_SIZE_BYTES
    return response.data


def root_from_tiles(size: int, tiles: dict[tuple[int, int], bytes]) -> bytes:
    """What a tlog client computes: every node from the tile that holds it."""
    def hash_at(level: int, index: int) -> bytes:
        tile = tile_of_node(level, index)
        return node_from_tile(level, index, tiles[(tile.level, tile.index)])

    return root_from_hashes(size, hash_at)


def hashes_of(tile: bytes) -> list[bytes]:
    return [tile[i:i + HASH_SIZE_BYTES] for i in range(0, len(tile), HASH_SIZE_BYTES)]


@pytest.mark.parametrize("log", [LEDGER_LOG, AUDIT_LOG])
def test_a_standard_client_recomputes_the_signed_root_from_the_tiles(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        log: str) -> None:
    grow(ledger, platform, log, LOG_SIZE)
    # A full tile is served once whole, before a checkpoint covers it.
    assert client.get(f"{BASES[log]}/tile/0/000").status_code == 200
    sign_checkpoints(ledger)

    checkpoint = read_checkpoint(client, ledger, log)
    assert checkpoint.size == LOG_SIZE
    needed = tiles_for_size(checkpoint.size)
    assert [tile.path for tile in needed] == ["tile/0/000", "tile/0/001.p/4", "tile/1/000.p/1"]
    tiles = {(tile.level, tile.index): fetch(client, log, tile) for tile in needed}

    assert root_from_tiles(checkpoint.size, tiles) == checkpoint.root_hash
    assert tiles[(1, 0)] == root_from_leaf_hashes(hashes_of(tiles[(0, 0)]))
    leaves = leaf_hashes(client, bearer(tokens.by_role["auditor"]), log)
    assert hashes_of(tiles[(0, 0)] + tiles[(0, 1)]) == leaves


@pytest.mark.parametrize("log", [LEDGER_LOG, AUDIT_LOG])
def test_entry_bundles_hash_to_the_level_0_tiles(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture,
        log: str) -> None:
    grow(ledger, platform, log, LOG_SIZE)
    sign_checkpoints(ledger)
    auditor = bearer(tokens.by_role["auditor"])
    listing = f"{API}/ledger/entries" if log == LEDGER_LOG else f"{API}/audit"
    documents = client.get(listing, query_string={"limit": 1000}, headers=auditor).json["items"]

    entries: list[bytes] = []
    for path in ("tile/entries/000", "tile/entries/001.p/4"):
        response = client.get(f"{BASES[log]}/{path}", headers=auditor)
        assert response.status_code == 200, path
        assert response.content_type == "application/octet-stream"
        assert response.headers["Cache-Control"] == "no-store"  # it needed a token
        entries.extend(decode_entry_bundle(response.data))

    level_0 = b"".join(fetch(client, log, tile) for tile in tiles_for_size(LOG_SIZE)[:2])
    assert [leaf_hash(entry) for entry in entries] == hashes_of(level_0)
    assert [json.loads(entry) for entry in entries] == [
        {key: value for key, value in document.items() if key != "entry_hash"}
        for document in documents]


def test_a_partial_tile_is_served_only_up_to_the_latest_checkpoint(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    auditor = bearer(tokens.by_role["auditor"])
    record(ledger, platform, 3)
    for path in ("/tlog/tile/0/000.p/1", "/tlog/tile/entries/000.p/1"):
        assert_problem(client.get(path, headers=auditor), 404, "not_yet_checkpointed")
    assert_problem(client.get("/tlog/checkpoint"), 404, "no_checkpoint")
    sign_checkpoints(ledger)
    record(ledger, platform, 2)  # the tree holds 5; the latest checkpoint, 3

    signed = client.get("/tlog/tile/0/000.p/3")
    assert signed.status_code == 200 and len(signed.data) == 3 * HASH_SIZE_BYTES
    assert client.get("/tlog/tile/0/000.p/2").data == signed.data[:2 * HASH_SIZE_BYTES]
    assert_problem(client.get("/tlog/tile/0/000.p/5"), 404, "not_yet_checkpointed")
    assert_problem(client.get("/tlog/tile/0/000.p/4"), 404, "not_yet_checkpointed")
    assert_problem(client.get("/tlog/tile/entries/000.p/5", headers=auditor), 404,
                   "not_yet_checkpointed")
    assert len(decode_entry_bundle(client.get("/tlog/tile/entries/000.p/3",
                                              headers=auditor).data)) == 3
    # Not whole yet, and beyond the tree: not found.
    assert_problem(client.get("/tlog/tile/0/000"), 404, "no_such_tile")
    assert_problem(client.get("/tlog/tile/0/x001/000"), 404, "no_such_tile")
    assert_problem(client.get("/tlog/tile/entries/000", headers=auditor), 404, "no_such_tile")

    sign_checkpoints(ledger)
    five = client.get("/tlog/tile/0/000.p/5")
    assert five.status_code == 200 and five.data[:3 * HASH_SIZE_BYTES] == signed.data
    assert client.get("/tlog/checkpoint").get_data(as_text=True).split("\n")[1] == "5"


@pytest.mark.parametrize("path", [
    "tile/0/1", "tile/0/0000", "tile/00/000", "tile/64/000", "tile/0/000.p/256",
    "tile/0/000.p/0", "tile/0/000.p/03", "tile/0/x000/001", "tile/0/001/002",
    "tile/0/000.p/", "tile/-1/000", "tile/entries", "tile/0", "tile/0/x18446744073709551/616",
    "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/0/000/", "tiles/0/000", "tile/",
])
def test_a_path_that_is_not_a_tile_is_a_404_problem(client: FlaskClient, path: str) -> None:
    assert_problem(client.get(f"/tlog/{path}"), 404, "not_found")


@pytest.mark.parametrize("path", ["tile/entries/1", "tile/entries/000.p/256",
                                  "tile/entries/x000/001", "tile/entries/000.p/a"])
def test_an_entry_bundle_path_that_is_not_one_is_a_404_problem(
        client: FlaskClient, tokens: Tokens, path: str) -> None:
    assert_problem(client.get(f"/tlog/{path}", headers=bearer(tokens.by_role["admin"])), 404,
                   "not_found")


def test_hash_tiles_are_public_and_entry_bundles_need_an_auditor_or_admin(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    record(ledger, platform, 2)
    grow(ledger, platform, AUDIT_LOG, 1)
    sign_checkpoints(ledger)
    for base in BASES.values():
        assert client.get(f"{base}/checkpoint").status_code == 200
    assert client.get("/tlog/tile/0/000.p/2").status_code == 200
    bundle = "/tlog/tile/entries/000.p/2"

    assert_problem(client.get(bundle), 401, "unauthorized")
    assert_problem(client.get("/tlog/audit/tile/entries/000.p/1"), 401, "unauthorized")
    for role in ("teller", "platform_operator", "monitor", "credit_system"):
        assert_problem(client.get(bundle, headers=bearer(tokens.by_role[role])), 403,
                       "forbidden")
    for role in ("auditor", "admin"):
        assert client.get(bundle, headers=bearer(tokens.by_role[role])).status_code == 200


def test_the_largest_event_fits_an_entry_bundle(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    """A bundle holds an entry of at most 65535 bytes. An event's body is at most 8 KiB, and
    its entry quotes it as a JSON string: each byte at most doubled (a newline becomes `\\n`),
    so an entry stays well under the bound. The worst case, served and read back:"""
    event = json.dumps(platform.event()).encode()
    padding = BODY_SIZE_MAX_BYTES - len(event)
    body = event[:-1] + b"\n" * padding + b"}"
    signed = platform.signer.sign_body(f"{platform.code}-1", body)
    outcome, = ledger.ingestor.ingest([Delivery(signed.body, signed.headers, "http")])
    assert outcome.status.value == "recorded"
    sign_checkpoints(ledger)

    response = client.get("/tlog/tile/entries/000.p/1", headers=bearer(tokens.by_role["admin"]))

    (entry,) = decode_entry_bundle(response.data)
    assert 2 * BODY_SIZE_MAX_BYTES < len(entry) < ENTRY_SIZE_MAX_BYTES
    assert json.loads(entry)["body"].encode() == body
