#!/usr/bin/env bash
# Filter-clause benchmark (figures in docs/filter-clause.md): List pages on a Stripe fake holding
# 10,000 customers, through this tree's node and a baseline node built from BASE (default: main,
# today's behaviour), side by side in one run. Extra flags go to bench-filter.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${BASE:-main}"

cargo build --release --workspace --bins

# The baseline's source as committed at BASE, built in its own target dir (seeded from this
# one, so only the workspace's own crates compile again).
work="target/bench-baseline"
rm -rf "$work/src"
mkdir -p "$work/src" "$work/target"
git archive "$base" | tar -x -C "$work/src"
[ -d "$work/target/release" ] || cp -a target/release "$work/target/release"
CARGO_TARGET_DIR="$PWD/$work/target" cargo build --release \
  --manifest-path "$work/src/Cargo.toml" -p stripe-node --bin stripe-node

target/release/bench-filter --baseline-node "$work/target/release/stripe-node" \
  --baseline-label "$base ($(git rev-parse --short "$base"))" "$@"
