"""Helpers of the operator's tests on the test control plane (test_cluster_operator*.py) and of its
benchmark (bench_operator.py): the chart's RBAC and ServiceAccount for the operator, connections
and their children, and what the audit log says the operator did."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any, Iterable

from kube import AuditLog, Kube, service_account_user, wait_until

CHART_FULLNAME = "operator-tests"
# The operator's one field manager (operator/src/children/mod.rs).
FIELD_MANAGER = "stripe-operator"
GARBAGE_COLLECTOR = service_account_user("kube-system", "generic-garbage-collector")
HPA_CONTROLLER = service_account_user("kube-system", "horizontal-pod-autoscaler")


def install_operator_rbac(kube: Kube, namespace: str, release: str = "operator-tests", fullname: str = CHART_FULLNAME) -> str:
    """Installs the chart (cluster-wide RBAC, the operator's ServiceAccount, the leader-election
    Role) into `namespace` and returns the ServiceAccount's name. The chart's own operator pods
    are simulated by kwok and run nothing; the tests run target/debug/stripe-operator as that
    ServiceAccount instead."""
    kube.kubectl("create", "namespace", namespace)
    kube.install_chart(release, namespace, {"fullnameOverride": fullname, "replicaCount": 1, "redis": {"enabled": False, "externalUrl": "redis://redis.invalid:6379"}})
    return fullname


def operator_user(namespace: str, service_account: str = CHART_FULLNAME) -> str:
    return service_account_user(namespace, service_account)


def api_key_secret(value: str = "sk_test_first") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stripe-api-key"}, "type": "Opaque", "stringData": {"api-key": value}}


def connection(name: str, **spec: Any) -> dict[str, Any]:
    body = {"auth": {"apiKeySecretRef": {"name": "stripe-api-key", "key": "api-key"}}}
    body.update(spec)
    return {"apiVersion": "connectors.integration.dev/v1", "kind": "StripeConnection", "metadata": {"name": name}, "spec": body}


def children(name: str) -> list[tuple[str, str]]:
    """(resource, name) of every child the operator writes for connection `name` (no Redis
    password: the tests run the operator without one)."""
    return [
        ("serviceaccounts", f"{name}-node"),
        ("configmaps", f"{name}-settings"),
        ("secrets", f"{name}-client-token"),
        ("deployments", name),
        ("services", name),
        ("horizontalpodautoscalers", name),
        ("poddisruptionbudgets", name),
    ]


def wait_ready(kube: Kube, namespace: str, name: str, timeout: str = "240s") -> None:
    kube.kubectl("wait", "--for=condition=Ready", f"stripeconn/{name}", "-n", namespace, f"--timeout={timeout}")


def status(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return kube.get("stripeconn", name, "-n", namespace).get("status", {})


def condition(conn_status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in conn_status.get("conditions", []) if c["type"] == type_), {})


def succeeded(event: dict[str, Any]) -> bool:
    return event.get("responseStatus", {}).get("code", 0) < 400


def object_name(event: dict[str, Any]) -> str:
    ref = event.get("objectRef", {})
    return ref.get("name") or (event.get("requestObject") or {}).get("metadata", {}).get("name", "")


def writes_by(audit: AuditLog, user: str, namespace: str, since: int = 0) -> list[dict[str, Any]]:
    """Successful writes of `user` in `namespace` since the mark."""
    return [e for e in audit.writes(since, user=user, namespace=namespace) if succeeded(e)]


def describe(events: Iterable[dict[str, Any]]) -> list[str]:
    """One line per audit event, for assertion messages."""
    lines = []
    for e in events:
        ref = e.get("objectRef", {})
        sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
        lines.append(f"{e['verb']} {ref.get('resource')}{sub} {object_name(e)} ({e['user']['username']})")
    return lines


def reads_of(audit: AuditLog, user: str, namespace: str, resource: str, since: int = 0) -> list[dict[str, Any]]:
    """GETs of `resource` by `user` in `namespace` (a reconcile reads every child it compares)."""
    return [
        e
        for e in audit.events(since)
        if e.get("stage") == "ResponseComplete"
        and e.get("verb") == "get"
        and e["user"]["username"] == user
        and e.get("objectRef", {}).get("namespace") == namespace
        and e.get("objectRef", {}).get("resource") == resource
    ]


def metric(admin_url: str, name: str) -> float:
    """The sum of every sample of metric `name` on an operator's /metrics."""
    with urllib.request.urlopen(f"{admin_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if match:
            total += float(match.group(2))
    return total


def lease(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    found = kube.kubectl("get", "lease", name, "-n", namespace, "-o", "json", "--ignore-not-found").stdout
    return json.loads(found)["spec"] if found.strip() else {}


def wait_for_reconcile_of(audit: AuditLog, user: str, namespace: str, name: str, since: int, timeout: float = 120) -> None:
    """Until the operator has read the connection's Deployment since the mark (each reconcile
    does, after every reference was found)."""
    wait_until(
        lambda: any(object_name(e) == name for e in reads_of(audit, user, namespace, "deployments", since)),
        timeout=timeout,
        what=f"a reconcile of {namespace}/{name}",
    )
