#include "core/engine/engine.h"

#include <algorithm>
#include <filesystem>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "core/engine/beam_search.h"
#include "core/engine/block_allocator.h"
#include "core/engine/logits_processors.h"
#include "core/engine/scheduler.h"
#include "core/engine/sequence.h"
#include "core/kernels/threads.h"
#include "core/model/generation_config.h"
#include "core/model/kv_cache.h"
#include "core/model/model.h"
#include "core/util/logging.h"
#include "core/util/status_macros.h"
#include "core/util/system_memory.h"

namespace ember {
namespace {

// The scheduler's options (its default watermark: the one place the engine's admission checks take
// it from).
SchedulerOptions SchedulerOptionsFor(const EngineOptions& o) {
  SchedulerOptions s;
  s.max_tokens_per_step = o.max_tokens_per_step;
  s.max_running = o.max_running;
  s.block_size = o.block_size;
  return s;
}

absl::Status ValidateOptions(const EngineOptions& o) {
  if (o.model_dir.empty()) return absl::InvalidArgumentError("model_dir is required");
  RETURN_IF_ERROR(Scheduler::Validate(SchedulerOptionsFor(o)));
  if (o.max_waiting <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_waiting must be positive, got ", o.max_waiting));
  }
  if (o.default_max_new_tokens <= 0 || o.max_new_tokens_limit < o.default_max_new_tokens) {
    return absl::InvalidArgumentError(
        absl::StrCat("need 0 < default_max_new_tokens (", o.default_max_new_tokens,
                     ") <= max_new_tokens_limit (", o.max_new_tokens_limit, ")"));
  }
  if (o.kv_cache_bytes < 0 || o.max_context < 0) {
    return absl::InvalidArgumentError("kv_cache_bytes and max_context must be >= 0");
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return "none";
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kStopSequence:
      return "stop_sequence";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kDeadline:
      return "deadline";
    case FinishReason::kRejected:
      return "rejected";
    case FinishReason::kError:
      return "error";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  SetIntraOpThreads(options.threads);
  // The load's parallel work runs on the caller's thread; its team must not outlive it: the loop
  // thread runs every step on a team of its own (ReleaseIntraOpTeam says why an idle one costs).
  absl::Cleanup release_team = [] { ReleaseIntraOpTeam(); };
  const absl::Time start = absl::Now();
  ModelOptions model_options;
  model_options.compute = options.compute;
  model_options.quantize = options.quantize;
  model_options.quantize_lm_head = options.quantize_lm_head;
  model_options.max_context = options.max_context;
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(options.model_dir, model_options));
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, LoadTokenizer(options.model_dir));
  if (tokenizer->VocabSize() > model->config().vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.model_dir, ": the tokenizer has ", tokenizer->VocabSize(),
                     " tokens but config.json vocab_size is ", model->config().vocab_size));
  }
  ASSIGN_OR_RETURN(GenerationConfig generation, LoadGenerationConfig(options.model_dir));
  const absl::Time prepare_start = absl::Now();
  RETURN_IF_ERROR(model->PrepareShapes(options.max_tokens_per_step, options.max_running));
  EMBER_LOG(INFO) << "prepared " << model->primitives_created()
                  << " matmul primitives for steps of up to " << options.max_tokens_per_step
                  << " tokens in " << absl::FormatDuration(absl::Now() - prepare_start);
  std::vector<int32_t> eos = ResolveEosTokenIds(model->config(), generation);

  const DType kv_type = model->compute();
  const int64_t per_block = KvCache::BytesPerBlock(model->config(), options.block_size, kv_type);
  int64_t kv_bytes = options.kv_cache_bytes;
  if (kv_bytes == 0) {
    const int64_t blocks_per_seq = KvCache::BlocksFor(model->max_context(), options.block_size);
    // A quarter of the machine's memory at most (of 8 GiB when the system does not say).
    const int64_t memory = PhysicalMemoryBytes().value_or(int64_t{8} << 30);
    kv_bytes = std::min(per_block * blocks_per_seq * options.max_running, memory / 4);
  }
  const int64_t num_blocks = std::max<int64_t>(kv_bytes / per_block, 2);
  ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache,
                   KvCache::Create(model->config(), num_blocks, options.block_size, kv_type));
  auto engine = std::unique_ptr<Engine>(new Engine(options, std::move(model), std::move(tokenizer),
                                                   std::move(cache), std::move(eos)));
  EMBER_LOG(INFO) << "loaded " << engine->info_.name << " (" << engine->info_.model_type << ", "
                  << engine->info_.dtype << ", " << engine->info_.weight_bytes / (1 << 20)
                  << " MiB weights, KV cache " << engine->info_.kv_blocks << " blocks of "
                  << engine->info_.block_size << " = " << engine->info_.kv_cache_bytes / (1 << 20)
                  << " MiB, context " << engine->info_.context_length << ") in "
                  << absl::FormatDuration(absl::Now() - start);
  engine->thread_ = std::thread([e = engine.get()] { e->Loop(); });
  return engine;
}

