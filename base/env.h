// The environment a node runs in: time, timers, randomness, deferred tasks and host-name
// lookups. Protocol code
// takes an Env& so tests can swap the real libuv-backed one (base/event_loop.h) for FakeEnv
// (base/fake_env.h) and step time instead of sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace meshslice {

// Monotonic microseconds. Only differences are meaningful.
using Micros = int64_t;
constexpr Micros kMillis = 1000;
constexpr Micros kSeconds = 1000 * kMillis;

// A one-shot timer. Owned by exactly one object; destroying it cancels it, and its callback
// never runs after destruction. Callbacks run on the env's loop thread.
class Timer {
 public:
  virtual ~Timer() = default;
  // (Re)arms the timer to fire once, `delay` from now. A negative delay counts as zero.
  virtual void start(Micros delay) = 0;
  virtual void stop() = 0;
  virtual bool armed() const = 0;
};

// A host-name lookup in flight (Env::lookupHost). Owned by the caller; destroying it cancels
// the lookup: its callback never runs afterwards. Loop thread only.
class HostLookup {
 public:
  virtual ~HostLookup() = default;
};

// The numeric addresses of a name ("10.0.0.1", "fe80::1", no brackets), best first, without
// duplicates; or kNotFound when the name does not exist, kIo for any other failure (no answer,
// resolver unreachable).
using HostLookupDone = std::function<void(Result<std::vector<std::string>> addresses)>;

// The system's wall clock, milliseconds since the Unix epoch: what UvEnv::wallMillis() returns.
// Code that has an Env asks it instead (FakeEnv moves it in tests); this one function is for
// the logger and the default clock of a SyncedStore made without one.
int64_t systemWallMillis();

class Env {
 public:
  virtual ~Env() = default;
  // Monotonic clock.
  virtual Micros now() = 0;
  // Wall clock, milliseconds since the Unix epoch (slice updatedAt, version seeds).
  virtual int64_t wallMillis() = 0;
  virtual void randomBytes(std::span<uint8_t> out) = 0;
  // Creates a timer whose callback runs on the loop thread.
  virtual std::unique_ptr<Timer> newTimer(std::function<void()> on_expired) = 0;
  // Runs `task` on the loop thread on a later turn, never inline. The real env allows this
  // from any thread; FakeEnv is single-threaded.
  virtual void post(std::function<void()> task) = 0;
  // Resolves `host` (a name or a numeric address) asynchronously. `done` runs exactly once on
  // the loop thread on a later turn, never inline, unless the returned lookup is destroyed
  // first. Loop thread only. The real env uses the system resolver (uv_getaddrinfo on libuv's
  // thread pool); its own timeouts (resolv.conf) bound how long a lookup takes.
  virtual std::unique_ptr<HostLookup> lookupHost(const std::string& host, HostLookupDone done) = 0;
  // Loop thread only. Runs `task` once the callbacks of the current loop turn are done, before
  // the loop waits for I/O again: for batching work of one turn (SecureChannel encrypts the
  // messages queued during a turn together) without the extra wake-up of post(). This default
  // is post(); UvEnv runs it in the same libuv iteration (EventLoop::runAtTurnEnd). FakeEnv
  // keeps the default: its "turn" is one pump of the posted tasks.
  virtual void runAtTurnEnd(std::function<void()> task) { post(std::move(task)); }

  uint64_t randomU64() {
    uint64_t v = 0;
    randomBytes({reinterpret_cast<uint8_t*>(&v), sizeof v});
    return v;
  }
  // Uniform in [lo, hi].
  Micros randomBetween(Micros lo, Micros hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<Micros>(randomU64() % static_cast<uint64_t>(hi - lo + 1));
  }
};

}  // namespace meshslice
