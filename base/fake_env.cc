#include "base/fake_env.h"

#include <cassert>

namespace meshslice {

class FakeEnv::FakeTimer final : public Timer {
 public:
  FakeTimer(FakeEnv* env, std::function<void()> cb) : env_(env), cb_(std::move(cb)) {}
  ~FakeTimer() override { stop(); }

  void start(Micros delay) override {
    stop();
    key_ = Key{env_->now_ + (delay < 0 ? 0 : delay), env_->arm_seq_++};
    env_->deadlines_[key_] = this;
    armed_ = true;
  }
  void stop() override {
    if (armed_) env_->deadlines_.erase(key_);
    armed_ = false;
  }
  bool armed() const override { return armed_; }

  void fire() {
    armed_ = false;
    cb_();  // may destroy or re-arm this timer
  }

 private:
  FakeEnv* env_;
  std::function<void()> cb_;
  Key key_{};
  bool armed_ = false;
};

FakeEnv::FakeEnv(uint64_t seed) : rng_state_(seed * 0x9E3779B97F4A7C15ull + 1) {}

FakeEnv::~FakeEnv() { assert(deadlines_.empty() && "a FakeEnv timer outlived its env"); }

void FakeEnv::randomBytes(std::span<uint8_t> out) {
  for (auto& b : out) {
    // xorshift64*: deterministic, good enough for jitter and test keys.
    rng_state_ ^= rng_state_ >> 12;
    rng_state_ ^= rng_state_ << 25;
    rng_state_ ^= rng_state_ >> 27;
    b = static_cast<uint8_t>((rng_state_ * 0x2545F4914F6CDD1Dull) >> 56);
  }
}

std::unique_ptr<Timer> FakeEnv::newTimer(std::function<void()> on_expired) {
  return std::make_unique<FakeTimer>(this, std::move(on_expired));
}

size_t FakeEnv::runPending(size_t limit) {
  size_t ran = 0;
  while (!tasks_.empty() && ran < limit) {
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    task();
    ++ran;
  }
  return ran;
}

void FakeEnv::advance(Micros delta) {
  runPending();
  const Micros target = now_ + delta;
  while (!deadlines_.empty() && deadlines_.begin()->first.first <= target) {
    auto it = deadlines_.begin();
    FakeTimer* timer = it->second;
    now_ = it->first.first;
    deadlines_.erase(it);
    timer->fire();
    runPending();
  }
  now_ = target;
  runPending();
}

bool FakeEnv::advanceUntil(const std::function<bool()>& pred, Micros limit, Micros step) {
  runPending();
  for (Micros waited = 0; !pred(); waited += step) {
    if (waited >= limit) return false;
    advance(step);
  }
  return true;
}

}  // namespace meshslice
