#include "core/model/checkpoint.h"

#include <unistd.h>

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_util/safetensors_bytes.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::F32Bytes;
using ::ember::testing::SafetensorsBytes;
using ::ember::testing::TempDir;
using ::ember::testing::U16Bytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kIndex[] = "model.safetensors.index.json";
constexpr char kShard1[] = "model-00001-of-00003.safetensors";
constexpr char kShard2[] = "model-00002-of-00003.safetensors";
constexpr char kShard3[] = "model-00003-of-00003.safetensors";

std::string IndexJson(const std::map<std::string, std::string>& weight_map) {
  return nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2);
}

std::string BytesOf(const TensorView& view) {
  return std::string(static_cast<const char*>(view.data), view.num_bytes);
}

class CheckpointTest : public ::testing::Test {
 protected:
  // A model directory inside the temp dir, so that "../" has somewhere to point.
  std::string ModelDir() const { return dir_.File("model"); }
  std::string Write(const std::string& name, const std::string& bytes) const {
    return dir_.Write("model/" + name, bytes);
  }

  // Three shards and their index: the layout of a large Hugging Face checkpoint.
  void WriteThreeShards() const {
    Write(kShard1, SafetensorsBytes({{"embed.weight", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})},
                                     {"h.0.norm", "BF16", {2}, U16Bytes({0x3f80, 0x4000})}}));
    Write(kShard2, SafetensorsBytes({{"h.1.norm", "F16", {1}, U16Bytes({0x3c00})}}));
    Write(kShard3, SafetensorsBytes({{"lm_head.weight", "F32", {1}, F32Bytes({9})}}));
    Write(kIndex, IndexJson({{"embed.weight", kShard1},
                             {"h.0.norm", kShard1},
                             {"h.1.norm", kShard2},
                             {"lm_head.weight", kShard3}}));
  }

  // Expects Open(ModelDir()) to fail with `code` and a message holding every part.
  void ExpectOpenFails(absl::StatusCode code, const std::vector<std::string>& parts) const {
    absl::StatusOr<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::Open(ModelDir());
    ASSERT_FALSE(checkpoint.ok());
    EXPECT_EQ(checkpoint.status().code(), code) << checkpoint.status();
    for (const std::string& part : parts) {
      EXPECT_THAT(checkpoint.status().message(), HasSubstr(part));
    }
  }

  TempDir dir_;
};

TEST_F(CheckpointTest, OpensSingleFile) {
  Write("model.safetensors",
        SafetensorsBytes({{"b", "F32", {1}, F32Bytes({2})}, {"a", "F16", {2}, U16Bytes({1, 2})}}));
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_FALSE((*checkpoint)->sharded());
  EXPECT_EQ((*checkpoint)->dir(), ModelDir());
  EXPECT_THAT((*checkpoint)->TensorNames(), ElementsAre("a", "b"));
  EXPECT_TRUE((*checkpoint)->Contains("a"));
  EXPECT_EQ((*checkpoint)->FileOf("a"), "model.safetensors");
  EXPECT_EQ((*checkpoint)->files().size(), 1u);
  absl::StatusOr<TensorView> b = (*checkpoint)->Get("b");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(BytesOf(*b), F32Bytes({2}));
}

