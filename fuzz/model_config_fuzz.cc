// Fuzzes config.json parsing into ModelConfig (core/model/model_config.h).
//
// Invariant: an accepted config is one the engine can size buffers from: every size is positive,
// num_kv_heads divides num_heads, rotary (Llama family) head_dim is even, the served context is
// positive and within max_position_embeddings (and the sliding window), every special token id is
// inside the vocabulary, and every floating-point setting is finite and in its documented range.
// A rejected config gives INVALID_ARGUMENT starting with the file name.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/model/model_config.h"
#include "fuzz/fuzz_util.h"

namespace ember {
namespace {

constexpr absl::string_view kName = "config.json";

void CheckTokenId(int32_t id, const ModelConfig& c, absl::string_view what) {
  EMBER_FUZZ_CHECK(id >= 0 && id < c.vocab_size, what, " ", id, " outside [0, ", c.vocab_size, ")");
}

void CheckAccepted(const ModelConfig& c) {
  EMBER_FUZZ_CHECK(
      c.architecture == (c.model_type == "gpt2" ? Architecture::kGpt2 : Architecture::kLlama),
      "model_type ", c.model_type, " parsed as ", ArchitectureName(c.architecture));
  for (const auto& [name, value] : {std::pair{"vocab_size", c.vocab_size},
                                    {"hidden_size", c.hidden_size},
                                    {"num_layers", c.num_layers},
                                    {"num_heads", c.num_heads},
                                    {"num_kv_heads", c.num_kv_heads},
                                    {"head_dim", c.head_dim},
                                    {"intermediate_size", c.intermediate_size},
                                    {"max_position_embeddings", c.max_position_embeddings},
                                    {"max_context", c.max_context}}) {
    EMBER_FUZZ_CHECK(value > 0, name, " is ", value);
  }
  // Token ids are int32 everywhere in ember.
  EMBER_FUZZ_CHECK(c.vocab_size <= std::numeric_limits<int32_t>::max(), "vocab_size ", c.vocab_size,
                   " past int32 token ids");
  EMBER_FUZZ_CHECK(c.num_heads % c.num_kv_heads == 0, "num_kv_heads ", c.num_kv_heads,
                   " does not divide num_heads ", c.num_heads);
  if (c.architecture == Architecture::kLlama) {
    EMBER_FUZZ_CHECK(c.head_dim % 2 == 0, "odd rotary head_dim ", c.head_dim);
  }
  EMBER_FUZZ_CHECK(c.max_context <= c.max_position_embeddings, "max_context ", c.max_context);
  if (c.sliding_window.has_value()) {
    EMBER_FUZZ_CHECK(*c.sliding_window > 0 && c.max_context <= *c.sliding_window, "sliding_window ",
                     *c.sliding_window, " max_context ", c.max_context);
  }
  EMBER_FUZZ_CHECK(std::isfinite(c.norm_eps) && c.norm_eps > 0, "norm_eps ", c.norm_eps);
  EMBER_FUZZ_CHECK(std::isfinite(c.rope_theta) && c.rope_theta > 0, "rope_theta ", c.rope_theta);
  const RopeScaling& r = c.rope_scaling;
  EMBER_FUZZ_CHECK(std::isfinite(r.factor) && r.factor >= 1, "rope factor ", r.factor);
  if (r.type == RopeScalingType::kLlama3) {
    EMBER_FUZZ_CHECK(std::isfinite(r.low_freq_factor) && std::isfinite(r.high_freq_factor) &&
                         r.low_freq_factor > 0 && r.high_freq_factor > r.low_freq_factor &&
                         r.original_max_position_embeddings > 0,
                     "llama3 rope scaling ", r.low_freq_factor, " ", r.high_freq_factor, " ",
                     r.original_max_position_embeddings);
  }
  if (c.bos_token_id.has_value()) CheckTokenId(*c.bos_token_id, c, "bos_token_id");
  if (c.pad_token_id.has_value()) CheckTokenId(*c.pad_token_id, c, "pad_token_id");
  for (const int32_t id : c.eos_token_ids) CheckTokenId(id, c, "eos_token_id");
}

}  // namespace
}  // namespace ember

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const auto config = ember::ParseModelConfig(text, ember::kName);
  if (config.ok()) {
    ember::CheckAccepted(*config);
  } else {
    EMBER_FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument &&
                         absl::StartsWith(config.status().message(), ember::kName),
                     "unexpected error: ", config.status().ToString());
  }
  return 0;
}
