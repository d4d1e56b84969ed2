// Protocol constants of Multicast DNS (RFC 6762) and DNS-SD (RFC 6763) as meshslice uses them,
// and the small value types the pure responder/querier exchange with the socket layer.
// Tuning defaults live in the options structs, not here.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/env.h"

namespace meshslice {
namespace mdns {

constexpr uint16_t kPort = 5353;
constexpr const char* kIpv4Group = "224.0.0.251";
constexpr const char* kIpv6Group = "ff02::fb";
constexpr int kMulticastTtl = 255;  // RFC 6762 §11

constexpr const char* kServiceType = "_meshslice._tcp.local";
constexpr const char* kServiceEnumeration = "_services._dns-sd._udp.local";
constexpr const char* kLocalDomain = "local";

// RFC 6762 §10: host-name records (and SRV, which names a host) 120 s, the rest 75 min.
constexpr uint32_t kHostRecordTtl = 120;
constexpr uint32_t kOtherRecordTtl = 4500;
constexpr uint32_t kLegacyUnicastMaxTtl = 10;  // RFC 6762 §6.7
// A received TTL is capped at this before it enters the cache (a hostile 2^32-1 s TTL would
// otherwise overflow the refresh arithmetic and pin an entry forever). One day is far above
// the 4500 s RFC 6762 recommends for service records.
constexpr uint32_t kMaxCachedTtl = 24 * 3600;

// §8.1 probing.
constexpr int kProbeCount = 3;
constexpr Micros kProbeInterval = 250 * kMillis;
constexpr Micros kProbeMaxInitialDelay = 250 * kMillis;
constexpr Micros kProbeDeferAfterLosingTieBreak = 1 * kSeconds;  // §8.2
constexpr int kMaxConflictsBeforeSlowdown = 15;                   // §8.1: 15 in 10 s
constexpr Micros kConflictWindow = 10 * kSeconds;
constexpr Micros kConflictSlowdown = 5 * kSeconds;

// §8.3 announcing: kAnnounceCount messages, the first two 1 s apart, then doubling.
constexpr int kAnnounceCount = 3;
constexpr Micros kAnnounceFirstInterval = 1 * kSeconds;

// §6 response timing for shared records, and the per-record multicast rate limit.
constexpr Micros kSharedResponseMinDelay = 20 * kMillis;
constexpr Micros kSharedResponseMaxDelay = 120 * kMillis;
constexpr Micros kMulticastRateLimit = 1 * kSeconds;
// §5.4: a QU question is answered by multicast instead if the record was not multicast on the
// link within this fraction (1/4) of its TTL.
constexpr int kQuMulticastTtlDivisor = 4;
// §7.2: a query with the TC bit set waits this long for its further known-answer packets.
constexpr Micros kTruncatedQueryMinWait = 400 * kMillis;
constexpr Micros kTruncatedQueryMaxWait = 500 * kMillis;

// §5.2 continuous querying.
constexpr Micros kQueryFirstInterval = 1 * kSeconds;
constexpr Micros kQueryMaxInterval = 3600 * kSeconds;
// §5.2 cache maintenance: refresh queries at 80, 85, 90, 95 % of TTL (+0..2 % jitter).
constexpr int kRefreshPercents[] = {80, 85, 90, 95};
constexpr int kRefreshJitterPercent = 2;
// §10.1 goodbye and §10.2 cache flush: keep the record one more second.
constexpr Micros kGoodbyeGrace = 1 * kSeconds;
constexpr Micros kCacheFlushGrace = 1 * kSeconds;

}  // namespace mdns

// Where a packet came from or goes to: a numeric address ("10.0.0.1", "fe80::1") and a port.
struct MdnsEndpoint {
  std::string address;
  uint16_t port = 0;
  bool operator==(const MdnsEndpoint&) const = default;
};

// A packet the pure logic wants sent: to the mDNS group of its link, or unicast to `to`.
struct MdnsOutgoing {
  Bytes data;
  bool unicast = false;
  MdnsEndpoint to;  // only when unicast
  // A one-shot query (RFC 6762 §5.1): multicast from the link's own ephemeral-port socket, so
  // responders answer it at once by unicast to that port (§6.7). A unicast reply to port 5353
  // reaches only one of the sockets bound there, which on a host where several responders share
  // the port (avahi, other nodes) is often not ours; an ephemeral port is ours alone.
  bool one_shot = false;
};

}  // namespace meshslice
