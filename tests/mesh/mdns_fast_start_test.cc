// A starting node's first query is a one-shot query (RFC 6762 §5.1, sent from an ephemeral
// port; with the QU bit in case it goes out from port 5353), so a running responder answers at
// once by unicast (§6.7 / §5.4) instead of after the shared-answer delay or the 1 s per-record
// multicast limit: discovery at start-up takes one round trip.
#include <gtest/gtest.h>

#include "mesh/dns_message.h"
#include "mesh/mdns_querier.h"
#include "mesh/mdns_responder.h"

namespace meshslice {
namespace {

constexpr Micros kT0 = 1000 * kSeconds;
const MdnsEndpoint kNewcomer{"10.0.0.7", mdns::kPort};

MdnsBrowseConfig fastStart() {
  MdnsBrowseConfig c;
  c.own_device_id = "NEW0";
  c.mesh_tag = "m1";
  c.interface_name = "eth9";
  c.unicast_first_query = true;
  return c;
}

// A responder for device "RUN0" that finished probing and announcing, then just multicast its
// records (so the 1 s rate limit applies to them).
MdnsResponder runningPeer() {
  MdnsServiceConfig c;
  c.instance_name = "Runner (RUN0)";
  c.host_name = "runner";
  c.device_id = "RUN0";
  c.mesh_tag = "m1";
  c.service_port = 7401;
  c.ipv4 = {{10, 0, 0, 2}};
  MdnsResponder r(std::move(c), 11);
  r.start(kT0);
  for (int guard = 0; guard < 1000; ++guard) {
    auto next = r.nextDeadline();
    if (!next || *next > kT0 + 20 * kSeconds) break;
    r.poll(*next);
  }
  return r;
}

DnsMessage decode(const MdnsOutgoing& out) {
  auto m = parseDnsMessage(out.data);
  EXPECT_TRUE(m.isOk());
  return m.isOk() ? m.value() : DnsMessage{};
}

TEST(MdnsFastStart, FirstQueryCarriesTheQuBitOnlyOnce) {
  MdnsQuerier q(fastStart(), 3);
  q.start(kT0);
  auto first = q.poll(kT0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(decode(first[0]).questions.at(0).unicast_response);
  EXPECT_TRUE(first[0].one_shot);
  auto second = q.poll(kT0 + 1 * kSeconds);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_FALSE(decode(second[0]).questions.at(0).unicast_response);
  EXPECT_FALSE(second[0].one_shot);
}

TEST(MdnsFastStart, QuerierDefaultStaysMulticastOnly) {
  MdnsBrowseConfig c = fastStart();
  c.unicast_first_query = false;
  MdnsQuerier q(c, 3);
  q.start(kT0);
  auto first = q.poll(kT0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(decode(first[0]).questions.at(0).unicast_response);
  EXPECT_FALSE(first[0].one_shot);
}

TEST(MdnsFastStart, RunningPeerAnswersTheFirstQueryAtOnceAndIsFound) {
  MdnsResponder peer = runningPeer();
  const Micros now = kT0 + 20 * kSeconds + 300 * kMillis;  // inside the 1 s multicast limit
  MdnsQuerier q(fastStart(), 3);
  q.start(now);
  auto query = q.poll(now);
  ASSERT_EQ(query.size(), 1u);
  auto answers = peer.onMessage(decode(query[0]), kNewcomer, now);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].unicast);
  EXPECT_EQ(answers[0].to, kNewcomer);
  q.onMessage(decode(answers[0]), now + 1 * kMillis);
  auto events = q.takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].found);
  EXPECT_EQ(events[0].peer.device_id, "RUN0");
  EXPECT_EQ(events[0].peer.endpoints, (std::vector<std::string>{"10.0.0.2:7401"}));
}

TEST(MdnsFastStart, AOneShotQueryFromAnEphemeralPortGetsAnImmediateLegacyReplyThatResolves) {
  MdnsResponder peer = runningPeer();
  const Micros now = kT0 + 20 * kSeconds + 300 * kMillis;
  MdnsQuerier q(fastStart(), 3);
  q.start(now);
  auto query = q.poll(now);
  ASSERT_EQ(query.size(), 1u);
  const MdnsEndpoint ephemeral{"10.0.0.7", 40123};
  auto answers = peer.onMessage(decode(query[0]), ephemeral, now);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_TRUE(answers[0].unicast);
  EXPECT_EQ(answers[0].to, ephemeral);
  q.onMessage(decode(answers[0]), now + 1 * kMillis);
  auto events = q.takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].peer.endpoints, (std::vector<std::string>{"10.0.0.2:7401"}));
}

}  // namespace
}  // namespace meshslice
