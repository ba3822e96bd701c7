"""gunicorn's settings for a test: the API's own hooks (`ledger.gunicorn_config`), and each worker
setting a live gauge once it has loaded the app.

The API declares no live gauge (every gauge of ledger.runtime.metrics is `max`, and the
database's are read at scrape time), so a worker that dies leaves nothing that
`multiprocess.mark_process_dead` would remove. This one gives it something: a `livesum` gauge
at 1 per worker, whose sum is the number of living workers only if the master forgets the dead.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge

from ledger.gunicorn_config import child_exit, on_starting

__all__ = ["WORKERS_ALIVE", "child_exit", "on_starting", "post_worker_init"]

WORKERS_ALIVE = "pointsledger_test_workers_alive"


def post_worker_init(worker: Any) -> None:
    # Declared in the worker, after the fork: its value lives in gauge_livesum_<worker pid>.db.
    # registry=None: /metrics reads the directory's files, not this process's registry.
    Gauge(WORKERS_ALIVE, "1 per living worker.", multiprocess_mode="livesum",
          registry=None).set(1)
