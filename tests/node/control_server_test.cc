#include "node/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "node/control_client.h"
#include "tests/mesh/scoped_temp_dir.h"
#include "tests/node/raw_socket.h"
#include "tests/support/loop_helpers.h"

namespace meshslice {
namespace {

// Answers every message with its own contents; "flood" sends many large notifications.
struct EchoHandler : ControlHandler {
  void onMessage(ControlConnection& conn, const Json& m) override {
    if (m.is_object() && m.value("method", "") == "flood") {
      Json big = rpc::notification("blob", Json{{"data", std::string(64 * 1024, 'x')}});
      for (int i = 0; i < 200 && !conn.closed(); ++i) conn.send(big);
      return;
    }
    conn.send(rpc::result(m.is_object() ? m.value("id", Json()) : Json(), m));
  }
  void onClosed(ControlConnection&) override { ++closed; }
  std::atomic<int> closed{0};
};

class ControlServerTest : public test::LoopTest {
 protected:
  void SetUp() override { path_ = dir_.file("control.sock"); }
  void startServer(ControlServerOptions options = {}) {
    server_ = std::make_unique<ControlServer>(env_, loop_.uv(), handler_, options);
    ASSERT_TRUE(server_->listen(path_).isOk());
  }
  // Runs the client on a thread while the test thread runs the loop.
  void withClient(const std::function<void()>& client) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      client();
      done = true;
    });
    bool finished = test::runUntil(loop_, [&] { return done.load(); }, 20000);
    t.join();
    ASSERT_TRUE(finished);
  }
  void TearDown() override {
    server_.reset();
    test::LoopTest::TearDown();
  }

  ScopedTempDir dir_;
  std::string path_;
  UvEnv env_{loop_};
  EchoHandler handler_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SocketIsPrivateAndRemovedOnStop) {
  startServer();
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->stop();
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);
}

TEST_F(ControlServerTest, AnswersMalformedLinesWithParseErrorsAndKeepsServing) {
  startServer();
  withClient([&] {
    RawSocket s(path_);
    ASSERT_TRUE(s.connected());
    s.write("{not json\n\n" + std::string(100, '[') + "\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}\r\n");
    EXPECT_NE(s.line().find("-32700"), std::string::npos);
    EXPECT_NE(s.line().find("nested deeper"), std::string::npos);
    auto reply = parseJson(s.line());
    ASSERT_TRUE(reply.isOk());
    EXPECT_EQ((*reply)["id"], 1);
  });
}

TEST_F(ControlServerTest, ALineOverTheLimitClosesOnlyThatConnection) {
  ControlServerOptions o;
  o.max_line = 1024;
  startServer(o);
  withClient([&] {
    RawSocket bad(path_), good(path_);
    bad.write(std::string(4096, 'a'));
    EXPECT_NE(bad.line().find("-32600"), std::string::npos);
    EXPECT_EQ(bad.line(), "<eof>");
    good.write("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
    EXPECT_NE(good.line().find("\"id\":2"), std::string::npos);
  });
}

TEST_F(ControlServerTest, ClientsBeyondTheLimitAreRefusedWithAnError) {
  ControlServerOptions o;
  o.max_clients = 1;
  startServer(o);
  withClient([&] {
    RawSocket first(path_);
    first.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
    ASSERT_NE(first.line().find("\"id\":1"), std::string::npos);  // the server has accepted it
    RawSocket second(path_);
    EXPECT_NE(second.line().find("too many control clients"), std::string::npos);
    EXPECT_EQ(second.line(), "<eof>");
  });
}

TEST_F(ControlServerTest, AClientThatDoesNotReadIsDroppedAtTheBacklogLimit) {
  ControlServerOptions o;
  o.max_backlog = 256 * 1024;
  startServer(o);
  withClient([&] {
    RawSocket s(path_);
    s.write("{\"jsonrpc\":\"2.0\",\"method\":\"flood\"}\n");
    // Not reading: the server's queue grows past the limit and it drops us.
    for (int i = 0; i < 400 && handler_.closed.load() == 0; ++i) ::poll(nullptr, 0, 10);
  });
  EXPECT_EQ(handler_.closed.load(), 1);
  EXPECT_EQ(server_->connectionCount(), 0u);
}

TEST_F(ControlServerTest, StaleSocketsAreReplacedOtherFilesAndLongPathsRefused) {
  {
    // What a crashed daemon leaves behind: a socket file nobody listens on.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  startServer();
  server_->stop();
  std::ofstream(path_) << "not a socket";
  ControlServer other(env_, loop_.uv(), handler_);
  EXPECT_EQ(other.listen(path_).code(), Code::kIo);
  EXPECT_EQ(other.listen(dir_.path() + "/" + std::string(120, 'x')).code(), Code::kInvalidArgument);
}

TEST_F(ControlServerTest, ControlClientCallsAndMapsErrors) {
  startServer();
  withClient([&] {
    auto c = ControlClient::connect(path_);
    ASSERT_TRUE(c.isOk());
    auto r = c->call("hello", Json{{"x", 1}}, 5000);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    EXPECT_EQ((*r)["params"]["x"], 1);
  });
  EXPECT_EQ(statusFromRpcError(Json{{"code", rpc::kInvalidParams}, {"message", "m"}}).code(), Code::kInvalidArgument);
  EXPECT_EQ(statusFromRpcError(Json{{"code", rpc::kNotFound}, {"message", "m"}}).code(), Code::kNotFound);
  EXPECT_EQ(statusFromRpcError(Json("junk")).code(), Code::kInternal);
  EXPECT_EQ(ControlClient::connect(dir_.file("none.sock")).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace meshslice
