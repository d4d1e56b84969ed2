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

// Delivers a scripted answer from a timer (or a posted task for no delay); destroying it
// cancels the delivery.
class FakeEnv::FakeLookup final : public HostLookup {
 public:
  FakeLookup(FakeEnv* env, const HostAnswer& a, HostLookupDone done)
      : env_(env), answer_(a.answer), done_(std::move(done)) {
    ++env_->pending_lookups_;
    if (a.hangs) return;
    if (a.delay > 0) {
      timer_ = env_->newTimer([this] { deliver(); });
      timer_->start(a.delay);
    } else {
      env_->post([this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) deliver();
      });
    }
  }
  ~FakeLookup() override {
    if (!delivered_) --env_->pending_lookups_;
  }

 private:
  void deliver() {
    delivered_ = true;
    --env_->pending_lookups_;
    HostLookupDone done = std::move(done_);
    done(std::move(answer_));  // may destroy this lookup
  }

  FakeEnv* env_;
  Result<std::vector<std::string>> answer_;
  HostLookupDone done_;
  std::unique_ptr<Timer> timer_;
  bool delivered_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
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

std::unique_ptr<HostLookup> FakeEnv::lookupHost(const std::string& host, HostLookupDone done) {
  ++host_lookups_[host];
  auto it = host_answers_.find(host);
  return std::make_unique<FakeLookup>(this, it == host_answers_.end() ? HostAnswer{} : it->second,
                                      std::move(done));
}

void FakeEnv::setHostAnswer(const std::string& host, Result<std::vector<std::string>> answer,
                            Micros delay) {
  host_answers_[host] = HostAnswer{std::move(answer), delay, false};
}

void FakeEnv::setHostHangs(const std::string& host) { host_answers_[host].hangs = true; }

size_t FakeEnv::hostLookups(const std::string& host) const {
  auto it = host_lookups_.find(host);
  return it == host_lookups_.end() ? 0 : it->second;
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
