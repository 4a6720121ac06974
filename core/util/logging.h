// Minimal leveled logging to stderr (this Abseil has no absl/log). One line per message, prefixed
// with a UTC timestamp and the level, written with a single write(2) so concurrent lines do not
// interleave.
//
//   EMBER_LOG(INFO) << "loaded " << n << " tensors";
#ifndef EMBER_CORE_UTIL_LOGGING_H_
#define EMBER_CORE_UTIL_LOGGING_H_

#include <sstream>

namespace ember {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below this level are dropped. Default kInfo; EMBER_LOG_LEVEL=debug|info|warning|error
// in the environment overrides it at start-up.
void SetMinLogLevel(LogLevel level);
LogLevel MinLogLevel();

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage();
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  std::ostream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

// Turns the stream expression into void so both branches of EMBER_LOG's ternary agree.
struct LogVoidify {
  void operator&(std::ostream&) {}
};

}  // namespace ember

#define EMBER_LOG_LEVEL_DEBUG ::ember::LogLevel::kDebug
#define EMBER_LOG_LEVEL_INFO ::ember::LogLevel::kInfo
#define EMBER_LOG_LEVEL_WARNING ::ember::LogLevel::kWarning
#define EMBER_LOG_LEVEL_ERROR ::ember::LogLevel::kError

// The ternary (rather than an `if`) keeps `if (x) EMBER_LOG(INFO) << ...; else ...` unambiguous.
#define EMBER_LOG(level)                             \
  (EMBER_LOG_LEVEL_##level < ::ember::MinLogLevel()) \
      ? (void)0                                      \
      : ::ember::LogVoidify() & ::ember::LogMessage(EMBER_LOG_LEVEL_##level).stream()

#endif  // EMBER_CORE_UTIL_LOGGING_H_
