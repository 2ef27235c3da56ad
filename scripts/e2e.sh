#!/usr/bin/env bash
# `make e2e`: the install path end to end, against the cluster of the current kubeconfig
# (kind or k3d; not part of CI, which has no cluster). See docs/install.md.
#
#   1. builds the node image (docker) and loads it into the cluster, unless NODE_IMAGE is given
#   2. installs the CRD and starts the operator: a local `cargo run` process (E2E_OPERATOR=local,
#      the default) or the Helm chart with an operator image built and loaded the same way
#      (E2E_OPERATOR=chart, needs the helm CLI; also runs `helm test`)
#   3. applies examples/stripe-connection.yaml, waits for Ready, checks every child object,
#      the ownerReferences and the status; calls the node without a token (must get 401) and,
#      when STRIPE_API_KEY is set, runs examples/client-job.yaml (ListEntities on Customer)
#   4. changes the spec and checks the roll (config-hash annotation, ConfigMap, HPA)
#   5. deletes the connection and checks that every child is garbage-collected
#
# Environment: STRIPE_API_KEY (a sk_test_ key; without it a placeholder key is used and the
# ListEntities call is skipped), STRIPE_ACCOUNT_ID, NODE_IMAGE, OPERATOR_IMAGE, E2E_OPERATOR,
# E2E_NAMESPACE (default stripe-e2e), E2E_TIMEOUT (default 300s), E2E_KEEP=1 (keep the namespace).
set -euo pipefail
cd "$(dirname "$0")/.."

NS=${E2E_NAMESPACE:-stripe-e2e}
MODE=${E2E_OPERATOR:-local}
TIMEOUT=${E2E_TIMEOUT:-300s}
TIMEOUT_SECONDS=${TIMEOUT%s}
CONN=stripe-connection
CRD=stripeconnections.connectors.integration.dev
RELEASE=stripe-e2e
RELEASE_NS=${NS}-system
CHILD_KINDS=configmap,secret,serviceaccount,deployment,service,horizontalpodautoscaler,poddisruptionbudget
workdir=$(mktemp -d)
operator_pid=""

log() { printf '\n==> %s\n' "$*"; }
fail() {
  printf '\nFAIL: %s\n' "$*" >&2
  if [ -s "$workdir/operator.log" ]; then
    printf -- '--- last operator log lines ---\n' >&2
    tail -n 40 "$workdir/operator.log" >&2
  fi
  exit 1
}
need() { command -v "$1" >/dev/null || fail "$1 is required on PATH"; }
k() { kubectl -n "$NS" "$@"; }

cleanup() {
  local rc=$?
  if [ -n "$operator_pid" ]; then
    kill "$operator_pid" 2>/dev/null || true
    wait "$operator_pid" 2>/dev/null || true
  fi
  if [ "${E2E_KEEP:-0}" != 1 ]; then
    kubectl delete namespace "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    if [ "$MODE" = chart ]; then
      helm uninstall "$RELEASE" -n "$RELEASE_NS" >/dev/null 2>&1 || true
      kubectl delete namespace "$RELEASE_NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$workdir"
  if [ "$rc" -eq 0 ]; then echo "e2e: all checks passed"; fi
}
trap cleanup EXIT

# Polls `$@` until it prints `want`, for at most TIMEOUT_SECONDS.
wait_for_output() {
  local want=$1 what=$2 got=""
  shift 2
  for _ in $(seq "$TIMEOUT_SECONDS"); do
    got=$("$@" 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 1
  done
  fail "$what: expected '$want', got '$got'"
}

# Loads a locally built image into the cluster of the current context.
load_image() {
  local ctx
  ctx=$(kubectl config current-context)
  case "$ctx" in
    kind-*) need kind; kind load docker-image "$1" --name "${ctx#kind-}" ;;
    k3d-*) need k3d; k3d image import "$1" --cluster "${ctx#k3d-}" ;;
    *) fail "cannot load $1 into context '$ctx': push it to a registry the cluster pulls from and set NODE_IMAGE / OPERATOR_IMAGE" ;;
  esac
}

build_image() { # target image
  need docker
  log "building the $1 image $2"
  docker build --target "$1" -t "$2" .
  load_image "$2"
}

need kubectl
kubectl version --request-timeout=10s >/dev/null || fail "no reachable cluster in the current kubeconfig"
log "cluster: $(kubectl config current-context), namespace $NS, operator: $MODE"

if [ -z "${NODE_IMAGE:-}" ]; then
  NODE_IMAGE=stripe-connector/stripe-node:e2e
  build_image node "$NODE_IMAGE"
fi

kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null