TEST_F(CheckpointTest, OpensShardsAndGetsAcrossThem) {
  WriteThreeShards();
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_TRUE((*checkpoint)->sharded());
  EXPECT_EQ((*checkpoint)->files().size(), 3u);
  EXPECT_THAT((*checkpoint)->TensorNames(),
              ElementsAre("embed.weight", "h.0.norm", "h.1.norm", "lm_head.weight"));
  EXPECT_EQ((*checkpoint)->FileOf("h.1.norm"), kShard2);
  EXPECT_EQ((*checkpoint)->FileOf("absent"), "");

  absl::StatusOr<TensorView> embed = (*checkpoint)->Get("embed.weight");
  ASSERT_TRUE(embed.ok()) << embed.status();
  EXPECT_EQ(BytesOf(*embed), F32Bytes({1, 2, 3, 4}));
  absl::StatusOr<TensorView> norm0 = (*checkpoint)->Get("h.0.norm");
  ASSERT_TRUE(norm0.ok()) << norm0.status();
  EXPECT_EQ(norm0->dtype, DType::kBF16);
  EXPECT_EQ(BytesOf(*norm0), U16Bytes({0x3f80, 0x4000}));
  absl::StatusOr<TensorView> norm1 = (*checkpoint)->Get("h.1.norm");
  ASSERT_TRUE(norm1.ok()) << norm1.status();
  EXPECT_EQ(norm1->dtype, DType::kF16);
  absl::StatusOr<TensorView> head = (*checkpoint)->Get("lm_head.weight");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(BytesOf(*head), F32Bytes({9}));
  ASSERT_NE((*checkpoint)->Find("lm_head.weight"), nullptr);
  EXPECT_EQ((*checkpoint)->Find("lm_head.weight")->dtype_name, "F32");
}

TEST_F(CheckpointTest, SymlinkedShardsLoad) {
  // The Hugging Face cache keeps files as symlinks into a blobs/ directory outside the snapshot.
  WriteThreeShards();
  const std::string blob =
      dir_.Write("blobs/abc123", SafetensorsBytes({{"h.1.norm", "F16", {1}, U16Bytes({0x4000})}}));
  const std::string link = ModelDir() + "/" + kShard2;
  ASSERT_EQ(::unlink(link.c_str()), 0);
  ASSERT_EQ(::symlink(blob.c_str(), link.c_str()), 0);
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<TensorView> norm1 = (*checkpoint)->Get("h.1.norm");
  ASSERT_TRUE(norm1.ok()) << norm1.status();
  EXPECT_EQ(BytesOf(*norm1), U16Bytes({0x4000}));
}

TEST_F(CheckpointTest, PrefersSingleFileOverIndex) {
  Write("model.safetensors", SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}}));
  Write(kIndex, "not even json");
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_FALSE((*checkpoint)->sharded());
}

TEST_F(CheckpointTest, MissingTensorNamesDirectoryAndTensor) {
  WriteThreeShards();
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<TensorView> view = (*checkpoint)->Get("h.2.norm");
  EXPECT_EQ(view.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(
      view.status().message(),
      HasSubstr(ModelDir() + ": no tensor \"h.2.norm\" in the 3 shards listed by " + kIndex));
  EXPECT_FALSE((*checkpoint)->Contains("h.2.norm"));
  EXPECT_EQ((*checkpoint)->Find("h.2.norm"), nullptr);
}

TEST_F(CheckpointTest, UnsupportedDTypeFailsOnlyOnGet) {
  Write("model.safetensors", SafetensorsBytes({{"ids", "I32", {1}, std::string(4, '\0')},
                                               {"w", "F32", {1}, F32Bytes({1})}}));
  auto checkpoint = Checkpoint::Open(ModelDir());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  absl::StatusOr<TensorView> ids = (*checkpoint)->Get("ids");
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.status().message(),
              HasSubstr("model.safetensors: tensor \"ids\": dtype \"I32\""));
}

TEST_F(CheckpointTest, NoCheckpointListsWhatWasLookedFor) {
  Write("config.json", "{}");
  ExpectOpenFails(absl::StatusCode::kNotFound,
                  {ModelDir(), "model.safetensors", "model.safetensors.index.json"});
}

TEST_F(CheckpointTest, MissingDirectory) {
  ExpectOpenFails(absl::StatusCode::kNotFound, {ModelDir() + ": no such directory"});
}

TEST_F(CheckpointTest, DirectoryThatIsAFile) {
  dir_.Write("model", "x");
  ExpectOpenFails(absl::StatusCode::kInvalidArgument, {ModelDir() + ": not a directory"});
}

