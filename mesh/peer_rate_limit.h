// PeerRateLimit: how much one peer may send us, as two token buckets (envelopes and payload
// bytes per second, each with a burst), plus flood detection: a peer whose excess keeps being
// dropped is disconnected. Pure logic: the caller passes the time, so tests step it.
//
// Why per peer and after decryption: a holder of the mesh secret can send valid envelopes as
// fast as the network allows; without a limit one such peer costs us unbounded CPU in handlers
// (store applies, bus callbacks) and starves the others. Excess is dropped (store sync repairs
// drops by anti-entropy), counted, and after `disconnect_after_drops` drops within
// `flood_window` the link is closed with a reason.
//
// Threading: not thread-safe; MeshCore uses it on its loop thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/env.h"

namespace meshslice {

struct PeerRateLimitOptions {
  // Defaults sit above the best an honest peer reaches on the reference machine
  // (docs/PERFORMANCE.md: ~200,000 slice updates/s and ~820 MB/s of 64 KiB messages node to
  // node), so they never cut legitimate traffic and only stop a peer that sends faster than any
  // honest one can. Deployments that know their traffic (a presence board: a few updates/s per
  // device) should set far lower limits; tests do.
  double messages_per_second = 400000;
  double message_burst = 400000;
  double bytes_per_second = 1024.0 * 1024 * 1024;
  double byte_burst = 256.0 * 1024 * 1024;  // >= kMaxMessageSize: one largest slice always fits
  uint64_t disconnect_after_drops = 20000;
  Micros flood_window = 10 * kSeconds;
  bool enabled = true;
};

// A token bucket: `rate` tokens per second up to `burst`, starting full.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  // Takes `amount` tokens if that many are there at `now` (monotonic).
  bool take(Micros now, double amount);
  double tokens() const { return tokens_; }

 private:
  double rate_, burst_, tokens_;
  Micros last_ = -1;
};

class PeerRateLimit {
 public:
  enum class Verdict { kAccept, kDrop, kDisconnect };

  explicit PeerRateLimit(const PeerRateLimitOptions& options);
  // Accounts one received envelope carrying `bytes` bytes. kDrop: ignore it. kDisconnect:
  // the peer keeps flooding; close its link (and ignore the envelope).
  Verdict onMessage(Micros now, size_t bytes);
  uint64_t dropped() const { return dropped_; }

 private:
  PeerRateLimitOptions options_;
  TokenBucket messages_;
  TokenBucket bytes_;
  uint64_t dropped_ = 0;
  uint64_t window_drops_ = 0;
  Micros window_start_ = 0;
};

}  // namespace meshslice
