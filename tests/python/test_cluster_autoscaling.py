"""The whole autoscaling loop (autoscaling_loop.py) in one scenario: a load above the
connection's capacity makes the real HPA add nodes until the limiter's capacity covers it, within
spec.nodes.max; the admitted rate follows 6 x live nodes through the shared Redis; when the load
stops, the HPA scales back to spec.nodes.min after its scale-down stabilization window; every
answer is 200 or 429; the operator writes nothing but its status while the fleet scales.

Long by nature (the HPA waits spec.nodes.scaleDownStabilizationSeconds of lower load before it
shrinks the fleet: 60 s here, 300 by default), so it is the one scenario of its kind. No timed assertion: every wait is for a condition, with a
generous deadline. STRIPE_AUTOSCALING_RECORD=path.csv keeps the run's timeline (for the plot in
docs/operator.md, scripts/plot-autoscaling.py)."""

from __future__ import annotations

import csv
import os
import threading
import time
from pathlib import Path

from autoscaling_loop import CALL, FULLNAME, Loop, LoopSettings
from kube import service_account_user, wait_until
from offered_load import OfferedLoad

SETTINGS = LoopSettings(connection="payments", min_nodes=2, max_nodes=5, tps_per_node=6)
# Above the 2 x 6 TPS of spec.nodes.min, below the 5 x 6 of spec.nodes.max: the HPA wants
# ceil(22 / 6) = 4 nodes, whose 24 TPS cover it.
LOAD = 22.0
GROWN = 4


class Timeline:
    """Samples the loop every two seconds (Kubernetes' view, Prometheus' view, the callers' view)."""

    FIELDS = ["t", "offered", "admitted", "throttled", "capacity", "live_nodes", "replicas", "ready", "hpa_desired", "load_200", "load_429", "load_other"]

    def __init__(self, loop: Loop, load: OfferedLoad) -> None:
        self.loop, self.load = loop, load
        self.rows: list[dict] = []
        self.start = time.time()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(2):
            self.sample()

    def sample(self) -> None:
        now = time.time()
        answers = self.load.totals(now - 3, now)
        seconds = max(1, len(self.load.whole_seconds(now - 3, now)))
        self.rows.append(
            {
                "t": round(now - self.start, 1),
                **self.loop.figures(),
                "replicas": self.loop.replicas(),
                "ready": len(self.loop.endpoints()),
                "hpa_desired": self.loop.hpa_figures()["desired"],
                "load_200": answers["200"] / seconds,
                "load_429": answers["429"] / seconds,
                "load_other": sum(n for a, n in answers.items() if a not in ("200", "429")) / seconds,
            }
        )

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.sample()  # the state the scenario ended in

    def write(self, path: Path) -> None:
        with path.open("w", newline="") as out:
            writer = csv.DictWriter(out, self.FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)


