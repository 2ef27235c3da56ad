"""The pod runner (pod_runner.py) on the test control plane: a node pod as the operator renders it
runs as a real stripe-node process with its Secrets, ConfigMap and ports mapped, goes when the pod
goes, and a pod of any other shape is refused with the reason."""

from __future__ import annotations

import base64
import copy
import subprocess

import pytest
import yaml

from kube import cargo_binary, http_ok, wait_until
from pod_runner import PodRunner

CONNECTION = """\
apiVersion: connectors.integration.dev/v1
kind: StripeConnection
metadata: {name: shop, namespace: NAMESPACE, uid: 00000000-0000-0000-0000-000000000001}
spec:
  auth: {apiKeySecretRef: {name: stripe-api-key, key: api-key}}
  nodes: {min: 1, max: 2}
"""


@pytest.fixture
def runner(cluster, tmp_path):
    runner = PodRunner(
        cluster.kubeconfig,
        tmp_path / "runner",
        cargo_binary("stripe-node"),
        stripe_base_url="http://127.0.0.1:9",
        service_addresses={"redis.stripe-system.svc.cluster.local:6379": "127.0.0.1:9"},
    ).start()
    yield runner
    runner.stop()


def rendered_children(namespace: str, tmp_path) -> list[dict]:
    """The operator's children for a connection, without ownerReferences (no such owner here) and
    without HPA and PDB (not needed to run a pod)."""
    manifest = tmp_path / "connection.yaml"
    manifest.write_text(CONNECTION.replace("NAMESPACE", namespace))
    out = subprocess.run(
        [str(cargo_binary("stripe-operator")), "render", str(manifest), "--redis-url", "redis://redis.stripe-system.svc.cluster.local:6379"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    objects = [d for d in yaml.safe_load_all(out.stdout) if d and d["kind"] not in ("HorizontalPodAutoscaler", "PodDisruptionBudget")]
    for obj in objects:
        obj["metadata"].pop("ownerReferences", None)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "stripe-api-key"}, "stringData": {"api-key": "sk_test_runner"}}
    return [secret, *objects]


def test_a_node_pod_runs_as_a_real_node_until_it_goes(kube, namespace, runner, tmp_path):
    objects = rendered_children(namespace, tmp_path)
    kube.apply(objects, namespace)
    (pod,) = wait_until(lambda: runner.running(namespace), timeout=120, what="the node process")
    wait_until(lambda: runner.endpoints(namespace, "shop"), timeout=60, what="the node ready behind its Service")
    assert runner.refused == {}

    # Its env came from the ConfigMap and the pod (NODE_ID), its files from the Secrets.
    settings = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    assert pod.env["CONNECTION_NAME"] == settings["CONNECTION_NAME"] == "shop"
    assert pod.env["NODE_ID"] == pod.name
    assert open(pod.env["STRIPE_API_KEY_FILE"]).read() == "sk_test_runner"
    token = base64.b64decode(kube.get("secret", "shop-client-token", "-n", namespace)["data"]["token"]).decode()
    assert open(pod.env["CLIENT_TOKEN_FILE"]).read() == token
    assert pod.env["REDIS_URL"] == "redis://127.0.0.1:9"
    # Its ports are its own loopback ports; the admin port is the one Prometheus is told of.
    assert pod.env["NODE_LISTEN"] == f"127.0.0.1:{pod.ports[8080]}"
    assert http_ok(f"http://127.0.0.1:{pod.ports[9090]}/healthz")
    assert f"127.0.0.1:{pod.ports[9090]}" in runner.file_sd.read_text()

    kube.kubectl("scale", "deployment", "shop", "-n", namespace, "--replicas=0")
    wait_until(lambda: not runner.running(namespace) and pod.proc.poll() is not None, timeout=120, what="the node process gone")
    assert pod.proc.returncode == 0  # a graceful stop on SIGTERM
    assert runner.exits == []


@pytest.mark.parametrize(
    "change,reason",
    [
        (lambda spec: spec["containers"].append({"name": "sidecar", "image": "busybox", "securityContext": spec["containers"][0]["securityContext"]}), "2 containers"),
        (lambda spec: spec["containers"][0].update(command=["/bin/sh"]), "command"),
        (lambda spec: spec["volumes"].append({"name": "extra", "projected": {"sources": []}}) or spec["containers"][0]["volumeMounts"].append({"name": "extra", "mountPath": "/extra"}), "only secret, configMap and emptyDir"),
        (lambda spec: spec["containers"][0]["env"].append({"name": "X", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}}), "valueFrom"),
        (lambda spec: spec["containers"][0]["env"].append({"name": "X", "value": "http://billing.other.svc:8080"}), "billing.other.svc:8080"),
    ],
    ids=["sidecar", "command", "projected-volume", "resource-field-env", "unmapped-service"],
)
def test_a_pod_of_another_shape_is_refused(kube, namespace, runner, tmp_path, change, reason):
    objects = rendered_children(namespace, tmp_path)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    kube.apply([o for o in objects if o["kind"] != "Deployment"], namespace)
    template = copy.deepcopy(deployment["spec"]["template"])
    change(template["spec"])
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {**template["metadata"], "name": "odd"}, "spec": template["spec"]}
    kube.apply(pod, namespace)
    refusal = wait_until(lambda: runner.refused.get(f"{namespace}/odd"), timeout=120, what="the refusal")
    assert reason in refusal
    assert runner.running(namespace) == []
