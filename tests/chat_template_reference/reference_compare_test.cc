// ember's chat templates against Python's jinja2 as transformers runs it: every template x
// conversation x add_generation_prompt that reference.py rendered (fixture chat_template_reference)
// is loaded through ChatTemplate::LoadFromModelDir and must render byte-identically, or raise where
// Python raised (with raise_exception's exact message).
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/chat/chat_template.h"
#include "core/util/file_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ember::chat {
namespace {

using Json = nlohmann::ordered_json;

std::string ReferenceDir() {
  const char* env = std::getenv("EMBER_CHAT_TEMPLATE_REFERENCE_DIR");
  return env != nullptr ? env : EMBER_CHAT_TEMPLATE_REFERENCE_OUT_DEFAULT;
}

Json ReadJson(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status() << " (run the chat_template_reference_setup test first)";
  return text.ok() ? Json::parse(*text) : Json();
}

TEST(ChatTemplateReferenceTest, EveryCaseMatchesPythonJinja2) {
  const std::string dir = ReferenceDir();
  const Json expected = ReadJson(JoinPath(dir, "expected.json"));
  const Json conversations = ReadJson(EMBER_CHAT_TEMPLATE_CONVERSATIONS);
  ASSERT_TRUE(expected.contains("cases"));
  std::map<std::string, Json> by_name;
  for (const Json& c : conversations["conversations"]) by_name[c["name"].get<std::string>()] = c;

  std::map<std::string, ChatTemplate> templates;
  for (const Json& name : expected["templates"]) {
    absl::StatusOr<std::optional<ChatTemplate>> t =
        ChatTemplate::LoadFromModelDir(JoinPath(JoinPath(dir, "models"), name.get<std::string>()));
    ASSERT_TRUE(t.ok()) << name << ": " << t.status();
    ASSERT_TRUE(t->has_value()) << name << ": no template found";
    templates.emplace(name.get<std::string>(), std::move(**t));
  }

  int identical = 0, both_raise = 0, failures = 0;
  for (const Json& c : expected["cases"]) {
    const std::string name = c["template"].get<std::string>();
    const Json& conv = by_name.at(c["conversation"].get<std::string>());
    const bool agp = c["add_generation_prompt"].get<bool>();
    const std::string label = absl::StrCat(name, " x ", c["conversation"].get<std::string>(),
                                           " add_generation_prompt=", agp);
    absl::StatusOr<std::string> got =
        templates.at(name).Render(conv["messages"], agp, conv.value("extra", Json::object()));
    if (!c["error_type"].is_null()) {
      if (got.ok()) {
        ADD_FAILURE() << label << ": Python raised " << c["error_type"] << " (" << c["error"]
                      << ") but ember rendered:\n"
                      << *got;
        ++failures;
      } else if (c["error_type"] == "TemplateError" &&
                 std::string(got.status().message()) != c["error"]) {
        ADD_FAILURE() << label << ": raise_exception message differs: Python " << c["error"]
                      << ", ember " << got.status();
        ++failures;
      } else {
        ++both_raise;
      }
      continue;
    }
    if (!got.ok()) {
      ADD_FAILURE() << label << ": ember failed: " << got.status();
      ++failures;
      continue;
    }
    const std::string want = c["output"].get<std::string>();
    if (*got != want) {
      ADD_FAILURE() << label << ": output differs\n--- Python jinja2 ---\n"
                    << want << "\n--- ember ---\n"
                    << *got << "\n---";
      ++failures;
      continue;
    }
    ++identical;
  }
  std::printf(
      "chat_template_reference: %zu templates, %zu cases: %d byte-identical, %d raise in both, %d "
      "differ\n",
      templates.size(), expected["cases"].size(), identical, both_raise, failures);
  EXPECT_EQ(failures, 0);
  EXPECT_GT(identical, 0);
}

}  // namespace
}  // namespace ember::chat
