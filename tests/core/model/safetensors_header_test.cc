#include "core/model/safetensors_header.h"

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util/safetensors_bytes.h"

namespace ember {
namespace {

using ::ember::testing::F32Bytes;
using ::ember::testing::RawSafetensors;
using ::ember::testing::RawSafetensorsWithLength;
using ::ember::testing::SafetensorsBytes;
using ::ember::testing::TensorSpec;
using ::ember::testing::U16Bytes;
using ::testing::HasSubstr;

constexpr absl::string_view kFile = "m.safetensors";

absl::StatusOr<SafetensorsHeader> Parse(const std::string& bytes) {
  return ParseSafetensorsHeader(bytes, bytes.size(), kFile);
}

// `"name": {"dtype": dtype, "shape": shape, "data_offsets": offsets}` with the JSON fragments
// pasted verbatim, so a case can break any one of them.
std::string Entry(absl::string_view name, absl::string_view dtype, absl::string_view shape,
                  absl::string_view offsets) {
  return absl::StrCat("\"", name, "\": {\"dtype\": ", dtype, ", \"shape\": ", shape,
                      ", \"data_offsets\": ", offsets, "}");
}

// A file with header `{entries...}` and `data_bytes` bytes of data.
std::string File(const std::vector<std::string>& entries, size_t data_bytes) {
  std::string json = "{";
  for (size_t i = 0; i < entries.size(); ++i) absl::StrAppend(&json, i ? ", " : "", entries[i]);
  json += "}";
  return RawSafetensors(json, std::string(data_bytes, 'Z'));
}

// ---------------------------------------------------------------------------------------------
// Valid headers.

TEST(SafetensorsHeaderTest, ParsesTensorsSortedByNameWithLayout) {
  const std::string bytes = SafetensorsBytes({{"z.weight", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})},
                                              {"a.bias", "F16", {3}, U16Bytes({1, 2, 3})},
                                              {"m.norm", "BF16", {1, 2}, U16Bytes({4, 5})}});
  absl::StatusOr<SafetensorsHeader> header = Parse(bytes);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->data_start % 8, 0u);  // the writer pads the header with spaces
  EXPECT_EQ(header->data_start, 8 + header->header_bytes);
  EXPECT_EQ(header->data_bytes, 16u + 6u + 4u);
  ASSERT_EQ(header->tensors.size(), 3u);

  const SafetensorsTensorInfo& a = header->tensors[0];
  EXPECT_EQ(a.name, "a.bias");
  EXPECT_EQ(a.dtype_name, "F16");
  EXPECT_EQ(a.dtype, DType::kF16);
  EXPECT_EQ(a.shape, (Shape{3}));
  EXPECT_EQ(a.begin, 16u);
  EXPECT_EQ(a.end, 22u);

  EXPECT_EQ(header->tensors[1].name, "m.norm");
  EXPECT_EQ(header->tensors[1].dtype, DType::kBF16);
  EXPECT_EQ(header->tensors[2].name, "z.weight");
  EXPECT_EQ(header->tensors[2].dtype, DType::kF32);
  EXPECT_EQ(header->tensors[2].begin, 0u);
  EXPECT_EQ(header->tensors[2].num_bytes(), 16u);
  EXPECT_TRUE(header->metadata.empty());
}

TEST(SafetensorsHeaderTest, ReadsMetadata) {
  absl::StatusOr<SafetensorsHeader> header = Parse(SafetensorsBytes(
      {{"w", "F32", {1}, F32Bytes({1})}}, {{"format", "pt"}, {"note", "caf\xC3\xA9"}}));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->metadata,
            (std::map<std::string, std::string>{{"format", "pt"}, {"note", "caf\xC3\xA9"}}));
  ASSERT_EQ(header->tensors.size(), 1u);
}

TEST(SafetensorsHeaderTest, AcceptsEmptyHeaderWithNoData) {
  absl::StatusOr<SafetensorsHeader> header = Parse(RawSafetensors("{}", ""));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(header->tensors.empty());
  EXPECT_EQ(header->data_bytes, 0u);
}

TEST(SafetensorsHeaderTest, AcceptsMetadataOnly) {
  absl::StatusOr<SafetensorsHeader> header = Parse(RawSafetensors(R"({"__metadata__": {}})", ""));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_TRUE(header->tensors.empty());
}

