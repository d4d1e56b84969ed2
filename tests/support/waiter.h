// Cross-thread waiting for tests: callbacks on loop threads change state under the waiter's
// lock and notify; the test thread waits for a predicate with a deadline (never a bare sleep).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace meshslice::test {

class Waiter {
 public:
  // Runs `change` under the lock, then wakes waiters.
  void update(const std::function<void()>& change) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      change();
    }
    cv_.notify_all();
  }
  // Waits until pred() (evaluated under the lock) holds or `timeout_ms` passes.
  bool waitFor(const std::function<bool()>& pred, int timeout_ms = 10000) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), pred);
  }
  // Reads state under the lock.
  template <typename F>
  auto read(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    return f();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace meshslice::test
