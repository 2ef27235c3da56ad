"""The whole autoscaling loop on the test control plane, for test_cluster_autoscaling.py and
`make demo`:

    callers --(offered load)--> node processes (pod_runner) --(one Redis round trip)--> redis-server
                                      |  admitted calls --> localstripe
                                      | /metrics
                                 Prometheus --> prometheus-adapter --(custom.metrics.k8s.io,
                                                                      metrics.k8s.io)
                                                                   --> kube-controller-manager's HPA
                                                                   --> Deployment replicas --> pods

The chart is installed as users install it (its Redis Service stands for the real redis-server the
runner maps it to), the operator runs outside the cluster as the chart's ServiceAccount, and one
StripeConnection is applied. Its HPA is the operator's, untouched.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from control_plane import ControlPlane, free_port, start_or_stop, start_process, stop_process, wait_for_port
from kube import Kube, OperatorProcess, cargo_binary, chart_operator_env, start_operator, wait_until
from metrics_pipeline import MetricsAdapter, Prometheus
from pod_runner import PodRunner
from support import REPO, documents, render

RELEASE = "sc"
FULLNAME = f"{RELEASE}-stripe-connector"
# GET of one Customer page: one admitted transaction, one localstripe call.
CALL = "/v2/entityTypes/Customer/entities?pageSize=1"


@dataclass
class LoopSettings:
    connection: str = "payments"
    min_nodes: int = 2
    max_nodes: int = 5
    tps_per_node: int = 6
    # spec.nodes.scaleDownStabilizationSeconds: the operator's default is 300; shorter keeps the
    # scenario's idle phase to about a minute.
    scale_down_seconds: int = 60
    # The chart's prometheusAdapter.rule.window: how much history the HPA's metric averages.
    adapter_window: str = "20s"


@dataclass
class Loop:
    plane: ControlPlane
    kube: Kube
    workdir: Path
    system: str  # the chart's namespace
    app: str  # the connection's namespace
    settings: LoopSettings = field(default_factory=LoopSettings)
    processes: list[Any] = field(default_factory=list)
    runner: PodRunner | None = None
    prometheus: Prometheus | None = None
    adapter: MetricsAdapter | None = None
    operator: OperatorProcess | None = None
    chart_installed: bool = False

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> "Loop":
        start_or_stop(self._start, self.stop)
        return self

    def _start(self) -> None:
        s = self.settings
        self.workdir.mkdir(parents=True, exist_ok=True)
        redis_port, stripe_port = free_port(), free_port()
        redis = start_process(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            self.workdir / "redis.log",
        )
        localstripe = start_process(
            [str(REPO / ".venv" / "bin" / "localstripe"), "--port", str(stripe_port), "--from-scratch"], self.workdir / "localstripe.log"
        )
        self.processes += [redis, localstripe]
        wait_for_port(redis_port, redis, "redis-server", timeout=30)
        wait_for_port(stripe_port, localstripe, "localstripe", timeout=30)

        self.kube.install_chart(RELEASE, self.system, {"replicaCount": 1})
        self.chart_installed = True
        operator_env = chart_operator_env(self.kube, self.system, FULLNAME)
        self.operator = start_operator(self.kube, self.workdir / "operator", FULLNAME, self.system, env=operator_env)

        # The chart's Redis Service, as the nodes get it from the operator, is the real redis-server.
        redis_service = operator_env["REDIS_URL"].split("//", 1)[1].rstrip("/")
        self.runner = PodRunner(
            self.plane.kubeconfig,
            self.workdir / "runner",
            cargo_binary("stripe-node"),
            stripe_base_url=f"http://127.0.0.1:{stripe_port}",
            service_addresses={redis_service: f"127.0.0.1:{redis_port}"},
        ).start()

        monitoring = {
            "metrics": {"prometheusRule": {"enabled": True}},
            "prometheusAdapter": {"rule": {"enabled": True, "window": s.adapter_window}},
        }
        docs = documents(render(monitoring))
        (rules,) = [d for d in docs if d["kind"] == "PrometheusRule"]
        (adapter_rule,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-prometheus-adapter-rule")]
        rule_file = self.workdir / "prometheus-rules.yaml"
        rule_file.write_text(yaml.safe_dump(rules["spec"]))
        self.prometheus = Prometheus.start(
            self.plane.bin,
            self.workdir / "prometheus",
            self.runner.file_sd,
            {
                "kubelet-cadvisor": (self.runner.metrics_address, {}),
                "stripe-operator": (self.operator.admin_url.split("//", 1)[1], {"namespace": self.system, "pod": "stripe-operator"}),
            },
            rule_files=[rule_file],
        )
        self.adapter = MetricsAdapter.start(
            self.plane, self.kube, self.workdir / "adapter", self.prometheus.url, yaml.safe_load(adapter_rule["data"]["config.yaml"])["rules"]
        )
        self.kube.apply(self.connection_manifests(), self.app)

    def stop(self) -> None:
        for part in (self.adapter, self.prometheus, self.runner, self.operator):
            if part is not None:
                part.stop()
        if self.chart_installed:
            self.kube.helm("uninstall", RELEASE, "-n", self.system, "--ignore-not-found", check=False)
        for proc in reversed(self.processes):
            stop_process(proc)

    def connection_manifests(self) -> list[dict[str, Any]]:
        s = self.settings
        return [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "stripe-api-key"},
                "type": "Opaque",
                "stringData": {"api-key": "sk_test_autoscaling"},
            },
            {
                "apiVersion": "connectors.integration.dev/v1",
                "kind": "StripeConnection",
                "metadata": {"name": s.connection},
                "spec": {
                    "auth": {"apiKeySecretRef": {"name": "stripe-api-key", "key": "api-key"}},
                    "nodes": {"min": s.min_nodes, "max": s.max_nodes, "scaleDownStabilizationSeconds": s.scale_down_seconds},
                    "rateLimit": {"transactionsPerSecondPerNode": s.tps_per_node},
                },
            },
        ]

    # ---- what the loop looks like -------------------------------------------------------------

    def endpoints(self) -> list[tuple[str, str]]:
        return self.runner.endpoints(self.app, self.settings.connection)

    def client_token(self) -> str:
        secret = self.kube.get("secret", f"{self.settings.connection}-client-token", "-n", self.app)
        return base64.b64decode(secret["data"]["token"]).decode()

    def hpa(self) -> dict[str, Any]:
        return self.kube.get("hpa", self.settings.connection, "-n", self.app)

    def replicas(self) -> int:
        return self.kube.get("deployment", self.settings.connection, "-n", self.app)["spec"].get("replicas", 0)

    def selector(self) -> str:
        return f'namespace="{self.app}", pod=~"{self.settings.connection}-[a-z0-9]+-[a-z0-9]+"'

    def figures(self) -> dict[str, float | None]:
        """The fleet as Prometheus sees it now (None where it has no sample yet)."""
        sel, p = self.selector(), self.prometheus
        return {
            "offered": p.value(f"sum(stripe_connector_offered_requests_per_second{{{sel}}})"),
            "admitted": p.value(f"sum(rate(stripe_connector_limiter_admitted_total{{{sel}}}[10s]))"),
            "throttled": p.value(f"sum(rate(stripe_connector_limiter_throttled_total{{{sel}}}[10s]))"),
            "capacity": p.value(f"max(stripe_connector_limiter_capacity_tps{{{sel}}})"),
            "live_nodes": p.value(f"max(stripe_connector_limiter_live_nodes{{{sel}}})"),
        }

    def hpa_figures(self) -> dict[str, Any]:
        hpa = self.hpa()
        status = hpa.get("status", {})
        pods_metric = [m["pods"]["current"]["averageValue"] for m in status.get("currentMetrics") or [] if m.get("type") == "Pods"]
        return {
            "desired": status.get("desiredReplicas"),
            "current": status.get("currentReplicas"),
            "offered_per_node": pods_metric[0] if pods_metric else None,
        }

    def wait_ready(self, nodes: int, timeout: float = 300) -> None:
        """Until `nodes` node processes are ready behind the Service and the limiter counts them."""

        def ready() -> bool:
            live = self.prometheus.value(f"max(stripe_connector_limiter_live_nodes{{{self.selector()}}})")
            return len(self.endpoints()) == nodes and live == nodes

        wait_until(ready, timeout=timeout, interval=1, what=f"{nodes} nodes ready and live")
