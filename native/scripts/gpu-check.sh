#!/usr/bin/env bash
# gpu-check.sh: one-shot GPU check of the native engine on a machine with an NVIDIA GPU and
# nothing but CUDA, CMake (>= 3.22) and a C++ compiler (no Node, no network). Within one time
# budget (GPU_CHECK_BUDGET, default 420 s: every step's limit is cut to what is left of it) it
#   1. builds native/ with CUDA for this GPU's architecture (build dir native/build-gpu);
#   2. runs the op parity tests (every CUDA op vs its CPU twin, the quantized int8 / int4 / fp8
#      linear vs the CPU kernels (CudaQuantized), the CUDA backend, CUDA-graph replay vs eager,
#      NCCL) — gtest;
#   3. runs the model parity check (tiny checkpoint written in C++: CPU vs CUDA engine logits,
#      eager vs CUDA-graph decode) — no gtest needed;
#   4. runs the quantized linear benchmark (decode GEMV GB/s and prefill TFLOP/s of bf16, int8,
#      int4, fp8 on one Seed-OSS layer's linears) and the Seed-OSS-36B-shaped benchmark (random
#      bf16 weights made on the device);
#   5. runs native/scripts/hf_baseline.py on fixtures/seed-oss/config.json (transformers on the
#      same shape and layer count, the copy
#      bandwidth and bf16 GEMM rate) when python3 has torch and transformers;
# prints a summary, then the benchmark table; log, gpu-check.json and the benchmark JSONs go to
# $OUT when it is set (else native/build-gpu/logs).
#   bash native/scripts/gpu-check.sh [--layers N]   N: decoder layers of both benchmarks (default:
#                                                    64, or 40 on a GPU under 100 GB so weights and
#                                                    batch-64 KV fit)
#
# Prepare on a machine that has the dependencies (no GPU needed), then carry the folder:
#   bash native/scripts/gpu-check.sh --prepare
#     - native/build-thirdparty/: nlohmann/json.hpp (/usr/include) and the googletest source
#       (/usr/src/googletest), both ignored by git through native/build*/.
#   device tool: carry ["native/build-thirdparty"]  (docs/cuda-backend.md)
# Overrides: NLOHMANN_JSON_INCLUDE=<dir holding nlohmann/json.hpp>  GTEST_SOURCE=<googletest tree>
#   GPU_CHECK_BENCH_ARGS="--context 2048" (extra seed_oss_bench options)  GPU_CHECK_JOBS=<build jobs>
#   GPU_CHECK_ARCHS="90" (default: the GPU's own)  GPU_CHECK_VENDORED=1 (the carried gtest even if
#   the system has one)  GPU_CHECK_BUDGET=<seconds>  GPU_CHECK_SKIP_HF=1
# Exit status: 0 when every step that ran passed (a step skipped for a missing dependency is
# reported as such), 1 otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NATIVE="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$NATIVE/.." && pwd)"
THIRD="$NATIVE/build-thirdparty"
BUILD="$NATIVE/build-gpu"
START=$(date +%s)
BUDGET="${GPU_CHECK_BUDGET:-420}"
LAYERS=""

if [[ "${1:-}" == "--prepare" ]]; then
  mkdir -p "$THIRD/include"
  src_json="${NLOHMANN_JSON_INCLUDE:-/usr/include}/nlohmann"
  [[ -f "$src_json/json.hpp" ]] || { echo "no nlohmann/json.hpp under $src_json" >&2; exit 1; }
  rm -rf "$THIRD/include/nlohmann" && cp -r "$src_json" "$THIRD/include/"
  src_gtest="${GTEST_SOURCE:-/usr/src/googletest}"
  [[ -f "$src_gtest/CMakeLists.txt" ]] || { echo "no googletest source at $src_gtest" >&2; exit 1; }
  rm -rf "$THIRD/googletest" && cp -r "$src_gtest" "$THIRD/googletest"
  du -sh "$THIRD"
  echo "prepared: carry [\"native/build-thirdparty\"] to the GPU machine"
  exit 0
fi
while [[ $# -gt 0 ]]; do
  case "$1" in
    --layers) LAYERS="${2:-}"; shift 2 ;;
    *) echo "gpu-check.sh: unknown option $1 (options: --prepare, --layers N)" >&2; exit 2 ;;
  esac
