"""The Helm chart: lint --strict, values schema, rendering with every documented option, and the
rendered objects against the Kubernetes schemas of the newest minor versions."""

from __future__ import annotations

import copy
import difflib

import helm_python as helm
import pytest
import yaml

from support import (
    CHART,
    CHART_CRD,
    NAMESPACE,
    RELEASE,
    REPO,
    documents,
    leaf_paths,
    newest_kube_versions,
    render,
    validate_object,
)
from option_sets import OPTION_SETS

KUBE_VERSIONS = newest_kube_versions(2)

def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str, name: str) -> dict:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_lint_strict_passes(option_set):
    report = helm.lint(CHART, OPTION_SETS[option_set], strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert report["total_charts_linted"] == 1
    # severity 2 = warning, 3 = error; --strict fails on either
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_lint_strict_fails_on_bad_values():
    """The linter itself sees the schema (so a --strict lint in CI would catch a bad values file)."""
    report = helm.lint(CHART, {"replicaCount": "two"}, strict=True, namespace=NAMESPACE)
    assert any("replicaCount" in m["error"] for m in report["messages"] if m["severity"] == 3)


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_schema_accepts_documented_values(option_set):
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(OPTION_SETS[option_set])


BAD_VALUES = [
    # (values, what the error must name)
    ({"replicaCount": "two"}, "/replicaCount"),
    ({"replicaCount": 0}, "/replicaCount"),
    ({"bogus": True}, "bogus"),
    ({"operator": {"image": {"repo": "x"}}}, "repo"),
    ({"operator": {"logFormat": "xml"}}, "/operator/logFormat"),
    ({"watchNamespaces": "payments"}, "/watchNamespaces"),
    ({"watchNamespaces": ["Payments"]}, "/watchNamespaces/0"),
    ({"leaderElection": {"enabled": "yes"}}, "/leaderElection/enabled"),
    ({"redis": {"enabled": False}}, "externalUrl"),
    ({"redis": {"externalUrl": "http://redis:6379"}}, "/redis/externalUrl"),
    ({"redis": {"auth": {"existingSecret": 5}}}, "/redis/auth/existingSecret"),
    ({"redis": {"persistence": {"enabled": True}}}, "persistence"),
    ({"metrics": {"serviceMonitor": {"enabled": "true"}}}, "/metrics/serviceMonitor/enabled"),
    ({"metrics": {"serviceMonitor": {"interval": "often"}}}, "/metrics/serviceMonitor/interval"),
    ({"metrics": {"service": {"port": 70000}}}, "/metrics/service/port"),
    ({"prometheusAdapter": {"rule": {"enabled": 1}}}, "/prometheusAdapter/rule/enabled"),
    ({"node": {"image": {"pullPolicy": "Always"}}}, "pullPolicy"),
    ({"operator": {"resources": {"limits": {"memory": ["1Gi"]}}}}, "/operator/resources/limits/memory"),
]


@pytest.mark.parametrize("values,named", BAD_VALUES, ids=[str(v) for v, _ in BAD_VALUES])
def test_schema_rejects_bad_values(values, named):
    with helm.Chart.load(CHART) as chart:
        with pytest.raises(helm.HelmValuesError) as schema_error:
            chart.validate_schema(values)
        assert named in str(schema_error.value)
        # An install renders with the same validation: nothing is produced from bad values.
        with pytest.raises(helm.HelmValuesError):
            chart.render(values, name=RELEASE, namespace=NAMESPACE)


def test_several_replicas_need_leader_election():
    with pytest.raises(helm.HelmRenderError, match="leaderElection"):
        render({"replicaCount": 2, "leaderElection": {"enabled": False}})


def test_every_value_is_exercised():
    """Every leaf of values.yaml is set explicitly by some option set, so each is rendered."""
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    exercised = set().union(*(leaf_paths(values) for values in OPTION_SETS.values() if values))
    missing = {
        path for path in leaf_paths(defaults) if not any(p == path or p.startswith(path + ".") for p in exercised)
    }
    assert missing == set()


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_rendered_objects_are_valid(option_set, kube_version):
    docs = documents(render(OPTION_SETS[option_set]))
    assert docs
    for doc in docs:
        validate_object(doc, kube_version)


@pytest.mark.parametrize("option_set", OPTION_SETS)
def test_standard_labels_everywhere(option_set):
    for doc in documents(render(OPTION_SETS[option_set])):
        labels = doc["metadata"].get("labels", {})
        for key in (
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
        ):
            assert key in labels, f"{doc['kind']}/{doc['metadata']['name']} lacks {key}"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"


def test_default_render_has_the_expected_objects():
    docs = documents(render())
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    full = f"{RELEASE}-stripe-connector"
    assert kinds == sorted(
        [
            ("ClusterRole", full),
            ("ClusterRoleBinding", full),
            ("Deployment", full),
            ("Deployment", f"{full}-redis"),
            ("NetworkPolicy", f"{full}-redis"),
            ("PodDisruptionBudget", full),
            ("Pod", f"{full}-test-health"),
            ("Role", f"{full}-leader-election"),
            ("RoleBinding", f"{full}-leader-election"),
            ("Service", f"{full}-metrics"),
            ("Service", f"{full}-redis"),
            ("ServiceAccount", full),
        ]
    )
    for doc in docs:
        if doc["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
            assert doc["metadata"]["namespace"] == NAMESPACE


# What the operator calls (docs/operator.md, "RBAC the operator needs"): nothing more.
CHILD_VERBS = {"get", "list", "watch", "create", "patch"}
EXPECTED_WATCH_RULES = {
    ("connectors.integration.dev", "stripeconnections"): {"list", "watch"},
    ("connectors.integration.dev", "stripeconnections/status"): {"patch"},
    **{("", r): CHILD_VERBS for r in ("secrets", "configmaps", "services", "serviceaccounts")},
    ("apps", "deployments"): CHILD_VERBS,
    ("autoscaling", "horizontalpodautoscalers"): CHILD_VERBS,
    ("policy", "poddisruptionbudgets"): CHILD_VERBS,
    ("events.k8s.io", "events"): {"create", "patch"},
}
EXPECTED_LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "patch"}}


