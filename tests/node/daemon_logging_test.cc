// The daemon's stderr: every line carries an ISO 8601 UTC time; with --log-format json every line
// is one JSON object a log collector can parse.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>

#include "node/json_util.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::run;
using test::startDaemon;

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Whether `s` is an ISO 8601 UTC time with milliseconds, "2026-12-07T17:18:11.123Z". (Not
// std::regex: it trips gcc's -Wmaybe-uninitialized in the ASan -O1 build.)
bool isIsoTime(const std::string& s) {
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";  // d: a digit; anything else: itself
  if (s.size() != shape.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (shape[i] == 'd' ? !std::isdigit(static_cast<unsigned char>(s[i])) : s[i] != shape[i]) return false;
  return true;
}

TEST(DaemonLogging, EveryTextLineStartsWithTheDateAndTime) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  ASSERT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
  ASSERT_EQ(d->child->wait(), 0);
  auto lines = linesOf(d->stderrText());
  ASSERT_GE(lines.size(), 3u);
  for (const auto& line : lines) {
    ASSERT_GT(line.size(), 25u) << line;
    EXPECT_TRUE(isIsoTime(line.substr(0, 24))) << line;
  }
}

TEST(DaemonLogging, JsonFormatWritesOneObjectPerLine) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"), {"--log-format", "json"});
  ASSERT_TRUE(d);
  ASSERT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
  ASSERT_EQ(d->child->wait(), 0);
  auto lines = linesOf(d->stderrText());
  ASSERT_GE(lines.size(), 3u);
  bool saw_stopped = false;
  for (const auto& line : lines) {
    auto j = parseJson(line, 4);
    ASSERT_TRUE(j) << line;
    EXPECT_TRUE(isIsoTime((*j)["time"].get<std::string>())) << line;
    EXPECT_TRUE((*j)["level"].is_string()) << line;
    EXPECT_TRUE((*j)["component"].is_string()) << line;
    if ((*j)["message"] == "stopped") saw_stopped = true;
  }
  EXPECT_TRUE(saw_stopped) << d->stderrText();

  auto bad = run({"up", "--log-format", "yaml", "--state-dir", root.file("e")}, root.path());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--log-format: unknown format 'yaml' (text, json)"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace meshslice
