"""Scraping a process's `--metrics-listen` server: the samples it exports, and the check that
no label value could hold a resident, an ID number or a token (SPEC §15)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

from ledger.contract.personal_data import holds_id_number

SCRAPE_TIMEOUT_S = 10.0
# Where each process says it serves its metrics (ledger.runtime.metrics_server).
METRICS_AT = re.compile(r"metrics at (http://\S+/metrics)")
# A label value is a code: a platform, an outcome, a reason, a status, a witness's name.
LABEL_VALUE = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
# A resident's pseudonym, a token or a key: a long run of hex or base64 characters.
SECRET_SHAPED = re.compile(r"[0-9a-f]{32,}|[A-Za-z0-9+/_-]{40,}")

Labels = frozenset[tuple[str, str]]


def labels(**values: str) -> Labels:
    return frozenset(values.items())


def scrape(url: str) -> dict[str, dict[Labels, float]]:
    """Every sample of the page by sample name (a counter's `_total`, a histogram's `_count`…),
    then by its labels."""
    with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT_S) as response:
        assert response.status == 200
        text = response.read().decode()
    samples: dict[str, dict[Labels, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples


def series(samples: Mapping[str, Mapping[Labels, float]], name: str) -> dict[Labels, float]:
    """The non-zero samples of one name (a label set once counted stays, at 0 if reset)."""
    return {key: value for key, value in samples.get(name, {}).items() if value}


def assert_labels_clean(samples: Mapping[str, Mapping[Labels, float]],
                        fed: tuple[str, ...] = ()) -> None:
    """No label of ours holds anything but a short code; none holds what the test fed through
    (ID numbers, pseudonyms, tokens) or anything shaped like them. (`le`, a histogram's bucket
    bound, is a number by construction.)"""
    for name, by_labels in samples.items():
        if not name.startswith("pointsledger_"):
            continue  # the client library's own: python_info, process_*
        for label_set in by_labels:
            for label, value in label_set:
                if label == "le":
                    continue
                assert LABEL_VALUE.fullmatch(value), (name, label, value)
                assert not holds_id_number(value), (name, label)
                assert not SECRET_SHAPED.search(value), (name, label)
                assert not any(text in value for text in fed), (name, label)
