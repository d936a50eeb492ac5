#!/usr/bin/env bash
# gpu-check.sh: one-shot GPU check of the native engine on a machine with an NVIDIA GPU and
# nothing but CUDA, CMake and a C++ compiler (no Node, no network). In under 8 minutes it
#   1. builds native/ with CUDA for this GPU's architecture (build dir native/build-gpu);
#   2. runs the op parity tests (every CUDA op vs its CPU twin, the CUDA backend, NCCL) — gtest;
#   3. runs the model parity check (tiny checkpoint written in C++: CPU vs CUDA engine logits,
#      eager vs CUDA-graph decode) — no gtest needed;
#   4. runs the Seed-OSS-36B-shaped benchmark (random bf16 weights made on the device);
# prints a summary, then the benchmark table last; logs and JSON go to $OUT when it is set.
#
# Dependencies the GPU machine may lack: gtest and nlohmann-json. Prepare them on a machine that
# has them (they land in native/build-thirdparty/, ignored by git through native/build*/):
#   bash native/scripts/gpu-check.sh --prepare        # copies /usr/include/nlohmann, /usr/src/googletest
# and carry that folder along (device tool: carry ["native/build-thirdparty"]). Overrides:
#   NLOHMANN_JSON_INCLUDE=<dir holding nlohmann/json.hpp>   GTEST_SOURCE=<googletest source tree>
#   GPU_CHECK_BENCH_ARGS="--layers 64"   (extra seed_oss_bench options)   GPU_CHECK_JOBS=<build jobs>
#   GPU_CHECK_ARCHS="90" (default: the GPU's own)   GPU_CHECK_VENDORED=1 (use the carried gtest even if the system has one)
# Exit status: 0 when every step that ran passed (a step skipped for a missing dependency is
# reported as such), 1 otherwise.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NATIVE="$(cd "$HERE/.." && pwd)"
THIRD="$NATIVE/build-thirdparty"
BUILD="$NATIVE/build-gpu"
START=$(date +%s)

if [[ "${1:-}" == "--prepare" ]]; then
  mkdir -p "$THIRD/include"
  src_json="${NLOHMANN_JSON_INCLUDE:-/usr/include}/nlohmann"
  [[ -f "$src_json/json.hpp" ]] || { echo "no nlohmann/json.hpp under $src_json" >&2; exit 1; }
  rm -rf "$THIRD/include/nlohmann" && cp -r "$src_json" "$THIRD/include/"
  src_gtest="${GTEST_SOURCE:-/usr/src/googletest}"
  [[ -f "$src_gtest/CMakeLists.txt" ]] || { echo "no googletest source at $src_gtest" >&2; exit 1; }
  rm -rf "$THIRD/googletest" && cp -r "$src_gtest" "$THIRD/googletest"
  du -sh "$THIRD"
  echo "prepared $THIRD: carry native/build-thirdparty to the GPU machine"
  exit 0
fi

LOGDIR="${OUT:-$BUILD/logs}"
mkdir -p "$LOGDIR" "$BUILD"
LOG="$LOGDIR/gpu-check.log"
: >"$LOG"
SUMMARY=()
FAILED=0
say() { echo "[gpu-check $(( $(date +%s) - START ))s] $*" | tee -a "$LOG"; }
# step NAME TIMEOUT_S CMD...: runs CMD with a time limit, output to the log; records the result.
# Exit 77 from CMD means skipped.
step() {
  local name="$1" limit="$2"; shift 2
  local t0=$(date +%s) rc
  say "== $name: $*"
  timeout --kill-after=10 "$limit" "$@" >>"$LOG" 2>&1
  rc=$?
  local dt=$(( $(date +%s) - t0 ))
  case $rc in
    0) SUMMARY+=("$(printf '%-22s PASS     %4ss' "$name" "$dt")") ;;
    77) SUMMARY+=("$(printf '%-22s SKIPPED  %4ss' "$name" "$dt")") ;;
    124|137) SUMMARY+=("$(printf '%-22s TIMEOUT  %4ss (limit %ss)' "$name" "$dt" "$limit")"); FAILED=1 ;;
    *) SUMMARY+=("$(printf '%-22s FAIL(%s) %4ss' "$name" "$rc" "$dt")"); FAILED=1 ;;
  esac
  say "   $name: exit $rc after ${dt}s"
  return $rc
}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv \
  | tee -a "$LOG"
