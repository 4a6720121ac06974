#!/usr/bin/python3
"""Independent PyTorch reference for ember's MarianMT (encoder-decoder translation) support.

Written from the Hugging Face `transformers` semantics as restated in docs/MARIAN.md, not from
ember's C++: modeling_marian.py (sinusoidal positions with the sin half first, embed_scale =
sqrt(d_model), attention with q scaled by head_dim^-0.5, post-LN encoder/decoder layers, or pre-LN
layers plus a final stack layer_norm when `normalize_before`, lm_head tied or not, final_logits_bias),
tokenization_marian.py (source.spm pieces -> vocab.json ids, missing -> <unk>, + </s>; decoding
skips </s>, <unk>, <pad> and joins the pieces with target.spm) and generation/utils.py (bad_words_ids,
ForcedEOSTokenLogitsProcessor, NoRepeatNGramLogitsProcessor, greedy search and beam search with
transformers' finished-hypothesis bookkeeping and early_stopping True/False/"never").
It reads config.json, generation_config.json, vocab.json and model.safetensors itself (numpy) and
runs f32 torch math. SentencePiece runs through Debian's spm_encode / spm_decode CLI.

Every decoder step recomputes the whole decoder prefix (no KV cache): slow but obviously right.

Usage: /usr/bin/python3 marian_reference.py --model DIR --sources sources.txt --out fixture.json
  sources.txt holds one source sentence per line.
       /usr/bin/python3 marian_reference.py --model DIR --sources sources.txt --check
  sources.txt holds one source sentence per line. --check runs the self-checks only: greedy equals
  beam search with one beam, and one teacher-forced pass matches the per-step recomputes.

Fixture keys: generator, model, config (d_model, vocab_size, normalize_before and the generation
ids), greedy_config {max_new_tokens}, beam_configs [BEAM_CONFIGS], results[] with per sentence:
  source, source_pieces, source_ids (ids + </s>), encoder_row0 (encoder output row 0, d_model floats),
  greedy (generated ids, decoder start excluded, eos included), greedy_margin (top1 - top2 of the
  processed logits per step; null at the forced-eos step, where it is infinite), greedy_logits
  (raw f32 logits = lm_head + final_logits_bias before any processor, one row per greedy step: the
  last position of the decoder run on [start] + the greedy tokens so far),
  greedy_text (special tokens skipped), finish ("eos"; "length" when the last token came from the
  forced-eos step, i.e. all max_new_tokens were used),
  beam[] per config: config (index into beam_configs), steps (decoder steps run), min_gap (smallest
  score difference behind any beam decision, null if none finite), hypotheses[] best first with
  tokens (eos included), score (sum_logprobs / len^length_penalty), sum_logprobs, text.
Floats are the shortest decimals that round-trip the f32 values.
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_reference import load_checkpoint  # noqa: E402  (plain safetensors reader, numpy only)
import quant_reference  # noqa: E402  (ember's quantized weight scheme, for --quantize)

GREEDY_MAX_NEW_TOKENS = 20
BEAM_CONFIGS = [
    {"num_beams": 4, "length_penalty": 1.0, "early_stopping": False, "no_repeat_ngram_size": 0,
     "max_new_tokens": 20, "num_return_sequences": 4},
    {"num_beams": 3, "length_penalty": 0.6, "early_stopping": True, "no_repeat_ngram_size": 0,
     "max_new_tokens": 12, "num_return_sequences": 1},
    {"num_beams": 4, "length_penalty": 1.0, "early_stopping": False, "no_repeat_ngram_size": 2,
     "max_new_tokens": 20, "num_return_sequences": 2},
    {"num_beams": 2, "length_penalty": 2.0, "early_stopping": "never", "no_repeat_ngram_size": 0,
     "max_new_tokens": 8, "num_return_sequences": 2},
]

NEG_INF = float("-inf")


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {
    "swish": torch.nn.functional.silu,
    "silu": torch.nn.functional.silu,
    "gelu": torch.nn.functional.gelu,  # erf form
    "gelu_new": gelu_new,
    "relu": torch.relu,
}


def sinusoids(n_pos, dim):
    """MarianSinusoidalPositionalEmbedding: angle = p / 10000^(2i/dim); sin in [0, dim/2), cos after.

    Computed in float64 like transformers' numpy init, then stored as f32."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    i = np.arange(dim // 2, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, 2.0 * i / dim)
    table = np.concatenate([np.sin(angle), np.cos(angle)], axis=1)
    return torch.from_numpy(table.astype(np.float32))


