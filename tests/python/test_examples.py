"""examples/: the Stripe connector's example connection, the proxy example and the client Job, validated
against the CRD's schema and the Kubernetes schemas."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from support import EXAMPLES, load_yaml_docs, newest_kube_versions, validate_object, validate_stripe_connection

KUBE_VERSIONS = newest_kube_versions(2)
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


def test_the_examples_exist():
    assert EXAMPLE_FILES == ["client-job.yaml", "stripe-connection-proxy.yaml", "stripe-connection.yaml"]


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_is_valid(name, kube_version):
    docs = load_yaml_docs(EXAMPLES / name)
    assert docs
    for doc in docs:
        validate_object(doc, kube_version)


def _by_kind(name: str) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in load_yaml_docs(EXAMPLES / name)}


def test_stripe_connector_example_connection():
    docs = _by_kind("stripe-connection.yaml")
    conn, secret = docs["StripeConnection"], docs["Secret"]
    assert conn["metadata"]["name"] == "stripe-connection"
    spec = conn["spec"]
    assert spec["connectorVersion"] == "1"
    assert spec["verbosity"] == 5
    assert spec["nodes"] == {"min": 2, "max": 50}
    assert spec["logging"]["enabled"] is True
    assert spec["accountId"]
    ref = spec["auth"]["apiKeySecretRef"]
    assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    assert "proxy" not in spec


def test_proxy_example_connection():
    docs = _by_kind("stripe-connection-proxy.yaml")
    proxy = docs["StripeConnection"]["spec"]["proxy"]
    assert proxy["enabled"] is True
    assert proxy["authScheme"] in {"BASIC", "DIGEST"}
    assert proxy["user"] and proxy["host"] and proxy["port"]
    assert proxy["sslType"] in {"AUTO", "ALWAYS", "NEVER", "TUNNEL"}
    secret = docs["Secret"]
    assert proxy["passwordSecretRef"]["name"] == secret["metadata"]["name"]
    assert proxy["passwordSecretRef"]["key"] in secret["stringData"]


def test_client_job_calls_the_node_with_the_generated_token():
    job = _by_kind("client-job.yaml")["Job"]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    script = " ".join(container["command"])
    assert "'http://stripe-connection:8080/v2/entityTypes/Customer/entities?pageSize=5'" in script
    assert "Authorization: Bearer" in script and "-H @-" in script
    (mount,) = container["volumeMounts"]
    assert "/var/run/stripe-connection/token" in script and mount["mountPath"] == "/var/run/stripe-connection"
    (volume,) = pod["volumes"]
    assert volume["name"] == mount["name"]
    assert volume["secret"]["secretName"] == "stripe-connection-client-token"
    assert volume["secret"]["items"] == [{"key": "token", "path": "token"}]
    # The token never sits in the pod spec itself.
    assert "env" not in container


def _example_connection() -> dict:
    return copy.deepcopy(_by_kind("stripe-connection.yaml")["StripeConnection"])


BAD_SPECS = {
    # OpenAPI schema: (mutation, the field named in the error)
    "verbosity 6": (lambda c: c["spec"].update(verbosity=6), "verbosity"),
    "verbosity as text": (lambda c: c["spec"].update(verbosity="5"), "verbosity"),
    "51 nodes": (lambda c: c["spec"]["nodes"].update(max=51), "max"),
    "0 nodes": (lambda c: c["spec"]["nodes"].update(min=0), "min"),
    "unknown field": (lambda c: c["spec"].update(region="us-central1"), "region"),
    "no auth": (lambda c: c["spec"].pop("auth"), "auth"),
    "proxy auth scheme": (lambda c: c["spec"].update(proxy={"enabled": True, "authScheme": "NTLM"}), "NTLM"),
    "proxy ssl type": (lambda c: c["spec"].update(proxy={"enabled": True, "sslType": "SOMETIMES"}), "SOMETIMES"),
    "connector version": (lambda c: c["spec"].update(connectorVersion="2"), "'2'"),
    "log level": (lambda c: c["spec"]["logging"].update(level="verbose"), "verbose"),
    # CEL rules: (mutation, the rule's message)
    "min above max": (lambda c: c["spec"].update(nodes={"min": 10, "max": 5}), "nodes.min must not exceed nodes.max"),
    "name with capitals": (lambda c: c["metadata"].update(name="Stripe-Connection"), "lowercase letters"),
    "name ending in a hyphen": (lambda c: c["metadata"].update(name="stripe-"), "end with a letter or digit"),
    "name of 50 characters": (lambda c: c["metadata"].update(name="s" * 50), "at most 49 characters"),
    "proxy without host": (
        lambda c: c["spec"].update(proxy={"enabled": True, "authScheme": "NONE", "port": 3128}),
        "proxy.host is required",
    ),
    "basic proxy without user": (
        lambda c: c["spec"].update(proxy={"enabled": True, "authScheme": "BASIC", "host": "proxy", "port": 3128}),
        "proxy.user and proxy.passwordSecretRef are required",
    ),
    "operator label": (
        lambda c: c["spec"].update(labels={"app.kubernetes.io/name": "mine"}),
        "labels must not set the operator's own",
    ),
}


@pytest.mark.parametrize("mutation", BAD_SPECS)
def test_crd_rejects_bad_connections(mutation):
    conn = _example_connection()
    validate_stripe_connection(conn)
    change, reason = BAD_SPECS[mutation]
    change(conn)
    with pytest.raises((jsonschema.ValidationError, ValueError)) as refused:
        validate_stripe_connection(conn)
    assert reason in str(refused.value)


def test_crd_accepts_a_49_character_name_and_defaults():
    conn = _example_connection()
    conn["metadata"]["name"] = "s" * 48 + "1"
    del conn["spec"]["nodes"]  # defaults 2..50 satisfy min <= max
    validate_stripe_connection(conn)
