// End to end: real `meshslice` processes on 127.0.0.1 (no mDNS), driven through the CLI.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <csignal>

#include "node/exit_codes.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::RunningDaemon;
using test::startDaemon;

// Parses one line of `watch --json`; null if it is not JSON.
Json event(const std::string& line) {
  auto j = parseJson(line);
  return j ? *j : Json();
}

TEST(DaemonEndToEnd, ThreeDaemonsSyncASliceWatchItAndEvictAStoppedOne) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"), {"--name", "alpha"});
  ASSERT_TRUE(a);
  ASSERT_EQ(a->invite.rfind("msm1-", 0), 0u) << "a first start creates a mesh and prints its invite";
  for (const char* n : {"b", "c"}) ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", root.file(n)}, root.path()).code, 0);
  auto b = startDaemon(root.file("b"), {"--peer", a->listen});
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->invite.empty()) << "a joined mesh is not announced as new";
  auto c = startDaemon(root.file("c"), {"--peer", a->listen, "--peer", b->listen});
  ASSERT_TRUE(c);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 2 && peerCount(b->dir) == 2 && peerCount(c->dir) == 2; }))
      << "full mesh did not form: " << peerCount(a->dir) << " " << peerCount(b->dir) << " " << peerCount(c->dir)
      << "\n" << c->stderrText();

  test::Child watch({"watch", "--json", "--state-dir", c->dir}, root.file("watch.err"));
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(c->dir, "status");
    return s && (*s)["watchers"] == 1;
  }));

  auto set = run({"set", "sensors", R"({"temp": 21.5, "room": "kitchen"})", "--state-dir", a->dir}, root.path());
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_TRUE(eventually([&] {
    auto got = run({"get", "sensors", a->device, "--state-dir", b->dir}, root.path());
    return got.code == 0 && got.out == "{\"room\":\"kitchen\",\"temp\":21.5}\n";
  })) << "b never saw a's slice";

  auto updated = watch.readUntil([&](const std::string& l) {
    Json e = event(l);
    return e.value("type", "") == "slice_updated" && e.value("device", "") == a->device;
  });
  ASSERT_TRUE(updated) << "watch on c saw no slice_updated for a";
  Json e = event(*updated);
  EXPECT_EQ(e["store"], "sensors");
  EXPECT_EQ(e["value"]["temp"], 21.5);
  EXPECT_EQ(e["local"], false);

  auto stores = run({"stores", "--json", "--state-dir", c->dir}, root.path());
  EXPECT_NE(stores.out.find("\"store\":\"sensors\""), std::string::npos) << "c opened the store on first sight";

  a->child->signal(SIGTERM);
  EXPECT_EQ(a->child->wait(), 0) << a->stderrText();
  // c evicts a: a peer_left and the removal of a's slices, in either order.
  Json left, removed;
  watch.readUntil([&](const std::string& l) {
    Json e = event(l);
    if (e.value("device", "") == a->device && e.value("type", "") == "peer_left") left = e;
    if (e.value("device", "") == a->device && e.value("type", "") == "slice_removed") removed = e;
    return !left.is_null() && !removed.is_null();
  });
  ASSERT_FALSE(left.is_null()) << "c did not evict a";
  EXPECT_EQ(left["reason"], "goodbye");
  ASSERT_FALSE(removed.is_null()) << "c kept a's slice";
  EXPECT_EQ(removed["store"], "sensors");
  EXPECT_EQ(removed["reason"], "goodbye");
  EXPECT_TRUE(eventually([&] { return peerCount(b->dir) == 1; }));
  auto gone = run({"get", "sensors", a->device, "--state-dir", b->dir}, root.path());
  EXPECT_EQ(gone.code, kExitError);
  EXPECT_EQ(test::lineCount(gone.err), 1u) << gone.err;

  ASSERT_EQ(run({"down", "--state-dir", c->dir}, root.path()).code, 0);
  EXPECT_FALSE(DaemonLock::isHeld(c->dir)) << "down returns once the daemon exited";
  EXPECT_EQ(c->child->wait(), 0);
  watch.readRest();
  EXPECT_EQ(watch.wait(), 0) << "watch ends cleanly when its daemon stops";
  ASSERT_EQ(run({"down", "--state-dir", b->dir}, root.path()).code, 0);
  EXPECT_EQ(b->child->wait(), 0);
}

