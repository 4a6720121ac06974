#include "tools/soak/request_plan.h"

#include <algorithm>
#include <array>
#include <limits>

namespace ember::soak {
namespace {

constexpr std::array<const char*, 8> kPrompts = {
    "Once upon a time",
    "The quick brown fox jumps over the lazy dog",
    "In a hole in the ground there lived",
    "Hello",
    "It was the best of times, it was the worst of times",
    "To be or not to be",
    "A soak test runs for a long time and",
    "Numbers: 1 2 3 4 5 6 7 8 9 10",
};

// Uniform in [lo, hi] (lo <= hi).
int UniformInt(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

bool OneIn(std::mt19937_64& rng, int n) { return UniformInt(rng, 1, n) == 1; }

// The most new tokens any valid request may ask for, so prompt + generation fits the context.
int TokenCap(const RequestShape& shape) {
  if (shape.context_length <= 0) return std::numeric_limits<int>::max();
  return std::max(1, shape.context_length - kMaxPromptTokens - 1);
}

void SetPrompt(const RequestShape& shape, std::mt19937_64& rng, ember::v1::GenerateRequest& r) {
  if (shape.vocab_size > 0 && OneIn(rng, 4)) {
    const int length = UniformInt(rng, 1, kMaxPromptTokens);
    for (int i = 0; i < length; ++i)
      r.add_prompt_token_ids(UniformInt(rng, 0, shape.vocab_size - 1));
    return;
  }
  r.set_prompt(kPrompts[static_cast<size_t>(UniformInt(rng, 0, kPrompts.size() - 1))]);
}

// Greedy or sampled with a seed; now and then logprobs or a stop string, so those paths soak too.
void SetSampling(std::mt19937_64& rng, ember::v1::GenerateRequest& r) {
  ember::v1::SamplingParameters& s = *r.mutable_sampling();
  if (OneIn(rng, 3)) {
    s.set_temperature(0);
  } else {
    s.set_temperature(0.8f);
    s.set_top_p(0.95f);
    s.set_seed(rng());
  }
  if (OneIn(rng, 4)) {
    r.set_logprobs(true);
    r.set_top_logprobs(UniformInt(rng, 0, 20));
  }
  if (OneIn(rng, 4)) r.add_stop(OneIn(rng, 2) ? "e" : "the");
}

}  // namespace

ember::v1::GenerateRequest InvalidRequest(int variant, const std::string& request_id) {
  ember::v1::GenerateRequest r;
  r.set_request_id(request_id);
  r.set_prompt("Once upon a time");
  r.set_max_new_tokens(8);
  ember::v1::SamplingParameters& s = *r.mutable_sampling();
  switch (variant) {
    case 0:
      r.clear_prompt();
      break;
    case 1:
      s.set_top_p(1.5f);
      break;
    case 2:
      s.set_temperature(-1.0f);
      break;
    case 3:
      r.set_max_new_tokens(-5);
      break;
    case 4:
      r.set_max_new_tokens(1 << 30);
      break;
    case 5:
      r.clear_prompt();
      r.add_prompt_token_ids(-1);
      break;
    case 6:
      r.set_top_logprobs(21);
      break;
    case 7:
      r.add_stop("");
      break;
    case 8:
      r.add_prompt_token_ids(1);  // together with the text prompt
      break;
    case 9:
      s.set_repetition_penalty(0.0f);
      break;
    case 10:
      r.set_request_id(std::string(200, 'x'));
      break;
    case 11:
      s.set_top_k(-1);
      break;
    default:
      s.set_temperature(std::numeric_limits<float>::quiet_NaN());
      break;
  }
  return r;
}

PlannedRequest PlanRequest(RequestKind kind, const RequestShape& shape, std::mt19937_64& rng,
                           const std::string& request_id) {
  PlannedRequest plan;
  plan.kind = kind;
  if (kind == RequestKind::kInvalid) {
    plan.request = InvalidRequest(UniformInt(rng, 0, kNumInvalidVariants - 1), request_id);
    return plan;
  }
  ember::v1::GenerateRequest& r = plan.request;
  r.set_request_id(request_id);
  SetPrompt(shape, rng, r);
  SetSampling(rng, r);
  const int cap = TokenCap(shape);
  switch (kind) {
    case RequestKind::kNormal:
      r.set_max_new_tokens(std::min(cap, UniformInt(rng, 1, shape.max_new_tokens)));
      break;
    case RequestKind::kCancel:
      // Stop strings and EOS could end the stream before the k-th token: none here.
      r.clear_stop();
      r.set_ignore_eos(true);
      plan.cancel_after_tokens =
          std::min(cap - 1, UniformInt(rng, 1, shape.cancel_after_tokens_max));
      plan.cancel_after_tokens = std::max(1, plan.cancel_after_tokens);
      r.set_max_new_tokens(std::min(cap, plan.cancel_after_tokens + 64));
      break;
    case RequestKind::kDeadline:
      r.set_ignore_eos(OneIn(rng, 2));
      r.set_max_new_tokens(std::min(cap, 1024));
      plan.deadline =
          absl::Milliseconds(UniformInt(rng, shape.deadline_min_ms, shape.deadline_max_ms));
      break;
    case RequestKind::kSlowRead:
      r.set_max_new_tokens(std::min(cap, UniformInt(rng, 1, shape.max_new_tokens)));
      // The largest messages the API has (about 20x a plain token's bytes), so unread output
      // presses on gRPC's flow-control window and the server's per-stream buffer.
      r.set_logprobs(true);
      r.set_top_logprobs(20);
      plan.read_delay = absl::Milliseconds(
          UniformInt(rng, shape.slow_read_delay_ms / 2, shape.slow_read_delay_ms));
      break;
    case RequestKind::kInvalid:
      break;
  }
  return plan;
}

}  // namespace ember::soak
