// Rotary inverse frequencies for a config, as Hugging Face's ROPE_INIT_FUNCTIONS compute them.
#ifndef EMBER_CORE_MODEL_ROPE_FREQUENCIES_H_
#define EMBER_CORE_MODEL_ROPE_FREQUENCIES_H_

#include <vector>

#include "core/model/model_config.h"

namespace ember {

// head_dim / 2 values: 1 / theta^(2i / head_dim) in f32 (as torch computes them), rescaled by
// config.rope_scaling (linear: / factor; llama3: the wavelength-dependent blend).
std::vector<float> RopeInverseFrequencies(const ModelConfig& config);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_ROPE_FREQUENCIES_H_
