// MeshOptions::extra_listen_addresses over MultiListenTransport: one listener per address,
// all on the first listener's port, each accepting links; a failed extra listener fails the
// start and leaves nothing listening.
#include "transport/multi_listen_transport.h"

#include <gtest/gtest.h>

#include "tests/support/mesh_harness.h"

namespace meshslice {
namespace {

using test::MeshHarness;

struct MultiNode {
  MultiNode(MeshHarness& h, MeshOptions o)
      : transport([&h] { return std::make_unique<MemoryTransport>(h.net, "multi"); }),
        core(h.env, transport, test::makeDevice("multi", 77), h.psk, std::move(o)) {}
  MultiListenTransport transport;
  MeshCore core;
};

TEST(MultiListen, EveryListenAddressAcceptsLinksOnTheFirstOnesPort) {
  MeshHarness h;
  MeshOptions o;
  o.listen_address = "multi-a:5";
  o.extra_listen_addresses = {"multi-b:0", "multi-c:0"};  // port 0: the first listener's
  MultiNode m(h, o);
  auto bound = m.core.start();
  ASSERT_TRUE(bound.isOk()) << bound.status().toString();
  EXPECT_EQ(*bound, "multi-a:5");
  EXPECT_EQ(m.core.listenAddresses(), (std::vector<std::string>{"multi-a:5", "multi-b:5", "multi-c:5"}));
  EXPECT_EQ(m.transport.listenerCount(), 3u);
  // The dialers' static peers look like host:port, so they go through StaticDiscovery: the
  // fake resolver maps each in-memory host name to itself.
  h.env.setHostAnswer("multi-b", std::vector<std::string>{"multi-b"});
  h.env.setHostAnswer("multi-c", std::vector<std::string>{"multi-c"});
  auto& x = h.addNode({}, {"multi-b:5"});
  auto& y = h.addNode({}, {"multi-c:5"});
  ASSERT_TRUE(h.env.advanceUntil([&] { return m.core.isConnected(x.id()) && m.core.isConnected(y.id()); }, 5 * kSeconds));
  EXPECT_EQ(m.core.stats().links_accepted, 2u);
  m.core.stop();
  h.env.advance(2 * kSeconds);
  EXPECT_TRUE(m.core.drained());
  EXPECT_EQ(m.transport.listenerCount(), 0u);
}

TEST(MultiListen, AnExtraAddressThatIsTakenFailsTheStartAndReleasesTheOthers) {
  MeshHarness h;
  MemoryTransport squatter(h.net, "squatter");
  ASSERT_TRUE(squatter.listen("multi-b:5", [](std::unique_ptr<Link>) {}).isOk());
  MeshOptions o;
  o.listen_address = "multi-a:5";
  o.extra_listen_addresses = {"multi-b:0"};
  MultiNode m(h, o);
  auto bound = m.core.start();
  ASSERT_FALSE(bound.isOk());
  EXPECT_EQ(bound.status().code(), Code::kAlreadyExists) << bound.status().toString();
  EXPECT_EQ(m.transport.listenerCount(), 0u);
  // "multi-a:5" is free again: another transport may listen there.
  MemoryTransport other(h.net, "other");
  EXPECT_TRUE(other.listen("multi-a:5", [](std::unique_ptr<Link>) {}).isOk());
}

}  // namespace
}  // namespace meshslice
