#include "client/credential_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace ember::client {

absl::StatusOr<std::string> ReadCredentialFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const absl::StatusCode code =
        errno == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kInvalidArgument;
    return absl::Status(code, absl::StrCat("--", flag, "=", path, ": ", std::strerror(errno)));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (contents.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, "=", path, ": file is empty"));
  }
  return contents.str();
}

}  // namespace ember::client
