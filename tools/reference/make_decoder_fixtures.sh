#!/usr/bin/env bash
# Regenerates the committed PyTorch reference fixtures for the decoder fidelity tests:
#   tools/reference/make_decoder_fixtures.sh BUILD_DIR
# For each tiny preset: ember_make_model writes the checkpoint (seed 1), then the independent
# PyTorch reference computes last-position logits and 12 greedy tokens for three prompts: in f32
# (<preset>.json) and with each quantized weight scheme (<preset>.<scheme>.json).
set -euo pipefail
build=${1:?usage: make_decoder_fixtures.sh BUILD_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$here/tests/fixtures/decoder_reference
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Prompts: a short one, a two-token one and a 40-token one (longer than several KV blocks).
prompts='[[1, 45, 210, 7, 99, 300, 12], [1, 5], [1, 17, 33, 250, 401, 8, 77, 120, 64, 3, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]'
for preset in tiny-gpt2 tiny-llama tiny-llama-gqa tiny-qwen2; do
  "$build/tools/ember_make_model" --preset="$preset" --seed=1 --out="$work/$preset" >/dev/null
  /usr/bin/python3 "$here/tools/reference/decoder_reference.py" --model "$work/$preset" \
    --prompts "$prompts" --new-tokens 12 --out "$out/$preset.json"
  echo "wrote $out/$preset.json"
  for scheme in int8g128 int4g64 int4g32; do
    /usr/bin/python3 "$here/tools/reference/decoder_reference.py" --model "$work/$preset" \
      --prompts "$prompts" --new-tokens 12 --quantize "$scheme" --out "$out/$preset.$scheme.json"
    echo "wrote $out/$preset.$scheme.json"
  done
done
