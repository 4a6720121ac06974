// Rotary position embedding (Llama "rotate half" convention) with a precomputed cos/sin table.
#ifndef EMBER_CORE_KERNELS_ROPE_H_
#define EMBER_CORE_KERNELS_ROPE_H_

#include <cstdint>
#include <vector>

namespace ember {

// cos/sin of position * inv_freq[i] for positions [0, max_positions), computed the way Hugging Face
// does (the angle as an f32 product, then cos/sin), so rotated values agree with PyTorch to f32
// rounding. Immutable after construction; safe to share across threads.
class RopeTable {
 public:
  // `inv_freq` has head_dim / 2 entries, already scaled (e.g. llama3 rope_scaling).
  RopeTable(std::vector<float> inv_freq, int64_t max_positions);

  int64_t half_dim() const { return static_cast<int64_t>(inv_freq_.size()); }
  int64_t max_positions() const { return max_positions_; }
  const float* cos(int64_t position) const { return cos_.data() + position * half_dim(); }
  const float* sin(int64_t position) const { return sin_.data() + position * half_dim(); }

 private:
  std::vector<float> inv_freq_;
  int64_t max_positions_;
  std::vector<float> cos_;  // [max_positions, half_dim]
  std::vector<float> sin_;  // [max_positions, half_dim]
};

// Rotates `num_heads` heads of each of `num_tokens` rows in place. Row t starts at x + t *
// row_stride and holds the heads back to back ([num_heads, 2 * half_dim]); positions[t] <
// max_positions.
void ApplyRope(float* x, int64_t num_tokens, int64_t row_stride, int64_t num_heads,
               const int32_t* positions, const RopeTable& table);

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_ROPE_H_
