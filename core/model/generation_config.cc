#include "core/model/generation_config.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/model/config_fields.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"

namespace ember {
namespace {

constexpr size_t kMaxGenerationConfigBytes = size_t{16} << 20;

absl::Status CheckTokenId(const ConfigFields& fields, absl::string_view key, int64_t id) {
  if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
    return fields.Error(key, absl::StrCat("has token id ", id, ", outside [0, 2^31)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int32_t>> TokenId(const ConfigFields& fields, absl::string_view key) {
  ASSIGN_OR_RETURN(const std::optional<int64_t> id, fields.Int(key));
  if (!id.has_value()) return std::nullopt;
  RETURN_IF_ERROR(CheckTokenId(fields, key, *id));
  return static_cast<int32_t>(*id);
}

// A number that, when present, must lie in the range [lo, hi] or (lo, hi] (`lo_open`).
absl::StatusOr<std::optional<double>> NumberIn(const ConfigFields& fields, absl::string_view key,
                                               double lo, bool lo_open, double hi) {
  ASSIGN_OR_RETURN(const std::optional<double> value, fields.Number(key));
  if (!value.has_value()) return std::nullopt;
  const bool above_lo = lo_open ? *value > lo : *value >= lo;
  if (!above_lo || !(*value <= hi)) {
    return fields.Error(
        key, absl::StrCat("is ", *value, ", outside ", lo_open ? "(" : "[", lo, ", ", hi, "]"));
  }
  return value;
}

}  // namespace

absl::StatusOr<GenerationConfig> ParseGenerationConfig(absl::string_view json,
                                                       absl::string_view source_name) {
  ASSIGN_OR_RETURN(const nlohmann::json object, ParseConfigObject(json, source_name));
  const ConfigFields fields(object, source_name);
  GenerationConfig config;
  ASSIGN_OR_RETURN(config.bos_token_id, TokenId(fields, "bos_token_id"));
  ASSIGN_OR_RETURN(config.pad_token_id, TokenId(fields, "pad_token_id"));
  ASSIGN_OR_RETURN(config.decoder_start_token_id, TokenId(fields, "decoder_start_token_id"));
  ASSIGN_OR_RETURN(const std::optional<std::vector<int64_t>> eos,
                   fields.IntOrIntList("eos_token_id"));
  if (eos.has_value()) {
    config.eos_token_ids.emplace();
    for (const int64_t id : *eos) {
      RETURN_IF_ERROR(CheckTokenId(fields, "eos_token_id", id));
      config.eos_token_ids->push_back(static_cast<int32_t>(id));
    }
  }

  ASSIGN_OR_RETURN(config.max_length, fields.PositiveInt("max_length"));
  ASSIGN_OR_RETURN(config.max_new_tokens, fields.PositiveInt("max_new_tokens"));
  ASSIGN_OR_RETURN(config.do_sample, fields.Bool("do_sample"));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  ASSIGN_OR_RETURN(config.temperature, NumberIn(fields, "temperature", 0, false, kInf));
  ASSIGN_OR_RETURN(config.top_p, NumberIn(fields, "top_p", 0, true, 1));
  ASSIGN_OR_RETURN(config.min_p, NumberIn(fields, "min_p", 0, false, 1));
  ASSIGN_OR_RETURN(config.repetition_penalty,
                   NumberIn(fields, "repetition_penalty", 0, true, kInf));
  ASSIGN_OR_RETURN(config.top_k, fields.Int("top_k"));
  if (config.top_k.has_value() && *config.top_k < 0) {
    return fields.Error("top_k", absl::StrCat("must be >= 0, got ", *config.top_k));
  }
  return config;
}

absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "generation_config.json");
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxGenerationConfigBytes);
  if (absl::IsNotFound(text.status())) return GenerationConfig();
  if (!text.ok()) return text.status();
  return ParseGenerationConfig(*text, path);
}

std::vector<int32_t> ResolveEosTokenIds(const ModelConfig& model,
                                        const GenerationConfig& generation) {
  const std::vector<int32_t>& source =
      generation.eos_token_ids.has_value() ? *generation.eos_token_ids : model.eos_token_ids;
  std::vector<int32_t> ids;
  for (const int32_t id : source) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

}  // namespace ember
