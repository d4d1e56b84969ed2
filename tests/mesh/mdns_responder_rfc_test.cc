// MdnsResponder and the RFC 6762 SHOULDs: QU answered by multicast when the record was not
// multicast within a quarter of its TTL (§5.4), negative answers and NSEC additionals (§6.1),
// and truncated known-answer lists (§7.2). Time is explicit: each test steps it.
#include <gtest/gtest.h>

#include "mesh/mdns_responder.h"
#include "tests/mesh/mdns_test_util.h"

namespace meshslice {
namespace {

using namespace mdns_test;

const char* const kInstance = "Alice (AB12CD34)._meshslice._tcp.local";

// The time of the last announcement: every record was multicast then.
Micros lastAnnouncement(MdnsResponder& r) {
  auto sent = runUntil(r, kT0 + 20 * kSeconds);
  EXPECT_FALSE(sent.empty());
  return sent.empty() ? kT0 : sent.back().first;
}

MdnsResponder fresh(MdnsServiceConfig c = config()) {
  MdnsResponder r(std::move(c), 7);
  r.start(kT0);
  return r;
}

const DnsRecord* findType(const std::vector<DnsRecord>& v, uint16_t type) {
  for (const auto& r : v)
    if (r.type == type) return &r;
  return nullptr;
}

// ---- §5.4 QU ----

TEST(MdnsResponderQu, ANewcomersQuQueryIsAnsweredByUnicastAtOnceWhenRecentlyMulticast) {
  MdnsResponder r = fresh();
  Micros t = lastAnnouncement(r) + 10 * kSeconds;  // PTR: 4500 s TTL, well within a quarter
  auto out = r.onMessage(query("_meshslice._tcp.local", dns::kTypePtr, true), kPeer, t);
  ASSERT_EQ(out.size(), 1u) << "no 20-120 ms shared-answer delay for a unicast answer";
  EXPECT_TRUE(out[0].unicast);
  EXPECT_EQ(out[0].to, kPeer);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, dns::kTypePtr);
  EXPECT_NE(findType(m.additionals, dns::kTypeSrv), nullptr) << "resolvable from this one packet";
  EXPECT_FALSE(r.nextDeadline().has_value()) << "nothing else scheduled";
}

TEST(MdnsResponderQu, QuForAUniqueRecordNotMulticastWithinAQuarterTtlIsMulticastAtOnce) {
  MdnsResponder r = fresh();
  Micros last = lastAnnouncement(r);
  // A has a 120 s TTL: a quarter is 30 s. Just inside, unicast; just past, multicast.
  auto in = r.onMessage(query("alice.local", dns::kTypeA, true), kPeer, last + 30 * kSeconds - kMillis);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_TRUE(in[0].unicast);
  Micros t = last + 30 * kSeconds;
  auto out = r.onMessage(query("alice.local", dns::kTypeA, true), kPeer, t);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].unicast) << "caches on the link are refreshed";
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, dns::kTypeA);
  // Now it was multicast recently: the next QU question gets a unicast answer again.
  auto again = r.onMessage(query("alice.local", dns::kTypeA, true), kPeer, t + 2 * kSeconds);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].unicast);
}

TEST(MdnsResponderQu, QuForASharedRecordNotMulticastWithinAQuarterTtlIsMulticastAfterTheSharedDelay) {
  MdnsResponder r = fresh();
  Micros t = lastAnnouncement(r) + 4500 * kSeconds / 4;
  EXPECT_TRUE(r.onMessage(query("_meshslice._tcp.local", dns::kTypePtr, true), kPeer, t).empty());
  auto due = r.nextDeadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_GE(*due - t, mdns::kSharedResponseMinDelay);
  EXPECT_LE(*due - t, mdns::kSharedResponseMaxDelay);
  auto out = r.poll(*due);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].unicast);
  EXPECT_EQ(decode(out[0]).answers.at(0).type, dns::kTypePtr);
}

TEST(MdnsResponderQu, EachQuestionIsJudgedOnItsOwn) {
  MdnsResponder r = fresh();
  Micros t = lastAnnouncement(r) + 60 * kSeconds;  // PTR still fresh, A stale
  DnsMessage q = query("_meshslice._tcp.local", dns::kTypePtr, true);
  q.questions.push_back({"alice.local", dns::kTypeA, dns::kClassIn, true});
  auto out = r.onMessage(q, kPeer, t);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].unicast);
  EXPECT_EQ(decode(out[0]).answers.size(), 1u);
  EXPECT_EQ(decode(out[0]).answers[0].type, dns::kTypePtr);
  EXPECT_FALSE(out[1].unicast);
  EXPECT_EQ(decode(out[1]).answers.size(), 1u);
  EXPECT_EQ(decode(out[1]).answers[0].type, dns::kTypeA);
}

// ---- §6.1 negative answers ----

