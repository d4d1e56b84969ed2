#include "store/mesh_slice.h"

#include <stdexcept>

#include "base/log.h"

namespace meshslice {

namespace {
constexpr const char* kStopOnLoop =
    "MeshSlice::stop (or its destructor) was called on the loop thread, where it would wait for itself; "
    "stop the mesh from another thread";
}  // namespace

MeshSlice::MeshSlice(Identity identity, MeshSecret secret, MeshSliceOptions options)
    : options_(std::move(options)),
      node_(std::make_unique<MeshNode>(std::move(identity), std::move(secret), options_.node)) {}

MeshSlice::~MeshSlice() { stop(); }

template <typename F>
Status MeshSlice::onLoop(F&& task) {
  if (node_->onLoopThread()) return task();
  return node_->call([&task](MeshCore&) { return task(); });
}

Status MeshSlice::start() {
  if (start_called_.exchange(true)) return Status(Code::kAlreadyExists, "the mesh was started already");
  if (Status st = node_->start(); !st.isOk()) {
    std::lock_guard lock(mutex_);
    state_ = State::kStopped;
    pending_.clear();
    return st;
  }
  if (node_->onLoopThread()) return startSyncOnLoop(node_->core());  // host loop
  return node_->call([this](MeshCore& core) { return startSyncOnLoop(core); });
}

// Loop thread. Stores added from now on go to the adapter (addStore sees kRunning and posts,
// so its task runs after this one).
Status MeshSlice::startSyncOnLoop(MeshCore& core) {
  std::vector<ISyncableStore*> stores;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::kCreated) return Status(Code::kClosed, "the mesh stopped while starting");
    state_ = State::kRunning;
    stores.swap(pending_);
  }
  adapter_ = std::make_unique<StoreSyncAdapter>(node_->env(), core, options_.sync);
  Status result = Status::ok();
  for (ISyncableStore* store : stores) {
    Status st = adapter_->addStore(*store);  // checked in addStore(): fails only on a race with stop
    if (!st.isOk() && result.isOk()) result = st;
  }
  return result;
}

void MeshSlice::stop() {
  if (!hostLoop() && node_->onLoopThread()) throw std::logic_error(kStopOnLoop);
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kStopping || state_ == State::kStopped) return;
    const bool running = state_ == State::kRunning;
    state_ = running ? State::kStopping : State::kStopped;
    pending_.clear();
    if (!running) return;  // never started, or start() failed: nothing runs
  }
  Status detached = onLoop([this] {
    if (adapter_) adapter_->stop();
    adapter_.reset();
    return Status::ok();
  });
  if (!detached.isOk() && adapter_) {
    // The loop ended without us: the adapter's core is gone, so destroying it would touch freed
    // memory. Let it go instead (it holds no OS resources).
    MS_LOG(kError, "mesh_slice") << "the node stopped before its store sync: " << detached.toString();
    (void)adapter_.release();
  }
  node_->stop();
  std::lock_guard lock(mutex_);
  state_ = State::kStopped;
}

Status MeshSlice::addStore(ISyncableStore& store) {
  MS_RETURN_IF_ERROR(validateStoreId(store.storeId()));
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kCreated) {
      for (const ISyncableStore* other : pending_) {
        if (other == &store || other->storeId() == store.storeId())
          return Status(Code::kAlreadyExists, "store " + store.storeId() + " is already synced");
      }
      pending_.push_back(&store);
      return Status::ok();
    }
    if (state_ != State::kRunning) return Status(Code::kClosed, "the mesh is stopped");
  }
  // Outside the lock: the loop thread may be adding a store too (from a callback).
  return onLoop([this, &store] {
    return adapter_ ? adapter_->addStore(store) : Status(Code::kClosed, "the mesh is stopped");
  });
}

Status MeshSlice::removeStore(const std::string& store_id) {
  if (!hostLoop() && node_->onLoopThread()) {
    return Status(Code::kWrongThread,
                  "MeshSlice::removeStore was called on the loop thread (a callback), where the store may still "
                  "be inside the call that fired it; call it from another thread");
  }
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kCreated) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if ((*it)->storeId() == store_id) {
          pending_.erase(it);
          return Status::ok();
        }
      }
      return Status(Code::kNotFound, "store " + store_id + " is not synced");
    }
    if (state_ == State::kStopped) return Status(Code::kClosed, "the mesh is stopped");
  }
  // kRunning or kStopping: through the loop, so that on return the adapter has let go of the
  // store, whether this task or stop()'s runs first. If the loop refuses it, stop() has reset
  // the adapter already (it does so before stopping the node).
  return onLoop([this, &store_id] {
    return adapter_ ? adapter_->removeStore(store_id) : Status(Code::kClosed, "the mesh is stopped");
  });
}

}  // namespace meshslice
