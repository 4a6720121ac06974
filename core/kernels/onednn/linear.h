// A fully connected layer (y = x W^T + b, optionally activated, optionally accumulated into y) on a
// oneDNN matmul. The weights are reordered once, at load, into the blocked layout oneDNN prefers
// for this CPU (format_tag::any), stored in caller-provided memory (the model's weight arena).
// Matmul primitives are made once per (row class, accumulate) and reused across steps: callers
// that pad their activations to RowClass(m) rows and Prepare the classes they will use up front
// never create a primitive on the hot path (creating one is a JIT compile: milliseconds).
//
// dnnl.hpp stays inside core/kernels/onednn/*.cc: this header exposes only plain types.
#ifndef EMBER_CORE_KERNELS_ONEDNN_LINEAR_H_
#define EMBER_CORE_KERNELS_ONEDNN_LINEAR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/kernels/linear_layer.h"
#include "core/tensor/dtype.h"

namespace ember::onednn {

// Activation fused into the matmul as a oneDNN eltwise post-op.
enum class LinearActivation : uint8_t {
  kNone,
  kGeluTanh,  // GPT-2 gelu_new
  kGeluErf,
  kSilu,
  kRelu,
};

// How the source weight matrix is laid out in memory.
enum class WeightLayout : uint8_t {
  kOutIn,  // [out, in]: torch.nn.Linear (Llama, the LM head over embeddings)
  kInOut,  // [in, out]: GPT-2's Conv1D
};

struct LinearShape {
  int64_t in = 0;   // K: input features
  int64_t out = 0;  // N: output features
  // Type the weights are stored and multiplied in: kF32, or kBF16 (then activations must be
  // given as bf16 too: oneDNN 2.6 has no f32 x bf16 matmul).
  DType compute = DType::kF32;
  LinearActivation activation = LinearActivation::kNone;
  bool has_bias = false;
};

// The source of one weight matrix: row-major values of `dtype` (F32/F16/BF16) with any alignment.
struct WeightSource {
  const void* data = nullptr;
  DType dtype = DType::kF32;
  WeightLayout layout = WeightLayout::kOutIn;
};

class Linear final : public LinearLayer {
 public:
  ~Linear() override;
  Linear(const Linear&) = delete;
  Linear& operator=(const Linear&) = delete;

  // Bytes of packed weight storage (plus bias) that Create needs, rounded up to 64.
  static absl::StatusOr<size_t> StorageBytes(const LinearShape& shape);

  // Packs `weights` (and `bias`, `shape.out` f32 values, when shape.has_bias) into `storage`,
  // which must hold StorageBytes(shape) bytes, be 64-byte aligned, and outlive the Linear.
  static absl::StatusOr<std::unique_ptr<Linear>> Create(const LinearShape& shape,
                                                        const WeightSource& weights,
                                                        const float* bias, void* storage);

  // y[m, out] = act(x[m, in] W^T + b) (+ y's previous contents when `accumulate`, applied after
  // the activation). x is f32 or bf16 as shape().compute says; y is f32. Not thread-safe: one
  // caller at a time (the engine loop); the matmul itself runs on all oneDNN threads.
  absl::Status Forward(const void* x, int64_t m, float* y, bool accumulate = false) override;

  // The row class of M: M itself up to 16 (decode batches, where every row is a sequence), then
  // rounded up to a multiple of 8 up to 64, then of 32. At most 31 padding rows above 64, so the
  // wasted work stays under ~1/3 at M = 65 and falls below 5% past M = 640.
  static int64_t RowClass(int64_t m);
  // Every row class up to RowClass(max_rows), ascending.
  static std::vector<int64_t> RowClassesUpTo(int64_t max_rows);

  // Creates the primitive for exactly `m` rows (a RowClass value, normally) ahead of its first
  // Forward. Idempotent.
  absl::Status Prepare(int64_t m, bool accumulate) override;
  // Primitives this Linear has created so far (tests assert warm-up leaves the hot path none).
  int64_t primitives_created() const override;

  const LinearShape& shape() const { return shape_; }
  int64_t in() const override { return shape_.in; }
  int64_t out() const override { return shape_.out; }
  // oneDNN's implementation name for a given M (e.g. "brg:avx512_core_bf16"), for logs/benchmarks.
  absl::StatusOr<std::string> ImplementationName(int64_t m);

 private:
  struct Impl;
  Linear(const LinearShape& shape, std::unique_ptr<Impl> impl);
  LinearShape shape_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ember::onednn

#endif  // EMBER_CORE_KERNELS_ONEDNN_LINEAR_H_
