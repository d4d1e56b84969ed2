#include "mesh/dns_message.h"

#include <gtest/gtest.h>

namespace meshslice {
namespace {

DnsRecord ptrRecord(std::string name, std::string target, uint32_t ttl = 4500) {
  DnsRecord r;
  r.name = std::move(name);
  r.type = dns::kTypePtr;
  r.ttl = ttl;
  r.ptr = std::move(target);
  return r;
}

DnsMessage sampleResponse() {
  DnsMessage m;
  m.flags = dns::kFlagResponse | dns::kFlagAuthoritative;
  m.answers.push_back(ptrRecord("_meshslice._tcp.local", "Alice\\.s laptop (AB12)._meshslice._tcp.local"));
  DnsRecord srv;
  srv.name = "Alice\\.s laptop (AB12)._meshslice._tcp.local";
  srv.type = dns::kTypeSrv;
  srv.cache_flush = true;
  srv.ttl = 120;
  srv.srv = {0, 0, 7400, "alice-host.local"};
  m.additionals.push_back(srv);
  DnsRecord txt;
  txt.name = srv.name;
  txt.type = dns::kTypeTxt;
  txt.cache_flush = true;
  txt.ttl = 4500;
  txt.txt = {"v=1", "id=AB12", "mesh=ff00", "port=7400"};
  m.additionals.push_back(txt);
  DnsRecord a;
  a.name = "alice-host.local";
  a.type = dns::kTypeA;
  a.cache_flush = true;
  a.ttl = 120;
  a.a = {10, 0, 0, 7};
  m.additionals.push_back(a);
  DnsRecord aaaa = a;
  aaaa.type = dns::kTypeAaaa;
  aaaa.aaaa = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  m.additionals.push_back(aaaa);
  DnsRecord nsec;
  nsec.name = "alice-host.local";
  nsec.type = dns::kTypeNsec;
  nsec.cache_flush = true;
  nsec.ttl = 120;
  nsec.nsec = {"alice-host.local", {dns::kTypeA, dns::kTypeAaaa}};
  m.additionals.push_back(nsec);
  return m;
}

Bytes encode(const DnsMessage& m) {
  auto out = writeDnsMessage(m);
  EXPECT_TRUE(out.isOk()) << out.status().toString();
  return out.isOk() ? out.value() : Bytes{};
}

TEST(DnsMessage, ResponseRoundTripsEveryType) {
  DnsMessage m = sampleResponse();
  auto parsed = parseDnsMessage(encode(m));
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  const DnsMessage& p = parsed.value();
  EXPECT_TRUE(p.isResponse());
  ASSERT_EQ(p.answers.size(), 1u);
  EXPECT_EQ(p.answers[0].ptr, "Alice\\.s laptop (AB12)._meshslice._tcp.local");
  EXPECT_FALSE(p.answers[0].cache_flush);
  ASSERT_EQ(p.additionals.size(), 5u);
  EXPECT_EQ(p.additionals[0].srv.port, 7400);
  EXPECT_EQ(p.additionals[0].srv.target, "alice-host.local");
  EXPECT_TRUE(p.additionals[0].cache_flush);
  EXPECT_EQ(p.additionals[0].rrclass, dns::kClassIn);
  EXPECT_EQ(p.additionals[1].txt, (std::vector<std::string>{"v=1", "id=AB12", "mesh=ff00", "port=7400"}));
  EXPECT_EQ(p.additionals[2].a, (std::array<uint8_t, 4>{10, 0, 0, 7}));
  EXPECT_EQ(p.additionals[3].aaaa[0], 0xfe);
  EXPECT_EQ(p.additionals[4].nsec.next_name, "alice-host.local");
  EXPECT_EQ(p.additionals[4].nsec.types, (std::vector<uint16_t>{dns::kTypeA, dns::kTypeAaaa}));
  for (size_t i = 0; i < m.additionals.size(); ++i) {
    EXPECT_TRUE(sameRecordData(m.additionals[i], p.additionals[i])) << i;
  }
}

TEST(DnsMessage, CompressionShrinksRepeatedSuffixes) {
  DnsMessage m = sampleResponse();
  Bytes wire = encode(m);
  // Without compression the instance name alone (45 bytes) appears four times.
  EXPECT_LT(wire.size(), 230u);
  auto again = parseDnsMessage(wire);
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(encode(again.value()), wire);
}

TEST(DnsMessage, QuestionKeepsUnicastBitApartFromClass) {
  DnsMessage m;
  m.questions.push_back({"_meshslice._tcp.local", dns::kTypePtr, dns::kClassIn, true});
  m.questions.push_back({"host.local", dns::kTypeAny, dns::kClassIn, false});
  auto p = parseDnsMessage(encode(m));
  ASSERT_TRUE(p.isOk());
  ASSERT_EQ(p->questions.size(), 2u);
  EXPECT_TRUE(p->questions[0].unicast_response);
  EXPECT_EQ(p->questions[0].qclass, dns::kClassIn);
  EXPECT_FALSE(p->questions[1].unicast_response);
  EXPECT_FALSE(p->isResponse());
}

TEST(DnsMessage, UnknownTypesKeepOpaqueRdata) {
  DnsMessage m;
  DnsRecord r;
  r.name = "x.local";
  r.type = 99;
  r.raw = {1, 2, 3};
  m.answers.push_back(r);
  auto p = parseDnsMessage(encode(m));
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->answers[0].raw, (Bytes{1, 2, 3}));
}

TEST(DnsMessage, TruncatedFlagIsReported) {
  DnsMessage m;
  m.flags = dns::kFlagTruncated;
  auto p = parseDnsMessage(encode(m));
  ASSERT_TRUE(p.isOk());
  EXPECT_TRUE(p->truncated());
}

// ---- Hostile input ----

Bytes header(uint16_t qd, uint16_t an = 0) {
  Bytes b(12, 0);
  putU16(b.data() + 4, qd);
  putU16(b.data() + 6, an);
  return b;
}

void expectMalformed(const Bytes& b, const char* why) {
  auto p = parseDnsMessage(b);
  ASSERT_FALSE(p.isOk()) << why;
  EXPECT_EQ(p.status().code(), Code::kMalformed) << why;
}

TEST(DnsMessageHostile, EveryTruncationFailsCleanly) {
  Bytes wire = encode(sampleResponse());
  for (size_t n = 0; n < wire.size(); ++n) {
    expectMalformed(Bytes(wire.begin(), wire.begin() + n), "truncated");
  }
}

TEST(DnsMessageHostile, SelfPointerIsRejected) {
  Bytes b = header(1);
  b.insert(b.end(), {0xC0, 12, 0, 1, 0, 1});
  expectMalformed(b, "self pointer");
}

TEST(DnsMessageHostile, PointerLoopIsRejected) {
  // Label "a" then a pointer back to itself at offset 12: a -> a -> a ...
  Bytes b = header(1);
  b.insert(b.end(), {1, 'a', 0xC0, 12, 0, 1, 0, 1});
  expectMalformed(b, "loop");
}

TEST(DnsMessageHostile, ForwardPointerIsRejected) {
  Bytes b = header(1);
  b.insert(b.end(), {0xC0, 18, 0, 1, 0, 1, 1, 'a', 0});
  expectMalformed(b, "forward pointer");
}

TEST(DnsMessageHostile, PointerIntoHeaderOrPastEndIsRejected) {
  Bytes b = header(1);
  b.insert(b.end(), {0xC0, 2, 0, 1, 0, 1});
  expectMalformed(b, "into header");
  Bytes c = header(1);
  c.insert(c.end(), {0xFF, 0xFF, 0, 1, 0, 1});
  expectMalformed(c, "past end");
}

// Two answers: "x" with opaque rdata holding `hops` backward pointers (each to the one before,
// the first to "x"), then a record whose name points at the last of them.
Bytes pointerChain(int hops) {
  Bytes b = header(0, 2);
  b.insert(b.end(), {1, 'x', 0, 0, 99, 0, 1, 0, 0, 0, 0});
  b.push_back(static_cast<uint8_t>((2 * hops) >> 8));
  b.push_back(static_cast<uint8_t>(2 * hops));
  size_t start = b.size();
  for (int i = 0; i < hops; ++i) {
    size_t target = i == 0 ? 12 : start + 2 * (i - 1);
    b.push_back(static_cast<uint8_t>(0xC0 | (target >> 8)));
    b.push_back(static_cast<uint8_t>(target));
  }
  size_t last = start + 2 * (hops - 1);
  b.push_back(static_cast<uint8_t>(0xC0 | (last >> 8)));
  b.push_back(static_cast<uint8_t>(last));
  b.insert(b.end(), {0, 99, 0, 1, 0, 0, 0, 0, 0, 0});
  return b;
}

TEST(DnsMessageHostile, LongPointerChainIsBounded) {
  auto ok = parseDnsMessage(pointerChain(20));
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->answers[1].name, "x");
  expectMalformed(pointerChain(40), "hop limit");
}

