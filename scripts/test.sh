#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, then runs every test.
# Each test starts its own services (redis-server, localstripe, squid, nodes) on free loopback
# ports and stops them when it ends; the kernel kills any that outlive their test process.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

# Workspace binaries (stripe-node, stripe-operator, the Stripe fake) are started as real processes.
cargo build --workspace --bins
cargo nextest run --workspace --no-fail-fast

if compgen -G "tests/python/test_*.py" >/dev/null; then
  .venv/bin/pytest -q tests/python
fi
