// A checkpoint that does not match its config.json fails to load with a message naming the file,
// the tensor, and what the config implies; nothing is packed before the whole plan validates.
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/model/decoder_model.h"
#include "core/model/safetensors_file.h"
#include "core/util/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/temp_dir.h"
#include "tools/common/safetensors_writer.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

// Copies `src` (a generated model directory) to `dst`, rewriting model.safetensors: `edit` may
// rename or reshape a tensor (same byte size) or return false to drop it; `extra` adds tensors.
void Rewrite(const std::string& src, const std::string& dst,
             const std::function<bool(tools::TensorSpec&)>& edit,
             std::vector<tools::TensorSpec> extra = {}) {
  std::filesystem::create_directories(dst);
  for (const auto& entry : std::filesystem::directory_iterator(src)) {
    if (entry.path().filename() == "model.safetensors") continue;
    std::filesystem::copy_file(entry.path(), dst / entry.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
  auto file = SafetensorsFile::Open(src + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<tools::TensorSpec> specs;
  std::vector<std::string> sources;
  for (const auto& info : (*file)->tensors()) {
    tools::TensorSpec spec{info.name, *info.dtype, info.shape};
    if (!edit(spec)) continue;
    specs.push_back(spec);
    sources.push_back(info.name);
  }
  for (const auto& e : extra) {
    specs.push_back(e);
    sources.push_back("");
  }
  auto writer = tools::SafetensorsWriter::Create(dst + "/model.safetensors", specs);
  ASSERT_TRUE(writer.ok()) << writer.status();
  // The writer wants tensors in its own order; look each up by its new name.
  for (const auto& spec : (*writer)->tensors()) {
    size_t i = 0;
    while (specs[i].name != spec.name) ++i;
    std::string bytes;
    if (sources[i].empty()) {
      bytes.assign(tools::TensorBytes(spec), '\0');
    } else {
      TensorView view = *(*file)->Get(sources[i]);
      bytes.assign(static_cast<const char*>(view.data), view.num_bytes);
    }
    ASSERT_TRUE((*writer)->Write(spec.name, bytes).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
}

class DecoderWeightsErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tools::MakeModelOptions options;
    options.out_dir = dir_.File("good");
    options.spec = *tools::PresetSpec("tiny-llama");
    options.seed = 3;
    ASSERT_TRUE(tools::MakeModel(options).ok());
  }
  absl::Status Load(const std::string& name) {
    DecoderModelOptions options;
    options.compute = DType::kF32;
    return DecoderModel::Load(dir_.File(name), options).status();
  }
  testing::TempDir dir_;
};

TEST_F(DecoderWeightsErrorsTest, TheGeneratedModelLoads) { EXPECT_TRUE(Load("good").ok()); }

TEST_F(DecoderWeightsErrorsTest, MissingTensorIsNamed) {
  Rewrite(dir_.File("good"), dir_.File("missing"),
          [](tools::TensorSpec& t) { return t.name != "model.layers.1.mlp.up_proj.weight"; });
  absl::Status s = Load("missing");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("\"model.layers.1.mlp.up_proj.weight\""));
  EXPECT_THAT(s.message(), HasSubstr("required by config.json"));
  EXPECT_THAT(s.message(), HasSubstr(dir_.File("missing")));
}

TEST_F(DecoderWeightsErrorsTest, MisShapedTensorNamesFileTensorAndShapes) {
  Rewrite(dir_.File("good"), dir_.File("shape"), [](tools::TensorSpec& t) {
    if (t.name == "model.layers.0.self_attn.q_proj.weight") t.shape = {32, 128};
    return true;
  });
  absl::Status s = Load("shape");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model.safetensors: tensor "
                                     "\"model.layers.0.self_attn.q_proj.weight\" has shape "
                                     "[32, 128] but config.json implies [64, 64]"));
}

TEST_F(DecoderWeightsErrorsTest, UntiedModelWithoutLmHeadIsRejected) {
  Rewrite(dir_.File("good"), dir_.File("nohead"),
          [](tools::TensorSpec& t) { return t.name != "lm_head.weight"; });
  absl::Status s = Load("nohead");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("lm_head.weight"));
}

TEST_F(DecoderWeightsErrorsTest, UnexpectedExtraTensorsStillLoad) {
  Rewrite(dir_.File("good"), dir_.File("extra"), [](tools::TensorSpec&) { return true; },
          {{"model.layers.0.self_attn.rotary_emb.inv_freq", DType::kF32, {8}},
           {"some.unknown.tensor", DType::kF32, {4}}});
  EXPECT_TRUE(Load("extra").ok());
}

TEST_F(DecoderWeightsErrorsTest, ConfigDisagreeingWithTheCheckpointIsCaughtBeforePacking) {
  Rewrite(dir_.File("good"), dir_.File("vocab"), [](tools::TensorSpec&) { return true; });
  // config.json claims a larger vocabulary than the embedding has.
  const std::string config_path = dir_.File("vocab/config.json");
  std::string config = *ReadFileToString(config_path);
  const size_t at = config.find("\"vocab_size\": 512");
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, std::string("\"vocab_size\": 512").size(), "\"vocab_size\": 600");
  std::ofstream(config_path, std::ios::trunc) << config;
  absl::Status s = Load("vocab");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"model.embed_tokens.weight\" has shape [512, 64] but "
                                     "config.json implies [600, 64]"));
}

}  // namespace
}  // namespace ember
