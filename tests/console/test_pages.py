"""Every console page declares who may open it (SPEC §13, default deny), as API routes do."""

from __future__ import annotations

from flask import Flask

from ledger.console.access import ACCESS_ATTRIBUTE, STATIC_ENDPOINT, PageRule


def test_every_console_page_declares_who_may_open_it(app: Flask) -> None:
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("console.") and rule.endpoint != STATIC_ENDPOINT}
    undeclared = sorted(endpoint for endpoint in pages if not isinstance(
        getattr(app.view_functions[endpoint], ACCESS_ATTRIBUTE, None), PageRule))
    assert pages and undeclared == []


def test_a_page_without_a_declaration_is_refused_to_everyone(app: Flask) -> None:
    app.add_url_rule("/console/forgotten", "console.forgotten", lambda: "secret")
    assert app.test_client().get("/console/forgotten").status_code == 403
