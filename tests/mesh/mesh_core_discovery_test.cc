// MeshCore and its discovery sources: the injectable FakeDiscovery (tests/support) and static
// peers given by name, resolved through FakeEnv's scripted resolver. In-memory transport.
#include <gtest/gtest.h>

#include <set>

#include "mesh/mesh_core.h"
#include "tests/support/fake_discovery.h"
#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::FakeDiscovery;
using test::MeshHarness;
using test::TestNode;

// A node listening on `address` (any text the in-memory network takes, e.g. "10.9.0.1:7000").
TestNode& addNodeAt(MeshHarness& h, const std::string& address, const LocalDevice& device,
                    MeshOptions options = {}) {
  auto n = std::make_unique<TestNode>();
  n->address = address;
  n->device = device;
  n->transport = std::make_unique<MemoryTransport>(h.net, address);
  options.listen_address = address;
  n->core = std::make_unique<MeshCore>(h.env, *n->transport, n->device, h.psk, options);
  n->core->addObserver(&n->events);
  EXPECT_TRUE(n->core->start().isOk());
  h.nodes.push_back(std::move(n));
  return *h.nodes.back();
}

TEST(MeshCoreDiscovery, AFoundAdvertIsDialedAndLinked) {
  FakeDiscovery fake;  // outlives the harness: the cores stop it first
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  a.core->addDiscovery(&fake);
  EXPECT_EQ(fake.starts, 1);
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  ASSERT_TRUE(h.allConnected());
  EXPECT_EQ(a.core->stats().links_dialed, 1u);
  EXPECT_EQ(b.core->stats().links_dialed, 0u) << "b knows nobody: a dialed";
}

TEST(MeshCoreDiscovery, AnAdvertWithOurOwnDeviceIdIsIgnored) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  a.core->addDiscovery(&fake);
  // Our own advert, looped back, even with another node's endpoint in it.
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("self", a.id().toString(), {"node1"})));
  h.env.advance(3 * kSeconds);
  EXPECT_EQ(a.core->stats().links_dialed, 0u);
  EXPECT_FALSE(a.core->isConnected(b.id()));
}

TEST(MeshCoreDiscovery, ASourceThatFailsToStartDeliversNothingAndIsNotRetried) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  fake.start_status = ioError("no usable interface");
  a.core->addDiscovery(&fake);
  EXPECT_EQ(fake.starts, 1);
  EXPECT_FALSE(fake.running());
  EXPECT_FALSE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  h.env.advance(10 * kSeconds);
  EXPECT_EQ(fake.starts, 1);
  EXPECT_EQ(a.core->stats().links_dialed, 0u);
  EXPECT_TRUE(a.core->peers().empty());
  // The core keeps working without it.
  a.core->addEndpoint("node1");
  ASSERT_TRUE(h.allConnected());
}

TEST(MeshCoreDiscovery, LostWhileTheLinkIsAliveKeepsTheLink) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  a.core->addDiscovery(&fake);
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  ASSERT_TRUE(h.allConnected());
  ASSERT_TRUE(fake.withdraw("b"));  // a goodbye over discovery, maybe spoofed
  h.env.advance(10 * kSeconds);
  EXPECT_TRUE(a.core->isConnected(b.id()));
  EXPECT_TRUE(b.core->isConnected(a.id()));
  EXPECT_TRUE(a.events.left.empty());
  EXPECT_TRUE(b.events.left.empty());
}

// A peer whose advert moves: the new endpoint is dialed, the old one no longer is. The proof
// that it is not: another device that takes over the old address is never linked (nobody
// else names it), while a dialer left behind would reach it within its 30 s backoff.
TEST(MeshCoreDiscovery, ChangedEndpointsAreFollowedAndTheOldOneIsNoLongerDialed) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  const LocalDevice moved_device = b.device;
  a.core->addDiscovery(&fake);
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  ASSERT_TRUE(h.allConnected());
  // b's process dies and comes back at another address, as after a DHCP change.
  h.crashNode(b);
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.events.leftCount(moved_device.id) == 1; }, 5 * kSeconds, kMillis));
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", moved_device.id.toString(), {"node1-moved"})));
  h.net.setRefusing("node1", false);
  TestNode& c = addNodeAt(h, "node1", test::makeDevice("c", 33));
  h.env.advance(60 * kSeconds);
  EXPECT_FALSE(a.core->isConnected(c.id())) << "the old endpoint is still dialed";
  TestNode& b2 = addNodeAt(h, "node1-moved", moved_device);
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.core->isConnected(b2.id()); }, 35 * kSeconds, kMillis));
  EXPECT_FALSE(a.core->isConnected(c.id()));
}

TEST(MeshCoreDiscovery, AnEndpointAddedByHandStaysDialedWhateverDiscoverySays) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  a.core->addDiscovery(&fake);
  a.core->addEndpoint("node1");
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"elsewhere"})));
  ASSERT_TRUE(h.allConnected());
  h.net.cutLinksOf("node1");
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.core->isConnected(b.id()); }, 5 * kSeconds, kMillis));
}