Engine::Engine(const EngineOptions& options, std::unique_ptr<Model> model,
               std::unique_ptr<Tokenizer> tokenizer, std::unique_ptr<KvCache> cache,
               std::vector<int32_t> eos_ids)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()),
      model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      cache_(std::move(cache)),
      eos_ids_(std::move(eos_ids)),
      allocator_(std::make_unique<BlockAllocator>(static_cast<int32_t>(cache_->num_blocks()))),
      scheduler_(std::make_unique<Scheduler>(SchedulerOptionsFor(options), allocator_.get())),
      seed_source_(options.seed) {
  allocator_->set_caching(options.prefix_cache);
  const ModelConfig& c = model_->config();
  info_.name = std::filesystem::path(options.model_dir).lexically_normal().filename().string();
  if (info_.name.empty()) {
    info_.name = std::filesystem::path(options.model_dir).parent_path().filename().string();
  }
  info_.architecture = std::string(ArchitectureName(c.architecture));
  info_.model_type = c.model_type;
  info_.dtype = model_->weight_format();
  info_.context_length = model_->max_context();
  info_.vocab_size = c.vocab_size;
  info_.weight_bytes = model_->weight_bytes();
  info_.kv_cache_bytes = cache_->bytes();
  info_.kv_blocks = cache_->num_blocks();
  info_.block_size = cache_->block_size();
  info_.eos_token_ids = eos_ids_;
  info_.encoder_decoder = c.encoder_decoder.has_value();
  limits_.vocab_size = info_.vocab_size;
  limits_.encoder_decoder = info_.encoder_decoder;
  limits_.max_new_tokens_limit = options.max_new_tokens_limit;
  limits_.max_stop_strings = options.max_stop_strings;
  limits_.max_stop_string_bytes = options.max_stop_string_bytes;
  logits_.resize(static_cast<size_t>(options.max_running * c.vocab_size));
  snapshot_.kv_blocks_total = cache_->num_blocks();
  snapshot_.last_progress = clock_->Now();
}

Engine::~Engine() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    accepting_ = false;
  }
  if (thread_.joinable()) thread_.join();
}

int64_t Engine::BlocksFor(int64_t positions) const {
  return KvCache::BlocksFor(positions, options_.block_size);
}

void Engine::Cancel(RequestHandle id, FinishReason reason) {
  absl::MutexLock lock(&mu_);
  cancels_.emplace_back(id, reason);
}

void Engine::CancelAll(absl::Status why) {
  absl::MutexLock lock(&mu_);
  cancel_all_ = std::move(why);
}

void Engine::StopAccepting() {
  absl::MutexLock lock(&mu_);
  accepting_ = false;
}

