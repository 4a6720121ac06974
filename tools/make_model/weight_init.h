// Deterministic random weights: the same (seed, tensor name, element index) gives the same value
// on every run and every IEEE-754 machine.
//
// Each tensor draws from its own counter-based stream (SplitMix64 keyed by the seed and the
// tensor's name), so a value does not depend on which tensors come before it, on chunking, or on
// sharding: a sharded checkpoint holds exactly the bytes of the single-file one. Normal deviates
// use the Irwin-Hall sum of four 16-bit uniforms (one 64-bit draw, pure integer arithmetic and one
// float multiply), not Box-Muller, whose libm calls may differ between platforms in the last bit.
// The tails stop at +-3.46 standard deviations, which suits initial weights.
#ifndef EMBER_TOOLS_MAKE_MODEL_WEIGHT_INIT_H_
#define EMBER_TOOLS_MAKE_MODEL_WEIGHT_INIT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/tensor/dtype.h"
#include "tools/make_model/model_spec.h"

namespace ember::tools {

// The stream key of one tensor.
uint64_t TensorStreamKey(uint64_t seed, absl::string_view tensor_name);

// Writes elements [first, first + out.size()) of the tensor whose stream is `key`, drawn as
// `init` with standard deviation `std`.
void FillWeights(uint64_t key, InitKind init, double std, uint64_t first, absl::Span<float> out);

// Writes elements [first, first + out.size()) of Marian's [positions, dim] sinusoid table
// (row-major; dim even): for position p and i < dim / 2, angle = p / 10000^(2i / dim),
// row p = [sin(angle_0..), cos(angle_0..)]. Computed in double and rounded once to float, as
// transformers' MarianSinusoidalPositionalEmbedding builds it with numpy.
void FillSinusoids(int64_t dim, uint64_t first, absl::Span<float> out);

// Appends `values` converted to `dtype` (round to nearest even), little-endian, to `bytes`.
void AppendAsDType(absl::Span<const float> values, DType dtype, std::string& bytes);

}  // namespace ember::tools

#endif  // EMBER_TOOLS_MAKE_MODEL_WEIGHT_INIT_H_
