"""What the other cluster tests rely on the control plane for, as the API server answers it:
PodSecurity enforcement, the audit log's writes and users, kwok running pods, an aggregated API
behind an APIService, and state surviving an API server restart."""

from __future__ import annotations

import http.server
import json
import ssl
import threading

from control_plane import free_port
from kube import wait_until

COMPLIANT_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "compliant"},
    "spec": {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "image": "registry.example/app:1",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    },
}


def test_pod_security_restricted_is_enforced(kube, namespace):
    refused = kube.kubectl("run", "root-pod", "--image=registry.example/app:1", "-n", namespace, check=False)
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr

    kube.apply(COMPLIANT_POD, namespace)
    # kwok plays the kubelet: scheduled, then Running and Ready.
    kube.kubectl("wait", "--for=condition=Ready", "pod/compliant", "-n", namespace, "--timeout=60s")
    pod = kube.get("pod", "compliant", "-n", namespace)
    assert pod["status"]["phase"] == "Running" and pod["spec"]["nodeName"].startswith("kwok-node-")


def test_audit_log_records_writes_with_their_user(kube, audit, namespace):
    mark = audit.mark()
    kube.kubectl("create", "configmap", "audited", "-n", namespace, "--from-literal=k=v")
    kube.kubectl("create", "secret", "generic", "hidden", "-n", namespace, "--from-literal=password=s3cr3t-value")

    # By name: the controller-manager's kube-root-ca.crt ConfigMap lands in new namespaces too.
    (created,) = audit.writes(mark, namespace=namespace, resource="configmaps", name="audited")
    assert (created["verb"], created["user"]["username"], created["responseStatus"]["code"]) == ("create", "kubernetes-admin", 201)
    assert created["requestObject"]["data"] == {"k": "v"}
    (secret,) = audit.writes(mark, namespace=namespace, resource="secrets", name="hidden")
    assert secret["level"] == "Metadata" and "requestObject" not in secret
    assert "s3cr3t-value" not in audit.path.read_text()
    # Controllers act under their own service accounts (--use-service-account-credentials).
    kube.kubectl("create", "deployment", "d", "-n", namespace, "--image=registry.example/app:1", "--replicas=0")
    users = wait_until(
        lambda: {e["user"]["username"] for e in audit.writes(mark, namespace=namespace, resource="replicasets") if e["verb"] == "create"},
        what="the deployment controller's ReplicaSet",
    )
    assert users == {"system:serviceaccount:kube-system:deployment-controller"}


class DiscoveryBackend(http.server.BaseHTTPRequestHandler):
    """A minimal aggregated API server: discovery of one empty group version."""

    seen_users: list[str] = []

    def do_GET(self):
        self.seen_users.append(self.headers.get("X-Remote-User", ""))
        body = json.dumps({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "example.test.dev/v1", "resources": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_aggregated_api_is_served_through_an_api_service(cluster, kube):
    port = free_port()
    cert, key = cluster.register_api_service("example.test.dev", "v1", port)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), DiscoveryBackend)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kube.kubectl("wait", "--for=condition=Available", "apiservice/v1.example.test.dev", "--timeout=60s")
        answer = json.loads(kube.kubectl("get", "--raw", "/apis/example.test.dev/v1").stdout)
        assert answer["groupVersion"] == "example.test.dev/v1"
        # The API server proxied the admin's request with the admin's identity.
        assert "kubernetes-admin" in DiscoveryBackend.seen_users
    finally:
        kube.kubectl("delete", "apiservice", "v1.example.test.dev", check=False)
        server.shutdown()


def test_state_survives_an_api_server_restart(cluster, kube, namespace):
    kube.kubectl("create", "configmap", "kept", "-n", namespace, "--from-literal=k=v")
    cluster.stop_apiserver()
    down = kube.kubectl("get", "configmap", "kept", "-n", namespace, "--request-timeout=5s", check=False)
    assert down.returncode != 0 and "was refused" in down.stderr

    cluster.start_apiserver()

    assert kube.get("configmap", "kept", "-n", namespace)["data"] == {"k": "v"}
