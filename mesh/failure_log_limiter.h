// FailureLogLimiter: at most one log line per interval for a repeating failure of one source
// (e.g. a host whose handshakes keep failing: a wrong mesh secret retried every few seconds),
// with the number of failures since the last line. No I/O and no clock of its own: the caller
// passes the time (Env::now()), so tests step it. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/env.h"

namespace meshslice {

// One line a minute per failing source; tuning, not protocol.
inline constexpr Micros kFailureLogInterval = 60 * kSeconds;
// Sources remembered at once; past that the stalest are forgotten (and log again at once).
inline constexpr size_t kMaxFailureLogSources = 256;

class FailureLogLimiter {
 public:
  explicit FailureLogLimiter(Micros interval = kFailureLogInterval, size_t max_sources = kMaxFailureLogSources)
      : interval_(interval), max_sources_(max_sources) {}

  // Notes one failure of `source` at `now`. Returns the number of failures the line to log now
  // stands for (1 for the first, N for the first after an interval that saw N-1 others), or
  // nullopt when this one is only counted.
  std::optional<uint64_t> admit(const std::string& source, Micros now);

  size_t trackedSources() const { return sources_.size(); }

 private:
  struct Entry {
    Micros logged_at = 0;
    uint64_t unlogged = 0;  // failures counted since the last line
  };
  void makeRoom(Micros now);

  Micros interval_;
  size_t max_sources_;
  std::map<std::string, Entry> sources_;
};

// The host part of a link address, so that every connection of one host counts as one source:
// "192.0.2.7:41234" -> "192.0.2.7", "[fe80::1]:7070" -> "[fe80::1]", "mem-a#12" -> "mem-a".
std::string failureSourceOf(const std::string& address);

}  // namespace meshslice
