"""examples/terraform/: parsed with python-hcl2 (terraform itself is not on CI machines; its
`terraform fmt -check` run is recorded in docs/install.md). Checks the connection settings as variables, their
types and sensitivity, and that the StripeConnection it writes uses only fields of the CRD."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from support import EXAMPLES, crd

TERRAFORM = EXAMPLES / "terraform"


def unquote(value):
    """python-hcl2 keeps the quotes of string literals."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parsed() -> dict[str, dict]:
    return {path.name: hcl2.load(path.open()) for path in sorted(TERRAFORM.glob("*.tf"))}


def blocks(kind: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for doc in parsed().values():
        for block in doc.get(kind, []):
            for name, body in block.items():
                found[unquote(name)] = body
    return found


def resources() -> dict[tuple[str, str], dict]:
    found = {}
    for doc in parsed().values():
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    found[(unquote(rtype), unquote(name))] = body
    return found


def test_files():
    assert sorted(parsed()) == ["main.tf", "outputs.tf", "variables.tf", "versions.tf"]


# The Stripe connector's connection settings: (variable, type, sensitive)
CONNECTION_SETTINGS = [
    ("proxy_enabled", "bool", False),
    ("proxy_auth_scheme", "string", False),
    ("proxy_user", "string", False),
    ("proxy_password", "string", True),
    ("proxy_ssltype", "string", False),
    ("account_id", "string", False),
    ("verbosity", "number", False),
    ("api_key", "string", True),
]


@pytest.mark.parametrize("name,type_,sensitive", CONNECTION_SETTINGS)
def test_connection_setting_variables(name, type_, sensitive):
    variables = blocks("variable")
    assert name in variables
    assert variables[name]["type"] == type_
    assert bool(variables[name].get("sensitive", False)) is sensitive
    assert unquote(variables[name].get("description", ""))


def test_every_variable_is_typed_and_described():
    for name, body in blocks("variable").items():
        assert "type" in body, name
        assert unquote(body.get("description", "")), name


def _enum_in_validation(variable: str) -> set[str]:
    (validation,) = blocks("variable")[variable]["validation"]
    listed = re.search(r"contains\(\[([^\]]*)\]", validation["condition"]).group(1)
    return {item.strip().strip('"') for item in listed.split(",")}


def crd_spec_schema() -> dict:
    (v1,) = crd()["spec"]["versions"]
    return v1["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_enumerations_match_the_crd():
    proxy = crd_spec_schema()["properties"]["proxy"]["properties"]
    assert _enum_in_validation("proxy_auth_scheme") == set(proxy["authScheme"]["enum"])
    assert _enum_in_validation("proxy_ssltype") == set(proxy["sslType"]["enum"])


def test_defaults_are_the_example_connection():
    variables = blocks("variable")
    assert unquote(variables["connection_name"]["default"]) == "stripe-connection"
    assert variables["verbosity"]["default"] == 5
    assert variables["min_nodes"]["default"] == 2
    assert variables["max_nodes"]["default"] == 50
    assert variables["proxy_enabled"]["default"] is False
    assert unquote(variables["connector_version"]["default"]) == "1"


def test_connection_manifest_and_secrets():
    res = resources()
    manifest = res[("kubernetes_manifest", "connection")]["manifest"]
    assert unquote(manifest["apiVersion"]) == f"{crd()['spec']['group']}/v1"
    assert unquote(manifest["kind"]) == crd()["spec"]["names"]["kind"]
    assert manifest["spec"] == "${local.spec}"
    (wait,) = res[("kubernetes_manifest", "connection")]["wait"]
    assert unquote(wait["condition"][0]["type"]) == "Ready"
    assert res[("kubernetes_secret", "api_key")]["data"] == {'"api-key"': "${var.api_key}"}
    assert res[("kubernetes_secret", "proxy_password")]["data"] == {"password": "${var.proxy_password}"}
    assert "count" in res[("kubernetes_secret", "proxy_password")]


def _object_keys(expression: str) -> set[str]:
    return set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*) = ", expression))


def _crd_property_names(schema: dict) -> set[str]:
    names: set[str] = set()
    for key, sub in schema.get("properties", {}).items():
        names.add(key)
        names |= _crd_property_names(sub)
    return names


def test_spec_uses_only_crd_fields():
    (locals_,) = parsed()["main.tf"]["locals"]
    spec_schema = crd_spec_schema()
    spec_keys = _object_keys(locals_["spec"])
    proxy_keys = _object_keys(locals_["proxy"])
    assert {"connectorVersion", "accountId", "auth", "verbosity", "nodes", "proxy", "logging"} <= spec_keys
    assert spec_keys <= _crd_property_names(spec_schema)
    assert proxy_keys <= set(spec_schema["properties"]["proxy"]["properties"]) | {"name", "key"}
    assert {"authScheme", "user", "passwordSecretRef", "sslType", "host", "port"} <= proxy_keys


def test_tfvars_example_sets_declared_variables_only():
    text = (TERRAFORM / "terraform.tfvars.example").read_text()
    assigned = set(re.findall(r"^([a-z_]+)\s*=", text, re.M))
    assert assigned and assigned <= set(blocks("variable"))
    assert "api_key" not in assigned and "proxy_password" not in assigned


@pytest.mark.parametrize("path", sorted(TERRAFORM.glob("*.tf")), ids=lambda p: p.name)
def test_canonical_layout_basics(path: Path):
    """What `terraform fmt` would also insist on and can be checked without terraform."""
    text = path.read_text()
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\t" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_proxy_ssltype_never_is_refused_like_the_operator_does():
    # The operator (validate() and the CRD's CEL rule) refuses sslType NEVER with an enabled
    # proxy; the module says so at plan time instead of leaving a Degraded connection.
    (lifecycle,) = resources()[("kubernetes_manifest", "connection")]["lifecycle"]
    conditions = [unquote(p["condition"]) for p in lifecycle["precondition"]]
    assert any('var.proxy_ssltype != "NEVER"' in c and "var.proxy_enabled" in c for c in conditions), conditions
    rules = [
        rule["rule"]
        for rule in crd_spec_schema()["properties"]["proxy"]["x-kubernetes-validations"]
    ]
    assert any("NEVER" in rule for rule in rules), rules
