.PHONY: run test lint crds bench-node

# Run the product's main job: a node serving the API on localhost (see README).
run:
	scripts/run-local.sh

# Install everything the tests need and run every test.
test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Node benchmark: added latency, throughput and memory, straight to the Stripe fake vs through a node.
bench-node:
	cargo build --release --workspace --bins
	target/release/bench-node
