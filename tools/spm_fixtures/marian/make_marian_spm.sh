#!/bin/sh
# Regenerates the SentencePiece models of ember_make_model's Marian presets (tiny-marian,
# tiny-marian-preln, opus-mt-base), from the English-like source.txt and the German-like
# target.txt next to this script, with the Debian `sentencepiece` package's spm_train
# (apt-get install sentencepiece). Single-threaded training on a fixed text with a fixed seed is
# deterministic, so re-running reproduces the committed files byte for byte (checked with
# sentencepiece 0.1.97).
#
#   source.spm  unigram, 250 pieces, spm's default nmt_nfkc normalization, <unk>=0 <s>=1 </s>=2
#   target.spm  the same options on the target text
#
# Full character coverage keeps every letter of the texts (ä, ö, ü, ß, é) as a piece, so the tiny
# models never need <unk> for text written in those alphabets. The generator builds vocab.json
# from the normal pieces of both (tools/make_model/marian_vocab.h); the ids inside the .spm files
# are not used by MarianTokenizer.
#
# Usage: tools/spm_fixtures/marian/make_marian_spm.sh [out_dir]   (default: this directory)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The model records its training flags (input file, model prefix): relative names keep the bytes
# independent of the temporary directory.
cp "$here/source.txt" "$here/target.txt" "$work/"
cd "$work"

common="--model_type=unigram --vocab_size=250 --character_coverage=1.0 --num_threads=1
  --random_seed=1 --minloglevel=2"

# shellcheck disable=SC2086
spm_train $common --input=source.txt --model_prefix=source
# shellcheck disable=SC2086
spm_train $common --input=target.txt --model_prefix=target

cp source.model "$out/source.spm"
cp target.model "$out/target.spm"
echo "wrote $out/source.spm $out/target.spm"
