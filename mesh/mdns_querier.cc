#include "mesh/mdns_querier.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "transport/address.h"

namespace meshslice {
namespace {

constexpr Micros kNever = std::numeric_limits<Micros>::max();
constexpr size_t kMaxQuestionsPerQuery = 64;
constexpr int kRefreshStages = static_cast<int>(std::size(mdns::kRefreshPercents));

std::string identity(const DnsRecord& r) {
  return dnsNameKey(r.name) + '/' + std::to_string(r.type) + '/' + toHex(canonicalRdata(r));
}

bool endsWithLabel(const std::string& name, const std::string& suffix) {
  if (name.size() <= suffix.size() + 1) return false;
  size_t at = name.size() - suffix.size();
  return name[at - 1] == '.' && dnsNameEquals(std::string_view(name).substr(at), suffix);
}

bool samePeer(const DiscoveredPeer& a, const DiscoveredPeer& b) {
  return a.key == b.key && a.device_id == b.device_id && a.endpoints == b.endpoints &&
         a.protocol_version == b.protocol_version;
}

}  // namespace

MdnsQuerier::MdnsQuerier(MdnsBrowseConfig config, uint64_t seed)
    : config_(std::move(config)), rng_(seed | 1) {}

void MdnsQuerier::start(Micros now) {
  started_ = true;
  first_query_ = true;
  next_query_ = now;
  query_interval_ = mdns::kQueryFirstInterval;
}

void MdnsQuerier::scheduleRefresh(Entry& e) {
  if (e.refresh_stage >= kRefreshStages || e.record.ttl == 0) {
    e.next_refresh = kNever;
    return;
  }
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  Micros ttl = static_cast<Micros>(e.record.ttl) * kSeconds;
  // Percent and jitter in units of 1/100 %, so short TTLs keep their precision.
  Micros jitter = static_cast<Micros>(rng_ % (mdns::kRefreshJitterPercent * 100 + 1));
  e.next_refresh = e.received + ttl * (mdns::kRefreshPercents[e.refresh_stage] * 100 + jitter) / 10000;
}

bool MdnsQuerier::wantsRecord(const DnsRecord& r) const {
  if (r.rrclass != dns::kClassIn) return false;
  switch (r.type) {
    case dns::kTypePtr:
      return dnsNameEquals(r.name, config_.service) && endsWithLabel(r.ptr, config_.service);
    case dns::kTypeSrv:
    case dns::kTypeTxt:
      return endsWithLabel(r.name, config_.service);
    case dns::kTypeA:
    case dns::kTypeAaaa:
      return std::any_of(cache_.begin(), cache_.end(), [&](const auto& kv) {
        return kv.second.record.type == dns::kTypeSrv &&
               dnsNameEquals(kv.second.record.srv.target, r.name);
      });
    default:
      return false;
  }
}

void MdnsQuerier::cacheRecord(const DnsRecord& r, Micros now) {
  if (!wantsRecord(r)) return;
  const std::string key = identity(r);
  auto it = cache_.find(key);
  if (r.ttl == 0) {  // goodbye: keep it one more second (§10.1)
    if (it != cache_.end()) {
      it->second.expires = std::min(it->second.expires, now + mdns::kGoodbyeGrace);
      it->second.next_refresh = kNever;
    }
    return;
  }
  if (r.cache_flush) {  // §10.2: other data for this name and type is stale
    for (auto& [k, e] : cache_) {
      if (k == key || e.record.type != r.type || !dnsNameEquals(e.record.name, r.name)) continue;
      if (now - e.received <= mdns::kCacheFlushGrace) continue;
      e.expires = std::min(e.expires, now + mdns::kCacheFlushGrace);
      e.next_refresh = kNever;
    }
  }
  if (it == cache_.end()) {
    if (cache_.size() >= kMaxCacheEntries) return;
    it = cache_.emplace(key, Entry{}).first;
  }
  Entry& e = it->second;
  e.record = r;
  e.record.cache_flush = false;
  e.record.ttl = std::min(r.ttl, mdns::kMaxCachedTtl);
  e.received = now;
  e.expires = now + static_cast<Micros>(e.record.ttl) * kSeconds;
  e.refresh_stage = 0;
  scheduleRefresh(e);
}

void MdnsQuerier::onMessage(const DnsMessage& m, Micros now) {
  if (!m.isResponse() || m.opcode() != 0 || m.rcode() != 0) return;
  // Addresses are only wanted for SRV targets, so take every other record first.
  for (bool addresses : {false, true}) {
    for (const auto* section : {&m.answers, &m.additionals}) {
      for (const auto& r : *section) {
        bool is_address = r.type == dns::kTypeA || r.type == dns::kTypeAaaa;
        if (is_address == addresses) cacheRecord(r, now);
      }
    }
  }
  updatePendingQuestions(now);
  updateViews();
}

void MdnsQuerier::expire(Micros now) {
  std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires <= now; });
}

