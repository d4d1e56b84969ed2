#include "base/event_loop.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace meshslice {
namespace {

TEST(EventLoop, PostedTasksRunOnTheLoopThreadInOrder) {
  EventLoop loop;
  loop.startThread();
  std::promise<std::vector<int>> done;
  auto seen = std::make_shared<std::vector<int>>();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(loop.post([&loop, seen, i] {
      EXPECT_TRUE(loop.onLoopThread());
      seen->push_back(i);
    }));
  }
  ASSERT_TRUE(loop.post([&done, seen] { done.set_value(*seen); }));
  auto order = done.get_future().get();
  loop.stopThread();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_FALSE(loop.post([] {}));  // after shutdown the task is refused
  EXPECT_TRUE(loop.closeAndCheck().isOk());
}

// A write to a socket whose peer has gone raises SIGPIPE; with the default disposition that kills
// the process. The loop thread blocks SIGPIPE, so the write fails with EPIPE and nothing dies.
TEST(EventLoop, LoopThreadSurvivesAWriteToAClosedPeer) {
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL) << "test needs the default SIGPIPE action";
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  ::close(fds[1]);
  EventLoop loop;
  loop.startThread();
  std::promise<int> result;
  ASSERT_TRUE(loop.post([&result, fd = fds[0]] {
    const char byte = 'x';
    ssize_t n = ::write(fd, &byte, 1);  // plain write(), as libuv does for TCP streams
    result.set_value(n < 0 ? errno : 0);
  }));
  EXPECT_EQ(result.get_future().get(), EPIPE);
  loop.stopThread();
  ::close(fds[0]);
  EXPECT_TRUE(loop.closeAndCheck().isOk());
}

// runAtTurnEnd: work queued during an iteration's callbacks runs in that same iteration (before
// the loop polls again), in order; work it queues waits for the next iteration, which does not
// block.
TEST(EventLoop, TurnEndTasksRunInTheSameIterationInOrder) {
  EventLoop loop;
  std::vector<std::string> ran;
  ASSERT_TRUE(loop.post([&] {
    ran.push_back("task");
    EXPECT_TRUE(loop.runAtTurnEnd([&] {
      ran.push_back("end1");
      EXPECT_TRUE(loop.runAtTurnEnd([&] { ran.push_back("next"); }));
    }));
    EXPECT_TRUE(loop.runAtTurnEnd([&] { ran.push_back("end2"); }));
    ran.push_back("task done");
  }));
  uv_run(loop.uv(), UV_RUN_ONCE);  // the wake-up, the task and its turn-end work
  EXPECT_EQ(ran, (std::vector<std::string>{"task", "task done", "end1", "end2"}));
  uv_run(loop.uv(), UV_RUN_ONCE);  // must not block: a turn-end task is waiting
  EXPECT_EQ(ran.back(), "next");
  EXPECT_TRUE(loop.closeAndCheck().isOk());
}

TEST(EventLoop, TurnEndTasksQueuedFromATimerRunBeforeThePollBlocks) {
  EventLoop loop;
  bool ran = false;
  uv_timer_t timer;
  uv_timer_init(loop.uv(), &timer);
  struct Ctx {
    EventLoop* loop;
    bool* ran;
  } ctx{&loop, &ran};
  timer.data = &ctx;
  uv_timer_start(&timer, [](uv_timer_t* t) {
    auto* c = static_cast<Ctx*>(t->data);
    c->loop->runAtTurnEnd([c] { *c->ran = true; });
  }, 0, 0);
  uv_run(loop.uv(), UV_RUN_ONCE);
  EXPECT_TRUE(ran);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(loop.uv(), UV_RUN_NOWAIT);
  EXPECT_TRUE(loop.closeAndCheck().isOk());
}

TEST(EventLoop, ShutdownRunsQueuedTurnEndTasksAndRefusesLaterOnes) {
  EventLoop loop;
  int ran = 0;
  ASSERT_TRUE(loop.runAtTurnEnd([&] {
    ++ran;
    EXPECT_FALSE(loop.runAtTurnEnd([&] { ran += 100; })) << "queued during shutdown: dropped";
  }));
  loop.shutdown();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(loop.runAtTurnEnd([&] { ran += 10; }));
  EXPECT_TRUE(loop.closeAndCheck().isOk());
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace meshslice