TEST_F(CheckpointTest, CorruptSingleFileNamesFileAndTensor) {
  Write("model.safetensors",
        ember::testing::RawSafetensors(
            R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "abcd"));
  ExpectOpenFails(
      absl::StatusCode::kInvalidArgument,
      {ModelDir() + "/model.safetensors: tensor \"w\": data_offsets [0, 4] hold 4 bytes"});
}

TEST_F(CheckpointTest, IndexMalformedJson) {
  WriteThreeShards();
  Write(kIndex, R"({"weight_map": {"embed.weight": )");
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {ModelDir() + "/" + kIndex + ": invalid JSON at byte"});
}

TEST_F(CheckpointTest, IndexMissingWeightMap) {
  WriteThreeShards();
  Write(kIndex, R"({"metadata": {"total_size": 4}})");
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {ModelDir() + "/" + kIndex + ": missing \"weight_map\""});
}

TEST_F(CheckpointTest, ShardMissing) {
  WriteThreeShards();
  ASSERT_EQ(::unlink((ModelDir() + "/" + kShard3).c_str()), 0);
  ExpectOpenFails(
      absl::StatusCode::kNotFound,
      {kIndex, std::string("shard \"") + kShard3 + "\" cannot be loaded", "no such file"});
}

TEST_F(CheckpointTest, CorruptShardNamesIndexShardAndTensor) {
  WriteThreeShards();
  std::string bytes = SafetensorsBytes({{"h.1.norm", "F16", {1}, U16Bytes({0x3c00})}});
  bytes.pop_back();
  Write(kShard2, bytes);
  ExpectOpenFails(absl::StatusCode::kDataLoss,
                  {kIndex, kShard2, "tensor \"h.1.norm\"", "truncated"});
}

TEST_F(CheckpointTest, ShardPathOutsideTheDirectoryIsRejected) {
  WriteThreeShards();
  // The target exists, so only the name rule can stop it.
  dir_.Write("outside.safetensors", SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}}));
  Write(kIndex, IndexJson({{"w", "../outside.safetensors"}}));
  ExpectOpenFails(
      absl::StatusCode::kInvalidArgument,
      {kIndex, "\"weight_map\" entry \"w\": shard \"../outside.safetensors\"", "plain file name"});
}

TEST_F(CheckpointTest, AbsoluteShardPathIsRejected) {
  WriteThreeShards();
  Write(kIndex, IndexJson({{"w", "/etc/passwd"}}));
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {kIndex, "entry \"w\": shard \"/etc/passwd\"", "plain file name"});
}

TEST_F(CheckpointTest, TensorInIndexButNotInShard) {
  WriteThreeShards();
  Write(kIndex, IndexJson({{"embed.weight", kShard1},
                           {"h.0.norm", kShard1},
                           {"h.1.norm", kShard2},
                           {"h.1.bias", kShard2},
                           {"lm_head.weight", kShard3}}));
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {kIndex, std::string("puts tensor \"h.1.bias\" in shard \"") + kShard2 +
                               "\", which does not contain it"});
}

TEST_F(CheckpointTest, TensorInShardButNotInIndex) {
  WriteThreeShards();
  Write(kIndex,
        IndexJson({{"embed.weight", kShard1}, {"h.1.norm", kShard2}, {"lm_head.weight", kShard3}}));
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {kIndex, std::string("shard \"") + kShard1 +
                               "\" holds tensor \"h.0.norm\", which \"weight_map\" does not list"});
}

TEST_F(CheckpointTest, TensorInTwoShards) {
  WriteThreeShards();
  Write(kShard3, SafetensorsBytes({{"lm_head.weight", "F32", {1}, F32Bytes({9})},
                                   {"h.1.norm", "F16", {1}, U16Bytes({0x3c00})}}));
  ExpectOpenFails(absl::StatusCode::kInvalidArgument,
                  {kIndex, std::string("tensor \"h.1.norm\" is in shard \"") + kShard3 +
                               "\" as well as in shard \"" + kShard2 + "\""});
}

}  // namespace
}  // namespace ember
