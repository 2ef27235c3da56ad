#!/usr/bin/env bash
# Builds the test control plane's programs (every `tool` of tests/cluster/go.mod: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok, helm, prometheus,
# promtool; the promql-metrics helper; prometheus-adapter from its own module in adapter/) once
# per go.mod/go.sum/source/Go version into a machine cache outside the repo, and prints that directory.
# Later runs find it and take no time; the Go build cache keeps rebuilds after a version bump short.
set -euo pipefail
script=$(realpath "$0")
cd "$(dirname "$0")/../tests/cluster"

key=$( { cat go.mod go.sum promql-metrics/*.go adapter/go.mod adapter/go.sum "$script"; go version; } | sha256sum | cut -c1-16)
cache=${STRIPE_CONNECTOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stripe-connector}
dir=$cache/cluster-bin/$key

if [ ! -f "$dir/.complete" ]; then
  mkdir -p "$cache/cluster-bin"
  tmp=$(mktemp -d "$cache/cluster-bin/.build.XXXXXX")
  chmod 755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building the test control plane's programs into $dir (first time: several minutes)" >&2
  start=$SECONDS
  # The release versions the programs report (Kubernetes' and Helm's own builds stamp them so;
  # helm checks a chart's kubeVersion against the API server's). -s -w: no symbol tables.
  kube=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
  helm=$(go list -m -f '{{.Version}}' helm.sh/helm/v4)
  minor=${kube#v1.}; minor=${minor%%.*}
  ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$kube -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  # remove_all_sd: Prometheus with only its file and HTTP service discovery (the tests use file_sd),
  # which leaves the cloud providers' SDKs out of the build.
  go build -tags remove_all_sd -ldflags="$ldflags" -o "$tmp/" tool ./promql-metrics
  # go.etcd.io/etcd/server/v3 builds a binary named after its module directory.
  mv "$tmp/server" "$tmp/etcd"
  # kwok's own stages of the pinned version (what `kwokctl` configures): nodes become Ready and
  # keep a Lease, pods become Running and Ready, Job pods complete, deleted pods go.
  kwok=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"
    cat "$kwok/kustomize/stage/$stage.yaml"
  done >"$tmp/kwok-stages.yaml"
  # prometheus-adapter needs Kubernetes' v0.30 libraries, hence a module of its own; its
  # published manifests (RBAC) come along.
  (cd adapter && go build -ldflags="-s -w" -o "$tmp/prometheus-adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter)
  cp -r "$(cd adapter && go list -m -f '{{.Dir}}' sigs.k8s.io/prometheus-adapter)/deploy/manifests" "$tmp/prometheus-adapter-manifests"
  chmod -R u+w "$tmp/prometheus-adapter-manifests"
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "built in $((SECONDS - start)) s" >&2
fi
echo "$dir"
