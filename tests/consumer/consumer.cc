// A C++ application using an installed meshslice: two nodes on 127.0.0.1 share a store value
// and a bus message, then one leaves and the other sees its value go. Exits 0 on success.
// Every wait is bounded.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

#include "store/mesh_slice.h"
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

// One mesh with a synced "greeting" store. The store is declared first, so it outlives its
// registration (store/mesh_slice.h); the identity gives its device ID before the mesh exists.
struct Device {
  SyncedStore<Greeting> store;
  MeshSlice mesh;

  Device(Identity identity, const MeshSecret& secret, std::vector<std::string> peers)
      : store("greeting", identity.deviceId()), mesh(std::move(identity), secret, options(std::move(peers))) {}
  static MeshSliceOptions options(std::vector<std::string> peers) {
    MeshSliceOptions o;
    o.node.mesh.static_peers = std::move(peers);
    return o;
  }
  bool start() { return mesh.addStore(store).isOk() && mesh.start().isOk(); }
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
  Device a(Identity::generate("consumer-a"), secret, {});
  if (check(a.start(), "node a starts on 127.0.0.1")) return 1;
  auto events = a.store.listen([&](const SyncedStore<Greeting>::Event& e) {
    if (auto* u = std::get_if<SyncedStore<Greeting>::PeerUpdated>(&e)) {
      shared.update([&] { shared.value_seen = u->value.text; });
    } else if (std::holds_alternative<SyncedStore<Greeting>::PeerRemoved>(e)) {
      shared.update([&] { shared.removed = true; });
    }
  });
  auto sub = a.mesh.subscribe("hello", [&](const BusMessageEvent& m) {
    shared.update([&] { shared.message_seen = toString(m.payload); });
  });
  if (check(sub.isOk(), "subscribe")) return 1;

  Device b(Identity::generate("consumer-b"), secret, {a.mesh.listenAddress()});
  if (check(b.start(), "node b starts and dials a")) return 1;
  if (check(b.store.set({"hi from b"}).isOk(), "b sets its value")) return 1;
  if (check(shared.waitFor([&] { return shared.value_seen == "hi from b"; }), "a sees b's value")) return 1;
  if (check(b.mesh.publish("hello", asBytes("ping")).isOk(), "b publishes")) return 1;
  if (check(shared.waitFor([&] { return shared.message_seen == "ping"; }), "a gets b's message")) return 1;
  b.mesh.stop();
  if (check(shared.waitFor([&] { return shared.removed; }), "b's value leaves with b")) return 1;

  events.reset();
  a.mesh.stop();
  sub->reset();  // after stop() a subscription does nothing
  std::printf("consumer (C++): all good\n");
  return 0;
}