TEST(SafetensorsHeaderTest, AcceptsScalarsAndEmptyTensorsAnywhereInTheChain) {
  absl::StatusOr<SafetensorsHeader> header = Parse(File(
      {Entry("first_empty", "\"F32\"", "[0]", "[0, 0]"), Entry("a", "\"F32\"", "[]", "[0, 4]"),
       Entry("mid_empty", "\"BF16\"", "[3, 0, 2]", "[4, 4]"),
       Entry("b", "\"F16\"", "[2]", "[4, 8]"), Entry("last_empty", "\"F16\"", "[0]", "[8, 8]")},
      8));
  ASSERT_TRUE(header.ok()) << header.status();
  ASSERT_EQ(header->tensors.size(), 5u);
  EXPECT_EQ(header->tensors[0].name, "a");
  EXPECT_EQ(header->tensors[0].shape, Shape{});
}

TEST(SafetensorsHeaderTest, AcceptsDTypesEmberDoesNotLoadWithoutResolvingThem) {
  absl::StatusOr<SafetensorsHeader> header = Parse(File(
      {Entry("ids", "\"I64\"", "[2]", "[0, 16]"), Entry("mask", "\"BOOL\"", "[3]", "[16, 19]")},
      19));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->tensors[0].dtype_name, "I64");
  EXPECT_FALSE(header->tensors[0].dtype.has_value());
  EXPECT_EQ(header->tensors[1].dtype_name, "BOOL");
}

TEST(SafetensorsHeaderTest, AcceptsWhitespaceInsideAndAfterTheJson) {
  EXPECT_TRUE(Parse(RawSafetensors("{ \"w\" :\n{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
                                   "[0,4]}}    \n\t ",
                                   "abcd"))
                  .ok());
}

TEST(SafetensorsHeaderTest, LengthIsReadFromAPrefix) {
  const std::string bytes = SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}});
  absl::StatusOr<uint64_t> length =
      ParseSafetensorsHeaderLength(absl::string_view(bytes).substr(0, 8), bytes.size(), kFile);
  ASSERT_TRUE(length.ok()) << length.status();
  EXPECT_EQ(*length, bytes.size() - 8 - 4);
}

TEST(SafetensorsHeaderTest, PrefixShorterThanTheHeaderIsACallerError) {
  const std::string bytes = SafetensorsBytes({{"w", "F32", {1}, F32Bytes({1})}});
  absl::StatusOr<SafetensorsHeader> header =
      ParseSafetensorsHeader(absl::string_view(bytes).substr(0, 12), bytes.size(), kFile);
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.status().message(), HasSubstr("m.safetensors: only 12 bytes given"));
}

TEST(SafetensorsHeaderTest, MutatedFilesNeverCrashAndAcceptedOnesTile) {
  // A small deterministic fuzz pass (run it under ASan/UBSan): flip, insert or drop bytes of a
  // valid file. Whatever the parser accepts must satisfy the documented invariants.
  const std::string valid = SafetensorsBytes({{"a", "F32", {2, 2}, F32Bytes({1, 2, 3, 4})},
                                              {"b", "BF16", {3}, U16Bytes({1, 2, 3})},
                                              {"c", "F16", {0}, ""}},
                                             {{"format", "pt"}});
  std::mt19937 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = valid;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.insert(at, 1, static_cast<char>(rng()));
          break;
        case 2:
          bytes.erase(at, 1);
          break;
        default:
          bytes.resize(at);
          break;
      }
    }
    absl::StatusOr<SafetensorsHeader> header = Parse(bytes);
    if (!header.ok()) {
      ASSERT_THAT(std::string(header.status().message()), ::testing::StartsWith("m.safetensors: "));
      continue;
    }
    uint64_t covered = 0;
    for (const SafetensorsTensorInfo& info : header->tensors) {
      ASSERT_LE(info.begin, info.end);
      ASSERT_LE(info.end, header->data_bytes);
      covered += info.num_bytes();
    }
    ASSERT_EQ(covered, header->data_bytes);
    ASSERT_EQ(header->data_start + header->data_bytes, bytes.size());
  }
}

