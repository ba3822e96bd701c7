"""`pointsledger witness serve --metrics-listen`: the witness counts what it answered, by status
(200: cosigned; a refusal by its code), and its labels hold no origin text or key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from ledger.cli.main import cli
from tests.ops.process_metrics_support import (
    METRICS_AT,
    assert_labels_clean,
    labels,
    scrape,
    series,
)
from tests.witness.support import WITNESS_NAME, new_log

POINTSLEDGER = str(Path(sys.executable).parent / "pointsledger")
REPOSITORY = Path(__file__).resolve().parents[2]
PROCESS_TIMEOUT_S = 30
ANSWERS_AT = re.compile(r"answers (http://\S+)")


def _urls(process: subprocess.Popen[str]) -> tuple[str, str]:
    """(where it answers, where its metrics are), from its log; said before it serves."""
    assert process.stderr is not None
    stderr = process.stderr
    metrics = None
    for line in stderr:
        if found := METRICS_AT.search(line):
            metrics = found.group(1)
        if (found := ANSWERS_AT.search(line)) and metrics is not None:
            threading.Thread(target=stderr.read, daemon=True).start()
            return found.group(1), metrics
    raise AssertionError("the witness exited before listening")


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=PROCESS_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return int(error.code)


def test_the_witness_counts_a_cosigned_and_a_refused_request(tmp_path: Path) -> None:
    key_file = tmp_path / "witness.key"
    keygen = CliRunner().invoke(cli, ["witness", "keygen", "--name", WITNESS_NAME,
                                      "--out", str(key_file)])
    assert keygen.exit_code == 0
    log = new_log()
    process = subprocess.Popen(
        [POINTSLEDGER, "witness", "serve", "--key-file", str(key_file), "--log-vkey", log.vkey,
         "--state", str(tmp_path / "state"), "--listen", "127.0.0.1:0",
         "--metrics-listen", "127.0.0.1:0"],
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)}, stderr=subprocess.PIPE, text=True)
    try:
        url, metrics_url = _urls(process)
        assert _post(url, log.request(0, 4)) == 200
        # From size 0 again, while the witness holds size 4: refused with 409.
        assert _post(url, log.request(0, 3)) == 409
        samples = scrape(metrics_url)
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()

    assert series(samples, "pointsledger_witness_requests_total") == {
        labels(status="200"): 1, labels(status="409"): 1}
    assert_labels_clean(samples, fed=(log.origin, log.vkey))
