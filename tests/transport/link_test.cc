// One behaviour suite run over every Link implementation (TCP on 127.0.0.1 and the in-memory
// transport), as wireguard-go runs its bind tests over real and test binds.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "base/fake_env.h"
#include "tests/support/loop_helpers.h"
#include "transport/memory_transport.h"
#include "transport/address.h"
#include "transport/tcp_transport.h"

namespace meshslice {
namespace {

struct Recorder : LinkHandler {
  std::vector<Bytes> frames;
  std::optional<Status> closed;
  int drained = 0;
  void onFrame(ByteView f) override { frames.emplace_back(f.begin(), f.end()); }
  void onLinkClosed(const Status& s) override { closed = s; }
  void onLinkDrained() override { ++drained; }
};

class Harness {
 public:
  virtual ~Harness() = default;
  // Connects a client to a server; returns {client, server}.
  virtual std::pair<std::unique_ptr<Link>, std::unique_ptr<Link>> makePair(size_t queue_limit) = 0;
  virtual bool runUntil(const std::function<bool()>& pred) = 0;
  virtual void finish() = 0;
};

class TcpHarness : public Harness {
 public:
  std::pair<std::unique_ptr<Link>, std::unique_ptr<Link>> makePair(size_t queue_limit) override {
    TcpTransportOptions opts;
    opts.link.write_queue_limit = queue_limit;
    transport_ = std::make_unique<TcpTransport>(loop_, opts);
    std::unique_ptr<Link> server, client;
    auto addr = transport_->listen("127.0.0.1:0", [&](std::unique_ptr<Link> l) { server = std::move(l); });
    EXPECT_TRUE(addr.isOk()) << addr.status().toString();
    Status st = transport_->connect(addr.value(), [&](Result<std::unique_ptr<Link>> r) {
      ASSERT_TRUE(r.isOk()) << r.status().toString();
      client = std::move(r).value();
    });
    EXPECT_TRUE(st.isOk());
    EXPECT_TRUE(runUntil([&] { return server && client; }));
    return {std::move(client), std::move(server)};
  }
  bool runUntil(const std::function<bool()>& pred) override { return test::runUntil(loop_, pred); }
  void finish() override {
    transport_.reset();
    test::expectCleanClose(loop_);
  }

 private:
  EventLoop loop_;
  std::unique_ptr<TcpTransport> transport_;
};

class MemoryHarness : public Harness {
 public:
  std::pair<std::unique_ptr<Link>, std::unique_ptr<Link>> makePair(size_t queue_limit) override {
    MemoryLinkOptions opts{queue_limit};
    server_t_ = std::make_unique<MemoryTransport>(net_, "server", opts);
    client_t_ = std::make_unique<MemoryTransport>(net_, "client", opts);
    std::unique_ptr<Link> server, client;
    EXPECT_TRUE(server_t_->listen("server", [&](std::unique_ptr<Link> l) { server = std::move(l); }).isOk());
    EXPECT_TRUE(client_t_->connect("server", [&](Result<std::unique_ptr<Link>> r) {
      client = std::move(r).value();
    }).isOk());
    env_.runPending();
    return {std::move(client), std::move(server)};
  }
  bool runUntil(const std::function<bool()>& pred) override {
    return env_.advanceUntil(pred, 5 * kSeconds);
  }
  void finish() override {
    client_t_.reset();
    server_t_.reset();
    env_.runPending();
  }

 private:
  FakeEnv env_;
  MemoryNetwork net_{env_};
  std::unique_ptr<MemoryTransport> server_t_, client_t_;
};

class LinkTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "tcp") h_ = std::make_unique<TcpHarness>();
    else h_ = std::make_unique<MemoryHarness>();
  }
  void TearDown() override { h_->finish(); }
  std::unique_ptr<Harness> h_;
};

