"""Shared helpers for the chart, example and packaging checks.

Rendering and linting go through helm-python-sdk (the Helm v4 SDK, no helm binary); Kubernetes
objects are validated with kubernetes-validate's offline schemas; StripeConnections against the
CRD's own OpenAPI schema and CEL rules; the Prometheus Operator kinds against a structural
subset schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import celpy
import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "stripe-connector"
CHART_CRD = CHART / "crds" / "stripeconnections.connectors.integration.dev.yaml"
EXAMPLES = REPO / "examples"
SCHEMAS = Path(__file__).resolve().parent / "schemas"

RELEASE = "sc"
NAMESPACE = "stripe-system"


def newest_kube_versions(count: int = 2) -> list[str]:
    """The newest `count` Kubernetes minor versions kubernetes-validate ships schemas for."""
    minors = sorted({kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}, key=Version)
    return [f"{m}.0" for m in minors[-count:]]


def render(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Render the chart offline; returns template path -> manifest text."""
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def documents(rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Every Kubernetes object of a render (NOTES.txt is not a manifest)."""
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def crd() -> dict[str, Any]:
    (doc,) = load_yaml_docs(CHART_CRD)
    return doc


def strict_crd_schema(crd_doc: dict[str, Any], version: str = "v1") -> dict[str, Any]:
    """The CRD version's openAPIV3Schema as a JSON schema with the API server's strict field
    validation: objects that list their properties reject unknown ones (unless they preserve
    unknown fields). apiVersion/kind/metadata are accepted at the top as the server does."""
    (ver,) = [v for v in crd_doc["spec"]["versions"] if v["name"] == version]
    schema = copy.deepcopy(ver["schema"]["openAPIV3Schema"])

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            if node.get("nullable") and "type" in node:
                node["type"] = [node["type"], "null"]
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    schema.setdefault("properties", {})
    schema["properties"].update(
        {
            "apiVersion": {"type": "string", "const": f"{crd_doc['spec']['group']}/{version}"},
            "kind": {"type": "string", "const": crd_doc["spec"]["names"]["kind"]},
            "metadata": {"type": "object"},
        }
    )
    return schema


def with_defaults(schema: dict[str, Any], value: Any) -> Any:
    """The object as the API server stores it: schema defaults filled in (structural defaulting)."""
    if isinstance(value, dict) and schema.get("type") == "object":
        value = dict(value)
        for key, sub in schema.get("properties", {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = with_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(value) - set(schema.get("properties", {})):
                value[key] = with_defaults(extra, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        value = [with_defaults(schema["items"], item) for item in value]
    return value


def cel_violations(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Evaluates the CRD's CEL rules (x-kubernetes-validations) where the API server does, with
    cel-python; returns the messages of the rules that fail."""
    found = []
    env = celpy.Environment()
    for rule in schema.get("x-kubernetes-validations", []):
        program = env.program(env.compile(rule["rule"]))
        result = program.evaluate({"self": celpy.json_to_cel(value)})
        if not (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            found.append(f"{path or '<root>'}: {rule.get('message', rule['rule'])}")
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value and value[key] is not None:
                found += cel_violations(sub, value[key], f"{path}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in set(value) - set(schema.get("properties", {})):
                found += cel_violations(extra, value[key], f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += cel_violations(schema["items"], item, f"{path}[{index}]")
    return found


def validate_stripe_connection(obj: dict[str, Any], crd_doc: dict[str, Any] | None = None) -> None:
    """What the API server checks on create: the OpenAPI schema with strict field validation,
    then, after defaulting, the CEL rules. Raises jsonschema.ValidationError or ValueError."""
    crd_doc = crd_doc or crd()
    jsonschema.Draft202012Validator(strict_crd_schema(crd_doc)).validate(obj)
    (ver,) = [v for v in crd_doc["spec"]["versions"] if v["name"] == obj["apiVersion"].split("/")[1]]
    schema = ver["schema"]["openAPIV3Schema"]
    broken = cel_violations(schema, with_defaults(schema, obj))
    if broken:
        raise ValueError("; ".join(broken))


# Custom-resource kinds the chart or the examples may emit, and how each is validated. Anything
# else without a Kubernetes schema fails the validation (no silent skips).
def _subset_schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): lambda: _subset_schema("servicemonitor-subset.json"),
    ("monitoring.coreos.com/v1", "PodMonitor"): lambda: _subset_schema("podmonitor-subset.json"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): lambda: _subset_schema("prometheusrule-subset.json"),
    ("cert-manager.io/v1", "Certificate"): lambda: _subset_schema("certificate-subset.json"),
}


def validate_object(obj: dict[str, Any], kube_version: str) -> str:
    """Validate one object; returns what it was validated against. Raises on any error."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key == ("connectors.integration.dev/v1", "StripeConnection"):
        validate_stripe_connection(obj)
        return "crd:StripeConnection"
    if key in CUSTOM_KINDS:
        jsonschema.Draft202012Validator(CUSTOM_KINDS[key]()).validate(obj)
        return f"custom:{key[1]}"
    kubernetes_validate.validate(obj, kube_version, strict=True)
    return f"kubernetes:{kube_version}"


def pod_specs(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The pod specs of a workload object, with a label for messages."""
    kind = obj.get("kind")
    name = f"{kind}/{obj.get('metadata', {}).get('name')}"
    spec = obj.get("spec", {})
    if kind == "Pod":
        yield name, spec
    elif kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}:
        yield name, spec["template"]["spec"]
    elif kind == "CronJob":
        yield name, spec["jobTemplate"]["spec"]["template"]["spec"]


def leaf_paths(values: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf of a values tree (empty maps and lists are leaves)."""
    if isinstance(values, dict) and values:
        paths: set[str] = set()
        for key, value in values.items():
            paths |= leaf_paths(value, f"{prefix}.{key}" if prefix else key)
        return paths
    return {prefix}
