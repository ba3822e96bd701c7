"""A push platform's stand-in for receiving the ledger's notices: records every POST.

The simulators of platforms that push their records (沥家园, 平安共富积分) use it as the
platform's notice endpoint, so a demo or a test can see what the platform learned.
`down = True` answers 503, as a platform under maintenance would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

NOTICE_PATH = "/notices"


class NoticeRecorder:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, path: str = NOTICE_PATH,
                 on_notice: Callable[[Any], None] | None = None) -> None:
        self.notices: list[Any] = []
        self.attempts = 0  # every POST, also those answered 503 while down
        self.down = False
        self._lock = threading.Lock()
        self._on_notice = on_notice
        self._server: BaseWSGIServer = make_server(host, port, self._app(path), threaded=True)
        self._thread: threading.Thread | None = None
        self.url = f"http://{host}:{self._server.server_port}{path}"

    def _app(self, path: str) -> Flask:
        app = Flask("notice-recorder")

        @app.post(path)
        def receive() -> Response | tuple[str, int]:
            with self._lock:
                self.attempts += 1
            if self.down:
                return "platform unavailable", 503
            notice = request.get_json(silent=True)
            if not isinstance(notice, dict):
                return "a notice is a JSON object", 400
            with self._lock:
                self.notices.append(notice)
            if self._on_notice is not None:
                self._on_notice(notice)
            return jsonify({"received": True})

        return app

    def start(self) -> NoticeRecorder:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="notice-recorder", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """In the calling thread (the `simulate --listen` command), until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> NoticeRecorder:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
