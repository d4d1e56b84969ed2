// Known-answer tests against real avahi packets (tests/data/mdns/README.md says how they were
// captured), and hostile variants of them.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include "mesh/dns_message.h"
#include "mesh/mdns_querier.h"

namespace meshslice {
namespace {

Bytes load(const std::string& name) {
  std::ifstream f(std::string(MESHSLICE_TEST_DATA_DIR) + "/mdns/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

DnsMessage parse(const std::string& name) {
  auto m = parseDnsMessage(load(name));
  EXPECT_TRUE(m.isOk()) << name << ": " << m.status().toString();
  return m.isOk() ? m.value() : DnsMessage{};
}

const char* const kFiles[] = {
    "avahi_probe_host.bin",          "avahi_announce_host.bin",
    "avahi_probe_service.bin",       "avahi_announce_service.bin",
    "avahi_query_known_answers.bin", "avahi_announce_service_enum.bin",
    "avahi_answer_enumeration.bin"};

const std::string kInstance = "avahi-peer._meshslice._tcp.local";

TEST(DnsCapture, AvahiServiceAnnouncementHasEveryField) {
  DnsMessage m = parse("avahi_announce_service.bin");
  EXPECT_TRUE(m.isResponse());
  EXPECT_TRUE(m.flags & dns::kFlagAuthoritative);
  EXPECT_TRUE(m.questions.empty());
  ASSERT_EQ(m.answers.size(), 5u);
  const DnsRecord& txt = m.answers[0];
  EXPECT_EQ(txt.name, kInstance);
  EXPECT_EQ(txt.type, dns::kTypeTxt);
  EXPECT_TRUE(txt.cache_flush);
  EXPECT_EQ(txt.ttl, 4500u);
  auto attrs = parseTxtAttributes(txt.txt);
  EXPECT_EQ(attrs.at("v"), "1");
  EXPECT_EQ(attrs.at("id"), "AVAHI000");
  EXPECT_EQ(attrs.at("mesh"), "interop");
  EXPECT_EQ(attrs.at("port"), "7455");
  const DnsRecord& ptr = m.answers[1];
  EXPECT_EQ(ptr.name, "_meshslice._tcp.local");
  EXPECT_EQ(ptr.ptr, kInstance);
  EXPECT_FALSE(ptr.cache_flush);  // shared record
  const DnsRecord& srv = m.answers[2];
  EXPECT_EQ(srv.type, dns::kTypeSrv);
  EXPECT_EQ(srv.ttl, 120u);
  EXPECT_EQ(srv.srv.port, 7455);
  EXPECT_EQ(srv.srv.target, "avahi-peer.local");
  EXPECT_EQ(m.answers[3].type, dns::kTypeAaaa);
  EXPECT_EQ(m.answers[3].aaaa[0], 0xfe);
  EXPECT_EQ(m.answers[4].type, dns::kTypeA);
  EXPECT_EQ(m.answers[4].a, (std::array<uint8_t, 4>{10, 77, 0, 1}));
}

TEST(DnsCapture, AvahiProbesCarryTheirClaimsInAuthority) {
  DnsMessage svc = parse("avahi_probe_service.bin");
  EXPECT_FALSE(svc.isResponse());
  ASSERT_EQ(svc.questions.size(), 1u);
  EXPECT_EQ(svc.questions[0].name, kInstance);
  EXPECT_EQ(svc.questions[0].type, dns::kTypeAny);
  ASSERT_EQ(svc.authorities.size(), 2u);
  EXPECT_EQ(svc.authorities[0].type, dns::kTypeSrv);
  EXPECT_EQ(svc.authorities[1].type, dns::kTypeTxt);
  DnsMessage host = parse("avahi_probe_host.bin");
  EXPECT_EQ(host.questions.size(), 3u);
  EXPECT_EQ(host.questions[1].name, "avahi-peer.local");
  EXPECT_EQ(host.authorities.size(), 4u);
}

TEST(DnsCapture, AvahiQueryListsKnownAnswers) {
  DnsMessage q = parse("avahi_query_known_answers.bin");
  EXPECT_FALSE(q.isResponse());
  ASSERT_EQ(q.questions.size(), 1u);
  EXPECT_EQ(q.questions[0].type, dns::kTypePtr);
  EXPECT_FALSE(q.questions[0].unicast_response);
  ASSERT_EQ(q.answers.size(), 2u);
  for (const auto& known : q.answers) {
    EXPECT_EQ(known.type, dns::kTypePtr);
    EXPECT_FALSE(known.cache_flush);
  }
}

TEST(DnsCapture, AvahiEnumerationAnswer) {
  DnsMessage m = parse("avahi_answer_enumeration.bin");
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].name, "_services._dns-sd._udp.local");
  EXPECT_EQ(m.answers[0].ptr, "_meshslice._tcp.local");
}

TEST(DnsCapture, EveryCaptureReencodesToTheSameRecords) {
  for (const char* name : kFiles) {
    DnsMessage m = parse(name);
    auto wire = writeDnsMessage(m);
    ASSERT_TRUE(wire.isOk()) << name;
    auto again = parseDnsMessage(wire.value());
    ASSERT_TRUE(again.isOk()) << name;
    EXPECT_LE(wire->size(), load(name).size()) << name << ": our compression is no worse";
    ASSERT_EQ(again->answers.size(), m.answers.size());
    for (size_t i = 0; i < m.answers.size(); ++i) {
      EXPECT_TRUE(sameRecordData(again->answers[i], m.answers[i])) << name << " #" << i;
      EXPECT_EQ(again->answers[i].cache_flush, m.answers[i].cache_flush);
    }
  }
}

TEST(DnsCapture, QuerierResolvesTheAvahiAnnouncement) {
  MdnsQuerier q(MdnsBrowseConfig{mdns::kServiceType, "OURS0001", "interop", "vB"}, 1);
  q.onMessage(parse("avahi_announce_service.bin"), 1000 * kSeconds);
  auto ev = q.takeEvents();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].peer.key, kInstance);
  EXPECT_EQ(ev[0].peer.device_id, "AVAHI000");
  EXPECT_EQ(ev[0].peer.endpoints,
            (std::vector<std::string>{"10.77.0.1:7455", "[fe80::c0bf:25ff:feac:7643%vB]:7455"}));
}