def grants(role: dict) -> dict[tuple[str, str], set[str]]:
    table: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert "*" not in (group, resource) and "*" not in rule["verbs"]
                table.setdefault((group, resource), set()).update(rule["verbs"])
    return table


def test_cluster_wide_rbac_is_least_privilege():
    docs = documents(render())
    full = f"{RELEASE}-stripe-connector"
    assert grants(one(docs, "ClusterRole", full)) == EXPECTED_WATCH_RULES
    assert grants(one(docs, "Role", f"{full}-leader-election")) == EXPECTED_LEASE_RULES
    binding = one(docs, "ClusterRoleBinding", full)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": full}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": full, "namespace": NAMESPACE}]
    assert env_of(one(docs, "Deployment", full)["spec"]["template"]["spec"]["containers"][0])["WATCH_NAMESPACES"] == ""


def test_namespaced_rbac_grants_only_the_listed_namespaces():
    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    full = f"{RELEASE}-stripe"
    assert by_kind(docs, "ClusterRole") == [] and by_kind(docs, "ClusterRoleBinding") == []
    roles = {r["metadata"]["namespace"]: r for r in by_kind(docs, "Role") if r["metadata"]["name"] == full}
    assert set(roles) == {"payments", "billing"}
    for role in roles.values():
        assert grants(role) == EXPECTED_WATCH_RULES
    bindings = {b["metadata"]["namespace"]: b for b in by_kind(docs, "RoleBinding") if b["metadata"]["name"] == full}
    assert set(bindings) == {"payments", "billing"}
    for binding in bindings.values():
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "stripe-operator", "namespace": NAMESPACE}]
    lease_role = one(docs, "Role", f"{full}-leader-election")
    assert lease_role["metadata"]["namespace"] == NAMESPACE
    assert grants(lease_role) == EXPECTED_LEASE_RULES
    operator = one(docs, "Deployment", full)["spec"]["template"]["spec"]["containers"][0]
    assert env_of(operator)["WATCH_NAMESPACES"] == "payments,billing"


