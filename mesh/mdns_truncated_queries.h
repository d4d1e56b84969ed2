// MdnsTruncatedQueries: RFC 6762 §7.2 for a responder. A multicast query with the TC bit set
// says more known answers follow in further packets from the same querier; the responder
// holds it for 400-500 ms (the caller picks the random wait), merges the questions and known
// answers of the packets that follow from the same source address and port, and answers the
// merged query when the wait is over. Pure logic with explicit time; single-threaded.
//
// Bounded: at most kMaxHeld queriers are held at once (absorb() refuses more: answer those at
// once), and a held query keeps at most kMaxQuestions questions and kMaxKnownAnswers answers
// (later ones are dropped: at worst we answer something the querier already knew).
#pragma once

#include <map>
#include <string>
#include <optional>
#include <utility>
#include <vector>

#include "mesh/dns_message.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

class MdnsTruncatedQueries {
 public:
  static constexpr size_t kMaxHeld = 32;
  static constexpr size_t kMaxQuestions = 64;
  static constexpr size_t kMaxKnownAnswers = 512;

  struct Due {
    MdnsEndpoint from;
    DnsMessage query;  // the merged query
  };

  // Takes `query` if it has the TC bit set (a new hold, due `wait` from `now`) or comes from
  // a querier already held (merged into its query). Returns false if the caller should answer
  // it now: not truncated and nothing held for `from`, or too many queriers held.
  bool absorb(const DnsMessage& query, const MdnsEndpoint& from, Micros now, Micros wait);
  // The held queries whose wait is over at `now`, oldest first; they are no longer held.
  std::vector<Due> takeDue(Micros now);
  std::optional<Micros> nextDeadline() const;
  bool holds(const MdnsEndpoint& from) const { return held_.count(Key{from.address, from.port}) > 0; }
  size_t held() const { return held_.size(); }
  void clear() { held_.clear(); }

 private:
  struct Held {
    Micros due = 0;
    DnsMessage query;
  };
  using Key = std::pair<std::string, uint16_t>;  // source address, port
  std::map<Key, Held> held_;
};

}  // namespace meshslice
