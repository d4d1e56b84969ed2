#include "base/event_loop.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

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

}  // namespace
}  // namespace meshslice
