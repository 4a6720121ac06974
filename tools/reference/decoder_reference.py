#!/usr/bin/python3
"""Independent PyTorch reference for ember's decoder-only models (GPT-2 and the Llama family).

Written straight from the Hugging Face `transformers` modeling semantics (modeling_gpt2.py,
modeling_llama.py, modeling_qwen2.py), not from ember's code: GPT-2 Conv1D layout (x @ W + b),
learned positions, LayerNorm, gelu_new; Llama RMSNorm, rotate-half RoPE with rope_theta and llama3
rope_scaling, repeat_kv for grouped-query attention, SwiGLU, q/k/v biases (qwen2), tied or untied
LM head. It reads config.json and model.safetensors (or the sharded index) itself, with numpy.

Usage: /usr/bin/python3 decoder_reference.py --model DIR --prompts '[[1,2,3],[4,5]]' \
          --new-tokens 8 --out fixture.json [--quantize int8g128|int4g64|...]
With --quantize, every projection and the LM head multiply as ember's quantized weight scheme
defines it (docs/QUANTIZATION.md, stated in quant_reference.py): weights quantized per output row
and group, the activations reaching each projection quantized per row and group at run time, the
product summed group by group. Embeddings, norms, attention and the rest stay in f32.
Writes, per prompt: the f32 logits at the last prompt position and the greedy continuation (with
the logits of every greedy step's chosen token and the margin to the runner-up, so a test can tell
a true mismatch from a near-tie).
"""
import argparse
import json
import math
import os
import struct

import numpy as np
import torch

import quant_reference

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[base + begin : base + end]
        if info["dtype"] == "BF16":
            u16 = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u16.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[info["dtype"]]).astype(np.float32)
        tensors[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return tensors


def load_checkpoint(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        tensors = {}
        for shard in shards:
            tensors.update(read_safetensors(os.path.join(model_dir, shard)))
        return tensors
    return read_safetensors(os.path.join(model_dir, "model.safetensors"))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {
    "gelu_new": gelu_new,
    "gelu_pytorch_tanh": gelu_new,
    "gelu": torch.nn.functional.gelu,
    "relu": torch.relu,
    "silu": torch.nn.functional.silu,
}


class Gpt2:
    def __init__(self, cfg, w, project):
        self.cfg, self.w, self.project = cfg, w, project
        self.p = "transformer." if "transformer.wte.weight" in w else ""
        self.h = cfg["n_embd"]
        self.heads = cfg["n_head"]
        self.eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.act = ACT[cfg.get("activation_function", "gelu_new")]

    def ln(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.h,), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def conv1d(self, x, name):  # transformers.pytorch_utils.Conv1D: x @ weight + bias
        key = name + ".weight.T"
        if key not in self.w:  # Conv1D stores [in, out]; the projector takes [out, in]
            self.w[key] = self.w[name + ".weight"].T.contiguous()
        return self.project(x, self.w[key], self.w[name + ".bias"])

    def logits(self, ids):
        w, p, t = self.w, self.p, len(ids)
        x = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][torch.arange(t)]
        hd = self.h // self.heads
        mask = torch.full((t, t), float("-inf")).triu(1)
        for i in range(self.cfg["n_layer"]):
            b = f"{p}h.{i}"
            qkv = self.conv1d(self.ln(x, b + ".ln_1"), b + ".attn.c_attn")
            q, k, v = qkv.split(self.h, dim=-1)
            q, k, v = (z.view(t, self.heads, hd).transpose(0, 1) for z in (q, k, v))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1) @ v
            x = x + self.conv1d(att.transpose(0, 1).reshape(t, self.h), b + ".attn.c_proj")
            m = self.act(self.conv1d(self.ln(x, b + ".ln_2"), b + ".mlp.c_fc"))
            x = x + self.conv1d(m, b + ".mlp.c_proj")
        x = self.ln(x, p + "ln_f")
        head = w[p + "wte.weight"] if self.cfg.get("tie_word_embeddings", True) else w["lm_head.weight"]
        return self.project(x, head)


