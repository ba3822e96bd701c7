"""Every console page declares who may open it (SPEC §13, default deny), as API routes do."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask

from ledger.console.access import ACCESS_ATTRIBUTE, PageRule, is_static, public_page
from ledger.console.i18n import language_url


def test_every_console_page_declares_who_may_open_it(app: Flask) -> None:
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("console.") and not is_static(rule.endpoint)}
    undeclared = sorted(endpoint for endpoint in pages if not isinstance(
        getattr(app.view_functions[endpoint], ACCESS_ATTRIBUTE, None), PageRule))
    assert pages and undeclared == []


def test_a_page_without_a_declaration_is_refused_to_everyone(app: Flask) -> None:
    app.add_url_rule("/console/forgotten", "console.forgotten", lambda: "secret")
    assert app.test_client().get("/console/forgotten").status_code == 403


def test_an_unexpected_error_is_the_consoles_page_with_an_incident_in_the_log(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> str:
        raise RuntimeError("could not read 330109198001011234")

    app.add_url_rule("/console/broken", "console.broken", public_page(broken))
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/console/broken")

    assert response.status_code == 500 and response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    incident = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", page)
    assert incident is not None and incident.group(0) in caplog.text
    assert "RuntimeError" in caplog.text and "330109198001011234" not in caplog.text
    assert "Content-Security-Policy" in response.headers


def test_the_language_links_of_a_page_that_answered_a_form_lead_to_a_page(
        app: Flask) -> None:
    with app.test_request_context("/console/logout", method="POST"):
        assert language_url("en") == "/console/?lang=en"  # /console/logout takes no GET
    with app.test_request_context("/console/login", method="POST"):
        assert language_url("en") == "/console/login?lang=en"
