#include "mesh/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/fake_env.h"

namespace meshslice {
namespace {

DeviceId member(uint8_t n) {
  DeviceId::Raw raw{};
  raw[0] = 0x77;
  raw[19] = n;
  return DeviceId(raw);
}

// N members on one FakeEnv, every message delivered after `delay` unless `drop` says otherwise
// (and `extra_delay` may add to it). Time moves in 1 ms steps; each member ticks when it asked.
class Net {
 public:
  using Rule = std::function<bool(size_t from, size_t to, const MemberMessage&)>;
  using DelayRule = std::function<Micros(size_t from, size_t to, const MemberMessage&)>;

  explicit Net(size_t n, const MembershipProfile& profile = kMembershipDefault, uint64_t seed = 42) : env_(seed) {
    for (size_t i = 0; i < n; ++i) nodes_.push_back(std::make_unique<Membership>(env_, member(static_cast<uint8_t>(i)), profile));
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (i != j) nodes_[i]->linkUp(member(static_cast<uint8_t>(j)));
      }
      collect(i);
      verdicts_[i].clear();
    }
  }

  Membership& at(size_t i) { return *nodes_[i]; }
  FakeEnv& env() { return env_; }
  Rule drop = [](size_t, size_t, const MemberMessage&) { return false; };
  DelayRule extra_delay = [](size_t, size_t, const MemberMessage&) { return Micros{0}; };
  std::vector<bool> frozen = std::vector<bool>(16, false);  // a frozen member neither runs nor answers
  std::map<size_t, std::vector<MemberVerdict>> verdicts_;  // by observer
  std::map<std::pair<size_t, MemberMessageType>, size_t> sent_;  // by sender and type
  size_t sent(size_t from, MemberMessageType type) { return sent_[{from, type}]; }

  // Delivers `m` to `to` as if `from` sent it (for hostile members the test plays itself).
  void inject(size_t from, size_t to, const MemberMessage& m) {
    nodes_[to]->received(member(static_cast<uint8_t>(from)), m);
    collect(to);
  }

  void run(Micros duration) {
    const Micros end = env_.now() + duration;
    while (env_.now() < end) {
      env_.advance(kMillis);
      for (auto it = inflight_.begin(); it != inflight_.end() && it->first <= env_.now();) {
        const auto [from, to, msg] = it->second;
        it = inflight_.erase(it);
        if (frozen[to]) continue;
        nodes_[to]->received(member(static_cast<uint8_t>(from)), msg);
        collect(to);
      }
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (frozen[i] || nodes_[i]->nextWakeup() > env_.now()) continue;
        nodes_[i]->tick();
        collect(i);
      }
    }
  }

  // Verdicts of `observer` about `about` with the given state.
  size_t count(size_t observer, size_t about, MemberState state) {
    size_t n = 0;
    for (const MemberVerdict& v : verdicts_[observer]) n += v.member == member(static_cast<uint8_t>(about)) && v.state == state;
    return n;
  }

 private:
  void collect(size_t i) {
    for (MemberOutgoing& o : nodes_[i]->takeOutgoing()) {
      const size_t to = o.to.bytes()[19];
      ++sent_[{i, o.message.type}];
      if (drop(i, to, o.message)) continue;
      const Micros at = env_.now() + kMillis + extra_delay(i, to, o.message);
      inflight_.emplace(at, std::make_tuple(i, to, std::move(o.message)));
    }
    for (const MemberVerdict& v : nodes_[i]->takeVerdicts()) verdicts_[i].push_back(v);
  }

  FakeEnv env_;
  std::vector<std::unique_ptr<Membership>> nodes_;
  std::multimap<Micros, std::tuple<size_t, size_t, MemberMessage>> inflight_;
};

bool between(size_t a, size_t b, size_t x, size_t y) { return (a == x && b == y) || (a == y && b == x); }

