// `--interface` with several interfaces: the daemon listens on each selected interface's
// address (same port everywhere) and nowhere else. NETWORK RULE: everything runs inside a
// network namespace this test creates (veth pairs with 10.251.x addresses); needs root.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "tests/node/daemon_fixture.h"

namespace meshslice {
namespace {

using test::eventually;
using test::peerCount;
using test::rpcCall;
using test::run;
using test::startDaemonWithArgs;

// A network namespace with three veth interfaces that have addresses (v0 10.251.0.1,
// v1 10.251.1.1, v2 10.251.2.1) and lo up; deleted on destruction.
class TestNetns {
 public:
  TestNetns() : name_("ms-if-" + std::to_string(::getpid())), path_("/run/netns/" + name_) {
    if (::geteuid() != 0 || std::system("command -v ip >/dev/null 2>&1") != 0) return;
    std::string n = " -n " + name_ + " ";
    ok_ = sh("ip netns add " + name_) && sh("ip" + n + "link set lo up") &&
          sh("ip" + n + "link add v0 type veth peer name v1") && sh("ip" + n + "link add v2 type veth peer name v3") &&
          sh("ip" + n + "addr add 10.251.0.1/24 dev v0") && sh("ip" + n + "addr add 10.251.1.1/24 dev v1") &&
          sh("ip" + n + "addr add 10.251.2.1/24 dev v2");
    for (const char* dev : {"v0", "v1", "v2", "v3"}) ok_ = ok_ && sh("ip" + n + "link set " + dev + " up");
  }
  ~TestNetns() { sh("ip netns del " + name_ + " 2>/dev/null"); }
  bool ok() const { return ok_; }
  const char* path() const { return path_.c_str(); }
  // The local addresses of listening TCP sockets in the namespace.
  std::set<std::string> listeners() const {
    std::set<std::string> out;
    FILE* p = ::popen(("ip netns exec " + name_ + " ss -Hltn").c_str(), "r");
    if (!p) return out;
    char line[512];
    while (std::fgets(line, sizeof line, p)) {
      char state[32], local[128];
      unsigned rq, sq;
      if (std::sscanf(line, "%31s %u %u %127s", state, &rq, &sq, local) == 4) out.insert(local);
    }
    ::pclose(p);
    return out;
  }

 private:
  static bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null").c_str()) == 0; }
  std::string name_, path_;
  bool ok_ = false;
};

// In the forked child before exec: join the test's network namespace.
bool enterNetns(void* path) {
  int fd = ::open(static_cast<const char*>(path), O_RDONLY | O_CLOEXEC);
  return fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
}

TEST(DaemonInterfaces, SeveralInterfacesGetOneListenerEachOnOnePort) {
  TestNetns ns;
  if (!ns.ok()) GTEST_SKIP() << "needs root and `ip` to create a network namespace with veth interfaces";
  ScopedTempDir root;
  void* arg = const_cast<char*>(ns.path());
  auto a = startDaemonWithArgs(root.file("a"), {"--no-mdns", "--interface", "v0", "--interface", "v1"}, enterNetns, arg);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->listens.size(), 2u) << a->stderrText();
  const std::string port = a->listens[0].substr(a->listens[0].rfind(':') + 1);
  EXPECT_NE(port, "0");
  EXPECT_EQ(a->listens, (std::vector<std::string>{"10.251.0.1:" + port, "10.251.1.1:" + port}));
  std::set<std::string> on_port;
  for (const auto& l : ns.listeners())
    if (l.ends_with(":" + port)) on_port.insert(l);
  EXPECT_EQ(on_port, (std::set<std::string>{"10.251.0.1:" + port, "10.251.1.1:" + port}))
      << "nothing listens on v2, lo or the wildcard address";
  auto status = rpcCall(a->dir, "status");
  ASSERT_TRUE(status.isOk());
  EXPECT_EQ((*status)["listen"], a->listens[0]);
  EXPECT_EQ((*status)["listen_addresses"], Json(a->listens));

  // A peer reaches it through the second interface's listener.
  ASSERT_EQ(run({"mesh", "join", a->invite, "--state-dir", root.file("b")}, root.path()).code, 0);
  auto b = startDaemonWithArgs(root.file("b"), {"--no-mdns", "--listen", "127.0.0.1:0", "--peer", a->listens[1]},
                               enterNetns, arg);
  ASSERT_TRUE(b);
  EXPECT_TRUE(eventually([&] { return peerCount(a->dir) == 1 && peerCount(b->dir) == 1; }))
      << a->stderrText() << b->stderrText();

  // An interface without an IPv4 address is refused at start, with one line.
  auto bad = run({"up", "--state-dir", root.file("c"), "--no-mdns", "--interface", "v0", "--interface", "v3"},
                 root.path(), "", 20000, enterNetns, arg);
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_EQ(bad.err, "meshslice: interface v3 has no IPv4 address\n");
  for (auto* d : {b.get(), a.get()}) EXPECT_EQ(run({"down", "--state-dir", d->dir}, root.path()).code, 0);
}

}  // namespace
}  // namespace meshslice
