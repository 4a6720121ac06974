// Faults in every phase of a request's life, against the real server. For each phase (waiting in
// the queue, prefilling a long prompt, decoding) and each fault (the client process SIGKILLed, the
// client cancelling, the call's deadline passing), several times:
//   - the request's KV blocks are back in the pool, and the queue empty, in the first snapshot the
//     engine publishes after it ended the request. The engine ends a request, frees its blocks and
//     publishes its snapshot in one loop iteration, so this is "within the step that processed
//     the fault"; the test waits on the engine's step counter and snapshots, never on wall time;
//   - the `cancelled` and `deadline` finish counters, and the RPC status counters, move by exactly
//     the number of faults of each kind.
// Phases are forced, not hoped for: the test-only step delay makes every step take >= 20 ms;
// "waiting" is a request behind a long one with max_running 1; "prefill" is a 200-token prompt
// with a 4-token step budget (50 steps); "decode" starts at the first generated token. Each
// fault is checked to have landed in its phase.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/server/fault_test_util.h"
#include "tests/server/server_test_fixture.h"
#include "tests/test_util/http_get.h"
#include "tests/test_util/temp_dir.h"

namespace ember::testing {
namespace {

enum class Phase { kWaiting, kPrefill, kDecode };
enum class Fault { kKilled, kCancelled, kDeadline };

constexpr absl::Duration kStepDelay = absl::Milliseconds(20);
constexpr int kRepeats = 4;          // per phase and fault
constexpr int kPrefillTokens = 200;  // 50 steps of 4 tokens
// The cancel has to travel from the client (or its dead socket) to the engine; steps run
// meanwhile. Loose: it only has to catch a fault that is noticed late (e.g. at the request's end).
constexpr int64_t kMaxStepsFaultToFree = 25;

const std::string kCancelled = "ember_requests_total{finish_reason=\"cancelled\"}";
const std::string kDeadline = "ember_requests_total{finish_reason=\"deadline\"}";
const std::string kRpcCancelled =
    "ember_rpcs_total{code=\"CANCELLED\",method=\"GenerateStream\",protocol=\"grpc\"}";
const std::string kRpcDeadline =
    "ember_rpcs_total{code=\"DEADLINE_EXCEEDED\",method=\"GenerateStream\",protocol=\"grpc\"}";
const std::string kGenerated = "ember_generated_tokens_total";
const std::string kAdmitted = "ember_queue_wait_seconds_count";  // observed for admitted requests

std::string PhaseName(Phase p) {
  return p == Phase::kWaiting ? "waiting" : p == Phase::kPrefill ? "prefill" : "decode";
}
std::string FaultName(Fault f) {
  return f == Fault::kKilled ? "killed" : f == Fault::kCancelled ? "cancelled" : "deadline";
}

// What the server holds apart from the faulted request (a blocker in the waiting phase).
struct Baseline {
  int64_t kv_blocks = 0;
  int64_t running = 0;
};

class PhaseFaultRunner {
 public:
  PhaseFaultRunner(ServerHarness& h, Phase phase) : h_(h), phase_(phase) {}

  // Runs kRepeats of `fault` against the current baseline.
  void Run(Fault fault, const Baseline& base) {
    for (int i = 0; i < kRepeats; ++i) {
      SCOPED_TRACE(absl::StrCat(PhaseName(phase_), " / ", FaultName(fault), " #", i));
      const int64_t steps = RunOne(fault, base);
      max_steps_ = std::max(max_steps_, steps);
      (fault == Fault::kDeadline ? deadlines_ : cancels_) += 1;
    }
  }

  // The counters moved by exactly the faults run; prints the figures.
  void ExpectCounters(double cancelled0, double deadline0, double rpc_cancelled0,
                      double rpc_deadline0) {
    EXPECT_EQ(Metric(kCancelled) - cancelled0, cancels_);
    EXPECT_EQ(Metric(kDeadline) - deadline0, deadlines_);
    // RPCs are counted when their reactor completes, just after the engine's final event.
    EXPECT_TRUE(WaitUntil([&] { return Metric(kRpcCancelled) - rpc_cancelled0 == cancels_; }))
        << Metric(kRpcCancelled) - rpc_cancelled0 << " vs " << cancels_;
    EXPECT_TRUE(WaitUntil([&] { return Metric(kRpcDeadline) - rpc_deadline0 == deadlines_; }))
        << Metric(kRpcDeadline) - rpc_deadline0 << " vs " << deadlines_;
    EXPECT_LE(max_steps_, kMaxStepsFaultToFree);
    ::testing::Test::RecordProperty("faults", cancels_ + deadlines_);
    ::testing::Test::RecordProperty("max_steps_fault_to_free", static_cast<int>(max_steps_));
    std::cout << "[phase " << PhaseName(phase_) << "] " << cancels_ << " cancelled/killed, "
              << deadlines_ << " deadline; at most " << max_steps_
              << " engine steps from fault to freed blocks\n";
  }

