#include "mesh/mdns_responder.h"

#include <gtest/gtest.h>

#include "tests/mesh/mdns_test_util.h"

namespace meshslice {
namespace {

using namespace mdns_test;

TEST(MdnsResponder, ProbesThreeTimes250msApartWithQuOnlyOnTheFirst) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  auto sent = runUntil(r, kT0 + 900 * kMillis);
  ASSERT_GE(sent.size(), 3u);
  EXPECT_LE(sent[0].first - kT0, mdns::kProbeMaxInitialDelay);
  for (int i = 0; i < 3; ++i) {
    DnsMessage m = decode(sent[i].second);
    EXPECT_FALSE(m.isResponse());
    ASSERT_EQ(m.questions.size(), 2u);
    EXPECT_EQ(m.questions[0].name, "Alice (AB12CD34)._meshslice._tcp.local");
    EXPECT_EQ(m.questions[0].type, dns::kTypeAny);
    EXPECT_EQ(m.questions[1].name, "alice.local");
    EXPECT_EQ(m.questions[0].unicast_response, i == 0);
    // SRV + TXT for the instance, A + AAAA for the host, in the authority section.
    EXPECT_EQ(m.authorities.size(), 4u);
    if (i > 0) {
      EXPECT_EQ(sent[i].first - sent[i - 1].first, mdns::kProbeInterval);
    }
  }
}

TEST(MdnsResponder, AnnouncesAfterProbingOneSecondApartThenDoubling) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  auto sent = runUntil(r, kT0 + 20 * kSeconds);
  ASSERT_EQ(sent.size(), 3u + mdns::kAnnounceCount);
  Micros first = sent[3].first;
  EXPECT_EQ(first - sent[2].first, mdns::kProbeInterval);
  EXPECT_EQ(sent[4].first - first, 1 * kSeconds);
  EXPECT_EQ(sent[5].first - sent[4].first, 2 * kSeconds);
  DnsMessage a = decode(sent[3].second);
  EXPECT_TRUE(a.isResponse());
  EXPECT_TRUE(a.flags & dns::kFlagAuthoritative);
  ASSERT_EQ(a.answers.size(), 6u);  // 2 PTR, SRV, TXT, A, AAAA
  for (const auto& rec : a.answers) {
    EXPECT_EQ(rec.cache_flush, rec.type != dns::kTypePtr) << rec.type;
    uint32_t want = (rec.type == dns::kTypePtr || rec.type == dns::kTypeTxt) ? 4500 : 120;
    EXPECT_EQ(rec.ttl, want) << rec.type;
  }
  EXPECT_EQ(r.state(), MdnsResponder::State::kAnnounced);
  EXPECT_FALSE(r.nextDeadline().has_value());
}

TEST(MdnsResponder, PublishesTheAgreedRecords) {
  MdnsResponder r = announced();
  auto recs = r.records();
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs[0].name, "_meshslice._tcp.local");
  EXPECT_EQ(recs[0].ptr, "Alice (AB12CD34)._meshslice._tcp.local");
  EXPECT_EQ(recs[1].name, "_services._dns-sd._udp.local");
  EXPECT_EQ(recs[1].ptr, "_meshslice._tcp.local");
  EXPECT_EQ(recs[2].srv.port, 7400);
  EXPECT_EQ(recs[2].srv.target, "alice.local");
  EXPECT_EQ(recs[3].txt, (std::vector<std::string>{"v=2", "id=AB12CD34EF", "mesh=m1", "port=7400"}));
}

