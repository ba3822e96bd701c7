"""Long work runs in the background and its page shows how far it has got (SPEC §13)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.infra.db.models import ConsoleJob
from ledger.service.errors import NotFound
from ledger.service.jobs import DONE, FAILED, INTERRUPTED, RUNNING, JobRunner, Progress, job_of
from tests.console.support import PASSWORD, add_people
from tests.console.test_sessions import sign_in

WAIT_S = 10.0


@pytest.fixture
def people(ledger: Ledger) -> Ledger:
    add_people(ledger)
    return ledger


@pytest.fixture
def runner(people: Ledger) -> Iterator[JobRunner]:
    running = JobRunner(people.sessions, people.clock)
    yield running
    running.shutdown()


def _wait_for(ledger: Ledger, job_id: str, outcome: str) -> None:
    deadline = threading.Event()
    for _ in range(int(WAIT_S / 0.05)):
        with ledger.sessions() as session:
            if job_of(session, job_id, "li.teller", ledger.clock()).outcome == outcome:
                return
        deadline.wait(0.05)
    raise AssertionError(f"job {job_id} did not become {outcome}")


def test_work_runs_in_the_background_and_its_progress_is_kept(
        people: Ledger, runner: JobRunner) -> None:
    halfway, go_on = threading.Event(), threading.Event()

    def work(progress: Progress) -> dict[str, Any]:
        progress.advance(50, 100, force=True)
        halfway.set()
        assert go_on.wait(WAIT_S)
        progress.advance(100, 100, force=True)
        return {"summary": "all 100 checked"}

    job_id = runner.start("check", "li.teller", work)  # returns at once
    assert halfway.wait(WAIT_S)
    with people.sessions() as session:
        running = job_of(session, job_id, "li.teller", people.clock())
    assert (running.outcome, running.done, running.total, running.percent) == (RUNNING, 50,
                                                                               100, 50)
    go_on.set()
    _wait_for(people, job_id, DONE)
    with people.sessions() as session:
        done = job_of(session, job_id, "li.teller", people.clock())
    assert done.result == {"summary": "all 100 checked"} and done.percent == 100


def test_failed_work_is_recorded_without_its_message(people: Ledger, runner: JobRunner) -> None:
    def work(progress: Progress) -> dict[str, Any]:
        raise ValueError("330109198001011234 was in the row")

    job_id = runner.start("check", "li.teller", work)
    _wait_for(people, job_id, FAILED)
    with people.sessions() as session:
        assert job_of(session, job_id, "li.teller", people.clock()).error == "ValueError"


def test_a_job_without_news_is_shown_as_interrupted(people: Ledger, runner: JobRunner) -> None:
    stop = threading.Event()
    job_id = runner.start("check", "li.teller", lambda progress: {"ok": stop.wait(WAIT_S)})
    with people.sessions() as session:
        later = people.clock() + timedelta(minutes=3)
        assert job_of(session, job_id, "li.teller", later).outcome == INTERRUPTED
    stop.set()


def test_only_who_asked_sees_a_job(people: Ledger, runner: JobRunner) -> None:
    job_id = runner.start("check", "li.teller", lambda progress: {})
    with people.sessions() as session, pytest.raises(NotFound):
        job_of(session, job_id, "wang.supervisor", people.clock())


def test_the_job_page_shows_progress_then_leads_to_the_result(people: Ledger) -> None:
    with people.sessions.begin() as session:
        session.add(ConsoleJob(id="a" * 32, kind="check", requested_by="li.teller",
                               created_at=people.clock(), updated_at=people.clock(), done=3,
                               total=4, finished_at=None, outcome=RUNNING, result=None,
                               error=None))
    client: FlaskClient = create_app(ledger=people).test_client()
    assert sign_in(client, "li.teller", PASSWORD) == 302

    page = client.get("/console/jobs/" + "a" * 32).get_data(as_text=True)
    assert re.search(r'<progress id="job-progress" max="100" value="75">', page)
    assert '<meta http-equiv="refresh" content="1">' in page

    with people.sessions.begin() as session:
        job = session.get(ConsoleJob, "a" * 32)
        assert job is not None
        job.outcome, job.result = DONE, {"url": "/console/counter"}
    finished = client.get("/console/jobs/" + "a" * 32)
    assert finished.status_code == 302 and finished.headers["Location"] == "/console/counter"

    sign_in(client, "wang.supervisor", PASSWORD)
    assert client.get("/console/jobs/" + "a" * 32).status_code == 404
