"""Operator manifests against published schemas.

* Every object `stripe-operator render` builds from the example StripeConnections validates
  against the Kubernetes OpenAPI schemas shipped by kubernetes-validate (offline), strictly, for
  the two newest minor versions it ships and for 1.33 (the API level the operator is built on).
* The CRD itself is a valid CustomResourceDefinition for those versions.
* The example StripeConnections validate against the CRD's own openAPIV3Schema; the `schema-*`
  bad examples are rejected by it. The `cel-*` bad examples pass the OpenAPI part (only the CRD's
  CEL rules catch them: those are evaluated in operator/tests/crd.rs, next to validate()).
"""

import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "stripe-operator"
FIXTURES = ROOT / "operator" / "tests" / "fixtures"
CRD_FILE = ROOT / "crds" / "stripeconnections.connectors.integration.dev.yaml"

GOOD = sorted(FIXTURES.glob("*.yaml"))
SCHEMA_BAD = sorted((FIXTURES / "invalid").glob("schema-*.yaml"))
CEL_BAD = sorted((FIXTURES / "invalid").glob("cel-*.yaml"))

def child_kinds(manifest: Path) -> list[str]:
    """The Redis password's Secret, then one token Secret per client (one `default` without
    spec.clients)."""
    clients = yaml.safe_load(manifest.read_text())["spec"].get("clients") or [{"name": "default"}]
    return [
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        *["Secret"] * len(clients),
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    ]


def _versions():
    shipped = sorted(
        set(kv_utils.all_versions()), key=lambda v: tuple(int(p) for p in v.split("."))
    )
    chosen = shipped[-2:]
    if "1.33.0" in shipped and "1.33.0" not in chosen:
        chosen.insert(0, "1.33.0")
    return chosen


VERSIONS = _versions()


@pytest.fixture(scope="module")
def operator_binary():
    if not BINARY.exists():
        subprocess.run(
            ["cargo", "build", "-p", "stripe-operator", "--bin", "stripe-operator"],
            cwd=ROOT,
            check=True,
        )
    return BINARY


def render(binary, manifest):
    result = subprocess.run(
        [
            str(binary),
            "render",
            str(manifest),
            "--redis-url",
            "redis://redis.stripe-system.svc:6379",
            "--redis-password",
            "placeholder",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result


def crd_schema():
    crd = yaml.safe_load(CRD_FILE.read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def test_two_newest_kubernetes_versions_are_covered():
    assert len(VERSIONS) >= 2
    assert VERSIONS[-1] == kubernetes_validate.latest_version()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("manifest", GOOD, ids=lambda p: p.name)
def test_rendered_children_validate_against_kubernetes_schemas(operator_binary, manifest, version):
    result = render(operator_binary, manifest)
    assert result.returncode == 0, result.stderr
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert [d["kind"] for d in documents] == child_kinds(manifest)
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{manifest.name} {document['kind']} invalid for {version}: {error}")


@pytest.mark.parametrize("version", VERSIONS)
def test_crd_is_a_valid_custom_resource_definition(version):
    crd = yaml.safe_load(CRD_FILE.read_text())
    kubernetes_validate.validate(crd, version, strict=True)


def test_crd_file_is_what_the_binary_prints(operator_binary):
    printed = subprocess.run(
        [str(operator_binary), "crd"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == CRD_FILE.read_text()


@pytest.mark.parametrize("manifest", GOOD, ids=lambda p: p.name)
def test_examples_match_the_crd_schema(manifest):
    jsonschema.validate(yaml.safe_load(manifest.read_text()), crd_schema())


@pytest.mark.parametrize("manifest", SCHEMA_BAD, ids=lambda p: p.name)
def test_schema_violations_are_rejected_by_the_crd_schema(manifest):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(manifest.read_text()), crd_schema())


@pytest.mark.parametrize("manifest", CEL_BAD, ids=lambda p: p.name)
def test_cel_violations_are_left_to_cel_and_rejected_by_render(operator_binary, manifest):
    # The OpenAPI part accepts them; the CEL rules (checked in operator/tests/crd.rs) do not,
    # and neither does the operator's own validation.
    jsonschema.validate(yaml.safe_load(manifest.read_text()), crd_schema())
    result = render(operator_binary, manifest)
    assert result.returncode != 0
    assert "invalid StripeConnection" in result.stderr


@pytest.mark.parametrize("manifest", SCHEMA_BAD, ids=lambda p: p.name)
def test_render_refuses_schema_violations(operator_binary, manifest):
    result = render(operator_binary, manifest)
    assert result.returncode != 0
    assert "StripeConnection" in result.stderr
