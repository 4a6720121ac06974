#include "core/model/safetensors_index.h"

#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kFile = "m/model.safetensors.index.json";

TEST(SafetensorsIndexTest, ParsesWeightMapAndDistinctShards) {
  absl::StatusOr<SafetensorsIndex> index = ParseSafetensorsIndex(R"({
    "metadata": {"total_size": 1234, "anything": [1, {"nested": true}]},
    "weight_map": {
      "lm_head.weight": "model-00002-of-00002.safetensors",
      "embed.weight": "model-00001-of-00002.safetensors",
      "norm.weight": "model-00002-of-00002.safetensors"
    }})",
                                                                 kFile);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->weight_map.size(), 3u);
  EXPECT_EQ(index->weight_map.at("embed.weight"), "model-00001-of-00002.safetensors");
  EXPECT_EQ(index->shards, (std::vector<std::string>{"model-00001-of-00002.safetensors",
                                                     "model-00002-of-00002.safetensors"}));
}

TEST(SafetensorsIndexTest, AllowsShardNamesThatOnlyLookOdd) {
  // Dots and backslashes are ordinary characters in a Linux file name.
  EXPECT_TRUE(
      ParseSafetensorsIndex(R"({"weight_map": {"a": "..a.safetensors", "b": "x\\y"}})", kFile)
          .ok());
}

struct BadIndexCase {
  std::string name;
  std::string text;
  std::vector<std::string> expected;  // substrings besides the file name
};

// Failure output names the case instead of dumping its bytes.
void PrintTo(const BadIndexCase& c, std::ostream* os) { *os << c.name; }

class BadIndexTest : public ::testing::TestWithParam<BadIndexCase> {};

TEST_P(BadIndexTest, IsRejectedNamingFileAndField) {
  absl::StatusOr<SafetensorsIndex> index = ParseSafetensorsIndex(GetParam().text, kFile);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(index.status().message()),
              ::testing::StartsWith(std::string(kFile) + ": "));
  for (const std::string& part : GetParam().expected) {
    EXPECT_THAT(index.status().message(), HasSubstr(part));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadIndexTest,
    ::testing::Values(
        BadIndexCase{"MalformedJson",
                     R"({"weight_map": {"a": "x.safetensors",}})",
                     {"invalid JSON at byte"}},
        BadIndexCase{"Empty", "", {"invalid JSON"}},
        BadIndexCase{"NotAnObject", R"(["x.safetensors"])", {"must be a JSON object, got array"}},
        BadIndexCase{"MissingWeightMap", R"({"metadata": {}})", {"missing \"weight_map\""}},
        BadIndexCase{"WeightMapNotObject",
                     R"({"weight_map": ["x.safetensors"]})",
                     {"\"weight_map\" must be an object", "got array"}},
        BadIndexCase{"WeightMapEmpty", R"({"weight_map": {}})", {"\"weight_map\" is empty"}},
        BadIndexCase{"ShardNotString",
                     R"({"weight_map": {"a.weight": 1}})",
                     {"\"weight_map\" entry \"a.weight\": shard must be a file name string, got "
                      "number 1"}},
        BadIndexCase{"DuplicateTensor",
                     R"({"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}})",
                     {"duplicate key \"a\" in \"/weight_map\""}},
        BadIndexCase{"ParentDirectory",
                     R"({"weight_map": {"a": "../x.safetensors"}})",
                     {"entry \"a\": shard \"../x.safetensors\" must be a plain file name"}},
        BadIndexCase{"AbsolutePath",
                     R"({"weight_map": {"a": "/etc/passwd"}})",
                     {"entry \"a\": shard \"/etc/passwd\" must be a plain file name"}},
        BadIndexCase{"Subdirectory",
                     R"({"weight_map": {"a": "sub/x.safetensors"}})",
                     {"shard \"sub/x.safetensors\" must be a plain file name"}},
        BadIndexCase{"DotDot", R"({"weight_map": {"a": ".."}})", {"shard \"..\" must be"}},
        BadIndexCase{"Dot", R"({"weight_map": {"a": "."}})", {"shard \".\" must be"}},
        BadIndexCase{"EmptyName", R"({"weight_map": {"a": ""}})", {"shard \"\" must be"}},
        BadIndexCase{"EmbeddedNul",
                     R"({"weight_map": {"a": "x\u0000.safetensors"}})",
                     {"entry \"a\": shard", "must be a plain file name"}}),
    [](const auto& test_case) { return test_case.param.name; });

}  // namespace
}  // namespace ember