def test_operator_deployment():
    docs = documents(render())
    full = f"{RELEASE}-stripe-connector"
    deployment = one(docs, "Deployment", full)
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == full
    (container,) = pod["containers"]
    assert container["image"] == "ghcr.io/stripe-connector/stripe-operator:0.1.0"
    assert container["args"][0] == "run"
    assert "--leader-election=true" in container["args"]
    assert "--admin-listen=0.0.0.0:9090" in container["args"]
    env = env_of(container)
    assert env["NODE_IMAGE"] == "ghcr.io/stripe-connector/stripe-node:0.1.0"
    assert env["REDIS_URL"] == f"redis://{full}-redis.{NAMESPACE}.svc.cluster.local:6379"
    assert "REDIS_PASSWORD_FILE" not in env
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["LEASE_NAME"] == full
    (port,) = container["ports"]
    assert (port["name"], port["containerPort"]) == ("admin", 9090)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
    service = one(docs, "Service", f"{full}-metrics")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "admin", "protocol": "TCP"}]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    pdb = one(docs, "PodDisruptionBudget", full)
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_images_and_leader_election_follow_values():
    values = OPTION_SETS["managed-redis-namespaced-monitoring"]
    docs = documents(render(values))
    (container,) = one(docs, "Deployment", f"{RELEASE}-stripe")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/stripe-operator:1.2.3"
    assert container["imagePullPolicy"] == "Always"
    assert env_of(container)["NODE_IMAGE"] == "registry.example/stripe-node:1.2.3"
    assert "--log-format=text" in container["args"]

    docs = documents(render(OPTION_SETS["external-redis-minimal"]))
    deployment = one(docs, "Deployment", "stripe-operator")
    assert deployment["spec"]["replicas"] == 1
    assert "--leader-election=false" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "preexisting-operator"
    kinds = {d["kind"] for d in docs}
    assert kinds.isdisjoint({"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Pod", "PodDisruptionBudget"})


def test_external_redis_with_password_from_a_secret():
    docs = documents(render(OPTION_SETS["external-redis-minimal"]))
    assert [d for d in docs if d["metadata"]["name"].endswith("-redis")] == []
    pod = one(docs, "Deployment", "stripe-operator")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = env_of(container)
    assert env["REDIS_URL"] == "rediss://redis.shared.svc:6380/2"
    assert env["REDIS_PASSWORD_FILE"] == "/var/run/stripe-connector/redis-password/password"
    (mount,) = container["volumeMounts"]
    assert mount == {"name": "redis-password", "mountPath": "/var/run/stripe-connector/redis-password", "readOnly": True}
    (volume,) = pod["volumes"]
    assert volume["secret"]["secretName"] == "shared-redis"
    assert volume["secret"]["items"] == [{"key": "password", "path": "password"}]

    docs = documents(render(OPTION_SETS["external-redis-cluster-wide"]))
    (container,) = one(docs, "Deployment", f"{RELEASE}-stripe-connector")["spec"]["template"]["spec"]["containers"]
    assert env_of(container)["REDIS_URL"] == "redis://redis.shared.svc:6379"
    assert "REDIS_PASSWORD_FILE" not in env_of(container) and "volumeMounts" not in container


