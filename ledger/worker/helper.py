"""The stage-one helper process: verifies the batches its worker sends it, and nothing else.

Run by HelperProcess as `python -m ledger.worker.helper`. Requests and answers are frames
(wire.py) on stdin and stdout, private pipes between the worker and this process. It imports no
database or broker code, which keeps it small. It ends when its stdin closes: when the worker
closes it, and also when the worker is killed.

Requests are read by a thread of their own, so the worker can hand over the next batch while
this one is verified: with both pipes full, a helper that only read between answers and a
worker writing its next request would each wait for the other forever.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import IO

from ledger.domain.keyring import Keyring
from ledger.domain.verification import Delivery, verify_delivery
from ledger.worker.wire import Verified, decode_request, encode_verdicts, read_frame, write_frame


def verify_all(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
               clock_skew_s: int) -> Verified:
    """What Ingestor.verify does, here in the helper process."""
    return [verify_delivery(delivery, keyring, now, clock_skew_s) for delivery in deliveries]


def verify_request(request: bytes) -> bytes:
    """The encoded verdicts of an encoded request (wire.py)."""
    return encode_verdicts(verify_all(*decode_request(request)))


def _read_requests(stream: IO[bytes], requests: queue.SimpleQueue[bytes | None]) -> None:
    while (request := read_frame(stream)) is not None:
        requests.put(request)
    requests.put(None)


def main() -> None:
    # The worker decides when to stop: a Ctrl-C or SIGTERM sent to the whole process group
    # must not end the helper under the batch in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(sys.stdin.buffer, requests),
                     daemon=True).start()
    while (request := requests.get()) is not None:
        write_frame(sys.stdout.buffer, verify_request(request))


if __name__ == "__main__":
    main()
