#include "core/tokenizer/json_fields.h"

#include "absl/strings/str_cat.h"

namespace ember::tokenizer_internal {

JsonField JsonField::operator[](absl::string_view key) const {
  const std::string child_path = path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  if (value_ == nullptr || !value_->is_object()) return JsonField(nullptr, source_, child_path);
  auto it = value_->find(std::string(key));
  return JsonField(it == value_->end() ? nullptr : &*it, source_, child_path);
}

JsonField JsonField::At(size_t index) const {
  const std::string child_path = absl::StrCat(path_, "[", index, "]");
  if (value_ == nullptr || !value_->is_array() || index >= value_->size()) {
    return JsonField(nullptr, source_, child_path);
  }
  return JsonField(&(*value_)[index], source_, child_path);
}

absl::Status JsonField::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ": ", path_.empty() ? "(top level)" : path_, ": ", message));
}

absl::StatusOr<std::string> JsonField::String() const {
  if (value_ == nullptr) return Error("missing (expected a string)");
  if (!value_->is_string()) {
    return Error(absl::StrCat("expected a string, got ", DescribeJsonValue(*value_)));
  }
  return value_->get<std::string>();
}

absl::StatusOr<int64_t> JsonField::Int() const {
  if (value_ == nullptr) return Error("missing (expected an integer)");
  if (value_->is_number_unsigned()) {
    const uint64_t v = value_->get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) return Error("integer too large");
    return static_cast<int64_t>(v);
  }
  if (value_->is_number_integer()) return value_->get<int64_t>();
  return Error(absl::StrCat("expected an integer, got ", DescribeJsonValue(*value_)));
}

absl::StatusOr<bool> JsonField::Bool() const {
  if (value_ == nullptr) return Error("missing (expected true or false)");
  if (!value_->is_boolean()) {
    return Error(absl::StrCat("expected true or false, got ", DescribeJsonValue(*value_)));
  }
  return value_->get<bool>();
}

absl::StatusOr<bool> JsonField::BoolOr(bool fallback) const {
  if (is_null()) return fallback;
  return Bool();
}

absl::StatusOr<int64_t> JsonField::IntOr(int64_t fallback) const {
  if (is_null()) return fallback;
  return Int();
}

absl::StatusOr<std::optional<std::string>> JsonField::OptionalString() const {
  if (is_null()) return std::optional<std::string>();
  auto s = String();
  if (!s.ok()) return s.status();
  return std::optional<std::string>(std::move(*s));
}

absl::StatusOr<size_t> JsonField::ArraySize() const {
  if (value_ == nullptr) return Error("missing (expected an array)");
  if (!value_->is_array()) {
    return Error(absl::StrCat("expected an array, got ", DescribeJsonValue(*value_)));
  }
  return value_->size();
}

absl::Status JsonField::ExpectObject() const {
  if (value_ == nullptr) return Error("missing (expected an object)");
  if (!value_->is_object()) {
    return Error(absl::StrCat("expected an object, got ", DescribeJsonValue(*value_)));
  }
  return absl::OkStatus();
}

std::string DescribeJsonValue(const nlohmann::json& value) {
  std::string text =
      value.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 120) {
    size_t cut = 117;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = absl::StrCat(text.substr(0, cut), "...");
  }
  return absl::StrCat(value.type_name(), " ", text);
}

}  // namespace ember::tokenizer_internal
