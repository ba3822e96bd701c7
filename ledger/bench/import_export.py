"""`pointsledger bench import` (SPEC §10, §11): a large 南阳young export imported by the adapter's
inbox while its pump publishes, in a process of its own whose peak resident memory is measured.

Set-up (not timed): the simulator's records, written as the platform's GBK export of about the
asked size into a scratch inbox, block by block (the bench never holds the file in memory).

Then a child process (`python -m ledger.bench.import_export INBOX OUTBOX`), as an adapter process
runs: an Intake on a fresh SQLite outbox, an OutboxPump in its own thread publishing to a
transport that takes every event at once (the broker is not what is measured), and the inbox's
`scan`, which imports the file. It reports how long the import took, how many events the pump
had published before the import ended (publishing goes on while a file is read), how long the
rest took to publish, and its own peak resident memory (the adapter's, interpreter included).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.nanyang_young import feed, simulator
from ledger.bench.ingest import BenchFailed
from ledger.bench.memory import peak_rss_mb

MEGABYTES_DEFAULT = 50
SEED_DEFAULT = 20261122
BYTES_PER_MEGABYTE = 1_000_000
# Records generated and written at a time: bounds the bench's own memory while writing.
BLOCK_RECORDS = 10_000
EXPORT_NAME = "nanyang-bench.csv"
OUTBOX_NAME = "adapter-nanyang_young.sqlite3"
# Not a secret: pseudonyms of simulated residents in a scratch outbox.
BENCH_PEPPER = "bench-import-pepper-not-a-secret"
CHILD_TIMEOUT_S = 3600.0
DRAIN_POLL_S = 0.05
# After the import, how long the pump may take to publish the rest before the bench gives up.
DRAIN_TIMEOUT_S = 600.0
SCAN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class ImportBenchResult:
    file_bytes: int
    records: int
    child: dict[str, Any]

    def document(self) -> dict[str, Any]:
        seconds = float(self.child["import_seconds"])
        return {
            "bench": "import",
            "file_mb": round(self.file_bytes / BYTES_PER_MEGABYTE, 1),
            "file_bytes": self.file_bytes,
            "records": self.records,
            "accepted": self.child["accepted"],
            "quarantined": self.child["quarantined"],
            "seconds": round(seconds, 2),
            "records_per_s": round(self.records / seconds, 1) if seconds else None,
            "published_during_import": self.child["published_during_import"],
            "publish_after_import_seconds": round(float(self.child["drain_seconds"]), 2),
            "backlog_left": self.child["backlog_left"],
            "pump_alive": self.child["pump_alive"],
            "adapter_peak_rss_mb": round(float(self.child["peak_rss_mb"]), 1),
        }


def run_import_bench(size_bytes: int, seed: int = SEED_DEFAULT) -> ImportBenchResult:
    with tempfile.TemporaryDirectory(prefix="pointsledger-bench-import-") as directory:
        inbox = Path(directory) / "inbox"
        inbox.mkdir()
        staged = Path(directory) / EXPORT_NAME
        records = write_export(staged, size_bytes, seed)
        file_bytes = staged.stat().st_size
        # Into the inbox whole, by a rename, as the platform's job drops it.
        staged.replace(inbox / EXPORT_NAME)
        child = _run_child(inbox, Path(directory) / OUTBOX_NAME)
    if child["accepted"] != records:
        raise BenchFailed(f"the adapter accepted {child['accepted']} of {records} records "
                          f"({child['quarantined']} quarantined)")
    return ImportBenchResult(file_bytes, records, child)


def write_export(path: Path, size_bytes: int, seed: int) -> int:
    """A 南阳young export of at least `size_bytes`, written block by block; how many records."""
    rng = random.Random(seed)  # noqa: S311 (simulated data)
    now = datetime.now(UTC)
    written = 0
    with path.open("wb") as export:
        export.write(feed.payload([]))  # the header line
        while export.tell() < size_bytes:
            block = simulator.generate(rng, BLOCK_RECORDS, 0, now)
            for offset, record in enumerate(block, start=written + 1):
                record["流水号"] = f"NY{now:%Y%m%d}{offset:08d}"  # unique across blocks
            export.write(feed.payload(block).split(b"\r\n", 1)[1])  # without its header
            written += len(block)
    return written


def _run_child(inbox: Path, outbox: Path) -> dict[str, Any]:
    completed = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "ledger.bench.import_export", str(inbox), str(outbox)],
        capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    if completed.returncode != 0:
        raise BenchFailed(f"the import process failed: {completed.stderr.strip()[-2000:]}")
    document: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return document


# -- the child: one adapter process importing the file -----------------------------------------

def _import_in_this_process(inbox: Path, outbox_path: Path) -> dict[str, Any]:
    # Imported here, not at the top: the parent needs none of the adapter's runtime.
    from adapters.base.intake import Intake
    from adapters.base.outbox.database import Outbox
    from adapters.base.outbox.events import PendingEvent
    from adapters.base.pump import OutboxPump
    from adapters.base.transport import DirectTransport
    from adapters.nanyang_young import Mapper
    from adapters.nanyang_young.inbox import InboxSource
    from ledger.contract.signing import EventSigner

    def taken(_events: Sequence[PendingEvent]) -> None:
        """The broker is not what is measured: every event is taken at once."""

    outbox = Outbox(f"sqlite:///{outbox_path}", Mapper.platform)
    intake = Intake(Mapper(), outbox, EventSigner(Ed25519PrivateKey.generate()), BENCH_PEPPER)
    pump = OutboxPump(outbox.events, DirectTransport(taken))
    pump_thread = threading.Thread(target=pump.run, name="outbox-pump", daemon=True)
    pump_thread.start()
    started = time.perf_counter()
    InboxSource(inbox, SCAN_INTERVAL_S, outbox).scan(intake, pump.wake)
    imported = time.perf_counter()
    published_during_import = pump.published
    pump.wake()
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    # A pump that died (the outbox locked too long by the import) would never drain it.
    while outbox.status()["backlog"] > 0 and pump_thread.is_alive() \
            and time.monotonic() < deadline:
        time.sleep(DRAIN_POLL_S)
    drained = time.perf_counter()
    backlog = outbox.status()["backlog"]
    pump_alive = pump_thread.is_alive()
    pump.stop()
    pump_thread.join()
    report = json.loads((inbox / f"{EXPORT_NAME}.report.json").read_text(encoding="utf-8"))
    outbox.close()
    quarantined = report.get("quarantined_total", len(report.get("quarantined", ())))
    return {"import_seconds": imported - started, "drain_seconds": drained - imported,
            "accepted": report["accepted"], "quarantined": quarantined,
            "published_during_import": published_during_import,
            "backlog_left": backlog, "pump_alive": pump_alive,
            # VmHWM, this process's own high-water mark: ru_maxrss would also count the parent
            # this process was started from, which Linux carries over the exec (a test run's
            # pytest, at 200 MB, made a 95 MB import look like 212 MB).
            "peak_rss_mb": peak_rss_mb()}


def main(arguments: Sequence[str]) -> None:
    inbox, outbox = arguments
    print(json.dumps(_import_in_this_process(Path(inbox), Path(outbox))))


if __name__ == "__main__":
    main(sys.argv[1:])