TEST(DaemonEndToEnd, TheLocalSliceSurvivesARestartAndVersionsKeepRising) {
  ScopedTempDir root;
  std::string dir = root.file("n");
  auto d = startDaemon(dir, {"--store", "settings"});
  ASSERT_TRUE(d);
  ASSERT_EQ(run({"set", "notes", "@-", "--state-dir", dir}, root.path(), R"(["milk", "eggs"])").code, 0);
  auto first = rpcCall(dir, "get", Json{{"store", "notes"}, {"device", d->device}});
  ASSERT_TRUE(first.isOk());
  uint64_t v1 = (*first)["slice"]["version"];
  auto stores = run({"stores", "--state-dir", dir}, root.path());
  EXPECT_NE(stores.out.find("settings"), std::string::npos) << "stores listed in the config exist at once";
  d->child->signal(SIGINT);
  ASSERT_EQ(d->child->wait(), 0);

  auto again = startDaemon(dir);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->device, d->device) << "the identity persists";
  auto got = run({"get", "notes", d->device, "--state-dir", dir}, root.path());
  EXPECT_EQ(got.out, "[\"milk\",\"eggs\"]\n") << got.err;
  auto set = run({"set", "notes", "[]", "--json", "--state-dir", dir}, root.path());
  ASSERT_EQ(set.code, 0);
  EXPECT_GT(event(set.out)["version"].get<uint64_t>(), v1);
  EXPECT_EQ(run({"down", "--state-dir", dir}, root.path()).code, 0);
}

TEST(DaemonEndToEnd, PublishedMessagesReachSubscribers) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1; }));
  test::Child sub({"subscribe", "chat", "--state-dir", b->dir}, root.file("sub.err"));
  // The subscription is registered some time after the child starts: publish until it shows.
  std::optional<std::string> got;
  ASSERT_TRUE(eventually([&] {
    auto p = run({"publish", "chat", "hello there", "--state-dir", a->dir}, root.path());
    EXPECT_EQ(p.code, 0);
    got = sub.readLine(100);
    return got.has_value();
  }));
  EXPECT_EQ(*got, "hello there");
  auto reached = run({"publish", "chat", "x", "--json", "--state-dir", a->dir}, root.path());
  EXPECT_NE(reached.out.find(b->device), std::string::npos);
}

TEST(DaemonEndToEnd, DaemonsFindEachOtherOverMdnsOnLoopbackOnly) {
  // --interface lo and a private port: no packet leaves the host. Listening follows the
  // interface (127.0.0.1) since no --listen is given.
  ScopedTempDir root;
  const std::string port = std::to_string(23000 + ::getpid() % 2000);
  std::vector<std::string> mdns = {"up", "--state-dir", "", "--interface", "lo", "--mdns-port", port};
  auto start = [&](const std::string& dir) {
    mdns[2] = dir;
    auto d = std::make_unique<RunningDaemon>();
    d->dir = dir;
    d->err_path = dir + ".err";
    d->child = std::make_unique<test::Child>(mdns, d->err_path);
    auto ready = d->child->readUntil([&](const std::string& l) {
      if (l.rfind("listen: ", 0) == 0) d->listen = l.substr(8);
      if (l.rfind("invite: ", 0) == 0) d->invite = l.substr(8);
      return l == "ready";
    });
    EXPECT_TRUE(ready) << d->stderrText();
    return d;
  };
  auto a = start(root.file("a"));
  EXPECT_EQ(a->listen.rfind("127.0.0.1:", 0), 0u) << a->listen;
  ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", root.file("b")}, root.path()).code, 0);
  auto b = start(root.file("b"));
  EXPECT_TRUE(eventually([&] { return peerCount(a->dir) == 1 && peerCount(b->dir) == 1; }))
      << a->stderrText() << b->stderrText();
  for (auto* d : {a.get(), b.get()}) d->child->signal(SIGTERM);
  EXPECT_EQ(a->child->wait(), 0);
  EXPECT_EQ(b->child->wait(), 0);
}

TEST(MeshCommands, IdInviteAndJoinManageTheStateDirectory) {
  ScopedTempDir root;
  std::string dir = root.file("s");
  auto id = run({"id", "--state-dir", dir}, root.path());
  ASSERT_EQ(id.code, 0);
  ASSERT_EQ(id.out.size(), DeviceId::kTextLength + 1);
  EXPECT_EQ(run({"id", "--state-dir", dir}, root.path()).out, id.out) << "the identity is created once";
  auto invite = run({"mesh", "invite", "--state-dir", dir}, root.path());
  ASSERT_EQ(invite.code, 0);
  EXPECT_EQ(invite.out.rfind("msm1-", 0), 0u);
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", dir}, root.path()).out, invite.out);
  EXPECT_NE(run({"mesh", "invite", "--grouped", "--state-dir", dir}, root.path()).out, invite.out);

  EXPECT_EQ(run({"mesh", "join", "msm1-nonsense", "--state-dir", dir}, root.path()).code, kExitUsage);
  std::string other = run({"mesh", "invite", "--state-dir", root.file("other")}, root.path()).out;
  other.pop_back();
  auto refused = run({"mesh", "join", other, "--state-dir", dir}, root.path());
  EXPECT_EQ(refused.code, kExitError);
  EXPECT_NE(refused.err.find("--force"), std::string::npos);
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", dir}, root.path()).out, invite.out) << "nothing was replaced";
  ASSERT_EQ(run({"mesh", "join", other, "--force", "--state-dir", dir}, root.path()).code, 0);
  EXPECT_EQ(run({"mesh", "invite", "--state-dir", dir}, root.path()).out, other + "\n");
  EXPECT_EQ(::access((dir + "/mesh.key.old").c_str(), F_OK), 0) << "the old mesh key is kept";
}

