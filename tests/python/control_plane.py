"""A local Kubernetes control plane for the tests, from Kubernetes' own programs.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built from the Go modules pinned
in tests/cluster/go.mod (scripts/cluster-tools.sh), plus kwok as the kubelet of simulated nodes, so
pods are scheduled and become Running and Ready (no container runs: there is no runtime).

Security is set up as in a real cluster: a throw-away CA signs every serving and client
certificate (etcd too), the API server authorizes with Node,RBAC, signs service-account tokens,
runs the default admission plugins plus NodeRestriction and OwnerReferencesPermissionEnforcement
(as OpenShift does), with PodSecurity enforcing `restricted`
by default, and writes an audit log that records every write with its user. Each component has
its own identity; the controller manager runs each controller with its own service account.

Everything listens on free loopback ports. Each process is started in its own process group
with PR_SET_PDEATHSIG, so the kernel kills it when the starting process dies, however it dies;
stop() ends them in order.

By hand: `make cluster` (python tests/python/control_plane.py) starts one and prints the
KUBECONFIG to use; Ctrl-C stops it.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
TOOLS_SCRIPT = REPO / "scripts" / "cluster-tools.sh"

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.64.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
KWOK_USER = "kwok-controller"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
PR_SET_PDEATHSIG = 1  # prctl(2)

# Writes at Request level (the body, so tests can see which fields a patch set), except where the
# body carries secrets; reads at Metadata, so request counts can come from the log too.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: [secrets, serviceaccounts/token]
      - group: authentication.k8s.io
        resources: [tokenreviews]
  - level: Request
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
"""

# PodSecurity's `restricted` profile for every namespace that doesn't say otherwise.
ADMISSION_CONFIG = """\
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: PodSecurity
    configuration:
      apiVersion: pod-security.admission.config.k8s.io/v1
      kind: PodSecurityConfiguration
      defaults:
        enforce: restricted
        enforce-version: latest
        audit: restricted
        audit-version: latest
        warn: restricted
        warn-version: latest
      exemptions:
        namespaces: [kube-system]
"""

# What kwok needs as the kubelet of its nodes (its own kustomize/rbac/role.yaml, without the
# kwok.x-k8s.io kinds this setup doesn't enable).
KWOK_RBAC = f"""\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {KWOK_USER}
rules:
  - apiGroups: [""]
    resources: [events]
    verbs: [create, delete, get, list, patch, update, watch]
  - apiGroups: [""]
    resources: [nodes]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [nodes/status, pods/status]
    verbs: [patch, update]
  - apiGroups: [""]
    resources: [pods]
    verbs: [delete, get, list, patch, update, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [create, get, list, patch, update, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {KWOK_USER}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {KWOK_USER}
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {KWOK_USER}
"""

# The controllers the tests rely on, each as in any cluster (plus what keeps Services, PDBs and
# Jobs working the way users see them).
CONTROLLERS = [
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "deployment-controller",
    "replicaset-controller",
    "horizontal-pod-autoscaler-controller",
    "disruption-controller",
    "endpoints-controller",
    "endpointslice-controller",
    "job-controller",
    "pod-garbage-collector-controller",
    # Lifts the not-ready taint new nodes get once kwok reports them Ready.
    "node-lifecycle-controller",
]


def tools_dir() -> Path:
    """The directory of the built programs (builds them the first time)."""
    out = subprocess.run([str(TOOLS_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: own process group, and SIGKILL when the parent dies."""
    os.setpgid(0, 0)
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def start_process(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Starts a program with its output in `log`; it dies with this process."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
        )


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 20) -> None:
    """Until `process` listens on loopback `port`; an error if it exits first or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}) before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port} within {timeout}s")


def start_or_stop(start: Callable[[], None], stop: Callable[[], None]) -> None:
    """Runs `start`; when it fails, `stop` ends what it had started and the error goes on."""
    try:
        start()
    except BaseException:
        stop()
        raise


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


