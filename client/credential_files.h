// Reading the files a client's credentials come from (TLS PEM files, a bearer-token file) named by
// command-line flags, with errors that name the flag and the path. Shared by ember_cli and
// ember_soak.
#ifndef EMBER_CLIENT_CREDENTIAL_FILES_H_
#define EMBER_CLIENT_CREDENTIAL_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::client {

// The whole file at `path`, given by flag --`flag`. NOT_FOUND when it does not exist,
// INVALID_ARGUMENT when it cannot be read or is empty; messages read "--flag=path: reason".
absl::StatusOr<std::string> ReadCredentialFile(absl::string_view flag, const std::string& path);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CREDENTIAL_FILES_H_
