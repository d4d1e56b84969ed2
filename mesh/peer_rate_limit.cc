#include "mesh/peer_rate_limit.h"

#include <algorithm>

namespace meshslice {

bool TokenBucket::take(Micros now, double amount) {
  if (last_ >= 0 && now > last_)
    tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now - last_) / kSeconds);
  if (last_ < 0 || now > last_) last_ = now;
  if (tokens_ < amount) return false;
  tokens_ -= amount;
  return true;
}

PeerRateLimit::PeerRateLimit(const PeerRateLimitOptions& options)
    : options_(options),
      messages_(options.messages_per_second, options.message_burst),
      bytes_(options.bytes_per_second, options.byte_burst) {}

PeerRateLimit::Verdict PeerRateLimit::onMessage(Micros now, size_t bytes) {
  if (!options_.enabled) return Verdict::kAccept;
  // Refill both, then take from both or from neither: a refused byte count costs no
  // message token.
  const double size = static_cast<double>(bytes);
  messages_.take(now, 0);
  bytes_.take(now, 0);
  if (messages_.tokens() >= 1 && bytes_.tokens() >= size) {
    messages_.take(now, 1);
    bytes_.take(now, size);
    return Verdict::kAccept;
  }
  ++dropped_;
  if (window_drops_ == 0 || now - window_start_ >= options_.flood_window) {
    window_start_ = now;
    window_drops_ = 0;
  }
  ++window_drops_;
  return window_drops_ >= options_.disconnect_after_drops ? Verdict::kDisconnect : Verdict::kDrop;
}

}  // namespace meshslice
