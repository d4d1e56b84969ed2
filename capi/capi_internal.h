// What the C API's handles are, shared by the files of capi/. Not installed.
//
// Callbacks reach C code through a CallbackGate: the C function pointer and user pointer behind
// a recursive mutex and an "open" flag. Freeing a handle closes its gate, so once *_free
// returns the callback is not running and will not run again, from any thread and even when a
// handle is freed inside its own callback (the mutex is recursive).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "capi/meshslice.h"
#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "store/synced_store.h"

namespace meshslice::capi {

// Records `status` as this thread's last error and returns its C code.
int fail(const Status& status);
int fail(int code, std::string message);
// Success: clears nothing (ms_last_error() keeps the last failure, like errno).
inline int ok() { return MS_OK; }
// A NULL handle or required pointer: programmer misuse. Prints and aborts.
[[noreturn]] void misuse(const char* function, const char* what);
#define MS_CAPI_REQUIRE(p) \
  do {                     \
    if (!(p)) ::meshslice::capi::misuse(__func__, #p " is NULL"); \
  } while (0)

// Runs `body` (returning an int code), turning any exception into MS_ERR_INTERNAL: nothing
// may unwind into C frames.
template <typename F>
int guard(F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(MS_ERR_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return fail(MS_ERR_INTERNAL, "unexpected exception");
  }
}

// Copies text into a caller buffer per the header's STRINGS rules.
int copyText(std::string_view text, char* buf, size_t cap, size_t* len);

template <typename Fn>
struct CallbackGate {
  std::recursive_mutex mutex;
  bool open = true;
  Fn fn = nullptr;
  void* user = nullptr;

  // Calls the C function unless the gate was closed; says whether it did.
  template <typename... Args>
  bool invoke(Args... args) {
    std::lock_guard lock(mutex);
    if (open) fn(user, args...);
    return open;
  }
  void close() {
    std::lock_guard lock(mutex);
    open = false;
  }
};

using PeerGate = CallbackGate<ms_peer_event_fn>;

// Forwards the node's peer events to every open ms_peer_watch. Registered once, before the
// node starts, so watches never touch MeshCore's observer list.
class PeerFanOut final : public PeerObserver {
 public:
  void add(std::shared_ptr<PeerGate> gate);
  void remove(const std::shared_ptr<PeerGate>& gate);
  size_t size() const;

  void onPeerJoined(const PeerJoined& event) override;
  void onPeerUpdated(const PeerUpdated& event) override;
  void onPeerLeft(const PeerLeft& event) override;

 private:
  void emitPeer(ms_peer_event_kind kind, const PeerInfo& info);
  void emit(const ms_peer_event& event);
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<PeerGate>> gates_;
};

// kStarting: ms_node_start() is registering the stores; kStopping: a host loop is still
// closing the node's handles.
enum class NodeState { kCreated, kStarting, kRunning, kStopping, kStopped };
using MessageGate = CallbackGate<ms_message_fn>;

// The node's store error callback (ms_node_set_store_error_cb): replaced under the mutex, which
// a call holds (recursive: the callback may replace itself).
struct StoreErrorSink {
  std::recursive_mutex mutex;
  ms_store_error_cb fn = nullptr;
  void* user = nullptr;
  void deliver(const StoreError& error);
};
using RequestGate = CallbackGate<ms_request_fn>;

}  // namespace meshslice::capi

struct ms_node {
  std::unique_ptr<meshslice::MeshNode> node;
  bool host_loop = false;
  std::atomic<meshslice::capi::NodeState> state{meshslice::capi::NodeState::kCreated};
  meshslice::capi::PeerFanOut peers;
  std::atomic<int> subscriptions{0};
  std::atomic<int> services{0};
  std::atomic<int> responders{0};  // handed to request handlers, not yet released
  std::mutex stores_mutex;                      // never held while waiting for the loop
  std::vector<ms_store*> stores;                // guarded by stores_mutex
  std::unique_ptr<meshslice::StoreSyncAdapter> adapter;  // loop thread only
  meshslice::capi::StoreErrorSink store_errors;  // the adapter's error hook calls it
};

struct ms_store {
  ms_node* owner = nullptr;
  std::shared_ptr<meshslice::RawStore> store;   // shared: a deferred delete may hold it
  std::atomic<int> listeners{0};
};

struct ms_store_listener {
  ms_store* owner = nullptr;
  meshslice::ListenerHandle handle;  // resetting it waits out a running call (listener_set.h)
};

struct ms_peer_watch {
  ms_node* owner = nullptr;
  std::shared_ptr<meshslice::capi::PeerGate> gate;
};

struct ms_subscription {
  ms_node* owner = nullptr;
  std::shared_ptr<meshslice::capi::MessageGate> gate;
  // Shared so a task posted to the loop can carry it (the bus is loop-thread only).
  std::shared_ptr<meshslice::Subscription> subscription;
};

struct ms_service {
  ms_node* owner = nullptr;
  std::shared_ptr<meshslice::capi::RequestGate> gate;
  std::shared_ptr<meshslice::Subscription> subscription;  // as in ms_subscription
};

struct ms_responder {
  ms_node* owner = nullptr;
  meshslice::Responder responder;  // loop thread only; safe after the bus is gone
};

namespace meshslice::capi {

// Runs `task(MeshCore&)` on the node's loop thread and returns its result: inline when the
// caller is on the loop thread already (host loop, or inside a callback), else through
// MeshNode::call. A node that does not run gives kClosed.
template <typename F>
auto onLoop(ms_node* n, F&& task) -> decltype(task(std::declval<MeshCore&>())) {
  using R = decltype(task(std::declval<MeshCore&>()));
  const NodeState state = n->state.load();
  if (state == NodeState::kCreated || state == NodeState::kStopped) {
    return R(Status(Code::kClosed, "the node is not running"));
  }
  if (n->node->onLoopThread()) {
    if (n->node->stopped()) return R(Status(Code::kClosed, "the node is not running"));
    return task(n->node->core());
  }
  return n->node->call(std::forward<F>(task));
}

}  // namespace meshslice::capi
