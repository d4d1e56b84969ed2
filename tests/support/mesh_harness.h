// Several MeshCores in one process over the in-memory transport, driven by one FakeEnv:
// deterministic multi-node tests (DESIGN.md testing level 2). Header-only so that only the
// test binaries of mesh/ and above depend on the mesh layer.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/fake_env.h"
#include "mesh/identity.h"
#include "mesh/mesh_core.h"
#include "transport/memory_transport.h"

namespace meshslice::test {

struct EventLog : PeerObserver {
  std::vector<PeerJoined> joined;
  std::vector<PeerUpdated> updated;
  std::vector<PeerLeft> left;
  int linked = 0;
  void onPeerJoined(const PeerJoined& e) override { joined.push_back(e); }
  void onPeerUpdated(const PeerUpdated& e) override { updated.push_back(e); }
  void onPeerLeft(const PeerLeft& e) override { left.push_back(e); }
  void onPeerLinked(const DeviceId&) override { ++linked; }
  int leftCount(const DeviceId& id) const {
    int n = 0;
    for (auto& e : left) n += e.id == id;
    return n;
  }
};

inline LocalDevice makeDevice(const std::string& name, uint8_t seed) {
  Key32 priv;
  priv.fill(seed);
  return LocalDevice::of(Identity::fromPrivateKey(priv, name));
}

struct TestNode {
  std::string address;
  LocalDevice device;
  std::unique_ptr<MemoryTransport> transport;
  std::unique_ptr<MeshCore> core;
  EventLog events;
  const DeviceId& id() const { return device.id; }
};

class MeshHarness {
 public:
  explicit MeshHarness(uint64_t seed = 1) : env(seed) { psk.fill(0x42); }
  ~MeshHarness() {
    for (auto& n : nodes) stopNode(*n);
    env.runPending();
    nodes.clear();
    env.runPending();
  }

  // Creates node `index` with address "nodeN"; it dials every address in `dial`.
  TestNode& addNode(MeshOptions options = {}, std::vector<std::string> dial = {}, Key32* node_psk = nullptr) {
    auto n = std::make_unique<TestNode>();
    size_t index = nodes.size();
    n->address = "node" + std::to_string(index);
    n->device = makeDevice(n->address, static_cast<uint8_t>(index + 1));
    n->transport = std::make_unique<MemoryTransport>(net, n->address);
    options.listen_address = n->address;
    options.static_peers = std::move(dial);
    n->core = std::make_unique<MeshCore>(env, *n->transport, n->device, node_psk ? *node_psk : psk, options);
    n->core->addObserver(&n->events);
    EXPECT_TRUE(n->core->start().isOk());
    nodes.push_back(std::move(n));
    return *nodes.back();
  }

  // A full mesh of `count` nodes where each dials all earlier ones.
  void addFullMesh(size_t count, MeshOptions options = {}) {
    for (size_t i = 0; i < count; ++i) {
      std::vector<std::string> dial;
      for (size_t j = 0; j < nodes.size(); ++j) dial.push_back(nodes[j]->address);
      addNode(options, dial);
    }
  }

  bool allConnected(Micros limit = 5 * kSeconds) {
    return env.advanceUntil([&] {
      for (auto& n : nodes) {
        if (!n->core) continue;
        for (auto& m : nodes)
          if (m != n && m->core && !n->core->isConnected(m->id())) return false;
      }
      return true;
    }, limit);
  }

  void stopNode(TestNode& n) {
    if (!n.core) return;
    n.core->stop();
    env.runPending();
  }
  // A new process in the node's place: same identity and address, a fresh transport and core
  // (options `o`, dialing every other live node), no goodbyes. Its peers still hold what it
  // sent until their grace period ends.
  void restartCore(TestNode& t, MeshOptions o) {
    t.core.reset();
    t.transport.reset();
    t.transport = std::make_unique<MemoryTransport>(net, t.address);
    o.listen_address = t.address;
    for (auto& other : nodes)
      if (other.get() != &t && other->core) o.static_peers.push_back(other->address);
    t.core = std::make_unique<MeshCore>(env, *t.transport, t.device, psk, o);
    t.core->addObserver(&t.events);
    EXPECT_TRUE(t.core->start().isOk());
  }
  // Destroys a node without goodbyes, as kill -9 would: its links close (FIN) and its address
  // refuses connections.
  void crashNode(TestNode& n) {
    net.setRefusing(n.address, true);
    n.core.reset();
    n.transport.reset();
  }
  // Makes a node vanish silently: the network drops its frames and refuses nothing (a host
  // that lost power): only liveness can notice.
  void silenceNode(TestNode& n) {
    for (MemoryLink* l : net.links())
      if (l->localAddress().rfind(n.address, 0) == 0) l->setReadPaused(true);
    for (MemoryLink* l : net.links())
      if (l->remoteAddress().rfind(n.address, 0) == 0) l->setReadPaused(true);
  }

  FakeEnv env;
  MemoryNetwork net{env};
  Key32 psk;
  std::vector<std::unique_ptr<TestNode>> nodes;
};

}  // namespace meshslice::test
