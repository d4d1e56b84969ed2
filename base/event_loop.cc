#include "base/event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace meshslice {

EventLoop::EventLoop() : loop_(new uv_loop_t), owned_(true) {
  int rc = uv_loop_init(loop_);
  if (rc != 0) {
    MS_LOG(kError, "loop") << "uv_loop_init failed: " << uv_strerror(rc);
    std::abort();
  }
  initHandles();
}

EventLoop::EventLoop(uv_loop_t* host) : loop_(host), owned_(false) { initHandles(); }

void EventLoop::initHandles() {
  uv_async_init(loop_, wake_.get(), &EventLoop::onWake);
  wake_.markInitialized(this);
  uv_check_init(loop_, turn_end_.get());
  turn_end_.markInitialized(this);
  uv_idle_init(loop_, no_block_.get());
  no_block_.markInitialized(this);
}

void EventLoop::closeHandles() {
  wake_.close();
  turn_end_.close();
  no_block_.close();
}

EventLoop::~EventLoop() {
  assert(!thread_.joinable() && "EventLoop destroyed while its thread runs");
  closeHandles();
  if (owned_) {
    // Let pending close callbacks free their memory before the loop goes away.
    uv_run(loop_, UV_RUN_NOWAIT);
    if (uv_loop_close(loop_) != 0) {
      MS_LOG(kError, "loop") << "loop destroyed with live handles: " << describeLiveHandles(loop_);
    } else {
      delete loop_;
    }
  }
}

bool EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) return false;
    queue_.push_back(std::move(task));
    // Signalled under the lock: shutdown() cannot close the async handle in between.
    uv_async_send(wake_.get());
  }
  return true;
}

bool EventLoop::runAtTurnEnd(std::function<void()> task) {
  if (!turn_end_open_) return false;
  turn_end_tasks_.push_back(std::move(task));
  if (turn_end_tasks_.size() == 1) {
    uv_check_start(turn_end_.get(), &EventLoop::onTurnEnd);
    uv_idle_start(no_block_.get(), [](uv_idle_t*) {});
  }
  return true;
}

void EventLoop::onTurnEnd(uv_check_t* check) {
  if (auto* self = ownerOf<EventLoop>(check)) self->runTurnEndTasks();
}

void EventLoop::runTurnEndTasks() {
  std::vector<std::function<void()>> batch;
  batch.swap(turn_end_tasks_);
  if (turn_end_.initialized() && turn_end_.get()) uv_check_stop(turn_end_.get());
  if (no_block_.initialized() && no_block_.get()) uv_idle_stop(no_block_.get());
  for (auto& task : batch) task();  // may queue more: they restart the hooks
}

void EventLoop::onWake(uv_async_t* async) {
  if (auto* self = ownerOf<EventLoop>(async)) self->drain();
}

void EventLoop::drain() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(queue_);
  }
  for (auto& task : batch) task();
}

void EventLoop::startThread() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] {
    // libuv writes TCP with write(): a peer that resets a link mid-write would raise SIGPIPE,
    // whose default action kills the whole process. Blocked on this thread, the write fails
    // with EPIPE instead and the link closes; the process-wide disposition is left alone.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    loop_thread_id_ = std::this_thread::get_id();
    uv_run(loop_, UV_RUN_DEFAULT);
  });
}

void EventLoop::stopThread(std::function<void()> before_stop) {
  if (!thread_.joinable()) return;
  post([this, before_stop = std::move(before_stop)] {
    if (before_stop) before_stop();
    shutdown();
  });
  thread_.join();
  loop_thread_id_ = std::thread::id{};
}

void EventLoop::joinThread() {
  if (!thread_.joinable()) return;
  thread_.join();
  loop_thread_id_ = std::thread::id{};
}

bool EventLoop::onLoopThread() const {
  return loop_thread_id_.load() == std::this_thread::get_id();
}

void EventLoop::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
  }
  drain();  // tasks queued before shutdown still run
  turn_end_open_ = false;
  runTurnEndTasks();  // so do turn-end tasks; any they queue are dropped
  closeHandles();
}

Status EventLoop::closeAndCheck() {
  shutdown();
  // Bounded: close callbacks and already-expired work finish within a few turns.
  for (int i = 0; i < 100 && uv_run(loop_, UV_RUN_NOWAIT) != 0; ++i) {
  }
  std::string live = describeLiveHandles(loop_);
  if (!live.empty()) return Status(Code::kInternal, "live handles at loop close: " + live);
  if (owned_) {
    int rc = uv_loop_close(loop_);
    if (rc != 0) return Status(Code::kInternal, std::string("uv_loop_close: ") + uv_strerror(rc));
    // Re-init so the destructor's close is a harmless no-op on an empty loop.
    uv_loop_init(loop_);
  }
  return Status::ok();
}

