"""`pointsledger audit` holds the log to the checkpoint it kept (SPEC §14): the log's signature,
the witnesses' cosignatures, consistency; and it keeps the latest only when all of that holds."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.contract.note_keys import Signer
from tests.outside_audit.conftest import Audited, failure, passed


def test_the_first_run_keeps_the_latest_checkpoint(audited: Audited) -> None:
    result = audited.run()
    assert passed(result), result.output
    assert f"audit passed: {audited.log.signers['ledger'].name}" in result.stdout
    assert "size: 5" in result.stdout
    assert "witness-1.example" in result.stdout and "witness-2.example" in result.stdout
    assert "first run" in result.stdout
    assert audited.kept()["checkpoint"] == audited.log.checkpoint("ledger")


def test_a_grown_consistent_log_passes_and_replaces_the_kept_checkpoint(
        audited: Audited) -> None:
    assert passed(audited.run())
    kept_on = audited.kept()["kept_at"]
    audited.log.grow(4, audited.key)
    audited.log.publish()
    result = audited.run()
    assert passed(result), result.output
    assert f"consistent with the checkpoint of size 5 kept on {kept_on}" in result.stdout
    assert audited.kept_size() == 9


def test_the_same_checkpoint_again_passes(audited: Audited) -> None:
    assert passed(audited.run())
    assert passed(audited.run())
    assert audited.kept_size() == 5


def test_a_log_that_grew_by_several_checkpoints_since_passes(audited: Audited) -> None:
    assert passed(audited.run())
    for _ in range(3):
        audited.log.grow(3, audited.key)
        audited.log.publish()
    assert passed(audited.run())
    assert audited.kept_size() == 14


def test_a_history_rebuilt_after_the_kept_checkpoint_is_not_consistent(
        audited: Audited) -> None:
    assert passed(audited.run())
    kept = audited.kept()
    # The bank restores an older backup (size 3), appends other entries and signs them.
    audited.log.rebuild_from(4, audited.key, 2)
    audited.log.publish()  # size 5 again, another root
    audited.log.grow(3, audited.key)
    audited.log.publish()
    message = failure(audited.run())
    assert message == (f"not consistent with the checkpoint of size 5 kept on "
                       f"{kept['kept_at']}: the consistency proof does not lead to the root of "
                       f"size 5")
    assert audited.kept() == kept


def test_a_rebuilt_history_of_the_same_size_is_not_consistent(audited: Audited) -> None:
    assert passed(audited.run())
    audited.log.rebuild_from(2, audited.key, 4)
    audited.log.publish()
    message = failure(audited.run())
    assert message.startswith("not consistent with the checkpoint of size 5 kept on")
    assert "same size and another root" in message


def test_a_log_without_a_checkpoint_of_the_kept_size_is_not_consistent(
        audited: Audited) -> None:
    """The rebuilt log has no checkpoint of size 5 at all, so no proof from it: the server's
    refusal (422) cannot show consistency."""
    assert passed(audited.run())
    audited.log.rebuild_from(4, audited.key, 5)
    audited.log.publish()
    message = failure(audited.run())
    assert message.startswith("not consistent with the checkpoint of size 5 kept on")
    assert "HTTP 422" in message


def test_a_log_cut_short_fails(audited: Audited) -> None:
    assert passed(audited.run())
    audited.log.cut_short(3)
    audited.log.publish()
    message = failure(audited.run())
    assert message.startswith("not consistent with the checkpoint of size 5 kept on")
    assert "size 3, smaller" in message


def test_a_checkpoint_signed_by_another_key_under_the_log_name_fails(audited: Audited) -> None:
    impostor = Signer(audited.log.signers["ledger"].name, Ed25519PrivateKey.generate())
    audited.log.grow(1, audited.key)
    audited.log.publish(signer=impostor)
    message = failure(audited.run())
    assert message.startswith("the latest checkpoint of bank.example/ledger does not verify")


def test_a_checkpoint_whose_text_was_altered_fails(audited: Audited) -> None:
    log = audited.log.logs["ledger"]
    assert log.latest is not None
    log.latest = log.latest.replace("\n5\n", "\n6\n", 1)
    message = failure(audited.run())
    assert "does not verify" in message


def test_too_few_witnesses_for_the_quorum_fail(audited: Audited) -> None:
    first, _second = audited.log.witnesses
    audited.log.grow(1, audited.key)
    audited.log.publish(cosigners=[first])
    message = failure(audited.run("--quorum", "2"))
    assert "cosigned by 1 of the given witnesses (witness-1.example)" in message
    assert "fewer than the quorum of 2" in message
    # By default every given witness must have cosigned.
    assert "fewer than the quorum of 2" in failure(audited.run())
    assert passed(audited.run("--quorum", "1"))


def test_without_witnesses_given_none_is_needed(audited: Audited) -> None:
    audited.log.grow(1, audited.key)
    audited.log.publish(cosigners=[])
    result = audited.run(witnesses=False)
    assert passed(result), result.output
    assert "cosigned by: none (0 of 0 witnesses given, quorum 0)" in result.stdout


def test_a_cosignature_by_an_unknown_witness_does_not_count(audited: Audited) -> None:
    from ledger.contract.cosignature import CosignatureSigner

    stranger = CosignatureSigner("witness-1.example", Ed25519PrivateKey.generate())
    audited.log.grow(1, audited.key)
    audited.log.publish(cosigners=[stranger, audited.log.witnesses[1]])
    assert "cosigned by 1 of the given witnesses" in failure(audited.run())


def test_a_failed_audit_leaves_the_kept_checkpoint_as_it_was(audited: Audited) -> None:
    assert passed(audited.run())
    before = audited.kept_file().read_bytes()
    audited.log.cut_short(2)
    audited.log.grow(6, audited.key)
    audited.log.publish()
    failure(audited.run())
    failure(audited.run("--full"))
    assert audited.kept_file().read_bytes() == before
    assert [path.name for path in audited.state.iterdir() if path.name.startswith(".")] == []
