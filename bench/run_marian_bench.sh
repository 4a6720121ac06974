#!/usr/bin/env bash
# Runs ember_marian_bench on a random opus-mt-base-shaped MarianMT model (opus-mt-en-de's shape),
# generating it into $EMBER_BENCH_MODELS (default /tmp/ember-models) when absent, with all of the
# machine's threads, and prints its table: translation figures beside the bounds measured in the
# same run.
#
#   bench/run_marian_bench.sh [BUILD_DIR] [-- extra ember_marian_bench flags]
#   EMBER_BENCH_DTYPE=f32 bench/run_marian_bench.sh build-mbench -- --reps=5
#
# Needs: a build with ember_make_model and ember_marian_bench. The model is ~150 MB (bf16): never
# generate inside the repository.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${repo}/build-bench}"
shift || true
[[ "${1:-}" == "--" ]] && shift
extra_flags=("$@")
models="${EMBER_BENCH_MODELS:-/tmp/ember-models}"
dtype="${EMBER_BENCH_DTYPE:-bf16}"
make_model="${build}/tools/ember_make_model"
bench="${build}/bench/ember_marian_bench"

for tool in "${make_model}" "${bench}"; do
  if [[ ! -x "${tool}" ]]; then
    echo "missing ${tool}: cmake --build ${build} --target ember_make_model ember_marian_bench" >&2
    exit 1
  fi
done

# The weights are stored in the dtype they are computed in, as a real checkpoint would be.
dir="${models}/opus-mt-base-${dtype}"
if [[ ! -f "${dir}/config.json" || ! -f "${dir}/source.spm" ]]; then
  echo "== generating ${dir}" >&2
  mkdir -p "${models}"
  "${make_model}" --preset=opus-mt-base --dtype="${dtype}" --seed=1 --out="${dir}" >&2
fi
threads="$(nproc)"
echo "== ${bench} --model_dir=${dir} --dtype=${dtype} --threads=${threads} ${extra_flags[*]:-}" >&2
exec "${bench}" --model_dir="${dir}" --dtype="${dtype}" --threads="${threads}" "${extra_flags[@]}"
