// A deterministic Env for tests: time moves only when the test calls advance(), randomness is
// a seeded stream, posted tasks run when the test pumps. Single-threaded.
#pragma once

#include <deque>
#include <map>
#include <set>

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
  friend class FakeTimer;
  using Key = std::pair<Micros, uint64_t>;  // deadline, arm sequence

  Micros now_ = 1'000 * kSeconds;
  int64_t wall_base_ms_ = 1'700'000'000'000;
  uint64_t rng_state_;
  uint64_t arm_seq_ = 0;
  std::map<Key, FakeTimer*> deadlines_;
  std::deque<std::function<void()>> tasks_;
};

}  // namespace meshslice
