#include "core/model/strict_json.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/util/utf8.h"

namespace ember {
namespace {

using Json = nlohmann::json;

// Error text quoting user data is cut to this length so that a 100 MB unterminated string cannot
// turn into a 100 MB status message.
constexpr size_t kMaxQuotedChars = 120;

std::string Truncate(std::string text) {
  if (text.size() > kMaxQuotedChars) {
    text.resize(kMaxQuotedChars);
    text += "...";
  }
  return text;
}

// A SAX consumer that builds the document like nlohmann's own DOM parser, but stops at the first
// repeated key or at excessive nesting, and keeps the parse error instead of throwing it. Pointers
// on `stack_` stay valid: an array only grows while it is the innermost open container, and object
// members live in std::map nodes, which never move.
class StrictDomBuilder {
 public:
  explicit StrictDomBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return Place(Json(nullptr)) != nullptr; }
  bool boolean(bool value) { return Place(Json(value)) != nullptr; }
  bool number_integer(Json::number_integer_t value) { return Place(Json(value)) != nullptr; }
  bool number_unsigned(Json::number_unsigned_t value) { return Place(Json(value)) != nullptr; }
  bool number_float(Json::number_float_t value, const Json::string_t& /*text*/) {
    return Place(Json(value)) != nullptr;
  }
  bool string(Json::string_t& value) { return Place(Json(std::move(value))) != nullptr; }
  bool binary(Json::binary_t& /*value*/) {
    // Only the binary formats (CBOR, MessagePack, ...) produce these; JSON text never does.
    error_ = "unexpected binary value";
    return false;
  }

  bool start_object(size_t /*size*/) { return Open(Json::value_t::object); }
  bool start_array(size_t /*size*/) { return Open(Json::value_t::array); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(Json::string_t& key) {
    Json& object = *stack_.back();
    if (object.contains(key)) {
      error_ = absl::StrCat("duplicate key \"", Truncate(key), "\" ", Where());
      return false;
    }
    slot_ = &object[key];
    key_ = std::move(key);
    return true;
  }

  bool parse_error(size_t position, const std::string& /*last_token*/, const Json::exception& ex) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1, column 9: ..."; the
    // bracketed id means nothing to a user.
    absl::string_view what = ex.what();
    if (const size_t close = what.find("] "); close != absl::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    error_ = absl::StrCat("invalid JSON at byte ", position, ": ", Truncate(std::string(what)));
    return false;
  }

  const std::string& error() const { return error_; }
  Json TakeRoot() { return std::move(root_); }

 private:
  // Stores `value` where the parser is: the root, the next array element, or the member whose key
  // was just read.
  Json* Place(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }

  bool Open(Json::value_t type) {
    if (stack_.size() >= static_cast<size_t>(max_depth_)) {
      error_ =
          absl::StrCat("arrays/objects nested more than ", max_depth_, " levels deep ", Where());
      return false;
    }
    std::string segment;
    if (!stack_.empty()) {
      segment = stack_.back()->is_array() ? absl::StrCat(stack_.back()->size()) : key_;
    }
    stack_.push_back(Place(Json(type)));
    segments_.push_back(std::move(segment));
    return true;
  }

  bool Close() {
    stack_.pop_back();
    segments_.pop_back();
    return true;
  }

  // "at the top level" or `in "/a/0"` (a JSON pointer, RFC 6901) for the innermost open container.
  std::string Where() const {
    if (segments_.size() <= 1) return "at the top level";
    std::string pointer;
    for (size_t i = 1; i < segments_.size(); ++i) {
      absl::StrAppend(&pointer, "/", absl::StrReplaceAll(segments_[i], {{"~", "~0"}, {"/", "~1"}}));
    }
    return absl::StrCat("in \"", Truncate(pointer), "\"");
  }

  const int max_depth_;
  Json root_;
  std::vector<Json*> stack_;           // open containers, outermost first
  std::vector<std::string> segments_;  // how each open container is reached from its parent
  Json* slot_ = nullptr;               // the member created by the last key()
  std::string key_;                    // the last key read
  std::string error_;
};

}  // namespace

absl::StatusOr<nlohmann::json> ParseStrictJson(absl::string_view text, absl::string_view file_name,
                                               int max_depth) {
  if (const size_t bad = FindInvalidUtf8(text); bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": not valid UTF-8 at byte ", bad, " of the JSON text"));
  }
  // nlohmann's lexer takes a NUL byte for the end of input, so "{}\0<anything>" would parse as {}.
  // A raw NUL is never valid JSON (inside strings control characters must be escaped).
  if (const size_t nul = text.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": invalid JSON at byte ", nul, ": NUL byte"));
  }
  StrictDomBuilder builder(max_depth);
  const bool ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                                  /*strict=*/true, /*ignore_comments=*/false);
  if (!ok) {
    const std::string& error = builder.error();
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": ", error.empty() ? "invalid JSON" : error));
  }
  return builder.TakeRoot();
}

std::string DescribeJson(const nlohmann::json& value) {
  const auto dump = [&value] {
    return Truncate(value.dump(-1, ' ', false, Json::error_handler_t::replace));
  };
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return absl::StrCat("boolean ", dump());
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return absl::StrCat("number ", dump());
    case Json::value_t::string:
      return absl::StrCat("string ", dump());
    case Json::value_t::array:
      return absl::StrCat("array ", dump());
    case Json::value_t::object:
      return absl::StrCat("object ", dump());
    case Json::value_t::binary:
      return "binary";
    case Json::value_t::discarded:
      return "discarded value";
  }
  return "value";
}

}  // namespace ember
