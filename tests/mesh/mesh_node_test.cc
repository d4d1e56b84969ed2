#include "mesh/mesh_node.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "base/log.h"
#include "tests/support/loop_helpers.h"
#include "tests/support/waiter.h"

namespace meshslice {
namespace {

using test::Waiter;

// Records peer events from a node's loop thread.
struct Watcher : PeerObserver {
  explicit Watcher(Waiter& w) : waiter(w) {}
  void onPeerJoined(const PeerJoined& e) override { waiter.update([&] { joined.insert(e.peer.id); }); }
  void onPeerLeft(const PeerLeft& e) override { waiter.update([&] { left[e.id] = e.reason; }); }
  Waiter& waiter;
  std::set<DeviceId> joined;
  std::map<DeviceId, LeaveReason> left;
};

struct Node {
  std::unique_ptr<MeshNode> node;
  std::unique_ptr<Watcher> watcher;
};

MeshSecret testSecret() {
  Key32 k;
  k.fill(0x5c);
  return MeshSecret::fromBytes(k);
}

Node makeNode(Waiter& w, const std::string& name, std::vector<std::string> peers) {
  MeshNodeOptions o;
  o.mesh.static_peers = std::move(peers);
  Node n;
  n.node = std::make_unique<MeshNode>(Identity::generate(name), testSecret(), o);
  n.watcher = std::make_unique<Watcher>(w);
  n.node->addObserver(n.watcher.get());
  return n;
}

TEST(MeshNode, ThreeNodesOnRealTcpConnectExchangeMessagesAndSeeGoodbyes) {
  Waiter w;
  std::vector<Node> nodes;
  std::vector<std::string> addrs;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(makeNode(w, "n" + std::to_string(i), addrs));
    ASSERT_TRUE(nodes.back().node->start().isOk());
    addrs.push_back(nodes.back().node->listenAddress());
  }
  ASSERT_TRUE(w.waitFor([&] {
    for (auto& n : nodes)
      if (n.watcher->joined.size() != 2) return false;
    return true;
  })) << "full mesh did not form";
  auto peers = nodes[0].node->peers();
  ASSERT_EQ(peers.size(), 2u);
  for (const PeerInfo& p : peers) EXPECT_EQ(p.capabilities, (std::vector<std::string>{std::begin(kBuildCapabilities), std::end(kBuildCapabilities)}));

  std::vector<std::string> got;
  auto sub = nodes[2].node->subscribe("demo", [&](const BusMessageEvent& m) {
    w.update([&] { got.push_back(toString(m.payload)); });
  });
  ASSERT_TRUE(sub.isOk());
  for (int i = 0; i < 50; ++i) {
    auto r = nodes[0].node->publish("demo", asBytes("hello " + std::to_string(i)));
    ASSERT_TRUE(r.isOk());
    EXPECT_EQ(r->reached.size(), 2u);
  }
  ASSERT_TRUE(w.waitFor([&] { return got.size() == 50; }));
  EXPECT_EQ(got.front(), "hello 0");
  EXPECT_EQ(got.back(), "hello 49");

