#include "node/websocket_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "base/bytes.h"
#include "node/sha1.h"
#include "tests/node/http_test_client.h"

namespace meshslice {
namespace {

std::string hex(const Sha1Digest& d) { return toHex(ByteView(d.data(), d.size())); }

std::string clientFrame(uint8_t b0, std::string_view payload) { return test::maskedClientFrame(b0, payload, 0x37fa213d); }

struct Decoded {
  std::vector<WsMessage> messages;
  std::optional<WsDecoder::Failure> failure;
};

Decoded decode(std::string_view bytes, size_t max = 1024, size_t chunk = 0) {
  WsDecoder d(max);
  Decoded out;
  auto sink = [&](WsMessage&& m) {
    out.messages.push_back(std::move(m));
    return true;
  };
  if (chunk == 0) {
    out.failure = d.feed(bytes, sink);
  } else {
    for (size_t i = 0; i < bytes.size() && !out.failure; i += chunk) out.failure = d.feed(bytes.substr(i, chunk), sink);
  }
  return out;
}

TEST(Sha1, KnownAnswers) {
  // FIPS 180-2 appendix A and the empty string.
  EXPECT_EQ(hex(sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex(sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(hex(sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(hex(sha1(std::string(1000000, 'a'))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  // Lengths around the padding boundary (55, 56, 64 bytes).
  EXPECT_EQ(hex(sha1(std::string(55, 'a'))), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(hex(sha1(std::string(56, 'a'))), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(hex(sha1(std::string(64, 'a'))), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(WebSocketHandshake, AcceptMatchesRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(webSocketAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshake, KeyMustBeBase64Of16Bytes) {
  EXPECT_TRUE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(isValidWebSocketKey(""));
  EXPECT_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ="));
  EXPECT_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZQ=x"));
  EXPECT_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25jZR=="));  // non-zero padding bits
  EXPECT_FALSE(isValidWebSocketKey("dGhlIHNhbXBsZSBub25j!Q=="));
}

TEST(WsDecoder, DecodesRfcMaskedHelloExample) {
  // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
  const std::string frame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  for (size_t chunk : {0, 1, 3}) {
    Decoded d = decode(frame, 1024, chunk);
    ASSERT_FALSE(d.failure) << d.failure->reason;
    ASSERT_EQ(d.messages.size(), 1u);
    EXPECT_EQ(d.messages[0].opcode, WsOpcode::kText);
    EXPECT_EQ(d.messages[0].payload, "Hello");
  }
}

TEST(WsDecoder, ReassemblesFragmentsWithControlFramesBetween) {
  std::string bytes = clientFrame(0x01, "Hel") + clientFrame(0x89, "ping!") + clientFrame(0x80, "lo");
  Decoded d = decode(bytes, 1024, 2);
  ASSERT_FALSE(d.failure) << d.failure->reason;
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].opcode, WsOpcode::kPing);
  EXPECT_EQ(d.messages[0].payload, "ping!");
  EXPECT_EQ(d.messages[1].opcode, WsOpcode::kText);
  EXPECT_EQ(d.messages[1].payload, "Hello");
}

TEST(WsDecoder, ExtendedLengths) {
  std::string medium(300, 'm'), large(70000, 'l');
  Decoded d = decode(clientFrame(0x82, medium) + clientFrame(0x82, large), 100000, 4096);
  ASSERT_FALSE(d.failure) << d.failure->reason;
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].payload, medium);
  EXPECT_EQ(d.messages[1].payload, large);
}

TEST(WsDecoder, OversizedMessageFailsAtTheHeader) {
  // Only the header of a frame declaring 2^40 bytes: refused before any payload arrives.
  std::string header = "\x82\xff";
  header += std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);
  header += "abcd";
  Decoded d = decode(header, 65536);
  ASSERT_TRUE(d.failure);
  EXPECT_EQ(d.failure->close_code, ws_close::kMessageTooBig);
  // Fragments that add up past the limit.
  Decoded f = decode(clientFrame(0x01, std::string(600, 'a')) + clientFrame(0x80, std::string(600, 'a')), 1000);
  ASSERT_TRUE(f.failure);
  EXPECT_EQ(f.failure->close_code, ws_close::kMessageTooBig);
  EXPECT_TRUE(f.messages.empty());
}

TEST(WsDecoder, ControlFramesMayExceedASmallMessageLimit) {
  // A 1-byte message limit still lets a 113-byte Close through (found by the fuzzer's check of
  // the buffer bound, which is max(limit, 125) + 14).
  Decoded d = decode(clientFrame(0x88, std::string("\x03\xe8", 2) + std::string(111, 'r')), 1, 7);
  ASSERT_FALSE(d.failure) << d.failure->reason;
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].payload.size(), 113u);
  Decoded big = decode(clientFrame(0x81, "ab"), 1);
  ASSERT_TRUE(big.failure);
  EXPECT_EQ(big.failure->close_code, ws_close::kMessageTooBig);
}

TEST(WsDecoder, RefusesProtocolViolations) {
  struct Case {
    const char* what;
    std::string bytes;
    uint16_t code;
  };
  std::string unmasked = "\x81\x05Hello";
  std::string non_minimal = "\x81\xfe";
  non_minimal += std::string("\x00\x05", 2) + "abcd" + "hello";
  std::string msb = "\x81\xff";
  msb += std::string("\x80\x00\x00\x00\x00\x00\x00\x01", 8) + "abcd";
  const Case cases[] = {
      {"unmasked", unmasked, ws_close::kProtocolError},
      {"rsv1", clientFrame(0xC1, "x"), ws_close::kProtocolError},
      {"opcode 3", clientFrame(0x83, "x"), ws_close::kProtocolError},
      {"opcode 11", clientFrame(0x8B, "x"), ws_close::kProtocolError},
      {"fragmented ping", clientFrame(0x09, "x"), ws_close::kProtocolError},
      {"long ping", clientFrame(0x89, std::string(126, 'p')), ws_close::kProtocolError},
      {"lone continuation", clientFrame(0x80, "x"), ws_close::kProtocolError},
      {"text inside fragments", clientFrame(0x01, "a") + clientFrame(0x81, "b"), ws_close::kProtocolError},
      {"non-minimal length", non_minimal, ws_close::kProtocolError},
      {"length msb", msb, ws_close::kProtocolError},
      {"bad utf-8", clientFrame(0x81, "\xc3\x28"), ws_close::kInvalidPayload},
      {"1-byte close", clientFrame(0x88, "\x03"), ws_close::kProtocolError},
      {"close code 1005", clientFrame(0x88, std::string("\x03\xed", 2)), ws_close::kProtocolError},
      {"close code 999", clientFrame(0x88, std::string("\x03\xe7", 2)), ws_close::kProtocolError},
      {"close reason not utf-8", clientFrame(0x88, std::string("\x03\xe8\xff", 3)), ws_close::kInvalidPayload},
  };
  for (const auto& c : cases) {
    Decoded d = decode(c.bytes);
    ASSERT_TRUE(d.failure) << c.what;
    EXPECT_EQ(d.failure->close_code, c.code) << c.what << ": " << d.failure->reason;
  }
}

TEST(WsDecoder, NothingIsDecodedAfterClose) {
  std::string bytes = clientFrame(0x88, std::string("\x03\xe8", 2) + "bye") + clientFrame(0x81, "late");
  Decoded d = decode(bytes);
  ASSERT_FALSE(d.failure);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].opcode, WsOpcode::kClose);
  EXPECT_EQ(d.messages[0].payload.substr(2), "bye");
}

TEST(WsDecoder, FailureSpendsTheDecoder) {
  WsDecoder d(1024);
  int n = 0;
  auto sink = [&](WsMessage&&) { return ++n, true; };
  ASSERT_TRUE(d.feed("\x81\x05Hello", sink));  // unmasked
  EXPECT_FALSE(d.feed(clientFrame(0x81, "ok"), sink));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(WsEncoder, ServerFramesAreUnmaskedWithMinimalLengths) {
  EXPECT_EQ(encodeWsFrame(WsOpcode::kText, "Hello"), "\x81\x05Hello");
  std::string medium = encodeWsFrame(WsOpcode::kBinary, std::string(256, 'x'));
  EXPECT_EQ(medium.substr(0, 4), std::string("\x82\x7e\x01\x00", 4));
  std::string large = encodeWsFrame(WsOpcode::kText, std::string(65536, 'x'));
  EXPECT_EQ(large.substr(0, 10), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  EXPECT_EQ(large.size(), 65536u + 10);
  std::string close = encodeWsClose(ws_close::kMessageTooBig, std::string(200, 'r'));
  EXPECT_EQ(close.size(), 2u + 125u);
  EXPECT_EQ(close.substr(0, 4), std::string("\x88\x7d\x03\xf1", 4));
}

TEST(WsDecoder, RandomBytesNeverCrashAndStayBounded) {
  std::mt19937 rng(18);
  for (int round = 0; round < 2000; ++round) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    WsDecoder d(256);
    size_t pos = 0;
    while (pos < bytes.size()) {
      size_t n = 1 + rng() % 17;
      auto failure = d.feed(std::string_view(bytes).substr(pos, n), [](WsMessage&& m) { return m.payload.size() <= 256; });
      EXPECT_LE(d.buffered(), 256u + 14u);
      if (failure) break;
      pos += n;
    }
  }
}

}  // namespace
}  // namespace meshslice