TEST(MdnsResponder, AnswersUniqueQueriesAtOnceWithAdditionals) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  auto out = r.onMessage(query("Alice (AB12CD34)._meshslice._tcp.local", dns::kTypeSrv), kPeer, now);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].unicast);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, dns::kTypeSrv);
  // A + AAAA of the target, and an NSEC for each unique name (RFC 6762 §6.1).
  ASSERT_EQ(m.additionals.size(), 4u);
  EXPECT_EQ(m.additionals[0].type, dns::kTypeA);
  EXPECT_EQ(m.additionals[1].type, dns::kTypeAaaa);
  EXPECT_EQ(m.additionals[2].type, dns::kTypeNsec);
  EXPECT_EQ(m.additionals[2].name, "Alice (AB12CD34)._meshslice._tcp.local");
  EXPECT_EQ(m.additionals[2].nsec.types, (std::vector<uint16_t>{dns::kTypeTxt, dns::kTypeSrv}));
  EXPECT_EQ(m.additionals[3].type, dns::kTypeNsec);
  EXPECT_EQ(m.additionals[3].name, "alice.local");
  EXPECT_EQ(m.additionals[3].nsec.next_name, "alice.local");
  EXPECT_EQ(m.additionals[3].nsec.types, (std::vector<uint16_t>{dns::kTypeA, dns::kTypeAaaa}));
  EXPECT_TRUE(m.additionals[3].cache_flush);
}

TEST(MdnsResponder, DelaysSharedAnswers20To120ms) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  EXPECT_TRUE(r.onMessage(query("_meshslice._tcp.local", dns::kTypePtr), kPeer, now).empty());
  auto due = r.nextDeadline();
  ASSERT_TRUE(due.has_value());
  EXPECT_GE(*due - now, 20 * kMillis);
  EXPECT_LE(*due - now, 120 * kMillis);
  auto out = r.poll(*due);
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, dns::kTypePtr);
  // SRV, TXT, A, AAAA (RFC 6763 §12.1), then the NSEC of each unique name (RFC 6762 §6.1).
  ASSERT_EQ(m.additionals.size(), 6u);
  EXPECT_EQ(m.additionals[4].type, dns::kTypeNsec);
  EXPECT_EQ(m.additionals[5].type, dns::kTypeNsec);
}

TEST(MdnsResponder, KnownAnswerSuppressesOnlyWithHalfTtlLeft) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  DnsMessage q = query("_meshslice._tcp.local", dns::kTypePtr);
  DnsRecord known = r.records()[0];
  known.ttl = 4000;  // more than half of 4500: the asker is up to date
  q.answers.push_back(known);
  EXPECT_TRUE(r.onMessage(q, kPeer, now).empty());
  EXPECT_FALSE(r.nextDeadline().has_value());
  q.answers[0].ttl = 2000;  // less than half: answer again
  r.onMessage(q, kPeer, now);
  ASSERT_TRUE(r.nextDeadline().has_value());
  EXPECT_EQ(r.poll(*r.nextDeadline()).size(), 1u);
}

TEST(MdnsResponder, QuQuestionGetsAUnicastReply) {
  MdnsResponder r = announced();
  auto out = r.onMessage(query("alice.local", dns::kTypeA, true), kPeer, kT0 + 30 * kSeconds);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].unicast);
  EXPECT_EQ(out[0].to, kPeer);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].a, (std::array<uint8_t, 4>{10, 0, 0, 1}));
}

TEST(MdnsResponder, LegacyUnicastReplyEchoesIdAndQuestionWithCappedTtl) {
  MdnsResponder r = announced();
  DnsMessage q = query("_meshslice._tcp.local", dns::kTypePtr);
  q.id = 0x4242;
  MdnsEndpoint legacy{"10.0.0.9", 40000};
  auto out = r.onMessage(q, legacy, kT0 + 30 * kSeconds);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].unicast);
  EXPECT_EQ(out[0].to, legacy);
  DnsMessage m = decode(out[0]);
  EXPECT_EQ(m.id, 0x4242);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "_meshslice._tcp.local");
  ASSERT_FALSE(m.answers.empty());
  for (const auto* sec : {&m.answers, &m.additionals}) {
    for (const auto& rec : *sec) {
      EXPECT_LE(rec.ttl, 10u);
      EXPECT_FALSE(rec.cache_flush);
    }
  }
}

TEST(MdnsResponder, DoesNotMulticastARecordTwiceWithinOneSecond) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  auto q = query("alice.local", dns::kTypeA);
  EXPECT_EQ(r.onMessage(q, kPeer, now).size(), 1u);
  EXPECT_TRUE(r.onMessage(q, kPeer, now + 500 * kMillis).empty());
  EXPECT_EQ(r.onMessage(q, kPeer, now + 1100 * kMillis).size(), 1u);
}

