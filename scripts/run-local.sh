#!/usr/bin/env bash
# The run command (`make run`): one connector node on localhost with the in-process limiter.
#   STRIPE_API_KEY=sk_test_... make run   -> against Stripe with your test key
#   make run                              -> against a local Stripe peer (localstripe), no account needed
set -euo pipefail
cd "$(dirname "$0")/.."

workdir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$workdir"' EXIT
umask 077

if [ -n "${STRIPE_API_KEY:-}" ]; then
  base_url=${STRIPE_BASE_URL:-https://api.stripe.com}
  printf '%s' "$STRIPE_API_KEY" > "$workdir/api-key"
else
  [ -x .venv/bin/localstripe ] || { python3 -m venv .venv && .venv/bin/pip install -q localstripe==1.15.10; }
  port=${LOCALSTRIPE_PORT:-8420}
  .venv/bin/localstripe --port "$port" >"$workdir/localstripe.log" 2>&1 &
  base_url="http://127.0.0.1:$port"
  printf 'sk_test_localdemo' > "$workdir/api-key"
  echo "demo mode: localstripe on $base_url (set STRIPE_API_KEY to use Stripe itself)"
fi

exec_args=(--listen "${NODE_LISTEN:-127.0.0.1:8080}" --admin-listen "${NODE_ADMIN_LISTEN:-127.0.0.1:9090}"
  --stripe-api-key-file "$workdir/api-key" --stripe-base-url "$base_url" --log-format text
  # Queue a burst of demo calls for up to 1 s instead of answering 429 at once.
  --limiter-max-wait-ms "${LIMITER_MAX_WAIT_MS:-1000}")
[ -n "${STRIPE_ACCOUNT_ID:-}" ] && exec_args+=(--stripe-account-id "$STRIPE_ACCOUNT_ID")
cargo run -p stripe-node -- "${exec_args[@]}" "$@"
