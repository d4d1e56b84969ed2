// `meshslice rm STORE` on real daemons over 127.0.0.1 (no mDNS): a typo'd store does not live
// forever on every peer.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemon;

// The `stores` entry of `store` on the daemon of `dir` (null if it is not listed).
Json storeEntry(const std::string& dir, const std::string& store) {
  auto r = rpcCall(dir, "stores");
  if (!r) return Json();
  for (const auto& s : (*r)["stores"])
    if (s["store"] == store) return s;
  return Json();
}

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(DaemonLifecycle, ATypodStoreRemovedWithRmIsGoneOnThePeerToo) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1 && peerCount(b->dir) == 1; }));

  ASSERT_EQ(run({"set", "senosrs", R"({"temp": 21})", "--state-dir", a->dir}, root.path()).code, 0);
  ASSERT_TRUE(eventually([&] { return storeEntry(b->dir, "senosrs").is_object(); })) << "b never saw the typo";
  const std::string file = a->dir + "/stores/senosrs.slice";
  ASSERT_TRUE(fileExists(file));

  test::Child watch({"watch", "--json", "--state-dir", b->dir}, root.file("watch.err"));
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(b->dir, "status");
    return s && (*s)["watchers"] == 1;
  }));
  auto rm = run({"rm", "senosrs", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(rm.code, kExitOk) << rm.err;
  EXPECT_EQ(rm.out, "removed this device's slice of senosrs\n");
  EXPECT_FALSE(fileExists(file));
  EXPECT_TRUE(storeEntry(a->dir, "senosrs").is_null());
  EXPECT_TRUE(eventually([&] { return storeEntry(b->dir, "senosrs").is_null(); })) << "b still lists it";
  auto removed = watch.readUntil([&](const std::string& l) {
    auto e = parseJson(l);
    return e && (*e).value("type", "") == "slice_removed" && (*e).value("device", "") == a->device;
  });
  ASSERT_TRUE(removed) << "b's watch saw no slice_removed";
  EXPECT_EQ(parseJson(*removed).value()["reason"], "removed");
  auto got = run({"get", "senosrs", "--state-dir", b->dir}, root.path());
  EXPECT_EQ(got.code, kExitError);
  EXPECT_NE(got.err.find("no store 'senosrs'"), std::string::npos) << got.err;

  // Anti-entropy rounds later it has not come back on either side.
  auto again = run({"rm", "senosrs", "--state-dir", a->dir}, root.path());
  EXPECT_EQ(again.code, kExitError);
  EXPECT_NE(again.err.find("no store 'senosrs'"), std::string::npos) << again.err;
  auto bad = run({"rm", "bad store!", "--state-dir", a->dir}, root.path());
  EXPECT_EQ(bad.code, kExitUsage) << bad.err;
}

TEST(DaemonLifecycle, RemovingOurSliceOfASharedStoreKeepsTheOthers) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1; }));
  ASSERT_EQ(run({"set", "shared", "1", "--state-dir", a->dir}, root.path()).code, 0);
  ASSERT_EQ(run({"set", "shared", "2", "--state-dir", b->dir}, root.path()).code, 0);
  ASSERT_TRUE(eventually([&] { return storeEntry(a->dir, "shared").value("devices", 0) == 2 &&
                                      storeEntry(b->dir, "shared").value("devices", 0) == 2; }));
  auto rm = run({"delete", "shared", "--json", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(rm.code, kExitOk) << rm.err;
  auto j = parseJson(rm.out);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["other_devices"], 1);
  EXPECT_TRUE(eventually([&] { return storeEntry(b->dir, "shared").value("devices", 0) == 1; }));
  // a keeps the store open for b's slice, without its own.
  EXPECT_TRUE(eventually([&] {
    Json e = storeEntry(a->dir, "shared");
    return e.value("devices", 0) == 1 && e.value("local_version", 1) == 0;
  }));
  auto got = run({"get", "shared", b->device, "--state-dir", a->dir}, root.path());
  EXPECT_EQ(got.out, "2\n");
}

}  // namespace
}  // namespace meshslice