TEST(DnsCaptureHostile, EveryTruncationFailsCleanly) {
  for (const char* name : kFiles) {
    Bytes b = load(name);
    for (size_t n = 0; n < b.size(); ++n) {
      auto m = parseDnsMessage(ByteView(b.data(), n));
      ASSERT_FALSE(m.isOk()) << name << " cut at " << n;
      EXPECT_EQ(m.status().code(), Code::kMalformed);
    }
  }
}

// At every offset where the parser reads a label length or compression pointer (recorded by
// DnsParseTrace on the untouched capture), a pointer to that very byte is a loop and one to the
// byte after the pointer is a forward reference: each rewrite must be refused, for that reason
// (a pointer that does not fit inside its rdata is refused as truncated instead).
TEST(DnsCaptureHostile, APointerToItselfOrForwardFailsAtEveryOffsetWhereANameIsRead) {
  size_t rewrites = 0, pointers_seen = 0;
  for (const char* name : kFiles) {
    Bytes b = load(name);
    DnsParseTrace trace;
    ASSERT_TRUE(parseDnsMessage(b, &trace).isOk()) << name;
    std::set<size_t> offsets(trace.label_offsets.begin(), trace.label_offsets.end());
    ASSERT_FALSE(offsets.empty()) << name;
    for (size_t at : offsets) {
      ASSERT_GE(at, dns::kHeaderSize) << name;
      if ((b[at] & 0xC0) == 0xC0) ++pointers_seen;
      if (at + 1 >= b.size()) continue;  // a root label as the packet's last byte: no room
      for (size_t target : {at, at + 2}) {
        Bytes h = b;
        h[at] = static_cast<uint8_t>(0xC0 | (target >> 8));
        h[at + 1] = static_cast<uint8_t>(target);
        auto m = parseDnsMessage(h);
        ASSERT_FALSE(m.isOk()) << name << ": pointer at " << at << " to " << target << " accepted";
        EXPECT_EQ(m.status().code(), Code::kMalformed);
        const std::string& why = m.status().message();
        EXPECT_TRUE(why == "forward or self compression pointer" || why == "truncated compression pointer")
            << name << " at " << at << ": " << why;
        ++rewrites;
      }
    }
  }
  EXPECT_GT(pointers_seen, 0u) << "the captures use compression";
  EXPECT_GT(rewrites, 2 * pointers_seen);
}

TEST(DnsCaptureHostile, InflatedCountsFailCleanly) {
  for (const char* name : kFiles) {
    Bytes b = load(name);
    for (size_t field = 4; field < 12; field += 2) {
      Bytes h = b;
      putU16(h.data() + field, static_cast<uint16_t>(getU16(h.data() + field) + 1));
      auto m = parseDnsMessage(h);
      ASSERT_FALSE(m.isOk()) << name << " field " << field;
      EXPECT_EQ(m.status().code(), Code::kMalformed);
    }
  }
}

}  // namespace
}  // namespace meshslice
