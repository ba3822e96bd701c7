"""A township platform's stand-in HTTP server, for simulators, demos and tests.

Every simulated platform takes the ledger's notices (POST, recorded, and printed by
`simulate --listen`); a platform that serves its own records (五和众联's REST API) adds its
routes in `add_routes`. `down = True` answers 503 to everything, as a platform under
maintenance would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Self

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

NOTICE_PATH = "/notices"
UNAVAILABLE = ("platform unavailable", 503)


class SimulatedPlatform:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, notice_path: str = NOTICE_PATH,
                 on_notice: Callable[[Any], None] | None = None,
                 name: str = "simulated-platform") -> None:
        self.notices: list[Any] = []
        self.attempts = 0  # every notice POST, also those answered 503 while down
        self.down = False
        self._lock = threading.Lock()
        self._on_notice = on_notice
        self._name = name
        app = Flask(name)
        app.post(notice_path)(self._receive_notice)
        self.add_routes(app)
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self._thread: threading.Thread | None = None
        self.base_url = f"http://{host}:{self._server.server_port}"
        self.notice_url = self.base_url + notice_path

    def add_routes(self, app: Flask) -> None:
        """The platform's own routes, if it serves any."""

    def _receive_notice(self) -> Response | tuple[str, int]:
        with self._lock:
            self.attempts += 1
        if self.down:
            return UNAVAILABLE
        notice = request.get_json(silent=True)
        if not isinstance(notice, dict):
            return "a notice is a JSON object", 400
        with self._lock:
            self.notices.append(notice)
        if self._on_notice is not None:
            self._on_notice(notice)
        return jsonify({"received": True})

    def start(self) -> Self:
        # A short poll interval makes stop() quick; the tests start and stop many servers.
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name=self._name,
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """In the calling thread (`pointsledger simulate … --listen`), until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class NoticeRecorder(SimulatedPlatform):
    """A push platform (沥家园, 平安共富积分): it only takes notices; `url` is where."""

    @property
    def url(self) -> str:
        return self.notice_url