def test_managed_redis_keeps_its_password_out_of_argv_and_env():
    values = OPTION_SETS["managed-redis-namespaced-monitoring"]
    docs = documents(render(values))
    redis = one(docs, "Deployment", f"{RELEASE}-stripe-redis")
    pod = redis["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    script = " ".join(container["command"])
    assert "requirepass" in script and "/var/run/redis-password/password" in script
    assert "--save ''" in script and "--appendonly no" in script and "--maxmemory 32mb" in script
    assert "env" not in container
    secret_volume = [v for v in pod["volumes"] if "secret" in v]
    assert secret_volume[0]["secret"] == {
        "secretName": "limiter-redis",
        "defaultMode": 0o440,
        "items": [{"key": "redis-password", "path": "password"}],
    }
    # The operator gets the same password as a file and the cluster-domain qualified URL.
    (operator,) = one(docs, "Deployment", f"{RELEASE}-stripe")["spec"]["template"]["spec"]["containers"]
    env = env_of(operator)
    assert env["REDIS_URL"] == f"redis://{RELEASE}-stripe-redis.{NAMESPACE}.svc.corp.local:6379"
    assert env["REDIS_PASSWORD_FILE"] == "/var/run/stripe-connector/redis-password/password"
    service = one(docs, "Service", f"{RELEASE}-stripe-redis")
    assert service["spec"]["selector"].items() <= redis["spec"]["template"]["metadata"]["labels"].items()


def test_redis_admits_only_connector_nodes():
    node_labels = {"app.kubernetes.io/name": "stripe-connector-node", "app.kubernetes.io/managed-by": "stripe-operator"}
    docs = documents(render())
    full = f"{RELEASE}-stripe-connector"
    policy = one(docs, "NetworkPolicy", f"{full}-redis")
    redis = one(docs, "Deployment", f"{full}-redis")
    assert policy["spec"]["podSelector"]["matchLabels"] == redis["spec"]["selector"]["matchLabels"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": node_labels}, "namespaceSelector": {}}]
    assert rule["ports"] == [{"port": "redis", "protocol": "TCP"}]

    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    (rule,) = one(docs, "NetworkPolicy", f"{RELEASE}-stripe-redis")["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"] == {
        "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["payments", "billing"]}]
    }
    assert by_kind(documents(render({"redis": {"networkPolicy": {"enabled": False}}})), "NetworkPolicy") == []


def test_packaged_chart_renders_the_same(tmp_path):
    """`helm package` keeps every template, the schema and the CRD (.helmignore drops nothing needed)."""
    archive = helm.package(CHART, destination=tmp_path)
    with helm.Chart.load(archive) as packaged, helm.Chart.load(CHART) as source:
        assert [c["filename"] for c in packaged.crds] == [c["filename"] for c in source.crds]
        assert packaged.schema == source.schema
        values = OPTION_SETS["managed-redis-namespaced-monitoring"]
        assert packaged.render(values, name=RELEASE, namespace=NAMESPACE) == source.render(
            values, name=RELEASE, namespace=NAMESPACE
        )


def test_service_monitor_and_pod_monitor_select_the_right_targets():
    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    service = one(docs, "Service", f"{RELEASE}-stripe-metrics")
    monitor = one(docs, "ServiceMonitor", f"{RELEASE}-stripe")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "5s"}]
    assert service["spec"]["ports"][0]["name"] == "metrics" and service["spec"]["ports"][0]["port"] == 9100

    nodes = one(docs, "PodMonitor", f"{RELEASE}-stripe-nodes")
    assert nodes["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "stripe-connector-node",
        "app.kubernetes.io/managed-by": "stripe-operator",
    }
    assert nodes["spec"]["namespaceSelector"] == {"matchNames": ["payments", "billing"]}
    assert nodes["spec"]["podMetricsEndpoints"] == [{"port": "admin", "path": "/metrics", "interval": "10s"}]

    docs = documents(render(OPTION_SETS["external-redis-cluster-wide"]))
    assert by_kind(docs, "PodMonitor") == []
    assert len(by_kind(docs, "ServiceMonitor")) == 1


