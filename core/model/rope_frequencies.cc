#include "core/model/rope_frequencies.h"

#include <cmath>

namespace ember {

std::vector<float> RopeInverseFrequencies(const ModelConfig& config) {
  const int64_t dim = config.head_dim;
  std::vector<float> inv_freq(static_cast<size_t>(dim / 2));
  const float base = static_cast<float>(config.rope_theta);
  for (int64_t i = 0; i < dim / 2; ++i) {
    // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all in float32.
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    inv_freq[i] = 1.0f / std::pow(base, exponent);
  }
  const RopeScaling& s = config.rope_scaling;
  switch (s.type) {
    case RopeScalingType::kNone:
      break;
    case RopeScalingType::kLinear:
      for (float& f : inv_freq) f = static_cast<float>(f / s.factor);
      break;
    case RopeScalingType::kLlama3: {
      // transformers' _compute_llama3_parameters.
      const double old_context = static_cast<double>(s.original_max_position_embeddings);
      const double low_freq_wavelen = old_context / s.low_freq_factor;
      const double high_freq_wavelen = old_context / s.high_freq_factor;
      for (float& f : inv_freq) {
        const double wavelen = 2.0 * M_PI / f;
        if (wavelen > low_freq_wavelen) {
          f = static_cast<float>(f / s.factor);
        } else if (wavelen >= high_freq_wavelen) {
          const double smooth = (old_context / wavelen - s.low_freq_factor) /
                                (s.high_freq_factor - s.low_freq_factor);
          f = static_cast<float>((1.0 - smooth) * f / s.factor + smooth * f);
        }
      }
      break;
    }
  }
  return inv_freq;
}

}  // namespace ember
