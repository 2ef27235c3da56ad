"""A test harness that runs connector node pods as real stripe-node processes.

kwok plays the kubelet of the test control plane's nodes: pods get scheduled, Running and Ready,
but no container runs. For ONE pod shape, the node pods the operator builds
(operator/src/children/deployment.rs), this runner does what a kubelet and the cluster network
would do, from the pod's own spec:

- one stripe-node process per pod (the container's args; `command` must be the image's own);
- env: plain values, fieldRefs of the pod, ConfigMap and Secret keys (env and envFrom), read
  through the API server when the pod starts, as a kubelet does;
- Secret, ConfigMap and emptyDir volumes written under the pod's own directory; env values and
  args naming a path under a mount point name the written file instead (there is no mount
  namespace);
- each container port gets a free loopback port: a listen address `0.0.0.0:<containerPort>`
  in env or args becomes `127.0.0.1:<that port>`;
- cluster DNS names the test maps (`service_addresses`, e.g. the chart's Redis Service) become
  their loopback addresses; `STRIPE_BASE_URL` points the node at the test's Stripe peer instead
  of api.stripe.com (the one variable it adds);
- the readinessProbe (httpGet), probed at its period against the mapped port: endpoints(service)
  lists the ready, not terminating pods the Service selects, at their mapped target port, which is
  where the Service would send traffic;
- when the pod is deleted: out of endpoints() at once, then SIGTERM, and SIGKILL after
  terminationGracePeriodSeconds; a process that exits is restarted (restartPolicy Always);
- what the kubelet's cAdvisor reports, container_cpu_usage_seconds_total and
  container_memory_working_set_bytes of each process (from /proc), on a /metrics endpoint, and
  Prometheus file_sd targets of the port the pod's prometheus.io/port annotation names, labelled
  with its namespace and pod.

A pod whose Secret or ConfigMap is missing waits for it (a kubelet's ContainerCreating).
Not modelled: users and securityContext, resource limits, liveness restarts. Any pod outside
this shape (another container, image, volume or env source, a hostPort, an unmapped cluster
address, ...) is refused and listed in `refused` with the reason, never run half-way.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

from control_plane import free_port, start_process, stop_process

NODE_POD_SELECTOR = "app.kubernetes.io/name=stripe-connector-node,app.kubernetes.io/managed-by=stripe-operator"
NODE_IMAGE = re.compile(r"^(.+/)?(stripe-node|stripe-connector-node)(:[\w.-]+)?(@sha256:[0-9a-f]+)?$")
# A cluster DNS name with a port, e.g. redis.stripe-system.svc.cluster.local:6379.
CLUSTER_ADDRESS = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.svc(\.cluster\.local)?:\d+")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class Refused(Exception):
    """A pod this runner cannot run faithfully."""


class NotYet(Exception):
    """A Secret or ConfigMap the pod needs is missing: retried, as a kubelet keeps the pod in
    ContainerCreating."""


class ApiServer:
    """Just the reads a kubelet makes, as the kubeconfig's user (client certificate)."""

    def __init__(self, kubeconfig: Path) -> None:
        config = json.loads(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        self.server = urllib.parse.urlsplit(cluster["server"])
        self.context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self.context.load_cert_chain(user["client-certificate"], user["client-key"])

    def _connect(self, timeout: float | None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.server.hostname, self.server.port, context=self.context, timeout=timeout)

    def get(self, path: str) -> dict[str, Any]:
        conn = self._connect(30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
            return json.loads(body)
        finally:
            conn.close()

    def watch(self, path: str) -> Iterator[dict[str, Any]]:
        """The events of a watch request, one JSON object per line, until the server ends it."""
        conn = self._connect(None)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"watch {path}: {response.status} {response.read()[:300]!r}")
            for line in response:
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()


@dataclass
class PodProcess:
    namespace: str
    name: str
    uid: str
    node: str
    labels: dict[str, str]
    ports: dict[int, int]  # containerPort -> loopback port
    port_names: dict[str, int]  # name -> containerPort
    scrape_port: int | None  # the loopback port Prometheus scrapes
    args: list[str]
    env: dict[str, str]
    log: Path
    readiness: dict[str, Any] | None
    grace_seconds: int
    proc: Any = None
    ready: bool = False
    terminating: bool = False
    restarts: int = 0
    successes: int = 0
    failures: int = 0
    next_probe: float = 0.0

    def loopback_port(self, port: str | int) -> int | None:
        """The loopback port of a container port given by name or number."""
        number = self.port_names.get(port) if isinstance(port, str) else port
        return self.ports.get(number) if number is not None else None


class PodRunner:
    """Runs every node pod kwok runs (see the module doc). start() begins watching the API
    server; stop() ends every process."""

    def __init__(
        self,
        kubeconfig: Path,
        workdir: Path,
        binary: Path,
        stripe_base_url: str,
        service_addresses: dict[str, str],
        selector: str = NODE_POD_SELECTOR,
    ) -> None:
        self.api = ApiServer(kubeconfig)
        self.workdir = workdir
        self.binary = binary
        self.stripe_base_url = stripe_base_url
        self.service_addresses = service_addresses
        self.selector = selector
        self.pods: dict[str, PodProcess] = {}  # by uid
        self.refused: dict[str, str] = {}  # namespace/name -> reason
        self.exits: list[tuple[str, int]] = []  # (namespace/name, exit code) of unexpected exits
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        self.waiting: dict[str, dict[str, Any]] = {}  # uid -> pod whose inputs are missing
        self.file_sd = workdir / "file_sd" / "nodes.json"
        self.lock = threading.Lock()  # guards self.pods
        self.changes = threading.RLock()  # one pod change at a time (watch and retries)
        self.stopping = threading.Event()
        self.metrics_server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._metrics_handler())
        self.threads: list[threading.Thread] = []

    # ---- public -----------------------------------------------------------------------------

    @property
    def metrics_address(self) -> str:
        host, port = self.metrics_server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> "PodRunner":
        self.file_sd.parent.mkdir(parents=True, exist_ok=True)
        self._write_file_sd()
        for target in (self._watch_pods, self._probe_and_supervise, self.metrics_server.serve_forever):
            thread = threading.Thread(target=target, daemon=True, name=f"pod-runner-{target.__name__}")
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.metrics_server.shutdown()
        with self.lock:
            pods = list(self.pods.values())
            self.pods.clear()
        for pod in pods:
            self._terminate(pod)

    def endpoints(self, namespace: str, service: str) -> list[tuple[str, str]]:
        """(pod name, base URL) of what the Service routes to: the ready, not terminating pods
        it selects, at its (first) port's targetPort."""
        if (namespace, service) not in self.services:
            self.services[namespace, service] = self.api.get(f"/api/v1/namespaces/{namespace}/services/{service}")["spec"]
        spec = self.services[namespace, service]
        selector, target = spec["selector"], spec["ports"][0].get("targetPort", spec["ports"][0]["port"])
        with self.lock:
            pods = [
                p
                for p in self.pods.values()
                if p.namespace == namespace and p.ready and not p.terminating and selector.items() <= p.labels.items()
            ]
        return sorted((p.name, f"http://127.0.0.1:{p.loopback_port(target)}") for p in pods if p.loopback_port(target))

    def running(self, namespace: str) -> list[PodProcess]:
        with self.lock:
            return [p for p in self.pods.values() if p.namespace == namespace and not p.terminating]

    # ---- watching pods ------------------------------------------------------------------------

    def _watch_pods(self) -> None:
        path = f"/api/v1/pods?labelSelector={urllib.parse.quote(self.selector)}"
        while not self.stopping.is_set():
            try:
                listed = self.api.get(path)
                self._reconcile(listed["items"])
                version = listed["metadata"]["resourceVersion"]
                while not self.stopping.is_set():
                    gone = False
                    for event in self.api.watch(f"{path}&watch=1&allowWatchBookmarks=true&timeoutSeconds=240&resourceVersion={version}"):
                        kind, obj = event["type"], event["object"]
                        if kind == "ERROR":  # e.g. 410 Gone: the version is too old, list again
                            gone = True
                            break
                        version = obj["metadata"]["resourceVersion"]
                        if kind in ("ADDED", "MODIFIED"):
                            self._pod_changed(obj)
                        elif kind == "DELETED":
                            self._pod_gone(obj["metadata"]["uid"])
                    if gone:
                        break
            except (OSError, RuntimeError, http.client.HTTPException, json.JSONDecodeError):
                # The API server restarting or unreachable: list again once it answers.
                time.sleep(1)

    def _reconcile(self, pods: list[dict[str, Any]]) -> None:
        uids = {p["metadata"]["uid"] for p in pods}
        with self.lock:
            vanished = [uid for uid in self.pods if uid not in uids]
        for uid in vanished:
            self._pod_gone(uid)
        for pod in pods:
            self._pod_changed(pod)

    def _pod_changed(self, pod: dict[str, Any]) -> None:
        with self.changes:
            self._apply_pod(pod)

    def _apply_pod(self, pod: dict[str, Any]) -> None:
        meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            self._forget_pod(uid)
            return
        with self.lock:
            known = uid in self.pods
        key = f"{meta['namespace']}/{meta['name']}"
        if known or key in self.refused or not spec.get("nodeName") or status.get("phase") != "Running":
            return
        try:
            process = self._prepare(pod)
        except NotYet:
            self.waiting[uid] = pod
            return
        except Refused as refusal:
            self.refused[key] = str(refusal)
            return
        self.waiting.pop(uid, None)
        # Started before it is listed, so every listed pod has a process.
        self._launch(process)
        with self.lock:
            self.pods[uid] = process
        self._write_file_sd()

    def _pod_gone(self, uid: str) -> None:
        with self.changes:
            self._forget_pod(uid)

    def _forget_pod(self, uid: str) -> None:
        self.waiting.pop(uid, None)
        with self.lock:
            pod = self.pods.get(uid)
            if pod is None or pod.terminating:
                return
            # Out of endpoints() before the signal, as a Service stops routing to a terminating pod.
            pod.terminating = True
        self._write_file_sd()
        threading.Thread(target=self._terminate_and_forget, args=(pod,), daemon=True).start()

    def _terminate_and_forget(self, pod: PodProcess) -> None:
        self._terminate(pod)
        with self.lock:
            self.pods.pop(pod.uid, None)

    # ---- the pod shape ------------------------------------------------------------------------

    def _prepare(self, pod: dict[str, Any]) -> PodProcess:
        meta, spec = pod["metadata"], pod["spec"]
        namespace, name = meta["namespace"], meta["name"]
        for unsupported in ("initContainers", "ephemeralContainers", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
            if spec.get(unsupported):
                raise Refused(f"spec.{unsupported} is not supported")
        containers = spec["containers"]
        if len(containers) != 1:
            raise Refused(f"{len(containers)} containers; only one is supported")
        (container,) = containers
        image = container.get("image", "")
        if not NODE_IMAGE.match(image):
            raise Refused(f"image {image!r} is not a stripe-node image")
        if container.get("command"):
            raise Refused("container.command overrides the image's entrypoint")
        for unsupported in ("lifecycle", "startupProbe", "workingDir", "stdin", "tty"):
            if container.get(unsupported):
                raise Refused(f"container.{unsupported} is not supported")

        ports, port_names = {}, {}
        for port in container.get("ports", []):
            if port.get("protocol", "TCP") != "TCP" or port.get("hostPort"):
                raise Refused(f"port {port} is not a plain TCP container port")
            ports[port["containerPort"]] = free_port()
            if "name" in port:
                port_names[port["name"]] = port["containerPort"]
        annotations = meta.get("annotations", {})
        scrape_port = None
        if annotations.get("prometheus.io/scrape") == "true":
            scrape_port = ports.get(int(annotations.get("prometheus.io/port", "0")))
            if scrape_port is None:
                raise Refused(f"prometheus.io/port {annotations.get('prometheus.io/port')} is not a container port")

        root = self.workdir / "pods" / namespace / name
        mounts = self._write_volumes(pod, container, root)
        env = self._resolve_env(pod, container)
        env.setdefault("STRIPE_BASE_URL", self.stripe_base_url)
        mapped = {k: self._map(v, ports, mounts) for k, v in env.items()}
        args = [self._map(a, ports, mounts) for a in container.get("args", [])]

        process = PodProcess(
            namespace=namespace,
            name=name,
            uid=meta["uid"],
            node=spec["nodeName"],
            labels=meta.get("labels", {}),
            ports=ports,
            port_names=port_names,
            scrape_port=scrape_port,
            args=args,
            env=mapped,
            log=root / "node.log",
            readiness=None,
            grace_seconds=spec.get("terminationGracePeriodSeconds", 30),
        )
        probe = container.get("readinessProbe")
        if probe:
            if set(probe) - {"httpGet", "periodSeconds", "failureThreshold", "successThreshold", "timeoutSeconds", "initialDelaySeconds"}:
                raise Refused(f"readinessProbe {sorted(probe)} is not an httpGet probe")
            if probe["httpGet"].get("scheme", "HTTP") != "HTTP" or probe["httpGet"].get("httpHeaders"):
                raise Refused("readinessProbe: only plain HTTP GET is supported")
            port = process.loopback_port(probe["httpGet"]["port"])
            if port is None:
                raise Refused(f"readinessProbe port {probe['httpGet']['port']!r} is not a container port")
            process.readiness = {**probe, "port": port}
        return process

    def _write_volumes(self, pod: dict[str, Any], container: dict[str, Any], root: Path) -> dict[str, Path]:
        """Writes each mounted volume under `root`; returns mount path -> directory."""
        namespace = pod["metadata"]["namespace"]
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        mounts: dict[str, Path] = {}
        for mount in container.get("volumeMounts", []):
            if mount.get("subPath") or mount.get("subPathExpr"):
                raise Refused(f"volumeMount {mount['name']}: subPath is not supported")
            volume = volumes[mount["name"]]
            target = root / mount["mountPath"].lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            if "emptyDir" in volume:
                pass
            elif "secret" in volume or "configMap" in volume:
                kind = "secret" if "secret" in volume else "configMap"
                source = volume[kind]
                name = source["secretName"] if kind == "secret" else source["name"]
                data = self._read(kind, namespace, name, optional=source.get("optional", False))
                items = source.get("items") or [{"key": k, "path": k} for k in data]
                for item in items:
                    if item["key"] not in data:
                        raise Refused(f"volume {mount['name']}: {kind} {name} has no key {item['key']!r}")
                    path = target / item["path"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data[item["key"]])
                    path.chmod(item.get("mode", source.get("defaultMode", 0o644)))
            else:
                raise Refused(f"volume {mount['name']}: only secret, configMap and emptyDir volumes are supported")
            mounts[mount["mountPath"].rstrip("/")] = target
        return mounts

    def _read(self, kind: str, namespace: str, name: str, optional: bool) -> dict[str, bytes]:
        """The keys of a Secret or ConfigMap as bytes ({} when optional and missing)."""
        resource = "secrets" if kind == "secret" else "configmaps"
        try:
            obj = self.api.get(f"/api/v1/namespaces/{namespace}/{resource}/{name}")
        except RuntimeError as error:
            if ": 404 " not in str(error):
                raise
            if optional:
                return {}
            raise NotYet(f"{kind} {namespace}/{name}") from None
        if kind == "secret":
            return {k: base64.b64decode(v) for k, v in obj.get("data", {}).items()}
        return {k: v.encode() for k, v in obj.get("data", {}).items()}

    def _resolve_env(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
        namespace = pod["metadata"]["namespace"]
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            kind = "configMap" if "configMapRef" in source else "secret" if "secretRef" in source else None
            if kind is None:
                raise Refused(f"envFrom {source} is not a configMapRef or secretRef")
            ref = source[f"{kind}Ref"]
            for key, value in self._read(kind, namespace, ref["name"], ref.get("optional", False)).items():
                env[source.get("prefix", "") + key] = value.decode()
        for var in container.get("env", []):
            if "value" in var or "valueFrom" not in var:
                env[var["name"]] = var.get("value", "")
                continue
            ref = var["valueFrom"]
            if "fieldRef" in ref:
                env[var["name"]] = self._field(pod, ref["fieldRef"]["fieldPath"])
            elif "configMapKeyRef" in ref or "secretKeyRef" in ref:
                kind = "configMap" if "configMapKeyRef" in ref else "secret"
                key_ref = ref[f"{kind}KeyRef"]
                data = self._read(kind, namespace, key_ref["name"], key_ref.get("optional", False))
                if key_ref["key"] in data:
                    env[var["name"]] = data[key_ref["key"]].decode()
                elif not key_ref.get("optional", False):
                    raise Refused(f"env {var['name']}: {kind} {key_ref['name']} has no key {key_ref['key']!r}")
            else:
                raise Refused(f"env {var['name']}: valueFrom {sorted(ref)} is not supported")
        return env

    @staticmethod
    def _field(pod: dict[str, Any], path: str) -> str:
        meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
        fields = {
            "metadata.name": meta["name"],
            "metadata.namespace": meta["namespace"],
            "metadata.uid": meta["uid"],
            "spec.nodeName": spec.get("nodeName", ""),
            "spec.serviceAccountName": spec.get("serviceAccountName", ""),
            "status.podIP": status.get("podIP", ""),
            "status.hostIP": status.get("hostIP", ""),
        }
        labelled = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
        if labelled:
            return meta.get(labelled.group(1), {}).get(labelled.group(2), "")
        if path not in fields:
            raise Refused(f"fieldRef {path} is not supported")
        return fields[path]

    def _map(self, value: str, ports: dict[int, int], mounts: dict[str, Path]) -> str:
        """A value as seen from inside the pod, as the process outside it must see it."""
        listen = re.fullmatch(r"(0\.0\.0\.0|\[::\]|)?:(\d+)", value)
        if listen and int(listen.group(2)) in ports:
            return f"127.0.0.1:{ports[int(listen.group(2))]}"
        for address, loopback in self.service_addresses.items():
            value = value.replace(address, loopback)
        unmapped = CLUSTER_ADDRESS.search(value)
        if unmapped:
            raise Refused(f"{value!r} names {unmapped.group(0)}, which the test did not map")
        for mount_path, directory in sorted(mounts.items(), key=lambda m: -len(m[0])):
            if value == mount_path or value.startswith(mount_path + "/"):
                return str(directory) + value[len(mount_path) :]
        return value

    # ---- processes ----------------------------------------------------------------------------

    def _launch(self, pod: PodProcess) -> None:
        pod.log.parent.mkdir(parents=True, exist_ok=True)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **pod.env}
        pod.proc = start_process([str(self.binary), *pod.args], pod.log, env=env)
        pod.ready = False
        pod.successes = pod.failures = 0
        pod.next_probe = time.monotonic() + (pod.readiness or {}).get("initialDelaySeconds", 0)

    def _terminate(self, pod: PodProcess) -> None:
        """SIGTERM, then SIGKILL after the pod's grace period."""
        if pod.proc is not None:
            stop_process(pod.proc, pod.grace_seconds)

    def _probe_and_supervise(self) -> None:
        while not self.stopping.wait(0.2):
            for pod in list(self.waiting.values()):
                self._pod_changed(pod)
            with self.lock:
                pods = [p for p in self.pods.values() if not p.terminating]
            for pod in pods:
                if pod.proc.poll() is not None:
                    with self.lock:
                        if pod.terminating:
                            continue
                        self.exits.append((f"{pod.namespace}/{pod.name}", pod.proc.returncode))
                        pod.restarts += 1
                    self._launch(pod)
                    continue
                if time.monotonic() >= pod.next_probe:
                    self._probe(pod)

    def _probe(self, pod: PodProcess) -> None:
        probe = pod.readiness
        if probe is None:
            pod.ready = True
            return
        pod.next_probe = time.monotonic() + probe.get("periodSeconds", 10)
        url = f"http://127.0.0.1:{probe['port']}{probe['httpGet'].get('path', '/')}"
        try:
            with urllib.request.urlopen(url, timeout=probe.get("timeoutSeconds", 1)) as response:
                ok = 200 <= response.status < 400
        except OSError:
            ok = False
        if ok:
            pod.successes, pod.failures = pod.successes + 1, 0
            if pod.successes >= probe.get("successThreshold", 1):
                pod.ready = True
        else:
            pod.failures, pod.successes = pod.failures + 1, 0
            if pod.failures >= probe.get("failureThreshold", 3):
                pod.ready = False

    # ---- what Prometheus scrapes ----------------------------------------------------------------

    def _write_file_sd(self) -> None:
        with self.lock:
            targets = [
                {"targets": [f"127.0.0.1:{p.scrape_port}"], "labels": {"namespace": p.namespace, "pod": p.name, "container": "node"}}
                for p in self.pods.values()
                if not p.terminating and p.scrape_port
            ]
        tmp = self.file_sd.with_suffix(".tmp")
        tmp.write_text(json.dumps(targets, indent=1))
        tmp.replace(self.file_sd)

    def cadvisor_metrics(self) -> str:
        """CPU and memory of each running pod's process, in cAdvisor's metric names."""
        lines = [
            "# TYPE container_cpu_usage_seconds_total counter",
            "# TYPE container_memory_working_set_bytes gauge",
        ]
        with self.lock:
            pods = [p for p in self.pods.values() if not p.terminating and p.proc is not None]
        for pod in pods:
            try:
                stat = Path(f"/proc/{pod.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                pages = int(Path(f"/proc/{pod.proc.pid}/statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
            cpu = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS  # utime + stime
            labels = f'namespace="{pod.namespace}",pod="{pod.name}",container="node",node="{pod.node}"'
            lines.append(f"container_cpu_usage_seconds_total{{{labels}}} {cpu}")
            lines.append(f"container_memory_working_set_bytes{{{labels}}} {pages * PAGE_SIZE}")
        return "\n".join(lines) + "\n"

    def _metrics_handler(self) -> type[BaseHTTPRequestHandler]:
        runner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = runner.cadvisor_metrics().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
