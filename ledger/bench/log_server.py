"""A log served over HTTP as the ledger's API serves it to an auditor (SPEC §7, §14), on a free
local port in a thread: `bench audit` times `pointsledger audit --full` against it, and the
outside auditor's tests serve their fake logs with it.

Only the routes an audit reads, with the API's shapes: the signed checkpoint (text/plain), the
consistency proof, pages of entries (`{"items", "next"}`, `next` the last seq of a page when more
follow), the platforms and each one's keys; the entries, platforms and keys need the source's
token; errors are RFC 9457 problems. The source keeps the log; this module only answers HTTP.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

LOCALHOST = "127.0.0.1"
LIMIT_DEFAULT = 100
LIMIT_MAX = 1000
# How soon the serving thread notices it must stop.
SHUTDOWN_POLL_S = 0.05
LEDGER = "ledger"
AUDIT_TRAIL = "audit"
_KEYS_ROUTE = re.compile(r"/api/v1/platforms/([^/]+)/keys")


class LogSource(Protocol):
    """What the server serves; `log` is LEDGER or AUDIT_TRAIL."""

    token: str

    def checkpoint(self, log: str) -> str | None:
        """The latest signed note with its cosignatures; None when there is none yet."""

    def consistency(self, log: str, first: int, second: int) -> list[bytes] | None:
        """The proof; None when the sizes are not the log's to prove (a 422)."""

    def entries(self, log: str, after: int, limit: int) -> tuple[bytes, int | None]:
        """Up to `limit` items after seq `after`, as JSON objects joined by commas, and the
        `next` cursor (None on the last page)."""

    def platforms(self) -> list[str]: ...

    def platform_keys(self, code: str) -> list[dict[str, Any]] | None:
        """The platform's keys as the API lists them; None for an unknown platform."""


class _Problem(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _handler(source: LogSource) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a bench or a test reads the answers, not a log line per request."""

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            try:
                self._route(url.path, query)
            except _Problem as problem:
                self._send(problem.status, "application/problem+json", json.dumps(
                    {"type": "about:blank", "title": "refused", "status": problem.status,
                     "detail": str(problem), "code": "refused"}).encode())

        def _route(self, path: str, query: dict[str, str]) -> None:
            for log in (LEDGER, AUDIT_TRAIL):
                if path == f"/api/v1/{log}/checkpoint":
                    note = source.checkpoint(log)
                    if note is None:
                        raise _Problem(404, "no checkpoint is signed yet")
                    self._send(200, "text/plain; charset=utf-8", note.encode())
                    return
                if path == f"/api/v1/{log}/proofs/consistency":
                    self._consistency(log, query)
                    return
            if path in ("/api/v1/ledger/entries", "/api/v1/audit"):
                self._authorize()
                self._entries(LEDGER if path.endswith("entries") else AUDIT_TRAIL, query)
                return
            if path == "/api/v1/platforms":
                self._authorize()
                self._json({"items": [{"code": code} for code in source.platforms()],
                            "next": None})
                return
            keys_route = _KEYS_ROUTE.fullmatch(path)
            if keys_route:
                self._authorize()
                keys = source.platform_keys(urllib.parse.unquote(keys_route.group(1)))
                if keys is None:
                    raise _Problem(404, "no such platform")
                self._json({"items": keys, "next": None})
                return
            raise _Problem(404, "no such route")

        def _authorize(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {source.token}":
                raise _Problem(401, "a valid bearer token is needed")

        def _consistency(self, log: str, query: dict[str, str]) -> None:
            first, second = _integer(query, "first", None), _integer(query, "second", None)
            proof = source.consistency(log, first, second)
            if proof is None:
                raise _Problem(422, f"no consistency proof from size {first} to {second}")
            self._json({"first": first, "second": second,
                        "hashes": [hash_.hex() for hash_ in proof]})

        def _entries(self, log: str, query: dict[str, str]) -> None:
            after, limit = _integer(query, "after", 0), _integer(query, "limit", LIMIT_DEFAULT)
            if not 1 <= limit <= LIMIT_MAX:
                raise _Problem(422, f"limit must be 1-{LIMIT_MAX}")
            items, following = source.entries(log, after, limit)
            self._send(200, "application/json", b'{"items":[' + items + b'],"next":'
                       + json.dumps(following).encode() + b"}")

        def _json(self, document: dict[str, Any]) -> None:
            self._send(200, "application/json", json.dumps(document).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _integer(query: dict[str, str], name: str, default: int | None) -> int:
    text = query.get(name)
    if text is None and default is not None:
        return default
    if text is None or not text.isdigit() or len(text) > 19:
        raise _Problem(422, f"{name} must be a whole number")
    return int(text)


@contextmanager
def serve_log(source: LogSource) -> Iterator[str]:
    """The server's base URL while the block runs; stopped and closed after it."""
    server = ThreadingHTTPServer((LOCALHOST, 0), _handler(source))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_S,),
                              name="log-server", daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
