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

}  // namespace
}  // namespace meshslice
