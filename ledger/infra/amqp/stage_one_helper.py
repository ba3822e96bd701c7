"""The stage-one helper process: verifies batches the consumer sends it, and nothing else.

Run by StageOneAhead as `python -m ledger.infra.amqp.stage_one_helper`. Requests and answers are
pickled frames (a 4-byte big-endian length, then the pickle) on stdin and stdout, which are
private pipes between the consumer and this process. The helper ends when its stdin closes: when
the consumer closes it, and also when the consumer is killed.
"""

from __future__ import annotations

import pickle
import signal
import struct
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import BinaryIO

from ledger.domain.outcomes import Outcome
from ledger.service.keyring import Keyring
from ledger.service.verification import Delivery, VerifiedEvent, verify_delivery

FRAME_HEADER = struct.Struct(">I")

Verified = list[VerifiedEvent | Outcome]


def verify_all(deliveries: Sequence[Delivery], keyring: Keyring, now: datetime,
               clock_skew_s: int) -> Verified:
    """What Ingestor.verify does, here in the helper process."""
    return [verify_delivery(delivery, keyring, now, clock_skew_s) for delivery in deliveries]


def read_frame(stream: BinaryIO) -> bytes | None:
    """The next frame, or None at the end of the stream."""
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return payload


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(FRAME_HEADER.pack(len(payload)) + payload)
    stream.flush()


def main() -> None:
    # The consumer decides when to stop: a Ctrl-C or SIGTERM sent to the whole process group
    # must not end the helper under the batch in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    while (request := read_frame(requests)) is not None:
        # The frames come from the consumer that started this process, over a private pipe.
        deliveries, keyring, now, clock_skew_s = pickle.loads(request)  # noqa: S301
        write_frame(answers, pickle.dumps(verify_all(deliveries, keyring, now, clock_skew_s),
                                          protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
