// ChatTemplate::LoadFromModelDir: where a model directory keeps its template and special tokens.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "core/chat/chat_template.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ember::chat {
namespace {

using ::testing::HasSubstr;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("chat_loader_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  absl::StatusOr<std::optional<ChatTemplate>> Load() {
    return ChatTemplate::LoadFromModelDir(dir_.string());
  }
  static std::string Render(const ChatTemplate& t) {
    absl::StatusOr<std::string> out =
        t.Render(nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}}),
                 /*add_generation_prompt=*/true);
    return out.ok() ? *out : std::string(out.status().message());
  }

  std::filesystem::path dir_;
};

TEST_F(LoaderTest, StringTemplateAndTokensInBothForms) {
  Write("tokenizer_config.json",
        R"({"chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}",
      "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false}, "eos_token": "</s>",
      "pad_token": null})");
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ((*t)->bos_token(), "<s>");
  EXPECT_EQ((*t)->eos_token(), "</s>");
  EXPECT_EQ(Render(**t), "<s>hi</s>");
}

TEST_F(LoaderTest, NamedListTakesDefault) {
  Write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "tools"},
      {"name": "default", "template": "default {{ add_generation_prompt }}"}]})");
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ(Render(**t), "default True");
  EXPECT_EQ((*t)->bos_token(), "");
}

TEST_F(LoaderTest, NamedListWithoutDefaultIsAnError) {
  Write("tokenizer_config.json", R"({"chat_template": [{"name": "rag", "template": "x"}]})");
  auto t = Load();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("tokenizer_config.json"));
  EXPECT_THAT(t.status().message(), HasSubstr("default"));
}

TEST_F(LoaderTest, ChatTemplateJinjaFile) {
  Write("tokenizer_config.json", R"({"eos_token": "<|end|>"})");
  Write("chat_template.jinja",
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}\n");
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ(Render(**t), "<user>hi<|end|>");
}

TEST_F(LoaderTest, JinjaFileWithoutTokenizerConfig) {
  Write("chat_template.jinja", "plain");
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(t->has_value());
  EXPECT_EQ(Render(**t), "plain");
}

TEST_F(LoaderTest, NoTemplateIsNullopt) {
  Write("tokenizer_config.json", R"({"bos_token": "<s>", "chat_template": null})");
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->has_value());
}

TEST_F(LoaderTest, EmptyDirectoryIsNullopt) {
  auto t = Load();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->has_value());
}

TEST_F(LoaderTest, MalformedConfigNamesTheFile) {
  Write("tokenizer_config.json", "{not json");
  auto t = Load();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("tokenizer_config.json"));
}

TEST_F(LoaderTest, UnparsableTemplateNamesTheFileAndFeature) {
  Write("chat_template.jinja", "ok\n{% include 'x' %}");
  auto t = Load();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("chat_template.jinja"));
  EXPECT_THAT(t.status().message(), HasSubstr("unsupported Jinja feature 'include' at line 2"));
}

TEST_F(LoaderTest, WrongTemplateTypeIsAnError) {
  Write("tokenizer_config.json", R"({"chat_template": 3})");
  auto t = Load();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("chat_template must be a string"));
}

}  // namespace
}  // namespace ember::chat
