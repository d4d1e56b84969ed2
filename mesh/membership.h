// Membership: who is a member, decided by probes through several paths rather than by one link
// alone (SWIM, with the Lifeguard refinements; docs/ARCHITECTURE.md "Membership"). A pure state
// machine: inputs are link events, received membership messages (mesh/member_message.h) and the
// Env's clock (tick()); outputs are messages to send (takeOutgoing()) and verdicts
// (takeVerdicts()). No sockets, no timers of its own. Not wired into MeshCore yet.
//
// Rules:
// - Every probe period one member (randomised round robin) gets a Ping. Without an Ack within
//   probe_timeout we ping it once more and ask `indirect_probes` other members to ping it for us
//   (PingReq); an Ack relayed by any of them before round_timeout saves it. A failed round makes
//   the member suspect (we are its accuser) and the suspicion is gossiped.
// - A member's MemberEpoch is raised only by the member itself, to refute a suspicion about it;
//   it learns of one from gossip and answers every member directly. The epoch of member M is
//   believed only from messages M itself sent (the link authenticates the sender): a third
//   party's claim with a higher epoch than M told us counts against the epoch we know, and
//   third parties cannot declare M alive.
// - A suspect member is probed by every member that holds the suspicion (check rounds). One
//   becomes dead here only when (a) the suspicion timeout passed: max..min, shorter with each
//   independent accuser (log decay, Lifeguard), (b) none of our own check rounds reached it
//   since we learned of the suspicion, and (c) at least min_failed_checks of them failed. So an
//   accusation, a dead claim or a flood of them cannot evict a member we can still reach.
// - Local health (Lifeguard LHM): a score 0..max_local_health rises when our own probes fail,
//   when Acks arrive after we gave up, when relays do not even send a Nack, when we had to refute
//   and when our loop stalled; it falls with every probe answered in time. Every interval and
//   probe interval and timeout is stretched by (1 + score), so are the check rounds a dead
//   verdict waits for: a slow or starved node waits longer instead of accusing.
//   A tick() much later than nextWakeup() (a stalled loop) judges nothing: what arrived
//   meanwhile is read first.
// - Dissemination: suspicions and dead verdicts are piggybacked on every outgoing message (at
//   most kMaxMemberUpdates, least-sent first), each up to retransmit_mult * ceil(log2(N + 1))
//   times, and sent as Gossip to gossip_fanout random members every gossip_interval while any
//   is left.
//
// Loop thread only (the owner's); `env` must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/env.h"
#include "mesh/device_id.h"
#include "mesh/member_message.h"

namespace meshslice {

// Tuning knobs (not protocol): two named profiles below.
struct MembershipProfile {
  Micros probe_interval;    // one regular probe per interval
  Micros probe_timeout;     // direct Ack wait before the indirect probes
  Micros round_timeout;     // whole probe round (direct + indirect)
  size_t indirect_probes;   // k relays per failed direct probe
  Micros suspicion_min;     // suspicion timeout with >= suspicion_confirmations accusers
  Micros suspicion_max;     // suspicion timeout with one accuser
  size_t suspicion_confirmations;  // K of the log decay
  size_t min_failed_checks;        // own failed rounds needed before a dead verdict
  size_t retransmit_mult;          // lambda of lambda * log2(N + 1)
  Micros gossip_interval;
  size_t gossip_fanout;
  uint32_t max_local_health;       // LHM ceiling; timeouts stretch up to (1 + max) times
};

// A crashed member is dead <= 3 s (median, LAN); tolerates a 2 s loop stall of a live member:
// the earliest verdict comes suspicion_min after the first failed round.
inline constexpr MembershipProfile kMembershipDefault{
    .probe_interval = 500 * kMillis,
    .probe_timeout = 80 * kMillis,
    .round_timeout = 250 * kMillis,
    .indirect_probes = 3,
    .suspicion_min = 2000 * kMillis,
    .suspicion_max = 5 * kSeconds,
    .suspicion_confirmations = 2,
    .min_failed_checks = 3,
    .retransmit_mult = 3,
    .gossip_interval = 100 * kMillis,
    .gossip_fanout = 3,
    .max_local_health = 8,
};

// A crashed member is dead <= 1 s (median, LAN). A live member stalled longer than ~0.5 s is
// evicted (and rejoins when it speaks again with a higher epoch).
inline constexpr MembershipProfile kMembershipFast{
    .probe_interval = 200 * kMillis,
    .probe_timeout = 40 * kMillis,
    .round_timeout = 100 * kMillis,
    .indirect_probes = 3,
    .suspicion_min = 500 * kMillis,
    .suspicion_max = 1500 * kMillis,
    .suspicion_confirmations = 3,
    .min_failed_checks = 3,
    .retransmit_mult = 3,
    .gossip_interval = 50 * kMillis,
    .gossip_fanout = 3,
    .max_local_health = 8,
};

// Bounds against floods (not protocol).
inline constexpr size_t kMaxQueuedMemberUpdates = 256;  // gossip waiting to be sent
inline constexpr size_t kMaxConcurrentChecks = 8;       // suspects probed at once
inline constexpr size_t kMaxRelayedProbes = 64;         // PingReqs we serve at once

enum class VerdictReason : uint8_t {
  kJoined,             // first heard of (link up or a message from it)
  kProbeFailed,        // suspect: our own probe round failed
  kAccused,            // suspect: another member's suspicion reached us
  kRefuted,            // alive again: it answered with a higher epoch
  kSuspicionExpired,   // dead: suspicion timed out and our own checks failed
  kLeft,               // dead: it said goodbye
};
const char* verdictReasonName(VerdictReason reason);

struct MemberVerdict {
  DeviceId member;
  MemberState state = MemberState::kAlive;
  MemberEpoch epoch = 0;
  VerdictReason reason = VerdictReason::kJoined;
};

struct MemberOutgoing {
  DeviceId to;
  MemberMessage message;
};

class Membership {
 public:
  Membership(Env& env, const DeviceId& self, const MembershipProfile& profile);
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // A link to `peer` is up: it becomes a member (alive) if unknown, and direct probes use it.
  void linkUp(const DeviceId& peer);
  // No direct link: probes of `peer` go through relays only until linkUp().
  void linkDown(const DeviceId& peer);
  // `peer` said goodbye (authenticated by its link): dead at once.
  void left(const DeviceId& peer);
  // A message whose sender the link authenticated as `from`.
  void received(const DeviceId& from, const MemberMessage& message);
  // Runs due probes, timeouts and gossip. Call at nextWakeup() (earlier is harmless).
  void tick();
  Micros nextWakeup() const;

