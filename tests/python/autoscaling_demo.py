"""`make demo`: the whole autoscaling loop on one machine, with a live view in the terminal.

Starts the test control plane, installs the chart, runs the operator and one StripeConnection
against localstripe (autoscaling_loop.py), offers a load above its capacity for a while, then
none, and shows nodes, capacity, offered load and admitted rate every two seconds while the HPA
grows the fleet and, after the connection's scale-down window (LoopSettings.scale_down_seconds,
60 s), shrinks it again. Ctrl-C stops everything.

    make demo ARGS="--rate 30 --load-seconds 240 --record run.csv"
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from autoscaling_loop import CALL, Loop, LoopSettings
from control_plane import ControlPlane
from kube import Kube
from offered_load import OfferedLoad
from support import CHART_CRD

BAR = 40


def bar(value: float | None, scale: float) -> str:
    filled = 0 if not value else min(BAR, round(BAR * value / scale))
    return "#" * filled + "." * (BAR - filled)


def fmt(value: float | None) -> str:
    return "   -" if value is None else f"{value:5.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=22.0, help="requests per second offered while loaded (default 22)")
    parser.add_argument("--load-seconds", type=float, default=180.0, help="how long the load lasts (default 180)")
    parser.add_argument("--max-nodes", type=int, default=5, help="spec.nodes.max (default 5)")
    parser.add_argument("--record", type=Path, help="write the timeline as CSV (for scripts/plot-autoscaling.py)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    workdir = Path(tempfile.mkdtemp(prefix="stripe-demo-"))
    print(f"starting the control plane, the chart, the operator and the metrics pipeline (logs in {workdir}) ...", flush=True)
    plane = ControlPlane.start(workdir / "cluster")
    loop = None
    rows = []
    try:
        kube = Kube(plane)
        kube.kubectl("apply", "--server-side", "-f", str(CHART_CRD))
        kube.kubectl("wait", "--for=condition=Established", "crd/stripeconnections.connectors.integration.dev", "--timeout=60s")
        for namespace in ("stripe-system", "shop"):
            kube.kubectl("create", "namespace", namespace)
        settings = LoopSettings(connection="payments", max_nodes=args.max_nodes)
        loop = Loop(plane, kube, workdir / "loop", "stripe-system", "shop", settings).start()
        kube.kubectl("wait", "--for=condition=Ready", "stripeconn/payments", "-n", "shop", "--timeout=300s")
        loop.wait_ready(settings.min_nodes)
        load = OfferedLoad(loop.endpoints, CALL, loop.client_token())
        start = time.time()
        load.set_rate(args.rate)
        print(f"\nKUBECONFIG={plane.kubeconfig}  (kubectl get hpa,pods -n shop)   Prometheus {loop.prometheus.url}\n")
        scale = max(args.rate, args.max_nodes * settings.tps_per_node) * 1.1
        while True:
            time.sleep(2)
            now = time.time() - start
            if load.rate and now > args.load_seconds:
                load.set_rate(0)
            f, hpa = loop.figures(), loop.hpa_figures()
            answers = load.totals(time.time() - 2, time.time())
            row = {"t": round(now, 1), **f, "replicas": loop.replicas(), "ready": len(loop.endpoints()), "hpa_desired": hpa["desired"]}
            rows.append(row)
            phase = f"load {load.rate:.0f}/s" if load.rate else "idle"
            sys.stdout.write("\x1b[H\x1b[2J" if sys.stdout.isatty() else "\n")
            print(f"payments  t={now:4.0f} s  {phase}   nodes: {row['replicas']} wanted by the HPA ({hpa['desired']}), {row['ready']} ready, {fmt(f['live_nodes'])} live in Redis")
            print(f"  offered   {fmt(f['offered'])} /s  {bar(f['offered'], scale)}")
            print(f"  capacity  {fmt(f['capacity'])} /s  {bar(f['capacity'], scale)}")
            print(f"  admitted  {fmt(f['admitted'])} /s  {bar(f['admitted'], scale)}")
            print(f"  throttled {fmt(f['throttled'])} /s  {bar(f['throttled'], scale)}")
            print(f"  HPA metric (offered per node): {hpa['offered_per_node']} (target {settings.tps_per_node})   callers got {dict(answers)}")
            print("Ctrl-C stops.", flush=True)
            if not load.rate and now > args.load_seconds + 60 and row["replicas"] == row["ready"] == settings.min_nodes:
                print(f"\nback to {settings.min_nodes} nodes, {now - args.load_seconds:.0f} s after the load stopped.")
                break
    except KeyboardInterrupt:
        pass
    finally:
        if args.record and rows:
            import csv

            with args.record.open("w", newline="") as out:
                writer = csv.DictWriter(out, list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            print(f"timeline written to {args.record}")
        if loop is not None:
            loop.stop()
        plane.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