class Pki:
    """A throw-away CA and the certificates it signs (openssl; EC P-256 keys, fast to make)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / f"{name}.crt"
        self.key = self.dir / f"{name}.key"
        _openssl(
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", self.key, "-out", self.cert, "-days", "7", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip

    def issue(
        self, name: str, common_name: str, orgs: tuple[str, ...] = (), hosts: tuple[str, ...] = (), client: bool = True
    ) -> tuple[Path, Path]:
        """Signs a key pair for `common_name` (user name) in `orgs` (groups); server certs name
        their DNS names and IPs in `hosts`. Returns (cert, key) paths."""
        cert, key, csr = (self.dir / f"{name}.{ext}" for ext in ("crt", "key", "csr"))
        subject = "".join(f"/O={o}" for o in orgs) + f"/CN={common_name}"
        _openssl(
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", subject,
        )  # fmt: skip
        usages = ["clientAuth"] if client else []
        lines = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment"]
        if hosts:
            usages.append("serverAuth")
            alt = [f"IP:{h}" if h.replace(".", "").isdigit() or ":" in h else f"DNS:{h}" for h in hosts]
            lines.append("subjectAltName=" + ",".join(alt))
        lines.append("extendedKeyUsage=" + ",".join(usages))
        ext = self.dir / f"{name}.ext"
        ext.write_text("\n".join(lines) + "\n")
        _openssl(
            "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
            "-days", "7", "-out", cert, "-extfile", ext,
        )  # fmt: skip
        return cert, key


def _openssl(*args: object) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def write_kubeconfig(path: Path, server: str, ca: Path, user: dict[str, str]) -> Path:
    """A kubeconfig for one user; `user` is the kubeconfig user entry (client-certificate and
    client-key, or token)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": "user", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "user"}}],
        "current-context": "test",
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