// ---------------------------------------------------------------------------------------------
// Invalid headers: each case breaks one rule; the message must name the file and the tensor/field.

struct BadCase {
  std::string name;
  std::string bytes;
  absl::StatusCode code;
  std::vector<std::string> expected;  // substrings of the message besides the file name
};

// Failure output names the case instead of dumping its bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadHeaderTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadHeaderTest, IsRejectedWithAPreciseMessage) {
  const BadCase& c = GetParam();
  absl::StatusOr<SafetensorsHeader> header = Parse(c.bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), c.code) << header.status();
  EXPECT_THAT(std::string(header.status().message()), ::testing::StartsWith("m.safetensors: "));
  for (const std::string& part : c.expected) {
    EXPECT_THAT(header.status().message(), HasSubstr(part));
  }
}

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;

std::vector<BadCase> BadCases() {
  const std::string f32_1 = Entry("w", "\"F32\"", "[1]", "[0, 4]");
  return {
      // The 8-byte length.
      {"EmptyFile", "", kInvalid, {"file is 0 bytes, too short"}},
      {"SevenByteFile", "1234567", kInvalid, {"file is 7 bytes, too short"}},
      {"HeaderLengthZero", RawSafetensorsWithLength(0, "", "{}"), kInvalid, {"header length is 0"}},
      {"HeaderLengthPastEnd",
       RawSafetensorsWithLength(100, "{}", ""),
       kDataLoss,
       {"header length 100 runs past the end of the file (10 bytes)", "truncated"}},
      {"HeaderLength2Pow63",
       RawSafetensorsWithLength(uint64_t{1} << 63, "{}", ""),
       kInvalid,
       {"header length 9223372036854775808 is larger than the limit of 100000000 bytes"}},
      {"HeaderLengthMaxU64",
       RawSafetensorsWithLength(~uint64_t{0}, "{}", ""),
       kInvalid,
       {"is larger than the limit"}},
      {"HeaderLengthJustAboveCap",
       RawSafetensorsWithLength(100'000'001, "{}", ""),
       kInvalid,
       {"header length 100000001 is larger than the limit"}},
      // The header text.
      {"LeadingSpace", RawSafetensors(" {}", ""), kInvalid, {"starts with byte 0x20, not '{'"}},
      {"TopLevelArray", RawSafetensors("[]", ""), kInvalid, {"starts with byte 0x5b, not '{'"}},
      {"InvalidUtf8",
       RawSafetensors("{\"w\xFF\": 1}", ""),
       kInvalid,
       {"m.safetensors: header: not valid UTF-8 at byte 3"}},
      {"InvalidJson", File({R"("w": )"}, 0), kInvalid, {"header: invalid JSON at byte"}},
      {"NulPadding", RawSafetensors(std::string("{}\0\0", 4), ""), kInvalid, {"invalid JSON"}},
      {"TrailingGarbage", RawSafetensors("{} {}", ""), kInvalid, {"invalid JSON"}},
      {"DuplicateTensorName",
       File({f32_1, Entry("w", "\"F32\"", "[1]", "[4, 8]")}, 8),
       kInvalid,
       {"duplicate key \"w\" at the top level"}},
      {"DuplicateKeyInEntry",
       File({R"("w": {"dtype": "F32", "dtype": "F16", "shape": [1], "data_offsets": [0, 4]})"}, 4),
       kInvalid,
       {"duplicate key \"dtype\" in \"/w\""}},
      // The entry's keys.
      {"EntryNotObject",
       File({R"("w": "F32")"}, 0),
       kInvalid,
       {"tensor \"w\": entry must be an object", "got string \"F32\""}},
      {"MissingDtype",
       File({R"("w": {"shape": [1], "data_offsets": [0, 4]})"}, 4),
       kInvalid,
       {"tensor \"w\": missing \"dtype\""}},
      {"MissingShape",
       File({R"("w": {"dtype": "F32", "data_offsets": [0, 4]})"}, 4),
       kInvalid,
       {"tensor \"w\": missing \"shape\""}},
      {"MissingDataOffsets",
       File({R"("w": {"dtype": "F32", "shape": [1]})"}, 4),
       kInvalid,
       {"tensor \"w\": missing \"data_offsets\""}},
      {"UnknownKey",
       File({R"("w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "offset": 0})"}, 4),
       kInvalid,
       {"tensor \"w\": unknown key \"offset\""}},
      // dtype.
      {"DtypeNotString",
       File({Entry("w", "4", "[1]", "[0, 4]")}, 4),
       kInvalid,
       {"tensor \"w\": \"dtype\" must be a string, got number 4"}},
      {"UnknownDtype",
       File({Entry("w", "\"Q4_K\"", "[1]", "[0, 4]")}, 4),
       kInvalid,
       {"tensor \"w\": unknown dtype \"Q4_K\""}},
      {"LowercaseDtype",
       File({Entry("w", "\"f32\"", "[1]", "[0, 4]")}, 4),
       kInvalid,
       {"tensor \"w\": unknown dtype \"f32\""}},
      {"SubByteDtype",
       File({Entry("w", "\"F4\"", "[2]", "[0, 1]")}, 1),
       kInvalid,
       {"tensor \"w\": unknown dtype \"F4\""}},
      // shape.
      {"ShapeNotArray",
       File({Entry("w", "\"F32\"", "4", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"w\": \"shape\" must be an array of integers, got number 4"}},
      {"NegativeDim",
       File({Entry("w", "\"F32\"", "[-4]", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is number -4", "[0, 2^63)"}},
      {"FractionalDim",
       File({Entry("w", "\"F32\"", "[2, 1.5]", "[0, 12]")}, 12),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 1 is number 1.5"}},
      {"IntegralFloatDim",
       File({Entry("w", "\"F32\"", "[4.0]", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is number 4.0"}},
      {"ExponentDim",
       File({Entry("w", "\"F32\"", "[1e2]", "[0, 400]")}, 400),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is number 100.0"}},
      {"StringDim",
       File({Entry("w", "\"F32\"", "[\"4\"]", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is string \"4\""}},
      {"NullDim",
       File({Entry("w", "\"F32\"", "[null]", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is null"}},
      {"DimAtLeast2Pow63",
       File({Entry("w", "\"F32\"", "[9223372036854775808]", "[0, 0]")}, 0),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is number 9223372036854775808"}},
      {"DimBeyondU64",
       File({Entry("w", "\"F32\"", "[18446744073709551616]", "[0, 0]")}, 0),
       kInvalid,
       {"tensor \"w\": \"shape\" dimension 0 is number 1.8446744073709552e+19"}},
      {"ElementCountOverflow",
       File({Entry("w", "\"F32\"", "[4294967296, 4294967296]", "[0, 0]")}, 0),
       kInvalid,
       {"tensor \"w\": shape [4294967296, 4294967296] has more than 2^63 elements"}},
      {"ByteCountOverflow",
       File({Entry("w", "\"F32\"", "[4611686018427387904]", "[0, 0]")}, 0),
       kInvalid,
       {"tensor \"w\": shape [4611686018427387904] of F32 needs more than 2^64 bytes"}},
      // data_offsets.
      {"OffsetsNotArray",
       File({Entry("w", "\"F32\"", "[1]", "0")}, 4),
       kInvalid,
       {"tensor \"w\": \"data_offsets\" must be an array of two non-negative integers, got number "
        "0"}},
      {"OffsetsOneElement",
       File({Entry("w", "\"F32\"", "[1]", "[4]")}, 4),
       kInvalid,
       {"tensor \"w\": \"data_offsets\" must be", "got array [4]"}},
      {"OffsetsThreeElements",
       File({Entry("w", "\"F32\"", "[1]", "[0, 4, 8]")}, 4),
       kInvalid,
       {"tensor \"w\": \"data_offsets\" must be", "got array [0,4,8]"}},
      {"OffsetsNegative",
       File({Entry("w", "\"F32\"", "[1]", "[-4, 0]")}, 4),
       kInvalid,
       {"tensor \"w\": \"data_offsets\" must be", "got array [-4,0]"}},
      {"OffsetsFloat",
       File({Entry("w", "\"F32\"", "[1]", "[0, 4.0]")}, 4),
       kInvalid,
       {"tensor \"w\": \"data_offsets\" must be", "got array [0,4.0]"}},
      {"OffsetsReversed",
       File({Entry("w", "\"F32\"", "[1]", "[4, 0]")}, 4),
       kInvalid,
       {"tensor \"w\": data_offsets [4, 0] are reversed (begin > end)"}},
      {"SizeMismatch",
       File({Entry("h.0.attn.c_attn.weight", "\"F32\"", "[4, 8]", "[0, 100]")}, 100),
       kInvalid,
       {"m.safetensors: tensor \"h.0.attn.c_attn.weight\": data_offsets [0, 100] hold 100 bytes "
        "but shape [4, 8] of F32 needs 128"}},
      {"SizeMismatchOtherDtype",
       File({Entry("ids", "\"I64\"", "[2]", "[0, 8]")}, 8),
       kInvalid,
       {"tensor \"ids\": data_offsets [0, 8] hold 8 bytes but shape [2] of I64 needs 16"}},
      {"ScalarWithNoBytes",
       File({Entry("s", "\"F32\"", "[]", "[0, 0]")}, 0),
       kInvalid,
       {"tensor \"s\": data_offsets [0, 0] hold 0 bytes but shape [] of F32 needs 4"}},
      // Layout of the data section.
      {"Overlap",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]"), Entry("b", "\"F32\"", "[4]", "[8, 24]")}, 24),
       kInvalid,
       {"tensor \"b\": data_offsets [8, 24] overlap tensor \"a\" at data_offsets [0, 16]"}},
      {"SameRangeTwice",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]"), Entry("b", "\"F32\"", "[4]", "[0, 16]")}, 16),
       kInvalid,
       {"tensor \"b\": data_offsets [0, 16] overlap tensor \"a\""}},
      {"EmptyTensorInsideAnother",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]"), Entry("e", "\"F32\"", "[0]", "[8, 8]")}, 16),
       kInvalid,
       {"tensor \"e\": data_offsets [8, 8] overlap tensor \"a\""}},
      {"Gap",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]"), Entry("b", "\"F32\"", "[4]", "[20, 36]")},
            36),
       kInvalid,
       {"tensor \"b\": data_offsets [20, 36] leave a gap after tensor \"a\"",
        "bytes [16, 20) belong to no tensor"}},
      {"NonZeroStart",
       File({Entry("a", "\"F32\"", "[4]", "[4, 20]")}, 20),
       kInvalid,
       {"tensor \"a\": data_offsets [4, 20] start the data section at byte 4 instead of 0"}},
      {"EmptyTensorPastTheEnd",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]"), Entry("e", "\"F32\"", "[0]", "[20, 20]")},
            16),
       kInvalid,
       {"tensor \"e\": data_offsets [20, 20] leave a gap after tensor \"a\""}},
      {"TrailingBytes",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]")}, 20),
       kInvalid,
       {"4 trailing bytes after the last tensor \"a\"", "belong to no tensor"}},
      {"DataWithoutTensors",
       File({}, 3),
       kInvalid,
       {"the header lists no tensors but 3 bytes follow it"}},
      {"TruncatedData",
       File({Entry("a", "\"F32\"", "[4]", "[0, 16]")}, 10),
       kDataLoss,
       {"tensor \"a\": data_offsets [0, 16] end past the data section, which holds only 10 bytes",
        "the file is truncated"}},
      // __metadata__.
      {"MetadataNotObject",
       File({R"("__metadata__": ["pt"])"}, 0),
       kInvalid,
       {"\"__metadata__\" must be an object mapping strings to strings, got array [\"pt\"]"}},
      {"MetadataNull",
       File({R"("__metadata__": null)"}, 0),
       kInvalid,
       {"\"__metadata__\" must be an object", "got null"}},
      {"MetadataValueNotString",
       File({R"("__metadata__": {"format": 1})"}, 0),
       kInvalid,
       {"\"__metadata__\" entry \"format\" is number 1, but metadata values must be strings"}},
      {"MetadataNestedObject",
       File({R"("__metadata__": {"a": {"b": "c"}})"}, 0),
       kInvalid,
       {"\"__metadata__\" entry \"a\" is object"}},
  };
}

INSTANTIATE_TEST_SUITE_P(Cases, BadHeaderTest, ::testing::ValuesIn(BadCases()),
                         [](const auto& test_case) { return test_case.param.name; });

}  // namespace
}  // namespace ember
