"""gunicorn's settings for the API: `gunicorn --config python:ledger.gunicorn_config …`.

Outside `ledger.api` on purpose: the master process loads this module, and importing the API's
package would declare every metric there too.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metrics to files in that directory and
/metrics adds them up (SPEC §15). Two hooks keep the sum true:
- on_starting (the master, before any worker): remove the files a previous run left, or its
  counts would be added to this run's. docker-compose mounts the directory as a tmpfs, empty at
  each start of the container; this covers a directory that outlives the process. The
  directory must exist before gunicorn starts: the master may count nothing, but the
  `--logger-class` it loads imports the API's package, whose metrics open their files there.
- child_exit (the master, when a worker exits): tell prometheus_client that the worker is gone,
  so that its live gauges stop counting; its counters and histograms stay in the sum.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
METRIC_FILE_PATTERN = "*.db"  # what prometheus_client writes there, and nothing else of ours


def on_starting(server: Any) -> None:
    directory = os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob(METRIC_FILE_PATTERN):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE):
        # prometheus_client's multiprocess module carries no type hints.
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
