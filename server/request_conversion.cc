#include "server/request_conversion.h"

#include "absl/strings/str_cat.h"

namespace ember {
namespace {

EarlyStopping FromProto(ember::v1::EarlyStopping e) {
  switch (e) {
    case ember::v1::EARLY_STOPPING_HEURISTIC:
      return EarlyStopping::kHeuristic;
    case ember::v1::EARLY_STOPPING_TRUE:
      return EarlyStopping::kTrue;
    case ember::v1::EARLY_STOPPING_NEVER:
      return EarlyStopping::kNever;
    default:
      // proto3 enums are open: an unknown number arrives as is, and travels on as is for
      // ValidateGenerationRequest to name it (EarlyStopping's underlying type holds any int).
      return static_cast<EarlyStopping>(static_cast<int>(e));
  }
}

}  // namespace

absl::StatusOr<GenerationRequest> ToGenerationRequest(const ember::v1::GenerateRequest& request,
                                                      absl::string_view served_model) {
  if (!request.model().empty() && request.model() != served_model) {
    return absl::NotFoundError(absl::StrCat(
        "model: \"", request.model(), "\" is not served here (serving \"", served_model, "\")"));
  }
  GenerationRequest out;
  out.request_id = request.request_id();
  out.prompt = request.prompt();
  out.prompt_tokens.assign(request.prompt_token_ids().begin(), request.prompt_token_ids().end());
  out.max_new_tokens = request.max_new_tokens();
  out.stop.assign(request.stop().begin(), request.stop().end());
  out.ignore_eos = request.ignore_eos();
  out.skip_special_tokens = !request.include_special_tokens();

  const ember::v1::BeamSearch& b = request.beam();
  BeamParams& beam = out.beam;
  beam.num_beams = b.num_beams();
  if (b.has_length_penalty()) beam.length_penalty = b.length_penalty();
  beam.early_stopping = FromProto(b.early_stopping());
  beam.no_repeat_ngram_size = b.no_repeat_ngram_size();
  beam.num_return_sequences = b.num_return_sequences();

  const ember::v1::SamplingParameters& s = request.sampling();
  SamplingParams& p = out.sampling;
  if (s.has_temperature()) {
    p.temperature = s.temperature();
  } else if (b.num_beams() > 1) {
    p.temperature = 0.0f;  // the 1.0 default does not apply to a search (generation.proto)
  }
  p.top_k = s.top_k();
  if (s.has_top_p()) p.top_p = s.top_p();
  p.min_p = s.min_p();
  if (s.has_repetition_penalty()) p.repetition_penalty = s.repetition_penalty();
  p.presence_penalty = s.presence_penalty();
  p.frequency_penalty = s.frequency_penalty();
  if (s.has_seed()) p.seed = s.seed();
  p.logprobs = request.logprobs();
  p.top_logprobs = request.top_logprobs();
  out.prompt_logprobs = request.prompt_logprobs();
  out.prompt_top_logprobs = request.prompt_top_logprobs();
  return out;
}

void FillUsageAndTimings(const RequestTimings& t, ember::v1::Usage* usage,
                         ember::v1::Timings* out) {
  usage->set_prompt_tokens(static_cast<int32_t>(t.prompt_tokens));
  usage->set_generated_tokens(static_cast<int32_t>(t.generated_tokens));
  usage->set_cached_prompt_tokens(static_cast<int32_t>(t.cached_prompt_tokens));
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
