// Store sync over real TCP on 127.0.0.1 (DESIGN.md testing level 3, in one process): three
// MeshNodes, each on its own loop thread with a StoreSyncAdapter, joined by static peers.
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "tests/store/sync_cluster.h"
#include "tests/support/waiter.h"

namespace meshslice {
namespace {

using test::Pos;
using test::PosStore;
using test::Waiter;

MeshSecret testSecret() {
  Key32 k;
  k.fill(0x3d);
  return MeshSecret::fromBytes(k);
}

// One node: its MeshNode, a store and the adapter that lives on the node's loop thread.
struct TcpSyncNode {
  std::unique_ptr<MeshNode> node;
  std::unique_ptr<PosStore> store;
  std::unique_ptr<StoreSyncAdapter> adapter;  // created and destroyed on the loop thread
  ListenerHandle listener;

  void start(Waiter& w, const std::string& name, std::vector<std::string> peers) {
    MeshNodeOptions o;
    o.mesh.static_peers = std::move(peers);  // listen_address defaults to 127.0.0.1:0
    node = std::make_unique<MeshNode>(Identity::generate(name), testSecret(), o);
    store = std::make_unique<PosStore>("pos", node->id());
    listener = store->listen([&w](const PosStore::Event&) { w.update([] {}); });  // wake the test
    ASSERT_TRUE(node->start().isOk());
    ASSERT_TRUE(node->call([this](MeshCore& core) {
      adapter = std::make_unique<StoreSyncAdapter>(node->env(), core);
      return adapter->addStore(*store);
    }).isOk());
  }
  void stop() {
    if (!node) return;
    node->call([this](MeshCore&) {
      adapter.reset();
      return 0;
    });
    node->stop();
  }
};

TEST(StoreSyncTcp, ThreeNodesOnLoopbackConvergeOnEachOthersLatestSlices) {
  Waiter w;
  std::vector<TcpSyncNode> nodes(3);
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    nodes[i].start(w, "tcp" + std::to_string(i), addresses);
    ASSERT_TRUE(nodes[i].node);
    addresses.push_back(nodes[i].node->listenAddress());
  }
  // Each node writes a run of values from the test thread (stores are thread-safe); only the
  // last of each must end up everywhere.
  constexpr int kWrites = 50;
  std::map<DeviceId, Pos> latest;
  for (int k = 1; k <= kWrites; ++k) {
    for (int i = 0; i < 3; ++i) {
      Pos p{i, k, "n" + std::to_string(i) + "-" + std::to_string(k)};
      ASSERT_TRUE(nodes[i].store->set(p).isOk());
      latest[nodes[i].node->id()] = p;
    }
  }
  auto converged = [&] {
    for (auto& n : nodes)
      if (n.store->all() != latest) return false;
    return true;
  };
  ASSERT_TRUE(w.waitFor(converged, 20000)) << "the nodes did not converge on each other's latest slices";
  std::map<DeviceId, uint64_t> owner_version;
  for (auto& n : nodes) owner_version[n.node->id()] = n.store->localSlice().version;
  for (auto& n : nodes) {
    auto all = n.store->all();
    ASSERT_EQ(all.size(), 3u);
    for (int i = 0; i < 3; ++i)
      EXPECT_EQ(all.at(nodes[i].node->id()), (Pos{i, kWrites, "n" + std::to_string(i) + "-" + std::to_string(kWrites)}));
    for (const auto& s : n.store->remoteSlices())
      EXPECT_EQ(s.version, owner_version.at(s.device_id)) << "each remote slice is at its owner's current version";
  }
  uint64_t spoofed = 0;
  for (auto& n : nodes) {
    n.node->call([&](MeshCore&) {
      spoofed += n.adapter->stats().slices_spoofed + n.adapter->stats().malformed;
      return 0;
    });
  }
  EXPECT_EQ(spoofed, 0u);
  for (auto& n : nodes) n.stop();
}

}  // namespace
}  // namespace meshslice
