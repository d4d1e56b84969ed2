#include "mesh/mdns_querier.h"

#include <gtest/gtest.h>

#include "mesh/mdns_responder.h"

namespace meshslice {
namespace {

constexpr Micros kT0 = 1000 * kSeconds;
const std::string kInstance = "Bob (BB00)._meshslice._tcp.local";

MdnsBrowseConfig browseConfig() {
  MdnsBrowseConfig c;
  c.own_device_id = "AA00";
  c.mesh_tag = "m1";
  c.interface_name = "eth9";
  return c;
}

DnsRecord rec(std::string name, uint16_t type, uint32_t ttl, bool flush) {
  DnsRecord r;
  r.name = std::move(name);
  r.type = type;
  r.ttl = ttl;
  r.cache_flush = flush;
  return r;
}

// A complete advert for "Bob" as a responder would send it.
DnsMessage advert(uint32_t ttl_scale = 1, std::string id = "BB00", std::string mesh = "m1",
                  std::array<uint8_t, 4> addr = {10, 0, 0, 2}) {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  auto ptr = rec(mdns::kServiceType, dns::kTypePtr, 4500 * ttl_scale, false);
  ptr.ptr = kInstance;
  m.answers.push_back(ptr);
  auto srv = rec(kInstance, dns::kTypeSrv, 120 * ttl_scale, true);
  srv.srv = {0, 0, 7401, "bob.local"};
  m.additionals.push_back(srv);
  auto txt = rec(kInstance, dns::kTypeTxt, 4500 * ttl_scale, true);
  txt.txt = {"v=3", "id=" + id, "mesh=" + mesh, "port=7401"};
  m.additionals.push_back(txt);
  auto a = rec("bob.local", dns::kTypeA, 120 * ttl_scale, true);
  a.a = addr;
  m.additionals.push_back(a);
  auto aaaa = rec("bob.local", dns::kTypeAaaa, 120 * ttl_scale, true);
  aaaa.aaaa = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  m.additionals.push_back(aaaa);
  return m;
}

DnsMessage decode(const MdnsOutgoing& out) {
  auto m = parseDnsMessage(out.data);
  EXPECT_TRUE(m.isOk());
  return m.isOk() ? m.value() : DnsMessage{};
}

// Polls at every deadline up to `until`; returns the times queries for the service PTR went out.
std::vector<Micros> ptrQueryTimes(MdnsQuerier& q, Micros until) {
  std::vector<Micros> times;
  for (int guard = 0; guard < 10000; ++guard) {
    auto next = q.nextDeadline();
    if (!next || *next > until) break;
    for (auto& out : q.poll(*next)) {
      for (const auto& question : decode(out).questions) {
        if (question.type == dns::kTypePtr) times.push_back(*next);
      }
    }
  }
  return times;
}

TEST(MdnsQuerier, QueriesAtOnceThenDoublesFromOneSecondUpToAnHour) {
  MdnsQuerier q(browseConfig(), 3);
  q.start(kT0);
  auto times = ptrQueryTimes(q, kT0 + 5 * 3600 * kSeconds);
  ASSERT_GE(times.size(), 15u);
  EXPECT_EQ(times[0], kT0);
  EXPECT_EQ(times[1] - times[0], 1 * kSeconds);
  EXPECT_EQ(times[2] - times[1], 2 * kSeconds);
  EXPECT_EQ(times[3] - times[2], 4 * kSeconds);
  EXPECT_EQ(times.back() - times[times.size() - 2], 3600 * kSeconds);
}

TEST(MdnsQuerier, FirstQueryAsksForTheServicePtr) {
  MdnsQuerier q(browseConfig(), 3);
  q.start(kT0);
  auto out = q.poll(kT0);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  EXPECT_FALSE(m.isResponse());
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "_meshslice._tcp.local");
  EXPECT_EQ(m.questions[0].type, dns::kTypePtr);
  EXPECT_FALSE(m.questions[0].unicast_response);
}

TEST(MdnsQuerier, FindsAFullyResolvedInstance) {
  MdnsQuerier q(browseConfig(), 3);
  q.start(kT0);
  q.poll(kT0);
  q.onMessage(advert(), kT0 + 50 * kMillis);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].found);
  EXPECT_EQ(ev[0].peer.key, kInstance);
  EXPECT_EQ(ev[0].peer.device_id, "BB00");
  EXPECT_EQ(ev[0].peer.protocol_version, 3u);
  EXPECT_EQ(ev[0].peer.endpoints, (std::vector<std::string>{"10.0.0.2:7401", "[fe80::2%eth9]:7401"}));
  q.onMessage(advert(), kT0 + 2 * kSeconds);  // the same advert again: no new event
  EXPECT_TRUE(q.takeEvents().empty());
}

