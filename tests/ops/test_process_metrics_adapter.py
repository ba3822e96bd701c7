"""`pointsledger adapter run --metrics-listen`: the outbox's backlog, read when scraped, and the
records quarantined by reason; the labels hold the platform's code, never what the records held."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.base.records import QuarantineReason
from ledger.contract.webhook import encode_private_key
from tests.amqp.adapter_runs import POINTSLEDGER, AdapterSetup, outbox_status, running_adapter
from tests.amqp.support import wait_until
from tests.ops.process_metrics_support import METRICS_AT, assert_labels_clean, scrape, series
from tests.support import TEST_PEPPER

PLATFORM = "lijiayuan"
RECORDS = 20
BAD_RECORDS = 3
SEED = 5
TIMEOUT_S = 60.0
# Nothing listens there: the adapter accepts into its outbox and cannot publish, so the whole
# backlog stays.
BROKER_DOWN_URL = "amqp://guest:guest@127.0.0.1:1/none"


def test_the_adapter_exports_its_backlog_and_quarantined_records(tmp_path: Path) -> None:
    key_file = tmp_path / f"{PLATFORM}.key"
    key_file.write_text(encode_private_key(Ed25519PrivateKey.generate()) + "\n",
                        encoding="ascii")
    workdir = tmp_path / "adapter"
    workdir.mkdir()
    setup = AdapterSetup(PLATFORM, key_file, workdir / "outbox.sqlite3",
                         {**os.environ, "POINTSLEDGER_AMQP_URL": BROKER_DOWN_URL,
                          "POINTSLEDGER_RESIDENT_PEPPER": TEST_PEPPER}, workdir)
    with running_adapter(setup, ["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"],
                         tmp_path / "adapter.log") as adapter:
        webhook = adapter.base_url() + "/webhook"
        found = METRICS_AT.search(adapter.log())
        assert found is not None, adapter.log()
        simulated = subprocess.run(
            [POINTSLEDGER, "simulate", PLATFORM, "--count", str(RECORDS), "--bad",
             str(BAD_RECORDS), "--seed", str(SEED), "--to", webhook],
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        assert simulated.returncode == 0, simulated.stderr
        wait_until(lambda: outbox_status(setup)["last_seq"] == RECORDS, TIMEOUT_S,
                   "the records to be in the outbox")
        samples = scrape(found.group(1))
        assert adapter.alive(), adapter.log()

    assert series(samples, "pointsledger_adapter_backlog") == {
        frozenset({("platform", PLATFORM)}): RECORDS}
    quarantined = series(samples, "pointsledger_adapter_quarantined_total")
    assert sum(quarantined.values()) == BAD_RECORDS
    assert {dict(label_set)["platform"] for label_set in quarantined} == {PLATFORM}
    assert {dict(label_set)["reason"] for label_set in quarantined} <= {
        reason.value for reason in QuarantineReason}
    assert_labels_clean(samples)
