// Plain reference kernels: straightforward loops in f32 (accumulating in double where it costs
// nothing to be exact). They are the test oracle for the optimized kernels and are never on the
// serving hot path. Every function is a direct transcription of the Hugging Face semantics named in
// its comment. Row-major everywhere.
#ifndef EMBER_CORE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
#define EMBER_CORE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_

#include <cstdint>

namespace ember::reference {

// y[m, n] = sum_k x[m, k] * w[n, k] + bias[n]   (torch.nn.Linear layout: w is [out, in]).
// `bias` may be null.
void Linear(const float* x, int64_t m, int64_t k, const float* w, const float* bias, int64_t n,
            float* y);

// LayerNorm over the last dimension of x[m, n] (biased variance, like torch.nn.LayerNorm).
void LayerNorm(const float* x, int64_t m, int64_t n, const float* gamma, const float* beta,
               float eps, float* y);

// RMSNorm (LlamaRMSNorm): y = x / sqrt(mean(x^2) + eps) * gamma.
void RmsNorm(const float* x, int64_t m, int64_t n, const float* gamma, float eps, float* y);

// GPT-2's gelu_new (tanh approximation), in place over `count` values.
void GeluTanh(float* x, int64_t count);
// Exact gelu (erf), in place.
void GeluErf(float* x, int64_t count);
// SiLU / swish, in place.
void Silu(float* x, int64_t count);

// Softmax over the last dimension of x[m, n], in place; -inf entries get probability 0.
void Softmax(float* x, int64_t m, int64_t n);

// Rotary embedding, Llama "rotate half" convention: for each head of `head_dim` values in
// x[num_tokens, num_heads, head_dim], pairs (i, i + head_dim/2) are rotated by
// positions[t] * inv_freq[i]. `inv_freq` has head_dim/2 entries (already scaled, e.g. llama3).
void RopeRotateHalf(float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
                    const int32_t* positions, const float* inv_freq);

// Causal multi-head attention with grouped-query heads for one sequence, no cache:
// q[t, num_heads, head_dim], k/v[t, num_kv_heads, head_dim] for t in [0, num_tokens);
// query t attends to keys [0, past + t] where the first `past` keys are earlier context
// (k/v then have past + num_tokens rows and q has num_tokens rows). out[t, num_heads, head_dim].
// Scale is 1/sqrt(head_dim). Head h reads kv head h / (num_heads / num_kv_heads) (repeat_kv).
void CausalAttention(const float* q, const float* k, const float* v, int64_t num_tokens,
                     int64_t past, int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                     float* out);

}  // namespace ember::reference

#endif  // EMBER_CORE_KERNELS_REFERENCE_REFERENCE_KERNELS_H_
