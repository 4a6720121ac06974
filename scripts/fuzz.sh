#!/usr/bin/env bash
# Fuzzes each libFuzzer target of an EMBER_FUZZ=ON build for a given time and reports what it did.
#   scripts/fuzz.sh <build-dir> <seconds-per-target> [target...]
# Targets are named as in fuzz/corpus/ (e.g. safetensors_header) or as the executables
# (safetensors_header_fuzz); the default is every target built. Each run starts from a scratch
# copy of the committed corpus (fuzz/corpus/<target>), so the repository is never written to, and
# uses fuzz/dict/<target>.dict when there is one.
# Prints per target: executions, executions per second, coverage (libFuzzer's cov: edges and ft:
# features at the end) and findings (crash, leak, timeout or out-of-memory inputs, copied to
# <build-dir>/fuzz-findings/<target>/). Exits 1 when any target found something.
# Environment: EMBER_FUZZ_FLAGS adds libFuzzer flags (e.g. -max_len=65536).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: scripts/fuzz.sh <build-dir> <seconds-per-target> [target...]" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$1" && pwd)
seconds=$2
shift 2

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for exe in "$build"/fuzz/*_fuzz; do
    [[ -x $exe ]] && targets+=("$(basename "$exe" _fuzz)")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz.sh: no fuzz targets in $build/fuzz (configure with CC=clang CXX=clang++ -DEMBER_FUZZ=ON)" >&2
  exit 2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ember-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
logs=$build/fuzz-logs
mkdir -p "$logs"

# The value of "stat::<name>: N" in a final-stats log (0 when absent).
stat() { grep -o "stat::$1: *[0-9]*" "$2" | tail -1 | grep -o '[0-9]*$' || echo 0; }

printf '%-22s %12s %9s %7s %7s %9s  %s\n' target execs exec/s cov ft corpus findings
status=0
for name in "${targets[@]}"; do
  name=${name%_fuzz}
  exe=$build/fuzz/${name}_fuzz
  if [[ ! -x $exe ]]; then
    echo "fuzz.sh: $exe is not built" >&2
    status=1
    continue
  fi
  corpus=$scratch/$name/corpus
  artifacts=$scratch/$name/artifacts
  mkdir -p "$corpus" "$artifacts"
  if [[ -d $here/fuzz/corpus/$name ]]; then
    cp -r "$here/fuzz/corpus/$name/." "$corpus/"
  fi
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -artifact_prefix="$artifacts/")
  if [[ -f $here/fuzz/dict/$name.dict ]]; then
    args+=(-dict="$here/fuzz/dict/$name.dict")
  fi
  log=$logs/$name.log
  # shellcheck disable=SC2086  # EMBER_FUZZ_FLAGS is a list of flags
  EMBER_SOURCE_DIR=$here ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    "$exe" "${args[@]}" ${EMBER_FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1 || true

  execs=$(stat number_of_executed_units "$log")
  per_second=$(stat average_exec_per_sec "$log")
  # The last status line ("#N  DONE  cov: 123 ft: 456 corp: 7/8Kb ...") holds the final coverage.
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  findings=()
  for f in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
    [[ -e $f ]] || continue
    mkdir -p "$build/fuzz-findings/$name"
    cp "$f" "$build/fuzz-findings/$name/"
    findings+=("$build/fuzz-findings/$name/$(basename "$f")")
  done
  summary=none
  if [[ ${#findings[@]} -gt 0 ]]; then
    summary="${#findings[@]}: ${findings[*]} (log: $log)"
    status=1
  elif ! grep -q 'Done [0-9]* runs' "$log"; then
    summary="run did not finish cleanly (log: $log)"  # e.g. died before fuzzing started
    status=1
  fi
  printf '%-22s %12s %9s %7s %7s %9s  %s\n' "$name" "$execs" "$per_second" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}" "$summary"
done
exit $status
