"""The deployment's monitoring files (deploy/) parse, and name only what our code exports.

An alert whose expression names a metric nobody exports never fires, and Prometheus says
nothing about it: these tests are what catches a renamed metric or a typo.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ledger.runtime.metrics import metric_names

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
METRIC = re.compile(r"\bpointsledger_[A-Za-z0-9_]+")
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rules() -> list[dict[str, Any]]:
    groups = _yaml(DEPLOY / "prometheus" / "alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard() -> dict[str, Any]:
    document = json.loads((DEPLOY / "grafana" / "dashboards" / "pointsledger.json")
                          .read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _panel_expressions() -> list[str]:
    return [target["expr"] for panel in _dashboard()["panels"] for target in panel["targets"]]


def _compose() -> dict[str, Any]:
    document = _yaml(ROOT / "docker-compose.yml")
    assert isinstance(document, dict)
    return document


def test_metric_names_are_found_in_an_expression() -> None:
    # The extraction itself: a suffix and a label matcher stay out of the name.
    expression = 'sum(rate(pointsledger_http_request_duration_seconds_bucket{status=~"5.."}[5m]))'
    assert METRIC.findall(expression) == ["pointsledger_http_request_duration_seconds_bucket"]


def test_every_alert_names_only_metrics_the_code_exports() -> None:
    exported = metric_names()
    for rule in _rules():
        named = set(METRIC.findall(rule["expr"]))
        # Only the alert on Prometheus' own `up` (a process that cannot be scraped) may name none.
        assert named or rule["expr"].strip() == "up == 0", f"{rule['alert']} names none of ours"
        assert named <= exported, f"{rule['alert']}: not exported: {sorted(named - exported)}"


def test_every_dashboard_panel_names_only_metrics_the_code_exports() -> None:
    exported = metric_names()
    for expression in _panel_expressions():
        named = set(METRIC.findall(expression))
        assert named, f"a panel names none of our metrics: {expression}"
        assert named <= exported, f"not exported: {sorted(named - exported)} in {expression}"


def test_the_alerts_cover_what_an_operator_must_hear_about() -> None:
    named = {name for rule in _rules() for name in METRIC.findall(rule["expr"])}
    for metric in ("pointsledger_events_total", "pointsledger_platform_gaps",
                   "pointsledger_rejections_total", "pointsledger_notices_pending",
                   "pointsledger_consumer_lock_held", "pointsledger_checkpoint_age_seconds",
                   "pointsledger_witness_cosigned_size",
                   "pointsledger_http_request_duration_seconds_bucket",
                   "pointsledger_http_request_duration_seconds_count"):
        assert metric in named, f"no alert watches {metric}"
    # The issue's own words: dead letters page a person.
    dead = [rule for rule in _rules() if 'queue="pointsledger.dead"' in rule["expr"]]
    assert dead and dead[0]["labels"]["severity"] == "page"


def test_every_alert_says_what_happened_and_waits_before_firing() -> None:
    rules = _rules()
    assert len({rule["alert"] for rule in rules}) == len(rules), "two alerts share a name"
    for rule in rules:
        assert DURATION.match(str(rule.get("for", ""))), f"{rule['alert']}: no `for:` duration"
        annotations = rule.get("annotations", {})
        assert annotations.get("summary"), f"{rule['alert']}: no summary"
        assert annotations.get("description"), f"{rule['alert']}: no description"
        assert rule.get("labels", {}).get("severity") in ("page", "ticket"), rule["alert"]


def test_the_dashboard_is_grafana_json_on_the_provisioned_data_source() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels), "two panels share an id"
    source = _yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    (datasource,) = source["datasources"]
    for panel in panels:
        assert panel["title"] and panel["targets"], panel
        assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path → repository path of each of the service's bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def test_grafana_reads_the_files_in_deploy() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = _mounts(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    assert provisioning == ROOT / "deploy/grafana/provisioning"
    source = _yaml(provisioning / "datasources" / "prometheus.yml")
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = _yaml(provisioning / "dashboards" / "pointsledger.yml")["providers"][0]
    dashboards = mounts[provider["options"]["path"]]
    assert (dashboards / "pointsledger.json").is_file()


def test_prometheus_reads_its_rules_and_scrapes_the_api_as_a_monitor() -> None:
    compose = _compose()
    prometheus = compose["services"]["prometheus"]
    config_dir = _mounts(prometheus)["/etc/prometheus"]
    config = _yaml(config_dir / "prometheus.yml")
    for rule_file in config["rule_files"]:
        assert (config_dir / Path(rule_file).relative_to("/etc/prometheus")).is_file()
    (api,) = [job for job in config["scrape_configs"] if job["job_name"] == "api"]
    credentials = Path(api["authorization"]["credentials_file"])
    assert credentials.parent == Path("/run/secrets")
    assert credentials.name in prometheus["secrets"]
    assert credentials.name in compose["secrets"]


def _metrics_port(command: list[str]) -> int | None:
    if "--metrics-listen" not in command:
        return None
    return int(command[command.index("--metrics-listen") + 1].rpartition(":")[2])


def test_every_scrape_target_is_a_compose_service_on_its_metrics_port() -> None:
    services = _compose()["services"]
    config = _yaml(DEPLOY / "prometheus" / "prometheus.yml")
    targets = [target for job in config["scrape_configs"]
               for static in job["static_configs"] for target in static["targets"]]
    ports = set()
    for target in targets:
        host, _, port = target.partition(":")
        assert host in services, f"{target}: no compose service {host}"
        ports.add(int(port))
        listening = _metrics_port([str(part) for part in services[host].get("command", [])])
        # A process started with --metrics-listen must listen where Prometheus looks.
        assert listening in (None, int(port)), f"{host} listens on {listening}, scraped on {port}"
    assert len(ports) == len(targets), "two processes scraped on the same port"
