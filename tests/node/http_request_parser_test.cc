#include "node/http_request_parser.h"

#include <gtest/gtest.h>

#include <random>

namespace meshslice {
namespace {

struct Parsed {
  HttpRequestParser::Result result = HttpRequestParser::Result::kNeedMore;
  HttpRequest request;
  HttpParseError error = HttpParseError::kMalformed;
  size_t consumed = 0;
};

// Feeds `text` in chunks of `chunk` bytes (0: at once) until a request or an error.
Parsed parse(std::string_view text, size_t chunk = 0, size_t max_body = kMaxHttpBody) {
  HttpRequestParser p(max_body);
  Parsed out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t n = chunk == 0 ? text.size() - pos : std::min(chunk, text.size() - pos);
    size_t used = 0;
    out.result = p.feed(text.substr(pos, n), &used);
    EXPECT_LE(used, n);
    pos += used;
    out.consumed = pos;
    if (out.result != HttpRequestParser::Result::kNeedMore) break;
    EXPECT_EQ(used, n);
  }
  if (out.result == HttpRequestParser::Result::kRequest) out.request = p.request();
  if (out.result == HttpRequestParser::Result::kError) out.error = p.error();
  return out;
}

int statusOf(std::string_view text) {
  Parsed p = parse(text);
  if (p.result == HttpRequestParser::Result::kError) return httpStatusFor(p.error);
  return p.result == HttpRequestParser::Result::kRequest ? 200 : 0;
}

TEST(HttpRequestParser, ParsesAGetAtEveryChunkSize) {
  const std::string text = "GET /api/stores/sen%73ors?x=1 HTTP/1.1\r\nHost: 127.0.0.1:7071\r\nAccept:  */* \r\n\r\n";
  for (size_t chunk : {0, 1, 2, 7, 64}) {
    Parsed p = parse(text, chunk);
    ASSERT_EQ(p.result, HttpRequestParser::Result::kRequest) << chunk;
    EXPECT_EQ(p.consumed, text.size());
    EXPECT_EQ(p.request.method, "GET");
    EXPECT_EQ(p.request.target, "/api/stores/sen%73ors?x=1");
    EXPECT_EQ(p.request.path, (std::vector<std::string>{"api", "stores", "sensors"}));
    EXPECT_EQ(p.request.query, "x=1");
    ASSERT_NE(p.request.header("accept"), nullptr);
    EXPECT_EQ(*p.request.header("accept"), "*/*");
    EXPECT_TRUE(p.request.keepAlive());
  }
}

TEST(HttpRequestParser, BodyByContentLengthAndPipelining) {
  const std::string first = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string both = first + second;
  HttpRequestParser p;
  size_t used = 0;
  ASSERT_EQ(p.feed(both, &used), HttpRequestParser::Result::kRequest);
  EXPECT_EQ(used, first.size());  // stops at the end of the first request
  EXPECT_EQ(p.request().body, "hello");
  p.reset();
  ASSERT_EQ(p.feed(std::string_view(both).substr(used), &used), HttpRequestParser::Result::kRequest);
  EXPECT_EQ(p.request().path, std::vector<std::string>{"b"});
  EXPECT_FALSE(p.request().keepAlive());
}

TEST(HttpRequestParser, PathSegments) {
  auto path = [](std::string target) {
    return parse("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n").request.path;
  };
  EXPECT_EQ(path("/"), std::vector<std::string>{});
  EXPECT_EQ(path("/a/"), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(path("/a//b"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(path("/a%2Fb"), std::vector<std::string>{"a/b"});
  EXPECT_EQ(statusOf("GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(HttpRequestParser, EmptyLinesBeforeTheRequestAreIgnored) {
  Parsed p = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 1);
  EXPECT_EQ(p.result, HttpRequestParser::Result::kRequest);
}

TEST(HttpRequestParser, Http10KeepAliveRules) {
  EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").request.keepAlive());
  EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keepAlive());
  EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n").request.headerHasToken("connection", "upgrade"));
}

TEST(HttpRequestParser, MalformedRequestsGet400) {
  const char* cases[] = {
      "GARBAGE\r\n\r\n",
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
      "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n",
      "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\nHost: h\n\n",
      "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
      "GET / HTTP/1.1\r\nHo st: h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
  };
  for (const char* c : cases) EXPECT_EQ(statusOf(c), 400) << c;
}

TEST(HttpRequestParser, OtherRefusals) {
  EXPECT_EQ(statusOf("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(statusOf("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(statusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 501);
  EXPECT_EQ(statusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(statusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2097153\r\n\r\n"), 413);
  EXPECT_EQ(statusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
}

TEST(HttpRequestParser, LimitsAreCheckedAsBytesArrive) {
  // A request line that never ends: refused once it passes the limit, not when it ends.
  std::string line = "GET /" + std::string(kMaxHttpRequestLine + 10, 'a');
  Parsed p = parse(line);
  ASSERT_EQ(p.result, HttpRequestParser::Result::kError);
  EXPECT_EQ(httpStatusFor(p.error), 414);
  EXPECT_LE(p.consumed, kMaxHttpRequestLine + 3);
  // A header that never ends.
  std::string head = "GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHttpHeadBytes, 'b');
  p = parse(head, 4096);
  ASSERT_EQ(p.result, HttpRequestParser::Result::kError);
  EXPECT_EQ(httpStatusFor(p.error), 431);
  EXPECT_LE(p.consumed, kMaxHttpHeadBytes + 1);
  // Too many header fields, each small.
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i < kMaxHttpHeaderCount; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(statusOf(many + "\r\n"), 431);
  // Exactly at the limits is fine.
  std::string ok = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (size_t i = 0; i + 1 < kMaxHttpHeaderCount; ++i) ok += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(statusOf(ok + "\r\n"), 200);
}

TEST(HttpRequestParser, BytesThatCannotStartARequestAreRefusedAtOnce) {
  const std::string cases[] = {
      std::string("\x16\x03\x01\x02\x00", 5),  // a TLS ClientHello
      std::string("\x00\x01", 2),
      "GET  /",
      "GET /a b",
      "GET / HTTQ",
      "GET / HTTP/1.1x",
      "VERYLONGMETHODNAMEXX /",
  };
  for (const auto& c : cases) {
    HttpRequestParser p;
    size_t used = 0;
    EXPECT_EQ(p.feed(c, &used), HttpRequestParser::Result::kError) << c;
    EXPECT_EQ(httpStatusFor(p.error()), 400);
  }
}

TEST(HttpRequestParser, ErrorSpendsTheParser) {
  HttpRequestParser p;
  size_t used = 0;
  ASSERT_EQ(p.feed("BAD\n", &used), HttpRequestParser::Result::kError);
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &used), HttpRequestParser::Result::kError);
  EXPECT_EQ(used, 0u);
}

TEST(HttpRequestParser, RandomBytesNeverCrash) {
  std::mt19937 rng(18);
  const std::string alphabet = "GET /aHTP1.0:\r\n %2Fx";
  for (int round = 0; round < 3000; ++round) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = round % 2 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()];
    Parsed p = parse(bytes, 1 + rng() % 13, 64);
    if (p.result == HttpRequestParser::Result::kRequest) {
      EXPECT_LE(p.request.body.size(), 64u);
      EXPECT_LE(p.request.headers.size(), kMaxHttpHeaderCount);
    }
  }
}

}  // namespace
}  // namespace meshslice
