// MeshNode: the public face of a mesh node. It owns a MeshCore, the TCP transport and (if
// enabled) mDNS discovery, and runs them on one loop thread: either its own (start()) or a
// uv_loop_t the host application runs (embedding: pass MeshNodeOptions::host_loop).
//
// Threading: every public method is safe from any thread unless it says "loop thread". Work is
// posted to the loop; callbacks and events run on the loop thread. Methods that return a value
// from the loop (peers(), publish(), ...) block the caller until the loop answered, so they
// must not be called from the loop thread: use core() there instead. Made there anyway (e.g.
// from a callback), they fail at once in every build instead of deadlocking: those returning a
// Status or Result return Code::kWrongThread, the others (peers(), call() of a plain type)
// throw std::logic_error; the message names core() as the way out.
//
// Lifetime: stop() (or the destructor) says goodbye on every link, sends mDNS goodbyes, closes
// every handle and, for an owned loop, joins the thread and closes the loop: it then holds no
// live handles and uv_loop_close returned 0, which closeStatus() reports.
#pragma once

#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "base/event_loop.h"
#include "mesh/identity.h"
#include "mesh/mdns.h"
#include "mesh/mesh_core.h"
#include "mesh/mesh_secret.h"
#include "transport/multi_listen_transport.h"
#include "transport/tcp_transport.h"

namespace meshslice {

struct MeshNodeOptions {
  MeshOptions mesh;
  // mDNS/DNS-SD discovery. Interfaces as in MdnsOptions (empty = every multicast interface).
  bool mdns = false;
  MdnsOptions mdns_options;
  // Embedding: run on this loop instead of an own thread. start() and stop() must then be
  // called on the thread that runs it.
  uv_loop_t* host_loop = nullptr;
  // With a host loop, a peer resetting a link mid-write raises SIGPIPE on the host's thread.
  // If this is set and SIGPIPE still has its default action (terminate), start() sets it to
  // SIG_IGN. An own loop thread blocks SIGPIPE for itself and never touches the disposition.
  bool ignore_sigpipe = true;
  // How long stop() waits for goodbyes to be flushed before closing links hard.
  Micros stop_linger = 1 * kSeconds;
  TcpTransportOptions tcp;
};

class MeshNode {
 public:
  MeshNode(Identity identity, MeshSecret secret, MeshNodeOptions options);
  ~MeshNode();
  MeshNode(const MeshNode&) = delete;
  MeshNode& operator=(const MeshNode&) = delete;

  // Listens, starts discovery and dialing. Returns when the node runs (or failed to start).
  Status start();
  // Graceful stop; idempotent. With an owned loop, returns when the loop thread ended. With a
  // host loop, returns at once; the handles finish closing as the host keeps running its loop
  // (stopped() turns true).
  void stop();
  bool stopped() const { return stopped_.load(); }
  // How the owned loop closed, once stop() returned (or start() failed): OK when no handle was
  // left and uv_loop_close returned 0 (EventLoop::closeAndCheck), else an error naming the live
  // handles (also logged). kInvalidArgument before that, and always with a host loop, whose
  // owner checks its own loop.
  Status closeStatus() const;

  const DeviceId& id() const { return device_id_; }
  const std::string& name() const { return name_; }
  // Valid after start().
  const std::string& listenAddress() const { return listen_address_; }
  const MeshSecret& secret() const { return secret_; }

  // Runs `task` on the loop thread with the core (no-op after stop()).
  void post(std::function<void(MeshCore&)> task);
  // Runs `task` on the loop thread and returns its result. Not from the loop thread (see the
  // threading note at the top: kWrongThread or std::logic_error there).
  template <typename F>
  auto call(F&& task) -> decltype(task(std::declval<MeshCore&>()));

  std::vector<PeerInfo> peers();
  Result<PublishResult> publish(std::string_view ns, ByteView payload);
  Status send(const DeviceId& peer, std::string_view ns, ByteView payload);
  // The handler runs on the loop thread.
  Result<Subscription> subscribe(std::string_view ns, MessageHandler handler);
  // `done` runs on the loop thread.
  Status request(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout, ReplyFn done);
  // The observer's callbacks run on the loop thread; it must outlive the node or be removed.
  // Observers added before start() see every event from the start on.
  void addObserver(PeerObserver* observer);
  void removeObserver(PeerObserver* observer);

  // Loop thread only.
  MeshCore& core() { return *core_; }
  Env& env() { return *env_; }
  EventLoop& loop() { return *loop_; }
  bool onLoopThread() const;

 private:
  Status startOnLoop();
  void beginStopOnLoop();
  void finishStopOnLoop();
  // Owned loop: waits for the loop thread to end, then records closeAndCheck() in close_status_.
  void joinAndCloseLoop();

  Identity identity_;
  MeshSecret secret_;
  MeshNodeOptions options_;
  DeviceId device_id_;
  std::string name_;
  std::string listen_address_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<UvEnv> env_;
  std::unique_ptr<MultiListenTransport> transport_;  // TCP, one listener per listen address
  std::unique_ptr<MeshCore> core_;
  std::unique_ptr<MdnsDiscovery> mdns_;
  std::unique_ptr<Timer> drain_timer_;
  std::vector<PeerObserver*> early_observers_;  // added before start()
  Micros stop_deadline_ = 0;
  bool started_ = false;
  std::optional<Status> close_status_;  // set by the thread that joined the owned loop
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
};

template <typename F>
auto MeshNode::call(F&& task) -> decltype(task(std::declval<MeshCore&>())) {
  using R = decltype(task(std::declval<MeshCore&>()));
  if (onLoopThread()) {
    // Waiting here for the loop would wait forever: fail loudly, whatever NDEBUG says.
    constexpr const char* kWhy =
        "a blocking MeshNode call (peers, publish, send, subscribe, request, call) was made on the loop thread, "
        "where it would deadlock; inside callbacks use MeshNode::core() instead";
    if constexpr (std::is_same_v<R, Status>) return Status(Code::kWrongThread, kWhy);
    else if constexpr (requires { R(Status(Code::kWrongThread, "")); }) return R(Status(Code::kWrongThread, kWhy));
    else throw std::logic_error(kWhy);
  }
  auto promise = std::make_shared<std::promise<R>>();
  auto future = promise->get_future();
  bool accepted = loop_->post([this, promise, task = std::forward<F>(task)]() mutable {
    if (!core_) {
      if constexpr (std::is_same_v<R, Status>) promise->set_value(Status(Code::kClosed, "node stopped"));
      else if constexpr (requires { R(Status(Code::kClosed, "")); })
        promise->set_value(R(Status(Code::kClosed, "node stopped")));
      else promise->set_value(R{});
      return;
    }
    promise->set_value(task(*core_));
  });
  if (!accepted) {
    // The loop shut down; the task was dropped.
    if constexpr (std::is_same_v<R, Status>) return Status(Code::kClosed, "node stopped");
    else if constexpr (requires { R(Status(Code::kClosed, "")); }) return R(Status(Code::kClosed, "node stopped"));
    else return R{};
  }
  return future.get();
}

}  // namespace meshslice
