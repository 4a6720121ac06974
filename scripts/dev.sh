#!/usr/bin/env bash
# The two set-up commands of README.md:
#   scripts/dev.sh serve   install what is missing, build, start ember on the embedded default model
#   scripts/dev.sh test    install what is missing, build, run every test (release -Werror, then
#                          ASan+UBSan with the fuzz targets' corpora replayed, then the engine
#                          tests under TSan)
# Environment: EMBER_JOBS (parallel build jobs, default: nproc), EMBER_BUILD_ROOT (default: ./build).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
jobs=${EMBER_JOBS:-$(nproc)}
build_root=${EMBER_BUILD_ROOT:-$here/build}

configure_and_build() {  # dir, extra cmake args..., [--target targets...]
  local dir=$1
  shift
  local cmake_args=() targets=()
  while [[ $# -gt 0 && "$1" != "--target" ]]; do
    cmake_args+=("$1")
    shift
  done
  [[ $# -gt 0 ]] && shift && targets=(--target "$@")
  cmake -S "$here" -B "$dir" -G Ninja "${cmake_args[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs" "${targets[@]}"
}

cmd=${1:-}
shift || true
case "$cmd" in
  serve)
    bash scripts/install_deps.sh
    configure_and_build "$build_root/serve" -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
      -DEMBER_BUILD_BENCH=OFF
    # The embedded default model (models/kjv-llama, copied into the build tree); extra arguments
    # override the flags.
    exec "$build_root/serve/server/ember_server" \
      --model_dir="$build_root/serve/models/kjv-llama" \
      --grpc_address=0.0.0.0:50051 --http_address=0.0.0.0:8000 --metrics_address=0.0.0.0:9090 "$@"
    ;;
  test)
    bash scripts/install_deps.sh
    # ccache, in depend mode with paths relative to the repository: the sanitizer stage's test
    # objects have the release stage's exact compile commands (tests/CMakeLists.txt), so they come
    # from the cache instead of a second compile. The cache lives in the build root.
    if command -v ccache >/dev/null 2>&1; then
      export CCACHE_DIR=${CCACHE_DIR:-$build_root/ccache} CCACHE_BASEDIR=$here CCACHE_NOHASHDIR=1 \
        CCACHE_DEPEND=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
      launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
      ccache --zero-stats >/dev/null
    else
      launcher=()
    fi
    start=$(date +%s)
    stage_start=$(date +%s)
    echo "== release build (-Werror) and tests"
    configure_and_build "$build_root/release" -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON \
      "${launcher[@]}"
    ctest --test-dir "$build_root/release" --output-on-failure -j "$jobs" --timeout 900
    echo "== release stage took $(($(date +%s) - stage_start)) s"
    stage_start=$(date +%s)
    echo "== ASan+UBSan build and tests (with the fuzz corpora replayed)"
    # Sanitized code at -O1 -g1 (line tables): what the sanitizers recommend, and half the compile
    # time of -O2 -g. The build type stays Release so that test code (not instrumented) compiles
    # exactly as in the release stage, from the cache.
    # EMBER_FUZZ_REPLAY: the fuzz targets as plain corpus replayers (CTest label fuzz), so the
    # corpora run under ASan+UBSan without a third, clang, build; scripts/fuzz.sh fuzzes with clang.
    configure_and_build "$build_root/asan" -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON \
      -DEMBER_SANITIZE=address,undefined "-DEMBER_SANITIZE_OPTIMIZE=-O1 -g1" \
      -DEMBER_BUILD_BENCH=OFF -DEMBER_FUZZ_REPLAY=ON "${launcher[@]}"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      LSAN_OPTIONS=suppressions=$here/tests/lsan_suppressions.txt \
      ctest --test-dir "$build_root/asan" --output-on-failure -j "$jobs" --timeout 1800
    echo "== ASan+UBSan stage took $(($(date +%s) - stage_start)) s"
    stage_start=$(date +%s)
    echo "== ThreadSanitizer: the engine loop and scheduler tests (label engine)"
    # One OpenMP thread: libgomp is not TSan-instrumented, so its barriers would look like races;
    # what TSan checks here is the engine loop against the threads that Submit and Cancel.
    configure_and_build "$build_root/tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_WERROR=ON \
      -DEMBER_SANITIZE=thread -DEMBER_BUILD_BENCH=OFF \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
      --target engine_test engine_unit_test marian_engine_test
    OMP_NUM_THREADS=1 \
      TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tests/tsan/tsan_suppressions.txt \
      ctest --test-dir "$build_root/tsan" -L engine --output-on-failure -j "$jobs" --timeout 900
    echo "== TSan stage took $(($(date +%s) - stage_start)) s"
    if [[ ${#launcher[@]} -gt 0 ]]; then
      echo "== ccache: $(ccache --print-stats | awk -F'\t' '$1 ~ /^(direct_cache_hit|cache_miss)$/ {printf "%s %s ", $1, $2}')"
    fi
    echo "== all tests passed in $(($(date +%s) - start)) s"
    ;;
  *)
    echo "usage: scripts/dev.sh serve [server flags...] | scripts/dev.sh test" >&2
    exit 2
    ;;
esac
