"""Fixtures of the tests on the test control plane (control_plane.py, kube.py).

The control plane starts on first use, once per pytest run, and stops at the end of it (and with
the pytest process, whatever ends it). Tests that don't ask for these fixtures never start it.

    cluster        session   control_plane.ControlPlane: .kubeconfig (admin), .server, .ca_cert,
                             .bin (kubectl, helm, kwok, ... of tests/cluster/go.mod), .audit_log,
                             .log(component), .env(kubeconfig) for subprocesses,
                             .stop_apiserver() / .start_apiserver() (fault tests),
                             .register_api_service(group, version, port) -> (cert, key) for a
                             local process serving an aggregated API (custom metrics),
                             .token_kubeconfig(path, token).
    tools          session   the directory of the built programs, without starting a cluster
                             (helm lint).
    kube           session   kube.Kube as the cluster admin: .kubectl(*args, input=, check=),
                             .helm(*args), .get(*args) -> parsed JSON, .exists(*args),
                             .apply(yaml_or_objects, namespace), .create_token(sa, ns),
                             .as_service_account(sa, ns, path) -> Kube,
                             .install_chart(release, namespace, values).
    audit          session   kube.AuditLog: .mark() then .events(since) / .writes(since, user=,
                             namespace=, resource=).
    stripe_crd     session   the StripeConnection CRD applied from the chart and Established.
    namespace      function  the name of a fresh namespace of this test (PodSecurity
                             `restricted`, as the cluster default); deleted after the test.
    make_namespace function  make_namespace(suffix) -> another fresh namespace, deleted after.
    chart          function  install(release, namespace, values=None) -> helm's output:
                             `helm install --wait` of charts/stripe-connector; every release
                             installed is uninstalled after the test.
    operator       function  start(service_account=, namespace=, lease_name=,
                             watch_namespaces=(), extra_args=(), env=None, name="operator")
                             -> kube.OperatorProcess (.admin_url, .log, .output(), .stop(),
                             .kill()): target/debug/stripe-operator outside the cluster with a
                             TokenRequest token of that service account; every one started is
                             stopped after the test.
"""

import itertools
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

# The shared helpers (support.py, pod_security.py, control_plane.py, kube.py) sit next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from control_plane import ControlPlane, tools_dir  # noqa: E402
from kube import AuditLog, Kube, start_operator, wait_until  # noqa: E402

CHART_CRD = Path(__file__).resolve().parents[2] / "charts" / "stripe-connector" / "crds" / "stripeconnections.connectors.integration.dev.yaml"


@pytest.fixture(scope="session")
def tools() -> Path:
    return tools_dir()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    plane = ControlPlane.start(tmp_path_factory.mktemp("cluster"))
    yield plane
    plane.stop()
    if os.environ.get("STRIPE_TEST_KEEP_CLUSTER_LOGS"):
        print(f"control plane logs kept in {plane.workdir / 'logs'}")
    else:
        shutil.rmtree(plane.workdir / "etcd", ignore_errors=True)


@pytest.fixture(scope="session")
def kube(cluster) -> Kube:
    return Kube(cluster)


@pytest.fixture(scope="session")
def audit(cluster) -> AuditLog:
    return AuditLog(cluster.audit_log)


@pytest.fixture(scope="session")
def stripe_crd(kube):
    kube.kubectl("apply", "--server-side", "-f", str(CHART_CRD))
    name = "stripeconnections.connectors.integration.dev"
    kube.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    # The API server publishes the CRD's OpenAPI (what `kubectl explain` and client-side
    # tools read) a moment after it is Established.
    wait_until(
        lambda: "apis/connectors.integration.dev/v1" in json.loads(kube.kubectl("get", "--raw", "/openapi/v3").stdout)["paths"],
        what="the CRD's OpenAPI served",
    )
    # kubectl caches discovery for hours, and `kubectl explain` doesn't look again when a kind is
    # missing from it; `kubectl api-resources` refreshes it, as a user would.
    kube.kubectl("api-resources", "--api-group=connectors.integration.dev")
    return name


_namespaces = itertools.count()


@pytest.fixture
def make_namespace(kube, request):
    created = []
    base = request.node.name.lower().replace("_", "-")
    base = "".join(c if c.isalnum() or c == "-" else "-" for c in base).strip("-")[:40].rstrip("-")

    def make(suffix: str = "") -> str:
        name = f"{base}-{next(_namespaces)}{'-' + suffix if suffix else ''}"[:63].rstrip("-")
        kube.kubectl("create", "namespace", name)
        created.append(name)
        return name

    yield make
    for name in created:
        kube.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def namespace(make_namespace) -> str:
    return make_namespace()


@pytest.fixture
def operator(kube, tmp_path):
    started = []

    def start(**kwargs):
        kwargs.setdefault("name", f"operator-{len(started)}")
        process = start_operator(kube, tmp_path / "operators", **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def chart(kube):
    installed = []

    def install(release: str, namespace: str, values=None, *flags: str):
        result = kube.install_chart(release, namespace, values, *flags)
        installed.append((release, namespace))
        return result

    yield install
    for release, namespace in installed:
        kube.helm("uninstall", release, "-n", namespace, "--ignore-not-found", check=False)