TEST(Membership, DirectAcksKeepEveryoneAliveWithoutIndirectProbes) {
  Net net(3);
  net.run(20 * kSeconds);
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      if (i == j) continue;
      EXPECT_EQ(net.at(i).stateOf(member(static_cast<uint8_t>(j))), MemberState::kAlive);
      EXPECT_EQ(net.count(i, j, MemberState::kSuspect), 0u);
    }
    EXPECT_GT(net.sent(i, MemberMessageType::kPing), 30u);  // ~2 probes a second
    EXPECT_EQ(net.sent(i, MemberMessageType::kPingReq), 0u);
    EXPECT_EQ(net.at(i).localHealth(), 0u);
  }
}

TEST(Membership, IndirectAckSavesMemberWhoseDirectPathIsBroken) {
  Net net(4);
  net.drop = [](size_t from, size_t to, const MemberMessage&) { return between(from, to, 0, 2); };
  net.run(60 * kSeconds);
  EXPECT_GT(net.sent(0, MemberMessageType::kPingReq), 10u);  // 0 probed 2 through relays
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 4; ++j) {
      if (i != j) {
        EXPECT_EQ(net.count(i, j, MemberState::kDead), 0u) << i << " about " << j;
      }
    }
  }
  EXPECT_EQ(net.at(0).stateOf(member(2)), MemberState::kAlive);
  EXPECT_EQ(net.at(2).stateOf(member(0)), MemberState::kAlive);
}

TEST(Membership, LinkDownProbesThroughRelaysOnly) {
  Net net(4);
  net.at(0).linkDown(member(2));
  net.drop = [](size_t from, size_t to, const MemberMessage&) { return between(from, to, 0, 2); };
  net.run(30 * kSeconds);
  EXPECT_EQ(net.at(0).stateOf(member(2)), MemberState::kAlive);
  EXPECT_EQ(net.count(0, 2, MemberState::kSuspect), 0u);  // never needed a failed direct try
}

TEST(Membership, SuspectBecomesDeadAfterTheSuspicionTimeout) {
  Net net(5);
  net.run(3 * kSeconds);
  const Micros crashed_at = net.env().now();
  net.frozen[3] = true;
  net.run(kMembershipDefault.suspicion_min);
  for (size_t i : {0u, 1u, 2u, 4u}) EXPECT_EQ(net.count(i, 3, MemberState::kDead), 0u) << "too early";
  net.run(8 * kSeconds - (net.env().now() - crashed_at));
  for (size_t i : {0u, 1u, 2u, 4u}) {
    ASSERT_EQ(net.at(i).stateOf(member(3)), MemberState::kDead) << i;
    EXPECT_EQ(net.count(i, 3, MemberState::kSuspect), 1u);
    EXPECT_EQ(net.count(i, 3, MemberState::kDead), 1u);
    EXPECT_EQ(net.verdicts_[i].back().reason, VerdictReason::kSuspicionExpired);
  }
}

TEST(Membership, DeadVerdictTimingFollowsTheProfile) {
  for (const MembershipProfile& profile : {kMembershipDefault, kMembershipFast}) {
    std::vector<Micros> took;
    for (uint64_t seed = 1; seed <= 9; ++seed) {
      Net net(5, profile, seed);
      net.run(3 * kSeconds);
      const Micros crashed_at = net.env().now();
      net.frozen[3] = true;
      while (net.count(0, 3, MemberState::kDead) == 0 && net.env().now() - crashed_at < 10 * kSeconds) {
        net.run(10 * kMillis);
      }
      ASSERT_EQ(net.count(0, 3, MemberState::kDead), 1u);
      took.push_back(net.env().now() - crashed_at);
      EXPECT_GE(took.back(), profile.suspicion_min);
    }
    std::sort(took.begin(), took.end());
    // The profile's promise for the median: 3 s (default), 1 s (fast).
    EXPECT_LE(took[took.size() / 2], profile.probe_interval == kMembershipFast.probe_interval ? 1 * kSeconds : 3 * kSeconds);
  }
}