TEST_P(LinkTest, DeliversFramesInOrderBothWays) {
  auto [client, server] = h_->makePair(1 << 20);
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(client->sendFrame(asBytes("c" + std::to_string(i))).isOk());
    ASSERT_TRUE(server->sendFrame(asBytes("s" + std::to_string(i))).isOk());
  }
  Bytes big(kMaxFrameBody, 0x5a);
  ASSERT_TRUE(client->sendFrame(big).isOk());
  ASSERT_TRUE(h_->runUntil([&] { return rs.frames.size() == 101 && rc.frames.size() == 100; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(toString(rs.frames[i]), "c" + std::to_string(i));
    EXPECT_EQ(toString(rc.frames[i]), "s" + std::to_string(i));
  }
  EXPECT_EQ(rs.frames[100], big);
  client.reset();
  ASSERT_TRUE(h_->runUntil([&] { return rs.closed.has_value(); }));
  EXPECT_FALSE(rc.closed.has_value()) << "destroying a link must not call its own handler";
}

// sendFrameWith: the body is written in place; a filler that fails drops its frame and leaves
// the stream intact; size, room and closed checks come before the filler runs.
TEST_P(LinkTest, SendFrameWithFillsInPlaceAndDropsAFailedFrame) {
  auto [client, server] = h_->makePair(1 << 20);
  Recorder rs;
  server->start(&rs);
  Recorder rc;
  client->start(&rc);
  auto fillWith = [](uint8_t b) {
    return [b](std::span<uint8_t> body) {
      std::fill(body.begin(), body.end(), b);
      return Status::ok();
    };
  };
  ASSERT_TRUE(client->sendFrameWith(3, fillWith(0x11)).isOk());
  int calls = 0;
  Status failed = client->sendFrameWith(5, [&](std::span<uint8_t> body) {
    ++calls;
    body[0] = 0xff;
    return Status(Code::kInternal, "filler failed");
  });
  EXPECT_EQ(failed.code(), Code::kInternal);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(client->sendFrameWith(kMaxFrameBody, fillWith(0x22)).isOk());
  ASSERT_TRUE(client->sendFrameWith(0, fillWith(0x33)).isOk());
  EXPECT_EQ(client->sendFrameWith(kMaxFrameBody + 1, [&](std::span<uint8_t>) {
    ++calls;
    return Status::ok();
  }).code(), Code::kTooLarge);
  EXPECT_EQ(calls, 1) << "the filler runs only for an accepted frame";
  ASSERT_TRUE(h_->runUntil([&] { return rs.frames.size() == 3; }));
  EXPECT_EQ(rs.frames[0], Bytes(3, 0x11));
  EXPECT_EQ(rs.frames[1], Bytes(kMaxFrameBody, 0x22));
  EXPECT_TRUE(rs.frames[2].empty());
  client->close(Status(Code::kClosed, "done"));
  EXPECT_EQ(client->sendFrameWith(1, fillWith(0x44)).code(), Code::kClosed);
  ASSERT_TRUE(h_->runUntil([&] { return rs.closed.has_value(); }));
}

TEST_P(LinkTest, RejectsOversizedFrames) {
  auto [client, server] = h_->makePair(1 << 20);
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  Bytes too_big(kMaxFrameBody + 1);
  EXPECT_EQ(client->sendFrame(too_big).code(), Code::kTooLarge);
}

TEST_P(LinkTest, CloseFlushesQueuedFramesThenNotifiesBothEnds) {
  auto [client, server] = h_->makePair(1 << 20);
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  ASSERT_TRUE(client->sendFrame(asBytes("last words")).isOk());
  client->close(Status(Code::kClosed, "bye"));
  EXPECT_FALSE(rc.closed.has_value()) << "onLinkClosed must come on a later turn";
  EXPECT_EQ(client->sendFrame(asBytes("x")).code(), Code::kClosed);
  ASSERT_TRUE(h_->runUntil([&] { return rc.closed && rs.closed; }));
  ASSERT_EQ(rs.frames.size(), 1u);
  EXPECT_EQ(toString(rs.frames[0]), "last words");
  EXPECT_EQ(rc.closed->message(), "bye");
}

TEST_P(LinkTest, PushesBackWhenTheQueueIsFullAndReportsDrain) {
  const size_t limit = 256 * 1024;
  auto [client, server] = h_->makePair(limit);
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  Bytes chunk(60000, 1);
  int sent = 0;
  Status st;
  for (int i = 0; i < 1000; ++i) {  // bounded: the limit is hit within a few sends
    st = client->sendFrame(chunk);
    if (!st.isOk()) break;
    ++sent;
  }
  EXPECT_EQ(st.code(), Code::kBusy);
  EXPECT_LE(client->queuedBytes(), limit);
  ASSERT_TRUE(h_->runUntil([&] { return rc.drained > 0; }));
  ASSERT_TRUE(h_->runUntil([&] { return rs.frames.size() == static_cast<size_t>(sent); }));
  EXPECT_TRUE(client->sendFrame(chunk).isOk());
}

// SecureChannel stops at hasRoomFor() and never sees a refused send: the "no" alone must be
// enough for onLinkDrained to follow, or a sender whose queue filled up waits forever.
TEST_P(LinkTest, ASenderStoppedByHasRoomForIsToldWhenTheQueueDrains) {
  const size_t limit = 256 * 1024;
  auto [client, server] = h_->makePair(limit);
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  Bytes chunk(60000, 2);
  int sent = 0;
  for (int i = 0; i < 1000 && client->hasRoomFor(chunk.size()); ++i) {  // never a refused send
    ASSERT_TRUE(client->sendFrame(chunk).isOk());
    ++sent;
  }
  ASSERT_FALSE(client->hasRoomFor(chunk.size()));
  ASSERT_TRUE(h_->runUntil([&] { return rc.drained > 0; })) << "no onLinkDrained after hasRoomFor said no";
  EXPECT_TRUE(client->hasRoomFor(chunk.size()));
  ASSERT_TRUE(h_->runUntil([&] { return rs.frames.size() == static_cast<size_t>(sent); }));
}

INSTANTIATE_TEST_SUITE_P(AllTransports, LinkTest, ::testing::Values("tcp", "memory"),
                         [](const auto& info) { return info.param; });

TEST(MemoryLink, PausedReaderHoldsBackTheSendersQueue) {
  FakeEnv env;
  MemoryNetwork net(env);
  MemoryTransport a(net, "a", {1000}), b(net, "b", {1000});
  std::unique_ptr<Link> server, client;
  ASSERT_TRUE(b.listen("b", [&](std::unique_ptr<Link> l) { server = std::move(l); }).isOk());
  ASSERT_TRUE(a.connect("b", [&](Result<std::unique_ptr<Link>> r) { client = std::move(r).value(); }).isOk());
  env.runPending();
  Recorder rc, rs;
  client->start(&rc);
  server->start(&rs);
  static_cast<MemoryLink*>(server.get())->setReadPaused(true);
  Bytes chunk(400, 7);
  EXPECT_TRUE(client->sendFrame(chunk).isOk());
  EXPECT_TRUE(client->sendFrame(chunk).isOk());
  env.runPending();
  EXPECT_EQ(client->sendFrame(chunk).code(), Code::kBusy);
  EXPECT_TRUE(rs.frames.empty());
  static_cast<MemoryLink*>(server.get())->setReadPaused(false);
  env.runPending();
  EXPECT_EQ(rs.frames.size(), 2u);
  EXPECT_EQ(rc.drained, 1);
}

// A peer that keeps our socket full gets at most kFullReadsPerTurn full reads per loop turn
// (libuv alone would read it up to 32 times): the other links of the loop are not held up by
// the time it takes to handle 2 MiB. A blocking sender thread streams 24 MiB; the handler
// hashes every frame (slower than the sender, as decrypting is), so the socket stays full; a
// prepare handle (it runs once per turn, before the poll) measures the bytes of each turn.
TEST(TcpLink, AFullSocketYieldsTheLoopTurnAfterTheReadBudget) {
  constexpr size_t kBody = 65000;
  constexpr int kFrames = 24 * 1024 * 1024 / kBody;
  EventLoop loop;
  {
    TcpTransport transport(loop);
    std::unique_ptr<Link> server;
    auto addr = transport.listen("127.0.0.1:0", [&](std::unique_ptr<Link> l) { server = std::move(l); });
    ASSERT_TRUE(addr.isOk());
    auto hp = splitHostPort(addr.value());
    ASSERT_TRUE(hp);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(hp->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    ASSERT_TRUE(test::runUntil(loop, [&] { return server != nullptr; }));

    struct Hasher : LinkHandler {
      size_t bytes = 0, frames = 0;
      std::optional<Status> closed;
      uint8_t digest[32] = {};
      void onFrame(ByteView f) override {
        uint8_t in[64];
        std::copy_n(digest, 32, in);
        crypto_generichash(in + 32, 32, f.data(), f.size(), nullptr, 0);
        crypto_generichash(digest, 32, in, sizeof in, nullptr, 0);
        bytes += kFrameHeaderSize + f.size();
        ++frames;
      }
      void onLinkClosed(const Status& s) override { closed = s; }
      void onLinkDrained() override {}
    } h;
    size_t per_turn_max = 0, at_last_turn = 0;
    struct Probe { Hasher* h; size_t* max; size_t* last; } probe{&h, &per_turn_max, &at_last_turn};
    UvHandle<uv_prepare_t> turn;
    uv_prepare_init(loop.uv(), turn.get());
    turn.markInitialized(&probe);
    uv_prepare_start(turn.get(), [](uv_prepare_t* t) {
      if (auto* p = ownerOf<Probe>(t)) {
        *p->max = std::max(*p->max, p->h->bytes - *p->last);
        *p->last = p->h->bytes;
      }
    });
    uv_unref(turn.handle());
    server->start(&h);

    Bytes body(kBody);
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<uint8_t>(i * 7);
    Bytes frame;
    appendFrame(frame, body);
    std::thread sender([&] {
      for (int i = 0; i < kFrames; ++i) {
        for (size_t off = 0; off < frame.size();) {
          ssize_t n = send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
          if (n <= 0) return;
          off += static_cast<size_t>(n);
        }
      }
    });
    const bool all = test::runUntil(loop, [&] { return h.frames == static_cast<size_t>(kFrames) || h.closed; }, 60000);
    sender.join();
    close(fd);
    EXPECT_TRUE(all) << h.frames << " of " << kFrames << " frames";
    EXPECT_FALSE(h.closed.has_value());
    // What kFrames copies of `frame` hash to, computed the same way.
    Hasher expect;
    for (int i = 0; i < kFrames; ++i) expect.onFrame(body);
    EXPECT_TRUE(std::equal(std::begin(h.digest), std::end(h.digest), std::begin(expect.digest)));
    // The budget's reads, plus the partial frame the decoder carried over from the turn before.
    EXPECT_LE(per_turn_max, kFullReadsPerTurn * kReadBufferSize + 64 * 1024);
    EXPECT_GT(per_turn_max, 0u);
    std::printf("largest turn: %zu bytes (budget %d x %zu KiB)\n", per_turn_max, kFullReadsPerTurn, kReadBufferSize / 1024);
    server.reset();
  }
  test::expectCleanClose(loop);
}

TEST(Address, JoinHostPortIsTheInverseOfSplitHostPort) {
  EXPECT_EQ(joinHostPort("10.0.0.1", 7400), "10.0.0.1:7400");
  EXPECT_EQ(joinHostPort("fe80::1%eth0", 7400), "[fe80::1%eth0]:7400");
  EXPECT_EQ(joinHostPort("node1.local", 0), "node1.local:0");
  for (const char* text : {"127.0.0.1:1", "[::1]:65535", "host-a:7400", "[fe80::1%eth0]:9"}) {
    auto hp = splitHostPort(text);
    ASSERT_TRUE(hp) << text;
    EXPECT_EQ(joinHostPort(hp->host, hp->port), text);
  }
}

TEST(TcpTransport, ConnectToAClosedPortFailsThroughTheCallback) {
  EventLoop loop;
  {
    TcpTransport t(loop);
    // Find a free port, then close it.
    std::string addr;
    {
      TcpTransport probe(loop);
      addr = probe.listen("127.0.0.1:0", [](std::unique_ptr<Link>) {}).value();
    }
    std::optional<Status> result;
    ASSERT_TRUE(t.connect(addr, [&](Result<std::unique_ptr<Link>> r) { result = r.status(); }).isOk());
    ASSERT_TRUE(test::runUntil(loop, [&] { return result.has_value(); }));
    EXPECT_EQ(result->code(), Code::kIo);
    EXPECT_EQ(t.connect("not-an-address", [](auto) { FAIL(); }).code(), Code::kInvalidArgument);
  }
  test::expectCleanClose(loop);
}

TEST(TcpTransport, StopAbandonsPendingConnectsWithoutCallbacks) {
  EventLoop loop;
  {
    TcpTransport t(loop);
    bool called = false;
    // 10.255.255.1 would be a real network target: use a loopback listener that never accepts
    // instead, so the connect is pending when we stop.
    ASSERT_TRUE(t.connect("127.0.0.1:9", [&](auto) { called = true; }).isOk());
    t.stop();
    test::runUntil(loop, [] { return false; }, 50);
    EXPECT_FALSE(called);
  }
  test::expectCleanClose(loop);
}

}  // namespace
}  // namespace meshslice
