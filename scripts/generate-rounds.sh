#!/usr/bin/env bash
# Issue 11's Must show, repeated: ROUNDS rounds of `tpserve generate --bandwidth-floor` in bf16,
# int8 and int4 (--quantize-lm-head), one command after the other, on one model. Prints one JSON
# line a round: each format's decode tok/s, % of the bandwidth floor and the GB/s probed after it,
# the int8 and int4 speed-ups over that round's bf16, and whether all three targets were met
# (bf16 >= 80 % of the floor, int8 >= 1.8x, int4 >= 3x). Results: docs/benchmarks.md. Usage:
#   scripts/generate-rounds.sh MODEL_DIR [ROUNDS]
# MODEL_DIR: the 246M shape, e.g. `tpserve make-tiny-model --out DIR --layers 16 --hidden 1024
# --intermediate 2816 --heads 16 --kv-heads 4 --head-dim 64 --vocab 32000 --no-attention-bias`.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: scripts/generate-rounds.sh MODEL_DIR [ROUNDS]}
ROUNDS=${2:-4}
for round in $(seq 1 "$ROUNDS"); do
  declare -A tps pct gbps
  for q in none int8 int4; do
    extra=()
    [ "$q" != none ] && extra=(--quantization "$q" --quantize-lm-head)
    out=$(node bin/tpserve.js generate --model "$MODEL" "${extra[@]}" --prompt "The quick brown fox" --max-tokens 128 \
      --ignore-eos --temperature 0 --bandwidth-floor 2>&1 >/dev/null)
    tps[$q]=$(sed -n 's/.*decode: [0-9]* tokens in [0-9]* ms (\([0-9.]*\) tok\/s.*/\1/p' <<< "$out")
    pct[$q]=$(sed -n 's/.*decode at \([0-9.]*\) % of the bandwidth floor.*/\1/p' <<< "$out")
    gbps[$q]=$(sed -n 's/.* at \([0-9.]*\) GB\/s read.*/\1/p' <<< "$out")
    [ -n "${tps[$q]}" ] || { echo "generate ($q) printed no decode speed:" >&2; echo "$out" >&2; exit 1; }
  done
  node -e '
    const [round, b, i8, i4, pb, p8, p4, gb, g8, g4] = process.argv.slice(1).map(Number);
    const r8 = i8 / b, r4 = i4 / b;
    console.log(JSON.stringify({
      round,
      bf16: { tokensPerS: b, percentOfFloor: pb, probeGBps: gb },
      int8: { tokensPerS: i8, percentOfFloor: p8, probeGBps: g8, speedupOverBf16: +r8.toFixed(3) },
      int4: { tokensPerS: i4, percentOfFloor: p4, probeGBps: g4, speedupOverBf16: +r4.toFixed(3) },
      targetsMet: pb >= 80 && r8 >= 1.8 && r4 >= 3,
    }));' "$round" "${tps[none]}" "${tps[int8]}" "${tps[int4]}" "${pct[none]}" "${pct[int8]}" "${pct[int4]}" \
    "${gbps[none]}" "${gbps[int8]}" "${gbps[int4]}"
done
