#!/usr/bin/env python3
"""Writes the small tokenizer.json bases used by tokenizer_components_test.cc.

Each base leaves the pipeline components as placeholders ("@NORMALIZER@", "@PRE_TOKENIZER@",
"@POST_PROCESSOR@", "@DECODER@", "@ADDED_TOKENS@", "@MODEL_OPTIONS@") that the test replaces with
the snippets listed in component_cases.json. The expected ids and texts there were produced by
Hugging Face tokenizers 0.23.2 (npm package `tokenizers`) on the same substituted JSON.
"""
import json

def write(name, vocab, merges):
    model = {"type": "BPE", "dropout": None, "vocab": vocab, "merges": merges}
    text = json.dumps({
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": "@ADDED_TOKENS@", "normalizer": "@NORMALIZER@",
        "pre_tokenizer": "@PRE_TOKENIZER@", "post_processor": "@POST_PROCESSOR@",
        "decoder": "@DECODER@", "model": model,
    }, ensure_ascii=False, indent=1)
    # Placeholders are substituted as raw JSON (quotes included); model options go inside "model".
    text = text.replace('"type": "BPE",', '"type": "BPE", "@MODEL_OPTIONS@": null,', 1)
    with open(name, "w", encoding="utf-8") as f:
        f.write(text + "\n")

def add_merges(vocab, merges):
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))

# Printable ASCII, id = code point - 32, plus a few merges (as pairs: some contain a space).
ascii_vocab = {chr(c): c - 32 for c in range(32, 127)}
ascii_merges = [["a", "b"], ["ab", "c"], [" ", " "], ["1", "2"], ["h", "e"], ["l", "l"],
                ["he", "ll"], ["hell", "o"], [" ", "w"], [" w", "o"], ["r", "l"], ["rl", "d"]]
add_merges(ascii_vocab, ascii_merges)
write("ascii_base.json", ascii_vocab, ascii_merges)

# GPT-2 byte-level alphabet, id = byte value, plus merges.
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))
b2u = bytes_to_unicode()
byte_vocab = {b2u[b]: b for b in range(256)}
byte_merges = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["l", "l"], ["he", "ll"], ["hell", "o"],
               ["Ġ", "w"], ["o", "r"], ["Ġw", "or"], ["l", "d"], ["Ġwor", "ld"], ["Ġ", "Ġ"],
               ["Ċ", "Ċ"], ["1", "2"], ["12", "3"]]
add_merges(byte_vocab, byte_merges)
write("bytelevel_base.json", byte_vocab, [f"{a} {b}" for a, b in byte_merges])

# SentencePiece-style: <unk>, <s>, </s>, all 256 <0xNN> byte tokens, "▁" and lower-case letters.
spm_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    spm_vocab["<0x%02X>" % b] = len(spm_vocab)
for ch in "▁abcdefghijklmnopqrstuvwxyz":
    spm_vocab[ch] = len(spm_vocab)
spm_merges = [["▁", "t"], ["h", "e"], ["▁t", "he"], ["▁", "a"], ["▁a", "n"], ["▁an", "d"],
              ["i", "s"], ["▁", "is"], ["▁", "▁"]]
add_merges(spm_vocab, spm_merges)
write("spm_base.json", spm_vocab, [f"{a} {b}" for a, b in spm_merges])