def test_offered_load_scales_the_fleet_out_and_back(cluster, kube, audit, stripe_crd, make_namespace, tmp_path):
    started = time.time()
    loop = Loop(cluster, kube, tmp_path / "loop", make_namespace("system"), make_namespace("app"), SETTINGS).start()
    try:
        kube.kubectl("wait", "--for=condition=Ready", f"stripeconn/{SETTINGS.connection}", "-n", loop.app, "--timeout=300s")
        loop.wait_ready(SETTINGS.min_nodes)
        assert loop.runner.refused == {}
        # The HPA reads both of its metrics before any load.
        wait_until(lambda: loop.hpa_figures()["offered_per_node"] is not None, timeout=180, interval=2, what="the HPA reading the Pods metric")

        mark = audit.mark()
        load = OfferedLoad(loop.endpoints, CALL, loop.client_token())
        timeline = Timeline(loop, load)
        replicas_seen: set[int] = set()
        first_growth: list[float] = []

        def grown() -> bool:
            replicas = loop.replicas()
            replicas_seen.add(replicas)
            if replicas > SETTINGS.min_nodes and not first_growth:
                first_growth.append(time.time())
            return replicas >= GROWN and len(loop.endpoints()) >= GROWN

        # ---- load above capacity: 2 nodes admit 6 each, the rest is refused ----------------------
        load.set_rate(LOAD)
        loaded = time.time()
        wait_until(lambda: (loop.figures()["throttled"] or 0) > 0, timeout=60, interval=1, what="throttling")
        throttled_from = time.time()
        assert loop.replicas() == SETTINGS.min_nodes
        wait_until(grown, timeout=480, interval=2, what=f"{GROWN} nodes")
        grown_at = time.time()
        loop.wait_ready(GROWN)
        assert loop.figures()["capacity"] == GROWN * SETTINGS.tps_per_node

        # Settled: no further growth while capacity covers the load.
        settle = time.time()
        time.sleep(40)
        steady_from, steady_to = settle + 10, time.time()
        load.set_rate(0)
        stopped = time.time()

        # ---- idle: the HPA shrinks the fleet to spec.nodes.min after its window -----------------
        wait_until(lambda: loop.replicas() == SETTINGS.min_nodes, timeout=720, interval=2, what=f"{SETTINGS.min_nodes} nodes again")
        shrunk_at = time.time()
        # A lower bound only (a loaded machine makes it later, never earlier): the HPA kept the
        # nodes for the connection's stabilization window after the load stopped.
        assert shrunk_at - stopped >= SETTINGS.scale_down_seconds, shrunk_at - stopped
        loop.wait_ready(SETTINGS.min_nodes)
        assert loop.figures()["capacity"] == SETTINGS.min_nodes * SETTINGS.tps_per_node
        timeline.stop()
        load.stop()
        record = os.environ.get("STRIPE_AUTOSCALING_RECORD")
        if record:
            timeline.write(Path(record))

        # ---- what callers saw ----------------------------------------------------------------------
        answers = load.totals()
        assert set(answers) == {"200", "429"}, answers
        # While 2 nodes served (the HPA's 30 s scale-up window), the fleet admitted about 2 x 6
        # per second and refused the rest.
        (grew_at,) = first_growth
        assert grew_at - throttled_from >= 5, "the fleet grew before the 2-node phase could be measured"
        admitted_two = load.rate_of("200", throttled_from, grew_at)
        assert 0.8 * 12 <= admitted_two <= 1.1 * 12, admitted_two
        assert load.rate_of("429", throttled_from, grew_at) >= 0.7 * (LOAD - 12)
        # With 4 nodes, capacity (24) covers the offered 22: next to nothing refused.
        steady = load.totals(steady_from, steady_to)
        assert steady["429"] <= 0.05 * (steady["200"] + steady["429"]), steady
        assert load.rate_of("200", steady_from, steady_to) >= 0.8 * LOAD
        # The fleet never outgrew what the load needed, nor spec.nodes.max.
        assert max(replicas_seen) <= min(GROWN + 1, SETTINGS.max_nodes), replicas_seen

        # ---- capacity = 6 x live nodes at every sample where the fleet was steady ----------------
        steady_rows = [r for r in timeline.rows if r["live_nodes"] and r["ready"] == r["live_nodes"] == r["replicas"]]
        assert {r["live_nodes"] for r in steady_rows} >= {SETTINGS.min_nodes, GROWN}
        assert all(r["capacity"] == SETTINGS.tps_per_node * r["live_nodes"] for r in steady_rows if r["capacity"] is not None)

        # ---- the operator only reported status while the fleet scaled --------------------------------
        operator_user = service_account_user(loop.system, FULLNAME)
        writes = audit.writes(mark, user=operator_user)
        status_writes = [w for w in writes if (w["objectRef"]["resource"], w["objectRef"].get("subresource")) == ("stripeconnections", "status")]
        # Besides its status, only its leader Lease's renewals.
        others = [w for w in writes if w not in status_writes and w["objectRef"]["resource"] != "leases"]
        assert others == [], [(w["verb"], w["objectRef"]) for w in others]
        # Replicas changed by the HPA alone (the Deployment's status is its controller's).
        scaled = [w for w in audit.writes(mark, resource="deployments") if w["objectRef"].get("subresource") != "status"]
        assert {w["user"]["username"] for w in scaled} == {"system:serviceaccount:kube-system:horizontal-pod-autoscaler"}

        # ---- the chart's at-capacity alert saw the throttling (pending: it needs 10 minutes) -------
        pending = loop.prometheus.query_range(
            f'ALERTS{{alertname="StripeConnectionAtCapacity", connection="{SETTINGS.connection}", namespace="{loop.app}"}}',
            throttled_from,
            grown_at,
            2,
        )
        assert pending, "the at-capacity alert never went pending"

        assert loop.runner.refused == {} and loop.runner.exits == []
        print(
            f"\nautoscaling: load {LOAD}/s from {loaded - started:.0f} s; {GROWN} nodes after {grown_at - loaded:.0f} s; "
            f"2-node admitted {admitted_two:.1f}/s; steady 4-node admitted {load.rate_of('200', steady_from, steady_to):.1f}/s, "
            f"{steady['429']} of {steady['200'] + steady['429']} refused; back to {SETTINGS.min_nodes} nodes {shrunk_at - stopped:.0f} s "
            f"after the load stopped; answers {dict(answers)}; operator writes: {len(status_writes)} of its status; total {time.time() - started:.0f} s"
        )
    finally:
        loop.stop()
