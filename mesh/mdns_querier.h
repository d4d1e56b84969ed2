// The browsing half of mDNS/DNS-SD for one link, as pure logic: continuous querying for
// `_meshslice._tcp.local` PTR records (RFC 6762 §5.2) with known-answer lists (§7.1), a TTL
// cache with refresh queries, cache-flush (§10.2) and goodbye (§10.1) handling, and resolution
// of SRV/TXT/A/AAAA for every instance found. It reports an instance as found once it is fully
// resolved, again when its endpoints or advertised data change, and as lost when it goes away.
//
// No sockets and no clocks: the caller feeds time and decoded responses, sends the returned
// queries to the link's group, calls poll() at nextDeadline() and drains takeEvents().
// Single-threaded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mesh/discovery.h"
#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

struct MdnsBrowseConfig {
  std::string service = mdns::kServiceType;
  std::string own_device_id;   // adverts with this TXT "id" are our own: ignored
  std::string mesh_tag;        // adverts whose TXT "mesh" differs are another mesh: ignored
  std::string interface_name;  // zone for IPv6 link-local endpoints ("fe80::1%eth0")
  // Makes the first query after start() a one-shot query (MdnsOutgoing::one_shot, RFC 6762
  // §5.1) with the QU bit set (§5.4, in case it is sent from port 5353 after all): responders
  // answer it at once by unicast instead of waiting out the 20-120 ms shared-answer delay and
  // the 1 s per-record multicast limit, so a node that starts finds running peers in one round
  // trip. Their replies to a one-shot query carry TTLs of at most 10 s (§6.7); the continuous
  // queries that follow from port 5353 get the full ones.
  bool unicast_first_query = false;
};

struct MdnsBrowseEvent {
  bool found = false;   // false: lost
  DiscoveredPeer peer;  // found: the full advert; lost: only key is set
};

class MdnsQuerier {
 public:
  static constexpr size_t kMaxCacheEntries = 512;
  static constexpr size_t kMaxKnownAnswers = 64;
  static constexpr Micros kResolveFirstInterval = 1 * kSeconds;
  static constexpr Micros kResolveMaxInterval = 60 * kSeconds;

  MdnsQuerier(MdnsBrowseConfig config, uint64_t seed);

  // The first query goes out at the first poll() at or after `now`.
  void start(Micros now);
  std::vector<MdnsOutgoing> poll(Micros now);
  // Caches the answer and additional records of a response; ignores queries.
  void onMessage(const DnsMessage& message, Micros now);
  std::optional<Micros> nextDeadline() const;
  std::vector<MdnsBrowseEvent> takeEvents();

  size_t cacheSize() const { return cache_.size(); }
  Micros queryInterval() const { return query_interval_; }

 private:
  struct Entry {
    DnsRecord record;
    Micros received = 0;
    Micros expires = 0;
    int refresh_stage = 0;  // index into mdns::kRefreshPercents
    Micros next_refresh = 0;
  };
  struct PendingQuestion {
    std::string name;
    uint16_t type = 0;
    Micros next = 0;
    Micros interval = kResolveFirstInterval;
  };

  void cacheRecord(const DnsRecord& record, Micros now);
  void scheduleRefresh(Entry& e);
  void expire(Micros now);
  std::vector<const Entry*> find(const std::string& name, uint16_t type) const;
  std::optional<DiscoveredPeer> view(const std::string& instance) const;
  void updateViews();
  void updatePendingQuestions(Micros now);
  bool wantsRecord(const DnsRecord& r) const;
  std::string endpoint(const DnsRecord& address, uint16_t port) const;

  MdnsBrowseConfig config_;
  uint64_t rng_;
  bool started_ = false;
  bool first_query_ = false;  // the next service query is the first since start()
  Micros next_query_ = 0;
  Micros query_interval_ = 0;
  std::map<std::string, Entry> cache_;  // name/type/rdata identity -> entry
  std::map<std::string, PendingQuestion> pending_;  // "type/name" -> resolution query
  std::map<std::string, DiscoveredPeer> reported_;  // instance key -> last found event
  std::vector<MdnsBrowseEvent> events_;
};

}  // namespace meshslice
