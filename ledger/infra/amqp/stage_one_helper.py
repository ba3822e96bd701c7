"""The stage-one helper process: verifies batches the consumer sends it, and nothing else.

Run by StageOneAhead as `python -m ledger.infra.amqp.stage_one_helper`. Requests and answers are
marshal frames (stage_one_wire) on stdin and stdout, private pipes between the consumer and this
process. It imports no database or broker code, which keeps it small. The helper ends when its
stdin closes: when the consumer closes it, and also when the consumer is killed.

Requests are read by a thread of their own, so the consumer can hand over the next batch while
this one is verified: with both pipes full, a helper that only read between answers and a
consumer writing its next request would each wait for the other forever.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, BinaryIO

from ledger.domain.keyring import Keyring
from ledger.domain.verification import Delivery, verify_delivery
from ledger.infra.amqp.stage_one_wire import (
    Verified,
    decode_request,
    encode_verdicts,
    frame,
    read_frame,
)


def verify_all(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
               clock_skew_s: int) -> Verified:
    """What Ingestor.verify does, here in the helper process."""
    return [verify_delivery(delivery, keyring, now, clock_skew_s) for delivery in deliveries]


def _read_requests(stream: BinaryIO, requests: queue.SimpleQueue[Any]) -> None:
    while (request := read_frame(stream)) is not None:
        requests.put(request)
    requests.put(None)


def main() -> None:
    # The consumer decides when to stop: a Ctrl-C or SIGTERM sent to the whole process group
    # must not end the helper under the batch in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(sys.stdin.buffer, requests),
                     daemon=True).start()
    answers = sys.stdout.buffer
    while (request := requests.get()) is not None:
        answers.write(frame(encode_verdicts(verify_all(*decode_request(request)))))
        answers.flush()


if __name__ == "__main__":
    main()
