#!/usr/bin/env bash
# The time between steps (issue 13) as `tpserve bench` measures it: for each server variant,
# starts `tpserve serve`, warms it up, runs one bench and prints one JSON line (gap mean, median,
# p99, share <= 0.1 ms, wait by cause, API/engine when --compare-engine is on). Results and
# each step's trace (--step-trace) go to OUT_DIR. Usage:
#   scripts/step-gap-bench.sh MODEL_DIR [CONCURRENCY] [NUM_PROMPTS] [VARIANT...]
# a VARIANT is a comma-separated list of extra serve flags, e.g. "--steps-ahead,1" or
# "--async-scheduling,off" (default: "--steps-ahead,2" "--steps-ahead,1" "--async-scheduling,off").
# Environment: PORT (18531), OUT_DIR (./step-gap-results), OUTPUT_LEN (64), BENCH_ARGS (extra
# bench flags, e.g. "--compare-engine MODEL_DIR --engine-threads 1 --rounds 1"), THREADS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: scripts/step-gap-bench.sh MODEL_DIR [CONCURRENCY] [NUM_PROMPTS] [VARIANT...]}
C=${2:-16}
N=${3:-48}
shift $(( $# < 3 ? $# : 3 ))
VARIANTS=("$@")
[ ${#VARIANTS[@]} -eq 0 ] && VARIANTS=("--steps-ahead,2" "--steps-ahead,1" "--async-scheduling,off")
PORT=${PORT:-18531}
OUT_DIR=${OUT_DIR:-step-gap-results}
mkdir -p "$OUT_DIR"
for variant in "${VARIANTS[@]}"; do
  IFS=',' read -r -a flags <<< "$variant"
  tag="c${C}$(echo "$variant" | tr -c 'a-z0-9' '_')"
  trace="$OUT_DIR/$tag.trace.jsonl"
  rm -f "$trace"
  node bin/tpserve.js serve --model "$MODEL" --tp 1 --threads "${THREADS:-1}" --port "$PORT" --step-trace "$trace" "${flags[@]}" > "$OUT_DIR/$tag.serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$PORT/ready" > /dev/null && break; sleep 0.5; done
  node bin/tpserve.js bench --port "$PORT" --max-concurrency "$C" --num-prompts "$C" --input-len 128 --output-len 16 > /dev/null 2>&1 # warm-up
  : > "$trace"
  # shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
  node bin/tpserve.js bench --port "$PORT" --max-concurrency "$C" --num-prompts "$N" --input-len 128 --output-len "${OUTPUT_LEN:-64}" \
    ${BENCH_ARGS:-} --result-file "$OUT_DIR/$tag.json" > /dev/null 2> "$OUT_DIR/$tag.bench.txt" || true
  kill "$server"
  wait "$server" 2> /dev/null || true
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const g = r.server?.gap ?? {};
    console.log(JSON.stringify({ variant: process.argv[2], concurrency: r.config.maxConcurrency, outputTokPerS: r.summary.outputTokensPerS,
      gapMeanMs: g.meanMs, gapMedianMs: g.medianMs, gapP99Ms: g.p99Ms, fractionUnder100us: g.fractionUnder100us, waitByCause: g.byCause,
      apiOverEngine: r.servingOverhead ?? null, loadAvg1: r.machine.loadAvg1 }));
  ' "$OUT_DIR/$tag.json" "$variant"
done
