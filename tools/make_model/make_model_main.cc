// ember_make_model: writes a random, deterministic checkpoint in exact Hugging Face layout.
//
//   ember_make_model --preset=tiny-llama --out=/tmp/tiny-llama [--seed=N] [--dtype=bf16]
//                    [--shards=N] [--hidden_size=...] ...
//   ember_make_model --preset=tiny-marian --out=/tmp/tiny-marian [--spm_dir=DIR]
//
// Flags bind into MakeModelOptions here and nowhere else.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/util/status_macros.h"
#include "tools/make_model/make_model.h"

ABSL_FLAG(std::string, preset, "",
          "Model to generate: tiny-gpt2, tiny-llama, tiny-llama-gqa, tiny-qwen2, gpt2-124m, "
          "tinyllama-1.1b; MarianMT (encoder-decoder, docs/MARIAN.md): tiny-marian (post-LN, "
          "shared tied embeddings), tiny-marian-preln (pre-LN, separate untied embeddings), "
          "opus-mt-base (opus-mt-en-de's shape)");
ABSL_FLAG(std::string, out, "", "Output directory (created if missing)");
ABSL_FLAG(uint64_t, seed, 0, "Seed of the random weights");
ABSL_FLAG(std::string, dtype, "", "Weight dtype: f32, bf16 or f16 (empty: the preset's)");
ABSL_FLAG(int32_t, shards, 1, "Number of safetensors files (> 1 also writes the index)");
ABSL_FLAG(std::string, spm_dir, "",
          "Marian presets: directory with source.spm and target.spm (empty: the repository's "
          "tools/spm_fixtures/marian, compiled in)");
ABSL_FLAG(int64_t, vocab_size, 0, "Override: vocabulary size (0: the preset's)");
ABSL_FLAG(int64_t, hidden_size, 0, "Override: hidden size (0: the preset's)");
ABSL_FLAG(int64_t, num_layers, 0, "Override: decoder layers (0: the preset's)");
ABSL_FLAG(int64_t, encoder_layers, 0, "Override: Marian encoder layers (0: the preset's)");
ABSL_FLAG(int64_t, num_heads, 0, "Override: attention heads (0: the preset's)");
ABSL_FLAG(int64_t, num_kv_heads, 0, "Override: key/value heads (0: the preset's)");
ABSL_FLAG(int64_t, intermediate_size, 0, "Override: MLP inner size (0: the preset's)");
ABSL_FLAG(int64_t, max_positions, 0, "Override: maximum positions (0: the preset's)");
ABSL_FLAG(double, rope_theta, 0, "Override: rotary base (0: the preset's)");
ABSL_FLAG(double, init_std, 0, "Override: weight standard deviation (0: the preset's)");
ABSL_FLAG(std::string, tie_word_embeddings, "", "Override: true or false (empty: the preset's)");
ABSL_FLAG(std::string, rope_scaling, "",
          "Override: none, linear or llama3 (empty: the preset's, none)");

namespace ember::tools {
namespace {

absl::StatusOr<MakeModelOptions> OptionsFromFlags() {
  MakeModelOptions options;
  if (absl::GetFlag(FLAGS_preset).empty()) {
    return absl::InvalidArgumentError("--preset is required");
  }
  ASSIGN_OR_RETURN(options.spec, PresetSpec(absl::GetFlag(FLAGS_preset)));
  options.out_dir = absl::GetFlag(FLAGS_out);
  if (options.out_dir.empty()) return absl::InvalidArgumentError("--out is required");
  options.seed = absl::GetFlag(FLAGS_seed);
  options.shards = absl::GetFlag(FLAGS_shards);
  options.spm_dir = absl::GetFlag(FLAGS_spm_dir);

  ModelSpec& spec = options.spec;
  const std::string dtype = absl::GetFlag(FLAGS_dtype);
  if (dtype == "f32") {
    spec.dtype = DType::kF32;
  } else if (dtype == "bf16") {
    spec.dtype = DType::kBF16;
  } else if (dtype == "f16") {
    spec.dtype = DType::kF16;
  } else if (!dtype.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--dtype=", dtype, ": use f32, bf16 or f16"));
  }
  const auto override_size = [](int64_t flag, int64_t& field) {
    if (flag != 0) field = flag;
  };
  override_size(absl::GetFlag(FLAGS_vocab_size), spec.vocab_size);
  override_size(absl::GetFlag(FLAGS_hidden_size), spec.hidden_size);
  override_size(absl::GetFlag(FLAGS_num_layers), spec.num_layers);
  override_size(absl::GetFlag(FLAGS_encoder_layers), spec.encoder_layers);
  override_size(absl::GetFlag(FLAGS_num_heads), spec.num_heads);
  override_size(absl::GetFlag(FLAGS_num_kv_heads), spec.num_kv_heads);
  override_size(absl::GetFlag(FLAGS_intermediate_size), spec.intermediate_size);
  override_size(absl::GetFlag(FLAGS_max_positions), spec.max_positions);
  if (absl::GetFlag(FLAGS_rope_theta) != 0) spec.rope_theta = absl::GetFlag(FLAGS_rope_theta);
  if (absl::GetFlag(FLAGS_init_std) != 0) spec.init_std = absl::GetFlag(FLAGS_init_std);
  const std::string tie = absl::GetFlag(FLAGS_tie_word_embeddings);
  if (tie == "true" || tie == "false") {
    spec.tie_word_embeddings = tie == "true";
  } else if (!tie.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tie_word_embeddings=", tie, ": use true or false"));
  }
  const std::string rope = absl::GetFlag(FLAGS_rope_scaling);
  if (rope == "none") {
    spec.rope_scaling = RopeScalingKind::kNone;
  } else if (rope == "linear") {
    spec.rope_scaling = RopeScalingKind::kLinear;
  } else if (rope == "llama3") {
    spec.rope_scaling = RopeScalingKind::kLlama3;
  } else if (!rope.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rope_scaling=", rope, ": use none, linear or llama3"));
  }
  return options;
}

int Run() {
  const absl::StatusOr<MakeModelOptions> options = OptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "ember_make_model: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  const absl::Time start = absl::Now();
  const absl::StatusOr<MakeModelReport> report = MakeModel(*options);
  if (!report.ok()) {
    std::fprintf(stderr, "ember_make_model: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "ember_make_model: wrote %s (%lld parameters, %.1f MB, tokenizer %lld learned + %lld "
      "padding tokens) in %.2f s: %s\n",
      options->out_dir.c_str(), static_cast<long long>(report->parameters),
      static_cast<double>(report->bytes_written) / 1e6,
      static_cast<long long>(report->learned_tokens),
      static_cast<long long>(report->padding_tokens), absl::ToDoubleSeconds(absl::Now() - start),
      absl::StrJoin(report->files, ", ").c_str());
  return 0;
}

}  // namespace
}  // namespace ember::tools

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes a random, deterministic checkpoint in Hugging Face layout.\n"
      "  ember_make_model --preset=tiny-llama --out=DIR [--seed=N] [--dtype=f32|bf16|f16] "
      "[--shards=N]\n"
      "  ember_make_model --preset=tiny-marian --out=DIR [--seed=N] [--spm_dir=DIR]  "
      "(MarianMT; also tiny-marian-preln, opus-mt-base)");
  absl::ParseCommandLine(argc, argv);
  return ember::tools::Run();
}
