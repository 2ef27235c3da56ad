"""The chart's alerts and Grafana dashboard, checked with Prometheus' own tools: promtool checks
the rendered PrometheusRule and runs a unit test of each alert; every PromQL expression of the
dashboard parses with Prometheus' parser and selects only metrics a real node (or the operator)
exports."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from control_plane import free_port, start_process, stop_process
from kube import cargo_binary, http_ok, wait_until
from support import REPO, documents, render

ALERT_TESTS = REPO / "tests" / "prometheus" / "alerts-test.yaml"
OPERATOR_METRICS = REPO / "operator" / "src" / "metrics.rs"
MONITORING = {"metrics": {"prometheusRule": {"enabled": True}, "grafanaDashboard": {"enabled": True}}}


def rendered(kind: str) -> dict:
    (doc,) = [d for d in documents(render(MONITORING)) if d["kind"] == kind]
    return doc


@pytest.fixture
def rule_file(tmp_path) -> Path:
    """The chart's PrometheusRule as a Prometheus rule file, next to a copy of the unit tests."""
    path = tmp_path / "prometheus-rules.yaml"
    path.write_text(yaml.safe_dump(rendered("PrometheusRule")["spec"]))
    (tmp_path / ALERT_TESTS.name).write_text(ALERT_TESTS.read_text())
    return path


def promtool(tools: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(tools / "promtool"), *args], capture_output=True, text=True)


def test_alert_rules_pass_promtool_check(tools, rule_file):
    result = promtool(tools, "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


def test_every_alert_has_a_unit_test_and_they_pass(tools, rule_file):
    alerts = {r["alert"] for g in yaml.safe_load(rule_file.read_text())["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    tested = {case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]}
    assert tested == alerts == {
        "StripeConnectionAtCapacity",
        "StripeConnectorLimiterLocalMode",
        "StripeConnectorStripeErrors",
        "StripeOperatorReconcileFailures",
        "StripeConnectionBelowMinNodes",
    }
    result = promtool(tools, "test", "rules", str(rule_file.parent / ALERT_TESTS.name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_broken_alert_fails_its_unit_test(tools, rule_file):
    """The unit tests see the rules: a wrong threshold makes promtool fail."""
    rule_file.write_text(rule_file.read_text().replace("> 0.05", "> 0.5", 1))
    result = promtool(tools, "test", "rules", str(rule_file.parent / ALERT_TESTS.name))
    assert result.returncode != 0
    assert "StripeConnectionAtCapacity" in result.stdout + result.stderr


def test_dashboard_configmap_is_labelled_for_grafanas_sidecar():
    config_map = rendered("ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (name,) = config_map["data"]
    dashboard = json.loads(config_map["data"][name])
    assert dashboard["uid"] == "stripe-connector"
    assert len(dashboard["panels"]) > 10


def dashboard_expressions(dashboard: dict) -> list[str]:
    """Every PromQL expression of the dashboard (panel targets and the selectors of variable
    queries), with Grafana's variables replaced by values of their kind."""
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            selector = re.fullmatch(r"label_values\((.+), *\w+\)", variable["query"]["query"])
            assert selector, variable["query"]
            exprs.append(selector.group(1))
    substitutes = {"$__rate_interval": "1m", "$namespace": "shop", "$connection": "payments"}
    for variable, value in substitutes.items():
        exprs = [e.replace(variable, value) for e in exprs]
    assert not [e for e in exprs if "$" in e], "a Grafana variable without a substitute"
    return exprs


def exported_metric_names(exposition: str) -> set[str]:
    """Sample names of a Prometheus text exposition."""
    return {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line and not line.startswith("#")}


def operator_metric_names() -> set[str]:
    """The operator's series names, from its registrations (its families of labelled series are
    empty until something happens, so a fresh process shows only some)."""
    source = OPERATOR_METRICS.read_text()
    prefix = re.search(r'sub_registry_with_prefix\("(\w+)"\)', source).group(1)
    kinds = dict(re.findall(r"pub (\w+): (?:Family<\w+, )?(Counter|Gauge|Histogram)", source))
    names = set()
    for name, field in re.findall(r'register\(\s*"(\w+)",\s*"[^"]*",\s*metrics\.(\w+)', source):
        base = f"{prefix}_{name}"
        names |= {
            "Counter": {f"{base}_total"},
            "Gauge": {base},
            "Histogram": {f"{base}_bucket", f"{base}_sum", f"{base}_count"},
        }[kinds[field]]
    return names


@pytest.fixture
def node_metrics(tmp_path) -> set[str]:
    """What a real stripe-node exports once it admitted, refused and answered a call (each
    labelled family appears with its first series)."""
    key = tmp_path / "api-key"
    key.write_text("sk_test_monitoring")
    api, admin = free_port(), free_port()
    proc = start_process(
        [
            str(cargo_binary("stripe-node")),
            f"--listen=127.0.0.1:{api}",
            f"--admin-listen=127.0.0.1:{admin}",
            f"--stripe-api-key-file={key}",
            # Nothing listens there: the admitted call ends in 503 after no retry.
            f"--stripe-base-url=http://127.0.0.1:{free_port()}",
            "--stripe-max-retries=0",
            "--tps-per-node=1",
        ],
        tmp_path / "node.log",
    )
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{admin}/healthz"), timeout=30, what="node /healthz")
        statuses = {_status(f"http://127.0.0.1:{api}/v2/entityTypes/Customer/entities") for _ in range(3)}
        assert statuses == {503, 429}
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5) as response:
            return exported_metric_names(response.read().decode())
    finally:
        stop_process(proc)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def test_dashboard_expressions_parse_and_select_exported_metrics(tools, node_metrics):
    dashboard = json.loads((REPO / "charts" / "stripe-connector" / "files" / "grafana-dashboard.json").read_text())
    exprs = dashboard_expressions(dashboard)
    parsed = subprocess.run(
        [str(tools / "promql-metrics")], input="".join(json.dumps(e) + "\n" for e in exprs), capture_output=True, text=True, check=True
    )
    results = [json.loads(line) for line in parsed.stdout.splitlines()]
    assert [r["expr"] for r in results] == exprs
    assert [r for r in results if "error" in r] == []

    exported = node_metrics | operator_metric_names()
    assert {"stripe_connector_calls_total", "stripe_connector_limiter_throttled_total", "stripe_operator_writes_total"} <= exported
    unknown = {(name, r["expr"]) for r in results for name in r["metrics"] if name not in exported}
    assert unknown == set()
    assert all(r["metrics"] for r in results), "an expression selecting no metric"
    # Every metric the node exports is on the dashboard.
    assert {name for r in results for name in r["metrics"]} >= node_metrics - {"stripe_connector_limiter_latency_seconds_sum", "stripe_connector_limiter_latency_seconds_count"}


def test_the_parser_catches_a_bad_expression(tools):
    parsed = subprocess.run(
        [str(tools / "promql-metrics")], input=json.dumps("sum(rate(x[5m])") + "\n", capture_output=True, text=True, check=True
    )
    assert "error" in json.loads(parsed.stdout)
