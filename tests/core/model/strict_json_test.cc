#include "core/model/strict_json.h"

#include <ostream>
#include <string>

#include "core/util/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember {
namespace {

using ::testing::HasSubstr;

struct Utf8Case {
  std::string name;
  std::string text;
  size_t first_bad;  // npos when valid
};

// Failure output names the case instead of dumping its bytes.
void PrintTo(const Utf8Case& c, std::ostream* os) { *os << c.name; }

class FindInvalidUtf8Test : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(FindInvalidUtf8Test, FindsFirstIllFormedByte) {
  EXPECT_EQ(FindInvalidUtf8(GetParam().text), GetParam().first_bad);
}

constexpr size_t kValid = absl::string_view::npos;

INSTANTIATE_TEST_SUITE_P(Cases, FindInvalidUtf8Test,
                         ::testing::Values(Utf8Case{"Empty", "", kValid},
                                           Utf8Case{"Ascii", "{\"a\": 1}", kValid},
                                           Utf8Case{"TwoByte", "caf\xC3\xA9", kValid},
                                           Utf8Case{"ThreeByte", "\xE2\x82\xAC", kValid},
                                           Utf8Case{"FourByte", "\xF0\x9F\x98\x80", kValid},
                                           Utf8Case{"MaxCodePoint", "\xF4\x8F\xBF\xBF", kValid},
                                           Utf8Case{"LoneContinuation", "a\x80", 1},
                                           Utf8Case{"OverlongTwoByte", "ab\xC0\xAF", 2},
                                           Utf8Case{"OverlongThreeByte", "\xE0\x80\xAF", 0},
                                           Utf8Case{"Surrogate", "\xED\xA0\x80", 0},
                                           Utf8Case{"AboveMaxCodePoint", "\xF4\x90\x80\x80", 0},
                                           Utf8Case{"TruncatedSequence", "ab\xE2\x82", 2},
                                           Utf8Case{"BadContinuation", "\xC3\x28", 0},
                                           Utf8Case{"InvalidLeadByte", "x\xFF", 1}),
                         [](const auto& test_case) { return test_case.param.name; });

TEST(ParseStrictJsonTest, ParsesNestedDocument) {
  absl::StatusOr<nlohmann::json> json =
      ParseStrictJson(R"({"a": [1, {"b": "c"}], "d": -2.5, "e": null})", "f.json", 8);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(*json, nlohmann::json::parse(R"({"a": [1, {"b": "c"}], "d": -2.5, "e": null})"));
}

TEST(ParseStrictJsonTest, RejectsDuplicateTopLevelKey) {
  absl::StatusOr<nlohmann::json> json = ParseStrictJson(R"({"a": 1, "b": 2, "a": 3})", "f.json", 8);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("f.json: duplicate key \"a\" at the top level"));
}

TEST(ParseStrictJsonTest, RejectsDuplicateNestedKeyNamingItsPath) {
  absl::StatusOr<nlohmann::json> json =
      ParseStrictJson(R"({"x/y": [{"k": 1, "k": 2}]})", "f.json", 8);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("duplicate key \"k\" in \"/x~1y/0\""));
}

TEST(ParseStrictJsonTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(ParseStrictJson(R"({"a": {"k": 1}, "b": {"k": 2}})", "f.json", 8).ok());
}

TEST(ParseStrictJsonTest, SyntaxErrorNamesFileAndByte) {
  absl::StatusOr<nlohmann::json> json = ParseStrictJson(R"({"a": })", "f.json", 8);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("f.json: invalid JSON at byte 7"));
  EXPECT_THAT(json.status().message(), ::testing::Not(HasSubstr("[json.exception")));
}

TEST(ParseStrictJsonTest, RejectsTrailingContentAndComments) {
  EXPECT_FALSE(ParseStrictJson("{} x", "f.json", 8).ok());
  EXPECT_FALSE(ParseStrictJson(std::string("{}\0", 3), "f.json", 8).ok());
  EXPECT_FALSE(ParseStrictJson("{} // note", "f.json", 8).ok());
  EXPECT_TRUE(ParseStrictJson("{}   \n", "f.json", 8).ok());
}

TEST(ParseStrictJsonTest, RejectsInvalidUtf8NamingTheByte) {
  absl::StatusOr<nlohmann::json> json = ParseStrictJson("{\"\xFF\": 1}", "f.json", 8);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("f.json: not valid UTF-8 at byte 2"));
}

TEST(ParseStrictJsonTest, EnforcesDepthLimit) {
  EXPECT_TRUE(ParseStrictJson("[[[1]]]", "f.json", 3).ok());
  absl::StatusOr<nlohmann::json> json = ParseStrictJson("[[[[1]]]]", "f.json", 3);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("nested more than 3 levels"));
}

TEST(ParseStrictJsonTest, HostileNestingStopsEarly) {
  const std::string deep(1 << 20, '[');  // would be a million-level tree without the limit
  EXPECT_EQ(ParseStrictJson(deep, "f.json", 8).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonTest, LongErrorsAreTruncated) {
  const std::string text = "{\"" + std::string(10000, 'a');  // unterminated string
  absl::StatusOr<nlohmann::json> json = ParseStrictJson(text, "f.json", 8);
  ASSERT_FALSE(json.ok());
  EXPECT_LT(json.status().message().size(), 400u);
}

TEST(DescribeJsonTest, NamesTypeAndValue) {
  EXPECT_EQ(DescribeJson(nlohmann::json(nullptr)), "null");
  EXPECT_EQ(DescribeJson(nlohmann::json(true)), "boolean true");
  EXPECT_EQ(DescribeJson(nlohmann::json(-3)), "number -3");
  EXPECT_EQ(DescribeJson(nlohmann::json(1.5)), "number 1.5");
  EXPECT_EQ(DescribeJson(nlohmann::json("x")), "string \"x\"");
  EXPECT_EQ(DescribeJson(nlohmann::json::array({1, 2})), "array [1,2]");
  EXPECT_EQ(DescribeJson(nlohmann::json::object()), "object {}");
}

}  // namespace
}  // namespace ember
