"""The chart grants the operator exactly the RBAC its code uses: the table in operator/src/rbac.rs,
printed by `stripe-operator rbac`, equals the rendered chart's rules (no extra verb or resource,
none missing), cluster-wide and namespaced."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from option_sets import OPTION_SETS
from support import NAMESPACE, RELEASE, REPO, documents, render

OPERATOR = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / "stripe-operator"


def operator_rbac() -> tuple[dict, dict]:
    assert OPERATOR.exists(), f"{OPERATOR} is missing: cargo build --workspace --bins (make test does)"
    out = subprocess.run([str(OPERATOR), "rbac"], check=True, capture_output=True, text=True).stdout
    cluster_role, lease_role = [d for d in yaml.safe_load_all(out) if d]
    return grants(cluster_role), grants(lease_role)


def grants(role: dict) -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) -> verbs; refuses wildcards and name- or URL-scoped rules."""
    table: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert "*" not in (group, resource) and "*" not in rule["verbs"], rule
                table.setdefault((group, resource), set()).update(rule["verbs"])
    return table


def roles(docs: list[dict], kind: str, name: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]


def test_operator_rbac_table_is_not_empty():
    watched, lease = operator_rbac()
    assert ("apps", "deployments") in watched
    assert lease == {("coordination.k8s.io", "leases"): {"get", "create", "patch"}}


def test_cluster_wide_chart_grants_exactly_what_the_operator_uses():
    watched, lease = operator_rbac()
    docs = documents(render())
    full = f"{RELEASE}-stripe-connector"
    (cluster_role,) = roles(docs, "ClusterRole", full)
    assert grants(cluster_role) == watched
    (lease_role,) = roles(docs, "Role", f"{full}-leader-election")
    assert lease_role["metadata"]["namespace"] == NAMESPACE
    assert grants(lease_role) == lease
    # Nothing else grants the operator anything.
    assert {(d["kind"], d["metadata"]["name"]) for d in docs if d["kind"] in {"ClusterRole", "Role"}} == {
        ("ClusterRole", full),
        ("Role", f"{full}-leader-election"),
    }


def test_namespaced_chart_grants_exactly_what_the_operator_uses_in_each_namespace():
    watched, lease = operator_rbac()
    docs = documents(render(OPTION_SETS["managed-redis-namespaced-monitoring"]))
    full = f"{RELEASE}-stripe"
    assert [d for d in docs if d["kind"] == "ClusterRole"] == []
    namespaced = roles(docs, "Role", full)
    assert {r["metadata"]["namespace"] for r in namespaced} == {"payments", "billing"}
    for role in namespaced:
        assert grants(role) == watched, role["metadata"]["namespace"]
    (lease_role,) = roles(docs, "Role", f"{full}-leader-election")
    assert grants(lease_role) == lease
