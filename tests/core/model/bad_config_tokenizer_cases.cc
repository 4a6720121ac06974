// Bad config.json, generation_config.json and tokenizer files: what each case breaks and what the
// load must report.
#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/core/model/bad_model_cases.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using absl::StatusCode;
using testing::ModelDirEdits;
using Json = nlohmann::json;

constexpr char kConfig[] = "config.json";
constexpr char kGeneration[] = "generation_config.json";
constexpr char kTokenizer[] = "tokenizer.json";
constexpr char kSentencePiece[] = "tokenizer.model";
constexpr int64_t kTwoTo40 = int64_t{1} << 40;

void SetConfig(const ModelDirEdits& model, const std::string& key, const Json& value) {
  model.EditJson(kConfig, [&](Json& config) { config[key] = value; });
}

void EraseConfig(const ModelDirEdits& model, const std::string& key) {
  model.EditJson(kConfig, [&](Json& config) {
    if (config.erase(key) != 1) ADD_FAILURE() << "config.json has no " << key;
  });
}

void EditTokenizerModel(const ModelDirEdits& model, const std::function<void(Json&)>& edit) {
  model.EditJson(kTokenizer, [&](Json& tokenizer) { edit(tokenizer["model"]); });
}

// The vocabulary token with id `id`.
std::string TokenWithId(const Json& vocab, int64_t id) {
  for (const auto& [token, value] : vocab.items()) {
    if (value == id) return token;
  }
  ADD_FAILURE() << "no token with id " << id;
  return "";
}

// One past the largest id of the tokenizer: the id Hugging Face gives the next added token.
int64_t NextTokenId(const Json& tokenizer) {
  int64_t next = 0;
  for (const auto& [token, id] : tokenizer["model"]["vocab"].items()) {
    next = std::max(next, id.get<int64_t>() + 1);
  }
  for (const Json& added : tokenizer["added_tokens"]) {
    next = std::max(next, added["id"].get<int64_t>() + 1);
  }
  return next;
}

Json AddedToken(int64_t id, const std::string& content) {
  return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
          {"rstrip", false}, {"normalized", false}, {"special", true}};
}

// Classic GPT-2 tokenizer files in place of tokenizer.json.
void UseVocabAndMerges(const ModelDirEdits& model, const std::string& vocab,
                       const std::string& merges) {
  model.Remove(kTokenizer);
  model.Write("vocab.json", vocab);
  model.Write("merges.txt", merges);
}

}  // namespace

void UseSentencePieceTokenizer(const ModelDirEdits& model) {
  model.Remove(kTokenizer);
  const ModelDirEdits fixtures(
      absl::StrCat(testing::SourceDir(), "/tests/core/tokenizer/testdata"));
  model.Write(kSentencePiece, fixtures.Read("spm_bpe.model"));
}

