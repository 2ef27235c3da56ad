.PHONY: run test lint crds bench-limiter

# Run the product's main job: a node serving the API on localhost (see README).
run:
	scripts/run-local.sh

# Install everything the tests need and run every test.
test:
	scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# Distributed limiter benchmark against a real redis-server (figures in docs/limiter.md).
# Extra flags: make bench-limiter ARGS="--tps-per-node 100 --nodes 1,50".
bench-limiter:
	cargo run --release -p stripe-connector-tests --bin bench-limiter -- $(ARGS)