TEST(MdnsQuerier, ResolvesMissingRecordsWithQueries) {
  MdnsQuerier q(browseConfig(), 3);
  q.start(kT0);
  q.poll(kT0);
  DnsMessage only_ptr = advert();
  only_ptr.additionals.clear();
  q.onMessage(only_ptr, kT0 + 10 * kMillis);
  EXPECT_TRUE(q.takeEvents().empty());
  auto out = q.poll(kT0 + 10 * kMillis);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  std::vector<uint16_t> types;
  for (const auto& question : m.questions) {
    EXPECT_EQ(question.name, kInstance);
    types.push_back(question.type);
  }
  EXPECT_EQ(types, (std::vector<uint16_t>{dns::kTypeTxt, dns::kTypeSrv}));
  // SRV and TXT arrive without addresses: the querier asks for the target's A and AAAA.
  DnsMessage srv_txt = advert();
  srv_txt.answers = {srv_txt.additionals[0], srv_txt.additionals[1]};
  srv_txt.additionals.clear();
  q.onMessage(srv_txt, kT0 + 20 * kMillis);
  out = q.poll(kT0 + 20 * kMillis);
  ASSERT_EQ(out.size(), 1u);
  m = decode(out[0]);
  ASSERT_EQ(m.questions.size(), 2u);
  EXPECT_EQ(m.questions[0].name, "bob.local");
  // The address completes the instance.
  DnsMessage addr = advert();
  addr.answers = {addr.additionals[2]};
  addr.additionals.clear();
  q.onMessage(addr, kT0 + 30 * kMillis);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].peer.endpoints, (std::vector<std::string>{"10.0.0.2:7401"}));
}

TEST(MdnsQuerier, KnownAnswersListOnlyRecordsWithMoreThanHalfTheirTtl) {
  MdnsQuerier q(browseConfig(), 3);
  q.start(kT0);
  q.poll(kT0);
  q.onMessage(advert(), kT0 + 10 * kMillis);
  auto out = q.poll(kT0 + 1 * kSeconds);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].ptr, kInstance);
  EXPECT_FALSE(m.answers[0].cache_flush);
  EXPECT_LE(m.answers[0].ttl, 4500u);
  EXPECT_GE(m.answers[0].ttl, 4498u);
  // Past half of the PTR's 4500 s TTL the record is no longer listed as known.
  MdnsQuerier late(browseConfig(), 3);
  late.start(kT0);
  late.onMessage(advert(), kT0);
  // Walk to the first PTR query past half TTL and check it carries no known answer.
  for (int guard = 0; guard < 1000; ++guard) {
    auto next = late.nextDeadline();
    ASSERT_TRUE(next.has_value());
    for (auto& o : late.poll(*next)) {
      DnsMessage mm = decode(o);
      bool asks_ptr = !mm.questions.empty() && mm.questions[0].type == dns::kTypePtr;
      if (asks_ptr && *next > kT0 + 2250 * kSeconds && *next < kT0 + 4500 * kSeconds) {
        EXPECT_TRUE(mm.answers.empty());
        return;
      }
    }
  }
  FAIL() << "no PTR query after half TTL";
}

