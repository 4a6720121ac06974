#include "server/request_conversion.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/engine/beam_search.h"

namespace ember {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

EarlyStopping FromProto(ember::v1::EarlyStopping e) {
  switch (e) {
    case ember::v1::EARLY_STOPPING_TRUE:
      return EarlyStopping::kTrue;
    case ember::v1::EARLY_STOPPING_NEVER:
      return EarlyStopping::kNever;
    default:
      return EarlyStopping::kHeuristic;
  }
}

// A beam search request must not carry what only sampling uses: the engine refuses it too, but
// under its own names, so the API's field names are checked here. `num_beams` is for the message.
absl::Status CheckNothingSampled(const ember::v1::GenerateRequest& request, int32_t num_beams) {
  const ember::v1::SamplingParameters& s = request.sampling();
  const std::string why = absl::StrCat("beam search (beam.num_beams = ", num_beams,
                                       ") does not sample, so it must be ");
  if (s.has_temperature() && s.temperature() != 0) {
    return Invalid("sampling.temperature", absl::StrCat(why, "0 or unset, got ", s.temperature()));
  }
  if (s.top_k() != 0) return Invalid("sampling.top_k", absl::StrCat(why, "0, got ", s.top_k()));
  if (s.has_top_p() && s.top_p() != 1) {
    return Invalid("sampling.top_p", absl::StrCat(why, "unset, got ", s.top_p()));
  }
  if (s.min_p() != 0) return Invalid("sampling.min_p", absl::StrCat(why, "0, got ", s.min_p()));
  if (s.has_repetition_penalty() && s.repetition_penalty() != 1) {
    return Invalid("sampling.repetition_penalty",
                   absl::StrCat(why, "unset, got ", s.repetition_penalty()));
  }
  if (s.presence_penalty() != 0) {
    return Invalid("sampling.presence_penalty", absl::StrCat(why, "0, got ", s.presence_penalty()));
  }
  if (s.frequency_penalty() != 0) {
    return Invalid("sampling.frequency_penalty",
                   absl::StrCat(why, "0, got ", s.frequency_penalty()));
  }
  const std::string beams = absl::StrCat(" with beam search (beam.num_beams = ", num_beams, ")");
  if (request.stop_size() > 0) return Invalid("stop", absl::StrCat("not supported", beams));
  // A beam ends at eos; without it every beam would run to max_new_tokens.
  if (request.ignore_eos()) return Invalid("ignore_eos", absl::StrCat("not supported", beams));
  if (request.logprobs()) return Invalid("logprobs", absl::StrCat("not supported", beams));
  if (request.top_logprobs() != 0) {
    return Invalid("top_logprobs", absl::StrCat("not supported", beams));
  }
  return absl::OkStatus();
}

// Checks `request.beam` and fills out->beam. With beam search on, out->sampling becomes greedy:
// the search takes no random choices, and the engine's sampling default (temperature 1.0) must
// not count as a request to sample.
absl::Status ConvertBeam(const ember::v1::GenerateRequest& request, const RequestLimits& limits,
                         GenerationRequest* out) {
  const ember::v1::BeamSearch& b = request.beam();
  if (b.num_beams() < 0 || b.num_beams() > kMaxNumBeams) {
    return Invalid("beam.num_beams",
                   absl::StrCat("must be in [0, ", kMaxNumBeams, "], got ", b.num_beams()));
  }
  const int32_t num_beams = std::max(b.num_beams(), 1);  // 0 means off, as 1 does
  if (b.has_length_penalty() && !std::isfinite(b.length_penalty())) {
    return Invalid("beam.length_penalty", absl::StrCat("must be finite, got ", b.length_penalty()));
  }
  // proto3 enums are open: an unknown number arrives as is.
  if (!ember::v1::EarlyStopping_IsValid(b.early_stopping())) {
    return Invalid("beam.early_stopping",
                   absl::StrCat("unknown value ", static_cast<int>(b.early_stopping())));
  }
  if (b.no_repeat_ngram_size() < 0) {
    return Invalid("beam.no_repeat_ngram_size",
                   absl::StrCat("must be >= 0, got ", b.no_repeat_ngram_size()));
  }
  if (b.num_return_sequences() < 0 || b.num_return_sequences() > num_beams) {
    return Invalid("beam.num_return_sequences",
                   absl::StrCat("must be in [0, beam.num_beams = ", num_beams, "], got ",
                                b.num_return_sequences()));
  }
  if (num_beams == 1) {
    // Sampling does not apply it; silently ignoring it would change what the caller asked for.
    // (length_penalty and early_stopping mean nothing with one beam, as in transformers.)
    if (b.no_repeat_ngram_size() > 0) {
      return Invalid("beam.no_repeat_ngram_size", "needs beam search (beam.num_beams > 1)");
    }
    return absl::OkStatus();
  }
  if (b.no_repeat_ngram_size() > 0 && !limits.encoder_decoder) {
    return Invalid("beam.no_repeat_ngram_size",
                   "available for encoder-decoder (translation) models only");
  }
  if (absl::Status s = CheckNothingSampled(request, num_beams); !s.ok()) return s;
  out->sampling.temperature = 0.0f;
  BeamParams& beam = out->beam;
  beam.num_beams = num_beams;
  if (b.has_length_penalty()) beam.length_penalty = b.length_penalty();
  beam.early_stopping = FromProto(b.early_stopping());
  beam.no_repeat_ngram_size = b.no_repeat_ngram_size();
  beam.num_return_sequences = std::max(b.num_return_sequences(), 1);
  return absl::OkStatus();
}

}  // namespace

