// ember_make_model's Marian presets: the directory docs/MARIAN.md describes, with every tensor
// name and shape of Hugging Face's MarianMTModel, the exact sinusoids, a vocab.json built from
// the committed SentencePiece models, and byte-for-byte determinism.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/model/safetensors_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"
#include "tools/make_model/marian_vocab.h"

namespace ember::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using Json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string FixtureDir() { return testing::SourceDir() + "/tools/spm_fixtures/marian"; }

MakeModelOptions Options(const std::string& preset, const std::string& out, uint64_t seed = 1) {
  MakeModelOptions options;
  options.spec = *PresetSpec(preset);
  options.out_dir = out;
  options.seed = seed;
  return options;
}

MakeModelReport Make(const MakeModelOptions& options) {
  absl::StatusOr<MakeModelReport> report = MakeModel(options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *report : MakeModelReport();
}

// What docs/MARIAN.md and the task fix for each tiny preset, written out independently of
// model_spec.cc.
struct Expected {
  std::string preset;
  int64_t d_model, encoder_layers, decoder_layers, heads, ffn;
  std::string activation;
  bool scale_embedding, normalize_before, shared, tied;
};

const Expected kTinyMarian{"tiny-marian", 64, 2, 2, 4, 128, "swish", true, false, true, true};
const Expected kTinyMarianPreln{
    "tiny-marian-preln", 48, 3, 2, 2, 96, "gelu", false, true, false, false};
constexpr int64_t kMaxPositions = 128;

// Names the parameter in test output (and CTest names) instead of dumping its bytes.
void PrintTo(const Expected& e, std::ostream* os) { *os << e.preset; }

// The HF tensor names and shapes of docs/MARIAN.md for `e` with vocabulary `v`.
std::map<std::string, Shape> ExpectedTensors(const Expected& e, int64_t v) {
  const int64_t d = e.d_model, f = e.ffn;
  std::map<std::string, Shape> out;
  out["final_logits_bias"] = {1, v};
  if (e.shared) {
    out["model.shared.weight"] = {v, d};
  } else {
    out["model.encoder.embed_tokens.weight"] = {v, d};
    out["model.decoder.embed_tokens.weight"] = {v, d};
  }
  if (!e.tied) out["lm_head.weight"] = {v, d};
  const auto attention = [&](const std::string& p) {
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      out[p + proj + ".weight"] = {d, d};
      out[p + proj + ".bias"] = {d};
    }
  };
  const auto norm = [&](const std::string& p) {
    out[p + ".weight"] = {d};
    out[p + ".bias"] = {d};
  };
  for (const std::string stack : {"encoder", "decoder"}) {
    const std::string s = "model." + stack + ".";
    out[s + "embed_positions.weight"] = {kMaxPositions, d};
    const int64_t layers = stack == "encoder" ? e.encoder_layers : e.decoder_layers;
    for (int64_t i = 0; i < layers; ++i) {
      const std::string p = absl::StrCat(s, "layers.", i, ".");
      attention(p + "self_attn.");
      norm(p + "self_attn_layer_norm");
      if (stack == "decoder") {
        attention(p + "encoder_attn.");
        norm(p + "encoder_attn_layer_norm");
      }
      out[p + "fc1.weight"] = {f, d};
      out[p + "fc1.bias"] = {f};
      out[p + "fc2.weight"] = {d, f};
      out[p + "fc2.bias"] = {d};
      norm(p + "final_layer_norm");
    }
    if (e.normalize_before) norm(s + "layer_norm");
  }
  return out;
}

std::vector<float> Floats(const SafetensorsFile& file, const std::string& name) {
  absl::StatusOr<TensorView> view = file.Get(name);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok() || view->dtype != DType::kF32) return {};
  std::vector<float> values(static_cast<size_t>(view->NumElements()));
  std::memcpy(values.data(), view->data, values.size() * sizeof(float));
  return values;
}

class MarianPresetTest : public ::testing::TestWithParam<Expected> {};