TEST(MdnsResponderNsec, AQuestionForATypeOurHostLacksGetsAnNsec) {
  MdnsServiceConfig c = config();
  c.ipv6.clear();  // IPv4 only on this link
  MdnsResponder r = announced(c);
  auto out = r.onMessage(query("alice.local", dns::kTypeAaaa), kPeer, kT0 + 30 * kSeconds);
  ASSERT_EQ(out.size(), 1u) << "a unique answer: at once";
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  const DnsRecord& nsec = m.answers[0];
  EXPECT_EQ(nsec.type, dns::kTypeNsec);
  EXPECT_EQ(nsec.name, "alice.local");
  EXPECT_EQ(nsec.nsec.next_name, "alice.local");
  EXPECT_EQ(nsec.nsec.types, std::vector<uint16_t>{dns::kTypeA});
  EXPECT_TRUE(nsec.cache_flush);
  EXPECT_EQ(nsec.ttl, mdns::kHostRecordTtl);
  // What does exist comes along (§6.2), and no AAAA anywhere.
  const DnsRecord* a = findType(m.additionals, dns::kTypeA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->a, (std::array<uint8_t, 4>{10, 0, 0, 1}));
  EXPECT_EQ(findType(m.additionals, dns::kTypeAaaa), nullptr);
}

TEST(MdnsResponderNsec, AHostWithoutIpv4AssertsThatToo) {
  MdnsServiceConfig c = config();
  c.ipv4.clear();
  MdnsResponder r = announced(c);
  auto out = r.onMessage(query("alice.local", dns::kTypeA), kPeer, kT0 + 30 * kSeconds);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, dns::kTypeNsec);
  EXPECT_EQ(m.answers[0].nsec.types, std::vector<uint16_t>{dns::kTypeAaaa});
}

TEST(MdnsResponderNsec, TheInstanceNameAssertsItsTypesAndOtherNamesGetNothing) {
  MdnsResponder r = announced();
  auto out = r.onMessage(query(kInstance, dns::kTypeA), kPeer, kT0 + 30 * kSeconds);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].nsec.types, (std::vector<uint16_t>{dns::kTypeTxt, dns::kTypeSrv}));
  EXPECT_TRUE(r.onMessage(query("bob.local", dns::kTypeAaaa), kPeer, kT0 + 31 * kSeconds).empty())
      << "we assert nothing about names we do not own";
  auto any = r.onMessage(query("alice.local", dns::kTypeAny), kPeer, kT0 + 32 * kSeconds);
  ASSERT_EQ(any.size(), 1u);
  DnsMessage ma = decode(any[0]);
  EXPECT_EQ(ma.answers.size(), 2u) << "ANY: the records themselves";
  EXPECT_EQ(findType(ma.answers, dns::kTypeNsec), nullptr);
}

TEST(MdnsResponderNsec, AKnownNsecSuppressesTheNegativeAnswer) {
  MdnsServiceConfig c = config();
  c.ipv6.clear();
  MdnsResponder r = announced(c);
  DnsMessage first = decode(r.onMessage(query("alice.local", dns::kTypeAaaa), kPeer, kT0 + 30 * kSeconds).at(0));
  DnsMessage q = query("alice.local", dns::kTypeAaaa);
  q.answers.push_back(first.answers.at(0));
  EXPECT_TRUE(r.onMessage(q, kPeer, kT0 + 40 * kSeconds).empty());
}

TEST(MdnsResponderNsec, AnnouncementsAndGoodbyesCarryNoNsec) {
  MdnsResponder r = fresh();
  for (auto& [t, p] : runUntil(r, kT0 + 20 * kSeconds)) {
    DnsMessage m = decode(p);
    EXPECT_EQ(findType(m.answers, dns::kTypeNsec), nullptr);
  }
  DnsMessage bye = decode(r.stop().at(0));
  EXPECT_EQ(findType(bye.answers, dns::kTypeNsec), nullptr);
}

// ---- §7.2 truncated queries ----

DnsMessage truncatedQuery() {
  DnsMessage q = query("_meshslice._tcp.local", dns::kTypePtr);
  q.flags |= dns::kFlagTruncated;
  return q;
}

TEST(MdnsResponderTruncated, ATruncatedQueryWaits400To500msThenIsAnsweredAtOnce) {
  MdnsResponder r = announced();
  Micros t = kT0 + 30 * kSeconds;
  EXPECT_TRUE(r.onMessage(truncatedQuery(), kPeer, t).empty());
  EXPECT_EQ(r.heldQueries(), 1u);
  auto due = r.nextDeadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_GE(*due - t, mdns::kTruncatedQueryMinWait);
  EXPECT_LE(*due - t, mdns::kTruncatedQueryMaxWait);
  EXPECT_TRUE(r.poll(*due - kMillis).empty());
  auto out = r.poll(*due);
  ASSERT_EQ(out.size(), 1u) << "no further 20-120 ms delay after the wait";
  EXPECT_FALSE(out[0].unicast);
  EXPECT_EQ(decode(out[0]).answers.at(0).type, dns::kTypePtr);
  EXPECT_EQ(r.heldQueries(), 0u);
  EXPECT_FALSE(r.nextDeadline().has_value());
}

