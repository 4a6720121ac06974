// SafetensorsWriter against the byte layout of the official writer, and its output read back by
// ember's own reader (core/model/safetensors_file.h).
#include "tools/common/safetensors_writer.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/model/safetensors_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/temp_dir.h"

namespace ember::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string FloatBytes(std::initializer_list<float> values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

TEST(SafetensorsWriterTest, HeaderMatchesTheOfficialWriter) {
  // What safetensors.torch.save_file({"b": zeros(2), "a": zeros(1, 2)}, metadata={"format":
  // "pt"}) writes: metadata first, tensors sorted by name, compact JSON, spaces to a multiple of 8.
  const std::vector<TensorSpec> tensors =
      SafetensorsOrder({{"b", DType::kF32, {2}}, {"a", DType::kF32, {1, 2}}});
  absl::StatusOr<std::string> header = SafetensorsHeaderJson(tensors, {{"format", "pt"}});
  ASSERT_TRUE(header.ok()) << header.status();
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  EXPECT_EQ(*header, json + std::string((8 - json.size() % 8) % 8, ' '));
  EXPECT_EQ(header->size() % 8, 0u);
}

TEST(SafetensorsWriterTest, OrdersByDtypeWidestFirstThenName) {
  const std::vector<TensorSpec> order = SafetensorsOrder({{"a16", DType::kF16, {1}},
                                                          {"z32", DType::kF32, {1}},
                                                          {"bf", DType::kBF16, {1}},
                                                          {"a32", DType::kF32, {1}}});
  std::vector<std::string> names;
  for (const TensorSpec& t : order) names.push_back(t.name);
  EXPECT_THAT(names, ElementsAre("a32", "z32", "bf", "a16"));
}

TEST(SafetensorsWriterTest, RejectsBadNames) {
  EXPECT_THAT(
      std::string(SafetensorsHeaderJson({{"x", DType::kF32, {1}}, {"x", DType::kF32, {1}}}, {})
                      .status()
                      .message()),
      HasSubstr("repeated"));
  EXPECT_FALSE(SafetensorsHeaderJson({{"__metadata__", DType::kF32, {1}}}, {}).ok());
  EXPECT_FALSE(SafetensorsHeaderJson({{"", DType::kF32, {1}}}, {}).ok());
  EXPECT_FALSE(SafetensorsHeaderJson({{"x", DType::kF32, {-1}}}, {}).ok());
}

TEST(SafetensorsWriterTest, StreamsInPiecesAndReadsBack) {
  testing::TempDir dir;
  const std::string path = dir.File("m.safetensors");
  absl::StatusOr<std::unique_ptr<SafetensorsWriter>> writer = SafetensorsWriter::Create(
      path, {{"w", DType::kF32, {2, 2}}, {"empty", DType::kF32, {0}}, {"b", DType::kF32, {2}}});
  ASSERT_TRUE(writer.ok()) << writer.status();
  // File order: b, empty (no bytes, skipped), w.
  ASSERT_TRUE((*writer)->Write("b", FloatBytes({1, 2})).ok());
  const std::string w = FloatBytes({3, 4, 5, 6});
  ASSERT_TRUE((*writer)->Write("w", w.substr(0, 5)).ok());
  ASSERT_TRUE((*writer)->Write("w", w.substr(5)).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ(ReadAll(path).size(), (*writer)->file_size());

  absl::StatusOr<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  EXPECT_THAT((*file)->TensorNames(), ElementsAre("b", "empty", "w"));
  absl::StatusOr<TensorView> view = (*file)->Get("w");
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_THAT(view->shape, ElementsAre(2, 2));
  EXPECT_EQ(std::string(static_cast<const char*>(view->data), view->num_bytes), w);
}

TEST(SafetensorsWriterTest, EnforcesOrderAndSizes) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<SafetensorsWriter>> writer = SafetensorsWriter::Create(
      dir.File("m.safetensors"), {{"a", DType::kBF16, {2}}, {"b", DType::kBF16, {1}}});
  ASSERT_TRUE(writer.ok()) << writer.status();
  const absl::Status wrong = (*writer)->Write("b", "xx");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("\"a\" is due"));
  const absl::Status overrun = (*writer)->Write("a", "12345");
  EXPECT_EQ(overrun.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(overrun.message()), HasSubstr("4 bytes"));
  ASSERT_TRUE((*writer)->Write("a", "1234").ok());
  const absl::Status early = (*writer)->Close();
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(early.message()), HasSubstr("\"b\""));
}

TEST(SafetensorsWriterTest, CreateFailsOnMissingDirectory) {
  const absl::Status status =
      SafetensorsWriter::Create("/nonexistent-dir/m.safetensors", {{"a", DType::kF32, {1}}})
          .status();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent-dir/m.safetensors"));
}

}  // namespace
}  // namespace ember::tools
