"""Native records reach their adapter the way each platform sends them (SPEC §10).

Each route runs the adapter's own receiving code: the webhook app (through its test client, so
the demo opens no port for it), the inbox importer on a CSV file the simulator drops, and the
poller against the simulator's real HTTP server on localhost. Each returns where the records
went, for the summary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters.base.http_source import webhook_app
from adapters.base.intake import Intake
from adapters.base.outbox.database import Outbox
from adapters.nanyang_young.inbox import InboxSource
from adapters.wuhe_zhonglian.poller import PollingSource, saved_cursor
from adapters.wuhe_zhonglian.simulator import PlatformServer

Record = dict[str, Any]
Route = Callable[[ModuleType, list[Record], Intake, Outbox], str]

DEMO_INBOX = Path("var/demo-inbox")
# What one push carries (the simulators' `deliver` sends 50 and 100 per request).
PUSH_BATCH_RECORDS = 50
# The poller's pause after an empty page: short, since the demo stops it as soon as it is done.
POLL_INTERVAL_S = 0.05
POLL_WAIT_S_MAX = 30.0


class ArrivalFailed(RuntimeError):
    """A platform's records did not all reach its adapter."""


def push(path_attribute: str) -> Route:
    """The platform POSTs its records as JSON to the adapter's receiver at `module.<path>`."""

    def route(module: ModuleType, records: list[Record], intake: Intake, outbox: Outbox) -> str:
        del outbox  # the webhook receiver writes through the intake only
        path: str = getattr(module, path_attribute)
        app = webhook_app(module.PLATFORM, path, module.native_records, intake, _no_notice)
        client = app.test_client()
        for start in range(0, len(records), PUSH_BATCH_RECORDS):
            batch = records[start:start + PUSH_BATCH_RECORDS]
            response = client.post(path, data=module.payload(batch),
                                   content_type="application/json")
            if response.status_code != 200:
                raise ArrivalFailed(f"the {module.PLATFORM} receiver answered "
                                    f"{response.status_code}: {response.get_data(as_text=True)}")
        return f"POST {path}"

    return route


def drop_file(module: ModuleType, records: list[Record], intake: Intake, outbox: Outbox) -> str:
    """The platform's daily export lands in the inbox; the inbox imports it."""
    inbox = DEMO_INBOX / module.PLATFORM
    dropped: Path = module.simulator.drop(records, inbox)
    # One file, imported at once: the scan interval never comes into play.
    InboxSource(inbox, POLL_INTERVAL_S, outbox).import_file(dropped, intake)
    return f"a file dropped into {inbox}/ (imported: see {dropped.name}.report.json there)"


def poll(module: ModuleType, records: list[Record], intake: Intake, outbox: Outbox) -> str:
    """The platform serves its records; the adapter's poller pages through them over HTTP."""
    with _quiet_request_log():
        server = PlatformServer(records).start()
        try:
            _poll_until_taken(server.url, str(records[-1]["id"]), intake, outbox)
        finally:
            server.stop()
    return f"GET {server.url}/api/points?after=CURSOR"


def _poll_until_taken(url: str, last_id: str, intake: Intake, outbox: Outbox) -> None:
    """The poller runs as in production (its own loop, in a thread) until its cursor, kept in
    the outbox with each page's records, reaches the last record: then all were taken."""
    stop = threading.Event()
    source = PollingSource(url, POLL_INTERVAL_S, outbox)
    poller = threading.Thread(target=source.run, args=(intake, stop, _no_notice),
                              name="demo-poller", daemon=True)
    poller.start()
    try:
        _wait_for_cursor(outbox, last_id, intake)
    finally:
        stop.set()
        poller.join()


def _wait_for_cursor(outbox: Outbox, last_id: str, intake: Intake) -> None:
    deadline = time.monotonic() + POLL_WAIT_S_MAX
    while saved_cursor(outbox, intake.seal) != last_id:
        if time.monotonic() > deadline:
            raise ArrivalFailed(f"the poller did not reach record {last_id} within "
                                f"{POLL_WAIT_S_MAX:.0f} s")
        time.sleep(POLL_INTERVAL_S)


@contextmanager
def _quiet_request_log() -> Iterator[None]:
    """The simulator's web server logs each request to the terminal, which would cut through
    the summary; the API served afterwards keeps its request log."""
    logger = logging.getLogger("werkzeug")
    logger.addFilter(_drop)
    try:
        yield
    finally:
        logger.removeFilter(_drop)


def _drop(_record: logging.LogRecord) -> bool:
    return False


def _no_notice() -> None:
    """The demo publishes once a platform's records are in, so the pump needs no wake-up."""


ROUTES: dict[str, Route] = {
    "lijiayuan": push("WEBHOOK_PATH"),
    "nanyang_young": drop_file,
    "wuhe_zhonglian": poll,
    "pingan_gongfu": push("ACTIVITIES_PATH"),
}
