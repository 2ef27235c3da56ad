"""The StripeConnection CRD on the real kube-apiserver: Established, documented through
`kubectl explain`, refusing every invalid fixture with its CEL rule's or schema check's message,
and accepting every example."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from support import EXAMPLES, REPO, crd, load_yaml_docs, validate_stripe_connection, with_defaults

INVALID = REPO / "operator" / "tests" / "fixtures" / "invalid"
INVALID_FIXTURES = sorted(p.name for p in INVALID.glob("*.yaml"))


def test_crd_is_established(kube, stripe_crd):
    conditions = {c["type"]: c for c in kube.get("crd", stripe_crd)["status"]["conditions"]}
    assert conditions["Established"]["status"] == "True"
    assert conditions["NamesAccepted"]["status"] == "True"
    # The short name and the printer columns are served.
    resources = kube.kubectl("api-resources", "--api-group=connectors.integration.dev", "-o", "wide").stdout
    assert "stripeconn" in resources and "StripeConnection" in resources


def words(text: str) -> str:
    return " ".join(text.split())


def test_kubectl_explain_prints_the_field_docs(kube, stripe_crd):
    out = kube.kubectl("explain", "stripeconnection.spec.nodes").stdout
    (version,) = crd()["spec"]["versions"]
    nodes = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["nodes"]
    assert "KIND:     StripeConnection" in out or "KIND:" in out and "StripeConnection" in out
    assert "FIELD: nodes" in out
    assert words(nodes["description"]) in words(out)
    for name, field in nodes["properties"].items():
        assert f"{name}\t<integer>" in out or f"{name} <integer>" in words(out)
        assert words(field["description"]) in words(out)


def expected_message(doc: dict) -> str:
    """What the API server must say for an invalid fixture: the failing CEL rule's message, or
    the path of the field the schema check refuses (as the API server writes it)."""
    try:
        validate_stripe_connection(doc)
    except jsonschema.ValidationError as error:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        if error.validator == "required":
            (missing,) = [p for p in error.validator_value if p not in error.instance]
            path = f"{path}.{missing}" if path else missing
        return path
    except ValueError as error:
        # "<path>: <rule message>"; several rules may fail, the first is enough to name.
        return str(error).split("; ")[0].split(": ", 1)[1]
    raise AssertionError("the local validation accepts this fixture")


@pytest.mark.parametrize("name", INVALID_FIXTURES)
def test_the_api_server_refuses_invalid_fixtures(kube, stripe_crd, namespace, name):
    (doc,) = load_yaml_docs(INVALID / name)
    doc = copy.deepcopy(doc)
    for field in ("namespace", "uid"):
        doc["metadata"].pop(field, None)
    expected = expected_message(doc)

    result = kube.apply(doc, namespace, check=False)

    assert result.returncode != 0, f"{name} was accepted"
    assert f'The StripeConnection "{doc["metadata"]["name"]}" is invalid' in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if expected in line] or [result.stderr]
    assert expected in line, f"{name}: {expected!r} not in {result.stderr!r}"
    # The message names the field it is about (a rule without a fieldPath reports `<nil>`).
    assert "<nil>" not in line, line
    assert kube.get("stripeconnections", "-n", namespace)["items"] == []


def test_every_invalid_fixture_is_covered():
    assert len(INVALID_FIXTURES) >= 20
    assert all(n.startswith(("cel-", "schema-")) for n in INVALID_FIXTURES)


EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_the_api_server_accepts_every_example(kube, stripe_crd, namespace, name):
    docs = load_yaml_docs(EXAMPLES / name)
    result = kube.apply(docs, namespace)
    # PodSecurity (restricted here, as in a hardened cluster) warns about a pod template it would
    # refuse; the examples must pass it silently.
    assert "would violate PodSecurity" not in result.stderr, result.stderr
    for doc in docs:
        stored = kube.get(doc["kind"], doc["metadata"]["name"], "-n", namespace)
        assert stored["metadata"]["uid"]
        if doc["kind"] == "StripeConnection":
            # Stored as sent, with the schema's defaults filled in exactly as support.py's
            # offline checks assume.
            (version,) = crd()["spec"]["versions"]
            assert stored["spec"] == with_defaults(version["schema"]["openAPIV3Schema"], doc)["spec"]
            assert stored["spec"]["rateLimit"]["transactionsPerSecondPerNode"] == 6