  // A series' value; 0 for a labelled series not yet created (prometheus-cpp adds it on first use).
  double Metric(const std::string& series) {
    const double v = MetricValue(h_.Metrics(), series);
    return std::isnan(v) ? 0 : v;
  }

 private:
  EngineSnapshot Snap() { return h_.server().engine().Snapshot(); }

  ember::v1::GenerateRequest Request() const {
    if (phase_ == Phase::kPrefill) {
      ember::v1::GenerateRequest r;
      for (int i = 0; i < kPrefillTokens; ++i) r.add_prompt_token_ids(3 + (i * 7) % 500);
      r.mutable_sampling()->set_temperature(0);
      r.set_max_new_tokens(8);
      r.set_ignore_eos(true);
      return r;
    }
    return GreedyRequest(0, 200);
  }

  // The phase has been reached (the victim is the only request besides `base`).
  bool InPhase(const Baseline& base, double generated0) {
    const EngineSnapshot s = Snap();
    switch (phase_) {
      case Phase::kWaiting:
        return s.waiting == 1;
      case Phase::kPrefill:  // admitted, two blocks filled, no token yet
        return s.running == base.running + 1 && s.kv_blocks_used >= base.kv_blocks + 2 &&
               Metric(kGenerated) == generated0;
      case Phase::kDecode:
        return Metric(kGenerated) > generated0;
    }
    return false;
  }

  // Back at the baseline: nothing of the victim left in the engine.
  static bool AtBaseline(const EngineSnapshot& s, const Baseline& base) {
    return s.kv_blocks_used == base.kv_blocks && s.running == base.running && s.waiting == 0;
  }

  // Returns the engine steps from `fault_step` to the snapshot that showed the victim freed.
  int64_t ExpectFreed(const std::string& counter, double before, const Baseline& base,
                      int64_t fault_step) {
    EXPECT_TRUE(WaitUntil([&] { return Metric(counter) > before; })) << counter;
    // The engine has ended the request. This snapshot is either the one published by the
    // iteration that ended it, or the one before; in the latter case the next is the former.
    EngineSnapshot s = Snap();
    if (!AtBaseline(s, base)) {
      const EngineSnapshot prev = s;
      EXPECT_TRUE(WaitUntil([&] {
        s = Snap();
        return s.steps != prev.steps || s.last_progress != prev.last_progress;
      }));
    }
    EXPECT_TRUE(AtBaseline(s, base))
        << "kv_blocks_used=" << s.kv_blocks_used << " running=" << s.running
        << " waiting=" << s.waiting << " (baseline " << base.kv_blocks << ", " << base.running
        << ")";
    // Prometheus is updated just before the snapshot, in the same iteration.
    EXPECT_EQ(Metric("ember_kv_cache_blocks_used"), base.kv_blocks);
    return s.steps - fault_step;
  }

  int64_t RunOne(Fault fault, const Baseline& base) {
    const double generated0 = Metric(kGenerated);
    const double admitted0 = Metric(kAdmitted);
    const std::string counter = fault == Fault::kDeadline ? kDeadline : kCancelled;
    const double counter0 = Metric(counter);
    int64_t steps = 0;
    if (fault == Fault::kKilled) {
      steps = RunKilled(base, generated0, counter, counter0);
    } else if (fault == Fault::kCancelled) {
      steps = RunCancelled(base, generated0, counter, counter0);
    } else {
      steps = RunDeadline(base, counter, counter0);
    }
    // The fault landed in its phase.
    const double generated = Metric(kGenerated) - generated0;
    const double admitted = Metric(kAdmitted) - admitted0;
    switch (phase_) {
      case Phase::kWaiting:
        EXPECT_EQ(admitted, 0) << "the victim was admitted: not a waiting-phase fault";
        break;
      case Phase::kPrefill:
        EXPECT_EQ(admitted, 1) << "the victim was never admitted: not a prefill fault";
        EXPECT_EQ(generated, 0) << "the victim generated tokens: not a prefill fault";
        break;
      case Phase::kDecode:
        EXPECT_GT(generated, 0) << "the victim generated nothing: not a decode fault";
        break;
    }
    return steps;
  }

