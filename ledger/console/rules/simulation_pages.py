"""Simulating a version, and the simulation's page with its charts (SPEC §8, §13).

A simulation reads the whole county: it runs in the background (`start_job`), the officer
watches the job page, which leads to the simulation's page once it is recorded. The figures
are the service's simulation document; the charts and the tables beside them show the same
numbers.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Response

from ledger.app_context import current_ledger
from ledger.console.access import page
from ledger.console.jobs import job_page_url, start_job
from ledger.console.rules.blueprint import actor, blp, known_towns, now
from ledger.console.rules.charts import BarValue, Chart, Series, bar_chart
from ledger.console.rules.forms import SimulateForm
from ledger.console.rules.labels import Town, town_label
from ledger.console.rules.version_pages import RISK_OFFICER
from ledger.service.errors import NotFound
from ledger.service.jobs import Clock, Progress, Work
from ledger.service.rules import simulations
from ledger.service.rules.lifecycle import Actor
from ledger.service.rules.versions import load_versions

JOB_KIND = "rules.simulation"
SIMULATION_ENDPOINT = "console.rules.simulation"
# The two charts by town sit side by side: drawn narrower, their text stays legible.
PAIRED_CHART_WIDTH = 480


@blp.route("/<int:version>/simulate", methods=["POST"])
@page(RISK_OFFICER)
def simulate(version: int) -> Response:
    SimulateForm()  # its CSRF token was checked before the view
    ledger = current_ledger()
    with ledger.sessions() as session:
        if version not in load_versions(session, now()).by_version:
            abort(404)
    urls = current_app.create_url_adapter(request)
    assert urls is not None
    job_id = start_job(JOB_KIND, simulation_work(ledger.sessions, ledger.clock, actor(),
                                                 version, urls))
    return redirect(job_page_url(job_id))


def simulation_work(sessions: sessionmaker[Session], clock: Clock, who: Actor, version: int,
                    urls: MapAdapter) -> Work:
    """The background work: simulate, then name the page that shows the result. The URL is
    built with the asking request's adapter: the work runs outside any request."""

    def work(progress: Progress) -> dict[str, Any]:
        progress.advance(0, force=True)
        recorded = simulations.simulate(sessions, who, version, clock())
        progress.advance(1, 1, force=True)
        return {"url": urls.build(SIMULATION_ENDPOINT, {"version": version,
                                                        "simulation_id": recorded["id"]})}

    return work


@blp.route("/<int:version>/simulations/<int:simulation_id>")
@page(RISK_OFFICER)
def simulation(version: int, simulation_id: int) -> str:
    try:
        with current_ledger().sessions() as session:
            document = simulations.simulation_of(session, version, simulation_id)
    except NotFound:
        abort(404)
    towns = known_towns()
    return render_template("rules/simulation.html", simulation=document,
                           towns=towns, charts=simulation_charts(document, towns),
                           histogram_rows=[(_bucket_label(row), row)
                                           for row in document["histogram"]])


def simulation_charts(document: dict[str, Any], towns: dict[str, Town]) -> list[Chart]:
    by_platform = document["by_platform"]
    codes = list(by_platform)
    labels = [town_label(towns, code) for code in codes]
    return [
        _histogram(document["histogram"]),
        bar_chart(
            "chart-movers", _("Residents gaining and losing, by town"),
            _("For each town, how many residents get better terms and how many get worse "
              "ones under this version."),
            labels, [Series(_("Gaining"), "bar-gain"), Series(_("Losing"), "bar-loss")],
            [[BarValue(by_platform[code]["gaining"],
                       _("%(town)s: %(count)s residents gaining", town=label,
                         count=_number(by_platform[code]["gaining"]))),
              BarValue(by_platform[code]["losing"],
                       _("%(town)s: %(count)s residents losing", town=label,
                         count=_number(by_platform[code]["losing"])))]
             for code, label in zip(codes, labels, strict=True)], _number,
            width=PAIRED_CHART_WIDTH),
        bar_chart(
            "chart-exposure", _("Exposure before and after, by town (CNY)"),
            _("For each town, the sum of the residents' limit uplifts under the active "
              "version and under this one."),
            labels, [Series(_("Before"), "bar-before"), Series(_("After"), "bar-after")],
            [[BarValue(by_platform[code]["exposure_before_cny"],
                       _("%(town)s: %(amount)s CNY before", town=label,
                         amount=_number(by_platform[code]["exposure_before_cny"]))),
              BarValue(by_platform[code]["exposure_after_cny"],
                       _("%(town)s: %(amount)s CNY after", town=label,
                         amount=_number(by_platform[code]["exposure_after_cny"])))]
             for code, label in zip(codes, labels, strict=True)], _number,
            value_labels=False, width=PAIRED_CHART_WIDTH),
    ]


def _histogram(rows: list[dict[str, int]]) -> Chart:
    labels = [_bucket_label(row) for row in rows]
    return bar_chart(
        "chart-histogram", _("Change of limit uplift (CNY): residents"),
        _("How many residents see their limit uplift change by how much; the grey bar "
          "counts those whose uplift does not change."),
        labels, [Series(_("Residents"), "bar-gain")],
        [[BarValue(row["residents"],
                   _("%(range)s: %(count)s residents", range=label,
                     count=_number(row["residents"])), _bucket_css(row))]
         for row, label in zip(rows, labels, strict=True)], _number)


def _bucket_css(row: dict[str, int]) -> str:
    if row["from_cny"] == row["to_cny"] == 0:
        return "bar-same"
    return "bar-gain" if row["from_cny"] >= 0 else "bar-loss"


def _bucket_label(row: dict[str, int]) -> str:
    if row["from_cny"] == row["to_cny"] == 0:
        return str(_("Unchanged"))
    return str(_("%(low)s to %(high)s", low=_signed(row["from_cny"]), high=_signed(row["to_cny"])))


def _signed(amount: int) -> str:
    return ("+" if amount > 0 else "") + _number(amount)


def _number(value: int) -> str:
    return str(format_decimal(value))
