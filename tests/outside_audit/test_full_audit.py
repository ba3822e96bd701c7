"""`pointsledger audit --full` (SPEC §14): the root recomputed from every entry, the hash chain
followed, every platform event's signature verified against the platform's keys as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.bench.log_server import AUDIT_TRAIL, serve_log
from ledger.domain.entry import GENESIS_HASH, chain_hash, leaf_hash
from ledger.outside_audit.auditor import AuditRequest, run_audit
from ledger.outside_audit.errors import AuditFailed
from tests.outside_audit.conftest import Audited, failure, passed
from tests.outside_audit.fake_log import FakeLog


def test_an_intact_log_passes_and_every_platform_signature_is_counted(audited: Audited) -> None:
    result = audited.run("--full")
    assert passed(result), result.output
    # Five entries, four of them platform events: the redemption is the ledger's own.
    assert "entries: 5 checked against the root, 4 platform signatures verified" in result.stdout


def test_an_entry_altered_behind_the_tree_fails_root_differs(audited: Audited) -> None:
    audited.log.alter_served(3, points=500)
    message = failure(audited.run("--full"))
    assert message == "root differs: entries were altered (the hash chain first breaks at seq 3)"


def test_an_altered_entry_whose_chain_was_rewritten_still_fails_root_differs(
        audited: Audited) -> None:
    """Someone recomputed every entry_hash after the change: the chain holds, the tree does
    not."""
    audited.log.alter_served(2, points=500)
    head = GENESIS_HASH
    for document in audited.log.logs["ledger"].documents:
        hashed = {name: value for name, value in document.items() if name != "entry_hash"}
        head = chain_hash(head, leaf_hash(hashed))
        document["entry_hash"] = head.hex()
    assert failure(audited.run("--full")) == "root differs: entries were altered"


def test_a_broken_hash_chain_alone_fails_naming_its_seq(audited: Audited) -> None:
    audited.log.alter_served(4, entry_hash="00" * 32)
    assert failure(audited.run("--full")) == (
        "the hash chain breaks at seq 4: its entry_hash does not follow from the entries "
        "before it")


def test_a_forged_signature_fails_naming_its_seq(audited: Audited) -> None:
    audited.log.grow(2, audited.key)
    forged = audited.log.record_event(audited.key, forged=True)
    audited.log.grow(2, audited.key)
    audited.log.publish()
    message = failure(audited.run("--full"))
    assert message.startswith(f"signature of seq {forged.seq} does not verify: no v1a "
                              f"signature in it verifies under key {audited.key.key_id}")
    # Without --full the checkpoint alone is checked, and it holds.
    assert passed(audited.run())


def test_an_award_without_any_signature_fails(audited: Audited) -> None:
    unsigned = audited.log.record_unsigned_award("lijiayuan")
    audited.log.publish()
    message = failure(audited.run("--full"))
    assert message.startswith(f"signature of seq {unsigned.seq} does not verify: the entry "
                              f"does not keep")


def test_a_key_used_after_it_was_declared_compromised_fails(audited: Audited) -> None:
    audited.log.declare_compromised(audited.key)
    replacement = audited.log.add_platform("lijiayuan")
    audited.log.grow(1, replacement)
    late = audited.log.record_event(audited.key)
    audited.log.publish()
    message = failure(audited.run("--full"))
    assert message.startswith(f"signature of seq {late.seq} does not verify: key "
                              f"{audited.key.key_id} was declared compromised at")


def test_a_retired_keys_earlier_entries_still_verify(audited: Audited) -> None:
    replacement = audited.log.retire(audited.key)
    audited.log.grow(3, replacement)
    audited.log.publish()
    result = audited.run("--full")
    assert passed(result), result.output
    assert "7 platform signatures verified" in result.stdout


def test_a_retired_key_signing_after_its_retirement_fails(audited: Audited) -> None:
    audited.log.retire(audited.key)
    late = audited.log.record_event(audited.key)
    audited.log.publish()
    message = failure(audited.run("--full"))
    assert message.startswith(f"signature of seq {late.seq} does not verify: key "
                              f"{audited.key.key_id} was retired at")


def test_a_key_of_another_platform_does_not_vouch(audited: Audited) -> None:
    other = audited.log.add_platform("pingan")
    entry = audited.log.record_event(other)
    audited.log.keys["pingan"] = []  # the server no longer lists the key under its platform
    audited.log.publish()
    message = failure(audited.run("--full"))
    assert message.startswith(f"signature of seq {entry.seq} does not verify: "
                              f"'{other.key_id}' is not a key of platform 'pingan'")


def test_a_server_serving_fewer_entries_than_its_checkpoint_fails(audited: Audited) -> None:
    del audited.log.logs["ledger"].documents[4:]
    assert failure(audited.run("--full")) == (
        "the server serves 4 entries, fewer than the checkpoint's size 5")


def test_the_audit_trails_log_is_checked_by_its_root(audited: Audited) -> None:
    for action in ("ruleset.proposed", "ruleset.approved", "stock.adjusted"):
        audited.log.record_audit_event(action)
    audited.log.publish(AUDIT_TRAIL)
    result = audited.run("--full", log=AUDIT_TRAIL)
    assert passed(result), result.output
    assert "audit passed: bank.example/ledger/audit" in result.stdout
    assert "3 checked against the root, 0 platform signatures verified" in result.stdout
    audited.log.alter_served(2, log=AUDIT_TRAIL, comment="nothing to see")
    assert failure(audited.run("--full", log=AUDIT_TRAIL)).startswith("root differs")


@pytest.fixture
def long_log() -> FakeLog:
    """Three pages of entries: batches of signatures checked in a pool of processes."""
    log = FakeLog()
    key = log.add_platform("nanyang")
    log.grow(1500, key)
    log.record_event(key, forged=True)  # seq 1501
    log.grow(600, key)
    log.record_event(key, forged=True)  # seq 2102
    log.grow(100, key)
    log.publish()
    return log


def test_the_first_bad_signature_is_named_when_a_pool_checks_them(long_log: FakeLog,
                                                                   tmp_path: Path) -> None:
    with serve_log(long_log) as url:
        request = AuditRequest(url, long_log.vkey(), tmp_path, token=long_log.token,
                               full=True, workers=2)
        with pytest.raises(AuditFailed, match=r"^signature of seq 1501 does not verify"):
            run_audit(request)


def test_a_pool_verifies_every_signature_of_an_intact_log(tmp_path: Path) -> None:
    log = FakeLog()
    log.grow(2100, log.add_platform("nanyang"))
    log.publish()
    with serve_log(log) as url:
        report = run_audit(AuditRequest(url, log.vkey(), tmp_path, token=log.token, full=True,
                                        workers=2))
    assert report.entries is not None
    assert (report.entries.entries, report.entries.signatures) == (2100, 2100)