# ---- 2. CRD and operator -------------------------------------------------------------------
case "$MODE" in
  local)
    need cargo
    need curl
    log "installing the CRD and starting the operator as a local process"
    kubectl apply --server-side -f charts/stripe-connector/crds/ >/dev/null
    kubectl wait --for=condition=Established "crd/$CRD" --timeout="$TIMEOUT" >/dev/null
    cargo build -q -p stripe-operator
    cargo run -q -p stripe-operator -- run \
      --node-image "$NODE_IMAGE" \
      --watch-namespaces "$NS" \
      --leader-election false \
      --admin-listen 127.0.0.1:19090 \
      --log-format text >"$workdir/operator.log" 2>&1 &
    operator_pid=$!
    wait_for_output ok "operator /healthz" sh -c 'curl -fsS -o /dev/null http://127.0.0.1:19090/healthz && echo ok'
    ;;
  chart)
    need helm
    if [ -z "${OPERATOR_IMAGE:-}" ]; then
      OPERATOR_IMAGE=stripe-connector/stripe-operator:e2e
      build_image operator "$OPERATOR_IMAGE"
    fi
    log "installing the chart (release $RELEASE in $RELEASE_NS)"
    helm upgrade --install "$RELEASE" charts/stripe-connector \
      --namespace "$RELEASE_NS" --create-namespace \
      --set replicaCount=1 \
      --set "watchNamespaces={$NS}" \
      --set "operator.image.repository=${OPERATOR_IMAGE%:*}" --set "operator.image.tag=${OPERATOR_IMAGE##*:}" \
      --set "node.image.repository=${NODE_IMAGE%:*}" --set "node.image.tag=${NODE_IMAGE##*:}" \
      --wait --timeout "$TIMEOUT"
    kubectl wait --for=condition=Established "crd/$CRD" --timeout="$TIMEOUT" >/dev/null
    helm test "$RELEASE" -n "$RELEASE_NS" --timeout "$TIMEOUT"
    ;;
  *) fail "E2E_OPERATOR must be local or chart, not '$MODE'" ;;
esac

# ---- 3. the Stripe connector's example connection ---------------------------------------
log "applying examples/stripe-connection.yaml"
k apply -f examples/stripe-connection.yaml >/dev/null
# The example's placeholders are replaced by usable values for this run.
k create secret generic stripe-api-key \
  --from-literal=api-key="${STRIPE_API_KEY:-sk_test_e2e_placeholder}" \
  --dry-run=client -o yaml | k apply -f - >/dev/null
if [ -n "${STRIPE_ACCOUNT_ID:-}" ]; then
  k patch stripeconn "$CONN" --type merge -p "{\"spec\":{\"accountId\":\"$STRIPE_ACCOUNT_ID\"}}" >/dev/null
else
  k patch stripeconn "$CONN" --type json -p '[{"op":"remove","path":"/spec/accountId"}]' >/dev/null
fi
k wait --for=condition=Ready "stripeconn/$CONN" --timeout="$TIMEOUT" >/dev/null || {
  k get stripeconn "$CONN" -o yaml >&2
  fail "the connection did not become Ready"
}
k get stripeconn "$CONN"

