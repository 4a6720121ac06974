// ember_cli generate: one completion, whole or streamed, text on stdout and a summary on stderr.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "client/cli/command.h"

namespace ember::client {
namespace {

using Clock = std::chrono::steady_clock;

std::string FinishReasonName(ember::v1::FinishReason reason) {
  std::string name = ember::v1::FinishReason_Name(reason);
  absl::string_view short_name = name;
  absl::ConsumePrefix(&short_name, "FINISH_REASON_");
  return std::string(short_name);
}

void PrintLogprobs(
    const google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs>& logprobs) {
  for (const ember::v1::GeneratedTokenLogprobs& entry : logprobs) {
    std::string line =
        absl::StrFormat("%9.4f %7d '%s'", entry.chosen().logprob(), entry.chosen().token_id(),
                        absl::CHexEscape(entry.chosen().token()));
    if (entry.top_size() > 0) absl::StrAppend(&line, "  top:");
    for (const ember::v1::TokenLogprob& alt : entry.top()) {
      absl::StrAppendFormat(&line, " '%s' %.4f", absl::CHexEscape(alt.token()), alt.logprob());
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// Prompt log-probabilities, under a heading, as PrintLogprobs prints each entry.
void PrintPromptLogprobs(
    const google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs>& logprobs) {
  if (logprobs.empty()) return;
  std::fprintf(stderr, "prompt log-probabilities (from the second prompt token):\n");
  PrintLogprobs(logprobs);
}

// A beam search's n-best list, when it has more than the one hypothesis already printed as the
// text: one "<score><TAB><text>" line each on stdout, best first (the first repeats the text).
void PrintHypotheses(const google::protobuf::RepeatedPtrField<ember::v1::Hypothesis>& hypotheses) {
  if (hypotheses.size() <= 1) return;
  for (const ember::v1::Hypothesis& h : hypotheses) {
    std::printf("%.4f\t%s\n", h.score(), h.text().c_str());
  }
  std::fflush(stdout);
}

// "ember_cli: generate: LENGTH, 16 tokens (prompt 5), TTFT 12.3 ms, 45.6 tokens/s, 0.420 s total
// (client-measured)". tokens/s is the decode rate: tokens after the first over the time after it.
void PrintSummary(ember::v1::FinishReason reason, const ember::v1::Usage& usage,
                  std::optional<double> ttft_seconds, std::optional<double> tokens_per_second,
                  double total_seconds, absl::string_view measured_by) {
  std::string line =
      absl::StrFormat("ember_cli: generate: %s, %d tokens (prompt %d)", FinishReasonName(reason),
                      usage.generated_tokens(), usage.prompt_tokens());
  if (ttft_seconds.has_value()) absl::StrAppendFormat(&line, ", TTFT %.1f ms", *ttft_seconds * 1e3);
  if (tokens_per_second.has_value()) {
    absl::StrAppendFormat(&line, ", %.1f tokens/s", *tokens_per_second);
  }
  absl::StrAppendFormat(&line, ", %.3f s total (%s)\n", total_seconds, measured_by);
  std::fputs(line.c_str(), stderr);
}

int RunUnary(const CommonArgs& common, const EmberClient& client, const GenerateArgs& args) {
  const absl::StatusOr<ember::v1::GenerateResponse> response =
      client.Generate(args.request, common.call_options);
  if (!response.ok()) return FailCall(common, "generate", response.status());
  if (common.json) {
    std::printf("%s\n", ProtoToJson(*response).c_str());
  } else {
    std::fwrite(response->text().data(), 1, response->text().size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    PrintHypotheses(response->hypotheses());
    PrintPromptLogprobs(response->prompt_logprobs());
    PrintLogprobs(response->logprobs());
  }
  const ember::v1::Timings& timings = response->timings();
  std::optional<double> ttft;
  std::optional<double> rate;
  if (response->usage().generated_tokens() > 0) {  // a scoring request has neither
    ttft = timings.time_to_first_token_seconds();
    rate = timings.decode_tokens_per_second();
  }
  PrintSummary(response->finish_reason(), response->usage(), ttft, rate, timings.total_seconds(),
               "server-measured");
  return kExitOk;
}

int RunStreaming(const CommonArgs& common, const EmberClient& client, const GenerateArgs& args) {
  const Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> first_token;
  Clock::time_point last_token;
  int64_t tokens = 0;
  bool printed_text = false;
  google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs> logprobs;
  google::protobuf::RepeatedPtrField<ember::v1::GeneratedTokenLogprobs> prompt_logprobs;

  const absl::StatusOr<ember::v1::GenerateStreamResponse> last = client.GenerateStream(
      args.request,
      [&](const ember::v1::GenerateStreamResponse& message) {
        if (message.token_ids_size() > 0) {
          const Clock::time_point now = Clock::now();
          if (!first_token.has_value()) first_token = now;
          last_token = now;
          tokens += message.token_ids_size();
        }
        if (common.json) {
          std::printf("%s\n", ProtoToJson(message).c_str());
        } else {
          std::fwrite(message.text().data(), 1, message.text().size(), stdout);
          printed_text = printed_text || !message.text().empty();
          logprobs.MergeFrom(message.logprobs());
          prompt_logprobs.MergeFrom(message.prompt_logprobs());
        }
        // Flushed per message so a reader sees each piece as soon as it arrives.
        std::fflush(stdout);
        return true;
      },
      common.call_options);
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  // End the partial line so the next prompt (or the error on stderr) starts on its own line.
  if (!common.json && (printed_text || last.ok())) {
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  if (!last.ok()) return FailCall(common, "generate", last.status());
  if (!common.json) PrintHypotheses(last->hypotheses());
  PrintPromptLogprobs(prompt_logprobs);
  PrintLogprobs(logprobs);

  std::optional<double> ttft;
  std::optional<double> rate;
  if (first_token.has_value()) {
    ttft = std::chrono::duration<double>(*first_token - start).count();
    const double decode = std::chrono::duration<double>(last_token - *first_token).count();
    if (tokens > 1 && decode > 0) rate = static_cast<double>(tokens - 1) / decode;
  }
  PrintSummary(last->finish_reason(), last->usage(), ttft, rate, total, "client-measured");
  return kExitOk;
}

}  // namespace

int RunGenerateCommand(const CommonArgs& common) {
  const absl::StatusOr<GenerateArgs> args = GenerateArgsFromFlags();
  if (!args.ok()) return Fail("generate", args.status());
  const absl::StatusOr<std::unique_ptr<EmberClient>> client = Connect(common);
  if (!client.ok()) return Fail("generate", client.status());
  return args->stream ? RunStreaming(common, **client, *args) : RunUnary(common, **client, *args);
}

}  // namespace ember::client
