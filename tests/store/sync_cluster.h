// Several nodes, each a MeshCore + StoreSyncAdapter + SyncedStores, over the in-memory
// transport and one FakeEnv (tests/support/mesh_harness.h): deterministic store-sync tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <msgpack.hpp>
#include <string>
#include <vector>

#include "store/store_sync_adapter.h"
#include "store/synced_store.h"
#include "tests/support/mesh_harness.h"

namespace meshslice::test {

struct Pos {
  int x = 0;
  int y = 0;
  std::string label;
  MSGPACK_DEFINE(x, y, label);
  friend bool operator==(const Pos&, const Pos&) = default;
};

// The i-th distinct position the tests write.
inline Pos pos(int i) { return Pos{i, -i, "p" + std::to_string(i)}; }
inline std::ostream& operator<<(std::ostream& os, const Pos& p) {
  return os << "Pos{" << p.x << "," << p.y << "," << p.label << "}";
}

using PosStore = SyncedStore<Pos>;

// Records a store's events.
struct StoreEvents {
  std::vector<PosStore::LocalChanged> local;
  std::vector<PosStore::PeerUpdated> updated;
  std::vector<PosStore::PeerRemoved> removed;
  ListenerHandle handle;
  void attach(PosStore& store) {
    handle = store.listen([this](const PosStore::Event& e) {
      if (auto* l = std::get_if<PosStore::LocalChanged>(&e)) local.push_back(*l);
      if (auto* u = std::get_if<PosStore::PeerUpdated>(&e)) updated.push_back(*u);
      if (auto* r = std::get_if<PosStore::PeerRemoved>(&e)) removed.push_back(*r);
    });
  }
};

struct SyncNode {
  TestNode* node = nullptr;
  std::map<std::string, std::unique_ptr<PosStore>> stores;
  std::map<std::string, StoreEvents> events;
  std::unique_ptr<StoreSyncAdapter> adapter;  // declared last: destroyed before the stores

  const DeviceId& id() const { return node->id(); }
  PosStore& store(const std::string& name = "pos") { return *stores.at(name); }
  MeshCore& core() { return *node->core; }
};

class SyncCluster {
 public:
  explicit SyncCluster(MeshOptions mesh = {}, AdapterOptions adapter = {})
      : mesh_options(std::move(mesh)), adapter_options(adapter) {}
  ~SyncCluster() {
    for (auto& n : nodes) n->adapter.reset();
  }

  // A node that dials every earlier node, with one PosStore per name.
  SyncNode& add(std::vector<std::string> store_names = {"pos"}, StoreOptions options = {}) {
    std::vector<std::string> dial;
    for (auto& n : h.nodes) dial.push_back(n->address);
    auto sn = std::make_unique<SyncNode>();
    sn->node = &h.addNode(mesh_options, dial);
    attach(*sn, store_names, std::move(options));
    nodes.push_back(std::move(sn));
    return *nodes.back();
  }

  void addStore(SyncNode& n, const std::string& name, StoreOptions options = {}) {
    if (!options.wall_clock) options.wall_clock = [env = &h.env] { return env->wallMillis(); };
    auto store = PosStore::open(name, n.id(), std::move(options));
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    n.stores[name] = std::move(store).value();
    n.events[name].attach(*n.stores[name]);
    ASSERT_TRUE(n.adapter->addStore(*n.stores[name]).isOk());
  }

  // Kills a node as kill -9 would (no goodbyes; its address refuses connections).
  void crash(SyncNode& n) {
    n.adapter.reset();
    h.crashNode(*n.node);
  }

  // Replaces a node's process: same identity and address, fresh core, adapter and stores, no
  // goodbyes, and it comes back before its peers' grace period ends, so they still hold its
  // old slices.
  void restart(SyncNode& n, std::vector<std::string> store_names = {"pos"}, StoreOptions options = {}) {
    n.adapter.reset();
    n.events.clear();
    n.stores.clear();
    h.restartCore(*n.node, mesh_options);
    attach(n, store_names, std::move(options));
  }

  bool allConnected(Micros limit = 5 * kSeconds) { return h.allConnected(limit); }

  // Every live node's store `name` holds exactly the written values of every live node.
  bool converged(const std::string& name = "pos") {
    std::map<DeviceId, Pos> expected;
    for (auto& n : nodes) {
      if (!n->adapter || !n->stores.count(name)) continue;
      if (auto v = n->store(name).get(n->id())) expected[n->id()] = *v;
    }
    for (auto& n : nodes) {
      if (!n->adapter || !n->stores.count(name)) continue;
      if (n->store(name).all() != expected) return false;
    }
    return true;
  }
  bool settle(const std::string& name = "pos", Micros limit = 2 * kSeconds) {
    return h.env.advanceUntil([&] { return converged(name); }, limit, kMillis);
  }

  MeshHarness h;
  MeshOptions mesh_options;
  AdapterOptions adapter_options;
  std::vector<std::unique_ptr<SyncNode>> nodes;

 private:
  void attach(SyncNode& n, const std::vector<std::string>& names, StoreOptions options) {
    n.adapter = std::make_unique<StoreSyncAdapter>(h.env, *n.node->core, adapter_options);
    for (const auto& name : names) addStore(n, name, options);
  }
};

}  // namespace meshslice::test
