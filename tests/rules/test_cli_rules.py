"""`pointsledger rules …` (SPEC §8): a risk officer on a terminal drafts, simulates and
submits; a colleague approves; the same four eyes hold as over HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from ledger.bootstrap import Ledger, build
from ledger.service.rules.default import DEFAULT_RULESET
from tests.conftest import make_settings
from tests.ledger.helpers import invoke
from tests.rules.test_credit_terms import Feed
from tests.support import register_platform

PLATFORMS = ("lijiayuan", "nanyang_young", "wuhe_zhonglian", "pingan_gongfu")


@pytest.fixture
def url(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return sqlite_url


@pytest.fixture
def wired(url: str, tmp_path: Path) -> Iterator[Ledger]:
    built = build(make_settings(url, tmp_path=tmp_path))
    feed = Feed(built, {code: register_platform(built.sessions, code) for code in PLATFORMS})
    feed.send("lijiayuan", "2026-11-03T21:00:00+08:00", 40, "safety_patrol")
    yield built
    built.close()


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _refused(result: Result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _token(url: str, username: str) -> str:
    _ok(invoke(url, "users", "add", username, "--role", "risk_officer"))
    return _ok(invoke(url, "tokens", "create", username)).split()[-1]


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_officer_drafts_a_colleague_approves_on_the_terminal(
        url: str, wired: Ledger, tmp_path: Path) -> None:
    author, approver = _token(url, "risk-li"), _token(url, "risk-wang")
    default = _write(tmp_path / "default.json",
                     json.loads(_ok(invoke(url, "rules", "default"))))
    assert json.loads(default.read_text(encoding="utf-8")) == DEFAULT_RULESET

    assert _ok(invoke(url, "rules", "draft", str(default), "--comment", "the default policy",
                      token=author)) == "version 1 drafted\n"
    _ok(invoke(url, "rules", "submit", "1", "--comment", "ready", token=author))
    _refused(invoke(url, "rules", "approve", "1", "--comment", "mine", token=author),
             "another risk officer must approve it (four eyes)")
    _refused(invoke(url, "rules", "approve", "1", "--comment", "blind", token=approver),
             "needs a simulation")
    figures = json.loads(_ok(invoke(url, "rules", "simulate", "1", token=approver)))
    assert (figures["status"], figures["residents"], figures["gaining"]) == ("done", 1, 0)
    assert _ok(invoke(url, "rules", "approve", "1", "--comment", "impact reviewed",
                      token=approver)) == "version 1 approved\n"

    changed = copy.deepcopy(DEFAULT_RULESET)
    changed["tiers"][3]["when"]["min_score"] = 50
    _ok(invoke(url, "rules", "draft", str(_write(tmp_path / "lower.json", changed)),
               "--comment", "a lower first tier", token=author))
    assert _ok(invoke(url, "rules", "diff", "2", "--against", "1")) == \
        "tiers[3].when.min_score: 100 → 50\n"
    # 40 × 2.0 = 80 points: below 100, above 50
    figures = json.loads(_ok(invoke(url, "rules", "simulate", "2", token=author)))
    assert (figures["baseline_version"], figures["gaining"]) == (1, 1)
    listed = _ok(invoke(url, "rules", "list")).splitlines()
    assert [line.split()[:2] for line in listed] == [["1", "approved"], ["2", "draft"]]
    assert "(active)" in listed[0]
    shown = json.loads(_ok(invoke(url, "rules", "show")))
    assert (shown["version"], shown["document"]) == (1, DEFAULT_RULESET)
    assert json.loads(_ok(invoke(url, "rules", "show", "2")))["status"] == "draft"


def test_changes_need_a_valid_token(url: str, wired: Ledger, tmp_path: Path) -> None:
    default = _write(tmp_path / "default.json", DEFAULT_RULESET)
    _refused(invoke(url, "rules", "draft", str(default), "--comment", "x", token=None),
             "set POINTSLEDGER_TOKEN")
    _refused(invoke(url, "rules", "draft", str(default), "--comment", "x",
                    token="plt_" + "x" * 43), "not a valid token")
    _ok(invoke(url, "users", "add", "auditor-qian", "--role", "auditor"))
    auditor = _ok(invoke(url, "tokens", "create", "auditor-qian")).split()[-1]
    _refused(invoke(url, "rules", "draft", str(default), "--comment", "x", token=auditor),
             "the role auditor may not change rule sets")


def test_a_bad_document_is_one_sentence(url: str, wired: Ledger, tmp_path: Path) -> None:
    author = _token(url, "risk-li")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    _refused(invoke(url, "rules", "draft", str(broken), "--comment", "x", token=author),
             "is not JSON")
    _refused(invoke(url, "rules", "draft", str(tmp_path / "missing.json"), "--comment", "x",
                    token=author), "cannot read")
    negative = copy.deepcopy(DEFAULT_RULESET)
    negative["deduction_weight"] = "-2"
    _refused(invoke(url, "rules", "draft", str(_write(tmp_path / "negative.json", negative)),
                    "--comment", "x", token=author), "document.deduction_weight: must not")
    _refused(invoke(url, "rules", "show"), "no rule set is active")
