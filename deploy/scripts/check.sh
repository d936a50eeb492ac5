#!/usr/bin/env bash
# Static checks of deploy/ and docker-compose.yml, no cluster or Docker engine needed:
#   1. promtool check config / check rules / test rules (Prometheus's own tool; installed with
#      apt-get when missing and running as root on Debian/Ubuntu);
#   2. validate-manifests.mjs: YAML/JSON syntax, kustomize references, metric names against
#      libs/metrics/src/metric-names.ts, alert runbooks, dashboard panels;
#   3. with kubectl: `kubectl kustomize` of every overlay (and h200-tp4 + the HPA component), the
#      rendered Deployments checked by validate-manifests.mjs --rendered;
#   4. with docker compose (v2) or docker-compose (v1): `config` of docker-compose.yml;
#   5. the PrometheusRule rendering parses;
#   6. validate-lws.mjs: the LeaderWorkerSet overlay against the LWS CRD schema.
# Steps 3 and 4 are skipped, with a note, where the tool is absent.
#   deploy/scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

numPassed=0
numFailed=0
numSkipped=0
tmp=$(mktemp -d)
copy=".check-compose.$$.yml"
trap 'rm -rf "$tmp" "$copy"' EXIT

step() {
  local label=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then
    numPassed=$((numPassed + 1))
    echo "ok    ${label}"
  else
    numFailed=$((numFailed + 1))
    echo "FAIL  ${label}"
    sed 's/^/      /' "$tmp/out"
  fi
}

skip() {
  numSkipped=$((numSkipped + 1))
  echo "skip  $1"
}

# --- 1. promtool ---
if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing promtool (Debian package prometheus)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null ||
    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }
fi
if command -v promtool >/dev/null 2>&1; then
  step "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
  step "promtool check rules deploy/prometheus/alerts.yml" promtool check rules deploy/prometheus/alerts.yml
  step "promtool test rules deploy/prometheus/alerts.test.yml" promtool test rules deploy/prometheus/alerts.test.yml
else
  numFailed=$((numFailed + 1))
  echo "FAIL  promtool not found (install Prometheus's promtool, e.g. apt-get install prometheus)"
fi

# --- 3. kustomize renders (collected first, validated together with step 2) ---
rendered=()
if command -v kubectl >/dev/null 2>&1; then
  for overlay in deploy/k8s/overlays/*/; do
    name=$(basename "$overlay")
    step "kubectl kustomize ${overlay%/}" kubectl kustomize "$overlay" -o "$tmp/$name.yaml"
    [ -s "$tmp/$name.yaml" ] && rendered+=(--rendered "$tmp/$name.yaml")
  done
  # The optional HPA component on top of the GPU overlay (kustomize needs relative paths).
  mkdir -p "$tmp/hpa"
  ln -s "$PWD/deploy" "$tmp/deploy"
  cat >"$tmp/hpa/kustomization.yaml" <<'EOF'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: tpserve
resources:
  - ../deploy/k8s/overlays/h200-tp4
components:
  - ../deploy/k8s/components/hpa-requests-waiting
EOF
  step "kubectl kustomize h200-tp4 + components/hpa-requests-waiting" \
    sh -c "kubectl kustomize '$tmp/hpa' -o '$tmp/hpa.yaml' && grep -q 'kind: HorizontalPodAutoscaler' '$tmp/hpa.yaml'"
  [ -s "$tmp/hpa.yaml" ] && rendered+=(--rendered "$tmp/hpa.yaml")
else
  skip "kubectl kustomize (kubectl not found): overlays not rendered"
fi

# --- 2. validate-manifests ---
step "validate-manifests.mjs ${rendered[*]:+(+ ${#rendered[@]} rendered args)}" node deploy/scripts/validate-manifests.mjs "${rendered[@]}"

# --- 2b. LeaderWorkerSet manifests against the LWS CRD schema (deploy/crds/lws) ---
if [ -d node_modules/ajv ]; then
  step "validate-lws.mjs (LeaderWorkerSet vs the LWS CRD)" node deploy/scripts/validate-lws.mjs
  [ -s "$tmp/lws-multinode.yaml" ] && step "validate-lws.mjs (rendered lws-multinode)" node deploy/scripts/validate-lws.mjs "$tmp/lws-multinode.yaml"
else
  skip "validate-lws.mjs (npm dependencies not installed: npm ci)"
fi

# --- 4. docker compose config ---
if docker compose version >/dev/null 2>&1; then
  step "docker compose config" docker compose -f docker-compose.yml config -q
  step "docker compose config (+ compose.model.yml)" \
    env TPSERVE_MODEL_DIR=/tmp docker compose -f docker-compose.yml -f deploy/docker/compose.model.yml config -q
elif command -v docker-compose >/dev/null 2>&1; then
  # Compose v1 predates the top-level `name:`; validate the rest in a copy beside the original.
  grep -v '^name:' docker-compose.yml >"$copy"
  step "docker-compose (v1) config" docker-compose -f "$copy" config -q
  step "docker-compose (v1) config (+ compose.model.yml)" \
    env TPSERVE_MODEL_DIR=/tmp docker-compose -f "$copy" -f deploy/docker/compose.model.yml config -q
  rm -f "$copy"
else
  skip "docker compose config (no docker compose / docker-compose)"
fi

# --- 5. PrometheusRule ---
if python3 -c 'import yaml' 2>/dev/null; then
  step "render-prometheusrule.sh: a PrometheusRule whose spec is alerts.yml" python3 -c '
import subprocess, sys, yaml
rule = yaml.safe_load(subprocess.check_output(["deploy/scripts/render-prometheusrule.sh", "tpserve"]))
assert rule["kind"] == "PrometheusRule", rule["kind"]
assert rule["spec"] == yaml.safe_load(open("deploy/prometheus/alerts.yml")), "spec differs from alerts.yml"
'
else
  step "render-prometheusrule.sh" sh -c "deploy/scripts/render-prometheusrule.sh tpserve | grep -q '^  groups:'"
fi

echo "deploy: ${numPassed} passed, ${numFailed} failed, ${numSkipped} skipped"
[ "$numFailed" = 0 ]
