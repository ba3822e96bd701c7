"""Thirteen months of a county bank's audit trail, for `bench console`: the staff of its branches
signing in to the console and out again on each working day, now and then a wrong password.

The trail's auditor pages read it newest first with filters, so it must be as long as a real
one: about 140 000 events for 40 branches. It is a valid chain (each event's hash computed as
`append_audit` does), written with COPY at seq 1 on, in time order: call it on an empty trail,
before anything audited happens.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from ledger.bench.county import Month
from ledger.domain.audit import AuditRecord, next_audit_hash
from ledger.domain.entry import GENESIS_HASH
from ledger.domain.scoring import SHANGHAI
from ledger.service import access
from ledger.service.sign_in import (
    ANONYMOUS_ACTOR,
    SIGN_IN_FAILED,
    SIGNED_IN,
    SIGNED_OUT,
    subject_of,
)

BRANCHES = 40
TELLERS_PER_BRANCH = 3
OFFICE_STAFF = (("auditor", 3), ("risk_officer", 3), ("admin", 2))
SUNDAY = 6
WRONG_PASSWORD_SHARE = 0.03
SECOND_SIGN_IN_SHARE = 0.25  # signs in again after lunch
HISTORY_SEED = 20261203
AUDIT_COLUMNS = ("seq", "at", "actor", "action", "subject", "comment", "document_sha256",
                 "details", "entry_hash")


@dataclass(frozen=True)
class Person:
    username: str
    role: str
    branch: str | None


def staff() -> list[Person]:
    """Tellers and a supervisor per branch, and the head office's people."""
    people: list[Person] = []
    for number in range(1, BRANCHES + 1):
        branch = branch_code(number)
        people.extend(Person(f"{branch.lower()}.teller{teller}", "teller", branch)
                      for teller in range(1, TELLERS_PER_BRANCH + 1))
        people.append(Person(f"{branch.lower()}.supervisor", "supervisor", branch))
    for role, count in OFFICE_STAFF:
        people.extend(Person(f"office.{role}{n}", role, None) for n in range(1, count + 1))
    return people


def branch_code(number: int) -> str:
    return f"BR{number:03d}"


def add_staff(session: Session, people: list[Person], now: datetime) -> None:
    """The branches and the people (no console password: nobody signs in as them here)."""
    for number in range(1, BRANCHES + 1):
        access.add_branch(session, branch_code(number), f"支行 {number}", now)
    session.flush()
    for person in people:
        access.add_user(session, person.username, person.role, person.branch, now)


def write_history(connection: psycopg.Connection[Any], people: list[Person],
                  months: list[Month]) -> int:
    """Append the history to an empty trail; how many events."""
    rng = random.Random(HISTORY_SEED)  # noqa: S311 (test data, not secrets)
    previous = GENESIS_HASH
    seq = 0
    with connection.cursor().copy(
            f"COPY audit_trail ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
        for day in _working_days(months):
            for at, actor, action, subject, comment, details in _day(rng, people, day):
                seq += 1
                record = AuditRecord(seq, at, actor, action, subject, comment, None, details)
                previous = next_audit_hash(previous, record)
                copy.write_row((seq, at, actor, action, subject, comment, None,
                                None if details is None else json.dumps(details),
                                previous.hex()))
    connection.commit()
    return seq


def _working_days(months: list[Month]) -> list[datetime]:
    """Midnight (Beijing time) of each day but Sunday, from the first month to the day before
    the last month's end."""
    first = datetime.fromtimestamp(months[0].start_s, SHANGHAI)
    last = datetime.fromtimestamp(months[-1].end_s, SHANGHAI) - timedelta(days=1)
    days = []
    day = first
    while day < last:
        if day.weekday() != SUNDAY:
            days.append(day)
        day += timedelta(days=1)
    return days


Event = tuple[datetime, str, str, str, str, dict[str, Any] | None]


def _day(rng: random.Random, people: list[Person], day: datetime) -> list[Event]:
    """One working day's sign-ins and sign-outs, in time order."""
    events: list[Event] = []
    for person in people:
        origin = {"from": f"10.{rng.randrange(1, 41)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}
        subject = subject_of(person.username)
        sessions = [(8 * 3600, 12 * 3600)]
        if rng.random() < SECOND_SIGN_IN_SHARE:
            sessions.append((13 * 3600, 17 * 3600))
        for start_s, end_s in sessions:
            signed_in = (day + timedelta(seconds=start_s + rng.randrange(3600))).astimezone(UTC)
            if rng.random() < WRONG_PASSWORD_SHARE:
                events.append((signed_in - timedelta(seconds=rng.randrange(5, 60)),
                               ANONYMOUS_ACTOR, SIGN_IN_FAILED, subject, "sign-in failed",
                               origin))
            events.append((signed_in, person.username, SIGNED_IN, subject,
                           "signed in to the console", origin))
            signed_out = (day + timedelta(seconds=end_s + rng.randrange(3600))).astimezone(UTC)
            events.append((signed_out, person.username, SIGNED_OUT, subject,
                           "signed out of the console", None))
    events.sort(key=lambda event: event[0])
    return events
