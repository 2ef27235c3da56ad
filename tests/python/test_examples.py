"""examples/: the seed's example connection, the proxy example and the client Job, validated
against the CRD's schema and the Kubernetes schemas."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from support import EXAMPLES, crd, load_yaml_docs, newest_kube_versions, strict_crd_schema, validate_object

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


def test_seed_example_connection():
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


def _seed_connection() -> dict:
    return copy.deepcopy(_by_kind("stripe-connection.yaml")["StripeConnection"])


BAD_SPECS = {
    "verbosity 6": lambda s: s.update(verbosity=6),
    "verbosity as text": lambda s: s.update(verbosity="5"),
    "51 nodes": lambda s: s["nodes"].update(max=51),
    "0 nodes": lambda s: s["nodes"].update(min=0),
    "unknown field": lambda s: s.update(region="us-central1"),
    "no auth": lambda s: s.pop("auth"),
    "proxy auth scheme": lambda s: s.update(proxy={"enabled": True, "authScheme": "NTLM"}),
    "proxy ssl type": lambda s: s.update(proxy={"enabled": True, "sslType": "SOMETIMES"}),
    "connector version": lambda s: s.update(connectorVersion="2"),
    "log level": lambda s: s["logging"].update(level="verbose"),
}


@pytest.mark.parametrize("mutation", BAD_SPECS)
def test_crd_schema_rejects_bad_specs(mutation):
    schema = strict_crd_schema(crd())
    conn = _seed_connection()
    jsonschema.Draft202012Validator(schema).validate(conn)
    BAD_SPECS[mutation](conn["spec"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(conn)
