#include "core/model/safetensors_file.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/safetensors_bytes.h"
#include "tests/test_util/temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::F32Bytes;
using ::ember::testing::RawSafetensors;
using ::ember::testing::SafetensorsBytes;
using ::ember::testing::TempDir;
using ::ember::testing::U16Bytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string BytesOf(const TensorView& view) {
  return std::string(static_cast<const char*>(view.data), view.num_bytes);
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  // Writes `bytes` as dir/name and opens it.
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> WriteAndOpen(const std::string& bytes,
                                                                const std::string& name = "m.st") {
    return SafetensorsFile::Open(dir_.Write(name, bytes));
  }

  TempDir dir_;
};

TEST_F(SafetensorsFileTest, ViewsReturnTheExactBytesOfEachDType) {
  const std::string f32 = F32Bytes({1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f});
  const std::string f16 = U16Bytes({0x3c00, 0xc000, 0x7bff});  // 1, -2, 65504
  const std::string bf16 = U16Bytes({0x3f80, 0x4049});         // 1, 3.140625
  auto file = WriteAndOpen(SafetensorsBytes({{"w.f32", "F32", {2, 3}, f32},
                                             {"w.f16", "F16", {3}, f16},
                                             {"w.bf16", "BF16", {1, 2}, bf16}}));
  ASSERT_TRUE(file.ok()) << file.status();

  absl::StatusOr<TensorView> a = (*file)->Get("w.f32");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (Shape{2, 3}));
  EXPECT_EQ(a->NumElements(), 6);
  EXPECT_EQ(BytesOf(*a), f32);
  float second;
  std::memcpy(&second, static_cast<const char*>(a->data) + 4, sizeof(second));
  EXPECT_EQ(second, -2.0f);

  absl::StatusOr<TensorView> b = (*file)->Get("w.f16");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, DType::kF16);
  EXPECT_EQ(BytesOf(*b), f16);

  absl::StatusOr<TensorView> c = (*file)->Get("w.bf16");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dtype, DType::kBF16);
  EXPECT_EQ(c->shape, (Shape{1, 2}));
  EXPECT_EQ(BytesOf(*c), bf16);

  // Zero-copy: views point into one mapping, laid out as the offsets say.
  EXPECT_EQ(static_cast<const char*>(b->data) - static_cast<const char*>(a->data), 24);
  EXPECT_THAT((*file)->TensorNames(), ElementsAre("w.bf16", "w.f16", "w.f32"));
}

TEST_F(SafetensorsFileTest, ScalarAndEmptyTensors) {
  auto file = WriteAndOpen(SafetensorsBytes({{"scalar", "F32", {}, F32Bytes({42.0f})},
                                             {"empty", "F16", {0}, ""},
                                             {"empty2d", "BF16", {4, 0}, ""}}));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> scalar = (*file)->Get("scalar");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->NumElements(), 1);
  EXPECT_EQ(BytesOf(*scalar), F32Bytes({42.0f}));

  absl::StatusOr<TensorView> empty = (*file)->Get("empty");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->shape, Shape{0});
  EXPECT_EQ(empty->num_bytes, 0u);
  EXPECT_EQ(empty->NumElements(), 0);
  absl::StatusOr<TensorView> empty2d = (*file)->Get("empty2d");
  ASSERT_TRUE(empty2d.ok()) << empty2d.status();
  EXPECT_EQ(empty2d->num_bytes, 0u);
}

TEST_F(SafetensorsFileTest, FileWithNoTensors) {
  auto file = WriteAndOpen(RawSafetensors("{}", ""));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->TensorNames().empty());
  EXPECT_TRUE((*file)->metadata().empty());
  EXPECT_EQ((*file)->Get("w").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SafetensorsFileTest, ReadsMetadata) {
  auto file = WriteAndOpen(SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}},
                                            {{"format", "pt"}, {"source", "ember-test"}}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  EXPECT_EQ((*file)->metadata().at("source"), "ember-test");
}

TEST_F(SafetensorsFileTest, UnalignedDataIsServedAsIs) {
  // A 3-byte header puts the data section at file offset 11: views are 1-byte aligned at best.
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_NE((8 + header.size()) % 4, 0u);
  auto file = WriteAndOpen(RawSafetensors(header, F32Bytes({1.0f, 2.0f})));
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> w = (*file)->Get("w");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(BytesOf(*w), F32Bytes({1.0f, 2.0f}));
}