TEST(MeshCommands, JoinForceNeverLosesAnEarlierKey) {
  ScopedTempDir root;
  std::string dir = root.file("s");
  auto invite = [&](const std::string& d) {
    std::string i = run({"mesh", "invite", "--state-dir", d}, root.path()).out;
    if (!i.empty()) i.pop_back();
    return i;
  };
  const std::string first = invite(dir);
  const std::string key0 = test::readFile(dir + "/mesh.key");
  std::vector<std::string> keys = {key0};
  for (const char* other : {"m1", "m2", "m3"}) {
    auto joined = run({"mesh", "join", invite(root.file(other)), "--force", "--state-dir", dir}, root.path());
    ASSERT_EQ(joined.code, 0) << joined.err;
    keys.push_back(test::readFile(dir + "/mesh.key"));
    EXPECT_NE(keys.back(), keys[keys.size() - 2]);
  }
  // Every replaced key is kept, oldest first: mesh.key.old, .old.1, .old.2.
  EXPECT_EQ(test::readFile(dir + "/mesh.key.old"), keys[0]);
  EXPECT_EQ(test::readFile(dir + "/mesh.key.old.1"), keys[1]);
  EXPECT_EQ(test::readFile(dir + "/mesh.key.old.2"), keys[2]);
  EXPECT_NE(::access((dir + "/mesh.key.old.3").c_str(), F_OK), 0);
  struct stat st;
  ASSERT_EQ(::stat((dir + "/mesh.key.old.2").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Going back to the first mesh keeps the current key too.
  ASSERT_EQ(run({"mesh", "join", first, "--force", "--state-dir", dir}, root.path()).code, 0);
  EXPECT_EQ(test::readFile(dir + "/mesh.key"), key0);
  EXPECT_EQ(test::readFile(dir + "/mesh.key.old.3"), keys[3]);
}

TEST(MeshCommands, AllowAndRevokeEditTheListOfflineAndEvictAPeerLive) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1; }));

  auto revoke = run({"mesh", "revoke", b->device, "--state-dir", a->dir}, root.path());
  ASSERT_EQ(revoke.code, 0) << revoke.err;
  EXPECT_TRUE(eventually([&] { return peerCount(a->dir) == 0 && peerCount(b->dir) == 0; })) << "b was not evicted";
  std::string list = test::readFile(allowListPath(a->dir));
  EXPECT_EQ(list.find(b->device), std::string::npos);
  ASSERT_EQ(run({"mesh", "allow", b->device, "--state-dir", a->dir}, root.path()).code, 0);
  EXPECT_TRUE(eventually([&] { return peerCount(a->dir) == 1; })) << "b, allowed again, reconnects";
  EXPECT_NE(test::readFile(allowListPath(a->dir)).find(b->device), std::string::npos);

  // Offline: the CLI edits the file itself; revoking needs a list to take from.
  std::string c = root.file("c");
  auto no_list = run({"mesh", "revoke", b->device, "--state-dir", c}, root.path());
  EXPECT_EQ(no_list.code, kExitError);
  EXPECT_EQ(test::lineCount(no_list.err), 1u);
  ASSERT_EQ(run({"mesh", "allow", b->device, "--state-dir", c}, root.path()).code, 0);
  ASSERT_EQ(run({"mesh", "allow", a->device, "--state-dir", c}, root.path()).code, 0);
  ASSERT_EQ(run({"mesh", "revoke", b->device, "--state-dir", c}, root.path()).code, 0);
  auto saved = loadAllowList(c);
  ASSERT_TRUE(saved.isOk());
  EXPECT_EQ(**saved, (std::set<DeviceId>{DeviceId::parse(a->device).value()}));
  EXPECT_EQ(run({"mesh", "allow", "not-an-id", "--state-dir", c}, root.path()).code, kExitUsage);
}

}  // namespace
}  // namespace meshslice
