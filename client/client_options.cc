#include "client/client_options.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/metadata.h"

namespace ember::client {

absl::Status ValidateClientOptions(const ClientOptions& options) {
  if (options.default_deadline < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("ClientOptions.default_deadline is negative (",
                                                   absl::FormatDuration(options.default_deadline),
                                                   ")"));
  }
  if (!options.tls) {
    for (const auto& [name, value] : {std::pair<const char*, const std::string&>{
                                          "tls_root_certs_pem", options.tls_root_certs_pem},
                                      {"tls_client_cert_pem", options.tls_client_cert_pem},
                                      {"tls_client_key_pem", options.tls_client_key_pem},
                                      {"tls_server_name", options.tls_server_name}}) {
      if (!value.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("ClientOptions.", name, " is set but ClientOptions.tls is false"));
      }
    }
  }
  if (options.tls_client_cert_pem.empty() != options.tls_client_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "ClientOptions.tls_client_cert_pem and tls_client_key_pem must be set together (mutual "
        "TLS needs both the certificate and its key)");
  }
  if (!IsPrintableAscii(options.bearer_token)) {
    return absl::InvalidArgumentError(
        "ClientOptions.bearer_token must be printable ASCII (it travels as HTTP/2 header text)");
  }
  if (options.max_receive_message_bytes < -1) {
    return absl::InvalidArgumentError(absl::StrCat("ClientOptions.max_receive_message_bytes is ",
                                                   options.max_receive_message_bytes,
                                                   "; use -1 (no limit), 0 (default) or a size"));
  }
  if (options.lb_policy != "pick_first" && options.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(absl::StrCat("ClientOptions.lb_policy is \"",
                                                   absl::CHexEscape(options.lb_policy),
                                                   "\"; want pick_first or round_robin"));
  }
  return absl::OkStatus();
}

}  // namespace ember::client
