#!/usr/bin/python3
"""Trains ember's default model, a small Llama on the King James Bible, and writes it as a
Hugging Face checkpoint directory (config.json, generation_config.json, model.safetensors in bf16,
tokenizer.model, README.md model card).

Usage (Debian python3-torch, python3-sentencepiece, sentencepiece and bible-kjv; CPU, seeded):
  /usr/bin/python3 tools/train_default_model/train_kjv.py --out_dir=models/kjv-llama \
      [--minutes=40] [--threads=2] [--seed=1]

Steps:
  1. The text: kjv_corpus.py's split (held-out books are never seen, not even by the tokenizer).
  2. The tokenizer: Debian's spm_train, a Llama-2-style SentencePiece BPE model (byte fallback,
     identity normalization, dummy prefix, digits split) of --vocab_size pieces, trained on the
     training split only.
  3. The model: a Llama (RMSNorm, rotate-half RoPE, SwiGLU, no biases, untied LM head) written
     from the Hugging Face modeling semantics, trained with f32 master weights and bf16 matmuls
     (CPU autocast), AdamW and a warm-up + cosine learning rate over a wall-clock budget
     (--minutes; the schedule follows the clock, so a slower or busier machine trains fewer steps
     of the same schedule) or a fixed number of steps (--steps). Half the training windows start at a verse with <s> (how a prompt
     reaches the model), half anywhere in the token stream (how a sliding perplexity window does).
  4. The checkpoint: the weights rounded to bf16, in the names and layout of transformers'
     LlamaForCausalLM; the log of the run (losses, held-out loss, time) goes to DIR/training_log.txt.
"""

import argparse
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import sentencepiece
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjv_corpus  # noqa: E402


class RmsNorm(torch.nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, inter = cfg["hidden_size"], cfg["intermediate_size"]
        self.heads, self.kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = h // self.heads
        lin = lambda i, o: torch.nn.Linear(i, o, bias=False)  # noqa: E731
        self.q_proj, self.k_proj = lin(h, h), lin(h, self.kv * self.hd)
        self.v_proj, self.o_proj = lin(h, self.kv * self.hd), lin(h, h)
        self.gate_proj, self.up_proj, self.down_proj = lin(h, inter), lin(h, inter), lin(inter, h)
        self.input_layernorm = RmsNorm(h, cfg["rms_norm_eps"])
        self.post_attention_layernorm = RmsNorm(h, cfg["rms_norm_eps"])

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        hs = self.input_layernorm(x)
        q = self.q_proj(hs).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k_proj(hs).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(hs).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        group = self.heads // self.kv
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(
            F, "scaled_dot_product_attention") else self._attention(q, k, v)
        x = x + self.o_proj(att.transpose(1, 2).reshape(b, t, -1))
        hs = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(hs)) * self.up_proj(hs))

    def _attention(self, q, k, v):
        t = q.shape[-2]
        mask = torch.full((t, t), float("-inf")).triu(1)
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hd) + mask, dim=-1) @ v