TEST(Membership, RefutesSuspicionWithAHigherEpoch) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  m.linkUp(member(2));
  m.linkUp(member(3));
  m.takeOutgoing();
  ASSERT_EQ(m.ownEpoch(), 0u);
  m.received(member(2), {MemberMessageType::kGossip, 0, 0, {}, {{member(1), MemberState::kSuspect, 0, member(2)}}});
  EXPECT_EQ(m.ownEpoch(), 1u);
  size_t told = 0;
  for (const MemberOutgoing& o : m.takeOutgoing()) told += o.message.sender_epoch == 1;
  EXPECT_EQ(told, 2u);  // every member hears the new epoch from us directly
  // A stale claim (old epoch) and a made-up one (an epoch we never had) change nothing.
  m.received(member(2), {MemberMessageType::kGossip, 0, 0, {}, {{member(1), MemberState::kSuspect, 0, member(2)}}});
  m.received(member(2), {MemberMessageType::kGossip, 0, 0, {}, {{member(1), MemberState::kDead, 9, member(2)}}});
  EXPECT_EQ(m.ownEpoch(), 1u);
}

TEST(Membership, HigherEpochFromTheMemberItselfClearsTheSuspicion) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  m.linkUp(member(2));
  m.linkUp(member(3));
  m.received(member(2), {MemberMessageType::kGossip, 0, 0, {}, {{member(3), MemberState::kSuspect, 0, member(2)}}});
  ASSERT_EQ(m.stateOf(member(3)), MemberState::kSuspect);
  m.received(member(3), {MemberMessageType::kGossip, 0, 0, {}, {}});  // same epoch: proves nothing
  EXPECT_EQ(m.stateOf(member(3)), MemberState::kSuspect);
  m.takeVerdicts();
  m.received(member(3), {MemberMessageType::kGossip, 1, 0, {}, {}});
  EXPECT_EQ(m.stateOf(member(3)), MemberState::kAlive);
  EXPECT_EQ(m.epochOf(member(3)), 1u);
  auto v = m.takeVerdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].reason, VerdictReason::kRefuted);
}

TEST(Membership, SpoofedRefutationIsRefused) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  for (uint8_t i : {2, 3, 4}) m.linkUp(member(i));
  m.received(member(2), {MemberMessageType::kGossip, 0, 0, {}, {{member(3), MemberState::kSuspect, 0, member(2)}}});
  ASSERT_EQ(m.stateOf(member(3)), MemberState::kSuspect);
  // Member 4 claims 3 is alive at a higher epoch: only 3 itself may say so.
  m.received(member(4), {MemberMessageType::kGossip, 0, 0, {}, {{member(3), MemberState::kAlive, 5, member(3)}}});
  EXPECT_EQ(m.stateOf(member(3)), MemberState::kSuspect);
  EXPECT_EQ(m.epochOf(member(3)), 0u);
  // Nor can anyone else push 3's epoch up (which would outbid its own refutation).
  m.received(member(4), {MemberMessageType::kGossip, 0, 0, {}, {{member(3), MemberState::kSuspect, 7, member(4)}}});
  EXPECT_EQ(m.epochOf(member(3)), 0u);
  m.received(member(3), {MemberMessageType::kAck, 1, 0, {}, {}});
  EXPECT_EQ(m.stateOf(member(3)), MemberState::kAlive);
}

TEST(Membership, SpoofedRefutationForADeadMemberIsRefused) {
  Net net(4);
  net.run(2 * kSeconds);
  net.frozen[3] = true;
  net.run(10 * kSeconds);
  ASSERT_EQ(net.at(0).stateOf(member(3)), MemberState::kDead);
  net.inject(1, 0, {MemberMessageType::kGossip, 0, 0, {}, {{member(3), MemberState::kAlive, 50, member(3)}}});
  net.run(2 * kSeconds);
  EXPECT_EQ(net.at(0).stateOf(member(3)), MemberState::kDead);
}

TEST(Membership, ConfirmationsShortenTheSuspicionTimeout) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  for (uint8_t i = 2; i <= 7; ++i) m.linkUp(member(i));
  auto accuse = [&](uint8_t by) {
    m.received(member(by), {MemberMessageType::kGossip, 0, 0, {}, {{member(7), MemberState::kSuspect, 0, member(by)}}});
  };
  accuse(2);
  const Micros one = m.suspicionTimeout(member(7));
  EXPECT_EQ(one, kMembershipDefault.suspicion_max);
  accuse(2);  // the same accuser again is no confirmation
  EXPECT_EQ(m.suspicionTimeout(member(7)), one);
  accuse(3);
  const Micros two = m.suspicionTimeout(member(7));
  EXPECT_LT(two, one);
  EXPECT_GT(two, kMembershipDefault.suspicion_min);
  accuse(4);
  accuse(5);
  EXPECT_EQ(m.suspicionTimeout(member(7)), kMembershipDefault.suspicion_min);
}

