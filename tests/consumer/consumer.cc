// A C++ application using an installed meshslice: two nodes on 127.0.0.1 share a store value
// and a bus message, then one leaves and the other sees its value go. Exits 0 on success.
// Every wait is bounded.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"

using namespace meshslice;

namespace {

struct Greeting {
  std::string text;
  MSGPACK_DEFINE(text);
};

struct Shared {
  std::mutex mutex;
  std::condition_variable cv;
  std::string value_seen, message_seen;
  bool removed = false;

  template <typename Pred>
  bool waitFor(Pred pred) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(10), pred);
  }
  template <typename F>
  void update(F change) {
    {
      std::lock_guard lock(mutex);
      change();
    }
    cv.notify_all();
  }
};

// One node with a synced "greeting" store; the adapter lives on the node's loop thread.
struct Device {
  MeshNode node;
  SyncedStore<Greeting> store;
  std::unique_ptr<StoreSyncAdapter> sync;

  Device(const char* name, const MeshSecret& secret, std::vector<std::string> peers)
      : node(Identity::generate(name), secret, options(std::move(peers))), store("greeting", node.id()) {}
  static MeshNodeOptions options(std::vector<std::string> peers) {
    MeshNodeOptions o;
    o.mesh.static_peers = std::move(peers);
    return o;
  }
  bool start() {
    if (!node.start().isOk()) return false;
    return node.call([this](MeshCore& core) {
      sync = std::make_unique<StoreSyncAdapter>(node.env(), core);
      return sync->addStore(store);
    }).isOk();
  }
  void stop() {
    node.call([this](MeshCore&) {
      sync.reset();
      return Status::ok();
    }).ignore();
    node.stop();
  }
};

int check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  return ok ? 0 : 1;
}

}  // namespace

int main() {
  setLogLevel(LogLevel::kError);
  MeshSecret secret = MeshSecret::generate();
  Shared shared;
  Device a("consumer-a", secret, {});
  if (check(a.start(), "node a starts on 127.0.0.1")) return 1;
  auto events = a.store.listen([&](const SyncedStore<Greeting>::Event& e) {
    if (auto* u = std::get_if<SyncedStore<Greeting>::PeerUpdated>(&e)) {
      shared.update([&] { shared.value_seen = u->value.text; });
    } else if (std::holds_alternative<SyncedStore<Greeting>::PeerRemoved>(e)) {
      shared.update([&] { shared.removed = true; });
    }
  });
  auto sub = a.node.subscribe("hello", [&](const BusMessageEvent& m) {
    shared.update([&] { shared.message_seen = toString(m.payload); });
  });
  if (check(sub.isOk(), "subscribe")) return 1;

  Device b("consumer-b", secret, {a.node.listenAddress()});
  if (check(b.start(), "node b starts and dials a")) return 1;
  if (check(b.store.set({"hi from b"}).isOk(), "b sets its value")) return 1;
  if (check(shared.waitFor([&] { return shared.value_seen == "hi from b"; }), "a sees b's value")) return 1;
  if (check(b.node.publish("hello", asBytes("ping")).isOk(), "b publishes")) return 1;
  if (check(shared.waitFor([&] { return shared.message_seen == "ping"; }), "a gets b's message")) return 1;
  b.stop();
  if (check(shared.waitFor([&] { return shared.removed; }), "b's value leaves with b")) return 1;

  a.node.call([&](MeshCore&) {
    sub->reset();
    return Status::ok();
  }).ignore();
  events.reset();
  a.stop();
  std::printf("consumer (C++): all good\n");
  return 0;
}