std::vector<BadModelCase> ConfigCases() {
  const ModelLayout single = ModelLayout::kSingleFile;
  return {
      {"ConfigMissing",
       single,
       [](const ModelDirEdits& m) { m.Remove(kConfig); },
       StatusCode::kNotFound,
       kConfig,
       {"no such file"}},
      {"ConfigNotJson",
       single,
       [](const ModelDirEdits& m) { m.Write(kConfig, "{\"model_type\": \"llama\","); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"invalid JSON at byte"}},
      {"ConfigNotAnObject",
       single,
       [](const ModelDirEdits& m) { m.Write(kConfig, "[1]"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"the top level must be a JSON object"}},
      {"ConfigDuplicateKey",
       single,
       [](const ModelDirEdits& m) {
         m.Write(kConfig, absl::StrCat("{\"hidden_size\": 32,", m.Read(kConfig).substr(1)));
       },
       StatusCode::kInvalidArgument,
       kConfig,
       {"duplicate key \"hidden_size\""}},
      {"ConfigMissingModelType",
       single,
       [](const ModelDirEdits& m) { EraseConfig(m, "model_type"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'model_type' is required but missing"}},
      {"ConfigUnknownModelType",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "model_type", "bert"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'model_type' is \"bert\""}},
      {"ConfigMissingHiddenSize",
       single,
       [](const ModelDirEdits& m) { EraseConfig(m, "hidden_size"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"'hidden_size'"}},
      {"ConfigHiddenSizeIsAString",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "hidden_size", "64"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'hidden_size' must be an integer"}},
      {"ConfigHiddenSizeFractional",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "hidden_size", 64.5); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'hidden_size' must be an integer"}},
      {"ConfigNegativeLayerCount",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "num_hidden_layers", -2); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'num_hidden_layers' must be positive"}},
      {"ConfigZeroHeads",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "num_attention_heads", 0); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'num_attention_heads' must be positive"}},
      {"ConfigHeadsDoNotDivideHiddenSize",
       single,
       [](const ModelDirEdits& m) {
         EraseConfig(m, "head_dim");  // an explicit head_dim needs no divisibility
         SetConfig(m, "num_attention_heads", 3);
       },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'num_attention_heads' (3) must divide the hidden size (64)"}},
      {"ConfigKvHeadsDoNotDivideHeads",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "num_key_value_heads", 3); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'num_key_value_heads' (3) must divide"}},
      {"ConfigHugeLayerCount",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "num_hidden_layers", kTwoTo40); },
       StatusCode::kNotFound,
       kConfig,
       {"field 'num_hidden_layers' is 1099511627776",
        "no tensor \"model.layers.1099511627775.input_layernorm.weight\""}},
      // 2^22 layers would be 4M per-layer entries (~300 MB) if they were allocated before the
      // checkpoint was consulted; the memory bound of the test catches that.
      {"ConfigLayerCountBeyondCheckpoint",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "num_hidden_layers", int64_t{1} << 22); },
       StatusCode::kNotFound,
       kConfig,
       {"field 'num_hidden_layers' is 4194304",
        "no tensor \"model.layers.4194303.input_layernorm.weight\""}},
      {"ConfigHugeContext",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "max_position_embeddings", kTwoTo40); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'max_position_embeddings' is 1099511627776", "more positions than ember can index"}},
      {"ConfigContextTableLargerThanMemory",
       single,
       [](const ModelDirEdits& m) {
         SetConfig(m, "max_position_embeddings", (int64_t{1} << 31) - 1);
         SetConfig(m, "head_dim", int64_t{1} << 20);
       },
       StatusCode::kResourceExhausted,
       kConfig,
       {"field 'max_position_embeddings'", "rotary table", "more than this machine's"}},
      {"ConfigVocabSizeDisagreesWithEmbedding",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "vocab_size", 600); },
       StatusCode::kInvalidArgument,
       "model.safetensors",
       {"tensor \"model.embed_tokens.weight\" has shape [512, 64] but config.json implies [600, "
        "64]"}},
      {"ConfigEosTokenOutsideVocab",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "eos_token_id", 9999); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'eos_token_id' contains 9999"}},
      {"ConfigUnknownRopeScaling",
       single,
       [](const ModelDirEdits& m) {
         SetConfig(m, "rope_scaling", {{"rope_type", "yarn"}, {"factor", 2.0}});
       },
       StatusCode::kInvalidArgument,
       kConfig,
       {"field 'rope_scaling.rope_type' is \"yarn\""}},
      {"ConfigUnsupportedActivation",
       single,
       [](const ModelDirEdits& m) { SetConfig(m, "hidden_act", "gelu"); },
       StatusCode::kInvalidArgument,
       kConfig,
       {"hidden_act \"gelu\" is not supported"}},
      {"GenerationConfigNotJson",
       single,
       [](const ModelDirEdits& m) { m.Write(kGeneration, "no"); },
       StatusCode::kInvalidArgument,
       kGeneration,
       {"invalid JSON"}},
      {"GenerationConfigNegativeTemperature",
       single,
       [](const ModelDirEdits& m) {
         m.EditJson(kGeneration, [](Json& g) { g["temperature"] = -1; });
       },
       StatusCode::kInvalidArgument,
       kGeneration,
       {"field 'temperature'"}},
  };
}

