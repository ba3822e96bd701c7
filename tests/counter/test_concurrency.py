"""Tellers serving at the same moment, each on their own database connection (SPEC §9): the
last points and the last gift go once; balances and stock never go negative."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select

from ledger.bootstrap import Ledger
from ledger.infra.db.models import BranchStock, Redemption
from ledger.service.chain_audit import audit_chain
from ledger.service.counter.redemptions import Answer, RedemptionRequest, redeem
from ledger.service.errors import Conflict, ServiceError
from tests.counter.conftest import BRANCH, COOKWARE, PLATFORM, RICE, Staff
from tests.ledger.helpers import balance
from tests.support import RESIDENT_A, RESIDENT_B

ATTEMPTS_AT_ONCE = 6
THREAD_TIMEOUT_S = 60


def _at_once(attempts: list[Callable[[], Answer]]) -> list[Answer | ServiceError]:
    barrier = threading.Barrier(len(attempts))
    results: list[Answer | ServiceError | None] = [None] * len(attempts)
    unexpected: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempts[index]()
        except ServiceError as error:
            results[index] = error
        except BaseException as error:
            unexpected.append(error)
            raise

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_S)
    assert unexpected == []
    assert all(result is not None for result in results), "a teller's request never ended"
    return [result for result in results if result is not None]


def _attempt(ledger: Ledger, staff: Staff, teller: str, key: str, resident: str, sku: str,
             quantity: int) -> Callable[[], Answer]:
    def attempt() -> Answer:
        with ledger.sessions.begin() as session:
            return redeem(session, staff.principals[teller], ledger.ledger_key(),
                          RedemptionRequest(resident, PLATFORM, sku, quantity), key,
                          datetime.now(UTC))
    return attempt


def _stock(ledger: Ledger, sku: str) -> int:
    with ledger.sessions() as session:
        row = session.get(BranchStock, (BRANCH, sku))
        return 0 if row is None else row.quantity


def _redemptions(ledger: Ledger) -> int:
    with ledger.sessions() as session:
        return session.scalar(select(func.count()).select_from(Redemption)) or 0


def test_two_tellers_spending_the_last_points_at_once(ledger: Ledger, counter: Staff) -> None:
    # Resident B has 50 points: one bag of rice (40), not two.
    results = _at_once([_attempt(ledger, counter, teller, f"{teller}-1", RESIDENT_B, RICE[0], 1)
                        for teller in ("teller-li", "teller-wang")])

    served = [result for result in results if isinstance(result, Answer)]
    refused = [result for result in results if isinstance(result, ServiceError)]
    assert len(served) == 1 and len(refused) == 1
    assert isinstance(refused[0], Conflict) and refused[0].code == "insufficient_points"
    assert refused[0].figures == {"balance": 10, "cost": 40}
    assert balance(ledger, RESIDENT_B, PLATFORM)["spendable"] == 10
    assert _stock(ledger, RICE[0]) == 9


def test_many_tellers_selling_the_last_gifts_at_once(ledger: Ledger, counter: Staff) -> None:
    # Two sets of cookware in stock; six requests for one each, alternating two tellers.
    tellers = ["teller-li", "teller-wang"] * (ATTEMPTS_AT_ONCE // 2)
    results = _at_once([_attempt(ledger, counter, teller, f"last-{index}", RESIDENT_A,
                                 COOKWARE[0], 1) for index, teller in enumerate(tellers)])

    served = [result for result in results if isinstance(result, Answer)]
    assert len(served) == 2
    assert all(isinstance(result, Conflict) and result.code == "insufficient_stock"
               for result in results if not isinstance(result, Answer))
    assert _stock(ledger, COOKWARE[0]) == 0
    assert balance(ledger, RESIDENT_A, PLATFORM)["redeemed"] == 240
    assert len({answer.document["receipt_no"] for answer in served}) == 2
    with ledger.sessions() as session:
        assert audit_chain(session).intact


def test_a_request_sent_twice_at_once_is_served_once(ledger: Ledger, counter: Staff) -> None:
    results = _at_once([_attempt(ledger, counter, "teller-li", "impatient", RESIDENT_A,
                                 RICE[0], 2) for _ in range(2)])

    assert all(isinstance(result, Answer) for result in results)
    answers = [result for result in results if isinstance(result, Answer)]
    assert answers[0].document == answers[1].document
    assert sorted(answer.replayed for answer in answers) == [False, True]
    assert _redemptions(ledger) == 1
    assert balance(ledger, RESIDENT_A, PLATFORM)["redeemed"] == 80
