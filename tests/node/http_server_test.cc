#include "node/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

#include "tests/node/http_test_client.h"
#include "tests/support/loop_helpers.h"

namespace meshslice {
namespace {

using test::HttpTestClient;

// Echoes requests; /ws upgrades; WebSocket text is echoed; /close closes after answering.
struct TestHandler : HttpHandler {
  void onRequest(HttpConnection& conn, HttpRequest& r) override {
    if (!r.path.empty() && r.path[0] == "ws") {
      if (conn.acceptWebSocket(r, "")) sockets.push_back(&conn);
      return;
    }
    if (!r.path.empty() && r.path[0] == "silent") return;  // the server must answer 500 itself
    HttpResponse resp;
    resp.content_type = "text/plain";
    resp.body = r.method + " " + r.target + " " + r.body;
    conn.respond(std::move(resp));
  }
  void onWebSocketMessage(HttpConnection& conn, const WsMessage& m) override {
    if (m.payload == "flood") {
      std::string big(16 * 1024, 'x');
      for (int i = 0; i < 400 && !conn.closed(); ++i) conn.sendText(big);
      return;
    }
    conn.sendText("echo:" + m.payload);
  }
  void onClosed(HttpConnection& conn) override {
    std::erase(sockets, &conn);
    ++closed;
  }
  std::vector<HttpConnection*> sockets;
  std::atomic<int> closed{0};
};

class HttpServerTest : public test::LoopTest {
 protected:
  void start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(env_, loop_.uv(), handler_, options);
    auto bound = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(bound.isOk()) << bound.status().toString();
    port_ = static_cast<uint16_t>(std::stoi(bound->substr(bound->rfind(':') + 1)));
  }
  // Runs `client` on a thread while this thread runs the loop.
  void withClient(const std::function<void()>& client, uint64_t timeout_ms = 30000) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      client();
      done = true;
    });
    bool finished = test::runUntil(loop_, [&] { return done.load(); }, timeout_ms);
    t.join();
    ASSERT_TRUE(finished);
  }
  uint64_t refused(HttpRefusal r) const { return server_->stats().refusedFor(r); }
  void TearDown() override {
    server_.reset();
    test::LoopTest::TearDown();
  }

  UvEnv env_{loop_};
  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, AnswersKeepAliveAndPipelinedRequestsInOrder) {
  start();
  withClient([&] {
    HttpTestClient c(port_);
    ASSERT_TRUE(c.connected());
    auto r = c.request("GET", "/a");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /a ");
    r = c.request("PUT", "/b", "body");
    EXPECT_EQ(r.body, "PUT /b body");
    // Two requests in one write: two answers, in order.
    c.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(c.read().body, "GET /1 ");
    auto last = c.read();
    EXPECT_EQ(last.body, "GET /2 ");
    EXPECT_EQ(last.header("connection"), "close");
    EXPECT_TRUE(c.closedByPeer());
  });
  EXPECT_EQ(server_->stats().requests, 4u);
  EXPECT_EQ(server_->stats().responses.at(200), 4u);
}

TEST_F(HttpServerTest, HeadHasNoBodyAndUnansweredRequestsGet500) {
  start();
  withClient([&] {
    HttpTestClient c(port_);
    auto r = c.request("HEAD", "/abc");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-length"), "10");  // of "HEAD /abc "
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(c.request("GET", "/silent").status, 500);
    EXPECT_EQ(c.request("GET", "/after").status, 200);  // the connection still works
  });
}

TEST_F(HttpServerTest, MalformedRequestsAreAnsweredCountedAndClosed) {
  start();
  withClient([&] {
    struct Case {
      std::string bytes;
      int status;
    };
    std::vector<Case> cases = {
        {"GARBAGE\x01\xff\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: x\n\n", 400},
        {"GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
        {"GET /" + std::string(10000, 'a') + " HTTP/1.1\r\n\r\n", 414},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'b') + "\r\n\r\n", 431},
    };
    for (const auto& k : cases) {
      HttpTestClient c(port_);
      c.send(k.bytes);
      auto r = c.read();
      EXPECT_EQ(r.status, k.status) << k.bytes.substr(0, 40);
      EXPECT_EQ(r.header("connection"), "close");
      EXPECT_NE(r.body.find("\"error\""), std::string::npos);
      EXPECT_TRUE(c.closedByPeer());
    }
  });
  EXPECT_EQ(refused(HttpRefusal::kMalformed), 2u);
  EXPECT_EQ(refused(HttpRefusal::kHttpVersion), 1u);
  EXPECT_EQ(refused(HttpRefusal::kTransferEncoding), 1u);
  EXPECT_EQ(refused(HttpRefusal::kRequestLineTooLong), 1u);
  EXPECT_EQ(refused(HttpRefusal::kHeadTooLarge), 1u);
  EXPECT_EQ(server_->stats().requests, 0u);  // nothing reached the handler
}