class Marian:
    """MarianMTModel forward in f32. Batched over decoder sequences of equal length."""

    def __init__(self, cfg, w, project=None):
        self.cfg, self.w = cfg, w
        self.project = project or quant_reference.Projector(None)
        self.e = cfg["d_model"]
        self.eps = 1e-5
        self.act = ACT[cfg.get("activation_function", "swish")]
        self.pre_ln = bool(cfg.get("normalize_before", False))
        self.embed_scale = math.sqrt(self.e) if cfg.get("scale_embedding", False) else 1.0
        self.pos = sinusoids(cfg.get("max_position_embeddings", 512), self.e)
        shared = w.get("model.shared.weight")
        # Tied checkpoints keep one name of the shared matrix; untied-encoder/decoder ones keep both.
        self.enc_embed = w.get("model.encoder.embed_tokens.weight", shared)
        self.dec_embed = w.get("model.decoder.embed_tokens.weight", shared)
        if cfg.get("tie_word_embeddings", True) or "lm_head.weight" not in w:
            self.lm_head = self.dec_embed
        else:
            self.lm_head = w["lm_head.weight"]
        self.bias = w["final_logits_bias"].reshape(-1)

    # --- building blocks -------------------------------------------------------------------
    def linear(self, x, name):
        return self.project(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def ln(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.e,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def attention(self, x, kv, name, heads, causal):
        """MarianAttention: x [N, T, E] queries, kv [N, S, E] keys/values source."""
        n, t, _ = x.shape
        s = kv.shape[1]
        hd = self.e // heads
        q = self.linear(x, name + ".q_proj") * (hd ** -0.5)  # scaling applied to q (bias included)
        k = self.linear(kv, name + ".k_proj")
        v = self.linear(kv, name + ".v_proj")
        q, k, v = (z.view(n, -1, heads, hd).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-1, -2)
        if causal:
            scores = scores + torch.full((t, s), NEG_INF).triu(1)
        out = torch.softmax(scores, dim=-1) @ v
        return self.linear(out.transpose(1, 2).reshape(n, t, self.e), name + ".out_proj")

    def ffn(self, x, p):
        return self.linear(self.act(self.linear(x, p + ".fc1")), p + ".fc2")

    def sublayer(self, x, p, norm, fn):
        """Residual block, post-LN (default) or pre-LN (normalize_before)."""
        if self.pre_ln:
            return x + fn(self.ln(x, p + norm))
        return self.ln(x + fn(x), p + norm)

    # --- stacks ----------------------------------------------------------------------------
    def encode(self, src_ids):
        """Final encoder output [S, E] for one source sequence."""
        s = len(src_ids)
        x = (self.enc_embed[torch.tensor(src_ids)] * self.embed_scale + self.pos[:s])[None]
        heads = self.cfg["encoder_attention_heads"]
        for i in range(self.cfg["encoder_layers"]):
            p = f"model.encoder.layers.{i}"
            x = self.sublayer(x, p, ".self_attn_layer_norm", lambda h: self.attention(h, h, p + ".self_attn", heads, False))
            x = self.sublayer(x, p, ".final_layer_norm", lambda h: self.ffn(h, p))
        if self.pre_ln:
            x = self.ln(x, "model.encoder.layer_norm")
        return x[0]

    def decode(self, enc, dec_ids):
        """Raw logits [N, T, V] (lm_head + final_logits_bias) for decoder inputs dec_ids [N][T]."""
        ids = torch.tensor(dec_ids)
        n, t = ids.shape
        x = self.dec_embed[ids] * self.embed_scale + self.pos[:t]
        mem = enc[None].expand(n, -1, -1)
        heads = self.cfg["decoder_attention_heads"]
        for i in range(self.cfg["decoder_layers"]):
            p = f"model.decoder.layers.{i}"
            x = self.sublayer(x, p, ".self_attn_layer_norm", lambda h: self.attention(h, h, p + ".self_attn", heads, True))
            x = self.sublayer(x, p, ".encoder_attn_layer_norm",
                              lambda h: self.attention(h, mem, p + ".encoder_attn", heads, False))
            x = self.sublayer(x, p, ".final_layer_norm", lambda h: self.ffn(h, p))
        if self.pre_ln:
            x = self.ln(x, "model.decoder.layer_norm")
        return self.project(x, self.lm_head) + self.bias


class Tokenizer:
    """MarianTokenizer with source.spm/target.spm run through the spm_encode/spm_decode CLI."""

    def __init__(self, model_dir):
        self.dir = model_dir
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.inverse = {i: p for p, i in self.vocab.items()}
        self.eos, self.unk, self.pad = self.vocab["</s>"], self.vocab["<unk>"], self.vocab["<pad>"]
        self.special = {self.eos, self.unk, self.pad}
        # transformers' default for clean_up_tokenization_spaces changed between versions; Marian
        # repos do not set it, so only an explicit true in tokenizer_config.json turns it on.
        path = os.path.join(model_dir, "tokenizer_config.json")
        self.clean_up = False
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.clean_up = bool(json.load(f).get("clean_up_tokenization_spaces", False))

    def spm(self, tool, flag, spm_file, line):
        out = subprocess.run([tool, "--model=" + os.path.join(self.dir, spm_file), flag], input=line + "\n",
                             capture_output=True, text=True, check=True).stdout
        return out.rstrip("\n")

    def encode(self, text):
        """Returns (pieces, ids): ids of the pieces (missing -> <unk>) followed by </s>."""
        pieces = self.spm("spm_encode", "--output_format=piece", "source.spm", text).split()
        return pieces, [self.vocab.get(p, self.unk) for p in pieces] + [self.eos]

    def decode(self, ids):
        """decode(ids, skip_special_tokens=True): drop specials, target.spm decode_pieces, then
        convert_tokens_to_string's '▁' -> ' ' (covers pieces target.spm does not know) and strip."""
        pieces = [self.inverse[i] for i in ids if i not in self.special]
        if not pieces:
            return ""
        text = self.spm("spm_decode", "--input_format=piece", "target.spm", " ".join(pieces))
        text = text.replace("\u2581", " ").strip()
        return clean_up_tokenization(text) if self.clean_up else text


def clean_up_tokenization(text):
    """PreTrainedTokenizerBase.clean_up_tokenization: drop the space before punctuation/contractions."""
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                          (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(before, after)
    return text


class GenerationConfig:
    """The generation ids: generation_config.json wins over config.json, as in transformers."""

    def __init__(self, model_dir, cfg):
        merged = dict(cfg)
        path = os.path.join(model_dir, "generation_config.json")
        if os.path.exists(path):
            with open(path) as f:
                merged.update({k: v for k, v in json.load(f).items() if v is not None})
        eos = merged["eos_token_id"]
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.pad = merged["pad_token_id"]
        self.start = merged.get("decoder_start_token_id", self.pad)
        self.forced_eos = merged.get("forced_eos_token_id")
        # Only single-token bad words exist in Marian configs ([[pad]]); longer ones are not handled.
        bad = merged.get("bad_words_ids") or []
        assert all(len(b) == 1 for b in bad), "multi-token bad_words_ids are not supported"
        self.bad = sorted({b[0] for b in bad})

    def describe(self):
        return {"decoder_start_token_id": self.start, "eos_token_id": sorted(self.eos_ids),
                "pad_token_id": self.pad, "forced_eos_token_id": self.forced_eos, "bad_words_ids": [[b] for b in self.bad]}


# --- logits processors (transformers order: no-repeat-ngram, bad words, forced eos) ----------
def ban_repeated_ngrams(scores, seq, n):
    """NoRepeatNGramLogitsProcessor on one row; seq = [decoder_start] + generated tokens."""
    m = len(seq)
    if n <= 0 or m + 1 < n:
        return
    prefix = tuple(seq[m - n + 1:]) if n > 1 else ()
    for j in range(m - n + 1):
        if tuple(seq[j:j + n - 1]) == prefix:
            scores[seq[j + n - 1]] = NEG_INF


def process(scores, seq, step, max_new, gen, ngram=0):
    """Applies the processors in place to one row of scores (raw logits or log-probs).

    step = number of tokens generated so far; forced eos when only one more may be generated
    (transformers: cur_len == max_length - 1 with max_length = 1 + max_new)."""
    ban_repeated_ngrams(scores, seq, ngram)
    for b in gen.bad:
        scores[b] = NEG_INF
    if gen.forced_eos is not None and step == max_new - 1:
        scores.fill_(NEG_INF)
        scores[gen.forced_eos] = 0.0
    return scores


# --- greedy --------------------------------------------------------------------------------
def greedy(model, enc, gen, max_new):
    """Greedy search: argmax of the processed raw logits; stops at eos."""
    seq, margins, rows, finish = [gen.start], [], [], "length"
    for step in range(max_new):
        raw = model.decode(enc, [seq])[0, -1]
        rows.append(raw)
        scores = process(raw.clone(), seq, step, max_new, gen)
        top = torch.topk(scores, 2)  # values only: argmax below picks the lowest id among equal maxima
        tok = int(torch.argmax(scores))
        margin = float(top.values[0] - top.values[1])
        margins.append(margin if math.isfinite(margin) else None)  # None: the forced-eos step
        seq.append(tok)
        if tok in gen.eos_ids:
            # A sequence that used all max_new tokens ended on the forced eos: report "length".
            finish = "eos" if step < max_new - 1 else "length"
            break
    # rows: the raw logits each decision was made from (row k = last position of input seq[:k+1]).
    return seq[1:], margins, finish, torch.stack(rows)


# --- beam search (docs/MARIAN.md "Beam search", numbered steps) ------------------------------
class Hypotheses:
    """The kept finished hypotheses (transformers' BeamHypotheses)."""

    def __init__(self, num_beams, lp):
        self.num_beams, self.lp, self.kept = num_beams, lp, []  # kept: (score, tokens, sum_logprob)

    def offer(self, tokens, sum_logprob):
        score = sum_logprob / (len(tokens) ** self.lp)
        if len(self.kept) < self.num_beams or score > self.worst():
            self.kept.append((score, tokens, sum_logprob))
            if len(self.kept) > self.num_beams:
                # Drop the worst; among equal scores the earliest offered goes, like transformers'
                # sorted((score, index)) deletion.
                worst = min(range(len(self.kept)), key=lambda i: (self.kept[i][0], i))
                del self.kept[worst]

    def worst(self):
        return min(h[0] for h in self.kept)

    def full(self):
        return len(self.kept) >= self.num_beams


def is_done(hyps, best_live_sum, t, bc):
    """Step 4: the early-stopping test after step t (every live beam now has t + 1 tokens)."""
    if not hyps.full():
        return False
    early, lp = bc["early_stopping"], bc["length_penalty"]
    if early is True:
        return True
    if early == "never" and lp > 0.0:
        bound = best_live_sum / (bc["max_new_tokens"] ** lp)
    else:
        bound = best_live_sum / ((t + 1) ** lp)
    return hyps.worst() >= bound


def beam_search(model, enc, gen, bc):
    """Returns (hypotheses best first as (score, tokens, sum_logprob), steps run, min_gap).

    min_gap is the smallest score difference behind any decision: the pruning cut of each step,
    the rank-B cut when an eos candidate sits at it, and the order of the kept hypotheses. A test
    comparing against another f32 implementation may only demand exact tokens when it is large."""
    B, M = bc["num_beams"], bc["max_new_tokens"]
    live = [([], 0.0)]  # (tokens, sum_logprob as f32)
    hyps = Hypotheses(B, bc["length_penalty"])
    done_early, steps, gaps = False, 0, []
    for t in range(M):
        steps = t + 1
        logits = model.decode(enc, [[gen.start] + toks for toks, _ in live])[:, -1]
        # Step 1: f32 log_softmax, processors, candidate = sum_logprob + logprob (f32 add).
        logprobs = torch.log_softmax(logits, dim=-1)
        for row, (toks, _) in zip(logprobs, live):
            process(row, [gen.start] + toks, t, M, gen, bc["no_repeat_ngram_size"])
        sums = torch.tensor([s for _, s in live], dtype=torch.float32)
        cand = (logprobs + sums[:, None]).reshape(-1)
        # Step 2: top 2B, best first; ties -> lower flat index = lower beam, then lower token.
        ranked = torch.sort(cand, descending=True, stable=True).indices
        vocab = logprobs.shape[1]
        # Step 3: eos among the top B ranks -> finished; others fill the next live beams.
        next_live = []
        for rank, flat in enumerate(ranked[: 2 * B].tolist()):
            beam, tok = divmod(flat, vocab)
            score = float(cand[flat])
            if tok in gen.eos_ids:
                if rank < B:
                    hyps.offer(live[beam][0] + [tok], score)
                continue
            next_live.append((live[beam][0] + [tok], score))
            if len(next_live) == B:
                break
        assert len(next_live) == B, "fewer than num_beams non-eos candidates"
        live = next_live
        # Diagnostics: how close this step's decisions were (pruning cut, eos rank-B cut).
        sorted_scores = cand[ranked].tolist()
        gaps.append(finite_gap(sorted_scores[rank], sorted_scores[rank + 1]))  # rank: last live pick
        if any(int(ranked[r]) % vocab in gen.eos_ids for r in (B - 1, B)):
            gaps.append(finite_gap(sorted_scores[B - 1], sorted_scores[B]))
        # Step 4: stop on the early-stopping test or when the length budget is used up.
        if is_done(hyps, live[0][1], t, bc):
            done_early = True
            break
    # Step 5: live beams are offered only when the search ran out of length (transformers'
    # finalize skips a batch entry already marked done).
    if not done_early:
        for toks, s in live:
            hyps.offer(toks, s)
    best = sorted(hyps.kept, key=lambda h: -h[0])  # stable: equal scores keep offer order
    gaps += [finite_gap(a[0], b[0]) for a, b in zip(best, best[1:])]
    gaps = [g for g in gaps if g is not None]
    return best[: bc["num_return_sequences"]], steps, (min(gaps) if gaps else None)


def finite_gap(a, b):
    """a - b when both are finite, else None (a -inf cut is no near-tie)."""
    return a - b if math.isfinite(a) and math.isfinite(b) else None


# --- fixture writing -----------------------------------------------------------------------
def f32_list(values):
    """Shortest decimal strings that round-trip each f32, as JSON numbers."""
    arr = np.asarray(values, dtype=np.float32)
    assert np.all(np.isfinite(arr)), "non-finite value in fixture"
    return [float(s) for s in arr.astype(str)]


def f32_value(v):
    return f32_list([v])[0]


def run_sentence(model, tok, gen, text):
    pieces, src = tok.encode(text)
    enc = model.encode(src)
    tokens, margins, finish, rows = greedy(model, enc, gen, GREEDY_MAX_NEW_TOKENS)
    result = {
        "source": text,
        "source_pieces": pieces,
        "source_ids": src,
        "encoder_row0": f32_list(enc[0]),
        "greedy": tokens,
        "greedy_margin": [None if m is None else f32_value(m) for m in margins],
        "greedy_logits": [f32_list(row) for row in rows],
        "greedy_text": tok.decode(tokens),
        "finish": finish,
        "beam": [],
    }
    for index, bc in enumerate(BEAM_CONFIGS):
        ranked, steps, min_gap = beam_search(model, enc, gen, bc)
        result["beam"].append({
            "config": index,
            "steps": steps,
            "min_gap": None if min_gap is None else f32_value(min_gap),
            "hypotheses": [{"tokens": toks, "score": f32_value(score), "sum_logprobs": f32_value(s),
                            "text": tok.decode(toks)} for score, toks, s in ranked],
        })
    return result


def self_check(model, gen, text_ids):
    """(a) greedy must equal beam search with num_beams 1 (lp 1, early_stopping false);
    (b) the step-by-step prefix recomputes must match one teacher-forced pass over the greedy path
    (causal masking); BLAS blocking depends on the length, so only to ~1 ulp, checked at 1e-5.
    Returns (ok, greedy tokens, beam tokens, max |step - one-pass| logit difference)."""
    enc = model.encode(text_ids)
    tokens, _, _, rows = greedy(model, enc, gen, GREEDY_MAX_NEW_TOKENS)
    bc = {"num_beams": 1, "length_penalty": 1.0, "early_stopping": False, "no_repeat_ngram_size": 0,
          "max_new_tokens": GREEDY_MAX_NEW_TOKENS, "num_return_sequences": 1}
    beam_tokens = beam_search(model, enc, gen, bc)[0][0][1]
    one_pass = model.decode(enc, [[gen.start] + tokens[:-1]])[0]
    diff = float((rows - one_pass).abs().max())
    return tokens == beam_tokens and diff < 1e-5, tokens, beam_tokens, diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sources", required=True, help="text file, one source sentence per line")
    ap.add_argument("--out", help="fixture path (required unless --check)")
    ap.add_argument("--name", help="model name recorded in the fixture (default: the directory name)")
    ap.add_argument("--check", action="store_true", help="only run the self-checks, write nothing")
    ap.add_argument("--quantize", default="", help="int<bits>g<group>: ember's quantized weight scheme")
    args = ap.parse_args()
    scheme = None
    if args.quantize:
        bits, group = args.quantize[3:].split("g")
        scheme = (int(bits), int(group))
    if not args.check and not args.out:
        ap.error("--out is required unless --check")
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)  # one thread: reproducible reductions, polite on shared cores
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    model = Marian(cfg, load_checkpoint(args.model), quant_reference.Projector(scheme))
    tok = Tokenizer(args.model)
    gen = GenerationConfig(args.model, cfg)
    with open(args.sources, encoding="utf-8") as f:
        sources = [line.rstrip("\n") for line in f if line.strip()]
    if args.check:
        ok = True
        for text in sources:
            same, g, b, diff = self_check(model, gen, tok.encode(text)[1])
            print(("OK  " if same else "FAIL"), "greedy", g, "beam1", b, "max step/one-pass diff %.2g" % diff)
            ok &= same
        sys.exit(0 if ok else 1)
    fixture = {
        "generator": "tools/reference/marian_reference.py (PyTorch %s, f32%s)"
        % (torch.__version__, ", weights " + args.quantize if args.quantize else ""),
        "model": args.name or os.path.basename(os.path.normpath(args.model)),
        "config": {"d_model": cfg["d_model"], "vocab_size": cfg["vocab_size"],
                   "normalize_before": bool(cfg.get("normalize_before", False)), **gen.describe()},
        "greedy_config": {"max_new_tokens": GREEDY_MAX_NEW_TOKENS},
        "beam_configs": BEAM_CONFIGS,
        "results": [run_sentence(model, tok, gen, text) for text in sources],
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
