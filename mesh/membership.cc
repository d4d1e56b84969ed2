#include "mesh/membership.h"

#include <algorithm>
#include <cmath>

namespace meshslice {

namespace {
constexpr size_t kMaxGivenUp = 64;
}  // namespace

const char* verdictReasonName(VerdictReason reason) {
  switch (reason) {
    case VerdictReason::kJoined: return "joined";
    case VerdictReason::kProbeFailed: return "probe failed";
    case VerdictReason::kAccused: return "suspected by another member";
    case VerdictReason::kRefuted: return "refuted";
    case VerdictReason::kSuspicionExpired: return "confirmed dead after suspicion";
    case VerdictReason::kLeft: return "goodbye";
  }
  return "unknown";
}

Membership::Membership(Env& env, const DeviceId& self, const MembershipProfile& profile)
    : env_(env), self_(self), profile_(profile) {
  const Micros now = env_.now();
  next_probe_ = now + env_.randomBetween(0, profile_.probe_interval);  // members out of phase
  next_gossip_ = now;
  expected_tick_ = next_probe_;
}

Membership::Member* Membership::find(const DeviceId& id) {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

std::optional<MemberState> Membership::stateOf(const DeviceId& id) const {
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second.state;
}

MemberEpoch Membership::epochOf(const DeviceId& id) const {
  auto it = members_.find(id);
  return it == members_.end() ? 0 : it->second.epoch;
}

void Membership::verdict(const DeviceId& id, const Member& m, VerdictReason reason) {
  verdicts_.push_back({id, m.state, m.epoch, reason});
}

void Membership::addMember(const DeviceId& id, MemberEpoch epoch) {
  Member& m = members_[id];
  m.epoch = epoch;
  verdict(id, m, VerdictReason::kJoined);
  // A random place in the probe order keeps the round robin random for late joiners too.
  const size_t pos = probe_order_.empty() ? 0 : env_.randomU64() % (probe_order_.size() + 1);
  probe_order_.insert(probe_order_.begin() + static_cast<std::ptrdiff_t>(pos), id);
}

void Membership::linkUp(const DeviceId& peer) {
  if (peer == self_) return;
  if (Member* m = find(peer)) {
    m->direct = true;
  } else {
    addMember(peer, 0);
  }
}

void Membership::linkDown(const DeviceId& peer) {
  if (Member* m = find(peer)) m->direct = false;
}

void Membership::left(const DeviceId& peer) {
  Member* m = find(peer);
  if (!m || m->state == MemberState::kDead) return;
  m->state = MemberState::kDead;
  m->checking = false;
  verdict(peer, *m, VerdictReason::kLeft);
}

void Membership::received(const DeviceId& from, const MemberMessage& msg) {
  if (from == self_) return;
  heardFrom(from, msg.sender_epoch);
  // Updates first: a Ping that tells us we are suspected gets an Ack with the refuting epoch.
  for (const MemberUpdate& u : msg.updates) apply(from, u);
  switch (msg.type) {
    case MemberMessageType::kPing: send(from, MemberMessageType::kAck, msg.seq); break;
    case MemberMessageType::kAck: onAck(from, msg.seq); break;
    case MemberMessageType::kPingReq: onPingReq(from, msg); break;
    case MemberMessageType::kNack: onNack(from, msg.seq); break;
    case MemberMessageType::kGossip: break;
  }
  broadcastRefutation(env_.now());
  // What we now ask the host for: a tick much later than this means our loop stalled.
  expected_tick_ = nextWakeup();
}

void Membership::heardFrom(const DeviceId& from, MemberEpoch epoch) {
  Member* m = find(from);
  if (!m) {
    addMember(from, epoch);
    return;
  }
  if (epoch <= m->epoch) return;  // the same epoch proves nothing against a suspicion
  m->epoch = epoch;
  if (m->state != MemberState::kAlive) {
    m->state = MemberState::kAlive;
    m->accusers.clear();
    m->failed_checks = 0;
    verdict(from, *m, VerdictReason::kRefuted);
  }
  // Gossip about older epochs of it is stale now.
  std::erase_if(queue_, [&](const Queued& q) { return q.update.member == from && q.update.epoch < epoch; });
}

void Membership::apply(const DeviceId& from, const MemberUpdate& u) {
  (void)from;
  if (u.member == self_) {
    applyAboutSelf(u);
    return;
  }
  Member* m = find(u.member);
  // Unknown members are not learned from gossip; alive is believed from the member only. A
  // lower epoch is stale. A higher one is not believed (only the member raises it), but the
  // claim still counts against the epoch we know: any message from the member with a higher
  // epoch than that refutes it, so no third party can outbid a refutation.
  if (!m || u.state == MemberState::kAlive || u.epoch < m->epoch || u.origin == u.member) return;
  if (m->state == MemberState::kDead) return;
  if (m->state == MemberState::kAlive) {
    suspect(u.member, *m, u.origin, VerdictReason::kAccused);
    return;
  }
  // A dead claim by another member is one more accuser, never a verdict here.
  if (m->accusers.size() <= profile_.suspicion_confirmations && m->accusers.insert(u.origin).second) {
    enqueue({u.member, MemberState::kSuspect, m->epoch, u.origin});
  }
}

void Membership::applyAboutSelf(const MemberUpdate& u) {
  // Only a claim about our current epoch needs an answer: a lower one is stale, and a higher one
  // was made up (nobody heard it from us).
  if (u.state == MemberState::kAlive || u.epoch != own_epoch_) return;
  refute();
}

void Membership::refute() {
  if (own_epoch_ < kMaxMemberEpoch) ++own_epoch_;
  raiseHealth(1);  // being suspected hints that we are the slow one
  // Twice, one round apart: one lost copy must not leave a member holding the suspicion.
  refute_sends_left_ = 2;
  next_refute_ = std::max(next_refute_, env_.now());
}

void Membership::broadcastRefutation(Micros now) {
  if (refute_sends_left_ == 0 || now < next_refute_) return;
  --refute_sends_left_;
  // Rate limit: a flood of accusations costs at most one broadcast per probe timeout.
  next_refute_ = now + std::max(profile_.probe_timeout, scaled(profile_.round_timeout) / 2);
  for (const auto& [id, m] : members_) send(id, MemberMessageType::kGossip, 0);
}

void Membership::suspect(const DeviceId& id, Member& m, const DeviceId& accuser, VerdictReason reason) {
  m.state = MemberState::kSuspect;
  m.suspect_since = env_.now();
  m.accusers = {accuser};
  m.failed_checks = accuser == self_ ? 1 : 0;
  verdict(id, m, reason);
  enqueue({id, MemberState::kSuspect, m.epoch, accuser});
}

void Membership::onAck(const DeviceId& from, uint32_t seq) {
  if (auto r = relayed_.find(seq); r != relayed_.end()) {
    if (from != r->second.target) return;
    const Relayed done = r->second;
    relayed_.erase(r);
    send(done.requester, MemberMessageType::kAck, done.requester_seq);
    return;
  }
  auto it = probes_.find(seq);
  if (it == probes_.end()) {
    // An Ack for a round we already gave up: our timeouts are too short for how we run now.
    if (auto g = std::find(given_up_.begin(), given_up_.end(), seq); g != given_up_.end()) {
      given_up_.erase(g);
      raiseHealth(1);
    }
    return;
  }
  const Probe& p = it->second;
  if (from == p.target || p.relays.count(from)) finishProbe(seq, true);
}

void Membership::onNack(const DeviceId& from, uint32_t seq) {
  auto it = probes_.find(seq);
  if (it != probes_.end() && it->second.relays.count(from)) ++it->second.nacks;
}

void Membership::onPingReq(const DeviceId& from, const MemberMessage& m) {
  if (m.target == self_) {
    send(from, MemberMessageType::kAck, m.seq);
    return;
  }
  const Member* target = find(m.target);
  if (!target || m.target == from || relayed_.size() >= kMaxRelayedProbes) {
    send(from, MemberMessageType::kNack, m.seq);
    return;
  }
  const uint32_t seq = next_seq_++;
  // The requester waits for the rest of its round; our Nack must come before that ends.
  const Micros rest = scaled(profile_.round_timeout - profile_.probe_timeout);
  relayed_[seq] = Relayed{.requester = from, .target = m.target, .requester_seq = m.seq, .deadline = env_.now() + rest * 4 / 5};
  send(m.target, MemberMessageType::kPing, seq);
}

void Membership::startProbe(const DeviceId& target, bool check) {
  Member* m = find(target);
  if (!m) return;
  const uint32_t seq = next_seq_++;
  Probe& p = probes_[seq];
  p.target = target;
  p.check = check;
  p.started = env_.now();
  if (check) m->checking = true;
  if (m->direct) {
    send(target, MemberMessageType::kPing, seq);
  } else {
    p.started -= probeTimeout();  // no direct path: go indirect at once
  }
}

void Membership::finishProbe(uint32_t seq, bool reached) {
  auto it = probes_.find(seq);
  if (it == probes_.end()) return;
  const Probe p = it->second;
  probes_.erase(it);
  if (!p.check) {
    if (reached) {
      lowerHealth();
    } else if (p.relays.empty()) {
      raiseHealth(1);
    } else {
      // Relays that answered with a Nack show our own path works: only the missing Nacks hint
      // that the trouble is on our side (Lifeguard).
      // Relays we hold suspect or dead by now are not counted: their silence is their own.
      size_t alive_relays = 0;
      for (const DeviceId& r : p.relays) {
        const Member* rm = find(r);
        alive_relays += rm && rm->state == MemberState::kAlive ? 1 : 0;
      }
      const size_t missing = alive_relays - std::min(p.nacks, alive_relays);
      if (missing > 0) raiseHealth(static_cast<uint32_t>(missing));
    }
  }
  if (!reached) {
    given_up_.push_back(seq);
    if (given_up_.size() > kMaxGivenUp) given_up_.erase(given_up_.begin());
  }
  Member* m = find(p.target);
  if (!m) return;
  if (p.check) m->checking = false;
  if (m->state == MemberState::kDead) return;
  if (reached) {
    if (m->state == MemberState::kSuspect) {
      m->suspect_since = env_.now();  // the timeout counts from the last time we reached it
      m->failed_checks = 0;
    }
    return;
  }
  if (m->state == MemberState::kAlive) {
    suspect(p.target, *m, self_, VerdictReason::kProbeFailed);
    return;
  }
  ++m->failed_checks;
  if (m->accusers.size() <= profile_.suspicion_confirmations && m->accusers.insert(self_).second) {
    enqueue({p.target, MemberState::kSuspect, m->epoch, self_});
  }
}

void Membership::judgeProbes(Micros now) {
  std::vector<uint32_t> failed;
  for (auto& [seq, p] : probes_) {
    const Micros elapsed = now - p.started;
    if (elapsed >= scaled(profile_.round_timeout)) {
      failed.push_back(seq);
    } else if (!p.indirect_sent && elapsed >= probeTimeout()) {
      p.indirect_sent = true;
      const Member* m = find(p.target);
      if (m && m->direct) send(p.target, MemberMessageType::kPing, seq);  // a second direct try
      for (const DeviceId& relay : randomMembers(profile_.indirect_probes, p.target, self_)) {
        p.relays.insert(relay);
        send(relay, MemberMessageType::kPingReq, seq, p.target);
      }
    }
  }
  for (uint32_t seq : failed) finishProbe(seq, false);
}

Micros Membership::suspicionTimeout(const DeviceId& id) const {
  auto it = members_.find(id);
  const size_t k = profile_.suspicion_confirmations;
  size_t c = 0;
  if (it != members_.end() && it->second.accusers.size() > 1) c = std::min(it->second.accusers.size() - 1, k);
  const double frac = k == 0 ? 1.0 : std::log(static_cast<double>(c + 1)) / std::log(static_cast<double>(k + 1));
  const Micros span = profile_.suspicion_max - profile_.suspicion_min;
  const Micros t = profile_.suspicion_max - static_cast<Micros>(static_cast<double>(span) * frac);
  // Not stretched by local health: a slow node's check rounds are (min_failed_checks of them
  // must fail), which delays its verdicts without delaying everyone's.
  return std::max(profile_.suspicion_min, t);
}

void Membership::judgeSuspects(Micros now) {
  for (auto& [id, m] : members_) {
    if (m.state != MemberState::kSuspect || m.failed_checks < profile_.min_failed_checks) continue;
    if (now - m.suspect_since < suspicionTimeout(id)) continue;
    m.state = MemberState::kDead;
    verdict(id, m, VerdictReason::kSuspicionExpired);
    enqueue({id, MemberState::kDead, m.epoch, self_});
  }
}

void Membership::runRelays(Micros now) {
  for (auto it = relayed_.begin(); it != relayed_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    send(it->second.requester, MemberMessageType::kNack, it->second.requester_seq);
    it = relayed_.erase(it);
  }
}

void Membership::startChecks() {
  size_t running = 0;
  // Counted as nextWakeup() counts them: rounds for members still suspect.
  for (const auto& [id, m] : members_) running += m.state == MemberState::kSuspect && m.checking ? 1 : 0;
  for (auto& [id, m] : members_) {
    if (running >= kMaxConcurrentChecks) return;
    if (m.state != MemberState::kSuspect || m.checking) continue;
    startProbe(id, /*check=*/true);
    ++running;
  }
}

void Membership::tick() {
  const Micros now = env_.now();
  // Much later than we asked: this loop did not run. Acks and refutations that arrived
  // meanwhile are still unread, so judge nothing now and give every round in flight the time
  // it lost.
  const bool stalled = now > expected_tick_ + profile_.probe_timeout;
  if (stalled) {
    raiseHealth(1);
    const Micros lost = now - expected_tick_;
    for (auto& [seq, p] : probes_) p.started += lost;
    for (auto& [seq, r] : relayed_) r.deadline += lost;
  } else {
    judgeProbes(now);
    judgeSuspects(now);
    runRelays(now);
  }
  if (now >= next_probe_) {
    next_probe_ = now + probeInterval();
    if (auto target = nextProbeTarget()) startProbe(*target, /*check=*/false);
  }
  startChecks();
  gossip(now);
  broadcastRefutation(now);
  expected_tick_ = nextWakeup();
}

Micros Membership::nextWakeup() const {
  Micros t = next_probe_;
  if (!queue_.empty()) t = std::min(t, next_gossip_);
  if (refute_sends_left_ > 0) t = std::min(t, next_refute_);
  for (const auto& [seq, p] : probes_) {
    t = std::min(t, p.started + (p.indirect_sent ? scaled(profile_.round_timeout) : probeTimeout()));
  }
  for (const auto& [seq, r] : relayed_) t = std::min(t, r.deadline);
  size_t running = 0;
  bool waiting = false;  // a suspect without a check round
  for (const auto& [id, m] : members_) {
    if (m.state != MemberState::kSuspect) continue;
    running += m.checking ? 1 : 0;
    waiting = waiting || !m.checking;
    if (m.failed_checks >= profile_.min_failed_checks) t = std::min(t, m.suspect_since + suspicionTimeout(id));
  }
  // A round can start now only below the cap; otherwise a finishing round wakes us anyway.
  if (waiting && running < kMaxConcurrentChecks) return env_.now();
  return t;
}

void Membership::gossip(Micros now) {
  if (now < next_gossip_) return;
  next_gossip_ = now + profile_.gossip_interval;
  if (queue_.empty()) return;
  for (const DeviceId& to : randomMembers(profile_.gossip_fanout, self_, self_)) {
    send(to, MemberMessageType::kGossip, 0);
  }
}

void Membership::send(const DeviceId& to, MemberMessageType type, uint32_t seq, const DeviceId& target) {
  MemberMessage msg;
  msg.type = type;
  msg.sender_epoch = own_epoch_;
  msg.seq = seq;
  msg.target = target;
  // What we hold against the recipient comes first: it can refute at once.
  if (const Member* m = find(to); m && m->state != MemberState::kAlive) {
    msg.updates.push_back({to, m->state, m->epoch, self_});
  }
  std::vector<MemberUpdate> more = piggyback(to, kMaxMemberUpdates - msg.updates.size());
  msg.updates.insert(msg.updates.end(), more.begin(), more.end());
  out_.push_back({to, std::move(msg)});
}

std::vector<MemberUpdate> Membership::piggyback(const DeviceId& to, size_t max) {
  (void)to;
  std::vector<MemberUpdate> out;
  if (queue_.empty() || max == 0) return out;
  std::stable_sort(queue_.begin(), queue_.end(),
                   [](const Queued& a, const Queued& b) { return a.transmits < b.transmits; });
  const size_t limit = transmitLimit();
  for (size_t i = 0; i < queue_.size() && out.size() < max; ++i) {
    out.push_back(queue_[i].update);
    ++queue_[i].transmits;
  }
  std::erase_if(queue_, [limit](const Queued& q) { return q.transmits >= limit; });
  return out;
}

void Membership::enqueue(const MemberUpdate& u) {
  for (Queued& q : queue_) {
    if (q.update == u) return;
  }
  if (queue_.size() >= kMaxQueuedMemberUpdates) {
    // Bounded under floods: the most-sent update goes first.
    auto most = std::max_element(queue_.begin(), queue_.end(),
                                 [](const Queued& a, const Queued& b) { return a.transmits < b.transmits; });
    queue_.erase(most);
  }
  queue_.push_back({u, 0});
}

size_t Membership::transmitLimit() const {
  const double n = static_cast<double>(members_.size() + 2);  // members + us, log2(N + 1)
  return profile_.retransmit_mult * static_cast<size_t>(std::ceil(std::log2(n)));
}

std::optional<DeviceId> Membership::nextProbeTarget() {
  // Suspects are probed by their check rounds and the dead not at all.
  for (size_t tried = 0; tried < probe_order_.size(); ++tried) {
    if (probe_pos_ >= probe_order_.size()) {
      probe_pos_ = 0;
      for (size_t i = probe_order_.size(); i > 1; --i) {
        std::swap(probe_order_[i - 1], probe_order_[env_.randomU64() % i]);
      }
    }
    const DeviceId id = probe_order_[probe_pos_++];
    if (const Member* m = find(id); m && m->state == MemberState::kAlive) return id;
  }
  return std::nullopt;
}

std::vector<DeviceId> Membership::randomMembers(size_t n, const DeviceId& exclude1, const DeviceId& exclude2) {
  std::vector<DeviceId> pool;
  for (const auto& [id, m] : members_) {
    if (m.state == MemberState::kAlive && id != exclude1 && id != exclude2) pool.push_back(id);
  }
  const size_t take = std::min(n, pool.size());
  for (size_t i = 0; i < take; ++i) {
    std::swap(pool[i], pool[i + env_.randomU64() % (pool.size() - i)]);
  }
  pool.resize(take);
  return pool;
}

void Membership::raiseHealth(uint32_t by) {
  local_health_ = std::min(profile_.max_local_health, local_health_ + by);
}

void Membership::lowerHealth() {
  if (local_health_ > 0) --local_health_;
}

std::vector<MemberOutgoing> Membership::takeOutgoing() { return std::exchange(out_, {}); }
std::vector<MemberVerdict> Membership::takeVerdicts() { return std::exchange(verdicts_, {}); }

}  // namespace meshslice
