// How ember_cli tokenize shows a token's vocabulary string: as text where it is readable, escaped
// where printing it raw would be ambiguous or break the one-token-per-line output.
#ifndef EMBER_CLIENT_CLI_TOKEN_TEXT_H_
#define EMBER_CLIENT_CLI_TOKEN_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ember::client {

// `token` with its valid UTF-8 characters as they are ("▁H", "Ġthe", "é") except for these C-style
// escapes: \t \n \r for those characters, \\ for a backslash, and \xNN for each byte of another
// control character (C0, DEL, C1, U+2028, U+2029) and for each byte that is not part of valid
// UTF-8 (a partial byte-level piece). The result never contains a line break.
std::string PrintableToken(absl::string_view token);

}  // namespace ember::client

#endif  // EMBER_CLIENT_CLI_TOKEN_TEXT_H_
