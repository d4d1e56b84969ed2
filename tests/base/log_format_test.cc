// The default log sink's line formats: ISO 8601 UTC times on every line, and JSON lines that a
// log collector parses whatever the message holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/log.h"

namespace meshslice {
namespace {

constexpr int64_t kSomeTimeMs = 1796662364123;  // 2026-12-07T16:52:44.123Z

TEST(LogFormat, TextLinesStartWithAnIso8601UtcTime) {
  EXPECT_EQ(formatLogLine(LogFormat::kText, kSomeTimeMs, LogLevel::kInfo, "daemon", "ready"),
            "2026-12-07T16:52:44.123Z info  [daemon] ready");
  EXPECT_EQ(formatLogLine(LogFormat::kText, 0, LogLevel::kError, "mesh", "x"), "1970-01-01T00:00:00.000Z error [mesh] x");
}

TEST(LogFormat, JsonLinesParseAndKeepEveryByteOfTheMessage) {
  const std::string message = "quote \" backslash \\ newline \n tab \t bell \x07 utf-8 \xc3\xa9";
  std::string line = formatLogLine(LogFormat::kJson, kSomeTimeMs, LogLevel::kWarn, "mesh", message);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one record, one line";
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-12-07T16:52:44.123Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["component"], "mesh");
  EXPECT_EQ(j["message"], message);
}

TEST(LogFormat, ParsesTheTwoFormatNames) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(parseLogFormat("json", f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(parseLogFormat("text", f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(parseLogFormat("JSON", f));
  EXPECT_FALSE(parseLogFormat("", f));
}

}  // namespace
}  // namespace meshslice