log "checking the children and their ownerReferences"
uid=$(k get stripeconn "$CONN" -o jsonpath='{.metadata.uid}')
for child in configmap/$CONN-settings secret/$CONN-client-token serviceaccount/$CONN-node \
  deployment/$CONN service/$CONN horizontalpodautoscaler/$CONN poddisruptionbudget/$CONN; do
  owner=$(k get "$child" -o jsonpath='{.metadata.ownerReferences[?(@.kind=="StripeConnection")].uid}') ||
    fail "$child is missing"
  [ "$owner" = "$uid" ] || fail "$child is not owned by the connection (owner uid '$owner')"
  manager=$(k get "$child" -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')
  [ "$manager" = stripe-operator ] || fail "$child lacks app.kubernetes.io/managed-by=stripe-operator"
  echo "ok  $child"
done
[ -n "$(k get secret "$CONN-client-token" -o jsonpath='{.data.token}')" ] || fail "the client token Secret has no token"
[ "$(k get hpa "$CONN" -o jsonpath='{.spec.minReplicas}/{.spec.maxReplicas}')" = 2/50 ] || fail "HPA bounds are not 2/50"
[ "$(k get service "$CONN" -o jsonpath='{.spec.ports[?(@.port==8080)].port}')" = 8080 ] || fail "Service lacks port 8080"
[ "$(k get configmap "$CONN-settings" -o jsonpath='{.data.VERBOSITY}')" = 5 ] || fail "ConfigMap VERBOSITY is not 5"
k rollout status "deployment/$CONN" --timeout="$TIMEOUT" >/dev/null

log "checking the status"
generation=$(k get stripeconn "$CONN" -o jsonpath='{.metadata.generation}')
[ "$(k get stripeconn "$CONN" -o jsonpath='{.status.observedGeneration}')" = "$generation" ] || fail "status.observedGeneration is behind"
# One read, so nodes.ready and capacityTps come from the same status.
read -r ready capacity < <(k get stripeconn "$CONN" -o jsonpath='{.status.nodes.ready} {.status.capacityTps}')
[ "${ready:-0}" -ge 2 ] || fail "status.nodes.ready is '$ready', want at least 2"
[ "$capacity" = $((ready * 6)) ] || fail "status.capacityTps is '$capacity', want 6 x $ready"
[ "$(k get stripeconn "$CONN" -o jsonpath='{.status.endpoint}')" = "http://$CONN.$NS.svc:8080" ] || fail "status.endpoint is wrong"
echo "ok  Ready, $ready nodes, $((ready * 6)) TPS"

log "calling the node without a token (must be refused)"
k delete pod e2e-no-token --ignore-not-found >/dev/null
cat <<EOF | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata:
  name: e2e-no-token
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 100, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: curl
      image: curlimages/curl:8.11.1
      command: [curl, -s, -o, /dev/null, -w, '%{http_code}', --retry, "5", --retry-connrefused, "http://$CONN:8080/v2/entityTypes"]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
EOF
wait_for_output Succeeded "pod e2e-no-token" k get pod e2e-no-token -o jsonpath='{.status.phase}'
[ "$(k logs e2e-no-token)" = 401 ] || fail "a call without the client token got $(k logs e2e-no-token), want 401"
echo "ok  401 without the token"

if [ -n "${STRIPE_API_KEY:-}" ]; then
  log "ListEntities from inside the cluster (examples/client-job.yaml)"
  k delete job stripe-client --ignore-not-found >/dev/null
  k apply -f examples/client-job.yaml >/dev/null
  k wait --for=condition=Complete job/stripe-client --timeout="$TIMEOUT" >/dev/null || {
    k logs job/stripe-client >&2 || true
    fail "the client Job did not complete"
  }
  k logs job/stripe-client | head -c 400
  echo
else
  log "STRIPE_API_KEY is not set: skipping the ListEntities call against Stripe"
fi

# ---- 4. a spec change rolls the nodes -------------------------------------------------------
log "changing the spec (verbosity 5 -> 3, nodes.max 50 -> 10)"
hash_before=$(k get deployment "$CONN" -o jsonpath='{.spec.template.metadata.annotations.connectors\.integration\.dev/config-hash}')
[ -n "$hash_before" ] || fail "the node Deployment has no config-hash annotation"
k patch stripeconn "$CONN" --type merge -p '{"spec":{"verbosity":3,"nodes":{"max":10}}}' >/dev/null
generation=$(k get stripeconn "$CONN" -o jsonpath='{.metadata.generation}')
wait_for_output "$generation" "status.observedGeneration after the change" \
  k get stripeconn "$CONN" -o jsonpath='{.status.observedGeneration}'
wait_for_output 3 "ConfigMap VERBOSITY" k get configmap "$CONN-settings" -o jsonpath='{.data.VERBOSITY}'
wait_for_output 10 "HPA maxReplicas" k get hpa "$CONN" -o jsonpath='{.spec.maxReplicas}'
hash_after=$(k get deployment "$CONN" -o jsonpath='{.spec.template.metadata.annotations.connectors\.integration\.dev/config-hash}')
[ "$hash_after" != "$hash_before" ] || fail "the config-hash annotation did not change, so the nodes would not roll"
k rollout status "deployment/$CONN" --timeout="$TIMEOUT" >/dev/null
k wait --for=condition=Ready "stripeconn/$CONN" --timeout="$TIMEOUT" >/dev/null
echo "ok  rolled: config-hash $hash_before -> $hash_after"

# ---- 5. deleting the connection removes every child ----------------------------------------
log "deleting the connection"
k delete stripeconn "$CONN" --wait --timeout="$TIMEOUT" >/dev/null
left=""
for _ in $(seq "$TIMEOUT_SECONDS"); do
  left=$(k get "$CHILD_KINDS" -l "app.kubernetes.io/instance=$CONN,app.kubernetes.io/managed-by=stripe-operator" -o name) ||
    fail "listing the children failed"
  [ -z "$left" ] && break
  sleep 1
done
[ -z "$left" ] || fail "children left after deleting the connection: $left"
echo "ok  every child is gone"