TEST_F(SafetensorsFileTest, MissingTensorIsNotFoundNamingFileAndTensor) {
  auto file =
      WriteAndOpen(SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}}), "model.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<TensorView> view = (*file)->Get("h.0.mlp.weight");
  EXPECT_EQ(view.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(view.status().message(),
              HasSubstr(dir_.File("model.safetensors") + ": no tensor \"h.0.mlp.weight\""));
  EXPECT_FALSE((*file)->Contains("h.0.mlp.weight"));
  EXPECT_EQ((*file)->Find("h.0.mlp.weight"), nullptr);
}

TEST_F(SafetensorsFileTest, UnsupportedDTypeIsListedButCannotBeViewed) {
  std::string ids(16, '\0');
  ids[0] = 7;
  auto file = WriteAndOpen(
      SafetensorsBytes({{"position_ids", "I64", {2}, ids}, {"w", "F32", {1}, F32Bytes({1})}}));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE((*file)->Contains("position_ids"));
  ASSERT_NE((*file)->Find("position_ids"), nullptr);
  EXPECT_EQ((*file)->Find("position_ids")->dtype_name, "I64");
  EXPECT_EQ((*file)->Find("position_ids")->num_bytes(), 16u);

  absl::StatusOr<TensorView> view = (*file)->Get("position_ids");
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(view.status().message(),
              HasSubstr(dir_.File("m.st") + ": tensor \"position_ids\": dtype \"I64\" is not "
                                            "supported"));
  EXPECT_TRUE((*file)->Get("w").ok());  // the rest of the file is still usable
}

TEST_F(SafetensorsFileTest, MissingFileIsNotFound) {
  auto file = SafetensorsFile::Open(dir_.File("absent.safetensors"));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("absent.safetensors: no such file"));
}

TEST_F(SafetensorsFileTest, DirectoryIsRejected) {
  dir_.Write("sub/x", "");
  auto file = SafetensorsFile::Open(dir_.File("sub"));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr(dir_.File("sub") + ": not a regular file"));
}

TEST_F(SafetensorsFileTest, EmptyFileIsRejected) {
  auto file = WriteAndOpen("");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(), HasSubstr(dir_.File("m.st") + ": file is 0 bytes"));
}

TEST_F(SafetensorsFileTest, TruncatedFileIsDataLossNamingTheTensor) {
  std::string bytes =
      SafetensorsBytes({{"a", "F32", {2}, F32Bytes({1, 2})}, {"b", "F32", {2}, F32Bytes({3, 4})}});
  bytes.resize(bytes.size() - 3);  // an interrupted download
  auto file = WriteAndOpen(bytes);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(file.status().message(), HasSubstr(dir_.File("m.st") + ": tensor \"b\""));
  EXPECT_THAT(file.status().message(), HasSubstr("truncated"));
}

TEST_F(SafetensorsFileTest, CorruptHeaderMessageStartsWithThePath) {
  auto file = WriteAndOpen(RawSafetensors(R"({"w": {"dtype": "F32"}})", ""));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(file.status().message(),
              HasSubstr(dir_.File("m.st") + ": tensor \"w\": missing \"shape\""));
}

TEST_F(SafetensorsFileTest, AdviseAcceptsEveryAccessPattern) {
  auto file = WriteAndOpen(SafetensorsBytes({{"w", "F32", {2}, F32Bytes({1, 2})}}));
  ASSERT_TRUE(file.ok()) << file.status();
  for (SafetensorsFile::Access access :
       {SafetensorsFile::Access::kNormal, SafetensorsFile::Access::kSequential,
        SafetensorsFile::Access::kRandom, SafetensorsFile::Access::kWillNeed,
        SafetensorsFile::Access::kDontNeed}) {
    EXPECT_TRUE((*file)->Advise(access).ok());
  }
  // DONTNEED on a private read-only file mapping only drops pages; they come back from disk.
  absl::StatusOr<TensorView> w = (*file)->Get("w");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(BytesOf(*w), F32Bytes({1, 2}));
}

TEST_F(SafetensorsFileTest, RepeatedOpenAndCloseReleasesEverything) {
  // Each mapping and descriptor is released on close (LSan and the fd limit would notice).
  const std::string bytes = SafetensorsBytes({{"w", "F32", {1}, F32Bytes({5})}});
  const std::string path = dir_.Write("m.st", bytes);
  for (int i = 0; i < 2000; ++i) {
    auto file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_EQ((*file)->file_size(), bytes.size());
  }
}

}  // namespace
}  // namespace ember
