// A host that keeps failing its handshakes (a wrong mesh secret, retried) is reported once per
// kFailureLogInterval with a count, not with lines per retry (issue 21).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "base/log.h"
#include "mesh/failure_log_limiter.h"
#include "tests/support/mesh_harness.h"
#include "tests/support/raw_peer.h"

namespace meshslice {
namespace {

using test::MeshHarness;
using test::RawPeer;

TEST(FailureLogLimiter, LogsTheFirstFailureThenOneLinePerIntervalWithTheCount) {
  FailureLogLimiter limiter(60 * kSeconds);
  EXPECT_EQ(limiter.admit("a", 0), 1u);
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(limiter.admit("a", i * 10 * kSeconds)) << i;
  EXPECT_EQ(limiter.admit("b", 30 * kSeconds), 1u) << "sources are counted apart";
  EXPECT_EQ(limiter.admit("a", 60 * kSeconds), 6u) << "five counted + this one";
  EXPECT_FALSE(limiter.admit("a", 61 * kSeconds));
  EXPECT_EQ(limiter.admit("a", 200 * kSeconds), 2u);
}

TEST(FailureLogLimiter, RemembersABoundedNumberOfSources) {
  FailureLogLimiter limiter(60 * kSeconds, 4);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.admit("host" + std::to_string(i), i), 1u);
  EXPECT_LE(limiter.trackedSources(), 4u);
}

TEST(FailureLogLimiter, TheSourceIsTheHostWithoutThePort) {
  EXPECT_EQ(failureSourceOf("192.0.2.7:41234"), "192.0.2.7");
  EXPECT_EQ(failureSourceOf("[fe80::1]:7070"), "[fe80::1]");
  EXPECT_EQ(failureSourceOf("fe80::1"), "fe80::1");
  EXPECT_EQ(failureSourceOf("mem-a#12"), "mem-a");
  EXPECT_EQ(failureSourceOf("host"), "host");
}

// Every line at info and above, of every component.
class LogLines {
 public:
  LogLines() : saved_(logLevel()) {
    setLogLevel(LogLevel::kInfo);
    setLogSink([this](LogLevel, std::string_view component, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(std::string(component) + ": " + std::string(message));
    });
  }
  ~LogLines() {
    setLogSink(nullptr);
    setLogLevel(saved_);
  }
  std::vector<std::string> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(lines_, {});
  }

 private:
  LogLevel saved_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(HandshakeFailureLog, AHostRetryingWithAWrongSecretGetsOneLineAMinuteWithACount) {
  LogLines logs;
  MeshHarness h;
  test::TestNode& node = h.addNode();
  Key32 wrong = h.psk;
  wrong.fill(0x13);
  auto attempt = [&] {
    RawPeer p(h.env, h.net, "rogue", wrong);
    ASSERT_TRUE(p.connect(node.address));
    p.handshake();
    ASSERT_TRUE(p.waitClosed());
    h.env.runPending();
  };
  logs.take();
  const Micros start = h.env.now();
  for (int i = 0; i < 10; ++i) {
    attempt();
    h.env.advance(5 * kSeconds);  // a retry every 5 s: 10 within the minute
  }
  EXPECT_EQ(node.core->stats().handshakes_failed, 10u);
  auto first = logs.take();
  ASSERT_EQ(first.size(), 1u) << "one line for ten failures; the second: " << (first.size() > 1 ? first[1] : "");
  EXPECT_NE(first[0].find("closed before Hello (handshake-rejected)"), std::string::npos) << first[0];

  h.env.advance(start + kFailureLogInterval - h.env.now());
  attempt();
  auto second = logs.take();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].find("10 failed handshakes from rogue"), std::string::npos) << second[0];
  EXPECT_NE(second[0].find("handshake-rejected"), std::string::npos) << second[0];
}

}  // namespace
}  // namespace meshslice
