// ListenerSet<Event>: thread-safe listener registration for store events, with an RAII
// ListenerHandle that unregisters on destruction.
//
// Guarantee: once ListenerHandle::reset() (or its destructor) returns, the listener is not
// running on another thread and will not be called again. Emits hold a dispatch lock while
// listeners run, so a listener must not wait for a thread that is destroying a handle of the
// same set. A listener may reset its own handle or add listeners (same thread, re-entrant).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace meshslice {

class ListenerHandle {
 public:
  ListenerHandle() = default;
  explicit ListenerHandle(std::function<void()> remove) : remove_(std::move(remove)) {}
  ListenerHandle(ListenerHandle&& other) noexcept : remove_(std::move(other.remove_)) {
    other.remove_ = nullptr;
  }
  ListenerHandle& operator=(ListenerHandle&& other) noexcept {
    if (this != &other) {
      reset();
      remove_ = std::move(other.remove_);
      other.remove_ = nullptr;
    }
    return *this;
  }
  ListenerHandle(const ListenerHandle&) = delete;
  ListenerHandle& operator=(const ListenerHandle&) = delete;
  ~ListenerHandle() { reset(); }

  void reset() {
    if (!remove_) return;
    auto remove = std::move(remove_);
    remove_ = nullptr;
    remove();
  }
  bool active() const { return remove_ != nullptr; }

 private:
  std::function<void()> remove_;
};

template <typename Event>
class ListenerSet {
 public:
  using Listener = std::function<void(const Event&)>;

  // The handle may outlive the set (it then does nothing).
  ListenerHandle add(Listener listener) {
    std::lock_guard lock(state_->mutex);
    const uint64_t id = state_->next_id++;
    state_->listeners.emplace(id, std::move(listener));
    std::weak_ptr<State> weak = state_;
    return ListenerHandle([weak, id] {
      if (auto state = weak.lock()) {
        std::lock_guard dispatch(state->dispatch);
        std::lock_guard lock(state->mutex);
        state->listeners.erase(id);
      }
    });
  }

  // Calls every listener registered now (and still registered when its turn comes).
  void emit(const Event& event) {
    std::lock_guard dispatch(state_->dispatch);
    std::vector<uint64_t> ids;
    {
      std::lock_guard lock(state_->mutex);
      for (const auto& entry : state_->listeners) ids.push_back(entry.first);
    }
    for (uint64_t id : ids) {
      Listener listener;
      {
        std::lock_guard lock(state_->mutex);
        auto it = state_->listeners.find(id);
        if (it == state_->listeners.end()) continue;
        listener = it->second;
      }
      listener(event);
    }
  }

  size_t size() const {
    std::lock_guard lock(state_->mutex);
    return state_->listeners.size();
  }

 private:
  struct State {
    std::recursive_mutex dispatch;
    std::mutex mutex;
    std::map<uint64_t, Listener> listeners;
    uint64_t next_id = 1;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace meshslice
