from ledger.bootstrap import Ledger
from ledger.domain.outcomes import Status
from tests.support import PlatformFixture


def test_a_signed_award_is_recorded_once(ledger: Ledger, platform: PlatformFixture) -> None:
    delivery = platform.delivery()
    first, second = ledger.ingestor.ingest([delivery, delivery])
    assert first.status is Status.RECORDED and first.seq == 1
    assert second.status is Status.DUPLICATE and second.seq == 1
