#include "core/tokenizer/pattern_json.h"

#include "absl/strings/str_cat.h"

namespace ember::tokenizer_internal {

absl::StatusOr<Pattern> ParsePattern(const JsonField& field) {
  if (absl::Status s = field.ExpectObject(); !s.ok()) return s;
  const JsonField literal = field["String"];
  const JsonField regex = field["Regex"];
  if (!literal.missing() && regex.missing()) {
    auto text = literal.String();
    if (!text.ok()) return text.status();
    return Pattern::Literal(*text);
  }
  if (!regex.missing() && literal.missing()) {
    auto text = regex.String();
    if (!text.ok()) return text.status();
    auto pattern = Pattern::OnigurumaRegex(*text);
    if (!pattern.ok()) return regex.Error(pattern.status().message());
    return pattern;
  }
  return field.Error(absl::StrCat("expected exactly one of \"String\" or \"Regex\", got ",
                                  DescribeJsonValue(field.json())));
}

}  // namespace ember::tokenizer_internal
