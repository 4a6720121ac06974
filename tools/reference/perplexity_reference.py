#!/usr/bin/python3
"""Independent PyTorch reference for `ember_cli perplexity`: the perplexity of a text file under a
decoder-only checkpoint, by Hugging Face's strided sliding-window recipe, in f32.

The model is decoder_reference.py's (written from the transformers modeling code, not from
ember's); the text is tokenized here with the `sentencepiece` Python module from the checkpoint's
tokenizer.model (<s> first, as a Llama prompt is), independently of ember's tokenizer. Windows:
begin = 0, stride, 2*stride, ...; end = min(begin + context, n); a window scores the tokens from
max(previous end, begin + 1) to end - 1, each given the window's tokens before it. The result is
the mean negative log-likelihood over the scored tokens and its exponential.

Usage: /usr/bin/python3 perplexity_reference.py --model DIR --file TEXT --context N --stride S
           [--quantize int8g128|int4g64|...]
Prints one JSON object: tokens, tokens_scored, windows, mean_nll, perplexity.
"""
import argparse
import json
import math
import os

import torch

import decoder_reference


def tokenize(model_dir, text):
    import sentencepiece  # Debian python3-sentencepiece

    path = os.path.join(model_dir, "tokenizer.model")
    if not os.path.exists(path):
        raise SystemExit(f"perplexity_reference: {path} is missing (only SentencePiece "
                         "checkpoints are tokenized here)")
    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    return [sp.bos_id()] + sp.encode(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--context", type=int, required=True)
    ap.add_argument("--stride", type=int, required=True)
    ap.add_argument("--quantize", default="", help="int<bits>g<group>, e.g. int8g128 or int4g64")
    args = ap.parse_args()
    if not 1 <= args.stride <= args.context:
        raise SystemExit("perplexity_reference: need 1 <= stride <= context")
    torch.set_grad_enabled(False)
    model = decoder_reference.load_model(args.model, args.quantize)
    with open(args.file, encoding="utf-8") as f:
        ids = tokenize(args.model, f.read())
    n = len(ids)
    nll, scored, windows, previous_end = 0.0, 0, 0, 0
    for begin in range(0, n, args.stride):
        end = min(begin + args.context, n)
        window = torch.tensor(ids[begin:end])
        logprobs = torch.log_softmax(model.logits(window).double(), dim=-1)
        for t in range(max(previous_end, begin + 1), end):
            nll -= float(logprobs[t - begin - 1, ids[t]])
            scored += 1
        windows += 1
        previous_end = end
        if end == n:
            break
    mean = nll / scored
    print(json.dumps({"tokens": n, "tokens_scored": scored, "windows": windows,
                      "mean_nll": mean, "perplexity": math.exp(mean)}))


if __name__ == "__main__":
    main()
