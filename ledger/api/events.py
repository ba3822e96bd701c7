"""POST /api/v1/events: a platform posts one signed event (SPEC §4, §7).

Embedded mode verifies and appends in this request. Broker mode verifies here (so a platform
learns at once that its signature is wrong), then publishes to RabbitMQ and answers 202 only
after the broker confirmed; the ledger consumer appends.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from werkzeug.wsgi import get_input_stream

from ledger.api.access import signature_authenticated
from ledger.api.blueprint import Blueprint
from ledger.api.problems import RETRY_AFTER_S, ProblemError
from ledger.api.schemas import EventAcceptedSchema, EventEnvelopeSchema
from ledger.app_context import current_event_queue, current_ledger
from ledger.contract.webhook import HEADER_NAMES
from ledger.domain.outcomes import Outcome, Reason, Status
from ledger.domain.ports import EventQueue, QueueUnavailable
from ledger.domain.verification import Delivery, VerifiedEvent
from ledger.service.outcome_metrics import count_outcomes

blp = Blueprint("events", __name__, description="Signed point events from the platforms")

# The ingestor refuses anything above 8 KiB as too_large; reading up to 64 KiB keeps enough of
# an oversized body to show the platform what it sent, and bounds what one request can cost.
BODY_READ_MAX_BYTES = 64 * 1024
KEPT_HEADER_NAMES = (*HEADER_NAMES, "content-type", "user-agent")

REJECTION_STATUS = {
    Reason.MALFORMED_JSON: 400,
    Reason.SCHEMA_INVALID: 422,
    Reason.TOO_LARGE: 413,
    Reason.UNKNOWN_PLATFORM: 401,
    Reason.BAD_SIGNATURE: 401,
    Reason.KEY_REVOKED: 401,
    Reason.TIMESTAMP_SKEW: 401,
    Reason.ID_CONFLICT: 409,
    Reason.SEQ_CONFLICT: 409,
    Reason.ALREADY_REVOKED: 409,
    Reason.UNKNOWN_REVOCATION_TARGET: 422,
    Reason.REVOCATION_MISMATCH: 422,
}
assert set(REJECTION_STATUS) == set(Reason), "every rejection reason needs an HTTP status"

_WEBHOOK_HEADERS = [
    {"in": "header", "name": name, "required": True, "schema": {"type": "string"}}
    for name in HEADER_NAMES
]

Answer = tuple[dict[str, Any], int, dict[str, str]]


@blp.route("/events", methods=["POST"])
@signature_authenticated
@blp.doc(
    summary="Post one signed event",
    description="Standard Webhooks v1a (Ed25519) over the exact body; at most 8 KiB.",
    parameters=_WEBHOOK_HEADERS,
    requestBody={"required": True,
                 "content": {"application/json": {"schema": EventEnvelopeSchema}}},
)
@blp.response(201, EventAcceptedSchema, description="recorded (embedded mode)")
@blp.alt_response(200, schema=EventAcceptedSchema, success=True,
                  description="duplicate: already recorded with the same body")
@blp.alt_response(202, schema=EventAcceptedSchema, success=True,
                  description="queued (broker mode), after the broker confirmed")
@blp.alt_response(400, response="BAD_REQUEST")
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(409, response="CONFLICT")
@blp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def post_event() -> Answer:
    delivery = Delivery(_bounded_body(), _kept_headers(), "http")
    if current_ledger().settings.embedded:
        return _embedded(delivery)
    queue = current_event_queue()
    assert queue is not None, "create_app gives broker mode an event queue"
    return _queued(delivery, queue)


def _bounded_body() -> bytes:
    # Read past Flask's MAX_CONTENT_LENGTH on purpose: an oversized event is not refused by the
    # web server but kept as a too_large rejection, like every other refused event.
    stream = get_input_stream(request.environ, max_content_length=None)
    body: bytes = stream.read(BODY_READ_MAX_BYTES + 1)
    return body


def _kept_headers() -> dict[str, str]:
    """Only what re-verification and diagnosis need; never Authorization or cookies."""
    return {name: request.headers[name] for name in KEPT_HEADER_NAMES if name in request.headers}


def _embedded(delivery: Delivery) -> Answer:
    outcome = current_ledger().ingestor.ingest([delivery])[0]
    count_outcomes([outcome])
    if outcome.status is Status.REJECTED:
        raise _refusal(outcome)
    assert outcome.event_id is not None and outcome.platform is not None
    document = {"outcome": outcome.status.value, "event_id": outcome.event_id,
                "seq": outcome.seq, "entry_hash": outcome.entry_hash}
    location = url_for("platforms.event_status", platform=outcome.platform,
                       event_id=outcome.event_id)
    status = 201 if outcome.status is Status.RECORDED else 200
    return document, status, {"Location": location}


def _queued(delivery: Delivery, queue: EventQueue) -> Answer:
    ingestor = current_ledger().ingestor
    verified = ingestor.verify([delivery])[0]
    if isinstance(verified, Outcome):
        # Refused here, it never reaches the consumer: counted here, once kept.
        count_outcomes(ingestor.keep_rejections([(delivery, verified)]))
        raise _refusal(verified)
    envelope = verified.envelope
    try:
        queue.publish(routing_key=f"{envelope.platform}.{envelope.type.value}",
                      message_id=envelope.event_id, body=delivery.body,
                      headers=_signature_headers(verified))
    except QueueUnavailable:
        # Nothing is recorded: the platform keeps the event and retries.
        raise ProblemError(503, "queue_unavailable",
                           "the event queue did not take the event; retry later",
                           headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    return {"outcome": "queued", "event_id": envelope.event_id}, 202, {}


def _signature_headers(event: VerifiedEvent) -> dict[str, str]:
    headers = {name.lower(): value for name, value in event.delivery.headers.items()}
    return {name: headers[name] for name in HEADER_NAMES}


def _refusal(outcome: Outcome) -> ProblemError:
    assert outcome.reason is not None
    status = REJECTION_STATUS[outcome.reason]
    headers = {"WWW-Authenticate": 'Webhook-Signature realm="pointsledger"'} if status == 401 \
        else {}
    return ProblemError(status, outcome.reason.value, outcome.detail,
                        errors=outcome.errors or None, headers=headers)