done
[[ -z "$LAYERS" || "$LAYERS" =~ ^[1-9][0-9]*$ ]] || { echo "gpu-check.sh: --layers needs a positive integer" >&2; exit 2; }

LOGDIR="${OUT:-$BUILD/logs}"
mkdir -p "$LOGDIR" "$BUILD"
LOG="$LOGDIR/gpu-check.log"
: >"$LOG"
SUMMARY=()
FAILED=0
say() { echo "[gpu-check $(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }
STEPS_JSON=()
# step NAME TIMEOUT_S CMD...: runs CMD with a time limit (cut to what is left of the budget),
# output to the log; records the result. Exit 77 from CMD means skipped.
step() {
  local name="$1" limit="$2"; shift 2
  local left=$(( BUDGET - ($(date +%s) - START) ))
  (( limit > left )) && limit=$left
  if (( limit < 5 )); then
    SUMMARY+=("$(printf '%-22s NO TIME  (budget %ss spent)' "$name" "$BUDGET")"); FAILED=1
    STEPS_JSON+=("{\"name\":\"$name\",\"status\":\"no-time\",\"seconds\":0,\"limit\":0}")
    say "== $name: skipped, the ${BUDGET}s budget is spent"
    return 124
  fi
  local t0=$(date +%s) rc
  say "== $name (limit ${limit}s): $*"
  timeout --kill-after=5 "$limit" "$@" >>"$LOG" 2>&1
  rc=$?
  record "$name" $rc $(( $(date +%s) - t0 )) "$limit"
  return $rc
}

# record NAME EXIT SECONDS LIMIT: one line of the summary and one entry of gpu-check.json.
record() {
  local name="$1" rc="$2" dt="$3" limit="$4" status
  case $rc in
    0) status=pass; SUMMARY+=("$(printf '%-22s PASS     %4ss' "$name" "$dt")") ;;
    77) status=skipped; SUMMARY+=("$(printf '%-22s SKIPPED  %4ss' "$name" "$dt")") ;;
    124|137) status=timeout; SUMMARY+=("$(printf '%-22s TIMEOUT  %4ss (limit %ss)' "$name" "$dt" "$limit")"); FAILED=1 ;;
    *) status=fail; SUMMARY+=("$(printf '%-22s FAIL(%s) %4ss' "$name" "$rc" "$dt")"); FAILED=1 ;;
  esac
  STEPS_JSON+=("{\"name\":\"$name\",\"status\":\"$status\",\"exit\":$rc,\"seconds\":$dt,\"limit\":$limit}")
  say "   $name: exit $rc after ${dt}s"
}

say "cmake: $(cmake --version 2>/dev/null | head -1 || echo 'not found')"
command -v cmake >/dev/null || { say "cmake not found: install CMake >= 3.22"; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv \
  | tee -a "$LOG"
command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { say "nvcc not found: install the CUDA toolkit"; exit 1; }

# The GPU's architecture (9.0 → 90); both sm_80 and sm_90 when it cannot be read.
ARCH="${GPU_CHECK_ARCHS:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')}"
[[ "$ARCH" =~ ^[0-9\;]+$ ]] || ARCH="80;90"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
GPU_MIB=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null | head -1 | tr -d ' ')
# Both benchmarks on the same layer count: all 64 where weights (72 GB) and KV fit, else 40.
if [[ -z "$LAYERS" ]]; then
  if [[ "$GPU_MIB" =~ ^[0-9]+$ ]] && (( GPU_MIB < 100000 )); then LAYERS=40; else LAYERS=64; fi
fi
say "GPU: ${GPU_NAME:-unknown} (${GPU_MIB:-?} MiB), sm $ARCH; benchmarks at $LAYERS layers"

# cuBLASLt and NCCL are opened at run time: put the folders that hold them on the loader path
# (the CUDA toolkit, or NVIDIA's Python wheels of the image).
for lib in libcublasLt.so.13 libcublasLt.so.12 libnccl.so.2; do
  dir=$(timeout 20 find /usr/local /usr/lib /opt -name "$lib" -not -path '*/stubs/*' 2>/dev/null | head -1 | xargs -r dirname)
  if [[ -n "$dir" ]]; then
    say "found $lib in $dir"
    export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
done