TEST(MdnsResponder, IgnoresQuestionsForOtherNames) {
  MdnsResponder r = announced();
  EXPECT_TRUE(r.onMessage(query("bob.local", dns::kTypeA), kPeer, kT0 + 30 * kSeconds).empty());
  EXPECT_FALSE(r.nextDeadline().has_value());
}

DnsMessage conflictingResponse(const std::string& name, uint16_t type) {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  DnsRecord rec;
  rec.name = name;
  rec.type = type;
  rec.ttl = 120;
  rec.cache_flush = true;
  if (type == dns::kTypeSrv) rec.srv = {0, 0, 9999, "other.local"};
  if (type == dns::kTypeA) rec.a = {10, 0, 0, 99};
  m.answers.push_back(rec);
  return m;
}

TEST(MdnsResponder, RenamesInstanceOnConflictWhileProbing) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  auto sent = runUntil(r, kT0 + 300 * kMillis);
  ASSERT_EQ(sent.size(), 1u);
  Micros now = sent[0].first + 10 * kMillis;
  r.onMessage(conflictingResponse("Alice (AB12CD34)._meshslice._tcp.local", dns::kTypeSrv), kPeer,
              now);
  EXPECT_EQ(r.instanceName(), "Alice (AB12CD34) (2)");
  EXPECT_EQ(r.hostFullName(), "alice.local");
  EXPECT_EQ(r.conflictCount(), 1);
  EXPECT_EQ(r.state(), MdnsResponder::State::kProbing);
  auto again = runUntil(r, now + 20 * kSeconds);
  ASSERT_GE(again.size(), 3u);
  EXPECT_EQ(decode(again[0].second).questions[0].name,
            "Alice (AB12CD34) (2)._meshslice._tcp.local");
  EXPECT_TRUE(decode(again[0].second).questions[0].unicast_response);
  EXPECT_EQ(r.state(), MdnsResponder::State::kAnnounced);
}

TEST(MdnsResponder, RenamesHostOnHostConflict) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  runUntil(r, kT0 + 300 * kMillis);
  r.onMessage(conflictingResponse("alice.local", dns::kTypeA), kPeer, kT0 + 400 * kMillis);
  EXPECT_EQ(r.hostFullName(), "alice-2.local");
  EXPECT_EQ(r.instanceName(), "Alice (AB12CD34)");
  EXPECT_EQ(r.records()[2].srv.target, "alice-2.local");
}

TEST(MdnsResponder, IdenticalRecordsAreNoConflict) {
  MdnsResponder r = announced();
  DnsMessage own;
  own.flags = dns::kFlagResponse;
  own.answers = r.records();
  EXPECT_TRUE(r.onMessage(own, kPeer, kT0 + 30 * kSeconds).empty());
  EXPECT_EQ(r.state(), MdnsResponder::State::kAnnounced);
  EXPECT_EQ(r.conflictCount(), 0);
}

TEST(MdnsResponder, ConflictAfterAnnouncingReprobesThenRenamesIfDefended) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  auto clash = conflictingResponse("Alice (AB12CD34)._meshslice._tcp.local", dns::kTypeSrv);
  r.onMessage(clash, kPeer, now);
  EXPECT_EQ(r.state(), MdnsResponder::State::kProbing);
  EXPECT_EQ(r.instanceName(), "Alice (AB12CD34)");
  runUntil(r, now);  // first probe
  r.onMessage(clash, kPeer, now + 10 * kMillis);  // the other host defends its record
  EXPECT_EQ(r.instanceName(), "Alice (AB12CD34) (2)");
}

DnsMessage probeFrom(MdnsResponder& other, Micros at) {
  auto sent = runUntil(other, at);
  EXPECT_FALSE(sent.empty());
  return decode(sent.front().second);
}

