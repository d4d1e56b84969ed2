// InboundFailures: the links peers opened to us that failed before a valid Hello (or were
// refused after it), per remote host, for `meshslice peers --all`. A node that dials us with
// another mesh secret never becomes a peer; this is where it shows up. Bounded: the least
// recently failing host is forgotten first. Entries are not cleared by a later success: on one
// host (loopback, a NAT) a good and a bad node are not told apart by address. Pure bookkeeping; loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/device_id.h"

namespace meshslice {

inline constexpr size_t kMaxInboundFailureHosts = 32;

struct InboundFailure {
  std::string host;        // remote host (the port of an inbound link is ephemeral)
  std::string last_error;  // describeLinkFailure() words
  DeviceId device;         // zero unless the handshake authenticated one
  uint64_t count = 0;
  Micros last_at = 0;
};

class InboundFailures {
 public:
  // `address` is the link's remote "host:port" (or whatever the transport names it).
  void note(const std::string& address, const DeviceId& device, std::string words, Micros now);
  // Most recent first.
  std::vector<InboundFailure> snapshot() const;

 private:
  std::map<std::string, InboundFailure> by_host_;
};

}  // namespace meshslice
