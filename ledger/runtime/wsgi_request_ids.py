"""`X-Request-Id` on every answer of a Flask app (SPEC §15): the API and the console, and an
adapter's webhooks; and on the access line werkzeug's server writes for it.

The client's own id is kept when it is sane (a proxy or a platform's adapter that already named
the request can find it in our logs), else a new one is made; either way the answer carries it
and every log line written while answering carries it too (ledger.runtime.request_ids).
Installed on the app before any other hook, so that a request refused by an earlier hook (a 401,
a 404) is named as well.
"""

from __future__ import annotations

from contextvars import Token

from flask import Flask, Response, g, request
from werkzeug.serving import WSGIRequestHandler

from ledger.runtime.request_ids import REQUEST_ID_HEADER, current_request_id, request_id_for


def init_request_ids(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _name_the_request)
    app.after_request(_add_request_id_header)
    app.teardown_request(_forget_the_request)


def _name_the_request() -> None:
    request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
    g.request_id = request_id
    g.request_id_token = current_request_id.set(request_id)


def _add_request_id_header(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _forget_the_request(_error: BaseException | None) -> None:
    # gunicorn's sync worker answers the next request on the same thread: no id may linger.
    token: Token[str | None] | None = g.pop("request_id_token", None)
    if token is not None:
        current_request_id.reset(token)


class RequestIdAccessLogHandler(WSGIRequestHandler):
    """werkzeug's handler, whose access line carries the request id of the answer it sent.

    werkzeug writes the line as the answer's status goes out (send_response), after the app
    has left the request's context and before the headers that name it: the line waits for
    them, and is written with their `X-Request-Id` as the request id of the moment.
    """

    _access_line: tuple[int | str, int | str] | None = None
    _answered_request_id: str | None = None

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self._access_line = (code, size)
        self._answered_request_id = None

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == REQUEST_ID_HEADER.lower():
            self._answered_request_id = value
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        access_line, self._access_line = self._access_line, None
        if access_line is not None:
            token = current_request_id.set(self._answered_request_id)
            try:
                super().log_request(*access_line)
            finally:
                current_request_id.reset(token)
        super().end_headers()
