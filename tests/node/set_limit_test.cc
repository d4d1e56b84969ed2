// `set` applies the 1 MiB slice limit to the compact JSON the daemon stores (docs/CLI.md), not to
// the raw text it was given: pretty-printed files and the newline editors add do not count.
#include <gtest/gtest.h>

#include <fstream>

#include "mesh/protocol_constants.h"
#include "node/exit_codes.h"
#include "node/json_util.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::lineCount;
using test::run;
using test::startDaemon;

void writeFile(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

// About 600 KB of compact JSON (300 arrays of 1000 ones) that pretty-prints to several MB.
Json wideValue() {
  Json inner = Json::array();
  for (int i = 0; i < 1000; ++i) inner.push_back(1);
  Json outer = Json::array();
  for (int i = 0; i < 300; ++i) outer.push_back(inner);
  return outer;
}

TEST(SetLimit, ThePrettyPrintedFormDoesNotCountOnlyTheCompactOne) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  const Json value = wideValue();
  const std::string pretty = value.dump(8) + "\n";
  ASSERT_GT(pretty.size(), 2 * kMaxSliceData);
  ASSERT_LT(dumpJson(value).size(), kMaxSliceData);
  writeFile(root.file("pretty.json"), pretty);
  auto r = run({"set", "cfg", "@" + root.file("pretty.json"), "--state-dir", d->dir}, root.path());
  ASSERT_EQ(r.code, 0) << r.err;
  auto got = run({"get", "cfg", d->device, "--state-dir", d->dir}, root.path());
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(got.out, dumpJson(value) + "\n");
}

TEST(SetLimit, ExactlyOneMebibyteOfCompactJsonPlusANewlineIsStoredOneByteMoreIsNot) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  const std::string exact = "\"" + std::string(kMaxSliceData - 2, 'x') + "\"";
  ASSERT_EQ(exact.size(), kMaxSliceData);
  writeFile(root.file("exact.json"), exact + "\n");
  auto r = run({"set", "cfg", "@" + root.file("exact.json"), "--state-dir", d->dir}, root.path());
  ASSERT_EQ(r.code, 0) << r.err;
  auto stdin_set = run({"set", "other", "@-", "--state-dir", d->dir}, root.path(), exact + "\n");
  EXPECT_EQ(stdin_set.code, 0) << stdin_set.err;

  // One byte over once compacted, however it is spelled: refused, with the compact size named.
  const std::string over = "[ \"" + std::string(kMaxSliceData - 5, 'y') + "\" , 1 ]\n";  // compact: +1
  writeFile(root.file("over.json"), over);
  auto refused = run({"set", "cfg", "@" + root.file("over.json"), "--state-dir", d->dir}, root.path());
  EXPECT_EQ(refused.code, kExitUsage);
  EXPECT_EQ(lineCount(refused.err), 1u) << refused.err;
  EXPECT_NE(refused.err.find(std::to_string(kMaxSliceData + 1) + " bytes as compact JSON"), std::string::npos) << refused.err;
  auto kept = run({"get", "cfg", d->device, "--state-dir", d->dir}, root.path());
  EXPECT_EQ(kept.out, exact + "\n");
}

TEST(SetLimit, AFileTooLargeToReadIsRefusedWithoutParsingIt) {
  ScopedTempDir root;
  auto d = startDaemon(root.file("d"));
  ASSERT_TRUE(d);
  writeFile(root.file("huge.json"), std::string(16 * kMaxSliceData + 1, ' ') + "1");
  auto r = run({"set", "cfg", "@" + root.file("huge.json"), "--state-dir", d->dir}, root.path());
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(lineCount(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("is larger than 16777216 bytes"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace meshslice