def test_prometheus_adapter_rule_serves_the_offered_load_metric():
    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    config_map = one(docs, "ConfigMap", f"{RELEASE}-stripe-prometheus-adapter-rule")
    assert config_map["metadata"]["namespace"] == "monitoring"
    (rule,) = yaml.safe_load(config_map["data"]["config.yaml"])["rules"]
    assert yaml.safe_load(config_map["data"]["values.yaml"])["rules"]["custom"] == [rule]
    assert rule["seriesQuery"].startswith("stripe_connector_offered_requests_per_second{")
    assert rule["name"]["as"] == "stripe_connector_offered_requests_per_second"
    assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    assert "[2m]" in rule["metricsQuery"] and "by (<<.GroupBy>>)" in rule["metricsQuery"]
    assert by_kind(documents(render()), "ConfigMap") == []


def test_helm_test_hook_checks_operator_health():
    rendered = render()
    (path,) = [p for p in rendered if "/templates/tests/" in p]
    (pod,) = documents({path: rendered[path]})
    assert pod["kind"] == "Pod"
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    url = pod["spec"]["containers"][0]["command"][-1]
    assert url == f"http://{RELEASE}-stripe-connector-metrics.{NAMESPACE}.svc:9090/healthz"


def test_notes_walk_through_first_connection():
    notes = render()["stripe-connector/templates/NOTES.txt"]
    assert "kubectl wait --for=condition=Ready stripeconn/stripe-connection" in notes
    assert "every namespace" in notes
    assert "payments, billing" in render(OPTION_SETS["managed-redis-namespaced-monitoring"])["stripe-connector/templates/NOTES.txt"]


def test_chart_crd_equals_the_generated_crd():
    """The chart ships the operator's generated CRD unchanged (crds/ at the repository root is
    written by `stripe-operator crd` and checked against the Rust types by the operator's tests)."""
    generated = sorted((REPO / "crds").glob("*.yaml"))
    assert generated, "crds/*.yaml (the operator's generated CRD) is missing"
    shipped = sorted((CHART / "crds").glob("*.yaml"))
    assert [p.name for p in shipped] == [p.name for p in generated]
    for ours, theirs in zip(shipped, generated):
        diff = "".join(
            difflib.unified_diff(
                theirs.read_text().splitlines(keepends=True),
                ours.read_text().splitlines(keepends=True),
                str(theirs),
                str(ours),
            )
        )
        assert not diff, f"{ours} differs from {theirs}: copy it again\n{diff}"


def test_chart_crd_is_the_stripeconnection_crd():
    (doc,) = [d for d in yaml.safe_load_all(CHART_CRD.read_text()) if d]
    for version in KUBE_VERSIONS:
        validate_object(doc, version)
    assert doc["spec"]["group"] == "connectors.integration.dev"
    assert doc["spec"]["names"]["kind"] == "StripeConnection"
    assert "stripeconn" in doc["spec"]["names"]["shortNames"]
    assert doc["spec"]["scope"] == "Namespaced"
    (v1,) = [v for v in doc["spec"]["versions"] if v["name"] == "v1"]
    assert v1["served"] and v1["storage"] and "status" in v1["subresources"]


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_validation_rejects_unknown_fields_and_unknown_kinds(kube_version):
    """The validation above is not vacuous: unknown fields fail, and a kind with neither a
    Kubernetes schema nor an entry in support.CUSTOM_KINDS fails instead of being skipped."""
    import kubernetes_validate

    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    deployment = copy.deepcopy(by_kind(docs, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_object(deployment, kube_version)
    monitor = copy.deepcopy(by_kind(docs, "ServiceMonitor")[0])
    monitor["spec"]["endpoints"][0]["intervall"] = "15s"
    with pytest.raises(Exception, match="intervall"):
        validate_object(monitor, kube_version)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate_object({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, kube_version)
