#include "mesh/mdns_responder.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace meshslice {
namespace {

std::string recordIdentity(const DnsRecord& r) {
  return dnsNameKey(r.name) + '/' + std::to_string(r.type) + '/' + toHex(canonicalRdata(r));
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string cutUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string withSuffix(const std::string& base, const std::string& suffix) {
  return cutUtf8(base, dns::kMaxLabelLength - suffix.size()) + suffix;
}

bool isUnique(const DnsRecord& r) { return r.type != dns::kTypePtr; }

// RFC 6762 §8.2: class, then type, then the raw uncompressed rdata.
int compareForTieBreak(const DnsRecord& a, const DnsRecord& b) {
  auto ka = std::make_tuple(a.rrclass, a.type);
  auto kb = std::make_tuple(b.rrclass, b.type);
  if (ka != kb) return ka < kb ? -1 : 1;
  Bytes ra = canonicalRdata(a);
  Bytes rb = canonicalRdata(b);
  if (ra == rb) return 0;
  return std::lexicographical_compare(ra.begin(), ra.end(), rb.begin(), rb.end()) ? -1 : 1;
}

void sortForTieBreak(std::vector<DnsRecord>& v) {
  std::sort(v.begin(), v.end(),
            [](const DnsRecord& a, const DnsRecord& b) { return compareForTieBreak(a, b) < 0; });
}

}  // namespace

std::string makeMdnsInstanceName(const std::string& display_name, const std::string& device_id) {
  std::string shortid = device_id.substr(0, 8);
  std::string suffix = shortid.empty() ? "" : " (" + shortid + ")";
  std::string display = display_name.empty() ? "meshslice" : display_name;
  return withSuffix(display, suffix);
}

std::string makeMdnsHostName(const std::string& device_id) {
  std::string id;
  for (char c : device_id) {
    if (std::isalnum(static_cast<unsigned char>(c))) id += static_cast<char>(std::tolower(c));
    if (id.size() == 8) break;
  }
  return id.empty() ? "meshslice" : "meshslice-" + id;
}

MdnsResponder::MdnsResponder(MdnsServiceConfig config, uint64_t seed)
    : config_(std::move(config)), rng_(seed | 1) {
  instance_base_ = cutUtf8(config_.instance_name, dns::kMaxLabelLength);
  host_base_ = cutUtf8(config_.host_name, dns::kMaxLabelLength);
  instance_label_ = instance_base_;
  host_label_ = host_base_;
}

Micros MdnsResponder::random(Micros lo, Micros hi) {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  if (hi <= lo) return lo;
  return lo + static_cast<Micros>(rng_ % static_cast<uint64_t>(hi - lo + 1));
}

std::string MdnsResponder::instanceFullName() const {
  return escapeDnsLabel(instance_label_) + "." + mdns::kServiceType;
}

std::string MdnsResponder::hostFullName() const {
  return escapeDnsLabel(host_label_) + "." + mdns::kLocalDomain;
}

MdnsRecordSet MdnsResponder::recordSet() const {
  return MdnsRecordSet(config_, instanceFullName(), hostFullName());
}

MdnsOutgoing MdnsResponder::response(std::vector<DnsRecord> answers,
                                     std::vector<DnsRecord> extra) {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  m.answers = std::move(answers);
  m.additionals = std::move(extra);
  auto wire = writeDnsMessage(m);
  assert(wire.isOk() && "our own records must always encode");
  return MdnsOutgoing{std::move(wire).value(), false, {}};
}

MdnsOutgoing MdnsResponder::probePacket(bool first) const {
  DnsMessage m;
  for (const auto& name : {instanceFullName(), hostFullName()}) {
    m.questions.push_back({name, dns::kTypeAny, dns::kClassIn, first});
    for (auto& r : recordSet().uniqueFor(name)) {
      r.cache_flush = false;
      m.authorities.push_back(std::move(r));
    }
  }
  auto wire = writeDnsMessage(m);
  assert(wire.isOk());
  return MdnsOutgoing{std::move(wire).value(), false, {}};
}

MdnsOutgoing MdnsResponder::announcement(uint32_t ttl_override, bool goodbye) const {
  auto recs = records();
  if (goodbye) {
    for (auto& r : recs) r.ttl = ttl_override;
  }
  return response(std::move(recs), {});
}

void MdnsResponder::start(Micros now) {
  assert(state_ == State::kIdle);
  startProbing(now, random(0, mdns::kProbeMaxInitialDelay));
}

void MdnsResponder::startProbing(Micros now, Micros delay) {
  state_ = State::kProbing;
  probe_step_ = 0;
  pending_.reset();
  truncated_.clear();
  next_step_at_ = now + delay;
}

std::vector<MdnsOutgoing> MdnsResponder::poll(Micros now) {
  std::vector<MdnsOutgoing> out;
  if (state_ == State::kProbing && now >= next_step_at_) {
    if (probe_step_ < mdns::kProbeCount) {
      out.push_back(probePacket(probe_step_ == 0));
      ++probe_step_;
      next_step_at_ = now + mdns::kProbeInterval;
    } else {
      state_ = State::kAnnouncing;
      announce_step_ = 0;
      next_step_at_ = now;
    }
  }
  if (state_ == State::kAnnouncing && now >= next_step_at_) {
    out.push_back(announcement(0, false));
    noteMulticast(records(), now);
    announced_once_ = true;
    announced_label_ = instance_label_;
    ++announce_step_;
    if (announce_step_ >= mdns::kAnnounceCount) {
      state_ = State::kAnnounced;
    } else {
      next_step_at_ = now + (mdns::kAnnounceFirstInterval << (announce_step_ - 1));
    }
  }
  if (pending_ && now >= pending_->due) {
    auto answers = dropRecentlyMulticast(std::move(pending_->answers), now);
    pending_.reset();
    if (!answers.empty()) {
      noteMulticast(answers, now);
      auto extra = recordSet().additionalsFor(answers);
      out.push_back(response(std::move(answers), std::move(extra)));
    }
  }
  for (auto& due : truncated_.takeDue(now)) {
    for (auto& p : answerQuery(due.query, due.from, now, /*aggregate=*/false)) out.push_back(std::move(p));
  }
  return out;
}

std::optional<Micros> MdnsResponder::nextDeadline() const {
  std::optional<Micros> t;
  if (state_ == State::kProbing || state_ == State::kAnnouncing) t = next_step_at_;
  if (pending_ && (!t || pending_->due < *t)) t = pending_->due;
  auto held = truncated_.nextDeadline();
  if (held && (!t || *held < *t)) t = held;
  return t;
}

bool MdnsResponder::conflictsWith(const DnsRecord& theirs) const {
  if (theirs.ttl == 0) return false;  // a goodbye claims nothing
  const std::string instance = instanceFullName();
  const std::string host = hostFullName();
  if (!dnsNameEquals(theirs.name, instance) && !dnsNameEquals(theirs.name, host)) return false;
  if (theirs.type == dns::kTypeNsec) return false;  // says what a name lacks, claims no data
  for (const auto& ours : recordSet().uniqueFor(theirs.name)) {
    if (sameRecordData(ours, theirs)) return false;
  }
  return true;
}

void MdnsResponder::handleConflict(const std::string& name, Micros now) {
  ++conflicts_total_;
  std::erase_if(recent_conflicts_, [&](Micros t) { return now - t > mdns::kConflictWindow; });
  recent_conflicts_.push_back(now);
  last_multicast_.clear();  // keyed by the old names: nothing there applies any more
  if (dnsNameEquals(name, hostFullName())) {
    host_label_ = withSuffix(host_base_, "-" + std::to_string(++host_suffix_));
  } else {
    instance_label_ = withSuffix(instance_base_, " (" + std::to_string(++instance_suffix_) + ")");
  }
  Micros delay = static_cast<int>(recent_conflicts_.size()) > mdns::kMaxConflictsBeforeSlowdown
                     ? mdns::kConflictSlowdown
                     : random(0, mdns::kProbeMaxInitialDelay);
  startProbing(now, delay);
}

bool MdnsResponder::lostTieBreak(const DnsMessage& probe) const {
  for (const auto& name : {instanceFullName(), hostFullName()}) {
    std::vector<DnsRecord> theirs;
    for (const auto& r : probe.authorities) {
      if (dnsNameEquals(r.name, name)) theirs.push_back(r);
    }
    if (theirs.empty()) continue;
    auto ours = recordSet().uniqueFor(name);
    sortForTieBreak(ours);
    sortForTieBreak(theirs);
    size_t n = std::min(ours.size(), theirs.size());
    int cmp = 0;
    for (size_t i = 0; i < n && cmp == 0; ++i) cmp = compareForTieBreak(ours[i], theirs[i]);
    if (cmp == 0 && ours.size() != theirs.size()) cmp = ours.size() < theirs.size() ? -1 : 1;
    if (cmp < 0) return true;  // identical (cmp == 0) is our own probe looped back
  }
  return false;
}

std::vector<MdnsOutgoing> MdnsResponder::onMessage(const DnsMessage& message,
                                                   const MdnsEndpoint& from, Micros now) {
  if (state_ == State::kIdle || state_ == State::kStopped) return {};
  if (message.opcode() != 0 || message.rcode() != 0) return {};
  if (message.isResponse()) {
    for (const auto* section : {&message.answers, &message.additionals}) {
      for (const auto& r : *section) {
        if (!conflictsWith(r)) continue;
        if (state_ == State::kProbing) {
          handleConflict(r.name, now);
        } else {
          startProbing(now, 0);  // §9: reset to probing; the probe decides who keeps the name
        }
        return {};
      }
    }
    return {};
  }
  if (state_ == State::kProbing) {
    if (lostTieBreak(message)) startProbing(now, mdns::kProbeDeferAfterLosingTieBreak);
    return {};
  }
  // §7.2: a truncated query's known answers continue in further packets; probes (which carry
  // claims, not known answers) and legacy queriers (who send no such packets) are not held.
  const bool legacy = from.port != config_.mdns_port;
  if (!legacy && message.authorities.empty() && (message.truncated() || truncated_.holds(from)) &&
      truncated_.absorb(message, from, now, random(mdns::kTruncatedQueryMinWait, mdns::kTruncatedQueryMaxWait))) {
    return {};
  }
  return answerQuery(message, from, now, /*aggregate=*/true);
}

std::vector<MdnsOutgoing> MdnsResponder::answerQuery(const DnsMessage& query,
                                                     const MdnsEndpoint& from, Micros now,
                                                     bool aggregate) {
  if (state_ != State::kAnnounced && state_ != State::kAnnouncing) return {};
  const bool legacy = from.port != config_.mdns_port;
  const MdnsRecordSet set = recordSet();
  std::vector<DnsRecord> multicast, unicast;
  auto has = [](const std::vector<DnsRecord>& v, const DnsRecord& r) {
    return std::any_of(v.begin(), v.end(), [&](const auto& x) { return sameRecordData(x, r); });
  };
  for (const auto& q : query.questions) {
    if (q.qclass != dns::kClassIn && q.qclass != dns::kClassAny) continue;
    for (auto& r : set.answersFor(q.name, q.type)) {
      // §7.1: the asker already holds this record with at least half its TTL left.
      bool known = std::any_of(query.answers.begin(), query.answers.end(), [&](const auto& k) {
        return sameRecordData(k, r) && k.ttl >= r.ttl / 2;
      });
      if (known || has(multicast, r) || has(unicast, r)) continue;
      // §5.4: QU gets a unicast answer only if the link's caches saw the record recently.
      Micros quarter = static_cast<Micros>(r.ttl) * kSeconds / mdns::kQuMulticastTtlDivisor;
      bool by_unicast = legacy || (q.unicast_response && multicastWithin(r, now, quarter));
      (by_unicast ? unicast : multicast).push_back(std::move(r));
    }
  }
  std::vector<MdnsOutgoing> out;
  if (!unicast.empty()) {
    auto extra = set.additionalsFor(unicast);
    if (legacy) return {legacyReply(query, from, std::move(unicast), std::move(extra))};
    MdnsOutgoing u = response(std::move(unicast), std::move(extra));
    u.unicast = true;
    u.to = from;
    out.push_back(std::move(u));
  }
  if (!query.authorities.empty()) {
    // A probe for one of our names: defend it at once (§8.1), even if just multicast.
    if (!multicast.empty()) {
      noteMulticast(multicast, now);
      auto extra = set.additionalsFor(multicast);
      out.push_back(response(std::move(multicast), std::move(extra)));
    }
    return out;
  }
  // Unique records go out at once (§6); shared ones aggregate, unless a §7.2 wait delayed them.
  const bool at_once = !aggregate || std::all_of(multicast.begin(), multicast.end(), isUnique);
  for (auto& p : multicastAnswers(std::move(multicast), at_once, now)) out.push_back(std::move(p));
  return out;
}

std::vector<MdnsOutgoing> MdnsResponder::multicastAnswers(std::vector<DnsRecord> answers, bool at_once,
                                                          Micros now) {
  if (answers.empty()) return {};
  if (at_once) {
    answers = dropRecentlyMulticast(std::move(answers), now);
    if (answers.empty()) return {};
    noteMulticast(answers, now);
    auto extra = recordSet().additionalsFor(answers);
    return {response(std::move(answers), std::move(extra))};
  }
  // Shared answers wait 20-120 ms so that several queries and responders aggregate.
  if (!pending_) {
    pending_ = PendingAnswer{now + random(mdns::kSharedResponseMinDelay, mdns::kSharedResponseMaxDelay), {}};
  }
  for (auto& r : answers) {
    auto same = [&](const DnsRecord& x) { return sameRecordData(x, r); };
    if (std::none_of(pending_->answers.begin(), pending_->answers.end(), same))
      pending_->answers.push_back(std::move(r));
  }
  return {};
}

bool MdnsResponder::multicastWithin(const DnsRecord& record, Micros now, Micros window) const {
  auto it = last_multicast_.find(recordIdentity(record));
  return it != last_multicast_.end() && now - it->second < window;
}

MdnsOutgoing MdnsResponder::legacyReply(const DnsMessage& query, const MdnsEndpoint& from,
                                        std::vector<DnsRecord> answers,
                                        std::vector<DnsRecord> extra) const {
  DnsMessage m;
  m.id = query.id;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  m.questions = query.questions;
  for (auto& q : m.questions) q.unicast_response = false;
  for (auto* section : {&answers, &extra}) {
    for (auto& r : *section) {
      r.ttl = std::min(r.ttl, mdns::kLegacyUnicastMaxTtl);
      r.cache_flush = false;  // §6.7: legacy resolvers would misread the class
    }
  }
  m.answers = std::move(answers);
  m.additionals = std::move(extra);
  auto wire = writeDnsMessage(m);
  if (!wire) return MdnsOutgoing{};  // the echoed questions did not fit: send nothing
  return MdnsOutgoing{std::move(wire).value(), true, from};
}

std::vector<DnsRecord> MdnsResponder::dropRecentlyMulticast(std::vector<DnsRecord> recs,
                                                            Micros now) const {
  std::erase_if(recs, [&](const DnsRecord& r) { return multicastWithin(r, now, mdns::kMulticastRateLimit); });
  return recs;
}

void MdnsResponder::noteMulticast(const std::vector<DnsRecord>& recs, Micros now) {
  for (const auto& r : recs) last_multicast_[recordIdentity(r)] = now;
}

void MdnsResponder::setAddresses(std::vector<std::array<uint8_t, 4>> ipv4,
                                 std::vector<std::array<uint8_t, 16>> ipv6, Micros now) {
  if (ipv4 == config_.ipv4 && ipv6 == config_.ipv6) return;
  config_.ipv4 = std::move(ipv4);
  config_.ipv6 = std::move(ipv6);
  if (state_ == State::kAnnounced || state_ == State::kAnnouncing) {
    state_ = State::kAnnouncing;
    announce_step_ = 0;
    next_step_at_ = now;
  }
}

std::vector<MdnsOutgoing> MdnsResponder::stop() {
  std::vector<MdnsOutgoing> out;
  if (announced_once_ && state_ != State::kStopped) out.push_back(announcement(0, true));
  state_ = State::kStopped;
  pending_.reset();
  truncated_.clear();
  return out;
}

}  // namespace meshslice
