#!/usr/bin/env bash
# Issue 11's Must show, repeated: ROUNDS rounds of `tpserve generate --bandwidth-floor` in bf16,
# int8 and int4 (--quantize-lm-head) on one model. A round runs the three formats in the order
# bf16 int8 int4 int4 int8 bf16 (A B C C B A), so that a host whose read bandwidth drifts during the
# round (this shared machine's moves by tens of GB/s within minutes) weighs on each format alike:
# a format's speed is the mean of its two runs' ms a token, its % of the floor the mean of the two.
# Prints one JSON line a round: per format tok/s, % of the floor, the GB/s probed after each run
# and each run's tok/s; the int8 and int4 speed-ups over that round's bf16; and whether all three
# targets were met (bf16 >= 80 % of the floor, int8 >= 1.8x, int4 >= 3x). Results in
# docs/benchmarks.md. Usage:
#   scripts/generate-rounds.sh MODEL_DIR [ROUNDS]
# MODEL_DIR: the 246M shape, e.g. `tpserve make-tiny-model --out DIR --layers 16 --hidden 1024
# --intermediate 2816 --heads 16 --kv-heads 4 --head-dim 64 --vocab 32000 --no-attention-bias`.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: scripts/generate-rounds.sh MODEL_DIR [ROUNDS]}
ROUNDS=${2:-4}
[ -f "$MODEL/config.json" ] || { echo "generate-rounds: $MODEL has no config.json" >&2; exit 2; }
for round in $(seq 1 "$ROUNDS"); do
  runs=()  # "format tok/s pct GB/s" per run, in order
  for q in none int8 int4 int4 int8 none; do
    extra=()
    [ "$q" != none ] && extra=(--quantization "$q" --quantize-lm-head)
    out=$(node bin/tpserve.js generate --model "$MODEL" "${extra[@]}" --prompt "The quick brown fox" --max-tokens 128 \
      --ignore-eos --temperature 0 --bandwidth-floor 2>&1 >/dev/null) || { echo "generate ($q) failed:" >&2; echo "$out" >&2; exit 1; }
    tps=$(sed -n 's/.*decode: [0-9]* tokens in [0-9]* ms (\([0-9.]*\) tok\/s.*/\1/p' <<< "$out")
    pct=$(sed -n 's/.*decode at \([0-9.]*\) % of the bandwidth floor.*/\1/p' <<< "$out")
    gbps=$(sed -n 's/.* at \([0-9.]*\) GB\/s read.*/\1/p' <<< "$out")
    [ -n "$tps" ] && [ -n "$pct" ] && [ -n "$gbps" ] || { echo "generate ($q) printed no decode speed:" >&2; echo "$out" >&2; exit 1; }
    runs+=("${q/none/bf16} $tps $pct $gbps")
  done
  node -e '
    const round = Number(process.argv[1]);
    const byFormat = {};
    for (const run of process.argv.slice(2)) {
      const [format, tps, pct, gbps] = run.split(" ");
      (byFormat[format] ??= []).push({ tps: Number(tps), pct: Number(pct), gbps: Number(gbps) });
    }
    const summary = (format) => {
      const runs = byFormat[format];
      const msPerToken = runs.reduce((s, r) => s + 1000 / r.tps, 0) / runs.length;
      return {
        tokensPerS: +(1000 / msPerToken).toFixed(1),
        percentOfFloor: +(runs.reduce((s, r) => s + r.pct, 0) / runs.length).toFixed(1),
        probeGBps: runs.map((r) => r.gbps),
        runsTokensPerS: runs.map((r) => r.tps),
      };
    };
    const bf16 = summary("bf16"), int8 = summary("int8"), int4 = summary("int4");
    const r8 = int8.tokensPerS / bf16.tokensPerS, r4 = int4.tokensPerS / bf16.tokensPerS;
    console.log(JSON.stringify({
      round,
      bf16,
      int8: { ...int8, speedupOverBf16: +r8.toFixed(3) },
      int4: { ...int4, speedupOverBf16: +r4.toFixed(3) },
      targetsMet: bf16.percentOfFloor >= 80 && r8 >= 1.8 && r4 >= 3,
    }));' "$round" "${runs[@]}"
done
