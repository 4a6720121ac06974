#!/usr/bin/python3
"""Independent PyTorch statement of ember's weight quantization scheme, and its fixture maker.

The scheme (docs/QUANTIZATION.md), written here from its definition, not from ember's code:
  weights, per output row and per group of G consecutive input features (K zero-padded to a
  multiple of G): scale = bf16(max|w| / qmax) with qmax 127 (int8) or 7 (int4);
  q = clamp(round_half_even(w / scale), -qmax, qmax); a group with scale 0 has q = 0; non-finite
  weights count as 0.
  activations, per row and per group of G: scale = max|x| / 127 (f32);
  q = clamp(round_half_even(x * (127 / max|x|)), -127, 127); an all-zero group has scale 0.
  y[m, n] = sum over groups g, in order, of float(sum_k qw[n, k] * qx[m, k]) * (sw[n, g] * sx[m, g]).

Usage: /usr/bin/python3 quant_reference.py --out tests/fixtures/quant_reference/quant_matmul.json
Writes, per case (seeded random inputs with an all-zero weight group, a zero activation row, and a
K that is not a multiple of G), the inputs, the expected weight codes and scales, activation codes
and scales, and y.
"""
import argparse
import json

import torch


def pad_k(t, group):
    k = t.shape[1]
    kp = (k + group - 1) // group * group
    out = torch.zeros(t.shape[0], kp, dtype=torch.float32)
    out[:, :k] = torch.where(torch.isfinite(t), t, torch.zeros_like(t))
    return out


def quantize_weights(w, bits, group):
    qmax = 127 if bits == 8 else 7
    wp = pad_k(w, group)
    g = wp.view(wp.shape[0], -1, group)
    absmax = g.abs().amax(dim=2)
    scale = (absmax / qmax).to(torch.bfloat16).to(torch.float32)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    q = torch.round(g / safe[..., None]).clamp(-qmax, qmax)
    q = torch.where(scale[..., None] > 0, q, torch.zeros_like(q))
    return q.reshape(wp.shape).to(torch.int64), scale


def quantize_activations(x, group):
    xp = pad_k(x, group)
    g = xp.view(xp.shape[0], -1, group)
    absmax = g.abs().amax(dim=2)
    scale = absmax / 127.0
    safe = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    q = torch.round(g * (127.0 / safe)[..., None]).clamp(-127, 127)
    q = torch.where(absmax[..., None] > 0, q, torch.zeros_like(q))
    return q.reshape(xp.shape).to(torch.int64), scale


def quant_matmul(qx, sx, qw, sw, group):
    m, kp = qx.shape
    n = qw.shape[0]
    groups = kp // group
    dots = torch.einsum("mgk,ngk->mng", qx.view(m, groups, group), qw.view(n, groups, group))
    y = torch.zeros(m, n, dtype=torch.float32)
    for gi in range(groups):
        s = sw[:, gi][None, :] * sx[:, gi][:, None]
        y = y + dots[:, :, gi].to(torch.float32) * s
    return y


class Projector:
    """x @ W^T (+ b) for a weight W [out, in] and x [..., in], as a model reference uses it: exact
    f32 when scheme is None, else the scheme (bits, group) above, each weight quantized once."""

    def __init__(self, scheme):
        self.scheme = scheme
        self.packed = {}  # id(weight) -> (weight, (codes, scales)); the weight is kept alive

    def __call__(self, x, weight, bias=None):
        if self.scheme is None:
            y = x @ weight.T
        else:
            bits, group = self.scheme
            key = id(weight)
            if key not in self.packed:
                self.packed[key] = (weight, quantize_weights(weight, bits, group))
            qw, sw = self.packed[key][1]
            rows = x.reshape(-1, x.shape[-1])
            qx, sx = quantize_activations(rows, group)
            y = quant_matmul(qx, sx, qw, sw, group).reshape(*x.shape[:-1], weight.shape[0])
        return y if bias is None else y + bias


def make_case(seed, bits, group, m, n, k):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(n, k, generator=gen) * 0.05
    x = torch.randn(m, k, generator=gen)
    w[0, :min(k, group)] = 0.0  # an all-zero group
    if m > 1:
        x[1, :] = 0.0  # an all-zero activation row
    qw, sw = quantize_weights(w, bits, group)
    qx, sx = quantize_activations(x, group)
    y = quant_matmul(qx, sx, qw, sw, group)
    return {
        "bits": bits, "group": group, "m": m, "n": n, "k": k,
        "w": [float(v) for v in w.flatten()],
        "x": [float(v) for v in x.flatten()],
        "w_codes": [int(v) for v in qw.flatten()],
        "w_scales": [float(v) for v in sw.flatten()],
        "x_codes": [int(v) for v in qx.flatten()],
        "x_scales": [float(v) for v in sx.flatten()],
        "y": [float(v) for v in y.flatten()],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    cases = []
    for i, (bits, group) in enumerate([(8, 128), (8, 32), (4, 64), (4, 32), (4, 128)]):
        cases.append(make_case(100 + i, bits, group, 3, 21, 150))
    with open(args.out, "w") as f:
        json.dump({"scheme": __doc__.split("\n\n")[1], "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