TEST(DnsMessageHostile, NameLongerThan255BytesIsRejected) {
  Bytes b = header(1);
  for (int i = 0; i < 5; ++i) {
    b.push_back(63);
    b.insert(b.end(), 63, 'a');
  }
  b.insert(b.end(), {0, 0, 1, 0, 1});
  expectMalformed(b, "long name");
}

TEST(DnsMessageHostile, LabelLongerThan63IsRejected) {
  Bytes b = header(1);
  b.push_back(64);
  b.insert(b.end(), 64, 'a');
  b.insert(b.end(), {0, 0, 1, 0, 1});
  expectMalformed(b, "long label");
}

TEST(DnsMessageHostile, HugeCountsAreRejectedBeforeAllocating) {
  Bytes b = header(0xFFFF, 0xFFFF);
  expectMalformed(b, "counts");
  Bytes c = header(200, 0);
  c.resize(c.size() + 100, 0);
  expectMalformed(c, "counts vs size");
}

TEST(DnsMessageHostile, OversizedPacketIsRejected) {
  Bytes b = header(0);
  b.resize(9001, 0);
  expectMalformed(b, "size");
}

TEST(DnsMessageHostile, RdataMismatchesAreRejected) {
  DnsMessage m;
  DnsRecord a;
  a.name = "h.local";
  a.type = dns::kTypeA;
  m.answers.push_back(a);
  Bytes wire = encode(m);
  // Claim 5 bytes of rdata for an A record.
  Bytes bad = wire;
  bad[bad.size() - 5] = 5;
  bad.push_back(0);
  expectMalformed(bad, "A length");
  // TXT string length past its rdata.
  DnsMessage t;
  DnsRecord txt;
  txt.name = "h.local";
  txt.type = dns::kTypeTxt;
  txt.txt = {"abc"};
  t.answers.push_back(txt);
  Bytes tw = encode(t);
  tw[tw.size() - 4] = 9;
  expectMalformed(tw, "TXT length");
}

