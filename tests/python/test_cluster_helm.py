"""charts/stripe-connector with the real helm CLI against the real kube-apiserver: lint, install
(cluster-wide and with watchNamespaces), upgrade, uninstall."""

from __future__ import annotations

import json
import subprocess

import yaml

from kube import CHART, wait_until

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


def test_helm_lint_strict(tools):
    result = subprocess.run([str(tools / "helm"), "lint", "--strict", str(CHART)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


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
