#include "tools/make_model/make_model.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/file_util.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"
#include "tools/common/safetensors_writer.h"
#include "tools/make_model/corpus.h"
#include "tools/make_model/hf_config.h"
#include "tools/make_model/marian_vocab.h"
#include "tools/make_model/tokenizer_builder.h"
#include "tools/make_model/tokenizer_files.h"
#include "tools/make_model/weight_init.h"

namespace ember::tools {
namespace {

constexpr size_t kChunkElements = size_t{1} << 20;

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

// Removes weight files a previous run may have left in the other layout.
absl::Status RemoveStaleWeights(const std::string& dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const bool stale = name == "model.safetensors" || name == "model.safetensors.index.json" ||
                       (absl::StartsWith(name, "model-") && absl::StrContains(name, "-of-") &&
                        absl::EndsWith(name, ".safetensors"));
    if (stale && !std::filesystem::remove(entry.path(), error)) break;
  }
  if (error) return absl::InternalError(absl::StrCat(dir, ": ", error.message()));
  return absl::OkStatus();
}

// Streams one safetensors file holding `tensors`.
absl::StatusOr<uint64_t> WriteWeights(const std::string& path,
                                      const std::vector<WeightSpec>& tensors,
                                      const MakeModelOptions& options) {
  std::vector<TensorSpec> specs;
  std::map<std::string, const WeightSpec*> by_name;
  for (const WeightSpec& tensor : tensors) {
    specs.push_back({tensor.name, options.spec.dtype, tensor.shape});
    by_name[tensor.name] = &tensor;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsWriter> writer,
                   SafetensorsWriter::Create(path, std::move(specs)));
  std::vector<float> values;
  std::string bytes;
  for (const TensorSpec& tensor : writer->tensors()) {
    const WeightSpec& weight = *by_name.at(tensor.name);
    const uint64_t key = TensorStreamKey(options.seed, tensor.name);
    const auto n = static_cast<uint64_t>(NumElements(tensor.shape));
    for (uint64_t first = 0; first < n; first += kChunkElements) {
      values.resize(std::min<uint64_t>(kChunkElements, n - first));
      if (weight.init == InitKind::kSinusoidal) {
        FillSinusoids(tensor.shape.back(), first, absl::MakeSpan(values));
      } else {
        FillWeights(key, weight.init, options.spec.init_std, first, absl::MakeSpan(values));
      }
      bytes.clear();
      AppendAsDType(values, tensor.dtype, bytes);
      RETURN_IF_ERROR(writer->Write(tensor.name, bytes));
    }
  }
  RETURN_IF_ERROR(writer->Close());
  return writer->file_size();
}

// model.safetensors.index.json as save_pretrained writes it (json.dumps(indent=2,
// sort_keys=True) plus a newline). total_size counts tensor bytes, not file bytes.
std::string IndexJson(const std::vector<std::vector<WeightSpec>>& shards, DType dtype) {
  nlohmann::json index;
  uint64_t total = 0;
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    for (const WeightSpec& tensor : shards[s]) {
      total += static_cast<uint64_t>(NumElements(tensor.shape)) * DTypeSize(dtype);
      weight_map[tensor.name] = ShardFileName(static_cast<int>(s), static_cast<int>(shards.size()));
    }
  }
  index["metadata"] = {{"total_size", total}};
  index["weight_map"] = std::move(weight_map);
  return index.dump(2) + "\n";
}

TokenizerStyle StyleFor(ModelFamily family) {
  switch (family) {
    case ModelFamily::kGpt2:
      return TokenizerStyle::kGpt2ByteLevel;
    case ModelFamily::kQwen2:
      return TokenizerStyle::kQwen2ByteLevel;
    case ModelFamily::kLlama:
    case ModelFamily::kMarian:  // not used: Marian ships SentencePiece models (MarianFiles)
      return TokenizerStyle::kLlamaSentencePiece;
  }
  return TokenizerStyle::kLlamaSentencePiece;
}

using NamedFiles = std::vector<std::pair<std::string, std::string>>;

// The non-weight files of a decoder-only checkpoint: a BPE tokenizer trained on the built-in
// corpus, sized to spec.vocab_size.
absl::Status DecoderOnlyFiles(const ModelSpec& spec, MakeModelReport& report, NamedFiles& files) {
  ASSIGN_OR_RETURN(const TrainedTokenizer tokenizer,
                   BuildTokenizer(StyleFor(spec.family), spec.vocab_size, TrainingCorpus()));
  report.learned_tokens = tokenizer.learned_tokens;
  report.padding_tokens = tokenizer.padding_tokens;
  files = {
      {"config.json", ConfigJson(spec, tokenizer)},
      {"generation_config.json", GenerationConfigJson(spec, tokenizer)},
      {"tokenizer.json", TokenizerJson(tokenizer)},
      {"tokenizer_config.json", TokenizerConfigJson(tokenizer, spec.max_positions)},
      {"special_tokens_map.json", SpecialTokensMapJson(tokenizer)},
  };
  return absl::OkStatus();
}

