#include "core/tokenizer/unicode_normalizer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "unicode/bytestream.h"
#include "unicode/normalizer2.h"
#include "unicode/stringpiece.h"
#include "unicode/utypes.h"

namespace ember::tokenizer_internal {
namespace {

class IcuNormalizer : public Normalizer {
 public:
  IcuNormalizer(const icu::Normalizer2* normalizer, std::string form)
      : normalizer_(normalizer), form_(std::move(form)) {}

  absl::Status Normalize(std::string* text) const override {
    UErrorCode status = U_ZERO_ERROR;
    // Most text is already normalized: a quick check spares the copy.
    if (normalizer_->isNormalizedUTF8(
            icu::StringPiece(text->data(), static_cast<int32_t>(text->size())), status) &&
        U_SUCCESS(status)) {
      return absl::OkStatus();
    }
    status = U_ZERO_ERROR;
    std::string out;
    out.reserve(text->size() + text->size() / 8);
    icu::StringByteSink<std::string> sink(&out);
    normalizer_->normalizeUTF8(0,
                               icu::StringPiece(text->data(), static_cast<int32_t>(text->size())),
                               sink, nullptr, status);
    if (U_FAILURE(status)) {
      return absl::InternalError(
          absl::StrCat(form_, " normalization failed: ", u_errorName(status)));
    }
    *text = std::move(out);
    return absl::OkStatus();
  }

 private:
  const icu::Normalizer2* normalizer_;  // owned by ICU, lives for the process
  std::string form_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> MakeUnicodeNormalizer(absl::string_view form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  if (form == "NFC") {
    normalizer = icu::Normalizer2::getNFCInstance(status);
  } else if (form == "NFD") {
    normalizer = icu::Normalizer2::getNFDInstance(status);
  } else if (form == "NFKC") {
    normalizer = icu::Normalizer2::getNFKCInstance(status);
  } else if (form == "NFKD") {
    normalizer = icu::Normalizer2::getNFKDInstance(status);
  } else {
    return std::unique_ptr<Normalizer>();
  }
  if (U_FAILURE(status) || normalizer == nullptr) {
    return absl::InternalError(
        absl::StrCat("ICU has no ", form, " normalizer: ", u_errorName(status)));
  }
  return std::unique_ptr<Normalizer>(new IcuNormalizer(normalizer, std::string(form)));
}

}  // namespace ember::tokenizer_internal
