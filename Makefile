.PHONY: run test lint crds cluster e2e bench-node bench-limiter

# Run the product's main job: a node serving the API on localhost (see README).
run:
	scripts/run-local.sh

# Install everything the tests need and run every test.
test:
	scripts/test.sh

# The tests' local control plane (etcd, kube-apiserver, controllers, scheduler, kwok nodes), by
# hand: prints the KUBECONFIG to use; Ctrl-C stops it. See docs/install.md ("Test control plane").
cluster:
	scripts/install-test-deps.sh
	.venv/bin/python tests/python/control_plane.py

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# End-to-end against the cluster of the current kubeconfig (kind/k3d); not part of CI.
# See docs/install.md ("End-to-end test on a local cluster").
e2e:
	scripts/e2e.sh

# Node benchmark: added latency, throughput and memory, straight to the Stripe fake vs through a node.
bench-node:
	cargo build --release --workspace --bins
	target/release/bench-node

# Distributed limiter benchmark against a real redis-server (figures in docs/limiter.md).
# Extra flags: make bench-limiter ARGS="--tps-per-node 100 --nodes 1,50".
bench-limiter:
	cargo run --release -p stripe-connector-tests --bin bench-limiter -- $(ARGS)