std::vector<BadModelCase> TokenizerCases() {
  const ModelLayout single = ModelLayout::kSingleFile;
  return {
      {"NoTokenizerAtAll",
       single,
       [](const ModelDirEdits& m) { m.Remove(kTokenizer); },
       StatusCode::kNotFound,
       "",
       {"no tokenizer.json, source.spm + target.spm + vocab.json, vocab.json + merges.txt, or "
        "tokenizer.model"}},
      {"TokenizerJsonNotJson",
       single,
       [](const ModelDirEdits& m) { m.Write(kTokenizer, "{\"model\": {"); },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"invalid JSON"}},
      {"TokenizerJsonWithoutModel",
       single,
       [](const ModelDirEdits& m) { m.EditJson(kTokenizer, [](Json& t) { t.erase("model"); }); },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model: missing"}},
      {"TokenizerUnknownModelType",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(m, [](Json& model) { model["type"] = "WordPiece"; });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.type", "unsupported model type \"WordPiece\""}},
      {"TokenizerMergeOfUnknownTokens",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(m, [](Json& model) { model["merges"].push_back("zzq zzr"); });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.merges", "\"zzq\" is not in the vocabulary"}},
      {"TokenizerMergeNotTwoTokens",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(m, [](Json& model) { model["merges"].push_back("abc"); });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.merges[", "merge \"abc\" is not two tokens"}},
      {"TokenizerVocabIdOutOfRange",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(m, [](Json& model) {
           model["vocab"][TokenWithId(model["vocab"], 100)] = int64_t{1} << 24;
         });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.vocab", "outside [0, 16777216)"}},
      {"TokenizerVocabIdNegative",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(
             m, [](Json& model) { model["vocab"][TokenWithId(model["vocab"], 100)] = -1; });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.vocab", "has id -1, outside"}},
      {"TokenizerVocabIdNotAnInteger",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(
             m, [](Json& model) { model["vocab"][TokenWithId(model["vocab"], 100)] = 1.5; });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.vocab", "(expected an integer)"}},
      {"TokenizerDuplicateVocabId",
       single,
       [](const ModelDirEdits& m) {
         EditTokenizerModel(
             m, [](Json& model) { model["vocab"][TokenWithId(model["vocab"], 100)] = 101; });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"model.vocab", "id 101 is used by both"}},
      {"TokenizerAddedTokenWithWrongId",
       single,
       [](const ModelDirEdits& m) {
         m.EditJson(kTokenizer,
                    [](Json& t) { t["added_tokens"].push_back(AddedToken(100000, "<zz>")); });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"added_tokens[", "has id 100000"}},
      {"TokenizerUnknownPreTokenizer",
       single,
       [](const ModelDirEdits& m) {
         m.EditJson(kTokenizer, [](Json& t) { t["pre_tokenizer"] = {{"type", "Nope"}}; });
       },
       StatusCode::kInvalidArgument,
       kTokenizer,
       {"pre_tokenizer", "\"Nope\""}},
      {"TokenizerLargerThanConfigVocab",
       single,
       [](const ModelDirEdits& m) {
         m.EditJson(kTokenizer, [](Json& t) {
           t["added_tokens"].push_back(AddedToken(NextTokenId(t), "<extra>"));
         });
       },
       StatusCode::kInvalidArgument,
       "",
       {"the tokenizer has 513 tokens but config.json vocab_size is 512"}},
      {"VocabJsonNotJson",
       single,
       [](const ModelDirEdits& m) { UseVocabAndMerges(m, "not json", "#version: 0.2\n"); },
       StatusCode::kInvalidArgument,
       "vocab.json",
       {"invalid JSON"}},
      {"MergesTxtMergeOfUnknownToken",
       single,
       [](const ModelDirEdits& m) {
         UseVocabAndMerges(m, R"({"a": 0, "b": 1, "ab": 2})", "#version: 0.2\na c\n");
       },
       StatusCode::kInvalidArgument,
       "merges.txt",
       {"\"c\" is not in the vocabulary"}},
      {"SentencePieceModelTruncated",
       single,
       [](const ModelDirEdits& m) {
         UseSentencePieceTokenizer(m);
         const std::string bytes = m.Read(kSentencePiece);
         m.Write(kSentencePiece, bytes.substr(0, bytes.size() / 2));
       },
       StatusCode::kInvalidArgument,
       kSentencePiece,
       {"not a valid SentencePiece model"}},
      {"SentencePieceModelGarbage",
       single,
       [](const ModelDirEdits& m) {
         UseSentencePieceTokenizer(m);
         m.Write(kSentencePiece, std::string(4096, '\xAB'));
       },
       StatusCode::kInvalidArgument,
       kSentencePiece,
       {"not a valid SentencePiece model"}},
      {"SentencePieceModelEmpty",
       single,
       [](const ModelDirEdits& m) {
         UseSentencePieceTokenizer(m);
         m.Write(kSentencePiece, "");
       },
       StatusCode::kInvalidArgument,
       kSentencePiece,
       {"not a valid SentencePiece model"}},
  };
}

}  // namespace ember