EngineSnapshot Engine::Snapshot() const {
  absl::MutexLock lock(&mu_);
  EngineSnapshot s = snapshot_;
  s.busy = in_flight_ > 0;
  return s;
}

void Engine::SetStepDelayForTesting(absl::Duration delay) {
  step_delay_ns_.store(absl::ToInt64Nanoseconds(delay), std::memory_order_relaxed);
}

void Engine::Loop() {
  // OpenMP thread counts are per thread: set this thread's, which the model's kernels use.
  SetIntraOpThreads(options_.threads);
  bool holds_team = false;  // parallel regions ran since this thread last released its team
  while (true) {
    const bool idle = sequences_.empty();
    if (idle && holds_team) {
      // An idle engine holds no OpenMP threads (ReleaseIntraOpTeam): another engine in the process
      // stays at full speed, and the next request pays only for starting the team again.
      ReleaseIntraOpTeam();
      holds_team = false;
    }
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this, idle]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !inbox_.empty() || !cancels_.empty() || cancel_all_.has_value() || !idle;
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) break;
    }
    holds_team = true;
    if (!Step()) {
      // Work exists but none could run (e.g. waiting for KV room): poll for cancels/deadlines.
      absl::MutexLock lock(&mu_);
      auto event = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || !inbox_.empty() || !cancels_.empty() || cancel_all_.has_value();
      };
      mu_.AwaitWithTimeout(absl::Condition(&event), absl::Milliseconds(5));
    }
  }
  // Shutdown: everything still here ends as cancelled.
  TakeInbox();
  std::vector<RequestHandle> ids;
  for (const auto& [id, seq] : sequences_) ids.push_back(id);
  for (RequestHandle id : ids) Finish(*sequences_[id], FinishReason::kCancelled);
}

void Engine::TakeInbox() {
  std::vector<std::unique_ptr<Sequence>> inbox;
  std::vector<std::pair<RequestHandle, FinishReason>> cancels;
  std::optional<absl::Status> cancel_all;
  {
    absl::MutexLock lock(&mu_);
    inbox.swap(inbox_);
    cancels.swap(cancels_);
    cancel_all.swap(cancel_all_);
  }
  for (auto& seq : inbox) {
    Sequence* s = seq.get();
    sequences_[s->id] = std::move(seq);
    scheduler_->Enqueue(&s->entry);
  }
  for (const auto& [id, reason] : cancels) {
    auto it = sequences_.find(id);
    if (it != sequences_.end()) Finish(*it->second, reason);
  }
  if (cancel_all.has_value()) {
    std::vector<Sequence*> all;
    for (auto& [id, seq] : sequences_) all.push_back(seq.get());
    for (Sequence* seq : all) Finish(*seq, FinishReason::kCancelled, *cancel_all);
  }
}

void Engine::ExpireDeadlines(absl::Time now) {
  std::vector<Sequence*> expired;
  for (auto& [id, seq] : sequences_) {
    if (seq->request.deadline.has_value() && *seq->request.deadline <= now) {
      expired.push_back(seq.get());
    }
  }
  for (Sequence* seq : expired) Finish(*seq, FinishReason::kDeadline);
}

