"""`--metrics-listen HOST:PORT` on each long-running command: a bad value is refused in one
sentence (exit 2) before anything starts; the server, once started, answers and stops."""

from __future__ import annotations

import urllib.request

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from ledger.cli.main import cli
from ledger.runtime.metrics import metric_names
from ledger.runtime.metrics_server import serve_metrics

COMMANDS = [
    ["consume"],
    ["notices", "relay"],
    ["checkpoints", "run"],
    ["witness", "serve"],
    ["adapter", "run", "lijiayuan"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("value", ["localhost", "127.0.0.1:", ":9100", "127.0.0.1:70000"])
def test_a_bad_metrics_address_is_refused_in_one_sentence(command: list[str],
                                                          value: str) -> None:
    result = CliRunner().invoke(cli, [*command, "--metrics-listen", value])
    assert result.exit_code == 2
    assert result.stderr == f"error: --metrics-listen must be HOST:PORT, not {value!r}\n"


def test_the_metrics_server_answers_in_prometheus_text_and_stops() -> None:
    server = serve_metrics(("127.0.0.1", 0))
    try:
        with urllib.request.urlopen(server.url, timeout=10) as response:
            text = response.read().decode()
    finally:
        server.stop()
    exported = {sample.name for family in text_string_to_metric_families(text)
                for sample in family.samples if sample.name.startswith("pointsledger_")}
    # The unlabelled metrics show at once (the labelled ones once counted), each under a name
    # that alert rules may use; `_created` is the client library's timestamp of each series.
    assert {"pointsledger_consumer_lock_held", "pointsledger_decisions_total"} <= exported
    assert {name for name in exported if not name.endswith("_created")} <= metric_names()
    assert not server.thread.is_alive()
