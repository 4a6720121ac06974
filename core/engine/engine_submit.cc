// Engine::Submit: the checks that need the engine's state (tokenizing, context, KV capacity,
// deadline) after the request's content rules (request_validation.h), then the hand-over to the
// loop thread. Runs on the submitting (gRPC) thread.
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/engine/beam_search.h"
#include "core/engine/block_allocator.h"
#include "core/engine/engine.h"
#include "core/engine/request_validation.h"
#include "core/engine/scheduler.h"
#include "core/engine/sequence.h"
#include "core/model/kv_cache.h"
#include "core/model/model.h"
#include "core/util/status_macros.h"

namespace ember {

namespace {
// No tokenizer averages this many bytes per token over a whole context (English runs at ~4).
constexpr int64_t kMaxPromptBytesPerContextToken = 64;
}  // namespace

absl::Status Engine::ValidateAndTokenize(GenerationRequest& request) const {
  // Every rule on the request's content, once; below only what needs the model or the KV cache.
  RETURN_IF_ERROR(ValidateGenerationRequest(request, limits_));
  // The API field the prompt came in, for the messages below.
  const absl::string_view field = request.prompt_tokens.empty() ? "prompt" : "prompt_token_ids";
  const bool seq2seq = model_->config().encoder_decoder.has_value();
  // An encoder-decoder model's prompt is its source text, bounded by the encoder's positions.
  const int64_t max_prompt = seq2seq ? model_->max_source_tokens() : model_->max_context();
  if (request.prompt_tokens.empty()) {
    // Tokenizing runs on the caller's (gRPC) thread at about 1-10 MB/s: refuse, before paying for
    // it, text far longer than any prompt the context can hold.
    const int64_t max_bytes = kMaxPromptBytesPerContextToken * max_prompt;
    if (static_cast<int64_t>(request.prompt.size()) > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("prompt: ", request.prompt.size(), " bytes cannot fit the context of ",
                       max_prompt, " tokens (prompts over ", kMaxPromptBytesPerContextToken,
                       " bytes per context token are refused before tokenizing)"));
    }
    // The tokenizer's ids are inside the vocabulary (Create checked its size against the model's).
    auto ids = tokenizer_->Encode(request.prompt, /*add_special_tokens=*/true);
    if (!ids.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("prompt: ", ids.status().message()));
    }
    request.prompt_tokens = std::move(*ids);
    if (request.prompt_tokens.empty()) {
      return absl::InvalidArgumentError("prompt: produced no tokens");
    }
  }
  int64_t len = static_cast<int64_t>(request.prompt_tokens.size());
  int64_t cross_blocks = 0;
  if (seq2seq) {
    if (len > max_prompt) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": the source has ", len, " tokens; the encoder takes at most ", max_prompt));
    }
    cross_blocks = BlocksFor(len);
    len = 1;  // the decoder starts from its start token
  }
  const int64_t new_tokens = MaxNewTokens(request);
  if (new_tokens == 0 && len > model_->max_context()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", len, " tokens; the context length is ", model_->max_context()));
  }
  if (new_tokens > 0 && len >= model_->max_context()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", len, " tokens; the context length is ", model_->max_context(),
                     " (room for at least one new token needed)"));
  }
  const int64_t beams = std::max(request.beam.num_beams, 1);
  // Beam groups hold every beam's whole length from admission; others their prompt and growth.
  const int64_t own = beams > 1
                          ? beams * BlocksFor(std::min(len + new_tokens, model_->max_context()))
                          : BlocksFor(len + 1);
  const int64_t blocks = own + cross_blocks + scheduler_->options().watermark_blocks;
  if (blocks > cache_->num_blocks()) {
    if (beams > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "beam.num_beams: ", beams, " beams as long as max_new_tokens allows need ", blocks,
          " KV-cache blocks with the prompt and source, but the cache has only ",
          cache_->num_blocks()));
    }
    return absl::InvalidArgumentError(absl::StrCat(field, ": needs ", blocks,
                                                   " KV-cache blocks but the cache has only ",
                                                   cache_->num_blocks()));
  }
  return absl::OkStatus();
}

int32_t Engine::MaxNewTokens(const GenerationRequest& request) const {
  if (request.max_new_tokens > 0) return request.max_new_tokens;
  return request.wants_prompt_logprobs() ? 0 : options_.default_max_new_tokens;
}

absl::StatusOr<RequestHandle> Engine::Submit(GenerationRequest request, EventCallback callback) {
  RETURN_IF_ERROR(ValidateAndTokenize(request));
  const int32_t max_new_tokens = MaxNewTokens(request);
  std::optional<BeamSearchOptions> beam_options;
  if (request.beam.num_beams > 1) {
    ASSIGN_OR_RETURN(beam_options, BeamOptionsFor(request, max_new_tokens));
  }
  std::vector<int32_t> source;
  if (const auto& ed = model_->config().encoder_decoder) {
    source = std::move(request.prompt_tokens);
    request.prompt_tokens = {ed->decoder_start_token_id};
  }
  const absl::Time now = clock_->Now();
  if (request.deadline.has_value() && *request.deadline <= now) {
    return absl::DeadlineExceededError("the request's deadline has already passed");
  }
  absl::MutexLock lock(&mu_);
  if (!accepting_) return absl::UnavailableError("the engine is shutting down");
  if (unadmitted_ >= options_.max_waiting) {
    // Counted as a finished request (kRejected) so dashboards by finish reason show refusals.
    if (options_.observer != nullptr) options_.observer->OnRequestRejected();
    return absl::ResourceExhaustedError(absl::StrCat(
        "the waiting queue is full (", options_.max_waiting, " requests); retry later"));
  }
  // Work arriving on an idle engine: the stall watchdog measures progress from here, not from the
  // last step before the idle time (which could be longer ago than the stall timeout).
  if (in_flight_ == 0) snapshot_.last_progress = now;
  const RequestHandle id = next_id_++;
  const uint64_t seed = request.sampling.seed.value_or(seed_source_.Next());
  auto seq =
      std::make_unique<Sequence>(id, std::move(request), std::move(callback), *tokenizer_, seed);
  seq->tokens = seq->request.prompt_tokens;
  seq->prompt_len = static_cast<int64_t>(seq->tokens.size());
  seq->max_new_tokens = max_new_tokens;
  seq->entry.id = id;
  seq->entry.num_tokens = seq->prompt_len;
  seq->source = std::move(source);
  seq->entry.cross_tokens = static_cast<int64_t>(seq->source.size());
  if (beam_options.has_value()) StartBeamGroup(*seq, std::move(*beam_options));
  if (seq->request.wants_prompt_logprobs()) {
    seq->prompt_scorer = std::make_unique<PromptScorer>(seq->request.prompt_tokens,
                                                        seq->request.prompt_top_logprobs);
  }
  // Prefix caching shares full blocks of plain decoder sequences: a beam group's tables are laid
  // out per beam, an encoder-decoder's keys depend on its source, and prompt scoring needs every
  // prompt row computed.
  if (seq->beam == nullptr && seq->source.empty() && seq->prompt_scorer == nullptr) {
    seq->entry.tokens = &seq->tokens;
  }
  seq->submitted = now;
  inbox_.push_back(std::move(seq));
  ++in_flight_;
  ++unadmitted_;
  return id;
}

}  // namespace ember
