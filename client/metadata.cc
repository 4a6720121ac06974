#include "client/metadata.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ember::client {

bool IsPrintableAscii(absl::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

absl::Status ValidateMetadataEntry(absl::string_view key, absl::string_view value) {
  if (key.empty()) return absl::InvalidArgumentError("metadata key is empty");
  for (const char c : key) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("metadata key \"", absl::CEscape(key),
                                                     "\" has a character outside [0-9a-z-_.]"));
    }
  }
  if (absl::StartsWith(key, "grpc-")) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata key \"", key, "\" is in gRPC's reserved grpc- namespace"));
  }
  if (!absl::EndsWith(key, "-bin") && !IsPrintableAscii(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata value of \"", key,
                     "\" is not printable ASCII (binary values need a key ending in -bin)"));
  }
  return absl::OkStatus();
}

}  // namespace ember::client