std::vector<const MdnsQuerier::Entry*> MdnsQuerier::find(const std::string& name,
                                                          uint16_t type) const {
  std::vector<const Entry*> out;
  for (const auto& [k, e] : cache_) {
    if (e.record.type == type && dnsNameEquals(e.record.name, name)) out.push_back(&e);
  }
  return out;
}

std::string MdnsQuerier::endpoint(const DnsRecord& r, uint16_t port) const {
  char text[INET6_ADDRSTRLEN] = {};
  if (r.type == dns::kTypeA) {
    inet_ntop(AF_INET, r.a.data(), text, sizeof text);
    return joinHostPort(text, port);
  }
  inet_ntop(AF_INET6, r.aaaa.data(), text, sizeof text);
  std::string host = text;
  bool link_local = r.aaaa[0] == 0xfe && (r.aaaa[1] & 0xc0) == 0x80;
  if (link_local && !config_.interface_name.empty()) host += "%" + config_.interface_name;
  return joinHostPort(host, port);
}

std::optional<DiscoveredPeer> MdnsQuerier::view(const std::string& instance) const {
  auto srvs = find(instance, dns::kTypeSrv);
  auto txts = find(instance, dns::kTypeTxt);
  if (srvs.empty() || txts.empty()) return std::nullopt;
  const DnsSrv& srv = (*std::min_element(srvs.begin(), srvs.end(), [](auto* a, auto* b) {
                        return a->record.srv.priority < b->record.srv.priority;
                      }))->record.srv;
  TxtAttributes attrs = parseTxtAttributes(txts.front()->record.txt);
  auto text = [&](const char* key) {
    auto it = attrs.find(key);
    return it != attrs.end() && it->second ? *it->second : std::string();
  };
  if (!config_.own_device_id.empty() && text("id") == config_.own_device_id) return std::nullopt;
  if (text("mesh") != config_.mesh_tag) return std::nullopt;
  DiscoveredPeer peer;
  peer.key = instance;
  peer.device_id = text("id");
  std::string v = text("v");
  uint32_t version = 0;
  auto parsed = std::from_chars(v.data(), v.data() + v.size(), version);
  peer.protocol_version = parsed.ec == std::errc() ? version : 0;
  for (uint16_t type : {dns::kTypeA, dns::kTypeAaaa}) {
    std::vector<std::string> group;  // IPv4 first, each family in a stable order
    for (const Entry* e : find(srv.target, type)) group.push_back(endpoint(e->record, srv.port));
    std::sort(group.begin(), group.end());
    peer.endpoints.insert(peer.endpoints.end(), group.begin(), group.end());
  }
  if (peer.endpoints.empty()) return std::nullopt;
  return peer;
}

void MdnsQuerier::updateViews() {
  std::set<std::string> seen;
  for (const Entry* ptr : find(config_.service, dns::kTypePtr)) {
    const std::string& instance = ptr->record.ptr;
    if (!seen.insert(instance).second) continue;
    auto peer = view(instance);
    auto it = reported_.find(instance);
    if (!peer) {
      seen.erase(instance);
      continue;
    }
    if (it == reported_.end() || !samePeer(it->second, *peer)) {
      reported_[instance] = *peer;
      events_.push_back({true, *peer});
    }
  }
  for (auto it = reported_.begin(); it != reported_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    MdnsBrowseEvent lost;
    lost.peer.key = it->first;
    events_.push_back(std::move(lost));
    it = reported_.erase(it);
  }
}

