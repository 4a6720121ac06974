#!/usr/bin/env bash
# Runs ember_engine_bench on full-shape random models (gpt2-124m, tinyllama-1.1b; f32, bf16, and
# bf16 checkpoints served as int8 / int4 weights), generating them into $EMBER_BENCH_MODELS
# (default /tmp/ember-models) when absent, and prints one table of every figure beside its bound
# measured in the same run.
#
#   bench/run_engine_bench.sh [BUILD_DIR] [-- extra ember_engine_bench flags]
#   EMBER_BENCH_CONFIGS="tinyllama-1.1b:bf16 tinyllama-1.1b:bf16:int4" bench/run_engine_bench.sh
# A config is preset:dtype[:weight_format]; the weight format (int8, int4: ember_server's
# --weight_format) quantizes the dtype checkpoint at load.
#   EMBER_BENCH_AUTOGROUP_NICE=-15 bench/run_engine_bench.sh   # on a machine shared with builds
#
# On a shared machine other jobs' threads preempt the benchmark's OpenMP team mid-barrier and
# figures collapse (10x). With sched_autogroup on (the default), `nice` only ranks threads inside
# one session, so EMBER_BENCH_AUTOGROUP_NICE runs each benchmark in a session of its own with that
# autogroup nice (needs root for negative values). Memory bandwidth stays shared either way: that
# is why every bound is measured in the same run.
#
# Needs: a build with ember_make_model and ember_engine_bench, jq. TinyLlama f32 is ~4.4 GB on disk
# and in memory: never generate inside the repository.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${repo}/build-bench}"
shift || true
[[ "${1:-}" == "--" ]] && shift
extra_flags=("$@")
models="${EMBER_BENCH_MODELS:-/tmp/ember-models}"
configs="${EMBER_BENCH_CONFIGS:-gpt2-124m:f32 gpt2-124m:bf16 tinyllama-1.1b:f32 tinyllama-1.1b:bf16 tinyllama-1.1b:bf16:int8 tinyllama-1.1b:bf16:int4}"
make_model="${build}/tools/ember_make_model"
bench="${build}/bench/ember_engine_bench"

for tool in "${make_model}" "${bench}"; do
  if [[ ! -x "${tool}" ]]; then
    echo "missing ${tool}: cmake --build ${build} --target ember_make_model ember_engine_bench" >&2
    exit 1
  fi
done
command -v jq >/dev/null || { echo "jq is required to merge the results" >&2; exit 1; }

mkdir -p "${models}"
results=()
for config in ${configs}; do
  IFS=: read -r preset dtype format <<<"${config}"
  format="${format:-dtype}"
  dir="${models}/${preset}-${dtype}"
  # The weights are stored in the dtype they are computed in, as a real checkpoint would be.
  if [[ ! -f "${dir}/config.json" || ! -f "${dir}/tokenizer.json" ]]; then
    echo "== generating ${dir}" >&2
    "${make_model}" --preset="${preset}" --dtype="${dtype}" --seed=1 --out="${dir}" >&2
  fi
  out="${models}/${preset}-${dtype}-${format}.result.json"
  echo "== ${bench} --model=${dir} --dtype=${dtype} --weight_format=${format} ${extra_flags[*]:-}" >&2
  cmd=("${bench}" --model="${dir}" --dtype="${dtype}" --weight_format="${format}"
       --json_out="${out}" "${extra_flags[@]}")
  if [[ -n "${EMBER_BENCH_AUTOGROUP_NICE:-}" ]]; then
    setsid bash -c 'echo "$0" > /proc/self/autogroup && exec "$@"' \
      "${EMBER_BENCH_AUTOGROUP_NICE}" "${cmd[@]}" >&2
  else
    "${cmd[@]}" >&2
  fi
  results+=("${out}")
done

echo
echo "ember engine vs this machine's limits (bounds measured in the same run; ratio = figure / bound;"
echo "paired = median over decode steps of each step's rate / the bound from the probes around it)"
printf '%-16s %-5s %-7s %-13s %10s %11s %6s %6s  %s\n' model dtype weights figure "tok/s" \
  "bound tok/s" ratio paired "bound basis"
for out in "${results[@]}"; do
  jq -r '. as $r | .figures[] |
    [($r.model | split("/") | last | sub("-(f32|bf16)$"; "")), ($r.compute | ascii_downcase),
     ($r.weight_format | split(" ") | .[0:2] | join("") | ascii_downcase),
     .name, (.tokens_per_second * 100 | round / 100 | tostring),
     (.bound_tokens_per_second * 100 | round / 100 | tostring),
     (.ratio * 100 | round / 100 | tostring),
     (if (.paired_ratio // 0) > 0 then (.paired_ratio * 100 | round / 100 | tostring) else "-" end),
     .bound_basis] | @tsv' "${out}" |
    while IFS=$'\t' read -r model dtype weights name value bound ratio paired basis; do
      printf '%-16s %-5s %-7s %-13s %10s %11s %6s %6s  %s\n' "${model}" "${dtype}" "${weights}" \
        "${name}" "${value}" "${bound}" "${ratio}" "${paired}" "${basis}"
    done
done
for out in "${results[@]}"; do
  jq -r '"\(.model | split("/") | last) \(.weight_format): load \(.load_seconds * 100 | round / 100) s, arena \(.weight_arena_bytes / 1e6 | round) MB, peak RSS after load \(.peak_rss_after_load_bytes / 1e6 | round) MB, RSS \(.rss_after_load_bytes / 1e6 | round) MB; bandwidth probes \(.bandwidth_probes_gbps | map(. * 10 | round / 10) | join(", ")) GB/s"' "${out}"
done
