// Levelled logging with a replaceable sink. Default sink: one line per record on stderr, in
// text ("2026-12-07T16:52:44.123Z info  [daemon] ready") or JSON lines for log collectors
// ({"time":"...","level":"info","component":"daemon","message":"ready"}); times are UTC.
// Thread-safe. Embedders route records into their own logger with setLogSink().
#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace meshslice {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

const char* logLevelName(LogLevel level);
// Accepts trace|debug|info|warn|error|off. Returns false on anything else.
bool parseLogLevel(std::string_view text, LogLevel& out);

enum class LogFormat { kText, kJson };
// Accepts text|json.
bool parseLogFormat(std::string_view text, LogFormat& out);
// The default sink's format (kText until set).
void setLogFormat(LogFormat format);
// One line of the default sink, without the newline; `wall_ms` is Unix time in milliseconds.
std::string formatLogLine(LogFormat format, int64_t wall_ms, LogLevel level, std::string_view component,
                          std::string_view message);

void setLogLevel(LogLevel level);
LogLevel logLevel();
using LogSink = std::function<void(LogLevel, std::string_view component, std::string_view message)>;
// nullptr restores the stderr sink.
void setLogSink(LogSink sink);

void logWrite(LogLevel level, std::string_view component, const std::string& message);

namespace detail {
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view component) : level_(level), component_(component) {}
  ~LogLine() { logWrite(level_, component_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::string_view component_;
  std::ostringstream stream_;
};
// Lets MS_LOG be one expression, so it is safe under an unbraced if/else.
struct Voidify {
  void operator&(std::ostream&) {}
};
}  // namespace detail

}  // namespace meshslice

// MS_LOG(kInfo, "peer") << "joined " << id;  The stream is not evaluated below the level.
#define MS_LOG(level, component)                                         \
  (::meshslice::LogLevel::level < ::meshslice::logLevel())                \
      ? (void)0                                                          \
      : ::meshslice::detail::Voidify() &                                 \
            ::meshslice::detail::LogLine(::meshslice::LogLevel::level, component).stream()
