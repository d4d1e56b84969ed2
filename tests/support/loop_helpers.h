// Helpers for tests that drive a real libuv loop on the test thread.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "base/event_loop.h"

namespace meshslice::test {

// Runs `loop` until pred() holds or `timeout_ms` of wall time passes (an event-driven wait with
// a deadline, not a sleep). Returns pred().
bool runUntil(EventLoop& loop, const std::function<bool()>& pred, uint64_t timeout_ms = 5000);

// Owns an EventLoop for one test and checks at teardown that the loop closes with no live
// handles (libuv's MAKE_VALGRIND_HAPPY discipline). Objects using the loop must be destroyed
// before TearDown: keep them in members declared after `loop_`, or reset them in the test.
class LoopTest : public ::testing::Test {
 protected:
  void TearDown() override;
  EventLoop loop_;
};

// Same check for loops a test manages itself.
void expectCleanClose(EventLoop& loop);

// The same check for an object running its own loop thread (MeshNode): stops it, then expects
// closeStatus() OK, i.e. no live handle was left and uv_loop_close returned 0. Every test that
// starts such a node ends it through this.
template <typename Node>
void stopAndExpectCleanClose(Node& node) {
  node.stop();
  Status st = node.closeStatus();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

}  // namespace meshslice::test
