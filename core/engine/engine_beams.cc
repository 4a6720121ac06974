// The Engine's beam-search requests and the logits processors of encoder-decoder models. A beam
// request is one scheduler entry whose blocks are all taken at admission; its beams share them
// copy-on-write (BeamBlocks). Each decode step runs one row per live beam and hands their logits
// to BeamSearch; a beam that continues another takes over its table, and only a shared block a
// beam is about to write into is copied (its positions before the write).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/engine/beam_search.h"
#include "core/engine/block_allocator.h"
#include "core/engine/engine.h"
#include "core/engine/logits_processors.h"
#include "core/engine/scheduler.h"
#include "core/engine/sequence.h"
#include "core/model/kv_cache.h"
#include "core/model/model.h"

namespace ember {
absl::StatusOr<BeamSearchOptions> Engine::BeamOptionsFor(const GenerationRequest& request,
                                                         int32_t max_new_tokens) const {
  // ValidateGenerationRequest has refused what beam search cannot honour (sampling, stop strings,
  // ignore_eos, logprobs, no_repeat_ngram_size without an encoder-decoder).
  const BeamParams& beam = request.beam;
  const auto& ed = model_->config().encoder_decoder;
  BeamSearchOptions options;
  options.num_beams = beam.num_beams;
  options.length_penalty = beam.length_penalty;
  options.early_stopping = beam.early_stopping;
  options.no_repeat_ngram_size = beam.no_repeat_ngram_size;
  options.num_return_sequences = std::max(beam.num_return_sequences, 1);  // 0 means 1
  options.eos_ids = eos_ids_;
  const int64_t prompt = ed.has_value() ? 1 : static_cast<int64_t>(request.prompt_tokens.size());
  options.max_new_tokens =
      static_cast<int32_t>(std::min<int64_t>(max_new_tokens, model_->max_context() - prompt));
  if (ed.has_value()) {
    options.banned_tokens = ed->banned_token_ids;
    options.forced_eos = ed->forced_eos_token_id;
    options.decoder_start = ed->decoder_start_token_id;
  }
  // Only a bug (or a model config the loader let through) can make these inconsistent.
  if (absl::Status s = ValidateBeamSearchOptions(options, model_->config().vocab_size); !s.ok()) {
    return absl::InternalError(absl::StrCat("beam search options: ", s.message()));
  }
  return options;
}

void Engine::StartBeamGroup(Sequence& seq, BeamSearchOptions options) {
  const int64_t longest = seq.prompt_len + options.max_new_tokens;
  seq.entry.reserved_tokens = longest;
  seq.entry.max_width = options.num_beams;
  seq.entry.width = 1;
  seq.beam = std::make_unique<BeamGroup>(std::move(options));
  seq.beam->sequences = {seq.tokens};
}

absl::Status Engine::AppendBeamSteps(Sequence& seq, const StepItem& item,
                                     std::vector<SequenceStep>& steps) {
  BeamGroup& group = *seq.beam;
  if (!group.blocks.has_value()) group.blocks.emplace(seq.entry.block_table, cache_->block_size());
  SequenceStep step;
  step.past = item.start;
  step.source = seq.source;
  step.cross_block_table = seq.entry.cross_block_table;
  // Positions [item.start, item.start + item.count) of each beam are written by this step: each
  // beam gets blocks of its own for them first.
  auto prepare = [&](int32_t beam, int64_t count) -> absl::Status {
    absl::StatusOr<std::vector<BeamBlocks::Copy>> copies =
        group.blocks->PrepareWrite(beam, item.start, count);
    if (!copies.ok()) return copies.status();
    for (const BeamBlocks::Copy& c : *copies) cache_->CopyBlockPrefix(c.from, c.to, c.positions);
    step.block_table = group.blocks->table(beam);
    return absl::OkStatus();
  };
  if (group.search.steps() == 0) {  // the prompt, in beam 0's table
    if (absl::Status s = prepare(0, item.count); !s.ok()) return s;
    step.tokens = absl::MakeConstSpan(seq.tokens)
                      .subspan(static_cast<size_t>(item.start), static_cast<size_t>(item.count));
    step.want_logits = item.sample;
    steps.push_back(step);
    return absl::OkStatus();
  }
  for (int32_t b = 0; b < group.search.num_live(); ++b) {
    if (absl::Status s = prepare(b, 1); !s.ok()) return s;
    step.tokens = absl::MakeConstSpan(group.sequences[static_cast<size_t>(b)])
                      .subspan(static_cast<size_t>(item.start), 1);
    step.want_logits = true;
    steps.push_back(step);
  }
  return absl::OkStatus();
}

void Engine::HandleBeamStep(Sequence& seq, const StepItem& item,
                            const std::vector<int32_t>& parents, absl::Time now) {
  BeamGroup& group = *seq.beam;
  RecordTokenTime(seq, now);
  if (group.search.done()) {
    std::vector<BeamHypothesis> results = group.search.Results();
    GenerationEvent event;
    for (BeamHypothesis& h : results) {
      absl::StatusOr<std::string> text =
          tokenizer_->Decode(h.tokens, seq.request.skip_special_tokens);
      if (!text.ok()) {
        Finish(seq, FinishReason::kError, text.status());
        return;
      }
      event.hypotheses.push_back({std::move(h.tokens), std::move(*text), h.score, h.sum_logprob});
    }
    FinishReason reason = FinishReason::kLength;
    if (!event.hypotheses.empty()) {
      const Hypothesis& best = event.hypotheses.front();
      event.tokens = best.tokens;
      event.text = best.text;
      if (!best.tokens.empty() && IsEos(best.tokens.back())) {
        reason = EosFinishReason(seq, static_cast<int64_t>(best.tokens.size()));
      }
      seq.tokens.insert(seq.tokens.end(), best.tokens.begin(), best.tokens.end());
    }
    Finish(seq, reason, absl::OkStatus(), &event);
    return;
  }
  // New beam i continues old beam parents[i]: it takes over that beam's blocks (shared until one
  // of them writes into a shared block: AppendBeamSteps copies it then).
  if (absl::Status s = group.blocks->Reorder(parents); !s.ok()) {
    Finish(seq, FinishReason::kError, s);
    return;
  }
  const int64_t computed = item.start + item.count;
  group.sequences.resize(parents.size());
  for (int32_t b = 0; b < group.search.num_live(); ++b) {
    std::vector<int32_t>& sequence = group.sequences[static_cast<size_t>(b)];
    sequence.assign(seq.tokens.begin(), seq.tokens.begin() + seq.prompt_len);
    const absl::Span<const int32_t> generated = group.search.live_tokens(b);
    sequence.insert(sequence.end(), generated.begin(), generated.end());
  }
  seq.entry.width = group.search.num_live();
  seq.entry.num_tokens = computed + 1;
}

void Engine::ApplyModelLogitsProcessors(const Sequence& seq, float* logits) const {
  const auto& ed = model_->config().encoder_decoder;
  if (!ed.has_value()) return;
  const int64_t vocab = model_->config().vocab_size;
  BanTokens(ed->banned_token_ids, logits, vocab);
  // transformers forces eos as the last token max_length allows (ForcedEOSTokenLogitsProcessor).
  if (ed->forced_eos_token_id.has_value() && seq.generated() + 1 >= seq.max_new_tokens) {
    ForceToken(*ed->forced_eos_token_id, logits, vocab);
  }
}

}  // namespace ember
