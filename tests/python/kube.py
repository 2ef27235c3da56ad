"""Clients of the test control plane: kubectl and helm as the admin, the audit log, and the
operator run as a process outside the cluster with a service account's token."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from control_plane import ControlPlane, free_port, start_process, stop_process

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "stripe-connector"


class CommandError(RuntimeError):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess) -> None:
        super().__init__(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        self.result = result


@dataclass
class Kube:
    """kubectl and helm against the control plane, as the cluster admin unless `kubeconfig`
    names another identity."""

    plane: ControlPlane
    kubeconfig: Path | None = None

    def run(self, program: str, *args: str, input: str | None = None, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [str(self.plane.bin / program), *args]
        result = subprocess.run(
            cmd, input=input, capture_output=True, text=True, env=self.plane.env(self.kubeconfig), timeout=timeout
        )
        if check and result.returncode != 0:
            raise CommandError([program, *args], result)
        return result

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("kubectl", *args, input=input, check=check)

    def helm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("helm", *args, check=check)

    def get(self, *args: str) -> dict[str, Any]:
        """`kubectl get ... -o json`, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def exists(self, *args: str) -> bool:
        return self.kubectl("get", *args, "--ignore-not-found", "-o", "name").stdout.strip() != ""

    def apply(self, manifests: str | dict | list[dict], namespace: str, *flags: str, check: bool = True) -> subprocess.CompletedProcess:
        """Server-side apply of YAML text or objects into `namespace`."""
        text = manifests if isinstance(manifests, str) else yaml.safe_dump_all(manifests if isinstance(manifests, list) else [manifests])
        return self.kubectl("apply", "--server-side", "-n", namespace, "-f", "-", *flags, input=text, check=check)

    def create_token(self, service_account: str, namespace: str, duration: str = "2h") -> str:
        """A token for the service account from the TokenRequest API."""
        return self.kubectl("create", "token", service_account, "-n", namespace, f"--duration={duration}").stdout.strip()

    def as_service_account(self, service_account: str, namespace: str, path: Path) -> "Kube":
        """The same clients, authenticated as the service account with a TokenRequest token."""
        kubeconfig = self.plane.token_kubeconfig(path, self.create_token(service_account, namespace))
        return Kube(self.plane, kubeconfig)

    def install_chart(self, release: str, namespace: str, values: dict[str, Any] | None = None, *flags: str) -> subprocess.CompletedProcess:
        """`helm install` of charts/stripe-connector, waiting until its workloads are ready."""
        return self.helm("install", release, str(CHART), "-n", namespace, *values_flags(namespace, release, values), "--wait", "--timeout=3m", *flags)


def values_flags(namespace: str, release: str, values: dict[str, Any] | None) -> list[str]:
    if not values:
        return []
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"values-{namespace}-{release}.yaml"
    path.write_text(yaml.safe_dump(values))
    return ["-f", str(path)]


def wait_until(condition: Callable[[], Any], timeout: float = 120, interval: float = 0.5, what: str = "condition") -> Any:
    """Polls until `condition()` is truthy and returns it (a deadline, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout} s")
        time.sleep(interval)


class AuditLog:
    """The API server's audit log (JSON lines; one event per request at ResponseComplete, plus
    ResponseStarted for watches). mark() then events(since=mark) reads what came after."""

    WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        with self.path.open("rb") as log:
            log.seek(since)
            data = log.read()
        # The last line may still be being written.
        lines = data.split(b"\n")
        return [json.loads(line) for line in lines[:-1] if line.strip()]

    def writes(
        self, since: int = 0, user: str | None = None, namespace: str | None = None, resource: str | None = None, name: str | None = None
    ) -> list[dict[str, Any]]:
        """Completed writes, optionally of one user, namespace, resource or object name."""
        found = []
        for event in self.events(since):
            ref = event.get("objectRef", {})
            if (
                event.get("stage") == "ResponseComplete"
                and event.get("verb") in self.WRITES
                and (user is None or event["user"]["username"] == user)
                and (namespace is None or ref.get("namespace") == namespace)
                and (resource is None or ref.get("resource") == resource)
                and (name is None or ref.get("name") == name)
            ):
                found.append(event)
        return found


def service_account_user(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def cargo_binary(name: str, profile: str = "debug") -> Path:
    """A workspace binary built by `cargo build --workspace --bins` (scripts/test.sh), or of
    another profile (benchmarks: release)."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / profile / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `cargo build --workspace --bins` first")
    return path


@dataclass
class OperatorProcess:
    """target/debug/stripe-operator running outside the cluster with a kubeconfig of its own."""

    proc: subprocess.Popen
    admin_url: str
    log: Path
    kubeconfig: Path
    args: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """SIGTERM: a graceful stop (the leader gives its Lease up)."""
        stop_process(self.proc)

    def kill(self) -> None:
        """SIGKILL: a crash (the Lease runs out instead of being released)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_operator(
    kube: Kube,
    workdir: Path,
    service_account: str,
    namespace: str,
    lease_name: str = "stripe-operator",
    watch_namespaces: Iterable[str] = (),
    node_image: str = "ghcr.io/stripe-connector/stripe-node:0.1.0",
    extra_args: Iterable[str] = (),
    env: dict[str, str] | None = None,
    name: str = "operator",
    profile: str = "debug",
) -> OperatorProcess:
    """Starts `stripe-operator run` authenticated as `namespace/service_account` with a
    TokenRequest token and no other credentials, so what the chart's RBAC grants is all it can
    do. Settings go in as the environment a pod of the chart gets (`env` overrides them, e.g.
    with chart_operator_env()). Waits until its admin server answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    kubeconfig = kube.plane.token_kubeconfig(workdir / f"{name}.kubeconfig", kube.create_token(service_account, namespace))
    port = free_port()
    args = [str(cargo_binary("stripe-operator", profile)), "run", "--log-format=text", *extra_args]
    proc_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RUST_LOG": "info",
        "NODE_IMAGE": node_image,
        "WATCH_NAMESPACES": ",".join(watch_namespaces),
        "LEASE_NAME": lease_name,
        "POD_NAMESPACE": namespace,
        **(env or {}),
        # Loopback only, and its own identity; the kubeconfig is its only credential.
        "POD_NAME": name,
        "ADMIN_LISTEN": f"127.0.0.1:{port}",
        "KUBECONFIG": str(kubeconfig),
    }
    log = workdir / f"{name}.log"
    proc = start_process(args, log, env=proc_env)
    operator = OperatorProcess(proc, f"http://127.0.0.1:{port}", log, kubeconfig, args)

    def answering() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"operator exited with {proc.returncode}:\n{operator.output()[-3000:]}")
        return http_ok(f"{operator.admin_url}/healthz")

    wait_until(answering, timeout=60, what="operator /healthz")
    return operator


def chart_operator_env(kube: Kube, namespace: str, deployment: str) -> dict[str, str]:
    """The environment the chart gives its operator pods, read back from the installed
    Deployment (plain values and the pod's own namespace from the downward API)."""
    (container,) = kube.get("deployment", deployment, "-n", namespace)["spec"]["template"]["spec"]["containers"]
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        elif var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[var["name"]] = namespace
    return env


def http_ok(url: str) -> bool:
    """Whether a GET of `url` answers 200 within 2 s."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
