"""What runs in the stage-one helper process: verifying, and nothing else.

The process pool (verifying.py) imports this module in the helper; it imports no database or
broker code, which keeps the helper small.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from datetime import datetime

from ledger.domain.keyring import Keyring
from ledger.service.verification import Delivery, verify_delivery
from ledger.worker.wire import Verified, decode_request, encode_verdicts


def verify_all(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
               clock_skew_s: int) -> Verified:
    """What Ingestor.verify does, here in the helper process."""
    return [verify_delivery(delivery, keyring, now, clock_skew_s) for delivery in deliveries]


def verify_request(request: bytes) -> bytes:
    """The encoded verdicts of an encoded request (wire.py)."""
    return encode_verdicts(verify_all(*decode_request(request)))


def serve_the_worker() -> None:
    """The helper's start: the worker alone decides when it ends.

    A Ctrl-C or SIGTERM sent to the whole process group must not end the helper under the batch
    in hand; and a worker killed outright must not leave it behind (the pool's pipes stay open
    in the helper itself, so it would wait for its next batch forever).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker = multiprocessing.parent_process()
    if worker is not None:
        threading.Thread(target=_end_with, args=(worker,), name="end-with-the-worker",
                         daemon=True).start()


def _end_with(worker: multiprocessing.process.BaseProcess) -> None:
    worker.join()
    os._exit(0)
