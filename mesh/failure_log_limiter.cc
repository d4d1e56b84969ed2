#include "mesh/failure_log_limiter.h"

#include <algorithm>
#include <cctype>

namespace meshslice {

std::optional<uint64_t> FailureLogLimiter::admit(const std::string& source, Micros now) {
  auto it = sources_.find(source);
  if (it == sources_.end()) {
    makeRoom(now);
    sources_.emplace(source, Entry{now, 0});
    return 1;
  }
  Entry& e = it->second;
  if (now - e.logged_at < interval_) {
    ++e.unlogged;
    return std::nullopt;
  }
  uint64_t count = e.unlogged + 1;
  e = Entry{now, 0};
  return count;
}

void FailureLogLimiter::makeRoom(Micros now) {
  if (sources_.size() < max_sources_) return;
  // Forget sources quiet for an interval (their next failure logs at once anyway), else the
  // stalest one.
  std::erase_if(sources_, [&](const auto& kv) { return now - kv.second.logged_at >= interval_; });
  if (sources_.size() < max_sources_) return;
  auto stalest = std::min_element(sources_.begin(), sources_.end(), [](const auto& a, const auto& b) {
    return a.second.logged_at < b.second.logged_at;
  });
  sources_.erase(stalest);
}

std::string failureSourceOf(const std::string& address) {
  if (size_t hash = address.rfind('#'); hash != std::string::npos) return address.substr(0, hash);
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return address;
  const bool port = std::all_of(address.begin() + static_cast<std::ptrdiff_t>(colon) + 1, address.end(),
                                [](unsigned char c) { return std::isdigit(c) != 0; });
  // A bare IPv6 address ("fe80::1") has colons but no port: only "]:" or a single colon is one.
  const bool bracketed = colon > 0 && address[colon - 1] == ']';
  const bool single = address.find(':') == colon;
  return port && (bracketed || single) ? address.substr(0, colon) : address;
}

}  // namespace meshslice
