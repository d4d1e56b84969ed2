#include "tests/support/loop_helpers.h"

namespace meshslice::test {

bool runUntil(EventLoop& loop, const std::function<bool()>& pred, uint64_t timeout_ms) {
  if (pred()) return true;
  bool expired = false;
  uv_timer_t deadline;
  uv_timer_init(loop.uv(), &deadline);
  deadline.data = &expired;
  uv_timer_start(&deadline, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, timeout_ms, 0);
  // A short repeating tick so that pred() is re-checked even if no other handle is active.
  uv_timer_t tick;
  uv_timer_init(loop.uv(), &tick);
  uv_timer_start(&tick, [](uv_timer_t*) {}, 5, 5);
  while (!pred() && !expired) uv_run(loop.uv(), UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop.uv(), UV_RUN_NOWAIT);  // runs the close callbacks: the stack handles are done
  return pred();
}

void expectCleanClose(EventLoop& loop) {
  Status st = loop.closeAndCheck();
  EXPECT_TRUE(st.isOk()) << st.toString();
}

void LoopTest::TearDown() { expectCleanClose(loop_); }

}  // namespace meshslice::test
