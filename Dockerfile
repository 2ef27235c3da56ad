# syntax=docker/dockerfile:1.7
# Images of the operator and of the connector node, from one build of the workspace:
#   docker build --target operator -t stripe-connector/stripe-operator:dev .
#   docker build --target node     -t stripe-connector/stripe-node:dev .
# Both run as the distroless "nonroot" user (65532) on a read-only root filesystem; the runtime
# base carries glibc, libgcc and CA certificates and nothing else (no shell, no package manager).

FROM rust:1.95.0-slim-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target/ between builds; the binaries are copied out of
# the cached target/ in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p stripe-operator -p stripe-node \
    && install -D -m 0755 target/release/stripe-operator /out/stripe-operator \
    && install -D -m 0755 target/release/stripe-node /out/stripe-node

FROM gcr.io/distroless/cc-debian12:nonroot AS operator
COPY --from=builder /out/stripe-operator /usr/local/bin/stripe-operator
USER 65532:65532
# Admin port: /healthz, /readyz, /metrics.
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/stripe-operator"]
CMD ["run"]

FROM gcr.io/distroless/cc-debian12:nonroot AS node
COPY --from=builder /out/stripe-node /usr/local/bin/stripe-node
USER 65532:65532
# API port (Bearer client token) and admin port (/healthz, /readyz, /metrics).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/stripe-node"]