void MdnsQuerier::updatePendingQuestions(Micros now) {
  std::map<std::string, PendingQuestion> wanted;
  auto want = [&](const std::string& name, uint16_t type) {
    std::string key = std::to_string(type) + "/" + dnsNameKey(name);
    auto old = pending_.find(key);
    wanted[key] = old != pending_.end() ? old->second : PendingQuestion{name, type, now};
  };
  for (const Entry* ptr : find(config_.service, dns::kTypePtr)) {
    const std::string& instance = ptr->record.ptr;
    auto txts = find(instance, dns::kTypeTxt);
    if (txts.empty()) want(instance, dns::kTypeTxt);
    auto srvs = find(instance, dns::kTypeSrv);
    if (srvs.empty()) want(instance, dns::kTypeSrv);
    if (!txts.empty()) {
      auto attrs = parseTxtAttributes(txts.front()->record.txt);
      auto mesh = attrs.find("mesh");
      if (mesh == attrs.end() || mesh->second != config_.mesh_tag) continue;  // not ours
    }
    for (const Entry* srv : srvs) {
      const std::string& target = srv->record.srv.target;
      if (find(target, dns::kTypeA).empty() && find(target, dns::kTypeAaaa).empty()) {
        want(target, dns::kTypeA);
        want(target, dns::kTypeAaaa);
      }
    }
  }
  pending_ = std::move(wanted);
}

std::vector<MdnsOutgoing> MdnsQuerier::poll(Micros now) {
  expire(now);
  DnsMessage q;
  auto ask = [&](const std::string& name, uint16_t type) {
    for (const auto& x : q.questions) {
      if (x.type == type && dnsNameEquals(x.name, name)) return;
    }
    if (q.questions.size() < kMaxQuestionsPerQuery) q.questions.push_back({name, type, dns::kClassIn, false});
  };
  bool one_shot = false;
  if (started_ && now >= next_query_) {
    ask(config_.service, dns::kTypePtr);
    if (first_query_ && config_.unicast_first_query) {
      q.questions.back().unicast_response = true;  // if sent from port 5353 after all
      one_shot = true;
    }
    first_query_ = false;
    for (const Entry* e : find(config_.service, dns::kTypePtr)) {
      Micros left = e->expires - now;
      if (left * 2 <= static_cast<Micros>(e->record.ttl) * kSeconds) continue;
      if (q.answers.size() >= kMaxKnownAnswers) break;
      DnsRecord known = e->record;
      known.ttl = static_cast<uint32_t>(left / kSeconds);
      q.answers.push_back(std::move(known));
    }
    next_query_ = now + query_interval_;
    query_interval_ = std::min(query_interval_ * 2, mdns::kQueryMaxInterval);
  }
  for (auto& [k, e] : cache_) {
    if (e.next_refresh > now) continue;
    ask(e.record.name, e.record.type);
    ++e.refresh_stage;
    scheduleRefresh(e);
  }
  if (started_) {
    for (auto& [k, p] : pending_) {
      if (p.next > now) continue;
      ask(p.name, p.type);
      p.next = now + p.interval;
      p.interval = std::min(p.interval * 2, kResolveMaxInterval);
    }
  }
  updatePendingQuestions(now);
  updateViews();
  if (q.questions.empty()) return {};
  auto wire = writeDnsMessage(q);
  if (!wire) return {};  // a cached name that cannot be re-encoded: skip this round
  MdnsOutgoing out{std::move(wire).value(), false, {}};
  out.one_shot = one_shot;
  return {std::move(out)};
}

std::optional<Micros> MdnsQuerier::nextDeadline() const {
  Micros t = started_ ? next_query_ : kNever;
  for (const auto& [k, e] : cache_) t = std::min({t, e.expires, e.next_refresh});
  if (started_) {
    for (const auto& [k, p] : pending_) t = std::min(t, p.next);
  }
  if (t == kNever) return std::nullopt;
  return t;
}

std::vector<MdnsBrowseEvent> MdnsQuerier::takeEvents() { return std::exchange(events_, {}); }

}  // namespace meshslice