std::string describeLiveHandles(uv_loop_t* loop) {
  std::string out;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        auto* s = static_cast<std::string*>(arg);
        if (!s->empty()) *s += ' ';
        *s += uv_handle_type_name(uv_handle_get_type(h));
        if (uv_is_closing(h)) *s += "(closing)";
        else if (uv_is_active(h)) *s += "(active)";
      },
      &out);
  return out;
}

// ---- UvEnv ----

namespace {
class UvTimer final : public Timer {
 public:
  UvTimer(uv_loop_t* loop, std::function<void()> cb) : cb_(std::move(cb)) {
    uv_timer_init(loop, handle_.get());
    handle_.markInitialized(this);
  }
  void start(Micros delay) override {
    uint64_t ms = delay <= 0 ? 0 : static_cast<uint64_t>((delay + kMillis - 1) / kMillis);
    uv_timer_start(handle_.get(), &UvTimer::onExpired, ms, 0);
  }
  void stop() override { uv_timer_stop(handle_.get()); }
  bool armed() const override { return uv_is_active(handle_.handle()) != 0; }

 private:
  static void onExpired(uv_timer_t* t) {
    if (auto* self = ownerOf<UvTimer>(t)) self->cb_();
  }
  UvHandle<uv_timer_t> handle_;
  std::function<void()> cb_;
};

// uv_getaddrinfo on libuv's thread pool. The request outlives its owner when the owner is
// destroyed mid-lookup: libuv still calls back (with UV_ECANCELED if uv_cancel won the race, or
// with the answer), and the callback frees the request without reporting.
class UvHostLookup final : public HostLookup {
 public:
  struct Request {
    uv_getaddrinfo_t req{};
    UvHostLookup* owner = nullptr;
    HostLookupDone done;
  };

  explicit UvHostLookup(Request* request) : request_(request) { request_->owner = this; }
  ~UvHostLookup() override {
    if (!request_) return;
    request_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&request_->req));  // best effort; frees nothing
  }

  static void onResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    auto* r = static_cast<Request*>(req->data);
    Result<std::vector<std::string>> out = collect(status, res);
    uv_freeaddrinfo(res);
    UvHostLookup* owner = r->owner;
    HostLookupDone done = std::move(r->done);
    delete r;
    if (!owner) return;  // cancelled: the owner is gone
    owner->request_ = nullptr;
    done(std::move(out));  // may destroy the owner
  }

 private:
  static Result<std::vector<std::string>> collect(int status, const addrinfo* res) {
    if (status == UV_EAI_NONAME || status == UV_EAI_NODATA)
      return Status(Code::kNotFound, std::string("no such host: ") + uv_strerror(status));
    if (status != 0) return ioError(std::string("host lookup: ") + uv_strerror(status));
    std::vector<std::string> out;
    for (const addrinfo* a = res; a; a = a->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      if (a->ai_family == AF_INET) {
        uv_ip4_name(reinterpret_cast<const sockaddr_in*>(a->ai_addr), text, sizeof text);
      } else if (a->ai_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(a->ai_addr), text, sizeof text);
      } else {
        continue;
      }
      if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
    }
    if (out.empty()) return Status(Code::kNotFound, "host has no IPv4 or IPv6 address");
    return out;
  }

  Request* request_;
};

// A lookup that failed before it started: reports on a later turn, like any other.
class FailedHostLookup final : public HostLookup {
 public:
  FailedHostLookup(UvEnv& env, Status status, HostLookupDone done) {
    env.post([alive = std::weak_ptr<bool>(alive_), status = std::move(status), done = std::move(done)] {
      if (alive.lock()) done(status);
    });
  }

 private:
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<HostLookup> UvEnv::lookupHost(const std::string& host, HostLookupDone done) {
  auto* r = new UvHostLookup::Request;
  r->done = std::move(done);
  r->req.data = r;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  int rc = uv_getaddrinfo(loop_.uv(), &r->req, &UvHostLookup::onResolved, host.c_str(), nullptr, &hints);
  if (rc != 0) {
    HostLookupDone failed = std::move(r->done);
    delete r;
    return std::make_unique<FailedHostLookup>(
        *this, ioError("host lookup of '" + host + "': " + uv_strerror(rc)), std::move(failed));
  }
  return std::make_unique<UvHostLookup>(r);
}

Micros UvEnv::now() { return static_cast<Micros>(uv_hrtime() / 1000); }

int64_t systemWallMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t UvEnv::wallMillis() { return systemWallMillis(); }

void UvEnv::randomBytes(std::span<uint8_t> out) { randombytes_buf(out.data(), out.size()); }

std::unique_ptr<Timer> UvEnv::newTimer(std::function<void()> on_expired) {
  return std::make_unique<UvTimer>(loop_.uv(), std::move(on_expired));
}

}  // namespace meshslice
