"""A fake ledger log served on a free port, and `pointsledger audit` run against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger.bench.log_server import LEDGER, serve_log
from ledger.cli.main import cli
from tests.outside_audit.fake_log import FakeLog, PlatformKey

WITNESSES = 2


@dataclass
class Audited:
    """The fake log, its server's URL, the auditor's state directory and the platform's key."""

    log: FakeLog
    url: str
    state: Path
    key: PlatformKey

    def run(self, *extra: str, log: str = LEDGER, witnesses: bool = True,
            token: bool = True) -> Result:
        arguments = ["audit", "--url", self.url, "--log-vkey", self.log.vkey(log),
                     "--state", str(self.state)]
        if witnesses:
            for vkey in self.log.witness_vkeys():
                arguments += ["--witness-vkey", vkey]
        if token:
            arguments += ["--token", self.log.token]
        return CliRunner().invoke(cli, [*arguments, *extra])

    def kept_file(self, log: str = LEDGER) -> Path:
        (path,) = [path for path in self.state.glob("*.checkpoint.json")
                   if json.loads(path.read_text())["origin"] == self.log.signers[log].name]
        return path

    def kept(self, log: str = LEDGER) -> dict[str, str]:
        document: dict[str, str] = json.loads(self.kept_file(log).read_text())
        return document

    def kept_size(self, log: str = LEDGER) -> int:
        return int(self.kept(log)["checkpoint"].split("\n")[1])


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[Audited]:
    """A log of five entries (one a redemption), published and cosigned by both witnesses."""
    log = FakeLog(witnesses=WITNESSES)
    key = log.add_platform("lijiayuan")
    log.grow(4, key)
    log.record_redemption("lijiayuan")
    log.publish()
    with serve_log(log) as url:
        yield Audited(log, url, tmp_path / "state", key)


def passed(result: Result) -> bool:
    return result.exit_code == 0 and result.stdout.startswith("audit passed")


def failure(result: Result) -> str:
    """The one sentence of a failed audit (exit 1)."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")
