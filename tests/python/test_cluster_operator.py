"""The operator on the test control plane (a real kube-apiserver with its controllers, kwok nodes).

target/debug/stripe-operator runs outside the cluster as the chart's ServiceAccount (a TokenRequest
token, nothing else), with a short resync period. One operator process serves the scenarios of
this module, each in a namespace of its own; their connections are applied together at the start,
so they become Ready side by side. Assertions are on what the API server answered and on its audit
log: the operator's writes are those of its ServiceAccount, the HPA's those of the
horizontal-pod-autoscaler controller's.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import yaml

from kube import start_operator, wait_until
from operator_cluster import (
    FIELD_MANAGER,
    GARBAGE_COLLECTOR,
    HPA_CONTROLLER,
    api_key_secret,
    children,
    condition,
    connection,
    describe,
    install_operator_rbac,
    lease,
    metric,
    object_name,
    operator_user,
    reads_of,
    status,
    wait_for_reconcile_of,
    wait_ready,
    writes_by,
)
from support import EXAMPLES

pytestmark = pytest.mark.usefixtures("stripe_crd")

RESYNC_SECONDS = 10
SYSTEM = "operator-tests-system"
LEASE = "operator-tests"
# The scenarios' namespaces; the shared operator watches all but the leader-election one.
SCENARIOS = ("example", "missing-secret", "hpa", "rotation", "proxy-off", "deletion", "generation", "faults")
PROXY = {
    "enabled": True,
    "authScheme": "BASIC",
    "user": "connector",
    "passwordSecretRef": {"name": "egress-proxy", "key": "password"},
    "host": "proxy.egress.svc",
    "port": 3128,
}


def proxy_password(value: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "egress-proxy"}, "type": "Opaque", "stringData": {"password": value}}


def example_connection() -> str:
    """examples/stripe-connection.yaml with its placeholders filled, as its comment says."""
    text = (EXAMPLES / "stripe-connection.yaml").read_text()
    return text.replace("LIVE_API_KEY", "sk_test_example").replace("ACCOUNT_ID", "acct_1Nv0FGQ9RKHgCVdK")


@pytest.fixture(scope="module")
def fleet(kube, audit, tmp_path_factory):
    """The chart's RBAC, one namespace per scenario with its connection applied, and one operator
    watching them. Yields (namespaces by scenario, the operator process, its user)."""
    system = SYSTEM
    service_account = install_operator_rbac(kube, system)
    user = operator_user(system, service_account)
    namespaces = {s: f"op-{s}" for s in (*SCENARIOS, "leader")}
    for scenario, ns in namespaces.items():
        kube.kubectl("create", "namespace", ns)
        if scenario != "missing-secret":
            kube.apply(api_key_secret(), ns)

    kube.kubectl("apply", "-n", namespaces["example"], "-f", "-", input=example_connection())
    kube.apply(connection("early"), namespaces["missing-secret"])
    kube.apply(connection("payments", nodes={"min": 2, "max": 5}), namespaces["hpa"])
    for scenario in ("rotation", "proxy-off"):
        kube.apply(proxy_password("first-proxy-password"), namespaces[scenario])
        kube.apply(connection("egress", proxy=PROXY), namespaces[scenario])
    kube.apply(connection("doomed"), namespaces["deletion"])
    kube.apply(connection("gen"), namespaces["generation"])

    workdir = tmp_path_factory.mktemp("operator")
    operator = start_operator(
        kube,
        workdir,
        service_account=service_account,
        namespace=system,
        lease_name=LEASE,
        watch_namespaces=[namespaces[s] for s in SCENARIOS],
        extra_args=[f"--resync-seconds={RESYNC_SECONDS}"],
        name="operator-shared",
    )
    yield {"ns": namespaces, "operator": operator, "user": user, "system": system, "service_account": service_account, "workdir": workdir}
    operator.stop()
    # The connections go first (at once: no finalizers), so no later test's operator finds them
    # in namespaces that are still terminating.
    for ns in namespaces.values():
        kube.kubectl("delete", "stripeconn", "--all", "-n", ns, check=False)
        kube.kubectl("delete", "namespace", ns, "--wait=false", check=False)
    kube.helm("uninstall", "operator-tests", "-n", system, check=False)
    kube.kubectl("delete", "namespace", system, "--wait=false", check=False)


def pods(kube, namespace: str, connection_name: str) -> list[dict]:
    return kube.get("pods", "-n", namespace, "-l", f"app.kubernetes.io/instance={connection_name}")["items"]


def ready_pods(kube, namespace: str, connection_name: str) -> list[str]:
    return sorted(
        p["metadata"]["name"]
        for p in pods(kube, namespace, connection_name)
        if p.get("status", {}).get("phase") == "Running"
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
        and not p["metadata"].get("deletionTimestamp")
    )


def wait_resync(audit, user: str, namespace: str, name: str, since: int, started: float) -> None:
    """Until a full resync period has passed since `started` and the operator has reconciled the
    connection in it (so the period was not quiet just because nothing ran)."""
    wait_for_reconcile_of(audit, user, namespace, name, since, timeout=6 * RESYNC_SECONDS)
    remaining = started + RESYNC_SECONDS + 1 - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def test_the_example_connection_is_ready_with_every_child_applied_and_owned(kube, fleet):
    ns, name = fleet["ns"]["example"], "stripe-connection"
    wait_ready(kube, ns, name)
    conn = kube.get("stripeconn", name, "-n", ns)
    owner = {
        "apiVersion": "connectors.integration.dev/v1",
        "kind": "StripeConnection",
        "name": name,
        "uid": conn["metadata"]["uid"],
        "controller": True,
    }
    for resource, child in children(name):
        obj = kube.get(resource, child, "-n", ns, "--show-managed-fields")
        assert obj["metadata"]["ownerReferences"] == [owner], f"{resource}/{child}"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == FIELD_MANAGER
        managers = [m for m in obj["metadata"]["managedFields"] if not m.get("subresource")]
        ours = [m for m in managers if m["manager"] == FIELD_MANAGER]
        assert ours, f"{resource}/{child}: managers {[m['manager'] for m in managers]}"
        # The client token Secret is created once (a plain create) and never applied again.
        expected = {"Update"} if resource == "secrets" else {"Apply"}
        assert {m["operation"] for m in ours} == expected, f"{resource}/{child}: {ours}"

    deployment = kube.get("deployment", name, "-n", ns)
    assert deployment["spec"]["replicas"] == 2
    assert len(ready_pods(kube, ns, name)) == 2, "kwok runs both node pods"

    st = status(kube, ns, name)
    assert st["nodes"] == {"desired": 2, "ready": 2}
    assert st["capacityTps"] == 12
    assert st["endpoint"] == f"http://{name}.{ns}.svc:8080"
    table = kube.kubectl("get", "stripeconn", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "NODES", "CAPACITY", "AGE"]
    assert table[1].split()[:4] == [name, "True", "2", "12"]
    wide = kube.kubectl("get", "stripeconn", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-1] == "ENDPOINT" and wide[1].split()[-1] == st["endpoint"]
    events = kube.get("events.events.k8s.io", "-n", ns)["items"]
    ours = {e["reason"] for e in events if e.get("reportingController") == FIELD_MANAGER and e["regarding"]["name"] == name}
    assert {"ChildrenApplied", "NodesReady"} <= ours, ours


def test_a_connection_applied_before_its_secret_waits_for_it_then_gets_ready(kube, fleet):
    ns, name = fleet["ns"]["missing-secret"], "early"
    wait_until(lambda: condition(status(kube, ns, name), "Degraded").get("reason") == "SecretNotFound", what="SecretNotFound")
    message = condition(status(kube, ns, name), "Ready")["message"]
    assert "stripe-api-key" in message and "spec.auth.apiKeySecretRef" in message, message
    assert not kube.exists("deployment", name, "-n", ns), "nothing is built without the key"
    # The operator notices the Secret (its Secret watch, or at the latest its backoff retry).
    kube.apply(api_key_secret(), ns)
    wait_ready(kube, ns, name)
    assert condition(status(kube, ns, name), "Degraded")["reason"] == "AsExpected"


def test_steady_state_sends_no_write_and_each_child_was_written_once(kube, audit, fleet):
    ns, name, user = fleet["ns"]["example"], "stripe-connection", fleet["user"]
    wait_ready(kube, ns, name)
    wait_until(lambda: condition(status(kube, ns, name), "Progressing").get("reason") == "RolloutComplete", what="rollout complete")
    mark, started = audit.mark(), time.monotonic()
    wait_resync(audit, user, ns, name, mark, started)
    assert describe(writes_by(audit, user, ns, mark)) == []

    written: dict[tuple[str, str], int] = {}
    for event in writes_by(audit, user, ns):
        key = (event["objectRef"]["resource"], object_name(event))
        if not event["objectRef"].get("subresource"):
            written[key] = written.get(key, 0) + 1
    for child in children(name):
        assert written.pop(child, 0) == 1, f"{child} written {written.get(child)} times"
    # Besides the children: only Events (the connection's status is a subresource).
    assert {resource for resource, _ in written} <= {"events"}, written


def test_the_hpa_not_the_operator_scales_to_a_raised_minimum(kube, audit, fleet):
    ns, name, user = fleet["ns"]["hpa"], "payments", fleet["user"]
    wait_ready(kube, ns, name)
    mark = audit.mark()
    kube.kubectl("patch", "stripeconn", name, "-n", ns, "--type=merge", "-p", '{"spec": {"nodes": {"min": 3}}}')

    wait_until(lambda: kube.get("deployment", name, "-n", ns)["spec"]["replicas"] == 3, timeout=120, what="3 replicas")
    wait_until(lambda: len(ready_pods(kube, ns, name)) == 3, timeout=120, what="a third pod running")
    wait_until(lambda: status(kube, ns, name).get("nodes") == {"desired": 3, "ready": 3}, timeout=120, what="status 3 ready")
    assert status(kube, ns, name)["capacityTps"] == 18

    ours = writes_by(audit, user, ns, mark)
    assert [e for e in ours if e["objectRef"]["resource"] == "deployments"] == [], describe(ours)
    hpa_patch = [e for e in ours if e["objectRef"]["resource"] == "horizontalpodautoscalers"]
    assert [e["requestObject"]["spec"]["minReplicas"] for e in hpa_patch] == [3]
    scaled = [e for e in writes_by(audit, HPA_CONTROLLER, ns, mark) if e["objectRef"].get("subresource") == "scale"]
    assert [e["requestObject"]["spec"]["replicas"] for e in scaled] == [3], describe(scaled)


def test_api_key_rotation_keeps_the_pods_and_proxy_password_rotation_rolls_them(kube, audit, fleet):
    """docs/operator.md: the API key is not in the config hash, the nodes re-read it without
    restarting; a rotated proxy password (read at start-up) rolls the nodes."""
    ns, name, user = fleet["ns"]["rotation"], "egress", fleet["user"]
    wait_ready(kube, ns, name)
    wait_until(lambda: condition(status(kube, ns, name), "Progressing").get("reason") == "RolloutComplete", what="rollout complete")
    before = kube.get("deployment", name, "-n", ns)
    pods_before = ready_pods(kube, ns, name)

    mark = audit.mark()
    kube.apply(api_key_secret("sk_test_rotated"), ns)
    wait_until(
        lambda: any(object_name(e) == "stripe-api-key" for e in reads_of(audit, user, ns, "secrets", mark)),
        what="the operator reading the rotated API key Secret",
    )
    wait_for_reconcile_of(audit, user, ns, name, mark)
    after = kube.get("deployment", name, "-n", ns)
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert ready_pods(kube, ns, name) == pods_before
    assert describe(writes_by(audit, user, ns, mark)) == []

    mark = audit.mark()
    kube.apply(proxy_password("second-proxy-password"), ns)
    wait_until(lambda: kube.get("deployment", name, "-n", ns)["metadata"]["generation"] > before["metadata"]["generation"], what="a new pod template")
    kube.kubectl("rollout", "status", f"deployment/{name}", "-n", ns, "--timeout=180s")
    wait_until(lambda: set(ready_pods(kube, ns, name)).isdisjoint(pods_before) and len(ready_pods(kube, ns, name)) == 2, what="new pods")
    wait_until(lambda: condition(status(kube, ns, name), "Progressing").get("reason") == "RolloutComplete", what="rollout complete")
    hash_key = "connectors.integration.dev/config-hash"
    template = lambda d: d["spec"]["template"]["metadata"]["annotations"][hash_key]  # noqa: E731
    assert template(kube.get("deployment", name, "-n", ns)) != template(before)
    children_written = [e for e in writes_by(audit, user, ns, mark) if e["objectRef"]["resource"] not in ("stripeconnections", "events")]
    assert [(e["objectRef"]["resource"], object_name(e)) for e in children_written] == [("deployments", name)]
    secrets_text = yaml.safe_dump([e.get("requestObject") for e in writes_by(audit, user, ns)])
    assert "second-proxy-password" not in secrets_text and "sk_test_rotated" not in secrets_text


def test_turning_the_proxy_off_removes_its_password_volume_and_then_writes_nothing(kube, audit, fleet):
    ns, name, user = fleet["ns"]["proxy-off"], "egress", fleet["user"]
    wait_ready(kube, ns, name)
    volumes = lambda: [v["name"] for v in kube.get("deployment", name, "-n", ns)["spec"]["template"]["spec"]["volumes"]]  # noqa: E731
    assert "proxy-password" in volumes()

    kube.kubectl("patch", "stripeconn", name, "-n", ns, "--type=merge", "-p", '{"spec": {"proxy": {"enabled": false}}}')
    wait_until(lambda: "proxy-password" not in volumes(), what="the proxy password volume removed")
    settings = kube.get("configmap", f"{name}-settings", "-n", ns)["data"]
    assert "PROXY_HOST" not in settings and "PROXY_PASSWORD_FILE" not in settings
    kube.kubectl("rollout", "status", f"deployment/{name}", "-n", ns, "--timeout=180s")
    wait_until(lambda: condition(status(kube, ns, name), "Progressing").get("reason") == "RolloutComplete", what="rollout complete")

    mark, started = audit.mark(), time.monotonic()
    wait_resync(audit, user, ns, name, mark, started)
    assert describe(writes_by(audit, user, ns, mark)) == []


def test_deleting_the_connection_lets_the_garbage_collector_remove_every_child(kube, audit, fleet):
    ns, name, user = fleet["ns"]["deletion"], "doomed", fleet["user"]
    wait_ready(kube, ns, name)
    mark = audit.mark()
    kube.kubectl("delete", "stripeconn", name, "-n", ns)

    def gone() -> bool:
        left = [f"{r}/{c}" for r, c in children(name) if kube.exists(r, c, "-n", ns)]
        left += [p["metadata"]["name"] for p in pods(kube, ns, name)]
        left += [rs["metadata"]["name"] for rs in kube.get("replicasets", "-n", ns)["items"]]
        return not left

    wait_until(gone, timeout=180, what="every child garbage-collected")
    deleted = {(e["objectRef"]["resource"], object_name(e)) for e in writes_by(audit, GARBAGE_COLLECTOR, ns, mark) if e["verb"] == "delete"}
    assert set(children(name)) <= deleted, deleted
    assert kube.exists("secret", "stripe-api-key", "-n", ns), "the user's Secret is not the connection's"
    assert describe(writes_by(audit, user, ns, mark)) == []


def test_observed_generation_follows_the_spec_and_status_writes_keep_the_generation(kube, audit, fleet):
    ns, name, user = fleet["ns"]["generation"], "gen", fleet["user"]
    wait_ready(kube, ns, name)
    conn = kube.get("stripeconn", name, "-n", ns)
    generation = conn["metadata"]["generation"]
    assert conn["status"]["observedGeneration"] == generation
    status_writes = [e for e in writes_by(audit, user, ns) if e["objectRef"].get("subresource") == "status"]
    assert len(status_writes) >= 2, "NodesStarting, then NodesReady"
    assert generation == 1, "status writes did not bump the generation"

    mark = audit.mark()
    kube.kubectl("patch", "stripeconn", name, "-n", ns, "--type=merge", "-p", '{"spec": {"verbosity": 3}}')
    wait_until(lambda: status(kube, ns, name).get("observedGeneration") == generation + 1, what="observedGeneration 2")
    st = status(kube, ns, name)
    assert {c["observedGeneration"] for c in st["conditions"]} == {generation + 1}
    assert [e for e in writes_by(audit, user, ns, mark) if e["objectRef"].get("subresource") == "status"]
    assert kube.get("stripeconn", name, "-n", ns)["metadata"]["generation"] == generation + 1

    kube.kubectl("label", "stripeconn", name, "-n", ns, "team=billing")
    assert kube.get("stripeconn", name, "-n", ns)["metadata"]["generation"] == generation + 1, "metadata is not spec"


def test_leader_election_hands_over_after_a_crash_without_extra_writes(kube, audit, fleet):
    """docs/operator.md: a crashed leader's Lease is taken over at most its duration (15 s) plus
    about a second after its last renewal."""
    ns, user, system = fleet["ns"]["leader"], fleet["user"], fleet["system"]
    lease_name = "leader-test"
    replicas = {
        who: start_operator(
            kube,
            fleet["workdir"],
            service_account=fleet["service_account"],
            namespace=system,
            lease_name=lease_name,
            watch_namespaces=[ns],
            extra_args=[f"--resync-seconds={RESYNC_SECONDS}"],
            name=who,
        )
        for who in ("replica-a", "replica-b")
    }
    try:
        holder = wait_until(lambda: lease(kube, system, lease_name).get("holderIdentity"), what="a leader")
        standby = next(w for w in replicas if w != holder)
        assert metric(replicas[holder].admin_url, "stripe_operator_leader") == 1
        assert metric(replicas[standby].admin_url, "stripe_operator_leader") == 0

        kube.apply(connection("led"), ns)
        wait_ready(kube, ns, "led")
        wait_until(lambda: condition(status(kube, ns, "led"), "Progressing").get("reason") == "RolloutComplete", what="rollout complete")
        assert metric(replicas[standby].admin_url, "stripe_operator_reconciles_total") == 0, "the standby reconciled"

        mark = audit.mark()
        replicas[holder].kill()
        last_renewal = lease(kube, system, lease_name)["renewTime"]
        taken = wait_until(lambda: (spec := lease(kube, system, lease_name)).get("holderIdentity") == standby and spec, timeout=120, what="handover")
        waited = _seconds(taken["acquireTime"]) - _seconds(last_renewal)
        assert waited <= taken["leaseDurationSeconds"] + 5, f"handover took {waited:.1f} s after the last renewal"
        wait_until(lambda: metric(replicas[standby].admin_url, "stripe_operator_leader") == 1, what="the new leader leading")

        started = time.monotonic()
        wait_resync(audit, user, ns, "led", mark, started)
        assert describe(writes_by(audit, user, ns, mark)) == []

        # SIGTERM is a graceful stop: the leader exits by itself and gives its Lease up.
        leader = replicas[standby]
        os.killpg(leader.proc.pid, signal.SIGTERM)
        assert leader.proc.wait(timeout=60) == 0, leader.output()[-2000:]
        assert lease(kube, system, lease_name).get("holderIdentity") != standby, "the Lease was not released"
    finally:
        for replica in replicas.values():
            replica.stop()


def test_operator_recovers_from_the_api_server_stopping_mid_reconcile(kube, audit, cluster, fleet):
    ns, name, user = fleet["ns"]["faults"], "resilient", fleet["user"]
    operator = fleet["operator"]
    mark = audit.mark()
    kube.apply(connection(name), ns)
    wait_until(lambda: writes_by(audit, user, ns, mark), interval=0.05, what="the operator's first write")
    cluster.stop_apiserver()
    time.sleep(20)  # the fault itself: 20 s without an API server
    cluster.start_apiserver()

    wait_ready(kube, ns, name, timeout="300s")
    assert operator.proc.poll() is None, "the operator exited"
    wait_until(lambda: len(ready_pods(kube, ns, name)) == 2, what="both pods")
    assert len(kube.get("replicasets", "-n", ns)["items"]) == 1
    for resource, child in children(name):
        assert kube.exists(resource, child, "-n", ns), f"{resource}/{child}"
    creates = [e for e in writes_by(audit, user, ns, mark) if e["verb"] == "create" and e["objectRef"]["resource"] == "secrets"]
    assert [object_name(e) for e in creates] == [f"{name}-client-token"], "the client token was created once"
    conn = kube.get("stripeconn", name, "-n", ns)
    st = conn["status"]
    assert st["observedGeneration"] == conn["metadata"]["generation"]
    assert st["nodes"] == {"desired": 2, "ready": 2} and st["capacityTps"] == 12
    assert condition(st, "Degraded")["status"] == "False"


def _seconds(timestamp: str) -> float:
    """RFC 3339 (micro)time as epoch seconds."""
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
