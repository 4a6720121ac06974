#include "core/model/forward_profile.h"

#include <algorithm>

namespace ember {

const char* ForwardOpName(ForwardOp op) {
  switch (op) {
    case ForwardOp::kSetup:
      return "setup";
    case ForwardOp::kEmbed:
      return "embed";
    case ForwardOp::kNorm:
      return "norm";
    case ForwardOp::kQkv:
      return "qkv matmul";
    case ForwardOp::kRope:
      return "rope";
    case ForwardOp::kStoreKv:
      return "store kv";
    case ForwardOp::kAttention:
      return "attention";
    case ForwardOp::kAttnOut:
      return "attn_out matmul";
    case ForwardOp::kMlpIn:
      return "mlp_in matmul";
    case ForwardOp::kActivation:
      return "activation";
    case ForwardOp::kMlpOut:
      return "mlp_out matmul";
    case ForwardOp::kLmHead:
      return "lm_head (+gather)";
    case ForwardOp::kCount:
      break;
  }
  return "?";
}

void ForwardProfile::Add(const ForwardProfile& other) {
  for (size_t i = 0; i < seconds.size(); ++i) {
    seconds[i] += other.seconds[i];
    calls[i] += other.calls[i];
  }
  total_seconds += other.total_seconds;
  steps += other.steps;
}

ForwardProfile MinPerStep(const std::vector<ForwardProfile>& steps) {
  ForwardProfile min;
  if (steps.empty()) return min;
  min = steps.front();
  for (const ForwardProfile& p : steps) {
    for (size_t i = 0; i < min.seconds.size(); ++i) {
      min.seconds[i] = std::min(min.seconds[i], p.seconds[i] / static_cast<double>(p.steps));
      min.calls[i] = p.calls[i] / p.steps;
    }
    min.total_seconds = std::min(min.total_seconds, p.total_seconds / static_cast<double>(p.steps));
  }
  min.steps = 1;
  return min;
}

ForwardProfile SumOf(const std::vector<ForwardProfile>& steps) {
  ForwardProfile sum;
  for (const ForwardProfile& p : steps) sum.Add(p);
  return sum;
}

}  // namespace ember
