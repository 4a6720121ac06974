#include "bench/marian_bench_costs.h"

#include <utility>

#include "core/kernels/onednn/linear.h"

namespace ember::bench {

absl::StatusOr<MarianStepCosts> ComputeMarianStepCosts(const ModelConfig& c, DType compute) {
  if (!c.encoder_decoder.has_value()) {
    return absl::InvalidArgumentError("not an encoder-decoder (marian) model");
  }
  const int64_t e = c.hidden_size;
  const int64_t f = c.intermediate_size;
  const int64_t layers = c.num_layers;
  struct Spec {
    MarianStepMatmul matmul;
    bool bias;
  };
  // Every Marian projection has a bias; the LM head's final_logits_bias is added outside it.
  const std::vector<Spec> specs = {
      {{"self_qkv", e, 3 * e, layers}, true},
      {{"self_out", e, e, layers}, true},
      {{"cross_q", e, e, layers}, true},
      {{"cross_out", e, e, layers}, true},
      {{"fc1", e, f, layers}, true},
      {{"fc2", f, e, layers}, true},
      {{"lm_head", e, c.vocab_size, 1}, false},
  };
  MarianStepCosts costs;
  for (const Spec& s : specs) {
    onednn::LinearShape shape;
    shape.in = s.matmul.in;
    shape.out = s.matmul.out;
    shape.compute = compute;
    shape.has_bias = s.bias;
    absl::StatusOr<size_t> bytes = onednn::Linear::StorageBytes(shape);
    if (!bytes.ok()) return bytes.status();
    MarianStepMatmul m = s.matmul;
    m.bytes = static_cast<double>(*bytes);
    const double params = static_cast<double>(m.in) * static_cast<double>(m.out);
    const double count = static_cast<double>(m.count);
    if (m.name == "lm_head") {
      costs.lm_head_params = params;
    } else {
      costs.layer_params += count * params;
    }
    costs.weight_bytes += count * m.bytes;
    costs.matmuls.push_back(std::move(m));
  }
  return costs;
}

}  // namespace ember::bench
