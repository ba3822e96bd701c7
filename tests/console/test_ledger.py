"""The auditor's pages in Chromium (SPEC §13): the ledger's head, `Verify` with its progress
and its result, entries filtered by platform, a rejection's reason and masked body, platforms
and their gaps, the audit trail; and a row changed behind the ledger's back named by `Verify`."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ledger.bootstrap import Ledger
from ledger.console.ledger_pages import verification
from ledger.contract.cosignature import CosignatureSigner
from ledger.contract.note import open_note
from ledger.contract.note_keys import Verifier
from ledger.infra.db.models import MerkleTile, Witness
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.service.chain_audit import ProgressCallback, audit_chain_in_steps
from ledger.service.checkpoints import CheckpointPolicy, log_signer
from ledger.service.witnesses import add_witness, record_cosignature
from ledger.worker.checkpointer import Checkpointer
from tests.console.ledger_seed import ID_NUMBER, MASKED, NEIGHBOUR_NAME, Seeded, seed, tamper
from tests.console.test_sign_in import sign_in

WAIT_S = 10.0
NOW_POLICY = CheckpointPolicy(interval_s=0, poll_s=0)  # sign whatever grew, now


@pytest.fixture
def seeded(console_ledger: Ledger) -> Seeded:
    return seed(console_ledger)


@pytest.fixture
def held_verification(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Verification stops after telling its first progress, until the test lets it go on:
    long enough for the progress page to be seen, however small the ledger."""
    go_on = threading.Event()

    def held(sessions: Any, progress: ProgressCallback | None = None,
             check_tree: bool = False) -> Any:
        def told(done: int, total: int) -> None:
            assert progress is not None
            progress(done, total)
            assert go_on.wait(WAIT_S), "the test never let the verification go on"

        return audit_chain_in_steps(sessions, told, check_tree)

    monkeypatch.setattr(verification, "audit_chain_in_steps", held)
    yield go_on
    go_on.set()


