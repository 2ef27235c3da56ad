"""The chart's RBAC on the real kube-apiserver: the operator, run outside the cluster as the
chart's ServiceAccount with a TokenRequest token, reconciles a connection to Ready (the grants
suffice), and writes outside the granted rules are refused (they are the least needed)."""

from __future__ import annotations

import pytest

from kube import chart_operator_env, service_account_user
from support import EXAMPLES

RELEASE = "sc"
FULLNAME = f"{RELEASE}-stripe-connector"
EXAMPLE_CONNECTION = (EXAMPLES / "stripe-connection.yaml").read_text()


def run_operator_as_chart(kube, operator, namespace: str, release: str = RELEASE):
    """The operator with the chart's ServiceAccount and the environment the chart gives it."""
    fullname = f"{release}-stripe-connector"
    return operator(service_account=fullname, namespace=namespace, env=chart_operator_env(kube, namespace, fullname))


def assert_ready_with_children(kube, namespace: str, name: str = "stripe-connection") -> None:
    kube.kubectl("wait", "--for=condition=Ready", f"stripeconn/{name}", "-n", namespace, "--timeout=180s")
    conn = kube.get("stripeconn", name, "-n", namespace)
    uid = conn["metadata"]["uid"]
    for kind in ("configmap", "deployment", "service", "horizontalpodautoscaler", "poddisruptionbudget"):
        items = kube.get(kind, "-n", namespace, "-l", f"app.kubernetes.io/instance={name}")["items"]
        assert len(items) == 1, f"{len(items)} {kind}s for {name}"
        (child,) = items
        (owner,) = child["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["uid"], owner["controller"]) == ("StripeConnection", uid, True)


def assert_forbidden(kube_as, user: str, verb: str, resource: str, *args: str, input: str | None = None) -> None:
    result = kube_as.kubectl(*args, input=input, check=False)
    assert result.returncode != 0, f"{' '.join(args)} was allowed"
    assert "is forbidden: " in result.stderr, result.stderr
    assert f'User "{user}" cannot {verb} resource "{resource}"' in result.stderr, result.stderr


def test_the_operator_runs_on_the_charts_rbac_alone(kube, audit, stripe_crd, make_namespace, chart, operator):
    system, app = make_namespace("system"), make_namespace("app")
    chart(RELEASE, system)
    mark = audit.mark()
    whoami = kube.as_service_account(FULLNAME, system, kube.plane.workdir / f"whoami-{system}.kubeconfig")
    assert whoami.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout == service_account_user(system, FULLNAME)

    process = run_operator_as_chart(kube, operator, system)
    kube.apply(EXAMPLE_CONNECTION, app)

    assert_ready_with_children(kube, app)
    user = service_account_user(system, FULLNAME)
    writes = audit.writes(mark, user=user)
    assert writes, "the operator wrote nothing as its ServiceAccount"
    refused = rbac_denials(audit.events(mark), user)
    assert refused == [], [(w["verb"], w["objectRef"]) for w in refused]
    assert "forbidden" not in process.output().lower()


def test_the_operator_runs_on_namespaced_rbac(kube, audit, stripe_crd, make_namespace, chart, operator):
    system, app = make_namespace("system"), make_namespace("app")
    chart(RELEASE, system, {"watchNamespaces": [app]})
    mark = audit.mark()

    process = run_operator_as_chart(kube, operator, system)
    kube.apply(EXAMPLE_CONNECTION, app)

    assert_ready_with_children(kube, app)
    user = service_account_user(system, FULLNAME)
    refused = rbac_denials(audit.events(mark), user)
    assert refused == [], [(w["verb"], w["objectRef"]) for w in refused]
    assert "forbidden" not in process.output().lower()


@pytest.fixture
def chart_identity(kube, make_namespace, chart, stripe_crd):
    """A cluster-wide install and the ServiceAccount's clients, plus a namespace with a connection."""
    system, app = make_namespace("system"), make_namespace("app")
    chart(RELEASE, system)
    kube.apply(EXAMPLE_CONNECTION, app)
    as_operator = kube.as_service_account(FULLNAME, system, kube.plane.workdir / f"operator-{system}.kubeconfig")
    return as_operator, service_account_user(system, FULLNAME), system, app


def test_writes_outside_the_granted_rules_are_refused(audit, chart_identity):
    as_operator, user, system, app = chart_identity
    mark = audit.mark()
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: intruder}\nspec: {containers: [{name: c, image: busybox}]}\n"
    assert_forbidden(as_operator, user, "create", "pods", "create", "-n", app, "-f", "-", input=pod)
    assert_forbidden(as_operator, user, "delete", "deployments", "delete", "deployment", "anything", "-n", app)
    assert_forbidden(as_operator, user, "delete", "secrets", "delete", "secret", "stripe-api-key", "-n", app)
    # Replicas are the HPA's: the operator may not scale a Deployment.
    assert_forbidden(as_operator, user, "patch", "deployments/scale", "scale", "deployment", FULLNAME, "-n", system, "--replicas=5")
    # The spec belongs to the user: only the status subresource is the operator's.
    spec_change = "apiVersion: connectors.integration.dev/v1\nkind: StripeConnection\nmetadata: {name: stripe-connection}\nspec: {verbosity: 1}\n"
    assert_forbidden(as_operator, user, "patch", "stripeconnections", "apply", "--server-side", "-n", app, "-f", "-", input=spec_change)
    assert_forbidden(as_operator, user, "create", "namespaces", "create", "namespace", "intruder")
    assert_forbidden(as_operator, user, "create", "clusterroles", "create", "clusterrole", "intruder", "--verb=get", "--resource=pods")
    assert_forbidden(as_operator, user, "create", "rolebindings", "create", "rolebinding", "intruder", "-n", app, "--clusterrole=admin", f"--user={user}")
    # The leader Lease only in the release namespace.
    assert_forbidden(as_operator, user, "create", "leases", "create", "-n", app, "-f", "-", input="apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: x}\n")

    refused = [(e["verb"], e["objectRef"]["resource"]) for e in rbac_denials(audit.events(mark), user)]
    assert ("create", "pods") in refused and ("delete", "secrets") in refused and ("patch", "stripeconnections") in refused
    assert audit.writes(mark, user=user) and all(e["responseStatus"]["code"] == 403 for e in audit.writes(mark, user=user))


def test_namespaced_install_grants_nothing_elsewhere(kube, make_namespace, chart, stripe_crd):
    system, watched, other = make_namespace("system"), make_namespace("watched"), make_namespace("other")
    chart(RELEASE, system, {"watchNamespaces": [watched]})
    as_operator = kube.as_service_account(FULLNAME, system, kube.plane.workdir / f"scoped-{system}.kubeconfig")
    user = service_account_user(system, FULLNAME)

    allowed = as_operator.kubectl("create", "configmap", "probe", "-n", watched, "--dry-run=server")
    assert "configmap/probe created (server dry run)" in allowed.stdout
    assert_forbidden(as_operator, user, "create", "configmaps", "create", "configmap", "probe", "-n", other, "--dry-run=server")
    assert_forbidden(as_operator, user, "list", "stripeconnections", "get", "stripeconn", "-n", other)
    assert_forbidden(as_operator, user, "list", "stripeconnections", "get", "stripeconn", "--all-namespaces")


def rbac_denials(events: list[dict], user: str) -> list[dict]:
    """The user's requests that RBAC refused. Other 403s (a write into a namespace being deleted,
    refused by admission) are not about the grants."""
    return [
        e
        for e in events
        if e["user"]["username"] == user and e.get("annotations", {}).get("authorization.k8s.io/decision") == "forbid"
    ]