command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { say "nvcc not found: install the CUDA toolkit"; exit 1; }

# The GPU's architecture (9.0 → 90); both sm_80 and sm_90 when it cannot be read.
ARCH="${GPU_CHECK_ARCHS:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')}"
[[ "$ARCH" =~ ^[0-9\;]+$ ]] || ARCH="80;90"

# cuBLASLt and NCCL are opened at run time: put the folders that hold them on the loader path
# (the CUDA toolkit, or NVIDIA's Python wheels of the image).
for lib in libcublasLt.so.13 libcublasLt.so.12 libnccl.so.2; do
  dir=$(find /usr/local /usr/lib /opt -name "$lib" -not -path '*/stubs/*' 2>/dev/null | head -1 | xargs -r dirname)
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

# gtest: the system's, else built from the carried source, else the gtest steps are skipped.
JOBS="${GPU_CHECK_JOBS:-$(nproc)}"
HAVE_GTEST=0
if [[ "${GPU_CHECK_VENDORED:-0}" != 1 ]] && ls /usr/lib/*/cmake/GTest/GTestConfig.cmake \
      /usr/lib/cmake/GTest/GTestConfig.cmake /usr/local/lib/cmake/GTest/GTestConfig.cmake >/dev/null 2>&1; then
  HAVE_GTEST=1
else
  GT_SRC="${GTEST_SOURCE:-$THIRD/googletest}"
  if [[ -f "$GT_SRC/CMakeLists.txt" ]]; then
    if [[ ! -f "$BUILD/deps/gtest/lib/cmake/GTest/GTestConfig.cmake" ]] && [[ ! -f "$BUILD/deps/gtest/lib64/cmake/GTest/GTestConfig.cmake" ]]; then
      step gtest-build 240 bash -c "cmake -S '$GT_SRC' -B '$BUILD/deps/gtest-build' -DCMAKE_BUILD_TYPE=Release \
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
if step configure 120 cmake -S "$NATIVE" -B "$BUILD" "${CMAKE_ARGS[@]}"; then
  step build 360 cmake --build "$BUILD" -j "$JOBS" && BUILD_RC=0
fi

if [[ $BUILD_RC == 0 ]]; then
  if [[ $HAVE_GTEST == 1 && -x "$BUILD/tpserve_tests" ]]; then
    step op-parity 240 "$BUILD/tpserve_tests" --gtest_brief=1 '--gtest_filter=*Cuda*:Nccl*:OpTable*'
  else
    SUMMARY+=("$(printf '%-22s SKIPPED  (no gtest)' op-parity)")
  fi
  step model-parity 180 "$BUILD/model_parity"
  # shellcheck disable=SC2086
  step seed-oss-bench 300 bash -c "set -o pipefail; '$BUILD/seed_oss_bench' ${GPU_CHECK_BENCH_ARGS:-} \
    --json '$LOGDIR/seed_oss_bench.json' | tee '$BUILD/bench-table.txt'"
fi

{
  echo
  echo "== gpu-check summary ($(( $(date +%s) - START ))s; log: $LOG) =="
  printf '%s\n' "${SUMMARY[@]}"
  grep -E "model_parity:|engine cpu vs cuda|eager vs cuda graphs" "$LOG" | tail -3
  grep -E "^\[  (FAILED|PASSED|SKIPPED) " "$LOG" | tail -12
  [[ -f "$BUILD/bench-table.txt" ]] && sed -n '/^== Seed-OSS/,$p' "$BUILD/bench-table.txt"
} | tee "$LOGDIR/gpu-check-summary.txt"
exit $FAILED
