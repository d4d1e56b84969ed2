// The advertising half of mDNS/DNS-SD for one link, as pure logic: it owns the records of our
// `_meshslice._tcp.local` instance and host name, probes for them (RFC 6762 §8.1) and resolves
// conflicts (§8.2, §9), announces (§8.3), answers queries (§6, with known-answer suppression
// §7.1, truncated known-answer lists §7.2, QU §5.4, negative answers §6.1 and legacy unicast
// §6.7) and says goodbye (§10.1).
//
// QU (§5.4): a question with the unicast-response bit is answered by unicast to the asker if
// the record was multicast on this link within a quarter of its TTL (so a starting node's
// first query, which sets QU, is answered at once by running peers that announced recently);
// otherwise the answer is multicast, to refresh every cache on the link.
//
// No sockets and no clocks: the caller feeds it the time, decoded messages and the sender's
// endpoint, sends the returned packets on the link, and calls poll() at nextDeadline().
// Single-threaded; the owner (MdnsDiscovery) runs it on its loop thread.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"
#include "mesh/mdns_record_set.h"
#include "mesh/mdns_truncated_queries.h"

namespace meshslice {

// "<display> (<first 8 characters of the device ID>)", cut to fit one DNS label.
std::string makeMdnsInstanceName(const std::string& display_name, const std::string& device_id);
// "meshslice-<first 8 lower-case alphanumerics of the device ID>".
std::string makeMdnsHostName(const std::string& device_id);

class MdnsResponder {
 public:
  enum class State { kIdle, kProbing, kAnnouncing, kAnnounced, kStopped };

  // `seed` drives the random delays the RFC asks for (initial probe, shared answers).
  MdnsResponder(MdnsServiceConfig config, uint64_t seed);

  // Schedules the first probe 0-250 ms from `now`.
  void start(Micros now);
  // Does whatever is due at `now` (probes, announcements, delayed answers, truncated queries
  // whose wait is over).
  std::vector<MdnsOutgoing> poll(Micros now);
  // Handles one decoded message received on the link from `from`.
  std::vector<MdnsOutgoing> onMessage(const DnsMessage& message, const MdnsEndpoint& from,
                                      Micros now);
  // Replaces the host addresses; once announced, announces the new set again.
  void setAddresses(std::vector<std::array<uint8_t, 4>> ipv4,
                    std::vector<std::array<uint8_t, 16>> ipv6, Micros now);
  // Goodbye (TTL 0) for every record that was announced; afterwards the responder is inert.
  std::vector<MdnsOutgoing> stop();
  // When poll() next has work, or nullopt.
  std::optional<Micros> nextDeadline() const;

  State state() const { return state_; }
  // Current instance label (after any conflict renames) and full names.
  const std::string& instanceName() const { return instance_label_; }
  std::string instanceFullName() const;
  std::string hostFullName() const;
  int conflictCount() const { return conflicts_total_; }
  // The instance label of the last announcement sent ("" before the first): once it equals
  // instanceName(), the current records are live on the link.
  const std::string& announcedInstance() const { return announced_label_; }
  // Every record we publish now, with their normal TTLs.
  std::vector<DnsRecord> records() const { return recordSet().all(); }
  // Truncated queries waiting for their known answers (§7.2).
  size_t heldQueries() const { return truncated_.held(); }

 private:
  struct PendingAnswer {
    Micros due = 0;
    std::vector<DnsRecord> answers;
  };

  Micros random(Micros lo, Micros hi);
  MdnsRecordSet recordSet() const;
  MdnsOutgoing probePacket(bool first) const;
  MdnsOutgoing announcement(uint32_t ttl_override, bool goodbye) const;
  void startProbing(Micros now, Micros delay);
  bool conflictsWith(const DnsRecord& theirs) const;
  void handleConflict(const std::string& name, Micros now);
  bool lostTieBreak(const DnsMessage& probe) const;
  // `aggregate`: shared answers wait 20-120 ms to merge with other queries' (not after a §7.2
  // wait, which already delayed them).
  std::vector<MdnsOutgoing> answerQuery(const DnsMessage& query, const MdnsEndpoint& from,
                                        Micros now, bool aggregate);
  std::vector<MdnsOutgoing> multicastAnswers(std::vector<DnsRecord> answers, bool at_once, Micros now);
  bool multicastWithin(const DnsRecord& record, Micros now, Micros window) const;
  MdnsOutgoing legacyReply(const DnsMessage& query, const MdnsEndpoint& from,
                           std::vector<DnsRecord> answers, std::vector<DnsRecord> extra) const;
  std::vector<DnsRecord> dropRecentlyMulticast(std::vector<DnsRecord> records, Micros now) const;
  void noteMulticast(const std::vector<DnsRecord>& records, Micros now);
  static MdnsOutgoing response(std::vector<DnsRecord> answers, std::vector<DnsRecord> extra);

  MdnsServiceConfig config_;
  uint64_t rng_;
  State state_ = State::kIdle;
  std::string instance_base_;
  std::string host_base_;
  std::string instance_label_;
  std::string host_label_;
  int instance_suffix_ = 1;
  int host_suffix_ = 1;
  int probe_step_ = 0;
  int announce_step_ = 0;
  Micros next_step_at_ = 0;
  bool announced_once_ = false;
  std::string announced_label_;
  std::vector<Micros> recent_conflicts_;
  int conflicts_total_ = 0;
  std::optional<PendingAnswer> pending_;
  MdnsTruncatedQueries truncated_;
  std::map<std::string, Micros> last_multicast_;  // record identity -> time
};

}  // namespace meshslice