  DeviceId leaving = nodes[1].node->id();
  test::stopAndExpectCleanClose(*nodes[1].node);
  EXPECT_TRUE(nodes[1].node->stopped());
  ASSERT_TRUE(w.waitFor([&] { return nodes[0].watcher->left.count(leaving) && nodes[2].watcher->left.count(leaving); }));
  EXPECT_EQ(w.read([&] { return nodes[0].watcher->left[leaving]; }), LeaveReason::kGoodbye);
  sub.value().reset();  // loop-thread state: drop it while the loop still exists
  for (auto& n : nodes) test::stopAndExpectCleanClose(*n.node);
}

TEST(MeshNode, CallsAfterStopFailCleanly) {
  Waiter w;
  Node n = makeNode(w, "solo", {});
  EXPECT_EQ(n.node->closeStatus().code(), Code::kInvalidArgument) << "not stopped yet";
  ASSERT_TRUE(n.node->start().isOk());
  test::stopAndExpectCleanClose(*n.node);
  n.node->stop();  // idempotent
  EXPECT_TRUE(n.node->closeStatus().isOk());
  EXPECT_TRUE(n.node->peers().empty());
  EXPECT_EQ(n.node->publish("x", asBytes("y")).status().code(), Code::kClosed);
  EXPECT_EQ(n.node->start().code(), Code::kAlreadyExists);
}

TEST(MeshNode, StartFailsCleanlyOnABusyPort) {
  Waiter w;
  Node a = makeNode(w, "a", {});
  ASSERT_TRUE(a.node->start().isOk());
  MeshNodeOptions o;
  o.mesh.listen_address = a.node->listenAddress();
  MeshNode b(Identity::generate("b"), testSecret(), o);
  Status st = b.start();
  EXPECT_EQ(st.code(), Code::kIo) << st.toString();
  EXPECT_TRUE(b.stopped());
  EXPECT_TRUE(b.closeStatus().isOk()) << "a failed start leaves a cleanly closed loop";
  test::stopAndExpectCleanClose(b);
  test::stopAndExpectCleanClose(*a.node);
}

TEST(MeshNode, RunsOnTheHostApplicationsLoop) {
  EventLoop host;  // stands in for the application's own uv_loop_t
  {
    Waiter w;
    Node other = makeNode(w, "threaded", {});
    ASSERT_TRUE(other.node->start().isOk());
    MeshNodeOptions o;
    o.host_loop = host.uv();
    o.mesh.static_peers = {other.node->listenAddress()};
    MeshNode embedded(Identity::generate("embedded"), testSecret(), o);
    ASSERT_TRUE(embedded.start().isOk());
    bool joined = false;
    struct J : PeerObserver {
      bool* flag;
      void onPeerJoined(const PeerJoined&) override { *flag = true; }
    } j;
    j.flag = &joined;
    embedded.core().addObserver(&j);
    ASSERT_TRUE(test::runUntil(host, [&] { return joined; }));
    embedded.core().removeObserver(&j);
    embedded.stop();
    ASSERT_TRUE(test::runUntil(host, [&] { return embedded.stopped(); }));
    EXPECT_EQ(embedded.closeStatus().code(), Code::kInvalidArgument) << "the host checks its own loop";
    DeviceId gone = embedded.id();
    ASSERT_TRUE(w.waitFor([&] { return other.watcher->left.count(gone) > 0; }));
    test::stopAndExpectCleanClose(*other.node);
  }
  test::expectCleanClose(host);
}

// On a host loop the node cannot block SIGPIPE for "its" thread: start() switches a default
// disposition to SIG_IGN (unless told not to) and leaves a host's own handler alone.
TEST(MeshNode, HostLoopNodeIgnoresDefaultSigpipeOnlyWhenAllowed) {
  struct sigaction saved {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &saved), 0);
  auto disposition = [] {
    struct sigaction now {};
    sigaction(SIGPIPE, nullptr, &now);
    return now.sa_handler;
  };
  auto setDisposition = [](void (*handler)(int)) {
    struct sigaction a {};
    a.sa_handler = handler;
    sigemptyset(&a.sa_mask);
    sigaction(SIGPIPE, &a, nullptr);
  };
  static auto host_handler = +[](int) {};
  struct Case {
    void (*before)(int);
    bool ignore;
    void (*after)(int);
  };
  for (Case c : {Case{SIG_DFL, true, SIG_IGN}, Case{SIG_DFL, false, SIG_DFL},
                 Case{host_handler, true, host_handler}}) {
    setDisposition(c.before);
    EventLoop host;
    {
      MeshNodeOptions o;
      o.host_loop = host.uv();
      o.ignore_sigpipe = c.ignore;
      MeshNode node(Identity::generate("embedded"), testSecret(), o);
      ASSERT_TRUE(node.start().isOk());
      EXPECT_EQ(disposition(), c.after);
      node.stop();
      ASSERT_TRUE(test::runUntil(host, [&] { return node.stopped(); }));
    }
    test::expectCleanClose(host);
  }
  ASSERT_EQ(sigaction(SIGPIPE, &saved, nullptr), 0);
}

TEST(MeshNode, DiscoversPeersOverMdnsOnLoopback) {
  // Loopback only, on a private port: each mDNS socket is bound to lo (SO_BINDTODEVICE, a
  // configured interface, so binding must succeed), joins the group on lo's index, and sends
  // multicast through IP_MULTICAST_IF with an ip_mreqn naming lo's index and source address
  // 127.0.0.1 (tests/mesh/mdns_socket_test.cc reads both back). No packet leaves the host.
  Waiter w;
  const uint16_t port = static_cast<uint16_t>(21000 + getpid() % 2000);
  std::vector<Node> nodes;
  for (int i = 0; i < 2; ++i) {
    MeshNodeOptions o;
    o.mdns = true;
    o.mdns_options.interfaces = {"lo"};
    o.mdns_options.port = port;
    o.mdns_options.ipv6 = false;
    Node n;
    n.node = std::make_unique<MeshNode>(Identity::generate("m" + std::to_string(i)), testSecret(), o);
    n.watcher = std::make_unique<Watcher>(w);
    n.node->addObserver(n.watcher.get());
    ASSERT_TRUE(n.node->start().isOk());
    nodes.push_back(std::move(n));
  }
  ASSERT_TRUE(w.waitFor([&] { return nodes[0].watcher->joined.size() == 1 && nodes[1].watcher->joined.size() == 1; }));
  for (auto& n : nodes) test::stopAndExpectCleanClose(*n.node);
}

}  // namespace
}  // namespace meshslice
