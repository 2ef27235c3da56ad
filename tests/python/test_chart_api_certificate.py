"""The chart's cert-manager Certificates for connections' HTTPS API, rendered by the real helm CLI:
only when the cluster serves cert-manager.io/v1 Certificate (`.Capabilities.APIVersions`), each
for the Secret the connection's spec.tls.serverCertSecretRef names, valid as cert-manager's CRD
defines a Certificate."""

from __future__ import annotations

import json
import subprocess

import yaml

from option_sets import OPTION_SETS
from support import CHART, NAMESPACE, RELEASE, validate_object

VALUES = OPTION_SETS["managed-redis-namespaced-monitoring"]


def helm_template(tools, tmp_path, *flags: str) -> list[dict]:
    values = tmp_path / "values.json"
    values.write_text(json.dumps(VALUES))
    out = subprocess.run(
        [str(tools / "helm"), "template", RELEASE, str(CHART), "-n", NAMESPACE, "-f", str(values), *flags],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def certificates(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] == "Certificate"]


def test_a_certificate_is_rendered_only_where_cert_manager_is_installed(tools, tmp_path):
    assert certificates(helm_template(tools, tmp_path)) == []
    (cert,) = certificates(helm_template(tools, tmp_path, "--api-versions", "cert-manager.io/v1/Certificate"))
    validate_object(cert, "1.33.0")
    assert cert["metadata"] == {**cert["metadata"], "name": "payments-api-tls", "namespace": "payments"}
    spec = cert["spec"]
    # The Secret a connection names in spec.tls.serverCertSecretRef, for its Service's names.
    assert spec["secretName"] == "payments-api-tls"
    assert spec["dnsNames"] == ["payments.payments.svc", "payments.payments.svc.corp.local"]
    assert spec["issuerRef"] == {"name": "cluster-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert (spec["duration"], spec["renewBefore"]) == ("720h", "240h")
    assert spec["privateKey"]["rotationPolicy"] == "Always"