def test_the_auditors_main_path(page: Page, seeded: Seeded,
                                held_verification: threading.Event) -> None:
    sign_in(page, "sun.auditor")

    expect(page).to_have_url(re.compile(r"/console/ledger$"))
    expect(page.get_by_role("heading", name="台账最新状态")).to_be_visible()
    expect(page.locator("#head-seq")).to_have_text("6")  # 4 of lijiayuan, 2 of wuhe
    expect(page.locator("#head-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))

    page.get_by_role("button", name="校验").click()
    # The page follows the work by itself: the ledger's 6 entries checked, the trail's not yet.
    expect(page.get_by_label("进度")).to_have_attribute("value", re.compile(r"^[1-9][0-9]?$"))
    held_verification.set()
    expect(page).to_have_url(re.compile(r"/console/ledger/verifications/\w+$"))
    expect(page.locator("#chain-result")).to_have_text("完好：全部 6 条记录与哈希值相符。")
    expect(page.locator("#trail-result")).to_contain_text("完好")

    page.get_by_role("link", name="台账记录").click()
    page.get_by_label("平台").select_option(label=f"{NEIGHBOUR_NAME} (wuhe)")
    page.get_by_role("button", name="查看").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_contain_text("wuhe")

    page.get_by_role("link", name="拒收记录").click()
    page.get_by_label("原因").select_option(label="字段不符合接口规范")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("main table tbody tr")).to_have_count(3)
    page.get_by_role("row").filter(has_text="memo").get_by_role("link").click()
    expect(page.get_by_role("heading", name="字段不符合接口规范")).to_be_visible()
    expect(page.get_by_text("must not hold anything shaped like a resident ID number")
           ).to_be_visible()
    body = page.locator("#body-text")
    expect(body).to_contain_text(MASKED)
    expect(body).not_to_contain_text(ID_NUMBER)
    expect(page.locator("#body-sha256")).to_have_text(seeded.id_number_body_sha256)

    page.get_by_role("link", name="平台与缺号").click()
    lijiayuan = page.get_by_role("row").filter(has_text="lijiayuan")
    expect(lijiayuan.get_by_role("cell").nth(1)).to_have_text("6")
    expect(lijiayuan.get_by_role("cell").nth(2)).to_have_text("4 至 5")
    expect(lijiayuan.get_by_role("cell").nth(3)).to_have_text("2")

    page.get_by_role("link", name="审计日志").click()
    page.get_by_label("操作").fill("console")
    page.get_by_role("button", name="查看").click()
    first = page.locator("main table tbody tr").first  # newest first: this sign-in
    expect(first).to_contain_text("console.signed_in")
    expect(first).to_contain_text("sun.auditor")


def test_verify_names_the_first_entry_changed_behind_the_ledgers_back(
        page: Page, console_ledger: Ledger, seeded: Seeded) -> None:
    with console_ledger.engine.begin() as connection:
        tamper(connection, "UPDATE ledger_entries SET points = 2000 WHERE seq = 3")
    sign_in(page, "sun.auditor")

    page.get_by_role("button", name="校验").click()

    result = page.locator("#chain-result")
    expect(result).to_contain_text("在第 3 号记录处断开。")
    expect(result).to_contain_text("第 3 号记录与其哈希值不符：写入后被改动过。")
    expect(result).to_contain_text("它之前的记录（2 条）与哈希值相符。")
    page.get_by_role("link", name="查看第 3 号记录").click()
    expect(page.get_by_role("heading", name="第 3 号记录")).to_be_visible()
    expect(page.locator("main")).to_contain_text('"points": 2000')


def test_the_pages_read_in_english(page: Page, seeded: Seeded) -> None:
    sign_in(page, "sun.auditor", lang="en")

    expect(page.get_by_role("heading", name="The ledger's head")).to_be_visible()
    page.get_by_role("link", name="Platforms and gaps").click()
    expect(page.get_by_role("row").filter(has_text="lijiayuan")).to_contain_text("4 to 5")


def test_the_ledger_page_shows_the_checkpoint_and_who_cosigned_it(
        page: Page, console_ledger: Ledger, seeded: Seeded) -> None:
    (signed,) = [row for row in Checkpointer(console_ledger, NOW_POLICY).sign_due()
                 if row.log == LEDGER_LOG]
    town, regulator = (CosignatureSigner(name, Ed25519PrivateKey.generate())
                       for name in ("witness.guali.gov.cn", "witness.regulator.example"))
    now = console_ledger.clock()
    with console_ledger.sessions.begin() as session:
        for name, key in (("guali", town), ("regulator", regulator)):
            add_witness(session, "test", name, f"https://{key.name}", key.vkey(), now)
        checkpoint = session.merge(signed)
        text = open_note(checkpoint.note, [Verifier.from_vkey(
            log_signer(console_ledger.settings.log_origin, LEDGER_LOG,
                       console_ledger.ledger_key()).vkey())]).text
        record_cosignature(session, checkpoint, session.get_one(Witness, "guali"),
                           town.cosign(text, int(now.timestamp())), now, now)
    sign_in(page, "sun.auditor")

    expect(page.locator("#checkpoint-size")).to_have_text("6")
    expect(page.locator("#checkpoint-root")).to_have_text(signed.root.hex())
    rows = page.locator("#witnesses tbody tr")
    expect(rows.filter(has_text="guali")).to_contain_text("是")
    expect(rows.filter(has_text="regulator")).to_contain_text("尚未")

    page.get_by_role("button", name="校验").click()
    expect(page.locator("#chain-checkpoint")).to_contain_text("最新签署的检查点（规模 6")
    expect(page.locator("#chain-checkpoint")).to_contain_text("成立")


def test_verify_names_a_merkle_tree_changed_behind_the_ledgers_back(
        page: Page, console_ledger: Ledger, seeded: Seeded) -> None:
    with console_ledger.sessions.begin() as session:  # the first leaf's hash overwritten
        tile = session.scalars(select(MerkleTile).where(
            MerkleTile.log == LEDGER_LOG, MerkleTile.level == 0)).one()
        tile.hashes = bytes(32) + tile.hashes[32:]
    sign_in(page, "sun.auditor")

    page.get_by_role("button", name="校验").click()

    result = page.locator("#chain-result")
    expect(result).to_contain_text("记录完好，但默克尔树保存的哈希值从第 1 条记录起与之不符")
