#include "tools/soak/load_generator.h"

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/soak/expected_status.h"
#include "tools/soak/stream_runner.h"

namespace ember::soak {
namespace {

// A client's pause after an unexpected ending before its next request.
constexpr absl::Duration kBackoffAfterUnexpected = absl::Milliseconds(100);

}  // namespace

LoadGenerator::LoadGenerator(const client::EmberClient& client, LoadOptions options)
    : client_(client), options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  in_flight_.resize(static_cast<size_t>(options_.clients));
}

LoadGenerator::~LoadGenerator() { AbandonAndJoin(); }

void LoadGenerator::Start(absl::Time end) {
  {
    absl::MutexLock lock(&mu_);
    end_ = end;
    running_clients_ = options_.clients;
  }
  threads_.reserve(static_cast<size_t>(options_.clients));
  for (int i = 0; i < options_.clients; ++i) threads_.emplace_back([this, i] { RunClient(i); });
}

void LoadGenerator::RunClient(int index) {
  std::mt19937_64 rng(options_.seed + static_cast<uint64_t>(index));
  for (int64_t n = 0;; ++n) {
    auto handle = std::make_shared<client::CallHandle>();
    {
      absl::MutexLock lock(&mu_);
      if (abandoning_ || absl::Now() >= end_) break;
      ++started_;
      in_flight_[static_cast<size_t>(index)] = handle;
    }
    const RequestKind kind = options_.mix.Pick(rng());
    const PlannedRequest plan =
        PlanRequest(kind, options_.shape, rng,
                    absl::StrCat("soak-", index, "-", n, "-", RequestKindName(kind)));
    const StreamOutcome outcome = RunStream(client_, plan, handle, tokens_);
    {
      absl::MutexLock lock(&mu_);
      in_flight_[static_cast<size_t>(index)] = nullptr;
      if (abandoning_ && handle->cancelled()) {
        ++abandoned_;  // ended by us after the drain timeout, not by the server
      } else {
        ++ended_;
        tally_.Add(outcome);
      }
    }
    // A server that fails every call at once (gone, overloaded, refusing) would otherwise be
    // hammered in a tight loop; the failures are counted either way.
    if (!IsExpectedEnding(outcome.kind, outcome.code, outcome.finish_reason)) {
      absl::SleepFor(kBackoffAfterUnexpected);
    }
  }
  absl::MutexLock lock(&mu_);
  --running_clients_;
}

void LoadGenerator::EndNow() {
  absl::MutexLock lock(&mu_);
  end_ = std::min(end_, absl::Now());
}

bool LoadGenerator::WaitForIdle(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_clients_ == 0; };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

int64_t LoadGenerator::AbandonAndJoin() {
  {
    absl::MutexLock lock(&mu_);
    abandoning_ = true;
    for (const std::shared_ptr<client::CallHandle>& handle : in_flight_) {
      if (handle != nullptr) handle->Cancel();
    }
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  absl::MutexLock lock(&mu_);
  return abandoned_;
}

LoadProgress LoadGenerator::progress() const {
  LoadProgress p;
  p.tokens = tokens_.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  p.started = started_;
  p.ended = ended_ + abandoned_;
  return p;
}

SoakTally LoadGenerator::tally() const {
  absl::MutexLock lock(&mu_);
  return tally_;
}

}  // namespace ember::soak
