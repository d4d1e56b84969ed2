// encodeMessageEnvelope() is the bus's hot path: it must produce exactly the canonical bytes of
// encodeEnvelope(BusMessage{...}) at every msgpack size class of the payload.
#include <gtest/gtest.h>

#include "mesh/envelope.h"

namespace meshslice {
namespace {

TEST(EncodeMessageEnvelope, MatchesTheCanonicalEncodingAtEverySizeClass) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{255}, size_t{256}, size_t{65535}, size_t{65536},
                      size_t{200000}}) {
    BusMessage m;
    m.ns = "ms.sync";
    m.payload.assign(size, 0xa5);
    EXPECT_EQ(encodeMessageEnvelope(m.ns, m.payload), encodeEnvelope(m)) << "payload of " << size;
  }
}

TEST(EncodeMessageEnvelope, DecodesBackToTheMessage) {
  Bytes payload(1024, 0x3c);
  auto decoded = decodeEnvelope(encodeMessageEnvelope("chat.room-1", payload));
  ASSERT_TRUE(decoded.isOk()) << decoded.status().toString();
  auto* m = std::get_if<BusMessage>(&decoded.value());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->ns, "chat.room-1");
  EXPECT_EQ(m->payload, payload);
}

TEST(MessageEnvelopeHeader, PlusThePayloadIsTheEncodedEnvelope) {
  for (size_t size : {size_t{0}, size_t{255}, size_t{256}, size_t{65536}}) {
    Bytes payload(size, 0x11);
    Bytes joined = messageEnvelopeHeader("ms.sync", size);
    joined.insert(joined.end(), payload.begin(), payload.end());
    EXPECT_EQ(joined, encodeMessageEnvelope("ms.sync", payload)) << size;
  }
}

TEST(ParseMessageEnvelope, ViewsTheCanonicalFormInPlace) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{300}, size_t{70000}}) {
    Bytes payload(size, 0x42);
    const Bytes wire = encodeMessageEnvelope("chat.room-1", payload);
    auto v = parseMessageEnvelope(wire);
    ASSERT_TRUE(v.has_value()) << size;
    EXPECT_EQ(v->ns, "chat.room-1");
    EXPECT_EQ(v->payload.data(), wire.data() + (wire.size() - size)) << "a view, not a copy";
    EXPECT_EQ(v->payload.size(), size);
  }
}

TEST(ParseMessageEnvelope, LeavesEverythingElseToTheDecoder) {
  const Bytes good = encodeMessageEnvelope("chat", Bytes{1, 2, 3});
  auto variant = [&](auto change) {
    Bytes b = good;
    change(b);
    return b;
  };
  const std::vector<std::pair<const char*, Bytes>> others = {
      {"trailing byte", variant([](Bytes& b) { b.push_back(0); })},
      {"truncated", variant([](Bytes& b) { b.pop_back(); })},
      {"bin length too long", variant([](Bytes& b) { b[b.size() - 4] = 4; })},
      {"uint8 type code", Bytes{0x93, 0xcc, 0x04, 0xa4, 'c', 'h', 'a', 't', 0xc4, 0x00}},
      {"str16 namespace", Bytes{0x93, 0x04, 0xda, 0x00, 0x04, 'c', 'h', 'a', 't', 0xc4, 0x00}},
      {"bad namespace", Bytes{0x93, 0x04, 0xa4, 'c', 'h', '/', 't', 0xc4, 0x00}},
      {"str payload", Bytes{0x93, 0x04, 0xa4, 'c', 'h', 'a', 't', 0xa0}},
      {"a heartbeat", encodeEnvelope(Heartbeat{7})},
  };
  for (const auto& [what, bytes] : others) {
    EXPECT_FALSE(parseMessageEnvelope(bytes).has_value()) << what;
    // The decoder still takes the non-canonical forms of a valid Message.
    auto decoded = decodeEnvelope(bytes);
    const bool message = decoded.isOk() && std::holds_alternative<BusMessage>(*decoded);
    EXPECT_EQ(message, std::string_view(what) == "uint8 type code" || std::string_view(what) == "str16 namespace") << what;
  }
}

}  // namespace
}  // namespace meshslice
