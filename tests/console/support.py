"""The console as its users reach it: a real server on a local port, people with passwords, and
Debian's Chromium driven by Playwright (never a browser Playwright downloads itself)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlparse
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.serving import BaseWSGIServer, make_server

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.service import administration

CHROMIUM = "/usr/bin/chromium"
# As the machine's own check starts it: headless, no sandbox (root in CI), and nothing that
# phones home (the network is closed; those connections would only be refused, noisily).
CHROMIUM_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                      "--no-first-run", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse battery staple"  # every test user's: 12+ characters, not common
BRANCH = "XS-GUALI"
PLATFORM = "lijiayuan"
ACTOR = "test:setup"

# username → (role, branch, platform)
PEOPLE = {
    "li.teller": ("teller", BRANCH, None),
    "wang.supervisor": ("supervisor", BRANCH, None),
    "zhao.risk": ("risk_officer", None, None),
    "qian.risk": ("risk_officer", None, None),
    "sun.auditor": ("auditor", None, None),
    "zhou.admin": ("admin", None, None),
    "wu.operator": ("platform_operator", None, PLATFORM),
    "zheng.loans": ("credit_system", None, None),
}


def add_people(ledger: Ledger) -> None:
    """The branch, the platform and one user per person of PEOPLE, each with PASSWORD."""
    now = datetime.now(UTC)
    with ledger.sessions.begin() as session:
        administration.add_branch(session, ACTOR, BRANCH, "萧山农商银行瓜沥支行", now)
        administration.add_platform(session, ACTOR, PLATFORM, "沥家园", "瓜沥镇", now)
        for username, (role, branch, platform) in PEOPLE.items():
            administration.add_user(session, ACTOR, username, role, branch, platform, now)
            administration.set_password(session, ACTOR, username, PASSWORD, now)


@dataclass
class LiveServer:
    """The app on 127.0.0.1 and a free port, in a thread, for as long as the test runs."""

    server: BaseWSGIServer
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def closing_when_dropped(app: WSGIApplication) -> WSGIApplication:
    """Werkzeug's development server skips closing a response when the browser hangs up while
    it is being written (a page left before its style sheet arrived), and the open static file
    then surfaces in a later test as an unraisable ResourceWarning. Gunicorn closes it; here a
    generator's `finally` does, the moment the server lets go of the response."""

    def wrapped(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)
        try:
            yield from response
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()

    return wrapped


@contextmanager
def live_server(ledger: Ledger) -> Iterator[LiveServer]:
    app = closing_when_dropped(create_app(ledger=ledger))
    server = LiveServer(make_server("127.0.0.1", 0, app, threaded=True))
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Requests:
    """Every URL the browser asked for: the console must never ask another host."""

    base: str
    seen: list[str] = field(default_factory=list)

    def record(self, url: str) -> None:
        self.seen.append(url)

    def elsewhere(self) -> list[str]:
        own = urlparse(self.base).netloc
        return [url for url in self.seen
                if urlparse(url).scheme not in ("data", "about", "blob")
                and urlparse(url).netloc != own]