bool Engine::Step() {
  TakeInbox();
  ExpireDeadlines(clock_->Now());
  std::vector<StepItem> items = scheduler_->Schedule();
  scheduler_->PerformBlockCopies([this](const BlockCopy& copy) {
    cache_->CopyBlockPrefix(copy.from, copy.to, copy.positions);
  });
  const int64_t preemptions = scheduler_->TakePreemptionCount();
  if (items.empty()) {
    if (options_.observer != nullptr) {
      options_.observer->OnQueueState(static_cast<int64_t>(scheduler_->num_running()),
                                      static_cast<int64_t>(scheduler_->num_waiting()),
                                      allocator_->num_used(), allocator_->num_total());
    }
    absl::MutexLock lock(&mu_);
    snapshot_.running = static_cast<int64_t>(scheduler_->num_running());
    snapshot_.waiting = static_cast<int64_t>(scheduler_->num_waiting());
    snapshot_.kv_blocks_used = allocator_->num_used();
    snapshot_.last_progress = clock_->Now();
    return false;
  }
  const absl::Time start = clock_->Now();
  std::vector<SequenceStep> steps;
  std::vector<Sequence*> seqs;
  steps.reserve(items.size());
  StepStats stats;
  int64_t newly_admitted = 0;
  // A step whose rows cannot all be laid out is not run (every item in it ends with the error).
  absl::Status prepared = absl::OkStatus();
  for (const StepItem& item : items) {
    Sequence* seq = sequences_.at(item.entry->id).get();
    seqs.push_back(seq);
    if (seq->state == SequenceState::kWaiting) {
      seq->state = seq->first_token.has_value() ? SequenceState::kDecode : SequenceState::kPrefill;
      if (!seq->first_scheduled.has_value()) {
        seq->first_scheduled = start;
        seq->cached_prompt_tokens = seq->entry.cached_tokens;
        ++newly_admitted;
      }
    }
    if (seq->beam != nullptr) {
      if (absl::Status s = AppendBeamSteps(*seq, item, steps); !s.ok() && prepared.ok()) {
        prepared = s;
      }
    } else {
      SequenceStep step;
      step.tokens = absl::MakeConstSpan(seq->tokens)
                        .subspan(static_cast<size_t>(item.start), static_cast<size_t>(item.count));
      step.past = item.start;
      step.block_table = seq->entry.block_table;
      step.want_logits = item.sample;
      step.source = seq->source;
      step.cross_block_table = seq->entry.cross_block_table;
      step.row_sink = seq->prompt_scorer.get();
      steps.push_back(step);
    }
    if (seq->state == SequenceState::kDecode && item.count == 1 && item.start >= seq->prompt_len) {
      stats.decode_tokens += 1;
    } else {
      stats.prefill_tokens += item.count;
    }
  }
  if (newly_admitted > 0) {  // they leave the waiting queue's bound before their first event
    absl::MutexLock lock(&mu_);
    unadmitted_ -= newly_admitted;
  }
  const int64_t vocab = model_->config().vocab_size;
  int64_t logit_rows = 0;
  for (const SequenceStep& step : steps) logit_rows += step.want_logits ? 1 : 0;
  if (logits_.size() < static_cast<size_t>(logit_rows * vocab)) {
    logits_.resize(static_cast<size_t>(logit_rows * vocab));  // beam groups add rows
  }
  absl::Status status = prepared.ok() ? model_->Forward(steps, *cache_, logits_.data()) : prepared;
  scheduler_->Commit(items);
  const absl::Time now = clock_->Now();
  // Each sampling item's first logit row; beam groups own one row per live beam.
  std::vector<int64_t> first_row(items.size(), 0);
  std::vector<size_t> choosing;  // items that pick tokens from their rows this step
  for (size_t i = 0, row = 0; i < items.size(); ++i) {
    if (!items[i].sample) continue;
    first_row[i] = static_cast<int64_t>(row);
    row += seqs[i]->beam != nullptr ? static_cast<size_t>(seqs[i]->entry.width) : 1;
    if (seqs[i]->beam != nullptr || seqs[i]->max_new_tokens > 0) choosing.push_back(i);
  }
  // Picking tokens (a sampler's sort of the vocabulary, a beam search's log-softmax and top
  // candidates over beams x vocabulary) touches only the item's own rows and state, so it runs on
  // the intra-op team; events, block hand-overs and finishing follow on this thread, in order.
  // A preempted sequence is recomputed up to its last sampled token and then samples the next:
  // the sampler's state (random stream, counts) carries over, so its output is unchanged.
  std::vector<std::vector<int32_t>> beam_parents(items.size());
  std::vector<SampledToken> sampled(items.size());
  if (status.ok()) {
    ParallelFor(static_cast<int64_t>(choosing.size()), [&](int64_t j) {
      const size_t i = choosing[static_cast<size_t>(j)];
      Sequence& seq = *seqs[i];
      float* rows = logits_.data() + first_row[i] * vocab;
      if (seq.beam != nullptr) {
        beam_parents[i] = seq.beam->search.Step(rows, vocab);
      } else {
        ApplyModelLogitsProcessors(seq, rows);
        sampled[i] = seq.sampler.Sample(rows, vocab);
      }
    });
  }
  for (size_t i = 0; i < items.size(); ++i) {
    Sequence* seq = seqs[i];
    if (!status.ok()) {
      Finish(*seq, FinishReason::kError, status);
      continue;
    }
    if (!items[i].sample) continue;
    if (seq->beam != nullptr) {
      HandleBeamStep(*seq, items[i], beam_parents[i], now);
      continue;
    }
    if (seq->max_new_tokens == 0) {  // scoring only: the prompt is done, nothing to generate
      GenerationEvent event;
      event.prompt_logprobs = seq->prompt_scorer->Take();
      Finish(*seq, FinishReason::kLength, absl::OkStatus(), &event);
      continue;
    }
    HandleSampledToken(*seq, sampled[i], now);
  }
  if (const int64_t delay_ns = step_delay_ns_.load(std::memory_order_relaxed); delay_ns > 0) {
    absl::SleepFor(absl::Nanoseconds(delay_ns));
  }
  ++steps_;
  stats.sequences = static_cast<int64_t>(items.size());
  stats.running = static_cast<int64_t>(scheduler_->num_running());
  stats.waiting = static_cast<int64_t>(scheduler_->num_waiting());
  stats.kv_blocks_used = allocator_->num_used();
  stats.kv_blocks_total = allocator_->num_total();
  stats.preemptions = preemptions;
  const Scheduler::PrefixCacheCounts prefix = scheduler_->TakePrefixCacheCounts();
  stats.prefix_cache_queried_tokens = prefix.queried_tokens;
  stats.prefix_cache_hit_tokens = prefix.hit_tokens;
  stats.prefix_cache_blocks = allocator_->num_cached();
  stats.prefix_cache_evictions = allocator_->evictions();
  stats.duration = clock_->Now() - start;
  if (options_.observer != nullptr) {
    options_.observer->OnStep(stats);
    options_.observer->OnQueueState(stats.running, stats.waiting, stats.kv_blocks_used,
                                    stats.kv_blocks_total);
  }
  absl::MutexLock lock(&mu_);
  snapshot_.running = stats.running;
  snapshot_.waiting = stats.waiting;
  snapshot_.kv_blocks_used = stats.kv_blocks_used;
  snapshot_.steps = steps_;
  snapshot_.last_progress = clock_->Now();
  return true;
}

