// Everything the engine needs to start. Flags bind into this in server/main.cc and nowhere else.
#ifndef EMBER_CORE_ENGINE_ENGINE_OPTIONS_H_
#define EMBER_CORE_ENGINE_ENGINE_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/engine/clock.h"
#include "core/kernels/quant/quant_format.h"
#include "core/tensor/dtype.h"

namespace ember {

class EngineObserver;

struct EngineOptions {
  // A Hugging Face model directory (config.json, *.safetensors, tokenizer files). Required.
  std::string model_dir;
  // Weight and matmul type, F32 or BF16. nullopt: BF16 when the CPU has native bf16, else F32.
  std::optional<DType> compute;
  // Quantized weights (ModelOptions::quantize): int8 / int4 projections packed at load from the
  // checkpoint, multiplied with activations of the compute type. nullopt: weights in `compute`.
  std::optional<quant::QuantScheme> quantize;
  // With `quantize`: quantize the LM head too.
  bool quantize_lm_head = true;
  // Intra-op threads for the model. 0 or negative: OMP_NUM_THREADS when set, else the CPUs the
  // process may use (its affinity mask), capped by a cgroup v2 CPU limit (DefaultIntraOpThreads
  // in core/kernels/threads.h).
  int threads = 0;
  // Tokens per forward step (decodes + prefill chunks): bounds step latency for running streams.
  int64_t max_tokens_per_step = 512;
  // Sequences decoding together at most.
  int64_t max_running = 64;
  // Positions per KV-cache block.
  int64_t block_size = 16;
  // KV-cache size in bytes. 0: room for max_running sequences of the full context, capped at
  // 25% of physical memory.
  int64_t kv_cache_bytes = 0;
  // Requests waiting for admission at most; Submit past that gives RESOURCE_EXHAUSTED. > 0.
  int64_t max_waiting = 256;
  // Context length served. 0: the model's (config.json). Lower values save KV memory.
  int64_t max_context = 0;
  // max_new_tokens when a request leaves it 0.
  int32_t default_max_new_tokens = 256;
  // Largest max_new_tokens a request may ask for.
  int32_t max_new_tokens_limit = 4096;
  // Stop strings per request at most, and the byte length of each (RequestLimits).
  int max_stop_strings = 16;
  int max_stop_string_bytes = 256;
  // Prefix caching: full KV blocks are kept (while nothing needs their memory) and shared by
  // content, so a prompt that begins like an earlier one computes only the rest. Outputs are
  // identical either way. Beam searches, encoder-decoder models and prompt scoring do not use it.
  bool prefix_cache = true;
  // Seed of the generator that draws seeds for requests without one.
  uint64_t seed = 0x5eed;
  // Time source for deadlines and timings; nullptr: the real clock. Not owned.
  const Clock* clock = nullptr;
  // Receives step and request statistics on the loop thread; nullptr: none. Not owned; must
  // outlive the engine.
  EngineObserver* observer = nullptr;
};

}  // namespace ember

#endif  // EMBER_CORE_ENGINE_ENGINE_OPTIONS_H_
