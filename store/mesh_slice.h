// MeshSlice: a mesh node that syncs stores, in one object an application holds. It owns a
// MeshNode and the StoreSyncAdapter that lives on the node's loop thread, so a C++ user never
// reaches into the loop-thread-only MeshCore to add a store:
//
//   MeshSlice mesh(std::move(identity), secret, options);
//   SyncedStore<Presence> presence("presence", mesh.id());   // declared after: see Lifetime
//   MS_RETURN_IF_ERROR(mesh.addStore(presence));             // before or after start()
//   MS_RETURN_IF_ERROR(mesh.start());
//   ...
//   mesh.stop();                                             // or let the destructor do it
//
// Threading (own loop thread, the default):
// - addStore() may be called from any thread, before or after start(), and from the loop
//   thread itself (a store listener, a bus handler, a PeerObserver): there it runs inline.
// - removeStore() may be called from any thread but the loop thread. On the loop thread it
//   returns Code::kWrongThread and changes nothing: a callback there runs inside a call of the
//   store (an event it emits) that goes on after the callback returns, so a store freed once
//   removeStore() returned would be used after its free. Remove stores from another thread.
// - start() and stop() from any thread but the loop thread, not racing each other; stop() there throws
//   std::logic_error (it would wait for the thread it runs on), as MeshNode's blocking calls do.
// - The forwarded MeshNode calls keep MeshNode's rules (mesh/mesh_node.h): peers(), publish(),
//   send(), subscribe() and request() block until the loop answered, so on the loop thread they
//   fail with Code::kWrongThread (peers() throws std::logic_error).
// With MeshNodeOptions::host_loop every call is made on the host loop's thread and runs inline;
// addStore(), removeStore() and stop() must then not be called from inside a store or peer
// callback (the rule above: the thread cannot tell callbacks from the host's own code).
//
// Lifetime:
// - A store must stay alive while it is registered: until removeStore() of it returned (with
//   any result), or stop() returned, or the MeshSlice is gone. Declaring a store after the
//   MeshSlice (it needs mesh.id()) is fine when stop() or removeStore() runs before the store
//   dies; otherwise declare it first, with the identity's deviceId().
// - stop() unregisters every store (their remote slices are cleared), then stops the node:
//   goodbyes on every link, the loop thread joined. Idempotent; the destructor calls it.
// - Stores added before start() are registered when start() succeeds; after a failed start()
//   or after stop(), addStore() returns Code::kClosed.
// - Subscriptions from subscribe() touch the bus: reset them on the loop thread (call()) or
//   let them go after stop(), when they do nothing.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mesh/mesh_node.h"
#include "store/store_sync_adapter.h"
#include "store/syncable_store.h"

namespace meshslice {

struct MeshSliceOptions {
  MeshNodeOptions node;
  AdapterOptions sync;
};

class MeshSlice {
 public:
  MeshSlice(Identity identity, MeshSecret secret, MeshSliceOptions options = {});
  // stop()s. Not on the loop thread (std::logic_error there ends the process).
  ~MeshSlice();
  MeshSlice(const MeshSlice&) = delete;
  MeshSlice& operator=(const MeshSlice&) = delete;

  // Starts the node and syncs every store added so far. kAlreadyExists when called twice;
  // the node's error (e.g. the listen address is taken) if it does not start.
  Status start();
  // Unregisters every store, then stops the node (see Lifetime). Idempotent.
  void stop();

  // Starts syncing `store` (at once when running, else from start() on). kInvalidArgument for
  // a bad store ID, kAlreadyExists for a second store with its ID, kClosed after stop() or a
  // failed start(). Any thread, the loop thread included.
  Status addStore(ISyncableStore& store);
  // Stops syncing a store and clears its remote slices; once this returns the library does
  // not touch the store any more (also when it returns kClosed: the mesh stopped). kNotFound
  // if not registered; kWrongThread on the loop thread (see Threading).
  Status removeStore(const std::string& store_id);

  const DeviceId& id() const { return node_->id(); }
  const std::string& name() const { return node_->name(); }
  // Valid after start().
  const std::string& listenAddress() const { return node_->listenAddress(); }
  // With a host loop, stop() returns at once: the node has closed once this is true.
  bool stopped() const { return node_->stopped(); }
  // As MeshNode::closeStatus(), once stop() returned.
  Status closeStatus() const { return node_->closeStatus(); }

  // MeshNode's calls, with its threading rules (the bus: mesh/message_bus.h).
  std::vector<PeerInfo> peers() { return node_->peers(); }
  Result<PublishResult> publish(std::string_view ns, ByteView payload) { return node_->publish(ns, payload); }
  Status send(const DeviceId& peer, std::string_view ns, ByteView payload) { return node_->send(peer, ns, payload); }
  Result<Subscription> subscribe(std::string_view ns, MessageHandler handler) {
    return node_->subscribe(ns, std::move(handler));
  }
  Status request(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout, ReplyFn done) {
    return node_->request(peer, ns, payload, timeout, std::move(done));
  }
  void addObserver(PeerObserver* observer) { node_->addObserver(observer); }
  void removeObserver(PeerObserver* observer) { node_->removeObserver(observer); }
  void post(std::function<void(MeshCore&)> task) { node_->post(std::move(task)); }
  // MeshNode::call(): runs `task` on the loop thread (where syncAdapter() may be used) and
  // returns its result; not from the loop thread.
  template <typename F>
  auto call(F&& task) -> decltype(task(std::declval<MeshCore&>())) {
    return node_->call(std::forward<F>(task));
  }
  bool onLoopThread() const { return node_->onLoopThread(); }

  // Loop thread only: the adapter (stats, contract listener) while running, else nullptr.
  StoreSyncAdapter* syncAdapter() { return adapter_.get(); }

 private:
  enum class State { kCreated, kRunning, kStopping, kStopped };

  Status startSyncOnLoop(MeshCore& core);
  // Runs `task` on the loop thread and returns its Status: inline when already there.
  template <typename F>
  Status onLoop(F&& task);
  bool hostLoop() const { return options_.node.host_loop != nullptr; }

  MeshSliceOptions options_;
  std::unique_ptr<MeshNode> node_;
  std::unique_ptr<StoreSyncAdapter> adapter_;  // loop thread only
  std::mutex mutex_;                           // never held while waiting for the loop
  State state_ = State::kCreated;              // guarded by mutex_
  std::vector<ISyncableStore*> pending_;       // added before start(); guarded by mutex_
  std::atomic<bool> start_called_{false};
};

}  // namespace meshslice
