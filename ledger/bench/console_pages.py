"""The console's pages as `bench console` visits them, each timed from the first byte asked to
the last byte of the page a person ends up looking at (redirects followed).

A round visits each page once: a teller looks a resident up by ID number and redeems a gift on
their page, then opens another resident's page (balances and recent entries); an auditor reads
the ledger's entries, the rejections and the audit trail with a filter drawn from what auditors
ask (none, a platform, a kind, a reason, a day, a week, an action, a person); a risk officer
opens the simulation the rule set in force was approved on.
"""

from __future__ import annotations

import random
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.bench import county
from ledger.bench.console_client import Answer, ConsoleClient, form_with_field, forms_of
from ledger.bench.ingest import BenchFailed
from ledger.contract.categories import EntryKind
from ledger.domain.outcomes import Reason

COUNTER_LOOKUP = "counter_lookup"
REDEMPTION = "redemption"
RESIDENT_ENTRIES = "resident_entries"
LEDGER_ENTRIES = "ledger_entries"
REJECTIONS = "rejections"
AUDIT_TRAIL = "audit_trail"
SIMULATION = "simulation"
PAGES = (COUNTER_LOOKUP, REDEMPTION, RESIDENT_ENTRIES, LEDGER_ENTRIES, REJECTIONS,
         AUDIT_TRAIL, SIMULATION)
GIFT_ACTION_PART = "/gifts/"
FORM_WORD_BYTES = 12
WEEK_DAYS = 7
AUDIT_ACTIONS = ("console", "console.signed_in", "console.sign_in_failed", "console.locked_out",
                 "ruleset", "ruleset.approved", "user", "gift", "key.compromised")
REFUSED_STATUSES = (409, 422)


@dataclass(frozen=True)
class County:
    """What the visits draw from."""

    residents: int
    pepper: str
    platforms: tuple[str, ...]
    first_day: date
    last_day: date
    usernames: tuple[str, ...]
    simulation_path: str


@dataclass
class Visitors:
    teller: ConsoleClient
    auditor: ConsoleClient
    risk_officer: ConsoleClient


@dataclass
class Tally:
    latencies_s: dict[str, list[float]] = field(
        default_factory=lambda: {page: [] for page in PAGES})
    redeemed: int = 0
    refused: int = 0


class Rounds:
    """Visits in rounds, with residents and filters drawn from one seeded stream."""

    def __init__(self, visitors: Visitors, county: County, seed: int) -> None:
        self._visitors = visitors
        self._county = county
        self._rng = random.Random(seed)  # noqa: S311 (which residents and filters, not secrets)
        self._teller_page: Answer | None = None

    def run(self, rounds: int, tally: Tally) -> None:
        for _ in range(rounds):
            self._timed(tally, COUNTER_LOOKUP, self._look_up)
            self._timed(tally, REDEMPTION, lambda: self._redeem(tally))
            self._timed(tally, RESIDENT_ENTRIES, self._resident_entries)
            self._timed(tally, LEDGER_ENTRIES, lambda: self._auditor_list(
                "/console/ledger/entries", self._entry_filter()))
            self._timed(tally, REJECTIONS, lambda: self._auditor_list(
                "/console/ledger/rejections", self._rejection_filter()))
            self._timed(tally, AUDIT_TRAIL, lambda: self._auditor_list(
                "/console/ledger/audit", self._audit_filter()))
            self._timed(tally, SIMULATION, lambda: self._visitors.risk_officer.get(
                self._county.simulation_path).expect(200))

    @staticmethod
    def _timed(tally: Tally, page: str, visit: Callable[[], Answer]) -> Answer:
        started = time.perf_counter()
        answer = visit()
        tally.latencies_s[page].append(time.perf_counter() - started)
        return answer

    # -- the counter ---------------------------------------------------------------------------

    def _look_up(self) -> Answer:
        teller = self._visitors.teller
        if self._teller_page is None:
            self._teller_page = teller.get("/console/counter").expect(200)
        form = form_with_field(self._teller_page, "id_number")
        number = self._rng.randrange(self._county.residents)
        fields = {**form.fields, "id_number": county.id_number_of(number)}
        page = teller.follow(teller.post(form.action, fields).expect(303)).expect(200)
        self._teller_page = page
        return page

    def _redeem(self, tally: Tally) -> Answer:
        """A gift of the page the look-up led to, one of it, from the platform with most
        points."""
        resident_page = self._teller_page
        assert resident_page is not None  # a round looks a resident up first
        gift_forms = [form for form in forms_of(resident_page.text)
                      if GIFT_ACTION_PART in form.action]
        if not gift_forms:
            raise BenchFailed(f"{resident_page.url} offers no gift to redeem")
        form = self._rng.choice(gift_forms)
        teller = self._visitors.teller
        answer = teller.post(form.action, form.fields)
        if answer.status in REFUSED_STATUSES:  # not enough points: the page says so
            tally.refused += 1
            return answer
        tally.redeemed += 1
        return teller.follow(answer.expect(303)).expect(200)

    def _resident_entries(self) -> Answer:
        number = self._rng.randrange(self._county.residents)
        resident = county.resident(number, pepper=self._county.pepper).pseudonym
        word = secrets.token_urlsafe(FORM_WORD_BYTES)
        return self._visitors.teller.get(
            f"/console/counter/residents/{resident}?form={word}").expect(200)

    # -- the auditor ---------------------------------------------------------------------------

    def _auditor_list(self, path: str, filters: dict[str, str]) -> Answer:
        query = urllib.parse.urlencode(filters)
        return self._visitors.auditor.get(f"{path}?{query}" if query else path).expect(200)

    def _entry_filter(self) -> dict[str, str]:
        rng = self._rng
        platform = rng.choice(self._county.platforms)
        kind = rng.choice(list(EntryKind)).value
        return rng.choice((
            {}, {"platform": platform}, {"kind": kind}, self._days(1),
            {"platform": platform, **self._days(WEEK_DAYS)}, {"kind": kind, **self._days(1)}))

    def _rejection_filter(self) -> dict[str, str]:
        rng = self._rng
        reason = rng.choice(list(Reason)).value
        return rng.choice((
            {}, {"reason": reason}, {"platform": rng.choice(self._county.platforms)},
            self._days(WEEK_DAYS), {"reason": reason, **self._days(WEEK_DAYS)}))

    def _audit_filter(self) -> dict[str, str]:
        rng = self._rng
        action = rng.choice(AUDIT_ACTIONS)
        subject = f"user:{rng.choice(self._county.usernames)}"
        return rng.choice(({}, {"action": action}, {"subject": subject},
                           {"subject": subject, "action": "console.signed_in"}))

    def _days(self, count: int) -> dict[str, str]:
        """`count` days from a day of the history (dates as the form takes them)."""
        span = (self._county.last_day - self._county.first_day).days
        first = self._county.first_day + timedelta(days=self._rng.randrange(max(1, span)))
        return {"since": first.isoformat(),
                "until": (first + timedelta(days=count - 1)).isoformat()}