TEST(Membership, LocalHealthStretchesTimeoutsWhenOurOwnAcksAreLate) {
  Net net(4);
  // Everything sent to member 0 arrives 400 ms late: longer than its whole probe round.
  net.extra_delay = [](size_t, size_t to, const MemberMessage&) { return to == 0 ? 400 * kMillis : Micros{0}; };
  net.run(30 * kSeconds);
  EXPECT_GT(net.at(0).localHealth(), 0u);
  EXPECT_GT(net.at(0).probeTimeout(), kMembershipDefault.probe_timeout);
  EXPECT_GT(net.at(0).probeInterval(), kMembershipDefault.probe_interval);
  // The slow one waited instead of evicting, and nobody evicted it.
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 4; ++j) {
      if (i != j) {
        EXPECT_EQ(net.count(i, j, MemberState::kDead), 0u) << i << " about " << j;
      }
    }
  }
}

TEST(Membership, StalledLoopJudgesNothingOnItsFirstTick) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  m.linkUp(member(2));
  while (m.takeOutgoing().empty()) {
    env.advance(m.nextWakeup() - env.now());
    m.tick();
  }
  // A ping is in flight; the loop now stalls 2 s, then the Ack that arrived meanwhile is read.
  env.advance(2 * kSeconds);
  m.tick();
  EXPECT_EQ(m.stateOf(member(2)), MemberState::kAlive);
  EXPECT_EQ(m.localHealth(), 1u);
  auto out = m.takeOutgoing();
  for (const MemberOutgoing& o : out) EXPECT_NE(o.message.type, MemberMessageType::kPingReq);
}

TEST(Membership, FalseAccuserCannotEvictALiveMember) {
  Net net(5);
  net.run(2 * kSeconds);
  // Member 4 is hostile: every 50 ms it tells everyone that 2 is suspect and dead, in the names
  // of many accusers, at 2's current epoch and at made-up higher ones.
  for (int round = 0; round < 400; ++round) {
    const MemberEpoch e = net.at(0).epochOf(member(2));
    MemberMessage lie{MemberMessageType::kGossip, 0, 0, {}, {}};
    for (uint8_t by : {0, 1, 3, 4, 9}) {
      lie.updates.push_back({member(2), MemberState::kSuspect, e, member(by)});
      lie.updates.push_back({member(2), MemberState::kDead, e + by, member(by)});
    }
    for (size_t to : {0u, 1u, 3u}) net.inject(4, to, lie);
    net.run(50 * kMillis);
  }
  for (size_t i : {0u, 1u, 3u}) EXPECT_EQ(net.count(i, 2, MemberState::kDead), 0u) << i;
  EXPECT_GT(net.at(2).ownEpoch(), 0u);  // it refuted
  // The flood is bounded: the accused answers at most one broadcast per half round.
  const size_t gossip = net.sent(2, MemberMessageType::kGossip);
  EXPECT_LE(gossip, 4 * (20 * kSeconds / (kMembershipDefault.round_timeout / 2)));
}

TEST(Membership, GoodbyeIsDeadAtOnce) {
  FakeEnv env;
  Membership m(env, member(1), kMembershipDefault);
  m.linkUp(member(2));
  m.takeVerdicts();
  m.left(member(2));
  EXPECT_EQ(m.stateOf(member(2)), MemberState::kDead);
  auto v = m.takeVerdicts();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].reason, VerdictReason::kLeft);
  // It comes back with a higher epoch: alive again.
  m.received(member(2), {MemberMessageType::kPing, 1, 5, {}, {}});
  EXPECT_EQ(m.stateOf(member(2)), MemberState::kAlive);
}

}  // namespace
}  // namespace meshslice
