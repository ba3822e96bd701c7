"""The witness as a whole: a request body in, an HTTP answer out, the state kept in between.

The decisions are `ledger.witness.decision`'s; this module only takes the log's lock, keeps what
was cosigned before answering (the spec's MUST), logs each refusal with its reason and turns the
outcome into a status, a content type and a body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.witness_protocol import (
    SIZE_CONTENT_TYPE,
    cosignature_response,
    size_body,
)
from ledger.witness.decision import (
    LogKeys,
    Refusal,
    Submission,
    authenticate,
    decide,
    shown,
)
from ledger.witness.state import LogStates, StateUnusable

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
COSIGNATURES_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: HTTPStatus
    content_type: str
    body: bytes


def problem(status: HTTPStatus, detail: str) -> Answer:
    """An RFC 9457 problem document."""
    document = {"type": "about:blank", "title": status.phrase, "status": status.value,
                "detail": detail}
    return Answer(status, PROBLEM_CONTENT_TYPE, json.dumps(document).encode())


def refusal_answer(refusal: Refusal) -> Answer:
    """The spec fixes the body of a 409 only (the size last cosigned, so the log can retry)."""
    if refusal.cosigned_size is not None:
        return Answer(refusal.status, SIZE_CONTENT_TYPE, size_body(refusal.cosigned_size))
    return problem(refusal.status, refusal.reason)


class Witness:
    def __init__(self, signer: CosignatureSigner, logs: LogKeys, states: LogStates,
                 clock: Callable[[], float] = time.time) -> None:
        self.signer = signer
        self.logs = logs
        self.states = states
        self._clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        """Cosign the checkpoint of an `add-checkpoint` body, or refuse it as the spec says."""
        try:
            return self._cosign(authenticate(body, self.logs))
        except Refusal as refusal:
            log.warning("refused a checkpoint of %s: %d %s: %s",
                        "(origin unread)" if refusal.origin is None else shown(refusal.origin),
                        refusal.status.value, refusal.status.phrase, refusal.reason)
            return refusal_answer(refusal)

    def _cosign(self, submission: Submission) -> Answer:
        origin = submission.checkpoint.origin
        try:
            with self.states.locked(origin) as state:
                last = state.cosigned
                cosigning = decide(submission, last, self.signer, int(self._clock()))
                state.keep(cosigning)
        except (StateUnusable, OSError) as error:
            # Nothing is cosigned unless it is kept first, so the log is told to try again.
            log.error("cannot keep the state of %s: %s", shown(origin), error)
            return problem(HTTPStatus.INTERNAL_SERVER_ERROR,
                           "the witness cannot keep its state; try again later")
        log.info("cosigned the checkpoint of %s at size %d (the last cosigned was size %d)",
                 shown(origin), cosigning.cosigned.size, last.size)
        return Answer(HTTPStatus.OK, COSIGNATURES_CONTENT_TYPE,
                      cosignature_response(cosigning.signatures))
