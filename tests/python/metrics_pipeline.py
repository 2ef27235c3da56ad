"""The metrics pipeline an HPA reads, on the test control plane: Prometheus scraping the node
processes (pod_runner.py) and the operator, and prometheus-adapter serving custom.metrics.k8s.io
(the chart's adapter rule) and metrics.k8s.io (the CPU and memory the runner reports in cAdvisor's
names), registered with kube-apiserver through APIServices. Both programs are built from
tests/cluster (scripts/cluster-tools.sh); the adapter runs with its own published RBAC
(deploy/manifests of its module) as its ServiceAccount."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from control_plane import ControlPlane, free_port, start_process, stop_process
from kube import Kube, http_ok, wait_until

# The adapter's own manifests that give it its identity and permissions (not its Deployment,
# Service or APIService: it runs as a process here, behind an ExternalName Service).
ADAPTER_RBAC = [
    "service-account.yaml",
    "cluster-role.yaml",
    "cluster-role-binding.yaml",
    "cluster-role-binding-delegator.yaml",
    "role-binding-auth-reader.yaml",
]
ADAPTER_NAMESPACE = "monitoring"
ADAPTER_API_SERVICES = [("custom.metrics.k8s.io", "v1beta1"), ("custom.metrics.k8s.io", "v1beta2"), ("metrics.k8s.io", "v1beta1")]

# metrics.k8s.io from cAdvisor's series, as in the adapter's published config (deploy/manifests/
# config-map.yaml), with a 1m window instead of 5m so the HPA counts pods sooner after they start.
RESOURCE_RULES = {
    "cpu": {
        "containerQuery": 'sum by (<<.GroupBy>>) (irate(container_cpu_usage_seconds_total{<<.LabelMatchers>>,container!="",pod!=""}[1m]))',
        "nodeQuery": "sum by (<<.GroupBy>>) (irate(node_cpu_usage_seconds_total{<<.LabelMatchers>>}[1m]))",
        "resources": {"overrides": {"namespace": {"resource": "namespace"}, "node": {"resource": "node"}, "pod": {"resource": "pod"}}},
        "containerLabel": "container",
    },
    "memory": {
        "containerQuery": 'sum by (<<.GroupBy>>) (container_memory_working_set_bytes{<<.LabelMatchers>>,container!="",pod!=""})',
        "nodeQuery": "sum by (<<.GroupBy>>) (node_memory_working_set_bytes{<<.LabelMatchers>>})",
        "resources": {"overrides": {"namespace": {"resource": "namespace"}, "node": {"resource": "node"}, "pod": {"resource": "pod"}}},
        "containerLabel": "container",
    },
    "window": "1m",
}


@dataclass
class Prometheus:
    proc: Any
    url: str
    log: Path

    @classmethod
    def start(
        cls,
        bin_dir: Path,
        workdir: Path,
        file_sd: Path,
        static_targets: dict[str, tuple[str, dict[str, str]]],
        rule_files: list[Path] = (),
        scrape_interval: str = "2s",
    ) -> "Prometheus":
        """Scrapes the file_sd targets (job `stripe-connector-nodes`) and one static target per
        job in `static_targets` ({job: (address, labels)}), evaluating `rule_files`."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [
                {"job_name": "stripe-connector-nodes", "file_sd_configs": [{"files": [str(file_sd)], "refresh_interval": "1s"}]},
                *(
                    {"job_name": job, "static_configs": [{"targets": [address], "labels": labels}]}
                    for job, (address, labels) in static_targets.items()
                ),
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = workdir / "prometheus.log"
        proc = start_process(
            [
                str(bin_dir / "prometheus"),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=2h",
                "--log.level=warn",
            ],
            log,
        )
        prometheus = cls(proc, f"http://127.0.0.1:{port}", log)
        wait_until(prometheus._ready, timeout=60, what="Prometheus ready")
        return prometheus

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}")
        return http_ok(f"{self.url}/-/ready")

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        if body["status"] != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def value(self, expr: str) -> float | None:
        """The value of a query that yields one sample (None when it yields none)."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return self.api("query_range", query=expr, start=str(start), end=str(end), step=str(step))["result"]

    def stop(self) -> None:
        stop_process(self.proc)


@dataclass
class MetricsAdapter:
    proc: Any
    kube: Kube
    log: Path

    @classmethod
    def start(cls, plane: ControlPlane, kube: Kube, workdir: Path, prometheus_url: str, custom_rules: list[dict[str, Any]]) -> "MetricsAdapter":
        """prometheus-adapter with `custom_rules` (the chart's) and RESOURCE_RULES, registered
        for every APIService in ADAPTER_API_SERVICES; returns once all are Available."""
        workdir.mkdir(parents=True, exist_ok=True)
        kube.kubectl("create", "namespace", ADAPTER_NAMESPACE, check=False)
        manifests = plane.bin / "prometheus-adapter-manifests"
        for name in ADAPTER_RBAC:
            kube.kubectl("apply", "-f", str(manifests / name))
        identity = plane.token_kubeconfig(workdir / "adapter.kubeconfig", kube.create_token("prometheus-adapter", ADAPTER_NAMESPACE))

        port = free_port()
        certs = {}
        for group, version in ADAPTER_API_SERVICES:
            certs[group] = plane.register_api_service(group, version, port)
        (workdir / "config.yaml").write_text(yaml.safe_dump({"rules": custom_rules, "resourceRules": RESOURCE_RULES}))
        (default_cert, default_key), *others = certs.values()
        log = workdir / "adapter.log"
        proc = start_process(
            [
                str(plane.bin / "prometheus-adapter"),
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={default_cert}",
                f"--tls-private-key-file={default_key}",
                # Each APIService's Service name is the TLS server name the aggregator checks.
                *(f"--tls-sni-cert-key={cert},{key}" for cert, key in others),
                f"--lister-kubeconfig={identity}",
                f"--authentication-kubeconfig={identity}",
                f"--authorization-kubeconfig={identity}",
                f"--prometheus-url={prometheus_url}",
                f"--config={workdir / 'config.yaml'}",
                # How soon a newly scraped metric name is served (the default is 10 minutes).
                "--metrics-relist-interval=5s",
                "--v=1",
            ],
            log,
        )
        adapter = cls(proc, kube, log)

        def available() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus-adapter exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            for group, version in ADAPTER_API_SERVICES:
                conditions = kube.get("apiservice", f"{version}.{group}").get("status", {}).get("conditions", [])
                if not any(c["type"] == "Available" and c["status"] == "True" for c in conditions):
                    return False
            return True

        wait_until(available, timeout=120, what="the adapter's APIServices Available")
        return adapter

    def stop(self) -> None:
        # An APIService without its server would break discovery (and namespace deletion) for
        # every later test.
        for group, version in ADAPTER_API_SERVICES:
            self.kube.kubectl("delete", "apiservice", f"{version}.{group}", "--ignore-not-found", check=False)
        stop_process(self.proc)