TEST_P(MarianPresetTest, WritesTheHuggingFaceLayout) {
  const Expected& e = GetParam();
  testing::TempDir dir;
  const MakeModelReport report = Make(Options(e.preset, dir.path()));
  for (const char* file :
       {"config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm",
        "vocab.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir.File(file))) << file;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("tokenizer.json")));
  EXPECT_EQ(ReadAll(dir.File("source.spm")), ReadAll(FixtureDir() + "/source.spm"));
  EXPECT_EQ(ReadAll(dir.File("target.spm")), ReadAll(FixtureDir() + "/target.spm"));

  // vocab.json: </s> 0, <unk> 1, the pieces, <pad> last; ids dense and distinct.
  const Json vocab = Json::parse(ReadAll(dir.File("vocab.json")));
  const auto v = static_cast<int64_t>(vocab.size());
  EXPECT_EQ(report.vocab_size, v);
  EXPECT_EQ(vocab["</s>"].get<int64_t>(), 0);
  EXPECT_EQ(vocab["<unk>"].get<int64_t>(), 1);
  EXPECT_EQ(vocab["<pad>"].get<int64_t>(), v - 1);
  std::set<int64_t> ids;
  for (const auto& [piece, id] : vocab.items()) ids.insert(id.get<int64_t>());
  EXPECT_EQ(static_cast<int64_t>(ids.size()), v);
  EXPECT_EQ(*ids.rbegin(), v - 1);
  EXPECT_TRUE(vocab.contains("\u2581the")) << "an English piece of source.spm";
  EXPECT_TRUE(vocab.contains("\u2581die")) << "a German piece of target.spm";
  EXPECT_FALSE(vocab.contains("<s>")) << "control pieces are not in Marian's vocab";

  const Json c = Json::parse(ReadAll(dir.File("config.json")));
  const int64_t pad = v - 1;
  EXPECT_EQ(c["architectures"], Json::array({"MarianMTModel"}));
  EXPECT_EQ(c["model_type"], "marian");
  EXPECT_EQ(c["d_model"], e.d_model);
  EXPECT_EQ(c["encoder_layers"], e.encoder_layers);
  EXPECT_EQ(c["decoder_layers"], e.decoder_layers);
  EXPECT_EQ(c["encoder_attention_heads"], e.heads);
  EXPECT_EQ(c["decoder_attention_heads"], e.heads);
  EXPECT_EQ(c["encoder_ffn_dim"], e.ffn);
  EXPECT_EQ(c["decoder_ffn_dim"], e.ffn);
  EXPECT_EQ(c["activation_function"], e.activation);
  EXPECT_EQ(c["max_position_embeddings"], kMaxPositions);
  EXPECT_EQ(c["scale_embedding"], e.scale_embedding);
  EXPECT_EQ(c["normalize_before"], e.normalize_before);
  EXPECT_EQ(c["share_encoder_decoder_embeddings"], e.shared);
  EXPECT_EQ(c["tie_word_embeddings"], e.tied);
  EXPECT_EQ(c["static_position_embeddings"], true);
  EXPECT_EQ(c["is_encoder_decoder"], true);
  EXPECT_EQ(c["vocab_size"], v);
  EXPECT_EQ(c["decoder_vocab_size"], v);
  EXPECT_EQ(c["torch_dtype"], "float32");
  const Json g = Json::parse(ReadAll(dir.File("generation_config.json")));
  for (const Json* j : {&c, &g}) {
    EXPECT_EQ((*j)["pad_token_id"], pad);
    EXPECT_EQ((*j)["decoder_start_token_id"], pad);
    EXPECT_EQ((*j)["bad_words_ids"], Json::array({Json::array({pad})}));
    EXPECT_EQ((*j)["eos_token_id"], 0);
    EXPECT_EQ((*j)["forced_eos_token_id"], 0);
    EXPECT_EQ((*j)["num_beams"], 4);
    EXPECT_EQ((*j)["max_length"], kMaxPositions);
  }

  const Json tokenizer_config = Json::parse(ReadAll(dir.File("tokenizer_config.json")));
  EXPECT_EQ(tokenizer_config["source_lang"], "en");
  EXPECT_EQ(tokenizer_config["target_lang"], "de");
  EXPECT_EQ(tokenizer_config["separate_vocabs"], false);
  EXPECT_EQ(tokenizer_config["model_max_length"], 512);
  EXPECT_EQ(tokenizer_config["eos_token"], "</s>");
  const Json special = Json::parse(ReadAll(dir.File("special_tokens_map.json")));
  EXPECT_EQ(special, Json({{"eos_token", "</s>"}, {"pad_token", "<pad>"}, {"unk_token", "<unk>"}}));

  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(dir.File("model.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  const std::map<std::string, Shape> expected = ExpectedTensors(e, v);
  std::vector<std::string> expected_names;
  for (const auto& [name, shape] : expected) expected_names.push_back(name);
  EXPECT_THAT((*file)->TensorNames(), UnorderedElementsAreArray(expected_names));
  for (const auto& [name, shape] : expected) {
    const SafetensorsTensorInfo* info = (*file)->Find(name);
    ASSERT_NE(info, nullptr) << name;
    EXPECT_EQ(info->shape, shape) << name;
    EXPECT_EQ(info->dtype_name, "F32") << name;
  }

  // The fixed sinusoids, sin half first, in both stacks.
  for (const char* name :
       {"model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"}) {
    const std::vector<float> pos = Floats(**file, name);
    ASSERT_EQ(pos.size(), static_cast<size_t>(kMaxPositions * e.d_model)) << name;
    const int64_t half = e.d_model / 2;
    for (int64_t p = 0; p < kMaxPositions; ++p) {
      for (int64_t i = 0; i < half; ++i) {
        const double angle =
            static_cast<double>(p) / std::pow(10000.0, 2.0 * static_cast<double>(i) / e.d_model);
        ASSERT_NEAR(pos[p * e.d_model + i], std::sin(angle), 1e-6) << name << " " << p << " " << i;
        ASSERT_NEAR(pos[p * e.d_model + half + i], std::cos(angle), 1e-6) << name << " " << p;
      }
    }
  }

  // final_logits_bias is noise (so a test of the engine sees it added); LayerNorm gains are
  // near 1; separate embeddings and an untied head are distinct matrices.
  const std::vector<float> bias = Floats(**file, "final_logits_bias");
  double sum_sq = 0;
  for (const float b : bias) sum_sq += double{b} * b;
  EXPECT_GT(std::sqrt(sum_sq / static_cast<double>(bias.size())), 0.05);
  for (const float w : Floats(**file, "model.decoder.layers.1.final_layer_norm.weight")) {
    EXPECT_NEAR(w, 1.0, 0.5);
  }
  if (!e.shared) {
    EXPECT_NE(Floats(**file, "model.encoder.embed_tokens.weight"),
              Floats(**file, "model.decoder.embed_tokens.weight"));
  }
  if (!e.tied) {
    const std::string decoder_embedding =
        e.shared ? "model.shared.weight" : "model.decoder.embed_tokens.weight";
    EXPECT_NE(Floats(**file, "lm_head.weight"), Floats(**file, decoder_embedding));
  }
}

TEST_P(MarianPresetTest, SameSeedGivesIdenticalBytes) {
  const Expected& e = GetParam();
  testing::TempDir a, b, c;
  const MakeModelReport report = Make(Options(e.preset, a.path(), 5));
  Make(Options(e.preset, b.path(), 5));
  Make(Options(e.preset, c.path(), 6));
  ASSERT_EQ(report.files.size(), 8u);
  for (const std::string& name : report.files) {
    EXPECT_EQ(ReadAll(a.File(name)), ReadAll(b.File(name))) << name;
    if (name != "model.safetensors") {
      EXPECT_EQ(ReadAll(a.File(name)), ReadAll(c.File(name))) << name;
    }
  }
  EXPECT_NE(ReadAll(a.File("model.safetensors")), ReadAll(c.File("model.safetensors")));
}

INSTANTIATE_TEST_SUITE_P(TinyMarian, MarianPresetTest,
                         ::testing::Values(kTinyMarian, kTinyMarianPreln),
                         [](const ::testing::TestParamInfo<Expected>& param_info) {
                           return param_info.param.preset == "tiny-marian" ? "PostLn" : "PreLn";
                         });

TEST(MarianMakeModelTest, OpusMtBaseHasTheShapeOfOpusMtEnDe) {
  absl::StatusOr<ModelSpec> spec = PresetSpec("opus-mt-base");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->vocab_size, 58101);
  int64_t parameters = 0;
  for (const WeightSpec& w : CheckpointTensors(*spec)) {
    int64_t n = 1;
    for (const int64_t d : w.shape) n *= d;
    parameters += n;
  }
  // opus-mt-en-de's 73,886,208 trainable parameters (58101 x 512 shared embedding, 6 encoder
  // layers of 3,152,384, 6 decoder layers of 4,204,032) plus the two 512 x 512 sinusoid tables
  // and final_logits_bias.
  EXPECT_EQ(parameters, 73886208 + 2 * 512 * 512 + 58101);
}

TEST(MarianMakeModelTest, OpusMtBaseWritesBf16WithUnusedIdsBeforePad) {
  testing::TempDir dir;
  MakeModelOptions options = Options("opus-mt-base", dir.path());
  options.spec.dtype = DType::kBF16;
  // The full 74M parameters take a second to write; the layer count does not change the
  // vocabulary or the dtype handling under test.
  options.spec.encoder_layers = 1;
  options.spec.num_layers = 1;
  const MakeModelReport report = Make(options);
  EXPECT_EQ(report.vocab_size, 58101);
  EXPECT_GT(report.padding_tokens, 50000);
  const Json vocab = Json::parse(ReadAll(dir.File("vocab.json")));
  EXPECT_EQ(vocab["<pad>"].get<int64_t>(), 58100);
  EXPECT_LT(vocab.size(), 1000u);
  const Json c = Json::parse(ReadAll(dir.File("config.json")));
  EXPECT_EQ(c["torch_dtype"], "bfloat16");
  EXPECT_EQ(c["pad_token_id"], 58100);
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file =
      SafetensorsFile::Open(dir.File("model.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsTensorInfo* shared = (*file)->Find("model.shared.weight");
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->dtype_name, "BF16");
  EXPECT_EQ(shared->shape, Shape({58101, 512}));
  EXPECT_FALSE((*file)->Contains("lm_head.weight"));
}

TEST(MarianMakeModelTest, ReadsThePiecesOfTheCommittedModels) {
  const std::string source = ReadAll(FixtureDir() + "/source.spm");
  absl::StatusOr<std::vector<SpmPiece>> pieces = ParseSpmPieces(source);
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  ASSERT_EQ(pieces->size(), 250u);  // make_marian_spm.sh's --vocab_size
  EXPECT_EQ((*pieces)[0].piece, "<unk>");
  EXPECT_EQ((*pieces)[0].type, SpmPieceType::kUnknown);
  EXPECT_EQ((*pieces)[1].piece, "<s>");
  EXPECT_EQ((*pieces)[1].type, SpmPieceType::kControl);
  EXPECT_EQ((*pieces)[2].piece, "</s>");
  EXPECT_EQ((*pieces)[2].type, SpmPieceType::kControl);
  EXPECT_EQ((*pieces)[3].type, SpmPieceType::kNormal);

  // vocab.json order: </s>, <unk>, the source pieces from id 3 on, then new target pieces.
  const std::vector<SpmPiece> target = {{"<unk>", SpmPieceType::kUnknown},
                                        {"\u2581the", SpmPieceType::kNormal},
                                        {"\u2581der", SpmPieceType::kNormal},
                                        {"<sep>", SpmPieceType::kUserDefined},
                                        {"<0x41>", SpmPieceType::kByte}};
  const std::vector<std::string> merged = MarianVocabPieces(*pieces, target);
  ASSERT_GE(merged.size(), 250u);
  EXPECT_EQ(merged[0], "</s>");
  EXPECT_EQ(merged[1], "<unk>");
  EXPECT_EQ(merged[2], (*pieces)[3].piece);
  EXPECT_EQ(merged.size(), 2 + 247 + 2u);  // "▁the" is already a source piece
  EXPECT_EQ(merged[merged.size() - 2], "\u2581der");
  EXPECT_EQ(merged.back(), "<sep>");

  EXPECT_FALSE(ParseSpmPieces("not a model").ok());
  EXPECT_FALSE(ParseSpmPieces("").ok());
}

TEST(MarianMakeModelTest, RejectsBadOptions) {
  testing::TempDir dir;
  MakeModelOptions options = Options("tiny-marian", dir.path());
  options.spec.vocab_size = 100;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("too small"));
  options = Options("tiny-marian", dir.path());
  options.spm_dir = dir.File("missing");
  EXPECT_EQ(MakeModel(options).status().code(), absl::StatusCode::kNotFound);
  options = Options("tiny-marian", dir.path());
  options.spec.activation = "tanh";
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("activation"));
  options = Options("tiny-marian", dir.path());
  options.spec.num_heads = 3;
  options.spec.num_kv_heads = 3;
  options.spec.hidden_size = 63;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("hidden_size"));
  options = Options("tiny-marian", dir.path());
  options.spec.encoder_layers = 0;
  EXPECT_THAT(std::string(MakeModel(options).status().message()), HasSubstr("encoder_layers"));
}

}  // namespace
}  // namespace ember::tools
