#!/bin/sh
# Regenerates the tiny SentencePiece models the tokenizer tests load, from train.txt, with the
# Debian `sentencepiece` package's spm_train (apt-get install sentencepiece). Single-threaded
# training on a fixed text is deterministic, so re-running reproduces the committed files byte for
# byte (checked with sentencepiece 0.1.97).
#
#   spm_bpe.model      Llama-style: BPE, byte fallback, identity normalization, whitespace kept as
#                      is, digits split, <unk>=0 <s>=1 </s>=2.
#   spm_unigram.model  T5-style: unigram, byte fallback, NFKC normalization with extra whitespace
#                      removed, <pad>=0 </s>=1 <unk>=2, no BOS, control pieces <extra_id_0..1> and
#                      a user-defined piece <sep>.
#
# Usage: tools/spm_fixtures/make_spm_fixtures.sh [out_dir]   (default tests/core/tokenizer/testdata)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/../../tests/core/tokenizer/testdata"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The model records its training flags (input file, model prefix): relative names keep the bytes
# independent of the temporary directory.
cp "$here/train.txt" "$work/"
cd "$work"

common="--input=train.txt --vocab_size=420 --byte_fallback=true --character_coverage=1.0
  --num_threads=1 --random_seed=1 --minloglevel=2"

# shellcheck disable=SC2086
spm_train $common --model_prefix=spm_bpe --model_type=bpe \
  --normalization_rule_name=identity --remove_extra_whitespaces=false --add_dummy_prefix=true \
  --split_digits=true --allow_whitespace_only_pieces=true
# shellcheck disable=SC2086
spm_train $common --model_prefix=spm_unigram --model_type=unigram \
  --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
  --control_symbols='<extra_id_0>,<extra_id_1>' --user_defined_symbols='<sep>'

cp spm_bpe.model spm_unigram.model "$out/"
echo "wrote $out/spm_bpe.model $out/spm_unigram.model"
