// StaticDiscovery over FakeEnv's scripted resolver (failures, backoff, changed answers), and
// once over the real system resolver with "localhost" only: no lookup here leaves the host.
#include "mesh/static_discovery.h"

#include <gtest/gtest.h>

#include "base/event_loop.h"
#include "base/fake_env.h"
#include "tests/support/loop_helpers.h"

namespace meshslice {
namespace {

using Addrs = std::vector<std::string>;

struct Recorder {
  std::vector<DiscoveredPeer> found;
  std::vector<std::string> lost;
  DiscoverySource::Events events() {
    return {[this](const DiscoveredPeer& p) { found.push_back(p); },
            [this](const std::string& k) { lost.push_back(k); }};
  }
};

TEST(StaticDiscovery, NumericEntriesAreReportedAsTheyAreWithoutALookup) {
  FakeEnv env;
  Recorder r;
  StaticDiscovery s(env, {"10.0.0.1:7000", "[fe80::1%lo]:7001"});
  ASSERT_TRUE(s.start(r.events()).isOk());
  EXPECT_TRUE(r.found.empty()) << "events come on a later turn";
  env.runPending();
  ASSERT_EQ(r.found.size(), 2u);
  EXPECT_EQ(r.found[0].key, "static:10.0.0.1:7000");
  EXPECT_EQ(r.found[0].endpoints, Addrs{"10.0.0.1:7000"});
  EXPECT_TRUE(r.found[0].device_id.empty()) << "the link authenticates static peers";
  EXPECT_EQ(r.found[1].endpoints, Addrs{"[fe80::1%lo]:7001"});
  EXPECT_EQ(s.lookupsInFlight(), 0u);
  env.advance(10 * 60 * kSeconds);
  EXPECT_EQ(r.found.size(), 2u) << "nothing to re-resolve";
}

TEST(StaticDiscovery, NamesResolveToEveryAddressBestFirstWithoutDuplicates) {
  FakeEnv env;
  env.setHostAnswer("peer.test", Addrs{"10.0.0.5", "fd00::5", "10.0.0.5"});
  Recorder r;
  StaticDiscovery s(env, {"peer.test:7400"});
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.runPending();
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].key, "static:peer.test:7400");
  EXPECT_EQ(r.found[0].endpoints, (Addrs{"10.0.0.5:7400", "[fd00::5]:7400"}));
}

TEST(StaticDiscovery, AnswersAreCappedPerEntry) {
  FakeEnv env;
  Addrs many;
  for (int i = 1; i <= 20; ++i) many.push_back("10.0.1." + std::to_string(i));
  env.setHostAnswer("big.test", many);
  Recorder r;
  StaticDiscovery s(env, {"big.test:1"});
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.runPending();
  ASSERT_EQ(r.found.size(), 1u);
  ASSERT_EQ(r.found[0].endpoints.size(), StaticDiscovery::kMaxEndpointsPerEntry);
  EXPECT_EQ(r.found[0].endpoints.front(), "10.0.1.1:1");
}

TEST(StaticDiscovery, AFailedLookupIsRetriedWithBackoffAndIsNeverFatal) {
  FakeEnv env;  // no answer for the name: every lookup fails with kNotFound
  StaticDiscoveryOptions o;
  o.retry_initial = 1 * kSeconds;
  o.retry_max = 8 * kSeconds;
  Recorder r;
  StaticDiscovery s(env, {"late.test:7000"}, o);
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.runPending();
  EXPECT_EQ(env.hostLookups("late.test"), 1u);
  // Retries 1, 2, 4, 8, 8 s after each failure.
  const Micros gaps[] = {1 * kSeconds, 2 * kSeconds, 4 * kSeconds, 8 * kSeconds, 8 * kSeconds};
  size_t expect = 1;
  for (Micros gap : gaps) {
    env.advance(gap - 1 * kMillis);
    EXPECT_EQ(env.hostLookups("late.test"), expect) << "not before the backoff";
    env.advance(1 * kMillis);
    EXPECT_EQ(env.hostLookups("late.test"), ++expect);
  }
  EXPECT_TRUE(r.found.empty());
  EXPECT_TRUE(r.lost.empty()) << "a name never seen is not lost";
  // The name appears: the next retry finds it.
  env.setHostAnswer("late.test", Addrs{"10.0.0.7"});
  env.advance(8 * kSeconds);
  ASSERT_EQ(r.found.size(), 1u);
  EXPECT_EQ(r.found[0].endpoints, Addrs{"10.0.0.7:7000"});
}

TEST(StaticDiscovery, AChangedAnswerIsFollowedAtTheNextReresolution) {
  FakeEnv env;
  env.setHostAnswer("peer.test", Addrs{"10.0.0.1"});
  StaticDiscoveryOptions o;
  o.reresolve_interval = 30 * kSeconds;
  Recorder r;
  StaticDiscovery s(env, {"peer.test:7000"}, o);
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.runPending();
  ASSERT_EQ(r.found.size(), 1u);
  env.advance(30 * kSeconds);
  EXPECT_EQ(env.hostLookups("peer.test"), 2u);
  EXPECT_EQ(r.found.size(), 1u) << "the same answer is not reported again";
  env.setHostAnswer("peer.test", Addrs{"10.0.0.2", "10.0.0.1"});
  env.advance(29 * kSeconds);
  EXPECT_EQ(r.found.size(), 1u);
  env.advance(1 * kSeconds);
  ASSERT_EQ(r.found.size(), 2u);
  EXPECT_EQ(r.found[1].key, r.found[0].key);
  EXPECT_EQ(r.found[1].endpoints, (Addrs{"10.0.0.2:7000", "10.0.0.1:7000"}));
}