CMAKE_ARGS=(-DCMAKE_BUILD_TYPE=Release -DTPSERVE_WITH_CUDA=ON "-DTPSERVE_CUDA_ARCHS=$ARCH" -DTPSERVE_BUILD_BENCH=ON)
command -v ninja >/dev/null && CMAKE_ARGS+=(-G Ninja)
[[ -n "${CUDACXX:-}" ]] || CMAKE_ARGS+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")

# nlohmann-json: the carried headers behind a generated CMake package when the system has none.
JSON_INC="${NLOHMANN_JSON_INCLUDE:-$THIRD/include}"
if [[ -f "$JSON_INC/nlohmann/json.hpp" ]]; then
  pkg="$BUILD/deps/nlohmann_json"
  mkdir -p "$pkg"
  cat >"$pkg/nlohmann_jsonConfig.cmake" <<EOF
if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$JSON_INC")
endif()
EOF
  printf 'set(PACKAGE_VERSION "3.11.0")\nset(PACKAGE_VERSION_COMPATIBLE TRUE)\n' >"$pkg/nlohmann_jsonConfigVersion.cmake"
  CMAKE_ARGS+=("-Dnlohmann_json_DIR=$pkg")
  say "nlohmann-json from $JSON_INC"
fi

# The seed's own path (transformers) on the same shape and layer count runs on the GPU while the
# CPU builds tpserve (the build is niced, so the Python process keeps its core); it finishes
# before any tpserve step uses the GPU.
HF="$HERE/hf_baseline.py"
HF_CONFIG="$REPO/fixtures/seed-oss/config.json"
HF_PID=""
HF_LIMIT=200
NICE=()
if [[ "${GPU_CHECK_SKIP_HF:-0}" == 1 ]]; then
  SUMMARY+=("$(printf '%-22s SKIPPED  (GPU_CHECK_SKIP_HF=1)' hf-baseline)")
elif [[ ! -f "$HF" || ! -f "$HF_CONFIG" ]]; then
  SUMMARY+=("$(printf '%-22s SKIPPED  (no %s or %s)' hf-baseline "$HF" "$HF_CONFIG")")
elif ! python3 -c "import torch, transformers" >/dev/null 2>&1; then
  SUMMARY+=("$(printf '%-22s SKIPPED  (python3 lacks torch or transformers)' hf-baseline)")
else
  say "== hf-baseline (limit ${HF_LIMIT}s, in the background): python3 $HF --layers $LAYERS"
  rm -f "$BUILD/hf-baseline.rc"
  (
    t0=$(date +%s)
    timeout --kill-after=5 "$HF_LIMIT" python3 "$HF" --layers "$LAYERS" --config "$HF_CONFIG" \
      --json "$LOGDIR/hf_baseline.json" >"$BUILD/hf-baseline.log" 2>&1
    echo "$? $(( $(date +%s) - t0 ))" >"$BUILD/hf-baseline.rc"
  ) &
  HF_PID=$!
  NICE=(nice -n 15)
fi

