#!/usr/bin/env bash
# Installs everything the tests need, idempotently, on a fresh Debian machine:
# Debian packages (redis-server, squid, apache2-utils for the proxy's password files)
# and a Python venv inside the repo (.venv) with localstripe, helm-python-sdk,
# kubernetes-validate and pytest; cargo-nextest; and checks that Go is there for the test control
# plane's programs. Services are started by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v squid >/dev/null || [ -x /usr/sbin/squid ] || need_apt+=(squid)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
[ -x /usr/lib/squid/basic_ncsa_auth ] || need_apt+=(squid)
[ -x /usr/bin/openssl ] || need_apt+=(openssl)
# For the static check of scripts/e2e.sh with shellcheck (tests/python/test_e2e_script.py).
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
  # The packages start system-wide services; the tests start their own on free ports.
  $SUDO systemctl disable --now redis-server squid >/dev/null 2>&1 || true
  $SUDO pkill -x redis-server >/dev/null 2>&1 || true
  $SUDO pkill -x squid >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements-installed
if [ ! -f "$stamp" ] || ! cmp -s tests/requirements.txt "$stamp"; then
  .venv/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$stamp"
fi

if ! command -v cargo-nextest >/dev/null; then
  # Without the self-update feature: fewer crates to build on a fresh machine.
  cargo install --locked cargo-nextest --no-default-features --features default-no-update
fi

# Go is on the machine (the project's machines are of the polyglot kind): it builds the test
# control plane's programs (scripts/cluster-tools.sh, started by scripts/test.sh beside the Rust
# build, and by the tests themselves when missing).
command -v go >/dev/null || { echo "go is needed to build the test control plane (tests/cluster/go.mod)" >&2; exit 1; }