TEST_F(HttpServerTest, OversizedBodyGets413WhileTheClientStillSends) {
  HttpServerOptions o;
  o.max_body = 1000;
  start(o);
  withClient([&] {
    HttpTestClient c(port_);
    // The whole body is sent although the server refuses it after the head: the client must
    // still read the answer (the server lingers instead of resetting).
    std::string body(3 * 1024 * 1024, 'z');
    c.send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    std::thread sender([&] { c.send(body); });
    auto r = c.read();
    sender.join();
    EXPECT_EQ(r.status, 413);
  });
  EXPECT_EQ(refused(HttpRefusal::kBodyTooLarge), 1u);
}

TEST_F(HttpServerTest, SlowRequestsTimeOutIdleConnectionsClose) {
  HttpServerOptions o;
  o.request_timeout = 300 * kMillis;
  o.idle_timeout = 600 * kMillis;
  start(o);
  withClient([&] {
    HttpTestClient slow(port_), idle(port_), good(port_);
    slow.send("GET / HTTP/1.1\r\nHo");  // and never the rest
    // Meanwhile other clients are served.
    EXPECT_EQ(good.request("GET", "/quick").status, 200);
    auto r = slow.read();
    EXPECT_EQ(r.status, 408);
    EXPECT_TRUE(slow.closedByPeer());
    EXPECT_TRUE(idle.closedByPeer());  // never sent anything
  });
  EXPECT_EQ(refused(HttpRefusal::kTimeout), 1u);
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitGet503) {
  HttpServerOptions o;
  o.max_connections = 4;
  start(o);
  withClient([&] {
    std::vector<std::unique_ptr<HttpTestClient>> held;
    for (int i = 0; i < 4; ++i) {
      held.push_back(std::make_unique<HttpTestClient>(port_));
      EXPECT_EQ(held.back()->request("GET", "/held").status, 200);
    }
    HttpTestClient extra(port_);
    auto r = extra.read();
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(extra.closedByPeer());
    held.pop_back();  // a slot frees up
    bool served = false;
    for (int attempt = 0; attempt < 50 && !served; ++attempt) {
      HttpTestClient again(port_);
      served = again.request("GET", "/again", "", {}, 2000).status == 200;
    }
    EXPECT_TRUE(served);
  });
  EXPECT_GE(refused(HttpRefusal::kTooManyConnections), 1u);
}

TEST_F(HttpServerTest, HundredClientsAtOnce) {
  start();
  withClient([&] {
    std::vector<std::unique_ptr<HttpTestClient>> clients;
    for (int i = 0; i < 100; ++i) clients.push_back(std::make_unique<HttpTestClient>(port_));
    for (int i = 0; i < 100; ++i)
      clients[i]->send("GET /c" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 100; ++i) EXPECT_EQ(clients[i]->read().body, "GET /c" + std::to_string(i) + " ");
  });
  EXPECT_EQ(server_->stats().connections_accepted, 100u);
  EXPECT_EQ(server_->stats().refusedFor(HttpRefusal::kTooManyConnections), 0u);
}

