#include "server/auth.h"

#include "absl/strings/match.h"

namespace ember {

bool TokensEqual(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

absl::Status CheckBearerToken(const grpc::ServerContextBase& context,
                              absl::string_view expected_token) {
  if (expected_token.empty()) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  const auto range = metadata.equal_range("authorization");
  if (range.first == range.second) {
    return absl::UnauthenticatedError(
        "this server requires 'authorization: Bearer <token>' metadata on every call");
  }
  if (std::next(range.first) != range.second) {
    return absl::UnauthenticatedError("more than one 'authorization' metadata entry");
  }
  const absl::string_view value(range.first->second.data(), range.first->second.size());
  constexpr absl::string_view kScheme = "Bearer ";
  if (!absl::StartsWithIgnoreCase(value, kScheme)) {
    return absl::UnauthenticatedError("'authorization' metadata is not a Bearer token");
  }
  if (!TokensEqual(value.substr(kScheme.size()), expected_token)) {
    return absl::UnauthenticatedError("the bearer token is not valid for this server");
  }
  return absl::OkStatus();
}

}  // namespace ember
