"""Long work asked for on a page, and the page that shows how far it has got (SPEC §13).

An area starts work with `start_job(kind, work)` and redirects to `job_page_url(job_id)`; the
job page refreshes itself every second (a meta refresh: no script needed) with a progress bar,
and once the work is done it sends the person on: to what the work's result names as its `url`,
else to the page registered for the job's kind (`register_result_page`, given the job's id),
else it shows the result's `summary`. Only the person who asked sees a job.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, signed_in_page
from ledger.service.errors import NotFound
from ledger.service.jobs import DONE, JobRunner, Work, job_of

RUNNER_EXTENSION = "pointsledger.console_jobs"
REFRESH_S = 1

blp = Blueprint("jobs", __name__, url_prefix="/jobs")

# A job's kind → the endpoint of the page that shows its result, given `job_id`.
_RESULT_PAGES: dict[str, str] = {}


def register_result_page(kind: str, endpoint: str) -> None:
    _RESULT_PAGES[kind] = endpoint


def install(app: Flask, runner: JobRunner) -> None:
    app.extensions[RUNNER_EXTENSION] = runner


def start_job(kind: str, work: Work) -> str:
    runner = current_app.extensions[RUNNER_EXTENSION]
    assert isinstance(runner, JobRunner)
    return runner.start(kind, current_principal().username, work)


def job_page_url(job_id: str) -> str:
    return url_for("console.jobs.show", job_id=job_id)


@blp.route("/<job_id>")
@signed_in_page
def show(job_id: str) -> str | Response | tuple[str, int]:
    ledger = current_ledger()
    try:
        with ledger.sessions() as session:
            job = job_of(session, job_id, current_principal().username, ledger.clock())
    except NotFound:
        return render_template("console/error.html", status=404, csrf_refused=False), 404
    if job.outcome == DONE and job.result and job.result.get("url"):
        return redirect(str(job.result["url"]))
    if job.outcome == DONE and job.kind in _RESULT_PAGES:
        return redirect(url_for(_RESULT_PAGES[job.kind], job_id=job.id))
    return render_template("console/job.html", job=job, refresh_s=REFRESH_S)