TEST_F(HttpServerTest, WebSocketMessagesPingAndCloseHandshake) {
  start();
  withClient([&] {
    HttpTestClient c(port_);
    auto r = c.upgrade("/ws", {});
    ASSERT_EQ(r.status, 101);
    EXPECT_EQ(r.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(r.header("content-length"), "");
    c.sendFrame(0x81, "hi");
    auto f = c.readFrame();
    EXPECT_EQ(f.opcode, 0x1);
    EXPECT_EQ(f.payload, "echo:hi");
    c.sendFrame(0x89, "p");
    f = c.readFrame();
    EXPECT_EQ(f.opcode, 0xA);
    EXPECT_EQ(f.payload, "p");
    c.sendFrame(0x88, std::string("\x03\xe8", 2));
    f = c.readFrame();
    EXPECT_EQ(f.opcode, 0x8);
    EXPECT_EQ(f.payload, std::string("\x03\xe8", 2));
    EXPECT_TRUE(c.closedByPeer());
  });
  EXPECT_EQ(server_->stats().websockets_accepted, 1u);
}

TEST_F(HttpServerTest, BadWebSocketInputIsClosedWithItsCodeAndCounted) {
  HttpServerOptions o;
  o.max_ws_message = 1024;
  start(o);
  withClient([&] {
    struct Case {
      uint8_t b0;
      std::string payload;
      std::string close_code;
    };
    const Case cases[] = {
        {0x81, std::string(2000, 'a'), "\x03\xf1"},  // 1009
        {0xC1, "x", "\x03\xea"},                     // RSV1: 1002
        {0x81, "\xff\xfe", "\x03\xef"},              // not UTF-8: 1007
    };
    for (const auto& k : cases) {
      HttpTestClient c(port_);
      ASSERT_EQ(c.upgrade("/ws", {}).status, 101);
      c.sendFrame(k.b0, k.payload);
      auto f = c.readFrame();
      EXPECT_EQ(f.opcode, 0x8);
      EXPECT_EQ(f.payload.substr(0, 2), k.close_code);
      EXPECT_TRUE(c.closedByPeer());
    }
    // Not a valid upgrade: a plain answer.
    HttpTestClient bad(port_);
    auto r = bad.request("GET", "/ws", "", {"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"});
    EXPECT_EQ(r.status, 400);
    auto v = bad.request("GET", "/ws", "", {"Upgrade: websocket", "Connection: Upgrade",
                                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 8"});
    EXPECT_EQ(v.status, 426);
    EXPECT_EQ(v.header("sec-websocket-version"), "13");
  });
  EXPECT_EQ(refused(HttpRefusal::kWsTooBig), 1u);
  EXPECT_EQ(refused(HttpRefusal::kWsProtocol), 1u);
  EXPECT_EQ(refused(HttpRefusal::kWsInvalidData), 1u);
  EXPECT_EQ(refused(HttpRefusal::kBadUpgrade), 2u);
}

TEST_F(HttpServerTest, ClientThatDoesNotReadIsDroppedOthersAreServed) {
  HttpServerOptions o;
  o.max_backlog = 256 * 1024;
  start(o);
  withClient([&] {
    HttpTestClient slow(port_, /*rcvbuf=*/4096);
    ASSERT_EQ(slow.upgrade("/ws", {}).status, 101);
    slow.sendFrame(0x81, "flood");  // 6.4 MB towards a client that reads nothing
    HttpTestClient other(port_);
    EXPECT_EQ(other.request("GET", "/fine").status, 200);
    EXPECT_TRUE(slow.closedByPeer(20000));
  });
  EXPECT_EQ(refused(HttpRefusal::kSlowClient), 1u);
  EXPECT_TRUE(handler_.sockets.empty());
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndWebSockets) {
  start();
  std::atomic<bool> ready{false}, stopped{false};
  std::thread t([&] {
    HttpTestClient ws(port_), plain(port_), half(port_);
    EXPECT_EQ(ws.upgrade("/ws", {}).status, 101);
    EXPECT_EQ(plain.request("GET", "/x").status, 200);
    half.send("GET / HT");
    ready = true;
    while (!stopped) std::this_thread::yield();
    auto f = ws.readFrame();
    EXPECT_EQ(f.opcode, 0x8);  // a Close (1001) before the end
    EXPECT_EQ(f.payload.substr(0, 2), "\x03\xe9");
    EXPECT_TRUE(plain.closedByPeer());
    EXPECT_TRUE(half.closedByPeer());
  });
  ASSERT_TRUE(test::runUntil(loop_, [&] { return ready.load() && server_->connectionCount() == 3; }, 20000));
  server_->stop();
  stopped = true;
  t.join();
  EXPECT_EQ(handler_.closed.load(), 3);
  // TearDown checks that the loop closes with no handle left.
}

}  // namespace
}  // namespace meshslice