void Engine::HandleSampledToken(Sequence& seq, const SampledToken& sampled, absl::Time now) {
  const int32_t token = sampled.token;
  seq.tokens.push_back(token);
  seq.entry.num_tokens = static_cast<int64_t>(seq.tokens.size());
  RecordTokenTime(seq, now);

  GenerationEvent event;
  event.id = seq.id;
  event.tokens.push_back(token);
  if (seq.prompt_scorer != nullptr) {  // the first event carries the prompt's scores
    event.prompt_logprobs = seq.prompt_scorer->Take();
    seq.prompt_scorer.reset();
  }
  if (seq.request.sampling.logprobs || seq.request.sampling.top_logprobs > 0) {
    event.logprobs.push_back(sampled);
  }
  FinishReason reason = FinishReason::kNone;
  if (IsEos(token) && !seq.request.ignore_eos) {
    // The EOS token's text is not part of the output.
    reason = EosFinishReason(seq, seq.generated());
  } else {
    absl::StatusOr<std::string> piece = seq.decoder.Push(token);
    if (!piece.ok()) {
      Finish(seq, FinishReason::kError, piece.status());
      return;
    }
    StopMatcher::Result r = seq.stop.Push(*piece);
    event.text = std::move(r.text);
    if (r.stopped) reason = FinishReason::kStopSequence;
  }
  if (reason == FinishReason::kNone &&
      (seq.generated() >= seq.max_new_tokens ||
       static_cast<int64_t>(seq.tokens.size()) >= model_->max_context())) {
    reason = FinishReason::kLength;
  }
  if (reason == FinishReason::kEos || reason == FinishReason::kLength) {
    event.text += seq.stop.Push(seq.decoder.Flush()).text;
    event.text += seq.stop.Flush();
  }
  if (reason == FinishReason::kNone) {
    seq.callback(event);
    return;
  }
  // The last token's event is also the final one.
  Finish(seq, reason, absl::OkStatus(), &event);
}

