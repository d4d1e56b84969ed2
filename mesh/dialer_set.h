// DialerSet: the endpoints a node keeps dialing, each with its own jittered exponential backoff
// (base/backoff.h), and what became of the last attempt. MeshCore owns one and decides *when*
// to dial (discovery news, a dropped link, a probe of a peer's listener); this class does the
// dialing, the scheduling and the bookkeeping, so the backoff rule lives in one place.
//
// A dialer whose endpoint already leads to a linked device does not dial (the `linked`
// predicate); it is asked again when that link drops. Results are reported through the two
// callbacks even if the dialer was erased while its attempt ran (a link that came up is still a
// link); `failed` runs before the dialer's retry is scheduled, so the callee may erase it.
//
// Threading: the loop thread of `env` and `transport`, which must outlive the set. Destroying
// the set (or erasing a dialer) cancels timers; attempts in flight report to nothing.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/backoff.h"
#include "base/env.h"
#include "base/status.h"
#include "mesh/device_id.h"
#include "transport/link.h"

namespace meshslice {

struct DialerOptions {
  Micros backoff_initial = 100 * kMillis;
  Micros backoff_max = 30 * kSeconds;
};

// What a dialer is doing, for diagnostics (`peers --all`).
enum class DialState {
  kConnecting,  // an attempt is in flight
  kLinked,      // its device is linked (through this endpoint or another)
  kWaiting,     // waiting out its backoff after a failure
  kIdle,        // no attempt scheduled (e.g. an address the transport cannot dial)
};
const char* dialStateName(DialState state);

struct DialerInfo {
  std::string endpoint;
  DeviceId device;      // zero until a session through this endpoint was established
  DialState state = DialState::kIdle;
  Status last_error;    // of the last failed attempt or of the link it made (ok: none yet)
  Micros last_error_at = 0;
  Micros next_attempt_in = 0;  // kWaiting: time until the next attempt
  uint64_t attempts = 0;
  uint64_t failures = 0;  // consecutive; reset when a session is established
  bool pinned = false;
  bool probe = false;
};

class DialerSet {
 public:
  struct Dialer {
    Dialer(std::string ep, Backoff b) : endpoint(std::move(ep)), backoff(b) {}
    std::string endpoint;
    std::unique_ptr<Timer> timer;
    Backoff backoff;
    bool connecting = false;
    DeviceId device;  // learned from the first session
    // Made to probe an inbound peer's listener after its link dropped; dropped on eviction.
    bool probe = false;
    // Added by MeshCore::addEndpoint(): kept for good, whatever discovery says.
    bool pinned = false;
    // Redials retried at once after being accepted and closed before the handshake (a dying
    // listener); reset when a session through this dialer is established.
    int quick_retries = 0;
    uint64_t attempts = 0;
    uint64_t failures = 0;
    Status last_error;
    Micros last_error_at = 0;
    Micros next_attempt_at = 0;  // when the armed timer fires
  };
  using Connected = std::function<void(const std::string& endpoint, std::unique_ptr<Link> link)>;
  using Failed = std::function<void(const std::string& endpoint, const Status& reason)>;
  using IsLinked = std::function<bool(const DeviceId& device)>;

  DialerSet(Env& env, Transport& transport, DialerOptions options, IsLinked linked, Connected connected,
            Failed failed);
  ~DialerSet();
  DialerSet(const DialerSet&) = delete;
  DialerSet& operator=(const DialerSet&) = delete;

  // The dialer of `endpoint`, created and dialing at once if new (its attempt completes on a
  // later turn, so the pointer stays valid in the caller).
  Dialer& ensure(const std::string& endpoint);
  Dialer* find(const std::string& endpoint);
  const Dialer* find(const std::string& endpoint) const;
  bool contains(const std::string& endpoint) const { return dialers_.count(endpoint) > 0; }
  void erase(const std::string& endpoint);
  void clear();

  // Dials now unless an attempt is in flight; the backoff starts over.
  void dialNow(Dialer& d);
  // After a failure: the next attempt after the grown, jittered backoff.
  void retryLater(Dialer& d);
  // After a link through `d` closed: at once if it had been up for a while (stable), else
  // after the grown backoff, so a peer that accepts and then rejects us cannot cause a storm.
  void retryAfterClose(Dialer& d, bool stable);
  // Once more at once, keeping the backoff (a quick retry of a dying listener).
  void retryNow(Dialer& d);
  // A session through `endpoint` reached `device`: resets failures and quick retries.
  void noteEstablished(const std::string& endpoint, const DeviceId& device);
  // A link through `endpoint` closed before its session was established, for `reason`.
  void noteFailure(const std::string& endpoint, const Status& reason);
  // The endpoint a dialer has for `device` (empty if none).
  std::string endpointOf(const DeviceId& device) const;

  std::vector<DialerInfo> snapshot() const;
  // Attempts made by every dialer this set ever had.
  uint64_t totalAttempts() const { return total_attempts_; }

 private:
  void dial(Dialer& d);
  void schedule(Dialer& d, Micros delay);
  void onResult(const std::string& endpoint, Result<std::unique_ptr<Link>> result);

  Env& env_;
  Transport& transport_;
  DialerOptions options_;
  IsLinked linked_;
  Connected connected_;
  Failed failed_;
  std::map<std::string, Dialer> dialers_;
  uint64_t total_attempts_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshslice
