#!/usr/bin/env python3
"""Plots one autoscaling run (the timeline CSV that tests/python/test_cluster_autoscaling.py or
`make demo` writes): offered load, admitted rate and capacity (requests per second), and the node
count, over time.

    scripts/plot-autoscaling.py docs/autoscaling-run.csv docs/autoscaling-run.png

Needs matplotlib (scripts/plot-requirements.txt; `make autoscaling-plot` installs it)."""

from __future__ import annotations

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def number(value: str) -> float | None:
    return float(value) if value not in ("", "None") else None


def main(source: str, target: str) -> None:
    with open(source, newline="") as f:
        rows = list(csv.DictReader(f))
    t = [float(r["t"]) for r in rows]

    fig, rate_axis = plt.subplots(figsize=(10, 5), dpi=110)
    rate_axis.plot(t, [number(r["offered"]) for r in rows], label="offered load (req/s)", color="tab:red")
    rate_axis.plot(t, [number(r["admitted"]) for r in rows], label="admitted (req/s)", color="tab:green")
    rate_axis.plot(t, [number(r["capacity"]) for r in rows], label="capacity (TPS)", color="tab:blue", linestyle="--")
    rate_axis.set_xlabel("time (s)")
    rate_axis.set_ylabel("requests per second")
    rate_axis.set_ylim(bottom=0)

    node_axis = rate_axis.twinx()
    node_axis.step(t, [number(r["live_nodes"]) for r in rows], where="post", label="live nodes", color="tab:gray")
    node_axis.set_ylabel("nodes")
    node_axis.set_ylim(0, max((number(r["live_nodes"]) or 0) for r in rows) + 2)

    lines = rate_axis.get_legend_handles_labels()
    nodes = node_axis.get_legend_handles_labels()
    rate_axis.legend(lines[0] + nodes[0], lines[1] + nodes[1], loc="center right")
    rate_axis.set_title("One StripeConnection under load: the HPA grows the fleet, then shrinks it when idle")
    fig.tight_layout()
    fig.savefig(target)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