TEST(MdnsQuerier, RefreshesAtEightyPercentOfTtl) {
  MdnsQuerier q(browseConfig(), 3);
  q.onMessage(advert(), kT0);  // not started: only refresh queries go out
  std::vector<Micros> srv_refresh;
  for (int guard = 0; guard < 100; ++guard) {
    auto next = q.nextDeadline();
    if (!next || *next > kT0 + 120 * kSeconds) break;
    for (auto& o : q.poll(*next)) {
      for (const auto& question : decode(o).questions) {
        if (question.type == dns::kTypeSrv) srv_refresh.push_back(*next - kT0);
      }
    }
  }
  ASSERT_EQ(srv_refresh.size(), 4u);
  const int pct[] = {80, 85, 90, 95};
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(srv_refresh[i], 120 * kSeconds * pct[i] / 100);
    EXPECT_LE(srv_refresh[i], 120 * kSeconds * (pct[i] + 2) / 100);
  }
}

TEST(MdnsQuerier, TtlExpiryLosesTheInstance) {
  MdnsQuerier q(browseConfig(), 3);
  q.onMessage(advert(), kT0);
  ASSERT_EQ(q.takeEvents().size(), 1u);
  q.poll(kT0 + 119 * kSeconds);
  EXPECT_TRUE(q.takeEvents().empty());
  q.poll(kT0 + 120 * kSeconds);  // SRV and A/AAAA expire
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].found);
  EXPECT_EQ(ev[0].peer.key, kInstance);
}

// A hostile TTL of 2^32-1 s is capped (the refresh arithmetic overflowed before, found by the
// mDNS fuzzer): the entry refreshes and expires on the cap's schedule.
TEST(MdnsQuerier, HugeTtlIsCappedAtMaxCachedTtl) {
  MdnsQuerier q(browseConfig(), 3);
  DnsMessage m = advert();
  for (auto& r : m.answers) r.ttl = 0xFFFFFFFFu;
  for (auto& r : m.additionals) r.ttl = 0xFFFFFFFFu;
  q.onMessage(m, kT0);
  ASSERT_EQ(q.takeEvents().size(), 1u);
  const Micros cap = static_cast<Micros>(mdns::kMaxCachedTtl) * kSeconds;
  auto next = q.nextDeadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_GE(*next, kT0 + cap * 80 / 100);
  EXPECT_LE(*next, kT0 + cap * 82 / 100);
  q.poll(kT0 + cap - 1);
  EXPECT_TRUE(q.takeEvents().empty());
  q.poll(kT0 + cap);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].found);
}

TEST(MdnsQuerier, GoodbyeRemovesAfterOneSecond) {
  MdnsQuerier q(browseConfig(), 3);
  q.onMessage(advert(), kT0);
  q.takeEvents();
  q.onMessage(advert(0), kT0 + 10 * kSeconds);  // every record with TTL 0
  EXPECT_TRUE(q.takeEvents().empty());
  auto next = q.nextDeadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, kT0 + 11 * kSeconds);
  q.poll(*next);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].found);
  EXPECT_EQ(q.cacheSize(), 0u);
}

TEST(MdnsQuerier, CacheFlushReplacesOldAddressAfterOneSecond) {
  MdnsQuerier q(browseConfig(), 3);
  q.onMessage(advert(), kT0);
  q.takeEvents();
  q.onMessage(advert(1, "BB00", "m1", {10, 0, 0, 3}), kT0 + 5 * kSeconds);
  auto ev = q.takeEvents();  // both addresses for a moment
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].peer.endpoints.front(), "10.0.0.2:7401");
  q.poll(kT0 + 6 * kSeconds);
  ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].peer.endpoints, (std::vector<std::string>{"10.0.0.3:7401", "[fe80::2%eth9]:7401"}));
}

