"""The ledger's head and `Verify`, with the page that shows what a verification found."""

from __future__ import annotations

from datetime import datetime

from flask import redirect, render_template
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import current_principal, page
from ledger.console.jobs import job_page_url, register_result_page, start_job
from ledger.console.ledger_pages import verification
from ledger.console.ledger_pages.blueprint import blp
from ledger.console.ledger_pages.labels import audit_fault, ledger_fault
from ledger.infra.db.tree_store import LEDGER_LOG
from ledger.service.checkpoints import cosignatures, latest_checkpoint
from ledger.service.errors import NotFound
from ledger.service.jobs import DONE, job_of
from ledger.service.ledger_read import ledger_head
from ledger.service.witnesses import witness_standings


class VerifyForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """Only its CSRF token: starting a verification is a change (a job is kept)."""


@blp.route("")
@page("auditor")
def home() -> str:
    with current_ledger().sessions() as session:
        head = ledger_head(session)
        signed = latest_checkpoint(session, LEDGER_LOG)
        cosigned = [] if signed is None else cosignatures(session, signed.id)
        witnesses = witness_standings(session, LEDGER_LOG)
    return render_template("ledger/home.html", head=head, form=VerifyForm(), signed=signed,
                           cosigned={c.witness for c in cosigned}, witnesses=witnesses)


register_result_page(verification.JOB_KIND, "console.ledger.verified")


@blp.route("/verify", methods=["POST"])
@page("auditor")
def verify() -> Response:
    ledger = current_ledger()
    job_id = start_job(verification.JOB_KIND,
                       verification.verification(ledger.sessions, ledger.clock))
    return redirect(job_page_url(job_id))


@blp.route("/verifications/<job_id>")
@page("auditor")
def verified(job_id: str) -> str | Response | tuple[str, int]:
    ledger = current_ledger()
    try:
        with ledger.sessions() as session:
            job = job_of(session, job_id, current_principal().username, ledger.clock())
    except NotFound:
        return render_template("console/error.html", status=404, csrf_refused=False), 404
    if job.kind != verification.JOB_KIND:
        return render_template("console/error.html", status=404, csrf_refused=False), 404
    if job.outcome != DONE or job.result is None:
        return redirect(job_page_url(job_id))
    chain, trail = job.result["ledger"], job.result["audit_trail"]
    for held in (chain.get("checkpoint"), trail.get("checkpoint")):
        if held:
            held["signed_at"] = datetime.fromisoformat(held["signed_at"])
    return render_template(
        "ledger/verified.html", chain=chain, trail=trail, form=VerifyForm(),
        finished_at=datetime.fromisoformat(job.result["finished_at"]),
        chain_fault=(None if chain["first_bad_seq"] is None
                     else ledger_fault(chain["fault"], chain["first_bad_seq"])),
        trail_fault=(None if trail["first_bad_seq"] is None
                     else audit_fault(trail["fault"], trail["first_bad_seq"])))
