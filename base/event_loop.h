// EventLoop: the one thread that owns a node's state. It either owns a uv_loop_t and runs it
// on its own thread (startThread) or borrows a loop the host application already runs
// (embedding). post() is the only method safe from other threads.
//
// UvEnv is the real Env on top of an EventLoop.
#pragma once

#include <uv.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "base/uv_handle.h"

namespace meshslice {

class EventLoop {
 public:
  // Owns a fresh uv_loop_t.
  EventLoop();
  // Borrows `host`, which must outlive this object and be run by the host application.
  explicit EventLoop(uv_loop_t* host);
  // Requires that the loop is not running on its own thread any more (stopThread()).
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* uv() const { return loop_; }

  // Thread-safe. Queues `task` to run on the loop thread; tasks run in FIFO order, all that
  // are queued are drained per wake-up. Returns false (and drops the task) after shutdown();
  // a task accepted before shutdown() always runs.
  bool post(std::function<void()> task);
  // Loop thread only. Runs `task` at the end of the current loop iteration, after its I/O and
  // timer callbacks (a uv_check hook; a uv_idle keeps the poll from blocking until then), so
  // work queued during one turn is done together without another wake-up. Tasks queue in FIFO
  // order; one queued by such a task runs at the end of the next iteration. Returns false (and
  // drops the task) after shutdown(); shutdown() runs the tasks queued before it.
  bool runAtTurnEnd(std::function<void()> task);

  // Runs the loop on a new thread until stopThread().
  void startThread();
  // Asks the loop thread to run `before_stop` (on the loop thread), then closes the wake-up
  // handle and waits for the thread to finish. All other handles must already be closed by
  // `before_stop` for the loop to end.
  void stopThread(std::function<void()> before_stop = {});
  // Waits for the loop thread to end by itself (after something called shutdown() on it and
  // every handle closed).
  void joinThread();
  bool onLoopThread() const;

  // For loops driven by the caller (tests, embedding): runs what post() and runAtTurnEnd()
  // accepted, then closes the loop's own handles (wake-up, turn-end hooks); run the loop
  // afterwards to let close callbacks finish. Loop thread (or no thread running it).
  void shutdown();

  // Runs the loop until no handle is active and then checks that every handle is closed and
  // (for an owned loop) that uv_loop_close succeeds. Returns an error naming the live handle
  // types otherwise. Every test calls this at teardown.
  Status closeAndCheck();

 private:
  static void onWake(uv_async_t* async);
  static void onTurnEnd(uv_check_t* check);
  void initHandles();
  void drain();
  void runTurnEndTasks();
  void closeHandles();

  uv_loop_t* loop_;
  bool owned_;
  UvHandle<uv_async_t> wake_;
  UvHandle<uv_check_t> turn_end_;
  UvHandle<uv_idle_t> no_block_;  // active while turn-end tasks wait: the poll must not block
  std::vector<std::function<void()>> turn_end_tasks_;  // loop thread only
  bool turn_end_open_ = true;                          // loop thread only
  std::mutex mutex_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool accepting_ = true;                    // guarded by mutex_
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_{};
};

// Lists the handles still alive on a loop, e.g. "tcp(active) timer".
std::string describeLiveHandles(uv_loop_t* loop);

class UvEnv final : public Env {
 public:
  explicit UvEnv(EventLoop& loop) : loop_(loop) {}
  Micros now() override;
  int64_t wallMillis() override;
  void randomBytes(std::span<uint8_t> out) override;
  std::unique_ptr<Timer> newTimer(std::function<void()> on_expired) override;
  void post(std::function<void()> task) override { loop_.post(std::move(task)); }
  std::unique_ptr<HostLookup> lookupHost(const std::string& host, HostLookupDone done) override;
  void runAtTurnEnd(std::function<void()> task) override { loop_.runAtTurnEnd(std::move(task)); }
  EventLoop& loop() { return loop_; }

 private:
  EventLoop& loop_;
};

}  // namespace meshslice