# gtest: the system's, else built from the carried source, else the gtest steps are skipped.
JOBS="${GPU_CHECK_JOBS:-$(nproc)}"
HAVE_GTEST=0
SYSTEM_GTEST=0
for f in /usr/lib/*/cmake/GTest/GTestConfig.cmake /usr/lib/cmake/GTest/GTestConfig.cmake \
         /usr/local/lib/cmake/GTest/GTestConfig.cmake; do
  [[ -f "$f" ]] && SYSTEM_GTEST=1
done
if [[ "${GPU_CHECK_VENDORED:-0}" != 1 && $SYSTEM_GTEST == 1 ]]; then
  HAVE_GTEST=1
else
  GT_SRC="${GTEST_SOURCE:-$THIRD/googletest}"
  if [[ -f "$GT_SRC/CMakeLists.txt" ]]; then
    if [[ ! -f "$BUILD/deps/gtest/lib/cmake/GTest/GTestConfig.cmake" ]] && [[ ! -f "$BUILD/deps/gtest/lib64/cmake/GTest/GTestConfig.cmake" ]]; then
      step gtest-build 60 "${NICE[@]}" bash -c "cmake -S '$GT_SRC' -B '$BUILD/deps/gtest-build' -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON -DCMAKE_INSTALL_PREFIX='$BUILD/deps/gtest' \
        && cmake --build '$BUILD/deps/gtest-build' -j $JOBS && cmake --install '$BUILD/deps/gtest-build'"
    fi
    [[ -d "$BUILD/deps/gtest" ]] && HAVE_GTEST=1 && CMAKE_ARGS+=("-DGTest_ROOT=$BUILD/deps/gtest")
  fi
fi
if [[ $HAVE_GTEST == 0 ]]; then
  say "gtest not available (run --prepare where it is and carry native/build-thirdparty): op parity skipped"
  CMAKE_ARGS+=(-DTPSERVE_BUILD_TESTS=OFF)
fi

BUILD_RC=1
if step configure 40 "${NICE[@]}" cmake -S "$NATIVE" -B "$BUILD" "${CMAKE_ARGS[@]}"; then
  step build 170 "${NICE[@]}" cmake --build "$BUILD" -j "$JOBS" && BUILD_RC=0
fi

# Wait for the transformers baseline before tpserve touches the GPU (their timings must not overlap).
if [[ -n "$HF_PID" ]]; then
  wait "$HF_PID"
  read -r hf_rc hf_dt <"$BUILD/hf-baseline.rc" || { hf_rc=1; hf_dt=0; }
  cat "$BUILD/hf-baseline.log" >>"$LOG"
  record hf-baseline "$hf_rc" "$hf_dt" "$HF_LIMIT"
  HF_PID=""
fi

if [[ $BUILD_RC == 0 ]]; then
  if [[ $HAVE_GTEST == 1 && -x "$BUILD/tpserve_tests" ]]; then
    step op-parity 60 "$BUILD/tpserve_tests" --gtest_brief=1 '--gtest_filter=*Cuda*:CudaQuantized*:Nccl*:OpTable*'
  else
    SUMMARY+=("$(printf '%-22s SKIPPED  (no gtest)' op-parity)")
  fi
  step model-parity 40 "$BUILD/model_parity"
  step quantized-bench 30 bash -c "set -o pipefail; '$BUILD/quantized_linear_bench' --reps 10 \
    --json '$LOGDIR/quantized_linear_bench.json' | tee '$BUILD/quantized-table.txt'"
  # shellcheck disable=SC2086
  step seed-oss-bench 100 bash -c "set -o pipefail; '$BUILD/seed_oss_bench' --layers $LAYERS ${GPU_CHECK_BENCH_ARGS:-} \
    --json '$LOGDIR/seed_oss_bench.json' | tee '$BUILD/bench-table.txt'"
fi


{
  echo
  echo "== gpu-check summary ($(( $(date +%s) - START ))s; log: $LOG) =="
  printf '%s\n' "${SUMMARY[@]}"
  grep -E "model_parity:|engine cpu vs cuda|eager vs cuda graphs" "$LOG" | tail -6
  grep -E "^\[  (FAILED|PASSED|SKIPPED) " "$LOG" | tail -12
  [[ -f "$BUILD/bench-table.txt" ]] && sed -n '/^== Seed-OSS/,$p' "$BUILD/bench-table.txt"
  [[ -f "$BUILD/quantized-table.txt" ]] && sed -n '/^== Quantized/,$p' "$BUILD/quantized-table.txt"
  grep -E "^(copy|transformers batch)" "$LOG" | tail -3
} | tee "$LOGDIR/gpu-check-summary.txt"
{
  printf '{"gpu":"%s","gpu_mib":"%s","arch":"%s","layers":%s,"budget_s":%s,"seconds":%s,"passed":%s,\n "steps":[' \
    "${GPU_NAME:-unknown}" "${GPU_MIB:-}" "$ARCH" "$LAYERS" "$BUDGET" "$(( $(date +%s) - START ))" \
    "$([[ $FAILED == 0 ]] && echo true || echo false)"
  (IFS=,; printf '%s' "${STEPS_JSON[*]}")
  printf '],\n "seed_oss_bench":"%s","quantized_linear_bench":"%s","hf_baseline":"%s"}\n' \
    "$([[ -f "$LOGDIR/seed_oss_bench.json" ]] && echo seed_oss_bench.json)" \
    "$([[ -f "$LOGDIR/quantized_linear_bench.json" ]] && echo quantized_linear_bench.json)" \
    "$([[ -f "$LOGDIR/hf_baseline.json" ]] && echo hf_baseline.json)"
} >"$LOGDIR/gpu-check.json"
exit $FAILED
