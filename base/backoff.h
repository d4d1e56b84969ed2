// Backoff: the one exponential backoff of the project (dialers, static-peer lookups). A value
// type with no clock of its own: the owner asks for the next delay when an attempt failed and
// resets it when one succeeded.
#pragma once

#include <algorithm>

#include "base/env.h"

namespace meshslice {

class Backoff {
 public:
  Backoff(Micros initial, Micros max) : initial_(initial), max_(std::max(initial, max)) {}

  // After a failure: initial, then doubling up to max. Returns the new delay.
  Micros grow() {
    current_ = current_ == 0 ? initial_ : std::min(current_ * 2, max_);
    return current_;
  }
  // grow(), drawn uniformly from [delay / 2, delay] so that many dialers of one failure do not
  // retry in step.
  Micros growJittered(Env& env) {
    const Micros d = grow();
    return env.randomBetween(d / 2, d);
  }
  // After a success: the next failure starts again at `initial`.
  void reset() { current_ = 0; }
  // 0 until the first failure after a reset.
  Micros current() const { return current_; }

 private:
  Micros initial_;
  Micros max_;
  Micros current_ = 0;
};

}  // namespace meshslice
