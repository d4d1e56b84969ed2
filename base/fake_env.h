// A deterministic Env for tests: time moves only when the test calls advance(), randomness is
// a seeded stream, posted tasks run when the test pumps, host lookups answer from a table the
// test fills. Single-threaded.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <string>

#include "base/env.h"

namespace meshslice {

class FakeEnv final : public Env {
 public:
  explicit FakeEnv(uint64_t seed = 1);
  ~FakeEnv() override;

  Micros now() override { return now_; }
  int64_t wallMillis() override { return wall_base_ms_ + now_ / kMillis; }
  void randomBytes(std::span<uint8_t> out) override;
  std::unique_ptr<Timer> newTimer(std::function<void()> on_expired) override;
  void post(std::function<void()> task) override { tasks_.push_back(std::move(task)); }
  // Answers from the table below: the answer set for `host` when the lookup started, `delay`
  // later (0: on the next runPending). A host with no entry fails with kNotFound.
  std::unique_ptr<HostLookup> lookupHost(const std::string& host, HostLookupDone done) override;

  void setHostAnswer(const std::string& host, Result<std::vector<std::string>> answer,
                     Micros delay = 0);
  // Lookups of `host` never answer (until the caller cancels them by destroying the lookup).
  void setHostHangs(const std::string& host);
  // How many lookups of `host` were started, and how many are still waiting for an answer.
  size_t hostLookups(const std::string& host) const;
  size_t pendingHostLookups() const { return pending_lookups_; }

  // Runs posted tasks (and tasks they post) until none is left. Returns how many ran.
  size_t runPending(size_t limit = 1'000'000);
  // Moves time forward by `delta`, firing due timers in deadline order and running posted
  // tasks after each one.
  void advance(Micros delta);
  // Advances in `step`s until pred() holds or `limit` has passed. Returns pred().
  bool advanceUntil(const std::function<bool()>& pred, Micros limit, Micros step = 10 * kMillis);
  void setWallBase(int64_t ms) { wall_base_ms_ = ms; }
  size_t armedTimers() const { return deadlines_.size(); }

 private:
  class FakeTimer;
  class FakeLookup;
  friend class FakeTimer;
  friend class FakeLookup;
  struct HostAnswer {
    Result<std::vector<std::string>> answer = Status(Code::kNotFound, "no such host");
    Micros delay = 0;
    bool hangs = false;
  };
  using Key = std::pair<Micros, uint64_t>;  // deadline, arm sequence

  Micros now_ = 1'000 * kSeconds;
  int64_t wall_base_ms_ = 1'700'000'000'000;
  uint64_t rng_state_;
  uint64_t arm_seq_ = 0;
  std::map<Key, FakeTimer*> deadlines_;
  std::deque<std::function<void()>> tasks_;
  std::map<std::string, HostAnswer> host_answers_;
  std::map<std::string, size_t> host_lookups_;
  size_t pending_lookups_ = 0;
};

}  // namespace meshslice
