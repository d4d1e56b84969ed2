// The daemon's stderr: every line carries an ISO 8601 UTC time; with --log-format json every line
// is one JSON object a log collector can parse.
#include <gtest/gtest.h>

#include <regex>
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

const std::regex kIsoTime(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

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
    EXPECT_TRUE(std::regex_match(line.substr(0, 24), kIsoTime)) << line;
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
    EXPECT_TRUE(std::regex_match((*j)["time"].get<std::string>(), kIsoTime)) << line;
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
