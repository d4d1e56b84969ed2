// SIGHUP on a running `meshslice up`: the daemon never dies of it, reloads what can change while
// it runs (log level, static peers, stores, allow.list), names what needs a restart, and keeps
// answering on the same control socket (node/config_reload.h).
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "node/config_reload.h"
#include "node/state_dir.h"
#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemon;
using test::startDaemonWithArgs;

void writeConfig(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

bool hasStore(const std::string& dir, const std::string& id) {
  auto r = rpcCall(dir, "stores");
  if (!r) return false;
  for (const auto& s : (*r)["stores"])
    if (s.value("store", "") == id) return true;
  return false;
}

TEST(ConfigReload, OnlyKeysThatCanChangeWhileRunningAreApplied) {
  DaemonConfig a;
  a.stores = {"one"};
  DaemonConfig b = a;
  b.log_level = LogLevel::kDebug;
  b.peers = {"127.0.0.1:7070"};
  b.stores = {"one", "two"};
  b.name = "renamed";
  b.http = "127.0.0.1:7071";
  ReloadPlan plan = planReload(a, b);
  EXPECT_TRUE(plan.log_level);
  EXPECT_FALSE(plan.log_format);
  EXPECT_TRUE(plan.peers);
  EXPECT_EQ(plan.new_stores, std::vector<std::string>{"two"});
  EXPECT_EQ(plan.needs_restart, (std::vector<std::string>{"name", "http"}));
  EXPECT_TRUE(planReload(a, a).needs_restart.empty());
}

TEST(DaemonReload, SighupReloadsTheConfigAndTheDaemonKeepsAnswering) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  const std::string dir = root.file("b");
  ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", dir}, root.path()).code, 0);
  const std::string conf = root.file("b.conf");
  writeConfig(conf, "name = bee\nlog-level = info\n");
  auto b = startDaemonWithArgs(dir, {"--config", conf, "--no-mdns", "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(b);
  EXPECT_EQ(peerCount(b->dir), 0u);
  struct stat before{};
  ASSERT_EQ(::stat(b->control.c_str(), &before), 0);

  // New static peer, new store, more logging, and a key that needs a restart.
  writeConfig(conf, "name = bee2\nlog-level = debug\npeer = " + a->listen + "\nstore = extra\n");
  b->child->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return peerCount(b->dir) == 1; })) << b->stderrText();
  EXPECT_TRUE(eventually([&] { return hasStore(b->dir, "extra"); }));
  EXPECT_TRUE(eventually([&] { return b->stderrText().find("not reloaded (restart to apply): name") != std::string::npos; }))
      << b->stderrText();
  EXPECT_TRUE(eventually([&] { return b->stderrText().find(" debug [") != std::string::npos; })) << "log level applied";
  EXPECT_EQ((*rpcCall(b->dir, "status"))["name"], "bee") << "the name applies at the next start";
  struct stat after{};
  ASSERT_EQ(::stat(b->control.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the same control socket";

  // allow.list written offline is applied: a is not on it, so it is evicted.
  ASSERT_TRUE(saveAllowList(dir, {DeviceId::parse(b->device).value()}).isOk());
  b->child->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] {
    auto s = rpcCall(b->dir, "status");
    return s && (*s)["allow_list"] == true && peerCount(b->dir) == 0;
  })) << b->stderrText();

  // A broken file changes nothing and kills nothing.
  writeConfig(conf, "no equals sign\n");
  b->child->signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return b->stderrText().find("reload failed, nothing changed") != std::string::npos; }))
      << b->stderrText();
  EXPECT_TRUE(hasStore(b->dir, "extra"));
  EXPECT_TRUE(rpcCall(b->dir, "status").isOk());

  ASSERT_EQ(run({"down", "--state-dir", b->dir}, root.path()).code, 0);
  EXPECT_EQ(b->child->wait(), 0);
}

// libuv restores SIGHUP's default action (terminate) when the daemon closes its handler at the
// start of the shutdown: hang-ups from then until exit must not kill it (exit 129) mid-goodbye.
TEST(DaemonReload, HangUpsDuringTheShutdownDoNotKillIt) {
  ScopedTempDir root;
  auto a = startDaemon(root.file("a"));
  ASSERT_TRUE(a);
  auto b = test::startJoined(*a, root.file("b"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually([&] { return peerCount(a->dir) == 1 && peerCount(b->dir) == 1; }));
  b->child->signal(SIGTERM);
  // A hang-up every 200 us until b has exited: bounded by 20,000 signals (~4 s and more).
  std::optional<int> code;
  for (int i = 0; i < 20000 && !(code = b->child->poll()); ++i) {
    b->child->signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!code) code = b->child->wait();
  EXPECT_EQ(*code, 0) << "129 is death by SIGHUP; stderr: " << b->stderrText();
  EXPECT_TRUE(eventually([&] { return peerCount(a->dir) == 0; }));
}

}  // namespace
}  // namespace meshslice