  // A real client process: ember_cli streaming, SIGKILLed once the server shows the phase.
  int64_t RunKilled(const Baseline& base, double generated0, const std::string& counter,
                    double counter0) {
    ChildProcess cli({BinaryDir() + "/client/cli/ember_cli", "generate",
                      absl::StrCat("--target=127.0.0.1:", h_.server().grpc_port()),
                      "--prompt=" + CliPrompt(), "--max_new_tokens=200", "--temperature=0",
                      "--ignore_eos", "--stream"});
    EXPECT_TRUE(cli.started());
    EXPECT_TRUE(WaitUntil([&] { return InPhase(base, generated0); })) << "phase not reached";
    const int64_t fault_step = Snap().steps;
    EXPECT_TRUE(cli.Signal(SIGKILL));
    EXPECT_EQ(cli.Wait(), 128 + SIGKILL);
    return ExpectFreed(counter, counter0, base, fault_step);
  }

  int64_t RunCancelled(const Baseline& base, double generated0, const std::string& counter,
                       double counter0) {
    grpc::ClientContext context;
    auto reader = h_.stub().GenerateStream(&context, Request());
    EXPECT_TRUE(WaitUntil([&] { return InPhase(base, generated0); })) << "phase not reached";
    const int64_t fault_step = Snap().steps;
    context.TryCancel();
    ember::v1::GenerateStreamResponse m;
    while (reader->Read(&m)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::CANCELLED);
    return ExpectFreed(counter, counter0, base, fault_step);
  }

  // The deadline is set so it passes well inside the phase: waiting lasts as long as the blocker
  // (seconds), prefill >= 1 s from admission, decode >= 4 s from the first token.
  int64_t RunDeadline(const Baseline& base, const std::string& counter, double counter0) {
    const auto timeout = std::chrono::milliseconds(phase_ == Phase::kPrefill ? 500 : 300);
    const auto deadline = std::chrono::system_clock::now() + timeout;
    grpc::ClientContext context;
    context.set_deadline(deadline);
    std::atomic<int> tokens{0};
    grpc::Status status;
    std::thread client([&] {
      auto reader = h_.stub().GenerateStream(&context, Request());
      ember::v1::GenerateStreamResponse m;
      while (reader->Read(&m)) tokens += m.token_ids_size();
      status = reader->Finish();
    });
    absl::SleepFor(absl::FromChrono(deadline - std::chrono::system_clock::now()));
    const int64_t fault_step = Snap().steps;
    client.join();
    EXPECT_EQ(status.error_code(), grpc::DEADLINE_EXCEEDED) << status.error_message();
    return ExpectFreed(counter, counter0, base, fault_step);
  }

  // Text for ember_cli: long enough for a 50-step prefill in that phase.
  std::string CliPrompt() {
    if (phase_ != Phase::kPrefill) return "Once upon a time";
    if (!long_prompt_.empty()) return long_prompt_;
    std::string text = "Once upon a time";
    for (int words = 0; words < 1000; ++words) {
      grpc::ClientContext c;
      ember::v1::TokenizeRequest req;
      req.set_text(text);
      req.set_add_special_tokens(true);
      ember::v1::TokenizeResponse resp;
      EXPECT_TRUE(h_.stub().Tokenize(&c, req, &resp).ok());
      if (resp.token_ids_size() >= kPrefillTokens) break;
      absl::StrAppend(&text, " upon");
    }
    long_prompt_ = text;
    return text;
  }