size_t FindInvalidUtf8Offset(absl::string_view text) {
  size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  while (i < n) {
    const unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return absl::string_view::npos;
}

absl::StatusOr<GenerationRequest> ToGenerationRequest(const ember::v1::GenerateRequest& request,
                                                      const RequestLimits& limits) {
  if (!request.model().empty() && request.model() != limits.model_name) {
    return absl::NotFoundError(absl::StrCat("model: \"", request.model(),
                                            "\" is not served here (serving \"", limits.model_name,
                                            "\")"));
  }
  GenerationRequest out;
  if (request.request_id().size() > 128) {
    return Invalid("request_id", "longer than 128 characters");
  }
  for (char c : request.request_id()) {
    if (c < 0x20 || c > 0x7e) return Invalid("request_id", "must be printable ASCII");
  }
  out.client_id = request.request_id();
  const bool has_text = !request.prompt().empty();
  const bool has_ids = request.prompt_token_ids_size() > 0;
  if (!has_text && !has_ids) return Invalid("prompt", "must not be empty");
  if (has_text && has_ids) {
    return Invalid("prompt_token_ids", "give either prompt or prompt_token_ids, not both");
  }
  if (has_text) {
    const size_t bad = FindInvalidUtf8Offset(request.prompt());
    if (bad != absl::string_view::npos) {
      return Invalid("prompt", absl::StrCat("not valid UTF-8 at byte ", bad));
    }
    out.prompt = request.prompt();
  } else {
    for (int i = 0; i < request.prompt_token_ids_size(); ++i) {
      const int32_t t = request.prompt_token_ids(i);
      if (t < 0 || t >= limits.vocab_size) {
        return Invalid(absl::StrCat("prompt_token_ids[", i, "]"),
                       absl::StrCat(t, " is outside the vocabulary [0, ", limits.vocab_size, ")"));
      }
      out.prompt_tokens.push_back(t);
    }
  }
  if (request.max_new_tokens() < 0 || request.max_new_tokens() > limits.max_new_tokens_limit) {
    return Invalid("max_new_tokens", absl::StrCat("must be in [0, ", limits.max_new_tokens_limit,
                                                  "], got ", request.max_new_tokens()));
  }
  out.max_new_tokens = request.max_new_tokens();
  if (request.stop_size() > limits.max_stop_strings) {
    return Invalid("stop", absl::StrCat("at most ", limits.max_stop_strings, " stop strings, got ",
                                        request.stop_size()));
  }
  for (int i = 0; i < request.stop_size(); ++i) {
    const std::string& stop = request.stop(i);
    const std::string field = absl::StrCat("stop[", i, "]");
    if (stop.empty()) return Invalid(field, "must not be empty");
    if (static_cast<int>(stop.size()) > limits.max_stop_string_bytes) {
      return Invalid(field, absl::StrCat("longer than ", limits.max_stop_string_bytes, " bytes"));
    }
    if (const size_t bad = FindInvalidUtf8Offset(stop); bad != absl::string_view::npos) {
      return Invalid(field, absl::StrCat("not valid UTF-8 at byte ", bad));
    }
    out.stop.push_back(stop);
  }
  out.ignore_eos = request.ignore_eos();
  out.skip_special_tokens = !request.include_special_tokens();

  const ember::v1::SamplingParameters& s = request.sampling();
  SamplingParams& p = out.sampling;
  if (s.has_temperature()) p.temperature = s.temperature();
  p.top_k = s.top_k();
  if (s.has_top_p()) p.top_p = s.top_p();
  p.min_p = s.min_p();
  if (s.has_repetition_penalty()) p.repetition_penalty = s.repetition_penalty();
  p.presence_penalty = s.presence_penalty();
  p.frequency_penalty = s.frequency_penalty();
  if (s.has_seed()) p.seed = s.seed();
  p.logprobs = request.logprobs();
  p.top_logprobs = request.top_logprobs();
  if (absl::Status v = ValidateSamplingParams(p); !v.ok()) {
    // The engine names the field plainly; the API nests it under `sampling` (except logprobs).
    const bool top_level = absl::StartsWith(v.message(), "top_logprobs");
    return absl::InvalidArgumentError(absl::StrCat(top_level ? "" : "sampling.", v.message()));
  }
  if (absl::Status b = ConvertBeam(request, limits, &out); !b.ok()) return b;
  return out;
}

void FillUsageAndTimings(const RequestTimings& t, ember::v1::Usage* usage,
                         ember::v1::Timings* out) {
  usage->set_prompt_tokens(static_cast<int32_t>(t.prompt_tokens));
  usage->set_generated_tokens(static_cast<int32_t>(t.generated_tokens));
  out->set_queue_wait_seconds(absl::ToDoubleSeconds(t.queue_wait));
  out->set_time_to_first_token_seconds(absl::ToDoubleSeconds(t.time_to_first_token));
  const double prefill = absl::ToDoubleSeconds(t.prefill);
  if (prefill > 0)
    out->set_prefill_tokens_per_second(static_cast<double>(t.prompt_tokens) / prefill);
  const double decode = absl::ToDoubleSeconds(t.decode);
  if (decode > 0 && t.generated_tokens > 1) {
    out->set_decode_tokens_per_second(static_cast<double>(t.generated_tokens - 1) / decode);
  }
  out->set_total_seconds(absl::ToDoubleSeconds(t.total));
}

void AppendHypotheses(const std::vector<Hypothesis>& hypotheses, bool with_token_ids,
                      google::protobuf::RepeatedPtrField<ember::v1::Hypothesis>* out) {
  for (const Hypothesis& h : hypotheses) {
    ember::v1::Hypothesis* entry = out->Add();
    entry->set_text(h.text);
    if (with_token_ids) entry->mutable_token_ids()->Add(h.tokens.begin(), h.tokens.end());
    entry->set_score(h.score);
    entry->set_sum_logprob(h.sum_logprob);
  }
}

void AppendLogprobs(const SampledToken& sampled, const Tokenizer& tokenizer,
                    google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs>* out) {
  auto* entry = out->Add();
  auto fill = [&](int32_t id, float logprob, ember::v1::TokenLogprob* t) {
    t->set_token_id(id);
    auto text = tokenizer.Decode({&id, 1}, /*skip_special_tokens=*/false);
    t->set_token(text.ok() ? *text : "");
    t->set_logprob(logprob);
  };
  fill(sampled.token, sampled.logprob, entry->mutable_chosen());
  for (const TokenLogprob& alt : sampled.top) fill(alt.token, alt.logprob, entry->add_top());
}

}  // namespace ember