TEST(MdnsResponder, SimultaneousProbeLoserDefersOneSecond) {
  // Same names, different addresses: 10.0.0.1 < 10.0.0.2, so the first host loses.
  MdnsServiceConfig lo = config();
  MdnsServiceConfig hi = config();
  hi.ipv4 = {{10, 0, 0, 2}};
  MdnsResponder loser(lo, 7), winner(hi, 9);
  loser.start(kT0);
  winner.start(kT0);
  runUntil(loser, kT0 + 300 * kMillis);
  DnsMessage winner_probe = probeFrom(winner, kT0 + 300 * kMillis);
  Micros now = kT0 + 300 * kMillis;
  loser.onMessage(winner_probe, kPeer, now);
  EXPECT_EQ(loser.state(), MdnsResponder::State::kProbing);
  ASSERT_TRUE(loser.nextDeadline().has_value());
  EXPECT_EQ(*loser.nextDeadline(), now + 1 * kSeconds);
  EXPECT_EQ(loser.instanceName(), "Alice (AB12CD34)");  // tie-break loss defers, no rename
  // The winner ignores the loser's probe and keeps its schedule.
  DnsMessage loser_probe = probeFrom(loser, now + 1 * kSeconds);
  auto before = winner.nextDeadline();
  winner.onMessage(loser_probe, kPeer, now);
  EXPECT_EQ(winner.nextDeadline(), before);
}

TEST(MdnsResponder, OwnLoopedBackProbeIsIgnored) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  auto sent = runUntil(r, kT0 + 300 * kMillis);
  ASSERT_EQ(sent.size(), 1u);
  auto before = r.nextDeadline();
  r.onMessage(decode(sent[0].second), kPeer, sent[0].first);
  EXPECT_EQ(r.nextDeadline(), before);
  EXPECT_EQ(r.conflictCount(), 0);
}

TEST(MdnsResponder, DoesNotAnswerWhileProbing) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  runUntil(r, kT0 + 300 * kMillis);
  EXPECT_TRUE(r.onMessage(query("alice.local", dns::kTypeA), kPeer, kT0 + 310 * kMillis).empty());
}

TEST(MdnsResponder, StopSendsGoodbyeWithTtlZero) {
  MdnsResponder r = announced();
  auto out = r.stop();
  ASSERT_EQ(out.size(), 1u);
  DnsMessage m = decode(out[0]);
  ASSERT_EQ(m.answers.size(), 6u);
  for (const auto& rec : m.answers) EXPECT_EQ(rec.ttl, 0u);
  EXPECT_EQ(r.state(), MdnsResponder::State::kStopped);
  EXPECT_TRUE(r.stop().empty());
  EXPECT_TRUE(r.onMessage(query("alice.local", dns::kTypeA), kPeer, kT0 + 40 * kSeconds).empty());
}

TEST(MdnsResponder, StopBeforeAnnouncingSendsNothing) {
  MdnsResponder r(config(), 7);
  r.start(kT0);
  EXPECT_TRUE(r.stop().empty());
}

TEST(MdnsResponder, NewAddressesAreAnnouncedAgain) {
  MdnsResponder r = announced();
  Micros now = kT0 + 30 * kSeconds;
  r.setAddresses({{10, 0, 0, 5}}, {}, now);
  auto out = runUntil(r, now + 10 * kSeconds);
  ASSERT_EQ(out.size(), static_cast<size_t>(mdns::kAnnounceCount));
  DnsMessage m = decode(out[0].second);
  bool has_new = false;
  for (const auto& rec : m.answers) {
    if (rec.type == dns::kTypeA) has_new = rec.a == std::array<uint8_t, 4>{10, 0, 0, 5};
  }
  EXPECT_TRUE(has_new);
}

TEST(MdnsNames, InstanceAndHostNamesComeFromDisplayNameAndId) {
  EXPECT_EQ(makeMdnsInstanceName("Alice's laptop", "ABCDEFGHIJ"), "Alice's laptop (ABCDEFGH)");
  EXPECT_EQ(makeMdnsInstanceName(std::string(100, 'x'), "ABCDEFGH").size(), 63u);
  EXPECT_EQ(makeMdnsHostName("AB-CD_EF12345"), "meshslice-abcdef12");
}

}  // namespace
}  // namespace meshslice