TEST(MeshCoreDiscovery, StaticPeerNamesAreResolvedAndAChangedAnswerIsFollowed) {
  MeshHarness h;
  h.env.setHostAnswer("peer.test", std::vector<std::string>{"10.9.0.1"});
  TestNode& b = addNodeAt(h, "10.9.0.1:7000", test::makeDevice("b", 21));
  const LocalDevice b_device = b.device;
  MeshOptions o;
  o.static_peers = {"peer.test:7000"};
  TestNode& a = addNodeAt(h, "10.9.0.2:7000", test::makeDevice("a", 22), o);
  ASSERT_TRUE(h.allConnected());
  EXPECT_EQ(h.env.hostLookups("peer.test"), 1u);
  // DNS now names another address; the peer is gone from the old one.
  h.env.setHostAnswer("peer.test", std::vector<std::string>{"10.9.0.3"});
  h.crashNode(b);
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.events.leftCount(b_device.id) == 1; }, 5 * kSeconds, kMillis));
  h.env.advance(61 * kSeconds);  // past the next re-resolution (every 60 s)
  EXPECT_EQ(h.env.hostLookups("peer.test"), 2u);
  // Another device takes over the old address: it is not dialed any more, so never linked.
  h.net.setRefusing("10.9.0.1:7000", false);
  TestNode& c = addNodeAt(h, "10.9.0.1:7000", test::makeDevice("c", 23));
  h.env.advance(60 * kSeconds);
  EXPECT_FALSE(a.core->isConnected(c.id())) << "10.9.0.1:7000 is still dialed";
  // The peer comes up where DNS says: linked within the dialer's backoff (at most 30 s).
  TestNode& b2 = addNodeAt(h, "10.9.0.3:7000", b_device);
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.core->isConnected(b2.id()); }, 31 * kSeconds, 100 * kMillis));
}

TEST(MeshCoreDiscovery, AStaticPeerNameThatDoesNotResolveIsRetriedAndNeverFatal) {
  MeshHarness h;  // "nowhere.invalid" has no answer: the scripted resolver says kNotFound
  TestNode& b = addNodeAt(h, "10.9.0.1:7000", test::makeDevice("b", 21));
  MeshOptions o;
  o.static_peers = {"nowhere.invalid:7000", "10.9.0.1:7000"};
  TestNode& a = addNodeAt(h, "10.9.0.2:7000", test::makeDevice("a", 22), o);
  ASSERT_TRUE(h.allConnected()) << "the numeric peer is dialed as before";
  h.env.advance(30 * kSeconds);
  EXPECT_GE(h.env.hostLookups("nowhere.invalid"), 4u) << "retried with backoff";
  EXPECT_LE(h.env.hostLookups("nowhere.invalid"), 8u) << "but not in a storm";
  EXPECT_TRUE(a.core->isConnected(b.id()));
}

// The in-memory transport, except that dials to `unreachable` fail at once, as a TCP connect
// does with no route to the host (an interface that went away).
class UnreachableTransport final : public Transport {
 public:
  explicit UnreachableTransport(MemoryTransport& inner) : inner_(inner) {}
  Result<std::string> listen(const std::string& address, AcceptFn on_accept) override {
    return inner_.listen(address, std::move(on_accept));
  }
  Status connect(const std::string& address, ConnectFn done) override {
    if (unreachable.count(address)) return ioError("connect to " + address + ": network unreachable");
    return inner_.connect(address, std::move(done));
  }
  void stop() override { inner_.stop(); }
  std::set<std::string> unreachable;

 private:
  MemoryTransport& inner_;
};

TEST(MeshCoreDiscovery, ADialThatFailsAtOnceIsRetriedWithBackoff) {
  MeshHarness h;
  TestNode& b = h.addNode();
  MemoryTransport memory(h.net, "node-a");
  UnreachableTransport transport(memory);
  transport.unreachable = {"node0"};
  MeshOptions o;
  o.listen_address = "node-a";
  MeshCore a(h.env, transport, test::makeDevice("a", 31), h.psk, o);
  ASSERT_TRUE(a.start().isOk());
  a.addEndpoint("node0");
  h.env.advance(3 * kSeconds);
  EXPECT_GE(a.stats().links_dialed, 3u) << "retried";
  EXPECT_LE(a.stats().links_dialed, 8u) << "with backoff, not in a loop";
  transport.unreachable.clear();  // the route is back
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.isConnected(b.id()); }, 10 * kSeconds, kMillis));
  a.stop();
  h.env.runPending();
}

TEST(MeshCoreDiscovery, ANewAdvertForAnEndpointInBackoffIsDialedAtOnce) {
  FakeDiscovery fake;
  MeshHarness h;
  TestNode& a = h.addNode();
  TestNode& b = h.addNode();
  const LocalDevice b_device = b.device;
  a.core->addDiscovery(&fake);
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b.id().toString(), {"node1"})));
  ASSERT_TRUE(h.allConnected());
  h.crashNode(b);
  h.env.advance(120 * kSeconds);  // refused redials: the backoff grows to its 30 s maximum
  ASSERT_TRUE(fake.withdraw("b"));
  h.net.setRefusing("node1", false);
  TestNode& b2 = addNodeAt(h, "node1", b_device);
  // b is back and advertises again: dialed now, not after the 15-30 s left of the backoff.
  ASSERT_TRUE(fake.announce(FakeDiscovery::advert("b", b_device.id.toString(), {"node1"})));
  ASSERT_TRUE(h.env.advanceUntil([&] { return a.core->isConnected(b2.id()); }, 1 * kSeconds, kMillis));
}

}  // namespace
}  // namespace meshslice