class Llama(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = torch.nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = torch.nn.ModuleList(Block(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RmsNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = torch.nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        hd = cfg["hidden_size"] // cfg["num_attention_heads"]
        self.register_buffer("inv_freq", 1.0 / (cfg["rope_theta"] ** (
            torch.arange(0, hd, 2, dtype=torch.int64).float() / hd)), persistent=False)
        std = cfg["initializer_range"]
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # GPT-2's scaled init for the projections that write into the residual stream.
                scale = 1 / math.sqrt(2 * cfg["num_hidden_layers"]) if name.endswith(
                    ("o_proj.weight", "down_proj.weight")) else 1.0
                torch.nn.init.normal_(p, std=std * scale)

    def forward(self, ids):
        t = ids.shape[1]
        freqs = torch.arange(t, dtype=torch.float32)[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.norm(x))

    def hf_state_dict(self):
        """The tensors under transformers' LlamaForCausalLM names."""
        out = {}
        for name, p in self.state_dict().items():
            if name == "inv_freq":
                continue
            if name.startswith("layers."):
                i, rest = name[len("layers."):].split(".", 1)
                group = "mlp" if rest.split(".")[0] in ("gate_proj", "up_proj", "down_proj") else (
                    "self_attn" if rest.endswith("proj.weight") else None)
                name = "layers.%s.%s%s" % (i, group + "." if group else "", rest)
            out[name if name.startswith("lm_head") else "model." + name] = p
        return out


def write_safetensors_bf16(path, tensors):
    """Hugging Face safetensors: u64 header length, JSON header, then the raw little-endian data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.bfloat16).contiguous()
        raw = t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": "BF16", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def train_tokenizer(train_text, vocab_size, out_model):
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "train.txt")
        with open(corpus, "w", encoding="utf-8") as f:
            f.write(train_text)
        prefix = os.path.join(tmp, "tokenizer")
        subprocess.run([
            "spm_train", "--input=" + corpus, "--model_prefix=" + prefix, "--model_type=bpe",
            "--vocab_size=%d" % vocab_size, "--byte_fallback=true", "--character_coverage=1.0",
            "--normalization_rule_name=identity", "--remove_extra_whitespaces=false",
            "--add_dummy_prefix=true", "--split_digits=true", "--allow_whitespace_only_pieces=true",
            "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1", "--num_threads=2",
            "--max_sentence_length=100000", "--minloglevel=1"], check=True)
        os.replace(prefix + ".model", out_model)


class Windows:
    """Training batches: token windows of length seq+1 (inputs and the next-token targets)."""

    def __init__(self, sp, verses, seq, rng):
        self.seq, self.rng, self.bos = seq, rng, sp.bos_id()
        text = "".join(v + "\n" for v in verses)
        self.stream = np.array(sp.encode(text), dtype=np.int64)
        # A verse-start window: <s> and the text from that verse on, encoded as a prompt would be.
        self.sp, self.verses = sp, verses
        self.tokens = len(self.stream)

    def batch(self, size):
        rows = []
        for i in range(size):
            if i % 2 == 0:
                start = self.rng.randrange(len(self.verses))
                text, j = "", start
                while len(text) < self.seq * 6 and j < len(self.verses):
                    text += self.verses[j] + "\n"
                    j += 1
                ids = [self.bos] + self.sp.encode(text)
                ids += [self.bos] * (self.seq + 1 - len(ids))  # only at the very end of the text
                rows.append(ids[: self.seq + 1])
            else:
                start = self.rng.randrange(self.tokens - self.seq - 1)
                rows.append(self.stream[start: start + self.seq + 1].tolist())
        return torch.tensor(rows, dtype=torch.int64)


def heldout_loss(model, ids, seq):
    """Mean next-token loss over the held-out stream, in disjoint windows of seq tokens (the
    first token of each window is context only)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for begin in range(0, len(ids) - 1, seq):
            window = torch.tensor(ids[begin: begin + seq + 1])[None]
            logits = model(window[:, :-1])
            total += F.cross_entropy(logits[0], window[0, 1:], reduction="sum").item()
            count += window.shape[1] - 1
    model.train()
    return total / count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out_dir", required=True)
    ap.add_argument("--minutes", type=float, default=40.0,
                    help="wall-clock training budget (the learning-rate schedule follows the clock)")
    ap.add_argument("--steps", type=int, default=0,
                    help="train exactly this many steps instead (the schedule follows the steps)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vocab_size", type=int, default=4096)
    ap.add_argument("--hidden_size", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv_heads", type=int, default=6)
    ap.add_argument("--intermediate_size", type=int, default=1024)
    ap.add_argument("--seq", type=int, default=256, help="training window")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--autocast", type=int, default=1,
                    help="1: matmuls in bf16 (oneDNN, ~7x Debian's f32 BLAS here), f32 master weights")
    ap.add_argument("--benchmark_steps", type=int, default=0,
                    help="only time this many steps and exit (sizing runs)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    log_path = os.path.join(args.out_dir, "training_log.txt")
    log_file = open(log_path, "w")

    def log(msg):
        print(msg, flush=True)
        log_file.write(msg + "\n")
        log_file.flush()

    started = time.time()
    books = kjv_corpus.read_books()
    train_text, heldout_text = kjv_corpus.split_text(books)
    train_verses = [v for name, vs in books if name not in kjv_corpus.HELD_OUT_BOOKS for v in vs]
    tokenizer_path = os.path.join(args.out_dir, "tokenizer.model")
    train_tokenizer(train_text, args.vocab_size, tokenizer_path)
    sp = sentencepiece.SentencePieceProcessor(model_file=tokenizer_path)
    heldout_ids = [sp.bos_id()] + sp.encode(heldout_text)
    windows = Windows(sp, train_verses, args.seq, rng)
    log("data: %d training tokens (%d verses), %d held-out tokens (%s)" % (
        windows.tokens, len(train_verses), len(heldout_ids), ", ".join(kjv_corpus.HELD_OUT_BOOKS)))

    cfg = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "vocab_size": sp.get_piece_size(), "hidden_size": args.hidden_size,
        "intermediate_size": args.intermediate_size, "num_hidden_layers": args.layers,
        "num_attention_heads": args.heads, "num_key_value_heads": args.kv_heads,
        "max_position_embeddings": args.seq, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "hidden_act": "silu", "initializer_range": 0.02, "tie_word_embeddings": False,
        "attention_bias": False, "bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(),
        "torch_dtype": "bfloat16", "use_cache": True,
    }
    model = Llama(cfg)
    params = sum(p.numel() for p in model.parameters())
    log("model: %d parameters (%.1f MB in bf16), %s" % (params, params * 2 / 1e6, json.dumps(
        {k: cfg[k] for k in ("hidden_size", "intermediate_size", "num_hidden_layers",
                             "num_attention_heads", "num_key_value_heads", "vocab_size")})))
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    budget = args.minutes * 60
    warmup, step, smoothed = 100, 0, None
    train_started = time.time()

    def progress():  # 0 -> 1 over the run: by steps when --steps is given, else by the clock
        if args.steps:
            return step / args.steps
        return (time.time() - train_started) / budget

    while progress() < 1.0:
        if step == 20:
            per_step = (time.time() - train_started) / step
            log("speed: %.2f s a step of %d tokens (%.0f tokens/s)" % (
                per_step, args.batch * args.seq, args.batch * args.seq / per_step))
            if args.benchmark_steps:
                return
        lr = args.lr * min(1.0, (step + 1) / warmup) * (
            0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress()))))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = windows.batch(args.batch)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(args.autocast)):
            logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                               batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.98 * smoothed + 0.02 * loss.item()
        if step % 200 == 0:
            log("step %d  lr %.2e  train loss %.4f  (%.0f s, %.2f epochs)" % (
                step, lr, smoothed, time.time() - train_started,
                step * args.batch * args.seq / windows.tokens))
        if step % 2000 == 0:
            log("step %d  held-out loss %.4f (perplexity %.2f)" % (
                step, *(lambda l: (l, math.exp(l)))(heldout_loss(model, heldout_ids, args.seq))))

    train_seconds = time.time() - train_started
    # The numbers the model card quotes, measured on the bf16 weights that are written.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    log("trained %d steps (%.2f epochs of %d tokens)" % (
        step, step * args.batch * args.seq / windows.tokens, windows.tokens))
    final_train = smoothed
    final_heldout = heldout_loss(model, heldout_ids, args.seq)
    log("final (bf16 weights): train loss %.4f, held-out loss %.4f, held-out perplexity %.2f "
        "(windows of %d tokens); training took %.1f minutes, the whole run %.1f" % (
            final_train, final_heldout, math.exp(final_heldout), args.seq, train_seconds / 60,
            (time.time() - started) / 60))
    write_safetensors_bf16(os.path.join(args.out_dir, "model.safetensors"), model.hf_state_dict())
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": sp.bos_id(), "eos_token_id": sp.eos_id(), "do_sample": True,
                   "temperature": 0.8, "top_p": 0.95, "max_length": args.seq}, f, indent=2)
        f.write("\n")
    log("wrote %s" % args.out_dir)


if __name__ == "__main__":
    main()