TEST(StaticDiscovery, ATransientFailureKeepsTheEndpointsAndAVanishedNameIsLost) {
  FakeEnv env;
  env.setHostAnswer("peer.test", Addrs{"10.0.0.1"});
  StaticDiscoveryOptions o;
  o.reresolve_interval = 30 * kSeconds;
  o.retry_initial = 1 * kSeconds;
  Recorder r;
  StaticDiscovery s(env, {"peer.test:7000"}, o);
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.runPending();
  ASSERT_EQ(r.found.size(), 1u);
  env.setHostAnswer("peer.test", ioError("resolver unreachable"));
  env.advance(30 * kSeconds + 3 * kSeconds);  // the re-resolution and two retries fail
  EXPECT_EQ(env.hostLookups("peer.test"), 4u);
  EXPECT_TRUE(r.lost.empty()) << "a DNS outage must not drop a peer";
  env.setHostAnswer("peer.test", Addrs{"10.0.0.1"});
  env.advance(4 * kSeconds);
  EXPECT_EQ(r.found.size(), 1u) << "back to the same answer: nothing new";
  env.setHostAnswer("peer.test", Status(Code::kNotFound, "NXDOMAIN"));
  env.advance(30 * kSeconds);
  ASSERT_EQ(r.lost.size(), 1u);
  EXPECT_EQ(r.lost[0], "static:peer.test:7000");
}

TEST(StaticDiscovery, MalformedEntriesFailStartAndNothingIsDelivered) {
  for (const char* bad : {"peer.test", "peer.test:", "peer.test:70000", "[peer.test]:7000",
                          "bad host:7000", "-peer:1", "::1:7000"}) {
    FakeEnv env;
    env.setHostAnswer("peer.test", Addrs{"10.0.0.1"});
    Recorder r;
    StaticDiscovery s(env, {"10.0.0.9:1", bad});
    Status st = s.start(r.events());
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find(bad), std::string::npos) << st.message();
    env.advance(5 * kSeconds);
    EXPECT_TRUE(r.found.empty()) << bad;
    EXPECT_EQ(env.hostLookups("peer.test"), 0u);
  }
}

TEST(StaticDiscovery, TooManyEntriesFailStart) {
  FakeEnv env;
  std::vector<std::string> entries(StaticDiscovery::kMaxEntries + 1, "10.0.0.1:1");
  Recorder r;
  StaticDiscovery s(env, entries);
  EXPECT_EQ(s.start(r.events()).code(), Code::kInvalidArgument);
  env.runPending();
  EXPECT_TRUE(r.found.empty());
}

TEST(StaticDiscovery, StopCancelsLookupsAndTimersAndDeliversNothingMore) {
  FakeEnv env;
  env.setHostHangs("slow.test");
  env.setHostAnswer("fast.test", Addrs{"10.0.0.1"});
  Recorder r;
  {
    StaticDiscovery s(env, {"slow.test:1", "fast.test:2", "10.0.0.3:3"});
    ASSERT_TRUE(s.start(r.events()).isOk());
    EXPECT_EQ(s.lookupsInFlight(), 2u);
    s.stop();  // before the posted events ran
    EXPECT_EQ(env.pendingHostLookups(), 0u);
    env.advance(120 * kSeconds);
    EXPECT_TRUE(r.found.empty());
    EXPECT_EQ(env.armedTimers(), 0u);
  }
}

TEST(StaticDiscovery, EachEntryHasAtMostOneLookupInFlight) {
  FakeEnv env;
  env.setHostHangs("slow.test");
  Recorder r;
  StaticDiscovery s(env, {"slow.test:1"});
  ASSERT_TRUE(s.start(r.events()).isOk());
  env.advance(600 * kSeconds);
  EXPECT_EQ(env.hostLookups("slow.test"), 1u) << "a hanging lookup is not piled on";
  EXPECT_EQ(s.lookupsInFlight(), 1u);
}

TEST(StaticDiscoveryReal, LocalhostResolvesWithTheSystemResolver) {
  EventLoop loop;
  UvEnv env(loop);
  Recorder r;
  {
    StaticDiscovery s(env, {"localhost:7555"});
    ASSERT_TRUE(s.start(r.events()).isOk());
    ASSERT_TRUE(test::runUntil(loop, [&] { return !r.found.empty(); }, 10000));
    const Addrs& eps = r.found[0].endpoints;
    EXPECT_TRUE(std::find(eps.begin(), eps.end(), "127.0.0.1:7555") != eps.end() ||
                std::find(eps.begin(), eps.end(), "[::1]:7555") != eps.end())
        << testing::PrintToString(eps);
    s.stop();
  }
  test::expectCleanClose(loop);
}

}  // namespace
}  // namespace meshslice
