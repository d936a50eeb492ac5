#!/usr/bin/env bash
# Live check of the monitoring set-up without Docker: a real coordinator (tiny model, 2 CPU ranks)
# scraped by a real Prometheus with deploy/prometheus/prometheus.yml (target and intervals
# rewritten) and alerts.yml. It sends chat completions, then checks that
#   - the target is up and every rule evaluates without error,
#   - every expression of the Grafana dashboard returns data (a number, not NaN),
#   - no tpserve alert is pending or firing on the healthy server,
#   - killing worker rank 1 drives tpserve_worker_up{rank="1"} to 0 and TpserveWorkerDown pending.
# Needs `npm run build` done and the prometheus binary (apt-get install prometheus).
#   deploy/scripts/smoke-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${SMOKE_PORT:-18600}
PROM_PORT=${SMOKE_PROM_PORT:-18690}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL  $*"; exit 1; }

command -v prometheus >/dev/null || fail "prometheus not found (apt-get install prometheus)"
[ -f dist/apps/cli/src/main.js ] || fail "not built: run npm run build"

node bin/tpserve.js make-tiny-model --out "$tmp/tiny-seed-oss" >/dev/null 2>&1
node bin/tpserve.js serve --model "$tmp/tiny-seed-oss" --tp 2 --device cpu --threads 1 \
  --host 127.0.0.1 --port "$PORT" >"$tmp/serve.out" 2>"$tmp/serve.err" &
coordinator=$!
pids+=("$coordinator")
for _ in $(seq 120); do grep -q '"listening"' "$tmp/serve.out" 2>/dev/null && break; sleep 0.5; done
grep -q '"listening"' "$tmp/serve.out" || { cat "$tmp/serve.err"; fail "coordinator did not start"; }
echo "ok    coordinator on :$PORT"

# The compose config, pointed at this coordinator, scraping every second; rules every 2 s.
sed -e "s|\"coordinator:8000\"|\"127.0.0.1:$PORT\"|" -e "s|localhost:9090|127.0.0.1:$PROM_PORT|" \
  -e 's|scrape_interval: 5s|scrape_interval: 1s|' -e 's|scrape_timeout: 4s|scrape_timeout: 1s|' \
  -e 's|evaluation_interval: 15s|evaluation_interval: 1s|' deploy/prometheus/prometheus.yml >"$tmp/prometheus.yml"
sed -e 's|interval: 30s|interval: 2s|' deploy/prometheus/alerts.yml >"$tmp/alerts.yml"
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "rewritten prometheus.yml is invalid"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$tmp/prometheus.log" 2>&1 &
pids+=("$!")

api() { curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/$1" "${@:2}"; }
for _ in $(seq 60); do api query --data-urlencode 'query=up{job="tpserve"} == 1' 2>/dev/null | grep -q '"value"' && break; sleep 1; done
api query --data-urlencode 'query=up{job="tpserve"} == 1' | grep -q '"value"' || { tail "$tmp/prometheus.log"; fail "target not up"; }
echo "ok    prometheus scrapes the coordinator"

# Traffic: streaming and non-streaming chat completions, 4 at a time, plus one 404.
for round in 1 2 3; do
  for i in 1 2 3 4; do
    stream=$([ $((i % 2)) = 0 ] && echo true || echo false)
    curl -sf "http://127.0.0.1:$PORT/v1/chat/completions" -H 'content-type: application/json' \
      -d "{\"model\":\"tiny-seed-oss\",\"messages\":[{\"role\":\"user\",\"content\":\"hello $round $i\"}],\"max_tokens\":24,\"stream\":$stream}" \
      >/dev/null &
  done
  wait -n 2>/dev/null || true
  sleep 1
done
curl -s "http://127.0.0.1:$PORT/v1/does-not-exist" >/dev/null || true
sleep 8

# Every dashboard expression returns data ($job, $instance: all; $__rate_interval: 1m).
node -e '
const d = require(process.argv[1]);
for (const p of d.panels.flatMap((p) => [p, ...(p.panels ?? [])])) for (const t of p.targets ?? [])
  console.log(JSON.stringify({ title: p.title, expr: t.expr.replaceAll("$job", ".*").replaceAll("$instance", ".*").replaceAll("$__rate_interval", "1m") }));
' "$PWD/deploy/grafana/dashboards/tpserve.json" >"$tmp/exprs.jsonl"
numEmpty=0
while IFS= read -r line; do
  title=$(node -e 'console.log(JSON.parse(process.argv[1]).title)' "$line")
  expr=$(node -e 'console.log(JSON.parse(process.argv[1]).expr)' "$line")
  result=$(api query --data-urlencode "query=$expr" || echo '{"status":"error"}')
  if node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.status === "success" && r.data.result.some((x) => x.value[1] !== "NaN") ? 0 : 1)' "$result"; then
    echo "ok    panel '$title': $expr"
  else
    numEmpty=$((numEmpty + 1))
    echo "FAIL  panel '$title': $expr -> $result"
  fi
done <"$tmp/exprs.jsonl"
[ "$numEmpty" = 0 ] || fail "$numEmpty dashboard expressions returned no data"

# Rules: all evaluated without error; no tpserve alert on a healthy server.
sleep 3
api rules >"$tmp/rules.json"
node -e '
const r = require(process.argv[1]);
const rules = r.data.groups.flatMap((g) => g.rules);
const bad = rules.filter((x) => x.health !== "ok");
if (rules.length === 0 || bad.length) { console.error(JSON.stringify(bad, null, 1)); process.exit(1); }
const active = rules.filter((x) => x.type === "alerting" && x.state !== "inactive" && x.name !== "TpservePodNotReady");
if (active.length) { console.error("active on a healthy server:", active.map((x) => x.name).join(", ")); process.exit(1); }
console.log(`ok    ${rules.length} rules evaluate without error; no alert on the healthy server`);
' "$tmp/rules.json" || fail "rules"

# Worker down: kill rank 1's process (the second worker the coordinator spawned).
worker=$(pgrep -P "$coordinator" | sort -n | sed -n 2p)
[ -n "$worker" ] || fail "no worker process found under the coordinator"
kill "$worker"
for _ in $(seq 30); do
  api alerts | grep -q '"alertname":"TpserveWorkerDown"' && break
  sleep 1
done
api query --data-urlencode 'query=tpserve_worker_up == 0' | grep -q '"rank"' || fail "tpserve_worker_up did not drop to 0"
api alerts | grep -q '"alertname":"TpserveWorkerDown"' || fail "TpserveWorkerDown is not pending"
echo "ok    killing a worker: tpserve_worker_up 0 for rank $(api query --data-urlencode 'query=tpserve_worker_up == 0' | sed -E 's/.*"rank":"([0-9]+)".*/\1/'), TpserveWorkerDown pending"
echo "smoke: all checks passed"
