#include "core/kernels/reference/reference_kernels.h"

#include <cmath>
#include <limits>
#include <vector>

namespace ember::reference {

void Linear(const float* x, int64_t m, int64_t k, const float* w, const float* bias, int64_t n,
            float* y) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = bias != nullptr ? bias[j] : 0.0;
      for (int64_t p = 0; p < k; ++p) acc += static_cast<double>(x[i * k + p]) * w[j * k + p];
      y[i * n + j] = static_cast<float>(acc);
    }
  }
}

void LayerNorm(const float* x, int64_t m, int64_t n, const float* gamma, const float* beta,
               float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * n;
    double mean = 0.0;
    for (int64_t j = 0; j < n; ++j) mean += row[j];
    mean /= static_cast<double>(n);
    double var = 0.0;
    for (int64_t j = 0; j < n; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < n; ++j) {
      y[i * n + j] = static_cast<float>((row[j] - mean) * inv * gamma[j] + beta[j]);
    }
  }
}

void RmsNorm(const float* x, int64_t m, int64_t n, const float* gamma, float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* row = x + i * n;
    double ss = 0.0;
    for (int64_t j = 0; j < n; ++j) ss += static_cast<double>(row[j]) * row[j];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t j = 0; j < n; ++j) y[i * n + j] = static_cast<float>(row[j] * inv * gamma[j]);
  }
}

void GeluTanh(float* x, int64_t count) {
  const double c = std::sqrt(2.0 / M_PI);
  for (int64_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v))));
  }
}

void GeluErf(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
  }
}

void Silu(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(v / (1.0 + std::exp(-v)));
  }
}

void Softmax(float* x, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = x + i * n;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < n; ++j) max = std::max(max, row[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(row[j]) - max);
    for (int64_t j = 0; j < n; ++j) {
      row[j] = static_cast<float>(std::exp(static_cast<double>(row[j]) - max) / sum);
    }
  }
}

void RopeRotateHalf(float* x, int64_t num_tokens, int64_t num_heads, int64_t head_dim,
                    const int32_t* positions, const float* inv_freq) {
  const int64_t half = head_dim / 2;
  for (int64_t t = 0; t < num_tokens; ++t) {
    for (int64_t h = 0; h < num_heads; ++h) {
      float* v = x + (t * num_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        // HF computes freqs in f32: (position * inv_freq) then cos/sin.
        const float angle = static_cast<float>(positions[t]) * inv_freq[i];
        const double c = std::cos(angle);
        const double s = std::sin(angle);
        const double a = v[i];
        const double b = v[i + half];
        v[i] = static_cast<float>(a * c - b * s);
        v[i + half] = static_cast<float>(b * c + a * s);
      }
    }
  }
}

void CausalAttention(const float* q, const float* k, const float* v, int64_t num_tokens,
                     int64_t past, int64_t num_heads, int64_t num_kv_heads, int64_t head_dim,
                     float* out) {
  const int64_t group = num_heads / num_kv_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  std::vector<double> scores(static_cast<size_t>(past + num_tokens));
  for (int64_t t = 0; t < num_tokens; ++t) {
    const int64_t visible = past + t + 1;
    for (int64_t h = 0; h < num_heads; ++h) {
      const int64_t kvh = h / group;
      const float* qv = q + (t * num_heads + h) * head_dim;
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t s = 0; s < visible; ++s) {
        const float* kv = k + (s * num_kv_heads + kvh) * head_dim;
        double dot = 0.0;
        for (int64_t d = 0; d < head_dim; ++d) dot += static_cast<double>(qv[d]) * kv[d];
        scores[s] = dot * scale;
        max = std::max(max, scores[s]);
      }
      double sum = 0.0;
      for (int64_t s = 0; s < visible; ++s) {
        scores[s] = std::exp(scores[s] - max);
        sum += scores[s];
      }
      float* o = out + (t * num_heads + h) * head_dim;
      for (int64_t d = 0; d < head_dim; ++d) {
        double acc = 0.0;
        for (int64_t s = 0; s < visible; ++s) {
          acc += scores[s] * v[(s * num_kv_heads + kvh) * head_dim + d];
        }
        o[d] = static_cast<float>(acc / sum);
      }
    }
  }
}

}  // namespace ember::reference
