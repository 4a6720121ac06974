// Fuzzes the sampler (core/engine/sampler.h) with hostile logits (NaN, +-Inf, huge, denormal) and
// any sampling parameters.
//
// Input (FuzzedDataProvider): vocabulary size, the seven float parameters (each an edge value or
// raw bits), top_k, top_logprobs, logprobs, seed, prompt ids (in range or not), then rounds of
// logits.
//
// Invariant: parameters ValidateSamplingParams (core/engine/request_validation.h) refuses are
// refused with INVALID_ARGUMENT `field: problem` naming the field by its API path (and never reach
// a Sampler, whose documented precondition is validated parameters); with accepted ones every
// sampled id is inside [0, vocab), a returned log-probability is never NaN nor above 0, and the top
// alternatives are distinct in-range ids, at most top_logprobs of them.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/engine/request_validation.h"
#include "core/engine/sampler.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kEdges[] = {0.0f,    -0.0f, 1.0f,  -1.0f,  0.5f,  2.0f,   100.0f, 1e-45f,
                            1e-30f,  1e30f, 3e38f, -3e38f, kInf,  -kInf,  kNaN,   -kNaN,
                            0.9999f, 10.0f, 20.0f, -2.0f,  1e-7f, 101.0f, 11.0f};

float Float(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return kEdges[in.ConsumeIntegralInRange<size_t>(0, std::size(kEdges) - 1)];
  const uint32_t bits = in.ConsumeIntegral<uint32_t>();
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

SamplingParams Params(FuzzedDataProvider& in) {
  SamplingParams p;
  p.temperature = Float(in);
  p.top_k = in.ConsumeIntegralInRange<int32_t>(-2, 300);
  p.top_p = Float(in);
  p.min_p = Float(in);
  p.repetition_penalty = Float(in);
  p.presence_penalty = Float(in);
  p.frequency_penalty = Float(in);
  p.logprobs = in.ConsumeBool();
  p.top_logprobs = in.ConsumeIntegralInRange<int32_t>(-1, 21);
  return p;
}

void CheckRefusal(const absl::Status& status) {
  EMBER_FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, status.ToString());
  bool named = false;
  for (const char* field :
       {"sampling.temperature", "sampling.top_k", "sampling.top_p", "sampling.min_p",
        "sampling.repetition_penalty", "sampling.presence_penalty", "sampling.frequency_penalty",
        "top_logprobs"}) {
    named = named || absl::StartsWith(status.message(), absl::StrCat(field, ": "));
  }
  EMBER_FUZZ_CHECK(named, "refusal names no field: ", status.message());
}

void CheckSample(const SampledToken& s, const SamplingParams& p, int64_t vocab) {
  EMBER_FUZZ_CHECK(s.token >= 0 && s.token < vocab, "sampled id ", s.token, " outside [0, ", vocab,
                   ")");
  if (p.logprobs || p.top_logprobs > 0) {
    EMBER_FUZZ_CHECK(!std::isnan(s.logprob) && s.logprob <= 0, "logprob ", s.logprob);
  }
  EMBER_FUZZ_CHECK(static_cast<int64_t>(s.top.size()) <= p.top_logprobs, s.top.size(),
                   " alternatives for top_logprobs ", p.top_logprobs);
  std::set<int32_t> seen;
  for (const TokenLogprob& t : s.top) {
    EMBER_FUZZ_CHECK(t.token >= 0 && t.token < vocab && seen.insert(t.token).second,
                     "alternative id ", t.token);
    EMBER_FUZZ_CHECK(!std::isnan(t.logprob) && t.logprob <= 0, "alternative logprob ", t.logprob);
  }
}

void Run(FuzzedDataProvider& in) {
  const int64_t vocab = in.ConsumeIntegralInRange<int64_t>(1, 300);
  const SamplingParams params = Params(in);
  if (const absl::Status valid = ValidateSamplingParams(params); !valid.ok()) {
    CheckRefusal(valid);
    return;
  }
  const uint64_t seed = in.ConsumeIntegral<uint64_t>();
  std::vector<int32_t> prompt(in.ConsumeIntegralInRange<size_t>(0, 8));
  for (int32_t& t : prompt)
    t = in.ConsumeIntegralInRange<int32_t>(-2, static_cast<int32_t>(vocab) + 2);
  Sampler sampler(params, seed, prompt);
  std::vector<float> logits(static_cast<size_t>(vocab));
  for (int round = 0; round < 4 && in.remaining_bytes() > 0; ++round) {
    for (float& l : logits) l = in.remaining_bytes() > 0 ? Float(in) : 0.0f;
    CheckSample(sampler.Sample(logits.data(), vocab), params, vocab);
  }
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ember::Run(in);
  return 0;
}