TEST(DnsMessageHostile, TrailingGarbageIsRejected) {
  Bytes wire = encode(sampleResponse());
  wire.push_back(0);
  expectMalformed(wire, "trailing");
}

TEST(DnsMessageHostile, ReservedLabelTypeIsRejected) {
  Bytes b = header(1);
  b.insert(b.end(), {0x41, 'a', 0, 0, 1, 0, 1});
  expectMalformed(b, "0x40 label");
}

TEST(DnsMessageHostile, BadNsecBitmapIsRejected) {
  DnsMessage m;
  DnsRecord n;
  n.name = "h.local";
  n.type = dns::kTypeNsec;
  n.nsec = {"h.local", {1}};
  m.answers.push_back(n);
  Bytes w = encode(m);
  w[w.size() - 2] = 33;  // bitmap length
  expectMalformed(w, "bitmap length");
}

TEST(DnsMessageHostile, EveryByteFlipFailsCleanlyOrParses) {
  Bytes wire = encode(sampleResponse());
  for (size_t i = 0; i < wire.size(); ++i) {
    for (uint8_t v : {0x00, 0x3F, 0x40, 0xC0, 0xFF}) {
      Bytes b = wire;
      b[i] = v;
      auto p = parseDnsMessage(b);
      if (!p.isOk()) {
        EXPECT_EQ(p.status().code(), Code::kMalformed);
      }
    }
  }
}

// ---- Writer ----

TEST(DnsMessageWriter, RejectsBadNames) {
  DnsMessage m;
  m.questions.push_back({"a..local", dns::kTypeA, dns::kClassIn, false});
  EXPECT_EQ(writeDnsMessage(m).status().code(), Code::kInvalidArgument);
  m.questions[0].name = std::string(64, 'a') + ".local";
  EXPECT_EQ(writeDnsMessage(m).status().code(), Code::kInvalidArgument);
}

TEST(DnsMessageWriter, RejectsMoreThanTheRecordLimit) {
  DnsMessage m;
  for (int i = 0; i < 257; ++i) m.answers.push_back(ptrRecord("a.local", "b.local"));
  EXPECT_EQ(writeDnsMessage(m).status().code(), Code::kTooLarge);
}

TEST(DnsNames, EscapesRoundTripThroughTheWire) {
  DnsMessage m;
  m.answers.push_back(ptrRecord("s.local", "dot\\.and\\\\slash.s.local"));
  auto p = parseDnsMessage(encode(m));
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->answers[0].ptr, "dot\\.and\\\\slash.s.local");
  auto first = firstDnsLabel(p->answers[0].ptr);
  ASSERT_TRUE(first.isOk());
  EXPECT_EQ(first.value(), "dot.and\\slash");
}

TEST(DnsNames, CompareCaseInsensitively) {
  EXPECT_TRUE(dnsNameEquals("Host.Local", "host.local"));
  EXPECT_FALSE(dnsNameEquals("host.local", "host2.local"));
}

// ---- TXT ----

TEST(TxtAttributes, FollowRfc6763Rules) {
  auto attrs = parseTxtAttributes({"V=1", "v=2", "flag", "=ignored", "", "empty=", "bad\x01key=x",
                                   "id=A=B"});
  EXPECT_EQ(attrs.at("v"), "1");  // first occurrence wins, keys are case-insensitive
  EXPECT_EQ(attrs.at("flag"), std::nullopt);
  EXPECT_EQ(attrs.at("empty"), "");
  EXPECT_EQ(attrs.at("id"), "A=B");
  EXPECT_EQ(attrs.count("bad\x01key"), 0u);
  EXPECT_EQ(attrs.size(), 4u);
}

TEST(TxtAttributes, MakeStringFormsPairsAndBooleans) {
  EXPECT_EQ(makeTxtString("v", "1"), "v=1");
  EXPECT_EQ(makeTxtString("flag", std::nullopt), "flag");
}

}  // namespace
}  // namespace meshslice
