.PHONY: run test lint crds cluster demo autoscaling-plot e2e bench-node bench-limiter bench-operator bench-filter

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

# The whole autoscaling loop on one machine (control plane, chart, operator, a connection against
# localstripe, Prometheus and prometheus-adapter, a load), with a live view of nodes, capacity and
# admitted rate. Options: make demo ARGS="--rate 30 --load-seconds 240 --record run.csv".
demo:
	scripts/install-test-deps.sh
	cargo build --workspace --bins
	.venv/bin/python tests/python/autoscaling_demo.py $(ARGS)

# Records one run of the autoscaling test (docs/autoscaling-run.csv) and plots it
# (docs/autoscaling-run.png, shown in docs/operator.md).
autoscaling-plot:
	scripts/install-test-deps.sh
	cargo build --workspace --bins
	STRIPE_AUTOSCALING_RECORD=$(CURDIR)/docs/autoscaling-run.csv .venv/bin/pytest -q -s tests/python/test_cluster_autoscaling.py
	.venv/bin/pip install -q --disable-pip-version-check -r scripts/plot-requirements.txt
	.venv/bin/python scripts/plot-autoscaling.py docs/autoscaling-run.csv docs/autoscaling-run.png

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

# Operator benchmark on the test control plane: 200 StripeConnections applied at once (figures in
# docs/operator.md). Extra flags: make bench-operator ARGS="--connections 50".
bench-operator:
	scripts/install-test-deps.sh
	cargo build --release -p stripe-operator
	.venv/bin/python tests/python/bench_operator.py $(ARGS)

# Filter-clause benchmark: Stripe calls and latency per List page, this tree against BASE
# (default main) side by side (figures in docs/filter-clause.md).
bench-filter:
	scripts/bench-filter.sh $(ARGS)
