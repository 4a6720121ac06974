// A checkpoint's default generation settings, read from its (optional) generation_config.json.
//
// Every field is optional: the file may be absent, and a present file sets only what its author
// chose. Callers layer these defaults under per-request parameters; nothing here is applied
// automatically.
#ifndef EMBER_CORE_MODEL_GENERATION_CONFIG_H_
#define EMBER_CORE_MODEL_GENERATION_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/model/model_config.h"

namespace ember {

struct GenerationConfig {
  // Token ids; non-negative when set. eos_token_id may be an int or a list in the file; both
  // arrive as a list here (Llama 3 Instruct: [128001, 128008, 128009]).
  std::optional<int32_t> bos_token_id;
  std::optional<std::vector<int32_t>> eos_token_ids;
  std::optional<int32_t> pad_token_id;
  // The first decoder token of encoder-decoder models (Marian: the pad id).
  std::optional<int32_t> decoder_start_token_id;

  // Total length cap, prompt included (> 0).
  std::optional<int64_t> max_length;
  // Cap on generated tokens, prompt excluded (> 0). Takes precedence over max_length in
  // transformers when both are set.
  std::optional<int64_t> max_new_tokens;

  // Sample (true) or decode greedily (false).
  std::optional<bool> do_sample;
  // Softmax temperature (>= 0).
  std::optional<double> temperature;
  // Keep only the k most likely tokens (>= 0; 0 disables the filter).
  std::optional<int64_t> top_k;
  // Nucleus sampling mass, in (0, 1].
  std::optional<double> top_p;
  // Drop tokens less likely than min_p times the top token's probability, in [0, 1].
  std::optional<double> min_p;
  // CTRL-style penalty on already-seen tokens (> 0; 1 disables it).
  std::optional<double> repetition_penalty;
};

// Parses and validates the text of a generation_config.json. INVALID_ARGUMENT, starting with
// `source_name` and naming the field, for text that is not a JSON object, a known field of the
// wrong JSON type, or a value out of the range given beside the field above. Unknown keys
// (transformers_version, _from_model_config, ...) are ignored.
absl::StatusOr<GenerationConfig> ParseGenerationConfig(absl::string_view json,
                                                       absl::string_view source_name);

// Reads `<model_dir>/generation_config.json`; a default GenerationConfig (every field empty) when
// the file does not exist, an error when it exists but cannot be read or parsed.
absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir);

// The token ids that end generation, as transformers resolves them: generation_config.json's
// eos_token_id when the file sets one, else config.json's. Duplicates are dropped, order kept.
std::vector<int32_t> ResolveEosTokenIds(const ModelConfig& model,
                                        const GenerationConfig& generation);

}  // namespace ember

#endif  // EMBER_CORE_MODEL_GENERATION_CONFIG_H_
