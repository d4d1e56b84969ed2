// `meshslice watch`: the initial snapshot, time stamps, names on peer_left and long values cut,
// against real daemons on 127.0.0.1 (no mDNS).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemon;

Json event(const std::string& line) {
  auto j = parseJson(line);
  return j ? *j : Json();
}

bool watching(const std::string& dir, int n = 1) {
  auto s = rpcCall(dir, "status");
  return s && (*s)["watchers"] == n;
}

TEST(DaemonWatch, SnapshotComesFirstThenTimeStampedEventsAndPeerLeftNamesThePeer) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--name", "alpha"});
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"), {"--name", "bee"});
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1; }));
  ASSERT_EQ(run({"set", "s", "1", "--state-dir", a->dir}, root.path()).code, 0);
  ASSERT_EQ(run({"set", "s", "2", "--state-dir", b->dir}, root.path()).code, 0);
  ASSERT_TRUE(eventually([&] {
    auto g = rpcCall(a->dir, "get", Json{{"store", "s"}});
    return g && (*g)["slices"].size() == 2;
  }));

  test::Child watch({"watch", "--snapshot", "--json", "--state-dir", a->dir}, root.file("watch.err"));
  auto first = watch.readLine();
  ASSERT_TRUE(first) << "no snapshot line";
  Json snap = event(*first);
  EXPECT_EQ(snap["type"], "snapshot");
  EXPECT_THAT(snap["at"].get<std::string>(), ::testing::MatchesRegex("20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}\\.[0-9]{3}Z"));
  ASSERT_EQ(snap["peers"].size(), 1u);
  EXPECT_EQ(snap["peers"][0]["name"], "bee");
  ASSERT_EQ(snap["slices"].size(), 2u);
  EXPECT_EQ(snap["slices"][0]["store"], "s");
  EXPECT_EQ(snap["slices"][0]["device"], a->device) << "the local slice first";

  ASSERT_EQ(run({"set", "s", "3", "--state-dir", b->dir}, root.path()).code, 0);
  auto updated = watch.readUntil([&](const std::string& l) { return event(l).value("type", "") == "slice_updated"; });
  ASSERT_TRUE(updated);
  EXPECT_EQ(event(*updated)["value"], 3) << "the first event after the snapshot is the next change";
  EXPECT_TRUE(event(*updated)["at"].is_string());

  ASSERT_EQ(run({"down", "--state-dir", b->dir}, root.path()).code, 0);
  auto left = watch.readUntil([&](const std::string& l) { return event(l).value("type", "") == "peer_left"; });
  ASSERT_TRUE(left);
  EXPECT_EQ(event(*left)["name"], "bee");
  EXPECT_EQ(event(*left)["reason"], "goodbye");
}

TEST(DaemonWatch, HumanLinesStartWithTheTimeAndCutLongValues) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  ASSERT_EQ(run({"set", "big", "\"" + std::string(300, 'x') + "\"", "--state-dir", a->dir}, root.path()).code, 0);
  test::Child watch({"watch", "--snapshot", "--state-dir", a->dir}, root.file("watch.err"));
  auto slice = watch.readUntil([](const std::string& l) { return l.find("slice ") != std::string::npos; });
  ASSERT_TRUE(slice);
  EXPECT_THAT(*slice, ::testing::MatchesRegex("[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}  slice +big  .*"));
  EXPECT_NE(slice->find("\"" + std::string(99, 'x') + "... (302 bytes)"), std::string::npos) << *slice;
  EXPECT_LT(slice->size(), 250u) << "time, store, device, version and 100 characters of value";
  auto end = watch.readUntil([](const std::string& l) { return l.find("(snapshot: 0 peer(s), 1 slice(s)") != std::string::npos; });
  ASSERT_TRUE(end) << ::testing::PrintToString(watch.seenLines());
  ASSERT_TRUE(eventually([&] { return watching(a->dir); }));
  ASSERT_EQ(run({"set", "big", "\"short\"", "--state-dir", a->dir}, root.path()).code, 0);
  auto live = watch.readUntil([](const std::string& l) { return l.find("\"short\"") != std::string::npos; });
  ASSERT_TRUE(live);
  EXPECT_THAT(*live, ::testing::MatchesRegex("[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}  slice +big  .* v[0-9]+  \"short\""));
}

}  // namespace
}  // namespace meshslice