TEST(MdnsResponderTruncated, KnownAnswersFromTheFollowingPacketsAreMerged) {
  MdnsResponder r = announced();
  Micros t = kT0 + 30 * kSeconds;
  DnsMessage first = truncatedQuery();
  EXPECT_TRUE(r.onMessage(first, kPeer, t).empty());
  // Continuation packets: no questions, only known answers; the middle one is truncated too.
  DnsMessage more;
  more.flags = dns::kFlagTruncated;
  DnsRecord other = r.records()[0];
  other.ptr = "Someone else._meshslice._tcp.local";
  more.answers.push_back(other);
  EXPECT_TRUE(r.onMessage(more, kPeer, t + 50 * kMillis).empty());
  DnsMessage last;
  last.answers.push_back(r.records()[0]);  // ours, with its full TTL left
  EXPECT_TRUE(r.onMessage(last, kPeer, t + 100 * kMillis).empty());
  EXPECT_EQ(r.heldQueries(), 1u);
  auto due = r.nextDeadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_TRUE(r.poll(*due).empty()) << "the merged known answer suppresses ours";
  EXPECT_EQ(r.heldQueries(), 0u);
}

TEST(MdnsResponderTruncated, KnownAnswersFromAnotherQuerierAreNotMerged) {
  MdnsResponder r = announced();
  Micros t = kT0 + 30 * kSeconds;
  EXPECT_TRUE(r.onMessage(truncatedQuery(), kPeer, t).empty());
  DnsMessage other;
  other.answers.push_back(r.records()[0]);
  EXPECT_TRUE(r.onMessage(other, MdnsEndpoint{"10.0.0.10", mdns::kPort}, t + 50 * kMillis).empty());
  auto due = r.nextDeadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(r.poll(*due).size(), 1u);
}

TEST(MdnsResponderTruncated, LegacyQueriersAndProbesAreNotHeld) {
  MdnsResponder r = announced();
  Micros t = kT0 + 30 * kSeconds;
  auto legacy = r.onMessage(truncatedQuery(), MdnsEndpoint{"10.0.0.9", 40000}, t);
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_TRUE(legacy[0].unicast);
  DnsMessage probe = query("alice.local", dns::kTypeAny, true);
  probe.flags |= dns::kFlagTruncated;
  DnsRecord claim;
  claim.name = "alice.local";
  claim.type = dns::kTypeA;
  claim.ttl = 120;
  claim.a = {10, 0, 0, 77};
  probe.authorities.push_back(claim);
  EXPECT_EQ(r.onMessage(probe, kPeer, t).size(), 1u) << "our name is defended at once";
  EXPECT_EQ(r.heldQueries(), 0u);
}

TEST(MdnsResponderTruncated, HeldQueriersAreBounded) {
  MdnsResponder r = announced();
  Micros t = kT0 + 30 * kSeconds;
  for (size_t i = 0; i < MdnsTruncatedQueries::kMaxHeld; ++i) {
    MdnsEndpoint from{"10.0.1." + std::to_string(i + 1), mdns::kPort};
    EXPECT_TRUE(r.onMessage(truncatedQuery(), from, t).empty());
  }
  EXPECT_EQ(r.heldQueries(), MdnsTruncatedQueries::kMaxHeld);
  // One more is answered the usual way (a shared answer: after 20-120 ms), not held.
  r.onMessage(truncatedQuery(), MdnsEndpoint{"10.0.2.1", mdns::kPort}, t);
  EXPECT_EQ(r.heldQueries(), MdnsTruncatedQueries::kMaxHeld);
  ASSERT_TRUE(r.nextDeadline().has_value());
  EXPECT_LE(*r.nextDeadline() - t, mdns::kSharedResponseMaxDelay);
  // Every held querier is answered within the wait; the PTR goes out once per rate limit.
  auto sent = runUntil(r, t + mdns::kTruncatedQueryMaxWait);
  EXPECT_EQ(r.heldQueries(), 0u);
  EXPECT_FALSE(sent.empty());
}

TEST(MdnsResponderTruncated, StopDropsHeldQueries) {
  MdnsResponder r = announced();
  EXPECT_TRUE(r.onMessage(truncatedQuery(), kPeer, kT0 + 30 * kSeconds).empty());
  r.stop();
  EXPECT_EQ(r.heldQueries(), 0u);
  EXPECT_FALSE(r.nextDeadline().has_value());
}

}  // namespace
}  // namespace meshslice
