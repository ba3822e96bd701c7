"""The few calls of the ledger's HTTP API an adapter makes to collect its receipts (SPEC §14).

- `GET /api/v1/platforms/{p}/events/{id}/proof` (a platform operator's token): the event's
  inclusion proof in the latest checkpoint, with that checkpoint; 404 `not_yet_checkpointed`
  when it is recorded but no checkpoint includes it yet, another 404 when it is not recorded.
- `GET /api/v1/platforms/{p}/events/{id}` (the same token): what became of the event, which
  tells a rejection from an event the ledger has not seen (yet).
- `GET /api/v1/ledger/proofs/consistency?first=M&second=N` (public).

Each answer is read within a size limit and a timeout. The ledger down, overloaded or slow
(unreachable, 5xx, 408, 429) is LedgerApiUnavailable, which the caller waits out; 401 and 403
are LedgerApiRefused (a token that will not do until someone changes it); any other answer that
is not what the API promises is AnswerMalformed. The token never appears in an error message.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from adapters.base.receipt_proofs import AnswerMalformed, ProofAnswer, parse_consistency_answer
from adapters.base.receipt_proofs import parse_proof_answer as parse_proof

REQUEST_TIMEOUT_S = 5.0
ANSWER_SIZE_MAX_BYTES = 256 * 1024
NOT_YET_CHECKPOINTED = "not_yet_checkpointed"
# Answers that say "later", not "never".
PASSING_STATUSES = frozenset({408, 425, 429})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it is (an error), never followed: following it would send the
    token to wherever it points."""

    def redirect_request(self, *_arguments: Any, **_options: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class LedgerApiUnavailable(Exception):
    """The ledger's API cannot answer now; asking again later gets past it."""


class LedgerApiRefused(Exception):
    """The ledger refused the adapter's token (401, 403): no use asking again with it."""


@dataclass(frozen=True)
class NotYetCheckpointed:
    """Recorded, but no checkpoint includes it yet: ask again later."""


@dataclass(frozen=True)
class NotRecorded:
    """The ledger holds no entry of this event (the problem's `code` says more)."""

    code: str


@dataclass(frozen=True)
class Rejected:
    """The ledger rejected the event, for this reason (SPEC §4.5)."""

    reason: str


@dataclass(frozen=True)
class Unrecorded:
    """The ledger has neither recorded nor rejected it: not received yet, or lost."""


@dataclass(frozen=True)
class Recorded:
    """Recorded after all (between two questions): its proof is a checkpoint away."""


ProofOutcome = ProofAnswer | NotYetCheckpointed | NotRecorded
EventOutcome = Recorded | Rejected | Unrecorded


@dataclass(frozen=True)
class _Answer:
    status: int
    document: Any


class LedgerApi:
    """The ledger's API at `base_url` (scheme, host and any path prefix before `/api/v1`)."""

    def __init__(self, base_url: str, token: str, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("the ledger API URL must be http(s)://HOST[:PORT][/PATH]")
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    def event_proof(self, platform: str, event_id: str) -> ProofOutcome:
        answer = self._get(f"{self._event_path(platform, event_id)}/proof", authorized=True)
        if answer.status == 404:
            code = _problem_code(answer.document)
            return NotYetCheckpointed() if code == NOT_YET_CHECKPOINTED else NotRecorded(code)
        self._expect_ok(answer, "the event's proof")
        return parse_proof(answer.document)

    def event_outcome(self, platform: str, event_id: str) -> EventOutcome:
        answer = self._get(self._event_path(platform, event_id), authorized=True)
        if answer.status == 404:
            return Unrecorded()
        self._expect_ok(answer, "what became of the event")
        document = answer.document
        outcome = document.get("outcome") if isinstance(document, dict) else None
        if outcome == "recorded":
            return Recorded()
        reason = document.get("reason") if isinstance(document, dict) else None
        if outcome == "rejected" and isinstance(reason, str) and 0 < len(reason) <= 64:
            return Rejected(reason)
        raise AnswerMalformed("what became of the event is neither recorded nor rejected "
                              "with a reason")

    def consistency_proof(self, first: int, second: int) -> tuple[bytes, ...]:
        query = urllib.parse.urlencode({"first": first, "second": second})
        answer = self._get(f"/api/v1/ledger/proofs/consistency?{query}", authorized=False)
        self._expect_ok(answer, f"the consistency proof from size {first} to {second}")
        return parse_consistency_answer(answer.document, first, second)

    @staticmethod
    def _event_path(platform: str, event_id: str) -> str:
        return (f"/api/v1/platforms/{urllib.parse.quote(platform, safe='')}"
                f"/events/{urllib.parse.quote(event_id, safe='')}")

    @staticmethod
    def _expect_ok(answer: _Answer, what: str) -> None:
        if answer.status != 200:
            code = _problem_code(answer.document)
            raise AnswerMalformed(f"the ledger answered {answer.status} ({code or 'no code'}) "
                                  f"when asked for {what}")

    def _get(self, path: str, *, authorized: bool) -> _Answer:
        headers = {"accept": "application/json"}
        if authorized:
            headers["authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self._base_url + path, headers=headers)  # noqa: S310 (scheme checked)
        try:
            with _OPENER.open(request, timeout=self._timeout_s) as response:
                return _Answer(response.status, _json(response.read(ANSWER_SIZE_MAX_BYTES + 1)))
        except urllib.error.HTTPError as error:
            try:
                return self._refusal(error)
            finally:
                error.close()
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise LedgerApiUnavailable(
                f"the ledger API is not reachable ({type(error).__name__})") from None

    @staticmethod
    def _refusal(error: urllib.error.HTTPError) -> _Answer:
        """An answer other than 2xx: raised when it says "later" or "not with this token",
        else returned with its problem document (None if it has none)."""
        status = error.code
        if status in (401, 403):
            raise LedgerApiRefused(f"the ledger API answered {status}: the token of "
                                   "POINTSLEDGER_LEDGER_API_TOKEN_FILE is not accepted (it must "
                                   "be a platform_operator's of this platform)")
        if status >= 500 or status in PASSING_STATUSES:
            raise LedgerApiUnavailable(f"the ledger API answered {status}")
        try:
            body = error.read(ANSWER_SIZE_MAX_BYTES + 1)
        except (http.client.HTTPException, OSError) as failure:
            raise LedgerApiUnavailable(f"the ledger API's answer {status} broke off "
                                       f"({type(failure).__name__})") from None
        try:
            return _Answer(status, _json(body))
        except AnswerMalformed:
            return _Answer(status, None)


def _json(body: bytes) -> Any:
    if len(body) > ANSWER_SIZE_MAX_BYTES:
        raise AnswerMalformed(f"the answer is larger than {ANSWER_SIZE_MAX_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError:
        raise AnswerMalformed("the answer is not JSON") from None


def _problem_code(document: Any) -> str:
    code = document.get("code") if isinstance(document, dict) else None
    return code if isinstance(code, str) else ""
