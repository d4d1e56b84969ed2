#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "base/env.h"

namespace meshslice {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kWarn};
std::atomic<LogFormat> g_format{LogFormat::kText};
std::mutex g_sink_mutex;
LogSink g_sink;  // guarded by g_sink_mutex
}  // namespace

const char* logLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

bool parseLogLevel(std::string_view text, LogLevel& out) {
  for (int i = 0; i <= static_cast<int>(LogLevel::kOff); ++i) {
    auto level = static_cast<LogLevel>(i);
    if (text == logLevelName(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

bool parseLogFormat(std::string_view text, LogFormat& out) {
  if (text == "text") out = LogFormat::kText;
  else if (text == "json") out = LogFormat::kJson;
  else return false;
  return true;
}

void setLogFormat(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }

namespace {

// ISO 8601 in UTC with milliseconds: 2026-12-07T16:52:44.123Z.
std::string isoTime(int64_t wall_ms) {
  int64_t secs = wall_ms >= 0 ? wall_ms / 1000 : (wall_ms - 999) / 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int the compiler cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(wall_ms - secs * 1000));
  return buf;
}

// A JSON string literal. Bytes >= 0x80 pass through (messages are UTF-8 text).
void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

std::string formatLogLine(LogFormat format, int64_t wall_ms, LogLevel level, std::string_view component,
                          std::string_view message) {
  std::string line;
  if (format == LogFormat::kJson) {
    line = "{\"time\":\"" + isoTime(wall_ms) + "\",\"level\":\"" + logLevelName(level) + "\",\"component\":";
    appendJsonString(line, component);
    line += ",\"message\":";
    appendJsonString(line, message);
    line += '}';
    return line;
  }
  char level_text[8];
  std::snprintf(level_text, sizeof level_text, "%-5s", logLevelName(level));
  line = isoTime(wall_ms) + " " + level_text + " [";
  line.append(component);
  line += "] ";
  line.append(message);
  return line;
}

void setLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel logLevel() { return g_level.load(std::memory_order_relaxed); }

void setLogSink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  g_sink = std::move(sink);
}

void logWrite(LogLevel level, std::string_view component, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  if (g_sink) {
    g_sink(level, component, message);
    return;
  }
  std::string line =
      formatLogLine(g_format.load(std::memory_order_relaxed), systemWallMillis(), level, component, message);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace meshslice
