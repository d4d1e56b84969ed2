// Env::lookupHost: the real resolver (UvEnv, only "localhost": nothing leaves the host) and the
// scripted one of FakeEnv that discovery tests inject.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "base/event_loop.h"
#include "base/fake_env.h"
#include "tests/support/loop_helpers.h"

namespace meshslice {
namespace {

using Answer = std::optional<Result<std::vector<std::string>>>;

TEST(UvEnvLookup, LocalhostResolvesToALoopbackAddressOnALaterTurn) {
  EventLoop loop;
  UvEnv env(loop);
  {
    Answer answer;
    auto lookup = env.lookupHost("localhost", [&](Result<std::vector<std::string>> r) { answer = std::move(r); });
    EXPECT_FALSE(answer.has_value()) << "never inline";
    ASSERT_TRUE(test::runUntil(loop, [&] { return answer.has_value(); }, 10000));
    ASSERT_TRUE(answer->isOk()) << answer->status().toString();
    const auto& v = answer->value();
    EXPECT_TRUE(std::find(v.begin(), v.end(), "127.0.0.1") != v.end() ||
                std::find(v.begin(), v.end(), "::1") != v.end());
  }
  test::expectCleanClose(loop);
}

TEST(UvEnvLookup, NumericHostsNeedNoResolver) {
  EventLoop loop;
  UvEnv env(loop);
  {
    Answer answer;
    auto lookup = env.lookupHost("fe80::1", [&](Result<std::vector<std::string>> r) { answer = std::move(r); });
    ASSERT_TRUE(test::runUntil(loop, [&] { return answer.has_value(); }, 10000));
    ASSERT_TRUE(answer->isOk()) << answer->status().toString();
    EXPECT_EQ(answer->value(), std::vector<std::string>{"fe80::1"});
  }
  test::expectCleanClose(loop);
}

TEST(UvEnvLookup, ADestroyedLookupNeverCallsBack) {
  EventLoop loop;
  UvEnv env(loop);
  bool called = false;
  for (int i = 0; i < 8; ++i) {
    auto lookup = env.lookupHost("localhost", [&](Result<std::vector<std::string>>) { called = true; });
  }
  // Runs until the thread pool has finished or cancelled every request (no live handle is
  // left once the wake-up handle is closed, so this returns when the last request is done).
  loop.shutdown();
  uv_run(loop.uv(), UV_RUN_DEFAULT);
  EXPECT_FALSE(called);
  test::expectCleanClose(loop);
}

TEST(FakeEnvLookup, AnswersFromItsTableAfterTheDelay) {
  FakeEnv env;
  env.setHostAnswer("a.test", std::vector<std::string>{"10.0.0.1"}, 200 * kMillis);
  Answer a, missing;
  auto la = env.lookupHost("a.test", [&](Result<std::vector<std::string>> r) { a = std::move(r); });
  auto lm = env.lookupHost("b.test", [&](Result<std::vector<std::string>> r) { missing = std::move(r); });
  EXPECT_EQ(env.pendingHostLookups(), 2u);
  env.runPending();
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status().code(), Code::kNotFound);
  EXPECT_FALSE(a.has_value());
  env.advance(199 * kMillis);
  EXPECT_FALSE(a.has_value());
  env.advance(1 * kMillis);
  ASSERT_TRUE(a.has_value() && a->isOk());
  EXPECT_EQ(a->value(), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(env.hostLookups("a.test"), 1u);
  EXPECT_EQ(env.pendingHostLookups(), 0u);
}

TEST(FakeEnvLookup, HangingLookupsAnswerNeverAndCancelOnDestruction) {
  FakeEnv env;
  env.setHostHangs("slow.test");
  bool called = false;
  auto l = env.lookupHost("slow.test", [&](Result<std::vector<std::string>>) { called = true; });
  env.advance(60 * kSeconds);
  EXPECT_FALSE(called);
  EXPECT_EQ(env.pendingHostLookups(), 1u);
  l.reset();
  EXPECT_EQ(env.pendingHostLookups(), 0u);
}

}  // namespace
}  // namespace meshslice