@dataclass
class ControlPlane:
    """One running control plane. Start with ControlPlane.start(); stop with stop()."""

    workdir: Path
    bin: Path
    # HPA controller period (the default 15 s would make scaling tests slow).
    hpa_sync_period: str = "2s"
    controllers: list[str] = field(default_factory=lambda: list(CONTROLLERS))
    nodes: int = 3
    extra_controller_manager_flags: list[str] = field(default_factory=list)

    processes: dict[str, subprocess.Popen] = field(default_factory=dict, init=False)
    commands: dict[str, list[str]] = field(default_factory=dict, init=False)
    ports: dict[str, int] = field(default_factory=dict, init=False)

    # ---- paths and addresses -------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def ca_cert(self) -> Path:
        return self.workdir / "pki" / "ca.crt"

    @property
    def kubeconfig(self) -> Path:
        """The cluster admin's kubeconfig (system:masters)."""
        return self.workdir / "admin.kubeconfig"

    @property
    def audit_log(self) -> Path:
        return self.workdir / "audit.log"

    def log(self, component: str) -> Path:
        return self.workdir / "logs" / f"{component}.log"

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        """os.environ with KUBECONFIG set and the built programs (kubectl, helm, ...) first on PATH."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(kubeconfig or self.kubeconfig)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        # kubectl's discovery cache and helm's caches and repository config stay out of the
        # user's home.
        env["KUBECACHEDIR"] = str(self.workdir / "kubectl-cache")
        for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
            env[var] = str(self.workdir / "helm" / sub)
        return env

    # ---- lifecycle -----------------------------------------------------------------------

    @classmethod
    def start(cls, workdir: Path | None = None, **options) -> "ControlPlane":
        workdir = Path(workdir or tempfile.mkdtemp(prefix="stripe-test-cluster-"))
        plane = cls(workdir=workdir, bin=tools_dir(), **options)
        start_or_stop(plane._start, plane.stop)
        return plane

    def _start(self) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        for name in ("etcd-client", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok"):
            self.ports[name] = free_port()
        self._write_pki()
        self._write_configs()
        self._start_etcd()
        self.start_apiserver()
        self._bootstrap()
        self._start_controller_manager()
        self._start_scheduler()
        self._start_kwok()
        self._wait_ready()

    def stop(self) -> None:
        """Stops every process, the API server's clients first, etcd last."""
        for name in reversed(list(self.processes)):
            stop_process(self.processes.pop(name))

    # ---- PKI and config files --------------------------------------------------------------

    def _write_pki(self) -> None:
        pki = self.workdir / "pki"
        self.pki = Pki(pki, "ca")
        # Aggregated API servers (an APIService) trust requests the API server proxies with this CA.
        self.front_proxy_pki = Pki(pki / "front-proxy", "front-proxy-ca")
        hosts = (
            "127.0.0.1", "localhost", "10.96.0.1", "kubernetes", "kubernetes.default",
            "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
        )  # fmt: skip
        self.pki.issue("apiserver", "kube-apiserver", hosts=hosts, client=False)
        self.pki.issue("etcd-server", "etcd", hosts=("127.0.0.1", "localhost"))
        self.pki.issue("apiserver-etcd-client", "kube-apiserver-etcd-client")
        self.front_proxy_pki.issue("front-proxy-client", "front-proxy-client")
        identities = {
            "admin": ("kubernetes-admin", ("system:masters",)),
            "controller-manager": ("system:kube-controller-manager", ()),
            "scheduler": ("system:kube-scheduler", ()),
            "kwok": (KWOK_USER, ()),
        }
        for name, (user, groups) in identities.items():
            cert, key = self.pki.issue(name, user, orgs=groups)
            path = self.kubeconfig if name == "admin" else self.workdir / f"{name}.kubeconfig"
            write_kubeconfig(path, self.server, self.ca_cert, {"client-certificate": str(cert), "client-key": str(key)})
        # Service-account token signing key pair (RSA: what every token verifier supports).
        _openssl("genrsa", "-out", pki / "sa.key", "2048")
        _openssl("rsa", "-in", pki / "sa.key", "-pubout", "-out", pki / "sa.pub")

    def _write_configs(self) -> None:
        (self.workdir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        (self.workdir / "admission.yaml").write_text(ADMISSION_CONFIG)

    # ---- components ----------------------------------------------------------------------

    def _run(self, name: str, args: list[str]) -> None:
        self.commands[name] = args
        self.processes[name] = start_process(args, self.log(name))

    def _start_etcd(self) -> None:
        pki = self.workdir / "pki"
        client, peer = self.ports["etcd-client"], self.ports["etcd-peer"]
        self._run("etcd", [
            str(self.bin / "etcd"),
            "--name=test", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls=https://127.0.0.1:{client}", f"--advertise-client-urls=https://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}", f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=test=http://127.0.0.1:{peer}",
            f"--cert-file={pki / 'etcd-server.crt'}", f"--key-file={pki / 'etcd-server.key'}",
            "--client-cert-auth", f"--trusted-ca-file={self.ca_cert}",
            # A test cluster's data is thrown away: skipping fsync spares the shared disk.
            "--unsafe-no-fsync", "--log-level=warn",
        ])  # fmt: skip
        self._wait_https(f"https://127.0.0.1:{client}/health", "etcd", (pki / "apiserver-etcd-client.crt", pki / "apiserver-etcd-client.key"))

    def start_apiserver(self) -> None:
        """Starts kube-apiserver (again, after stop_apiserver(), on the same port and etcd)."""
        if "apiserver" not in self.commands:
            pki = self.workdir / "pki"
            self.commands["apiserver"] = [
                str(self.bin / "kube-apiserver"),
                "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={self.ports['apiserver']}",
                f"--etcd-servers=https://127.0.0.1:{self.ports['etcd-client']}", f"--etcd-cafile={self.ca_cert}",
                f"--etcd-certfile={pki / 'apiserver-etcd-client.crt'}", f"--etcd-keyfile={pki / 'apiserver-etcd-client.key'}",
                f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={self.ca_cert}",
                "--authorization-mode=Node,RBAC", "--anonymous-auth=false",
                "--enable-admission-plugins=NodeRestriction,OwnerReferencesPermissionEnforcement",
                f"--admission-control-config-file={self.workdir / 'admission.yaml'}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # The `kubernetes` Service gets no Endpoints: they may not be loopback, and no pod
                # here runs to use them.
                "--endpoint-reconciler-type=none",
                f"--audit-policy-file={self.workdir / 'audit-policy.yaml'}", f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json", "--audit-log-maxsize=0", "--audit-log-mode=blocking",
                f"--requestheader-client-ca-file={self.front_proxy_pki.cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={pki / 'front-proxy' / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={pki / 'front-proxy' / 'front-proxy-client.key'}",
                "--profiling=false",
            ]  # fmt: skip
        self._run("apiserver", self.commands["apiserver"])
        self._wait_https(f"{self.server}/readyz", "kube-apiserver")

    def stop_apiserver(self) -> None:
        """Stops kube-apiserver (for fault tests); start_apiserver() brings it back."""
        stop_process(self.processes.pop("apiserver"))

    def _component_flags(self, name: str) -> list[str]:
        kubeconfig = self.workdir / f"{name}.kubeconfig"
        return [
            f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports[name]}",
            # One instance: no Lease to take, no Lease writes every two seconds in the audit log.
            "--leader-elect=false",
        ]  # fmt: skip

    def _start_controller_manager(self) -> None:
        pki = self.workdir / "pki"
        self._run("controller-manager", [
            str(self.bin / "kube-controller-manager"), *self._component_flags("controller-manager"),
            "--use-service-account-credentials", f"--controllers={','.join(self.controllers)}",
            f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={self.ca_cert}",
            f"--horizontal-pod-autoscaler-sync-period={self.hpa_sync_period}",
            *self.extra_controller_manager_flags,
        ])  # fmt: skip

    def _start_scheduler(self) -> None:
        self._run("scheduler", [str(self.bin / "kube-scheduler"), *self._component_flags("scheduler")])

    def _start_kwok(self) -> None:
        self._run("kwok", [
            str(self.bin / "kwok"), f"--kubeconfig={self.workdir / 'kwok.kubeconfig'}",
            f"--config={self.bin / 'kwok-stages.yaml'}",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            f"--cidr={POD_CIDR}", f"--server-address=127.0.0.1:{self.ports['kwok']}",
            # Node Leases are the heartbeat of its stages (node-heartbeat-with-lease updates node
            # status only every 10 min): without them the node lifecycle controller marks the
            # nodes unreachable after 50 s and every pod on them not Ready.
            "--node-lease-duration-seconds=40",
        ])  # fmt: skip

    def _bootstrap(self) -> None:
        nodes = [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": f"kwok-node-{i}",
                    "annotations": {KWOK_NODE_ANNOTATION: "fake"},
                    "labels": {
                        "kubernetes.io/hostname": f"kwok-node-{i}",
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "topology.kubernetes.io/zone": f"zone-{i % 3}",
                        "type": "kwok",
                    },
                },
            }
            for i in range(self.nodes)
        ]
        docs = KWOK_RBAC + "".join("---\n" + json.dumps(n) + "\n" for n in nodes)
        self.kubectl("apply", "-f", "-", input=docs)

    def _wait_ready(self, timeout: float = 120) -> None:
        """Until the nodes are Ready and untainted and the default namespace's ServiceAccount
        exists (pods can't be created before it)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_running()
            nodes = json.loads(self.kubectl("get", "nodes", "-o", "json").stdout)["items"]
            ready = [
                n
                for n in nodes
                for c in n.get("status", {}).get("conditions", [])
                if c["type"] == "Ready" and c["status"] == "True" and not n["spec"].get("taints")
            ]
            sa = self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False)
            if len(ready) == self.nodes and sa.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"control plane not ready after {timeout}s: {len(ready)} nodes Ready; logs in {self.workdir / 'logs'}")
            time.sleep(0.5)

    def _check_running(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                tail = self.log(name).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def _wait_https(self, url: str, name: str, client: tuple[Path, Path] | None = None, timeout: float = 120) -> None:
        pki = self.workdir / "pki"
        context = ssl.create_default_context(cafile=str(self.ca_cert))
        cert, key = client or (pki / "admin.crt", pki / "admin.key")
        context.load_cert_chain(str(cert), str(key))
        deadline = time.monotonic() + timeout
        while True:
            self._check_running()
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not healthy at {url} after {timeout}s; log: {self.log(name)}")
            time.sleep(0.3)

    # ---- clients -------------------------------------------------------------------------

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
        """Runs the built kubectl (as the admin unless `kubeconfig` says otherwise)."""
        result = subprocess.run(
            [str(self.bin / "kubectl"), *args], input=input, capture_output=True, text=True, env=self.env(kubeconfig)
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def issue_serving_cert(self, name: str, hosts: tuple[str, ...]) -> tuple[Path, Path]:
        """A serving certificate from the cluster CA (e.g. for an aggregated API server behind an
        APIService whose caBundle is ca_cert)."""
        return self.pki.issue(name, hosts[0], hosts=hosts, client=False)

    def register_api_service(self, group: str, version: str, port: int, namespace: str = "kube-system") -> tuple[Path, Path]:
        """Registers an aggregated API (e.g. custom.metrics.k8s.io) served by a process on
        127.0.0.1:`port`: an ExternalName Service for localhost (the aggregator dials an
        ExternalName's host itself; Endpoints may not be loopback) and an APIService trusting
        the cluster CA. Returns the serving certificate and key that process must use; it gets
        the caller's identity in X-Remote-User/X-Remote-Group from the front proxy."""
        service = group.replace(".", "-")[:63].rstrip("-")
        cert, key = self.issue_serving_cert(service, (f"{service}.{namespace}.svc", "localhost", "127.0.0.1"))
        ca = base64.b64encode(self.ca_cert.read_bytes()).decode()
        objects = [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": service, "namespace": namespace},
                "spec": {"type": "ExternalName", "externalName": "localhost", "ports": [{"port": port}]},
            },
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": f"{version}.{group}"},
                "spec": {
                    "group": group,
                    "version": version,
                    "groupPriorityMinimum": 100,
                    "versionPriority": 100,
                    "caBundle": ca,
                    "service": {"name": service, "namespace": namespace, "port": port},
                },
            },
        ]
        self.kubectl("apply", "-f", "-", input="".join("---\n" + json.dumps(o) + "\n" for o in objects))
        return cert, key

    def token_kubeconfig(self, path: Path, token: str) -> Path:
        """A kubeconfig authenticating with a bearer token (e.g. from `kubectl create token`)."""
        return write_kubeconfig(path, self.server, self.ca_cert, {"token": token})


def main() -> None:
    """`make cluster`: start a control plane, print how to use it, stop it on Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Stop (through the handler above) when whoever started us dies, e.g. a killed `make`.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    started = time.monotonic()
    plane = ControlPlane.start()
    try:
        print(
            textwrap.dedent(f"""\
            Control plane up in {time.monotonic() - started:.0f} s ({plane.server}, {plane.nodes} kwok nodes).
              export KUBECONFIG={plane.kubeconfig}
              export PATH={plane.bin}:$PATH      # kubectl, helm, kwok of the pinned versions
            Audit log: {plane.audit_log}
            Logs:      {plane.workdir / 'logs'}
            Ctrl-C stops it."""),
            flush=True,
        )
        while True:
            plane._check_running()
            time.sleep(2)
    except KeyboardInterrupt:
        pass
    finally:
        plane.stop()
        shutil.rmtree(plane.workdir, ignore_errors=True)
        print("control plane stopped", flush=True)


if __name__ == "__main__":
    main()
