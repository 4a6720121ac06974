// ember_cli perplexity: the perplexity of a text file under the served model, scored through the
// server (Tokenize once, then one prompt-scoring Generate per window: prompt_logprobs with
// max_new_tokens = 0). Windows as perplexity.h plans them; a progress bar on stderr when it is a
// terminal; the result on stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/command.h"
#include "client/cli/perplexity.h"
#include "google/protobuf/struct.pb.h"

namespace ember::client {
namespace {

using Clock = std::chrono::steady_clock;

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--file=", path, ": cannot open it"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("--file=", path, ": read failed"));
  return text.str();
}

// "[=========>          ] 12/40 windows, 5021 tokens scored, 3100 tokens/s" on one rewritten line.
void DrawProgress(size_t done, size_t total, int64_t scored, double seconds) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / (total == 0 ? 1 : total));
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r[%s] %zu/%zu windows, %lld tokens scored, %.0f tokens/s", bar.c_str(),
               done, total, static_cast<long long>(scored),
               seconds > 0 ? static_cast<double>(scored) / seconds : 0.0);
  std::fflush(stderr);
}

}  // namespace

int RunPerplexityCommand(const CommonArgs& common) {
  const absl::StatusOr<PerplexityArgs> args = PerplexityArgsFromFlags();
  if (!args.ok()) return Fail("perplexity", args.status());
  const absl::StatusOr<std::string> text = ReadTextFile(args->file);
  if (!text.ok()) return Fail("perplexity", text.status());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("perplexity", client.status());

  // The served model's context bounds the window.
  const absl::StatusOr<ember::v1::ListModelsResponse> models =
      (*client)->ListModels(common.call_options);
  if (!models.ok()) return FailCall(common, "perplexity", models.status());
  const std::string& name = args->model.empty() ? models->default_model() : args->model;
  int64_t context_length = 0;
  for (const ember::v1::ModelInfo& m : models->models()) {
    if (m.name() == name) context_length = m.context_length();
  }
  if (context_length == 0) {
    return Fail("perplexity",
                absl::NotFoundError(absl::StrCat("model \"", name, "\" is not served there")));
  }
  const int64_t context = args->context > 0 ? args->context : context_length;
  if (context > context_length) {
    return Fail("perplexity", absl::InvalidArgumentError(absl::StrCat("--context=", context,
                                                                      ": the model's context is ",
                                                                      context_length, " tokens")));
  }
  const int64_t stride = args->stride > 0 ? args->stride : std::max<int64_t>(1, context / 2);

  ember::v1::TokenizeRequest tokenize;
  tokenize.set_model(args->model);
  tokenize.set_text(*text);
  tokenize.set_add_special_tokens(true);  // as a prompt is tokenized: BOS when the model adds one
  const absl::StatusOr<ember::v1::TokenizeResponse> tokens =
      (*client)->Tokenize(tokenize, common.call_options);
  if (!tokens.ok()) return FailCall(common, "perplexity", tokens.status());
  const std::vector<int32_t> ids(tokens->token_ids().begin(), tokens->token_ids().end());

  std::vector<PerplexityWindow> windows;
  if (absl::Status s = PlanWindows(static_cast<int64_t>(ids.size()), context, stride, &windows);
      !s.ok()) {
    return Fail("perplexity", s);
  }
  const bool progress = !common.json && isatty(STDERR_FILENO) == 1;
  PerplexityTotal total;
  const Clock::time_point start = Clock::now();
  std::vector<double> logprobs;
  for (size_t i = 0; i < windows.size(); ++i) {
    const PerplexityWindow& w = windows[i];
    ember::v1::GenerateRequest request;
    request.set_model(args->model);
    request.mutable_prompt_token_ids()->Add(ids.begin() + w.begin, ids.begin() + w.end);
    request.set_max_new_tokens(0);  // with prompt_logprobs: score only
    request.set_prompt_logprobs(true);
    const absl::StatusOr<ember::v1::GenerateResponse> response =
        (*client)->Generate(request, common.call_options);
    if (!response.ok()) {
      if (progress) std::fputc('\n', stderr);
      return FailCall(common, "perplexity", response.status());
    }
    logprobs.clear();
    for (const ember::v1::GeneratedTokenLogprobs& entry : response->prompt_logprobs()) {
      logprobs.push_back(entry.chosen().logprob());
    }
    if (absl::Status s = total.Add(w, logprobs); !s.ok()) {
      if (progress) std::fputc('\n', stderr);
      return Fail("perplexity", s);
    }
    if (progress) {
      DrawProgress(i + 1, windows.size(), total.tokens(),
                   std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  if (progress) std::fputc('\n', stderr);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = seconds > 0 ? static_cast<double>(total.tokens()) / seconds : 0.0;
  if (common.json) {
    google::protobuf::Struct out;
    auto& fields = *out.mutable_fields();
    fields["model"].set_string_value(name);
    fields["tokens"].set_number_value(static_cast<double>(ids.size()));
    fields["tokens_scored"].set_number_value(static_cast<double>(total.tokens()));
    fields["windows"].set_number_value(static_cast<double>(windows.size()));
    fields["context"].set_number_value(static_cast<double>(context));
    fields["stride"].set_number_value(static_cast<double>(stride));
    fields["mean_nll"].set_number_value(total.mean_nll());
    fields["perplexity"].set_number_value(total.perplexity());
    fields["tokens_per_second"].set_number_value(rate);
    std::printf("%s\n", ProtoToJson(out).c_str());
  } else {
    std::printf("model: %s\n", name.c_str());
    std::printf("windows: %zu (context %lld, stride %lld)\n", windows.size(),
                static_cast<long long>(context), static_cast<long long>(stride));
    std::printf("tokens scored: %lld (of %zu)\n", static_cast<long long>(total.tokens()),
                ids.size());
    std::printf("mean negative log-likelihood: %.6f nats/token\n", total.mean_nll());
    std::printf("perplexity: %.4f\n", total.perplexity());
    std::printf("tokens/s: %.1f\n", rate);
  }
  return kExitOk;
}

}  // namespace ember::client