  std::vector<MemberOutgoing> takeOutgoing();
  std::vector<MemberVerdict> takeVerdicts();
  // Up to `max` updates for a message the host sends to `to` anyway (counted as transmitted).
  std::vector<MemberUpdate> piggyback(const DeviceId& to, size_t max);

  std::optional<MemberState> stateOf(const DeviceId& id) const;
  MemberEpoch epochOf(const DeviceId& id) const;
  MemberEpoch ownEpoch() const { return own_epoch_; }
  uint32_t localHealth() const { return local_health_; }
  // Current (health-stretched) values.
  Micros probeInterval() const { return scaled(profile_.probe_interval); }
  Micros probeTimeout() const { return scaled(profile_.probe_timeout); }
  Micros suspicionTimeout(const DeviceId& id) const;
  size_t memberCount() const { return members_.size(); }

 private:
  struct Member {
    MemberState state = MemberState::kAlive;
    MemberEpoch epoch = 0;
    bool direct = true;             // a link is up
    Micros suspect_since = 0;       // when we learned of it, or last reached it since
    std::set<DeviceId> accusers;    // distinct origins of the suspicion, capped
    size_t failed_checks = 0;       // own failed rounds since suspect_since
    bool checking = false;          // a check round is in flight
  };
  struct Probe {
    DeviceId target;
    bool check = false;             // a suspect's check round
    Micros started = 0;
    bool indirect_sent = false;
    std::set<DeviceId> relays;
    size_t nacks = 0;
  };
  struct Relayed {
    DeviceId requester;
    DeviceId target;
    uint32_t requester_seq = 0;
    Micros deadline = 0;            // Nack then
  };
  struct Queued {
    MemberUpdate update;
    size_t transmits = 0;
  };

  Micros scaled(Micros t) const { return t * (1 + static_cast<Micros>(local_health_)); }
  Member* find(const DeviceId& id);
  void addMember(const DeviceId& id, MemberEpoch epoch);
  void heardFrom(const DeviceId& from, MemberEpoch epoch);
  void apply(const DeviceId& from, const MemberUpdate& u);
  void applyAboutSelf(const MemberUpdate& u);
  void suspect(const DeviceId& id, Member& m, const DeviceId& accuser, VerdictReason reason);
  void onAck(const DeviceId& from, uint32_t seq);
  void onNack(const DeviceId& from, uint32_t seq);
  void onPingReq(const DeviceId& from, const MemberMessage& m);
  void startProbe(const DeviceId& target, bool check);
  void finishProbe(uint32_t seq, bool reached);
  void judgeProbes(Micros now);
  void judgeSuspects(Micros now);
  void runRelays(Micros now);
  void startChecks();
  void gossip(Micros now);
  void refute();
  void broadcastRefutation(Micros now);
  void send(const DeviceId& to, MemberMessageType type, uint32_t seq, const DeviceId& target = {});
  void enqueue(const MemberUpdate& u);
  size_t transmitLimit() const;
  std::optional<DeviceId> nextProbeTarget();
  std::vector<DeviceId> randomMembers(size_t n, const DeviceId& exclude1, const DeviceId& exclude2);
  void raiseHealth(uint32_t by);
  void lowerHealth();
  void verdict(const DeviceId& id, const Member& m, VerdictReason reason);

  Env& env_;
  DeviceId self_;
  MembershipProfile profile_;
  MemberEpoch own_epoch_ = 0;
  uint32_t local_health_ = 0;
  std::map<DeviceId, Member> members_;
  std::map<uint32_t, Probe> probes_;
  std::map<uint32_t, Relayed> relayed_;
  std::vector<Queued> queue_;
  std::vector<DeviceId> probe_order_;
  size_t probe_pos_ = 0;
  uint32_t next_seq_ = 1;
  Micros next_probe_ = 0;
  Micros next_gossip_ = 0;
  Micros expected_tick_ = 0;        // what nextWakeup() said at the last tick
  int refute_sends_left_ = 0;       // broadcasts of our new epoch still to send
  Micros next_refute_ = 0;
  std::vector<uint32_t> given_up_;  // seqs of recent failed rounds: a late Ack is a health signal
  std::vector<MemberOutgoing> out_;
  std::vector<MemberVerdict> verdicts_;
};

}  // namespace meshslice
