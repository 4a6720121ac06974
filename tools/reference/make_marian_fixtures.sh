#!/usr/bin/env bash
# Regenerates the committed PyTorch reference fixtures for the Marian (encoder-decoder) fidelity tests:
#   tools/reference/make_marian_fixtures.sh BUILD_DIR
# For each tiny Marian preset: ember_make_model writes the checkpoint (seed 1), the independent
# PyTorch reference first self-checks (greedy == beam search with one beam), then writes greedy
# decoding (with raw logits) and four beam-search n-best lists for six source sentences to
# tests/fixtures/marian_reference/PRESET.json. Needs /usr/bin/python3 with torch and numpy, and
# the Debian `sentencepiece` CLI (spm_encode, spm_decode). Deterministic: re-running gives the same bytes.
set -euo pipefail
build=${1:?usage: make_marian_fixtures.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$here/tests/fixtures/marian_reference
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Sentences like the generator's English training text (tools/spm_fixtures/marian/source.txt):
# short; medium; a question; a long one (~55 source pieces); one with characters source.spm never
# saw (Ω, €, ☕, 東京 -> <unk>); a single word.
cat >"$work/sources.txt" <<'EOF'
The cat sleeps on the warm windowsill.
My sister walked along the river to the old library on Saturday morning.
Could you please close the window in the kitchen?
The children will take the morning train to the coast, visit the old museum and drink a cup of tea with their grandmother before the sun goes down.
The café on Ωmega street sells tea for 5 € and ☕ with 東京 views.
Tomorrow
EOF
ref=$here/tools/reference/marian_reference.py
for preset in tiny-marian tiny-marian-preln; do
  "$build/tools/ember_make_model" --preset="$preset" --seed=1 --out="$work/$preset" >/dev/null
  /usr/bin/python3 "$ref" --model "$work/$preset" --sources "$work/sources.txt" --check >/dev/null
  /usr/bin/python3 "$ref" --model "$work/$preset" --sources "$work/sources.txt" --name "$preset" \
    --out "$out/$preset.json"
  echo "wrote $out/$preset.json"
  for scheme in int8g128 int4g64; do
    /usr/bin/python3 "$ref" --model "$work/$preset" --sources "$work/sources.txt" --name "$preset" \
      --quantize "$scheme" --out "$out/$preset.$scheme.json"
    echo "wrote $out/$preset.$scheme.json"
  done
done