// Marian's: the SentencePiece models copied from `spm_dir` and the vocab.json built from them.
// Resolves spec.vocab_size 0 to the size of vocab.json.
absl::Status MarianFiles(const std::string& spm_dir, ModelSpec& spec, MakeModelReport& report,
                         NamedFiles& files) {
  ASSIGN_OR_RETURN(MarianSpm spm, LoadMarianSpm(spm_dir));
  const auto needed = static_cast<int64_t>(spm.pieces.size()) + 1;  // + <pad>
  if (spec.vocab_size == 0) spec.vocab_size = needed;
  if (spec.vocab_size < needed) {
    return absl::InvalidArgumentError(absl::StrCat("vocab_size ", spec.vocab_size,
                                                   " is too small for the ", needed,
                                                   " entries of vocab.json"));
  }
  report.learned_tokens = needed - 1;
  report.padding_tokens = spec.vocab_size - needed;
  files = {
      {"config.json", MarianConfigJson(spec)},
      {"generation_config.json", MarianGenerationConfigJson(spec)},
      {"source.spm", std::move(spm.source_bytes)},
      {"target.spm", std::move(spm.target_bytes)},
      {"vocab.json", MarianVocabJson(spm.pieces, spec.vocab_size)},
      {"tokenizer_config.json", MarianTokenizerConfigJson(kMarianModelMaxLength)},
      {"special_tokens_map.json", MarianSpecialTokensMapJson()},
  };
  return absl::OkStatus();
}

}  // namespace

std::string ShardFileName(int index, int shards) {
  return absl::StrFormat("model-%05d-of-%05d.safetensors", index + 1, shards);
}

absl::StatusOr<std::vector<std::vector<WeightSpec>>> SplitIntoShards(
    const std::vector<WeightSpec>& tensors, int shards, uint64_t bytes_per_element) {
  if (shards < 1 || static_cast<size_t>(shards) > tensors.size()) {
    return absl::InvalidArgumentError(absl::StrCat("shards must be in [1, ", tensors.size(),
                                                   "] (the number of tensors), got ", shards));
  }
  uint64_t total = 0;
  for (const WeightSpec& t : tensors) total += NumElements(t.shape) * bytes_per_element;
  const uint64_t target = (total + shards - 1) / shards;
  std::vector<std::vector<WeightSpec>> out(1);
  uint64_t current = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const uint64_t size = NumElements(tensors[i].shape) * bytes_per_element;
    const size_t tensors_left = tensors.size() - i;
    const size_t shards_to_start = static_cast<size_t>(shards) - out.size();
    // Start a new shard when this one is full, or when every remaining tensor is needed to give
    // each remaining shard at least one.
    const bool full = current + size > target && out.size() < static_cast<size_t>(shards);
    if (!out.back().empty() && (full || tensors_left == shards_to_start)) {
      out.emplace_back();
      current = 0;
    }
    out.back().push_back(tensors[i]);
    current += size;
  }
  return out;
}

absl::StatusOr<MakeModelReport> MakeModel(const MakeModelOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("out_dir is empty");
  MakeModelReport report;
  ModelSpec spec = options.spec;
  NamedFiles text_files;
  if (spec.family == ModelFamily::kMarian) {
    RETURN_IF_ERROR(MarianFiles(options.spm_dir, spec, report, text_files));
  }
  RETURN_IF_ERROR(ValidateSpec(spec));
  if (spec.family != ModelFamily::kMarian) {
    RETURN_IF_ERROR(DecoderOnlyFiles(spec, report, text_files));
  }
  const std::vector<WeightSpec> tensors = CheckpointTensors(spec);
  ASSIGN_OR_RETURN(const std::vector<std::vector<WeightSpec>> shards,
                   SplitIntoShards(tensors, options.shards, DTypeSize(spec.dtype)));

  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat(options.out_dir, ": cannot create: ", error.message()));
  }
  RETURN_IF_ERROR(RemoveStaleWeights(options.out_dir));

  report.vocab_size = spec.vocab_size;
  for (const WeightSpec& t : tensors) report.parameters += NumElements(t.shape);
  for (const auto& [name, contents] : text_files) {
    RETURN_IF_ERROR(WriteFile(JoinPath(options.out_dir, name), contents));
    report.files.push_back(name);
    report.bytes_written += contents.size();
  }
  if (shards.size() == 1) {
    ASSIGN_OR_RETURN(
        const uint64_t size,
        WriteWeights(JoinPath(options.out_dir, "model.safetensors"), tensors, options));
    report.files.push_back("model.safetensors");
    report.bytes_written += size;
    return report;
  }
  for (size_t s = 0; s < shards.size(); ++s) {
    const std::string name = ShardFileName(static_cast<int>(s), static_cast<int>(shards.size()));
    ASSIGN_OR_RETURN(const uint64_t size,
                     WriteWeights(JoinPath(options.out_dir, name), shards[s], options));
    report.files.push_back(name);
    report.bytes_written += size;
  }
  const std::string index = IndexJson(shards, spec.dtype);
  RETURN_IF_ERROR(WriteFile(JoinPath(options.out_dir, "model.safetensors.index.json"), index));
  report.files.push_back("model.safetensors.index.json");
  report.bytes_written += index.size();
  return report;
}

}  // namespace ember::tools
