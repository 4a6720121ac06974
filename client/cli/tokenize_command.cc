// ember_cli tokenize: the prompt's token ids, one "<id>\t<token>" line each, the token shown as
// text (PrintableToken).
#include <cstdio>

#include "client/cli/command.h"
#include "client/cli/token_text.h"

namespace ember::client {

int RunTokenizeCommand(const CommonArgs& common) {
  const absl::StatusOr<ember::v1::TokenizeRequest> request = TokenizeRequestFromFlags();
  if (!request.ok()) return Fail("tokenize", request.status());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("tokenize", client.status());
  const absl::StatusOr<ember::v1::TokenizeResponse> response =
      (*client)->Tokenize(*request, common.call_options);
  if (!response.ok()) return FailCall(common, "tokenize", response.status());

  if (common.json) {
    std::printf("%s\n", ProtoToJson(*response).c_str());
    return kExitOk;
  }
  for (int i = 0; i < response->token_ids_size(); ++i) {
    // Readable text, escaped only where raw bytes would be ambiguous or break the line.
    const std::string token =
        i < response->tokens_size() ? PrintableToken(response->tokens(i)) : std::string();
    std::printf("%d\t%s\n", response->token_ids(i), token.c_str());
  }
  std::fprintf(stderr, "ember_cli: tokenize: %d tokens\n", response->token_ids_size());
  return kExitOk;
}

}  // namespace ember::client
