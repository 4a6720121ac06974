#include "core/engine/request_validation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/engine/beam_search.h"
#include "core/util/utf8.h"

namespace ember {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// NaN fails every comparison, so `!(lo <= v && v <= hi)` refuses it too.
absl::Status CheckRange(absl::string_view field, double value, double lo, double hi,
                        bool lo_open = false) {
  const bool ok = (lo_open ? lo < value : lo <= value) && value <= hi;
  if (ok) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat("must be in ", lo_open ? "(" : "[", lo, ", ", hi, "], got ", value));
}

absl::Status CheckRequestId(const std::string& id) {
  if (id.size() > static_cast<size_t>(kMaxRequestIdBytes)) {
    return Invalid("request_id", absl::StrCat("longer than ", kMaxRequestIdBytes, " characters"));
  }
  for (char c : id) {
    if (c < 0x20 || c > 0x7e) return Invalid("request_id", "must be printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status CheckPrompt(const GenerationRequest& request, const RequestLimits& limits) {
  const bool has_text = !request.prompt.empty();
  const bool has_ids = !request.prompt_tokens.empty();
  if (!has_text && !has_ids) return Invalid("prompt", "must not be empty");
  if (has_text && has_ids) {
    return Invalid("prompt_token_ids", "give either prompt or prompt_token_ids, not both");
  }
  if (const size_t bad = FindInvalidUtf8(request.prompt); bad != absl::string_view::npos) {
    return Invalid("prompt", absl::StrCat("not valid UTF-8 at byte ", bad));
  }
  return ValidateTokenIds("prompt_token_ids", request.prompt_tokens, limits.vocab_size);
}

absl::Status CheckStops(const std::vector<std::string>& stops, const RequestLimits& limits) {
  if (static_cast<int64_t>(stops.size()) > limits.max_stop_strings) {
    return Invalid("stop", absl::StrCat("at most ", limits.max_stop_strings, " stop strings, got ",
                                        stops.size()));
  }
  for (size_t i = 0; i < stops.size(); ++i) {
    const std::string& stop = stops[i];
    const std::string field = absl::StrCat("stop[", i, "]");
    if (stop.empty()) return Invalid(field, "must not be empty");
    if (static_cast<int64_t>(stop.size()) > limits.max_stop_string_bytes) {
      return Invalid(field, absl::StrCat("longer than ", limits.max_stop_string_bytes, " bytes"));
    }
    if (const size_t bad = FindInvalidUtf8(stop); bad != absl::string_view::npos) {
      return Invalid(field, absl::StrCat("not valid UTF-8 at byte ", bad));
    }
  }
  return absl::OkStatus();
}

// A beam search takes no random choices and applies neither stop strings nor logprobs, so every
// such setting is refused rather than silently ignored: `field` set to `value` while `off` is the
// only value beam search honours (`off` empty: any setting at all is refused).
absl::Status NotWithBeams(absl::string_view field, int32_t num_beams, absl::string_view off = "",
                          double value = 0) {
  std::string problem =
      absl::StrCat("not supported with beam search (beam.num_beams = ", num_beams, ")");
  if (!off.empty()) {
    absl::StrAppend(&problem, ", which does not sample; leave it ", off, ", got ", value);
  }
  return Invalid(field, problem);
}

// Beam search excludes sampling, stop strings, ignore_eos and logprobs. The server maps an unset
// sampling.temperature of a beam request to 0 (generation.proto: its 1.0 default does not apply
// to a search); an explicit non-zero one is refused here.
absl::Status CheckNothingSampled(const GenerationRequest& request, int32_t num_beams) {
  const SamplingParams& s = request.sampling;
  if (s.temperature != 0) {
    return NotWithBeams("sampling.temperature", num_beams, "unset or 0", s.temperature);
  }
  if (s.top_k != 0) return NotWithBeams("sampling.top_k", num_beams, "0", s.top_k);
  if (s.top_p != 1) return NotWithBeams("sampling.top_p", num_beams, "unset or 1", s.top_p);
  if (s.min_p != 0) return NotWithBeams("sampling.min_p", num_beams, "0", s.min_p);
  if (s.repetition_penalty != 1) {
    return NotWithBeams("sampling.repetition_penalty", num_beams, "unset or 1",
                        s.repetition_penalty);
  }
  if (s.presence_penalty != 0) {
    return NotWithBeams("sampling.presence_penalty", num_beams, "0", s.presence_penalty);
  }
  if (s.frequency_penalty != 0) {
    return NotWithBeams("sampling.frequency_penalty", num_beams, "0", s.frequency_penalty);
  }
  if (!request.stop.empty()) return NotWithBeams("stop", num_beams);
  // A beam ends at eos; without it every beam would run to max_new_tokens.
  if (request.ignore_eos) return NotWithBeams("ignore_eos", num_beams);
  if (s.logprobs) return NotWithBeams("logprobs", num_beams);
  if (s.top_logprobs != 0) return NotWithBeams("top_logprobs", num_beams);
  if (request.prompt_logprobs) return NotWithBeams("prompt_logprobs", num_beams);
  if (request.prompt_top_logprobs != 0) return NotWithBeams("prompt_top_logprobs", num_beams);
  return absl::OkStatus();
}

absl::Status CheckPromptLogprobs(const GenerationRequest& request, const RequestLimits& limits) {
  if (request.prompt_top_logprobs < 0 || request.prompt_top_logprobs > kMaxTopLogprobs) {
    return Invalid("prompt_top_logprobs", absl::StrCat("must be in [0, ", kMaxTopLogprobs,
                                                       "], got ", request.prompt_top_logprobs));
  }
  if (request.wants_prompt_logprobs() && limits.encoder_decoder) {
    return Invalid(request.prompt_logprobs ? "prompt_logprobs" : "prompt_top_logprobs",
                   "available for decoder-only models only (a translation model's prompt is its "
                   "source sentence, which it does not predict)");
  }
  return absl::OkStatus();
}

absl::Status CheckBeam(const GenerationRequest& request, const RequestLimits& limits) {
  const BeamParams& b = request.beam;
  if (b.num_beams < 0 || b.num_beams > kMaxNumBeams) {
    return Invalid("beam.num_beams",
                   absl::StrCat("must be in [0, ", kMaxNumBeams, "], got ", b.num_beams));
  }
  const int32_t num_beams = std::max(b.num_beams, 1);  // 0 means off, as 1 does
  if (!std::isfinite(b.length_penalty)) {
    return Invalid("beam.length_penalty", absl::StrCat("must be finite, got ", b.length_penalty));
  }
  if (b.early_stopping != EarlyStopping::kHeuristic && b.early_stopping != EarlyStopping::kTrue &&
      b.early_stopping != EarlyStopping::kNever) {
    return Invalid("beam.early_stopping",
                   absl::StrCat("unknown value ", static_cast<int>(b.early_stopping)));
  }
  if (b.no_repeat_ngram_size < 0) {
    return Invalid("beam.no_repeat_ngram_size",
                   absl::StrCat("must be >= 0, got ", b.no_repeat_ngram_size));
  }
  if (b.num_return_sequences < 0 || b.num_return_sequences > num_beams) {
    return Invalid("beam.num_return_sequences",
                   absl::StrCat("must be in [0, beam.num_beams = ", num_beams, "], got ",
                                b.num_return_sequences));
  }
  if (num_beams == 1) {
    // Sampling does not apply it; silently ignoring it would change what the caller asked for.
    // (length_penalty and early_stopping mean nothing with one beam, as in transformers.)
    if (b.no_repeat_ngram_size > 0) {
      return Invalid("beam.no_repeat_ngram_size", "needs beam search (beam.num_beams > 1)");
    }
    return absl::OkStatus();
  }
  if (b.no_repeat_ngram_size > 0 && !limits.encoder_decoder) {
    return Invalid("beam.no_repeat_ngram_size",
                   "available for encoder-decoder (translation) models only");
  }
  return CheckNothingSampled(request, num_beams);
}

}  // namespace

absl::Status ValidateTokenIds(absl::string_view field, absl::Span<const int32_t> ids,
                              int64_t vocab_size) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size) {
      return Invalid(absl::StrCat(field, "[", i, "]"),
                     absl::StrCat(ids[i], " is outside the vocabulary [0, ", vocab_size, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (auto s = CheckRange("sampling.temperature", p.temperature, 0, 100); !s.ok()) return s;
  if (p.top_k < 0) return Invalid("sampling.top_k", absl::StrCat("must be >= 0, got ", p.top_k));
  if (auto s = CheckRange("sampling.top_p", p.top_p, 0, 1, /*lo_open=*/true); !s.ok()) return s;
  if (auto s = CheckRange("sampling.min_p", p.min_p, 0, 1); !s.ok()) return s;
  if (auto s = CheckRange("sampling.repetition_penalty", p.repetition_penalty, 0, 10,
                          /*lo_open=*/true);
      !s.ok()) {
    return s;
  }
  if (auto s = CheckRange("sampling.presence_penalty", p.presence_penalty, -2, 2); !s.ok()) {
    return s;
  }
  if (auto s = CheckRange("sampling.frequency_penalty", p.frequency_penalty, -2, 2); !s.ok()) {
    return s;
  }
  if (p.top_logprobs < 0 || p.top_logprobs > kMaxTopLogprobs) {
    return Invalid("top_logprobs",
                   absl::StrCat("must be in [0, ", kMaxTopLogprobs, "], got ", p.top_logprobs));
  }
  return absl::OkStatus();
}

absl::Status ValidateGenerationRequest(const GenerationRequest& request,
                                       const RequestLimits& limits) {
  if (absl::Status s = CheckRequestId(request.request_id); !s.ok()) return s;
  if (absl::Status s = CheckPrompt(request, limits); !s.ok()) return s;
  if (request.max_new_tokens < 0 || request.max_new_tokens > limits.max_new_tokens_limit) {
    return Invalid("max_new_tokens", absl::StrCat("must be in [0, ", limits.max_new_tokens_limit,
                                                  "], got ", request.max_new_tokens));
  }
  if (absl::Status s = CheckStops(request.stop, limits); !s.ok()) return s;
  if (absl::Status s = ValidateSamplingParams(request.sampling); !s.ok()) return s;
  if (absl::Status s = CheckPromptLogprobs(request, limits); !s.ok()) return s;
  return CheckBeam(request, limits);
}

}  // namespace ember