void Engine::RecordTokenTime(Sequence& seq, absl::Time now) {
  const bool first = !seq.first_token.has_value();
  if (options_.observer != nullptr) {
    options_.observer->OnToken(first, now - (first ? seq.submitted : seq.last_token));
  }
  if (first) {
    seq.first_token = now;
    seq.state = SequenceState::kDecode;
  }
  seq.last_token = now;
}

bool Engine::IsEos(int32_t token) const {
  return std::find(eos_ids_.begin(), eos_ids_.end(), token) != eos_ids_.end();
}

FinishReason Engine::EosFinishReason(const Sequence& seq, int64_t generated) const {
  // Encoder-decoder models force eos as the last token the length allows: that reports the
  // length limit, as transformers does.
  const auto& ed = model_->config().encoder_decoder;
  const bool forced =
      ed.has_value() && ed->forced_eos_token_id.has_value() && generated >= seq.max_new_tokens;
  return forced ? FinishReason::kLength : FinishReason::kEos;
}

void Engine::Finish(Sequence& seq, FinishReason reason, absl::Status error, GenerationEvent* last) {
  absl::Status freed = scheduler_->Remove(&seq.entry);
  if (!freed.ok()) EMBER_LOG(ERROR) << "request " << seq.id << ": " << freed.message();
  seq.state = SequenceState::kFinished;
  const absl::Time now = clock_->Now();
  GenerationEvent event;
  if (last != nullptr) event = std::move(*last);
  event.id = seq.id;
  event.finished = true;
  event.finish_reason = reason;
  event.error = std::move(error);
  RequestTimings& t = event.timings;
  // An encoder-decoder request's prompt is its source (the decoder prompt is only the start token).
  t.prompt_tokens = seq.source.empty() ? seq.prompt_len : static_cast<int64_t>(seq.source.size());
  t.generated_tokens = seq.generated();
  t.preemptions = seq.entry.preemptions;
  t.cached_prompt_tokens = seq.cached_prompt_tokens;
  t.total = now - seq.submitted;
  if (seq.first_scheduled.has_value()) t.queue_wait = *seq.first_scheduled - seq.submitted;
  if (seq.first_token.has_value()) {
    t.time_to_first_token = *seq.first_token - seq.submitted;
    t.prefill = *seq.first_token - seq.first_scheduled.value_or(seq.submitted);
    t.decode = now - *seq.first_token;
  } else if (seq.max_new_tokens == 0 && reason == FinishReason::kLength) {
    t.prefill = now - seq.first_scheduled.value_or(seq.submitted);  // a scored prompt
  }
  if (options_.observer != nullptr) options_.observer->OnRequestFinished(reason, t);
  seq.callback(event);
  const bool was_admitted = seq.first_scheduled.has_value();
  sequences_.erase(seq.id);  // destroys seq
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (!was_admitted) --unadmitted_;
}

}  // namespace ember
