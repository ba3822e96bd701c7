"""Reading /metrics as Prometheus reads it: the text parsed by prometheus_client's own parser."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.support import bearer

HTTP_COUNT = "pointsledger_http_request_duration_seconds_count"


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def parse(text: str) -> list[Sample]:
    return [Sample(sample.name, dict(sample.labels), sample.value)
            for family in text_string_to_metric_families(text) for sample in family.samples]


def scrape(client: FlaskClient, token: str) -> list[Sample]:
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain")
    return parse(response.get_data(as_text=True))


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist (yet)."""
    found = [sample.value for sample in samples
             if sample.name == name and dict(sample.labels) == labels]
    assert len(found) <= 1, f"{name}{labels} is exported {len(found)} times"
    return found[0] if found else 0.0


def series(samples: list[Sample], name: str) -> list[Mapping[str, str]]:
    return [sample.labels for sample in samples if sample.name == name]
