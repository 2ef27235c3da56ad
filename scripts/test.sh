#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, then runs every test.
# Each test starts its own services (redis-server, localstripe, squid, nodes) on free loopback
# ports and stops them when it ends; the kernel kills any that outlive their test process.
set -euo pipefail
cd "$(dirname "$0")/.."

# The test control plane's programs (etcd, Kubernetes, kwok, helm; minutes the first time on a
# machine, nothing later) build beside the installs and the Rust build, filling the cores they
# leave idle; the tests only start once both are done.
tools_log=$(mktemp)
setsid scripts/cluster-tools.sh >"$tools_log" 2>&1 &
tools=$!
trap 'kill -- -$tools 2>/dev/null || true; rm -f "$tools_log"' EXIT

scripts/install-test-deps.sh

# Workspace binaries (stripe-node, stripe-operator, the Stripe fake) are started as real processes.
cargo build --workspace --bins
# The test binaries nextest runs (it builds them with `cargo test --no-run`).
cargo test --workspace --no-run
if ! wait $tools; then
  cat "$tools_log" >&2
  exit 1
fi
grep -v '^/' "$tools_log" >&2 || true

cargo nextest run --workspace --no-fail-fast

if compgen -G "tests/python/test_*.py" >/dev/null; then
  .venv/bin/pytest -q tests/python
fi