def llama_inv_freq(cfg, hd):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            inv = inv / rs["factor"]
        elif kind == "llama3":
            factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            lo_wl, hi_wl = old / lo, old / hi
            wl = 2 * math.pi / inv
            inv_l = torch.where(wl > lo_wl, inv / factor, inv)
            smooth = (old / wl - lo) / (hi - lo)
            smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
            medium = ~(wl < hi_wl) * ~(wl > lo_wl)
            inv = torch.where(medium, smoothed, inv_l)
    return inv


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


class Llama:
    def __init__(self, cfg, w, project):
        self.cfg, self.w, self.project = cfg, w, project
        self.h = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.kv = cfg.get("num_key_value_heads") or self.heads
        self.hd = cfg.get("head_dim") or self.h // self.heads
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.inv_freq = llama_inv_freq(cfg, self.hd)

    def rms(self, x, name):  # LlamaRMSNorm
        var = x.pow(2).mean(-1, keepdim=True)
        return self.w[name] * (x * torch.rsqrt(var + self.eps))

    def linear(self, x, name):
        return self.project(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    def logits(self, ids):
        w, t, hd = self.w, len(ids), self.hd
        x = w["model.embed_tokens.weight"][ids]
        pos = torch.arange(t).float()
        freqs = pos[:, None] * self.inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((t, t), float("-inf")).triu(1)
        group = self.heads // self.kv
        for i in range(self.cfg["num_hidden_layers"]):
            b = f"model.layers.{i}"
            hs = self.rms(x, b + ".input_layernorm.weight")
            q = self.linear(hs, b + ".self_attn.q_proj").view(t, self.heads, hd).transpose(0, 1)
            k = self.linear(hs, b + ".self_attn.k_proj").view(t, self.kv, hd).transpose(0, 1)
            v = self.linear(hs, b + ".self_attn.v_proj").view(t, self.kv, hd).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(group, dim=0)  # repeat_kv
            v = v.repeat_interleave(group, dim=0)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1) @ v
            x = x + self.linear(att.transpose(0, 1).reshape(t, self.heads * hd), b + ".self_attn.o_proj")
            hs = self.rms(x, b + ".post_attention_layernorm.weight")
            gate = torch.nn.functional.silu(self.linear(hs, b + ".mlp.gate_proj"))
            x = x + self.linear(gate * self.linear(hs, b + ".mlp.up_proj"), b + ".mlp.down_proj")
        x = self.rms(x, "model.norm.weight")
        head = w["model.embed_tokens.weight"] if self.cfg.get("tie_word_embeddings", False) else w["lm_head.weight"]
        return self.project(x, head)


def load_model(model_dir, quantize=""):
    """The checkpoint's Gpt2 or Llama, multiplying as `quantize` ("", or int<bits>g<group> such as
    int8g128) says."""
    scheme = None
    if quantize:
        bits, group = quantize[3:].split("g")
        scheme = (int(bits), int(group))
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    w = load_checkpoint(model_dir)
    project = quant_reference.Projector(scheme)
    return Gpt2(cfg, w, project) if cfg["model_type"] == "gpt2" else Llama(cfg, w, project)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", required=True, help="JSON list of token id lists")
    ap.add_argument("--new-tokens", type=int, default=8)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quantize", default="", help="int<bits>g<group>, e.g. int8g128 or int4g64")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    model = load_model(args.model, args.quantize)
    results = []
    for prompt in json.loads(args.prompts):
        ids = list(prompt)
        last_logits = model.logits(torch.tensor(ids))[-1]
        greedy, chosen, margins = [], [], []
        cur = list(ids)
        for _ in range(args.new_tokens):
            row = model.logits(torch.tensor(cur))[-1]
            top = torch.topk(row, 2)
            tok = int(top.indices[0])
            greedy.append(tok)
            chosen.append(float(top.values[0]))
            margins.append(float(top.values[0] - top.values[1]))
            cur.append(tok)
        results.append({
            "prompt": ids,
            "last_logits": [float(v) for v in last_logits],
            "greedy": greedy,
            "greedy_logit": chosen,
            "greedy_margin": margins,
        })
    fixture = {
        "generator": "tools/reference/decoder_reference.py (PyTorch %s, f32%s)"
        % (torch.__version__, ", weights " + args.quantize if args.quantize else ""),
        "model": os.path.basename(os.path.normpath(args.model)),
        "results": results,
    }
    with open(args.out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


if __name__ == "__main__":
    main()
