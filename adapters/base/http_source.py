"""A Source that receives a platform's pushes over HTTP (webhooks) on one POST route.

Every request is answered with what became of each record: 200 with the intake report (records
stored, retries recognized, records quarantined with their reasons). A body that is not what the
platform should send is quarantined as a whole and answered 400 as problem JSON: kept, and the
platform is told. A failure of the outbox itself is a 503: nothing was stored, send it again.
One that will not pass by itself (adapters.base.failures) also stops the adapter, for its
supervisor to restart it. Every answer carries `X-Request-Id` (the platform's own when sane), and
so do the log lines written while answering and the access line (SPEC §15).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from adapters.base.adapter import Notify
from adapters.base.failures import AdapterFailed, described, is_transient
from adapters.base.intake import Intake
from adapters.base.records import NativeRecord
from ledger.runtime.wsgi_request_ids import RequestIdAccessLogHandler, init_request_ids

log = logging.getLogger(__name__)

BODY_SIZE_MAX_BYTES = 1 << 20
# Parses one request body into records; `prefix` names the request (for each record's location).
Parse = Callable[[bytes, str], list[NativeRecord]]
# Told of a failure the adapter cannot get past by retrying.
OnFatal = Callable[[BaseException], None]


def problem(status: int, title: str, detail: str) -> Response:
    response = jsonify({"type": "about:blank", "title": title, "status": status,
                        "detail": detail})
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def webhook_app(platform: str, path: str, parse: Parse, intake: Intake,
                notify: Notify, on_fatal: OnFatal | None = None) -> Flask:
    app = Flask(f"adapter-{platform}")
    init_request_ids(app)
    app.config["MAX_CONTENT_LENGTH"] = BODY_SIZE_MAX_BYTES

    @app.post(path)
    def receive() -> Response:
        body = request.get_data(cache=False)
        prefix = f"request {uuid.uuid4().hex[:12]}"
        records = parse(body, prefix)
        try:
            report = intake.accept(records)
        except Exception as error:
            log.warning("the outbox could not store %s (%s)", prefix, described(error))
            if not is_transient(error) and on_fatal is not None:
                on_fatal(error)
            return problem(503, "Outbox unavailable",
                           "nothing was stored; send the same records again")
        if report.accepted:
            notify()
        if len(records) == 1 and records[0].unreadable is not None:
            return problem(400, "Unreadable body",
                           f"{records[0].unreadable}; the body is kept in the quarantine")
        return jsonify(report.document())

    @app.errorhandler(413)
    def too_large(_error: Exception) -> Response:
        # Refused unread, but not unseen: the quarantine says a body was refused and why.
        detail = f"the body is larger than {BODY_SIZE_MAX_BYTES} bytes"
        location = f"request {uuid.uuid4().hex[:12]}"
        intake.accept([NativeRecord(location, "(body not kept: too large)", unreadable=detail)])
        return problem(413, "Body too large", f"{detail}; send smaller batches")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return app


class HttpSource:
    def __init__(self, platform: str, host: str, port: int, path: str, parse: Parse) -> None:
        self._platform = platform
        self._host = host
        self._port = port
        self._path = path
        self._parse = parse
        self.bound_port: int | None = None
        self.ready = threading.Event()
        self._fatal: BaseException | None = None

    def run(self, intake: Intake, stop: threading.Event, notify: Notify) -> None:
        """Until `stop` is set; raises AdapterFailed when the outbox failed in a way that
        retrying will not get past."""

        def on_fatal(error: BaseException) -> None:
            self._fatal = self._fatal or error
            stop.set()

        app = webhook_app(self._platform, self._path, self._parse, intake, notify, on_fatal)
        server = make_server(self._host, self._port, app, threaded=True,
                             request_handler=RequestIdAccessLogHandler)
        self.bound_port = server.server_port
        log.info("adapter %s receives at http://%s:%d%s", self._platform, self._host,
                 server.server_port, self._path)
        thread = threading.Thread(target=server.serve_forever, name="http-source", daemon=True)
        thread.start()
        self.ready.set()
        try:
            while not stop.wait(0.5):  # a bounded wait lets the signal handler run
                pass
        finally:
            server.shutdown()
            thread.join()
        if self._fatal is not None:
            raise AdapterFailed(f"the outbox failed ({described(self._fatal)})") \
                from self._fatal
