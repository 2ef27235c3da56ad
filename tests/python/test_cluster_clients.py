"""Named clients and HTTPS on the test control plane (a real kube-apiserver; the operator runs
outside it as the chart's ServiceAccount): the operator generates one token Secret per client,
mounts each into the node pods with the scopes in their settings, mounts the API's certificate,
recreates one client's Secret with a new token when it is deleted (rotation) while the others
keep theirs, and the CRD's CEL rules refuse a scope that names an unknown operation or action."""

from __future__ import annotations

import base64
import json

import pytest

from control_plane import Pki
from kube import wait_until
from operator_cluster import api_key_secret, connection, install_operator_rbac

pytestmark = pytest.mark.usefixtures("stripe_crd")

SYSTEM = "clients-tests-system"
CLIENTS = [
    {"name": "default", "allow": {"entities": {"*": ["*"]}, "actions": ["*"], "httpRequests": ["*"]}},
    {"name": "reader", "allow": {"entities": {"Customer": ["LIST", "GET"]}}},
    {"name": "checkout", "allow": {"entities": {"PaymentIntent": ["CREATE", "GET"]}, "actions": ["ConfirmPaymentIntent"]}},
]


def tls_secret(pki: Pki) -> dict:
    cert, key = pki.issue("payments", "payments.clients-scopes.svc", hosts=("payments.clients-scopes.svc",), client=False)
    data = {"tls.crt": cert.read_bytes(), "tls.key": key.read_bytes()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": "payments-api-tls"},
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def token(kube, namespace: str, secret: str) -> str:
    return base64.b64decode(kube.get("secret", secret, "-n", namespace)["data"]["token"]).decode()


@pytest.fixture(scope="module")
def scoped(kube, operator_module, tmp_path_factory):
    namespace = "clients-scopes"
    kube.kubectl("create", "namespace", namespace)
    kube.apply(api_key_secret(), namespace)
    kube.apply(tls_secret(Pki(tmp_path_factory.mktemp("pki"), "clients-ca")), namespace)
    kube.apply(connection("payments", clients=CLIENTS, tls={"serverCertSecretRef": {"name": "payments-api-tls"}}), namespace)
    operator_module(namespace)
    yield namespace
    kube.kubectl("delete", "stripeconn", "--all", "-n", namespace, check=False)
    kube.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


@pytest.fixture(scope="module")
def operator_module(kube, tmp_path_factory):
    from kube import start_operator

    service_account = install_operator_rbac(kube, SYSTEM, release="clients-tests", fullname="clients-tests")
    started = []

    def start(namespace: str):
        started.append(
            start_operator(
                kube,
                tmp_path_factory.mktemp("operator"),
                service_account=service_account,
                namespace=SYSTEM,
                lease_name="clients-tests",
                watch_namespaces=[namespace],
                extra_args=["--resync-seconds=10"],
                name="operator-clients",
            )
        )

    yield start
    for process in started:
        process.stop()
    kube.helm("uninstall", "clients-tests", "-n", SYSTEM, check=False)
    kube.kubectl("delete", "namespace", SYSTEM, "--wait=false", check=False)


def test_each_client_gets_its_own_token_secret_volume_and_scope(kube, scoped):
    secrets = ["payments-client-token", "payments-client-token-reader", "payments-client-token-checkout"]
    wait_until(lambda: all(kube.exists("secret", s, "-n", scoped) for s in secrets), what="the clients' Secrets")
    tokens = {s: token(kube, scoped, s) for s in secrets}
    assert len(set(tokens.values())) == 3 and all(len(t) == 48 for t in tokens.values())
    for name in secrets:
        owners = kube.get("secret", name, "-n", scoped)["metadata"]["ownerReferences"]
        assert [o["name"] for o in owners] == ["payments"]

    wait_until(lambda: kube.exists("deployment", "payments", "-n", scoped), what="the node Deployment")
    settings = kube.get("configmap", "payments-settings", "-n", scoped)["data"]
    assert "CLIENT_TOKEN_FILE" not in settings
    clients = {c["name"]: c for c in json.loads(settings["CLIENTS"])}
    assert clients["reader"] == {
        "name": "reader",
        "tokenFile": "/var/run/stripe-connector/clients/reader/token",
        "allow": {"entities": {"Customer": ["LIST", "GET"]}},
    }
    assert settings["TLS_CERT_FILE"] == "/var/run/stripe-connector/server-tls/tls.crt"
    pod = kube.get("deployment", "payments", "-n", scoped)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["client-reader"]["secret"]["secretName"] == "payments-client-token-reader"
    assert volumes["server-tls"]["secret"]["secretName"] == "payments-api-tls"
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["port"] == "admin"
    # The status names the HTTPS endpoint.
    wait_until(
        lambda: kube.get("stripeconn", "payments", "-n", scoped).get("status", {}).get("endpoint") == "https://payments.clients-scopes.svc:8080",
        what="the https endpoint in the status",
    )


def test_one_client_s_token_is_rotated_alone(kube, scoped):
    secrets = ["payments-client-token", "payments-client-token-reader", "payments-client-token-checkout"]
    wait_until(lambda: all(kube.exists("secret", s, "-n", scoped) for s in secrets), what="the clients' Secrets")
    before = {s: token(kube, scoped, s) for s in secrets}
    kube.kubectl("delete", "secret", "payments-client-token-reader", "-n", scoped)
    wait_until(lambda: kube.exists("secret", "payments-client-token-reader", "-n", scoped), what="a new reader Secret")
    after = {s: token(kube, scoped, s) for s in secrets}
    assert after["payments-client-token-reader"] != before["payments-client-token-reader"]
    assert after["payments-client-token"] == before["payments-client-token"]
    assert after["payments-client-token-checkout"] == before["payments-client-token-checkout"]


@pytest.mark.parametrize(
    "allow, message",
    [
        ({"entities": {"Customer": ["LIST", "READ"]}}, "clients[].allow.entities: unknown operation"),
        ({"entities": {"Customers": ["LIST"]}}, "clients[].allow.entities: unknown entity type"),
        ({"actions": ["RefundEverything"]}, "clients[].allow.actions: unknown action"),
        ({"httpRequests": ["PUT"]}, "clients[].allow.httpRequests: unknown HTTP method"),
    ],
)
def test_the_api_server_refuses_a_scope_with_an_unknown_name(kube, namespace, allow, message):
    bad = connection("payments", clients=[{"name": "reader", "allow": allow}])
    result = kube.apply(bad, namespace, check=False)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert kube.get("stripeconnections", "-n", namespace)["items"] == []