  ServerHarness& h_;
  const Phase phase_;
  std::string long_prompt_;
  int cancels_ = 0, deadlines_ = 0;
  int64_t max_steps_ = 0;
};

void ExpectIdleAndReference(ServerHarness& h) {
  h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
  EXPECT_TRUE(WaitUntil([&] {
    const EngineSnapshot s = h.server().engine().Snapshot();
    return s.kv_blocks_used == 0 && s.running == 0 && s.waiting == 0;
  }));
  grpc::ClientContext c;
  ember::v1::GenerateResponse response;
  ASSERT_TRUE(h.stub().Generate(&c, GreedyRequest(1), &response).ok());
  EXPECT_EQ(std::vector<int32_t>(response.token_ids().begin(), response.token_ids().end()),
            ReferenceGreedy(1));
}

// A second request waits behind a long one (max_running 1). Blocks of 256 positions make every
// sequence hold exactly one block all its life, so the baseline (the blocker's) is constant.
TEST(ServerPhaseFaultTest, WaitingRequestKilledCancelledOrPastDeadline) {
  ServerOptions options = TestServerOptions();
  options.engine.max_running = 1;
  options.engine.block_size = 256;
  ServerHarness h(options);
  PhaseFaultRunner runner(h, Phase::kWaiting);
  const double c0 = runner.Metric(kCancelled), d0 = runner.Metric(kDeadline);
  const double rc0 = runner.Metric(kRpcCancelled), rd0 = runner.Metric(kRpcDeadline);
  for (Fault fault : {Fault::kKilled, Fault::kCancelled, Fault::kDeadline}) {
    // A fresh blocker per fault kind: >= 240 steps of 20 ms, longer than the trials need.
    h.server().engine().SetStepDelayForTesting(kStepDelay);
    grpc::ClientContext blocker_context;
    auto blocker = h.stub().GenerateStream(&blocker_context, GreedyRequest(0, 240));
    ember::v1::GenerateStreamResponse m;
    ASSERT_TRUE(blocker->Read(&m));
    std::vector<int32_t> tokens(m.token_ids().begin(), m.token_ids().end());
    runner.Run(fault, Baseline{1, 1});
    h.server().engine().SetStepDelayForTesting(absl::ZeroDuration());
    while (blocker->Read(&m))
      tokens.insert(tokens.end(), m.token_ids().begin(), m.token_ids().end());
    // The blocker was never disturbed: it completes, and its greedy output starts as the
    // reference's.
    ASSERT_TRUE(blocker->Finish().ok());
    ASSERT_EQ(tokens.size(), 240u);
    const std::vector<int32_t> reference = ReferenceGreedy(0);
    EXPECT_EQ(std::vector<int32_t>(tokens.begin(), tokens.begin() + reference.size()), reference);
  }
  runner.ExpectCounters(c0, d0, rc0, rd0);
  ExpectIdleAndReference(h);
}

ServerOptions ChunkedPrefillOptions() {
  ServerOptions options = TestServerOptions();
  options.engine.max_running = 4;
  options.engine.max_tokens_per_step = 4;  // a 200-token prompt takes 50 steps
  // Every run repeats the same prompt and must prefill all of it: no prefix cache.
  options.engine.prefix_cache = false;
  return options;
}

// Every fault, several times, on a request in `phase` of a server whose prompts prefill in chunks.
void RunEveryFaultIn(Phase phase) {
  ServerHarness h(ChunkedPrefillOptions());
  PhaseFaultRunner runner(h, phase);
  const double c0 = runner.Metric(kCancelled), d0 = runner.Metric(kDeadline);
  const double rc0 = runner.Metric(kRpcCancelled), rd0 = runner.Metric(kRpcDeadline);
  h.server().engine().SetStepDelayForTesting(kStepDelay);
  for (Fault fault : {Fault::kKilled, Fault::kCancelled, Fault::kDeadline}) {
    runner.Run(fault, Baseline{});
  }
  runner.ExpectCounters(c0, d0, rc0, rd0);
  ExpectIdleAndReference(h);
}

TEST(ServerPhaseFaultTest, PrefillingRequestKilledCancelledOrPastDeadline) {
  ASSERT_NO_FATAL_FAILURE(RunEveryFaultIn(Phase::kPrefill));
}

TEST(ServerPhaseFaultTest, DecodingRequestKilledCancelledOrPastDeadline) {
  ASSERT_NO_FATAL_FAILURE(RunEveryFaultIn(Phase::kDecode));
}

}  // namespace
}  // namespace ember::testing
