"""Idempotent demo setup: the four platforms with keys on disk, a branch and one user per role,
each with a console password made for this run."""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from ledger.bootstrap import Ledger
from ledger.contract.webhook import decode_private_key, encode_private_key
from ledger.demo.scenario import PLATFORMS
from ledger.infra.db.models import Branch, Platform, User
from ledger.runtime.secret_file import write_secret_file
from ledger.service import administration

DEMO_KEY_DIRECTORY = Path("var/demo-keys")
DEMO_BRANCH = ("XS-GUALI", "萧山农商银行瓜沥支行")
DEMO_OPERATED_PLATFORM = "lijiayuan"
# username, role, branch, platform
DEMO_USERS = (
    ("demo-admin", "admin", None, None),
    ("demo-auditor", "auditor", None, None),
    ("demo-teller", "teller", DEMO_BRANCH[0], None),
    ("demo-supervisor", "supervisor", DEMO_BRANCH[0], None),
    ("demo-risk", "risk_officer", None, None),
    ("demo-risk2", "risk_officer", None, None),  # the second pair of eyes on rule changes
    ("demo-loans", "credit_system", None, None),
    ("demo-operator", "platform_operator", None, DEMO_OPERATED_PLATFORM),
)
DEMO_TOKEN_TTL_DAYS = 7
# Who the audit trail names for what the demo sets up (usernames cannot hold a colon).
DEMO_ACTOR = "demo:setup"
# Console passwords are read off the terminal and typed: letters and digits that cannot be
# mistaken for one another (no 0/o, 1/l/i), in four groups of four: about 79 bits.
DEMO_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet
DEMO_PASSWORD_GROUPS = 4
DEMO_PASSWORD_GROUP_LENGTH = 4


def ensure_platforms(ledger: Ledger) -> dict[str, Ed25519PrivateKey]:
    """Each demo platform registered, with a private key kept in var/demo-keys/."""
    DEMO_KEY_DIRECTORY.mkdir(parents=True, exist_ok=True)
    keys: dict[str, Ed25519PrivateKey] = {}
    with ledger.sessions.begin() as session:
        for platform in PLATFORMS:
            now = ledger.clock()
            if session.get(Platform, platform.code) is None:
                administration.add_platform(session, DEMO_ACTOR, platform.code, platform.name,
                                            platform.township, now)
            key_file = DEMO_KEY_DIRECTORY / f"{platform.code}.key"
            if key_file.exists():
                keys[platform.code] = decode_private_key(key_file.read_text(encoding="ascii"))
                continue
            private_key, _ = administration.generate_key(session, DEMO_ACTOR, platform.code, now)
            write_secret_file(key_file, encode_private_key(private_key) + "\n")
            keys[platform.code] = private_key
    return keys


def ensure_people(ledger: Ledger) -> dict[str, str]:
    """One user per role (created once) and a fresh short-lived token for each, by username.
    The platforms come first (ensure_platforms): the platform's operator is bound to one."""
    tokens: dict[str, str] = {}
    with ledger.sessions.begin() as session:
        now = ledger.clock()
        if session.get(Branch, DEMO_BRANCH[0]) is None:
            administration.add_branch(session, DEMO_ACTOR, *DEMO_BRANCH, now)
        for username, role, branch, platform in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                administration.add_user(session, DEMO_ACTOR, username, role, branch, platform,
                                        now)
            tokens[username], _ = administration.create_token(
                session, DEMO_ACTOR, username, DEMO_TOKEN_TTL_DAYS, now)
    return tokens


def give_console_passwords(ledger: Ledger) -> dict[str, str]:
    """A new console password for every demo user, by username, to print.

    Made afresh on every run rather than fixed: a demo left serving on a branch's network would
    otherwise open to anyone who has read the README. The policy (SPEC §12) applies as to
    anyone's password, and the audit trail records that each was set, never the password.
    """
    passwords: dict[str, str] = {}
    with ledger.sessions.begin() as session:
        now = ledger.clock()
        for username, *_assignment in DEMO_USERS:
            passwords[username] = new_demo_password()
            administration.set_password(session, DEMO_ACTOR, username, passwords[username], now)
    return passwords


def new_demo_password() -> str:
    return "-".join("".join(secrets.choice(DEMO_PASSWORD_ALPHABET)
                            for _ in range(DEMO_PASSWORD_GROUP_LENGTH))
                    for _ in range(DEMO_PASSWORD_GROUPS))
