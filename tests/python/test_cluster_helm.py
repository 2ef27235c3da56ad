"""charts/stripe-connector with the real helm CLI against the real kube-apiserver: lint, install
(cluster-wide and with watchNamespaces), upgrade, uninstall."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest
import yaml

from kube import CHART, wait_until
from option_sets import OPTION_SETS

PODSECURITY_WARNING = "would violate PodSecurity"


def manifest_objects(kube, release: str, namespace: str) -> list[tuple[str, str, str | None]]:
    """(kind, name, namespace) of every object of the release, from `helm get manifest`."""
    text = kube.helm("get", "manifest", release, "-n", namespace).stdout
    found = []
    for doc in yaml.safe_load_all(text):
        if doc:
            meta = doc["metadata"]
            found.append((doc["kind"], meta["name"], meta.get("namespace")))
    return found


def kubectl_ref(kind: str, name: str, namespace: str | None) -> list[str]:
    return [kind.lower(), name, *(["-n", namespace] if namespace else [])]


def values_file(directory, name: str, values: dict) -> str:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_helm_lint_strict(tools, tmp_path, option_set):
    values = values_file(tmp_path, option_set, OPTION_SETS[option_set])
    result = subprocess.run([str(tools / "helm"), "lint", "--strict", str(CHART), "-f", values], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


# Kinds whose CRDs (the Prometheus Operator's) this cluster doesn't have; test_chart.py checks
# them against their schema offline.
NOT_SERVED = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_every_option_set_is_accepted_by_the_api_server(kube, tmp_path, make_namespace, option_set):
    """Each object of each documented option set passes the API server's own validation and
    admission (server-side dry run), with no warning (PodSecurity's among them)."""
    values = copy.deepcopy(OPTION_SETS[option_set])
    # The namespaces the values name, made fresh for this test.
    if values.get("watchNamespaces"):
        values["watchNamespaces"] = [make_namespace(f"w{i}") for i, _ in enumerate(values["watchNamespaces"])]
    if values.get("prometheusAdapter", {}).get("rule", {}).get("namespace"):
        values["prometheusAdapter"]["rule"]["namespace"] = make_namespace("monitoring")
    if values.get("metrics", {}).get("grafanaDashboard", {}).get("namespace"):
        values["metrics"]["grafanaDashboard"]["namespace"] = make_namespace("dashboards")
    namespace = make_namespace()
    rendered = kube.helm("template", "sc", str(CHART), "-n", namespace, "-f", values_file(tmp_path, option_set, values)).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] not in NOT_SERVED]
    assert docs
    for doc in docs:
        if doc["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
            doc["metadata"].setdefault("namespace", namespace)

    result = kube.kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(docs))

    assert "Warning" not in result.stderr, result.stderr
    assert result.stdout.count("(server dry run)") == len(docs)


def test_install_with_default_values(kube, stripe_crd, namespace, chart):
    release = "sc"
    result = chart(release, namespace)

    assert PODSECURITY_WARNING not in result.stderr, result.stderr
    status = json.loads(kube.helm("status", release, "-n", namespace, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    objects = manifest_objects(kube, release, namespace)
    kinds = {kind for kind, _, _ in objects}
    assert {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "NetworkPolicy"} <= kinds
    for kind, name, ns in objects:
        assert kube.get(*kubectl_ref(kind, name, ns))["metadata"]["labels"]["app.kubernetes.io/instance"] == release
    # --wait returned: kwok ran the pods the ReplicaSets created under PodSecurity `restricted`.
    operator = kube.get("deployment", f"{release}-stripe-connector", "-n", namespace)
    assert operator["status"]["availableReplicas"] == operator["spec"]["replicas"] == 2
    redis = kube.get("deployment", f"{release}-stripe-connector-redis", "-n", namespace)
    assert redis["status"]["availableReplicas"] == 1
    binding = kube.get("clusterrolebinding", f"{release}-stripe-connector")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": f"{release}-stripe-connector", "namespace": namespace}]


def test_install_with_watch_namespaces(kube, stripe_crd, namespace, make_namespace, chart):
    watched = [make_namespace("shop"), make_namespace("billing")]
    release = "scoped"
    chart(release, namespace, {"watchNamespaces": watched})

    fullname = f"{release}-stripe-connector"
    assert not kube.exists("clusterrole", fullname)
    assert not kube.exists("clusterrolebinding", fullname)
    for ns in watched:
        role = kube.get("role", fullname, "-n", ns)
        assert any("stripeconnections" in rule["resources"] for rule in role["rules"])
        binding = kube.get("rolebinding", fullname, "-n", ns)
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": fullname, "namespace": namespace}]
    (container,) = kube.get("deployment", fullname, "-n", namespace)["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["WATCH_NAMESPACES"] == ",".join(watched)


def test_upgrade_with_changed_values(kube, stripe_crd, namespace, chart):
    release = "sc"
    fullname = f"{release}-stripe-connector"
    chart(release, namespace)

    values = {
        "replicaCount": 1,
        "operator": {"logFormat": "text"},
        "commonLabels": {"team": "payments"},
        "redis": {"enabled": False, "externalUrl": "redis://redis.example.internal:6379"},
    }
    path = kube.plane.workdir / f"upgrade-{namespace}.yaml"
    path.write_text(yaml.safe_dump(values))
    result = kube.helm("upgrade", release, str(CHART), "-n", namespace, "-f", str(path), "--wait", "--timeout=3m")
    assert PODSECURITY_WARNING not in result.stderr, result.stderr

    history = kube.helm("history", release, "-n", namespace, "-o", "yaml").stdout
    assert [(r["revision"], r["status"]) for r in yaml.safe_load(history)] == [(1, "superseded"), (2, "deployed")]
    operator = kube.get("deployment", fullname, "-n", namespace)
    assert operator["spec"]["replicas"] == 1
    assert operator["metadata"]["labels"]["team"] == "payments"
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    assert "--log-format=text" in container["args"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["REDIS_URL"] == "redis://redis.example.internal:6379"
    # The chart's Redis left with the value that disabled it.
    assert not kube.exists("deployment", f"{fullname}-redis", "-n", namespace)
    assert not kube.exists("service", f"{fullname}-redis", "-n", namespace)
    wait_until(lambda: operator_pods(kube, namespace, release) == 1, what="one operator pod")


def operator_pods(kube, namespace: str, release: str) -> int:
    pods = kube.get("pods", "-n", namespace, "-l", f"app.kubernetes.io/instance={release}")["items"]
    return len([p for p in pods if "deletionTimestamp" not in p["metadata"]])


def test_uninstall_removes_everything_but_the_crd(kube, stripe_crd, namespace):
    release = "sc"
    kube.install_chart(release, namespace)
    objects = manifest_objects(kube, release, namespace)
    assert len(objects) >= 8

    kube.helm("uninstall", release, "-n", namespace, "--wait", "--timeout=2m")

    for kind, name, ns in objects:
        assert not kube.exists(*kubectl_ref(kind, name, ns)), f"{kind}/{name} survived the uninstall"
    # The garbage collector removes the ReplicaSets and pods the Deployments owned.
    wait_until(
        lambda: kube.get("replicasets,pods", "-n", namespace, "-l", f"app.kubernetes.io/instance={release}")["items"] == [],
        what="the release's ReplicaSets and pods gone",
    )
    assert kube.helm("list", "-n", namespace, "-q").stdout.strip() == ""
    assert kube.get("crd", stripe_crd)["metadata"]["name"] == stripe_crd
