"""Benchmark of the operator on the test control plane (`make bench-operator`; not a test).

Applies N StripeConnections at once (one `kubectl apply` of all of them) to a fresh control plane
and prints: the time until all are Ready, the operator's API requests and writes per connection
(from the API server's audit log, by the operator's ServiceAccount), its resident memory at steady
state, and its writes during one resync period afterwards (0 expected). Figures go into
docs/operator.md.

    python tests/python/bench_operator.py [--connections 200] [--resync-seconds 60] [--profile release]

The API requests are the operator's in the connections' namespace (its Lease renewals, in its own
namespace, are left out).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from control_plane import ControlPlane  # noqa: E402
from kube import AuditLog, Kube, start_operator, wait_until  # noqa: E402
from operator_cluster import api_key_secret, connection, install_operator_rbac, lease, metric, operator_user, reads_of, succeeded  # noqa: E402

CRD = Path(__file__).resolve().parents[2] / "charts" / "stripe-connector" / "crds" / "stripeconnections.connectors.integration.dev.yaml"
NAMESPACE = "bench"
SYSTEM = "bench-system"


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def ready_count(kube: Kube) -> int:
    items = kube.get("stripeconn", "-n", NAMESPACE)["items"]
    return sum(
        any(c["type"] == "Ready" and c["status"] == "True" for c in i.get("status", {}).get("conditions", [])) for i in items
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--resync-seconds", type=int, default=60)
    parser.add_argument("--profile", default="release", help="cargo profile of the stripe-operator build to run")
    args = parser.parse_args()
    n = args.connections

    workdir = Path(tempfile.mkdtemp(prefix="stripe-bench-operator-"))
    print(f"starting the control plane in {workdir} ...", flush=True)
    plane = ControlPlane.start(workdir)
    operator = None
    try:
        kube = Kube(plane)
        kube.kubectl("apply", "--server-side", "-f", str(CRD))
        kube.kubectl("wait", "--for=condition=Established", "crd/stripeconnections.connectors.integration.dev")
        service_account = install_operator_rbac(kube, SYSTEM)
        user = operator_user(SYSTEM, service_account)
        kube.kubectl("create", "namespace", NAMESPACE)
        kube.apply(api_key_secret(), NAMESPACE)
        operator = start_operator(
            kube, workdir / "operator", service_account=service_account, namespace=SYSTEM, lease_name="bench",
            watch_namespaces=[NAMESPACE], extra_args=[f"--resync-seconds={args.resync_seconds}"], env={"RUST_LOG": "warn"},
            profile=args.profile,
        )  # fmt: skip
        wait_until(lambda: lease(kube, SYSTEM, "bench").get("holderIdentity"), what="the operator leading")
        audit = AuditLog(plane.audit_log)
        manifests = yaml.safe_dump_all([connection(f"conn-{i:03d}") for i in range(n)])

        mark = audit.mark()
        started = time.monotonic()
        kube.kubectl("apply", "--server-side", "-n", NAMESPACE, "-f", "-", input=manifests)
        applied = time.monotonic() - started
        wait_until(lambda: ready_count(kube) == n, timeout=1800, interval=1, what=f"{n} connections Ready")
        all_ready = time.monotonic() - started

        # Steady state: no operator write in the namespace for 10 s (the last status writes have
        # landed). Its own Lease, renewed every 10 s in its namespace, is not counted.
        while True:
            quiet_mark = audit.mark()
            time.sleep(10)
            if not [e for e in audit.writes(quiet_mark, user=user, namespace=NAMESPACE) if succeeded(e)]:
                break
        settled = time.monotonic() - started
        rss, peak = rss_kib(operator.proc.pid)

        events = [
            e
            for e in audit.events(mark)
            if e.get("stage") == "ResponseComplete" and e["user"]["username"] == user and e.get("objectRef", {}).get("namespace") != SYSTEM
        ]
        verbs = collections.Counter(e["verb"] for e in events)
        writes = [e for e in events if e["verb"] in audit.WRITES and succeeded(e)]
        by_resource = collections.Counter(
            e["objectRef"]["resource"] + (f"/{e['objectRef']['subresource']}" if e["objectRef"].get("subresource") else "") for e in writes
        )
        reconciles = metric(operator.admin_url, "stripe_operator_reconciles_total")
        failures = metric(operator.admin_url, "stripe_operator_reconcile_failures_total")

        resync_mark = audit.mark()
        resync_started = time.monotonic()
        wait_until(
            lambda: len({e["objectRef"]["name"] for e in reads_of(audit, user, NAMESPACE, "deployments", resync_mark)}) == n,
            timeout=10 * args.resync_seconds, interval=1, what="every connection resynced",
        )  # fmt: skip
        time.sleep(max(0.0, resync_started + args.resync_seconds + 2 - time.monotonic()))
        resync_writes = [e for e in audit.writes(resync_mark, user=user, namespace=NAMESPACE) if succeeded(e)]
        resync_reads = [
            e
            for e in audit.events(resync_mark)
            if e.get("stage") == "ResponseComplete" and e["user"]["username"] == user and e.get("objectRef", {}).get("namespace") == NAMESPACE
        ]

        print()
        print(f"operator benchmark: {n} StripeConnections applied at once (kubectl apply --server-side, {applied:.1f} s)")
        server = json.loads(kube.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
        print(f"  control plane: kube-apiserver {server}, {plane.nodes} kwok nodes, {2 * n} node pods")
        print(f"  all Ready after          {all_ready:7.1f} s   (steady, no write for 10 s, after {settled:.1f} s)")
        print(f"  API requests             {len(events):7d}     {len(events) / n:6.1f} per connection   {dict(sorted(verbs.items()))}")
        print(f"  writes                   {len(writes):7d}     {len(writes) / n:6.1f} per connection   {dict(sorted(by_resource.items()))}")
        print(f"  reconciles               {reconciles:7.0f}     {reconciles / n:6.1f} per connection ({failures:.0f} failed and retried)")
        print(f"  operator RSS (steady)    {rss / 1024:7.1f} MiB  (peak {peak / 1024:.1f} MiB)")
        print(f"  one resync period later  {len(resync_writes):7d} writes, {len(resync_reads)} reads ({len(resync_reads) / n:.1f} per connection) in {time.monotonic() - resync_started:.0f} s (--resync-seconds {args.resync_seconds})")
        if resync_writes:
            sys.exit("FAIL: the operator wrote during a resync period in steady state")
    finally:
        if operator:
            operator.stop()
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
