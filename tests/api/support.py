"""Helpers for the API tests: users with tokens, a fake event queue, request shortcuts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from ledger.bootstrap import Ledger, build
from ledger.contract.resident_id import check_character
from ledger.domain.ports import QueueUnavailable
from ledger.domain.roles import BRANCH_ROLES, PLATFORM_ROLES, ROLES
from ledger.domain.verification import Delivery
from ledger.service import access
from tests.support import unique_name

BRANCH = "xiaoshan01"
# A valid ID number (birth date 1949-12-31), built here so that no real person's is used.
ID_NUMBER = "11010519491231002" + check_character("11010519491231002")
AMQP_URL_UNUSED = "amqp://guest:guest@127.0.0.1:5672/unused"


@dataclass(frozen=True)
class Tokens:
    by_role: dict[str, str]
    expired: str


def create_tokens(sessions: sessionmaker[Session], operated_platform: str | None = None
                  ) -> Tokens:
    """One user per role with a fresh token, and one token that has expired.

    A platform operator is bound to a registered platform: there is one only when
    `operated_platform` names it (registering one here would change what other tests list).
    """
    now = datetime.now(UTC)
    by_role: dict[str, str] = {}
    with sessions.begin() as session:
        access.add_branch(session, BRANCH, "萧山农商银行 城厢支行", now)
        for role in ROLES:
            if role in PLATFORM_ROLES and operated_platform is None:
                continue
            username = user_of_role(role)
            branch = BRANCH if role in BRANCH_ROLES else None
            platform = operated_platform if role in PLATFORM_ROLES else None
            access.add_user(session, username, role, branch, now, platform=platform)
            by_role[role], _ = access.create_token(session, username, now)
        access.add_user(session, "user-late", "auditor", None, now)
        expired, _ = access.create_token(session, "user-late", now - timedelta(days=2),
                                         ttl_days=1)
    return Tokens(by_role, expired)


def user_of_role(role: str) -> str:
    """The username `create_tokens` gives the user of this role."""
    return f"user-{role.replace('_', '-')}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_delivery(client: FlaskClient, delivery: Delivery) -> TestResponse:
    """POST a delivery's exact bytes and headers to /api/v1/events."""
    return client.post("/api/v1/events", data=delivery.body, headers=dict(delivery.headers),
                       content_type="application/json")


def in_broker_mode(ledger: Ledger, amqp_url: str = AMQP_URL_UNUSED) -> Ledger:
    """The same database and ingestor, with POINTSLEDGER_AMQP_URL set."""
    settings = dataclasses.replace(ledger.settings, amqp_url=amqp_url)
    return dataclasses.replace(ledger, settings=settings)


@dataclass
class FakeEventQueue:
    """Stands in for RabbitMQ: records what was published, or refuses like a broker that is down."""

    available: bool = True
    published: list[dict[str, object]] = field(default_factory=list)

    def publish(self, routing_key: str, message_id: str, body: bytes,
                headers: Mapping[str, str]) -> None:
        if not self.available:
            raise QueueUnavailable("the broker did not confirm")
        self.published.append({"routing_key": routing_key, "message_id": message_id,
                               "body": body, "headers": dict(headers)})

    def ready(self) -> bool:
        return self.available


def dead_ledger(ledger: Ledger, tmp_path: Path) -> Ledger:
    """A ledger like `ledger` whose database cannot be reached (close it after use)."""
    if ledger.engine.dialect.name == "sqlite":
        url = f"sqlite:///{tmp_path}/missing/directory/ledger.sqlite3"
    else:
        url = ledger.engine.url.set(database=unique_name("pl_dropped")).render_as_string(
            hide_password=False)
    return build(dataclasses.replace(ledger.settings, database_url=url))