TEST(MdnsQuerier, RecordsInOnePacketDoNotFlushEachOther) {
  MdnsQuerier q(browseConfig(), 3);
  DnsMessage m = advert();
  auto second = m.additionals[2];
  second.a = {10, 0, 0, 4};
  m.additionals.push_back(second);
  q.onMessage(m, kT0);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].peer.endpoints.size(), 3u);
}

TEST(MdnsQuerier, IgnoresOwnAdvertsAndOtherMeshes) {
  MdnsQuerier q(browseConfig(), 3);
  q.onMessage(advert(1, "AA00"), kT0);
  q.onMessage(advert(1, "BB00", "other-mesh"), kT0);
  EXPECT_TRUE(q.takeEvents().empty());
}

TEST(MdnsQuerier, IgnoresQueriesAndUnrelatedRecords) {
  MdnsQuerier q(browseConfig(), 3);
  DnsMessage as_query = advert();
  as_query.flags = 0;
  q.onMessage(as_query, kT0);
  DnsMessage other;
  other.flags = dns::kFlagResponse;
  auto ptr = rec("_http._tcp.local", dns::kTypePtr, 4500, false);
  ptr.ptr = "web._http._tcp.local";
  other.answers.push_back(ptr);
  auto a = rec("random.local", dns::kTypeA, 120, true);
  other.answers.push_back(a);
  q.onMessage(other, kT0);
  EXPECT_EQ(q.cacheSize(), 0u);
  EXPECT_TRUE(q.takeEvents().empty());
}

TEST(MdnsQuerier, CacheIsBounded) {
  MdnsQuerier q(browseConfig(), 3);
  for (int i = 0; i < 1000; ++i) {
    DnsMessage m;
    m.flags = dns::kFlagResponse;
    auto ptr = rec(mdns::kServiceType, dns::kTypePtr, 4500, false);
    ptr.ptr = "x" + std::to_string(i) + "._meshslice._tcp.local";
    m.answers.push_back(ptr);
    q.onMessage(m, kT0);
  }
  EXPECT_EQ(q.cacheSize(), MdnsQuerier::kMaxCacheEntries);
}

// The pure halves talk to each other: a responder's announcement is found, its goodbye lost.
TEST(MdnsPure, ResponderAndQuerierFindEachOtherAndSeeTheGoodbye) {
  MdnsServiceConfig sc;
  sc.instance_name = "Bob (BB00)";
  sc.host_name = "bob";
  sc.device_id = "BB00";
  sc.mesh_tag = "m1";
  sc.service_port = 7401;
  sc.protocol_version = 3;
  sc.ipv4 = {{10, 0, 0, 2}};
  MdnsResponder r(sc, 5);
  MdnsQuerier q(browseConfig(), 3);
  r.start(kT0);
  q.start(kT0);
  const MdnsEndpoint from{"10.0.0.1", mdns::kPort};
  std::vector<MdnsBrowseEvent> events;
  Micros now = kT0;
  for (int guard = 0; guard < 200 && now < kT0 + 10 * kSeconds; ++guard) {
    std::vector<MdnsOutgoing> wire = r.poll(now);
    for (auto& o : q.poll(now)) {
      for (auto& reply : r.onMessage(decode(o), from, now)) wire.push_back(std::move(reply));
    }
    for (auto& o : wire) q.onMessage(decode(o), now);
    for (auto& e : q.takeEvents()) events.push_back(std::move(e));
    Micros next = std::min(r.nextDeadline().value_or(now + kSeconds),
                           q.nextDeadline().value_or(now + kSeconds));
    now = std::max(next, now + 1);
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].peer.endpoints, (std::vector<std::string>{"10.0.0.2:7401"}));
  for (auto& o : r.stop()) q.onMessage(decode(o), now);
  q.poll(now + 1 * kSeconds);
  auto lost = q.takeEvents();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_FALSE(lost[0].found);
}

}  // namespace
}  // namespace meshslice
