"""`--metrics-listen HOST:PORT`: a process's own metrics in Prometheus text format (SPEC §15).

The consumer, the notice relay, the checkpointer, a witness and each adapter run one: a small
HTTP server on a thread of its own answering GET /metrics from the process's default registry,
where ledger.runtime.metrics declares every series. Nothing listens unless the option is given.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class MetricsServer:
    server: WSGIServer
    thread: Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{_url_host(str(host))}:{port}{METRICS_PATH}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(JOIN_TIMEOUT_S)


def serve_metrics(address: tuple[str, int]) -> MetricsServer:
    """Serve the default registry at HOST:PORT (port 0: any free one) until the process ends;
    OSError when the address cannot be bound. Says once where it serves."""
    host, port = address
    server, thread = start_http_server(port, host)
    metrics = MetricsServer(server, thread)
    log.info("metrics at %s", metrics.url)
    return metrics


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
