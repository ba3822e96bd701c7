"""GET /metrics (SPEC §15): who may read it, the route labels of the request histogram, labels
that never hold a resident, an ID number or a token, and the gauges read from the database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.runtime.metrics import metric_names
from tests.api.log_support import record, sign_checkpoints
from tests.api.support import ID_NUMBER, Tokens, bearer, dead_ledger, post_delivery
from tests.ops.support import HTTP_COUNT, parse, scrape, series, value
from tests.support import RESIDENT_A, RESIDENT_B, PlatformFixture

RESIDENT_ROUTE = "/api/v1/residents/<resident:resident>"


def test_metrics_need_a_monitor_admin_or_auditor_token(client: FlaskClient,
                                                       tokens: Tokens) -> None:
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.content_type == "application/problem+json"
    assert client.get("/metrics", headers=bearer(tokens.by_role["teller"])).status_code == 403
    for role in ("monitor", "admin", "auditor"):
        response = client.get("/metrics", headers=bearer(tokens.by_role[role]))
        assert response.status_code == 200, role
        assert response.content_type.startswith("text/plain; version=")


def test_a_parametrized_route_is_one_series_and_an_unknown_path_is_unmatched(
        client: FlaskClient, tokens: Tokens) -> None:
    auditor = bearer(tokens.by_role["auditor"])
    before = scrape(client, tokens.by_role["monitor"])
    for resident in (RESIDENT_A, RESIDENT_B):
        client.get(f"/api/v1/residents/{resident}", headers=auditor)
    client.get(f"/no/such/{RESIDENT_A}", headers=auditor)
    after = scrape(client, tokens.by_role["monitor"])

    routes = {labels["route"] for labels in series(after, HTTP_COUNT)}
    assert not any(RESIDENT_A in route or RESIDENT_B in route for route in routes)
    moved = {tuple(sorted(labels.items())): value(after, HTTP_COUNT, **labels)
             - value(before, HTTP_COUNT, **labels) for labels in series(after, HTTP_COUNT)}
    # The counters live as long as the process (other tests' requests are in them): what
    # these requests moved is one series for both residents.
    resident_moves = {labels: count for labels, count in moved.items()
                      if dict(labels)["route"] == RESIDENT_ROUTE and count}
    assert resident_moves == {
        (("method", "GET"), ("route", RESIDENT_ROUTE), ("status", "200")): 2}
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, HTTP_COUNT, **unmatched) - value(before, HTTP_COUNT, **unmatched) == 1


def test_no_label_holds_an_id_number_a_token_or_a_resident(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    teller = bearer(tokens.by_role["teller"])
    assert post_delivery(client, platform.delivery(resident=RESIDENT_A)).status_code == 201
    client.get(f"/api/v1/residents/{ID_NUMBER}", headers=teller)
    client.post("/api/v1/residents/lookup", headers=teller, json={"id_number": ID_NUMBER})
    client.get(f"/api/v1/residents/{RESIDENT_A}?access_token={tokens.by_role['teller']}",
               headers=teller)
    client.get(f"/{tokens.by_role['admin']}/{ID_NUMBER}", headers=teller)
    client.open(f"/api/v1/residents/{ID_NUMBER}", method=ID_NUMBER, headers=teller)

    samples = scrape(client, tokens.by_role["monitor"])

    secrets = (ID_NUMBER, RESIDENT_A, *tokens.by_role.values())
    label_values = {value for sample in samples for value in sample.labels.values()}
    assert label_values  # the requests above were counted
    assert not [value for value in label_values for secret in secrets if secret in value]


def test_the_gauges_equal_the_database(ledger: Ledger, tokens: Tokens,
                                       platform: PlatformFixture) -> None:
    record(ledger, platform, 3)
    (skipped,) = ledger.ingestor.ingest([platform.delivery(seq=7)])  # 4, 5 and 6 missing
    assert skipped.status.value == "recorded"
    signed_at = datetime.now(UTC)
    signing = dataclasses.replace(ledger, clock=lambda: signed_at)
    assert sign_checkpoints(signing)  # the ledger log at size 4 (and the audit log)
    scraped_at = signed_at + timedelta(seconds=90)
    client = create_app(dataclasses.replace(ledger, clock=lambda: scraped_at)).test_client()

    samples = scrape(client, tokens.by_role["monitor"])

    assert value(samples, "pointsledger_ledger_head_seq") == 4
    assert value(samples, "pointsledger_platform_gaps", platform=platform.code) == 3
    assert value(samples, "pointsledger_checkpoint_age_seconds", log="ledger") == 90
    assert value(samples, "pointsledger_notices_pending") == 0
    assert value(samples, "pointsledger_scrape_errors") == 0
    ours = {sample.name for sample in samples if sample.name.startswith("pointsledger_")
            and not sample.name.endswith("_created")}  # _created: when a series began
    assert ours <= metric_names()  # what alert rules may name


def test_an_empty_ledger_has_head_zero_and_no_checkpoint_age(client: FlaskClient,
                                                             tokens: Tokens) -> None:
    samples = scrape(client, tokens.by_role["monitor"])
    assert value(samples, "pointsledger_ledger_head_seq") == 0
    assert series(samples, "pointsledger_checkpoint_age_seconds") == []


def test_a_database_that_is_down_still_gets_an_answer(ledger: Ledger, tokens: Tokens,
                                                     tmp_path: Path) -> None:
    # The token is checked against the database: a monitor reading a dead database needs it
    # up for that, so the collector is driven directly, as /metrics drives it.
    from ledger.api.metrics import DatabaseGauges

    dead = dead_ledger(ledger, tmp_path)
    try:
        families = list(DatabaseGauges(dead).collect())
    finally:
        dead.close()
    assert [family.name for family in families] == ["pointsledger_scrape_errors"]
    assert families[0].samples[0].value == 1


def test_the_answer_names_each_metric_once(client: FlaskClient, tokens: Tokens) -> None:
    response = client.get("/metrics", headers=bearer(tokens.by_role["monitor"]))
    type_lines = [line for line in response.get_data(as_text=True).splitlines()
                  if line.startswith("# TYPE ")]
    assert len(type_lines) == len(set(type_lines))
    assert parse(response.get_data(as_text=True))
