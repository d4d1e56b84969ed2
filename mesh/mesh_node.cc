#include "mesh/mesh_node.h"

#include <signal.h>

#include "base/log.h"
#include "transport/address.h"

namespace meshslice {
namespace {

// Sets SIGPIPE to SIG_IGN when it still has the default action; a handler or an explicit
// ignore installed by the host program is left alone.
void ignoreDefaultSigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return;
  if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO)) return;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  if (sigaction(SIGPIPE, &ignore, nullptr) == 0) {
    MS_LOG(kInfo, "node") << "SIGPIPE set to SIG_IGN (host loop; MeshNodeOptions::ignore_sigpipe)";
  }
}

}  // namespace

MeshNode::MeshNode(Identity identity, MeshSecret secret, MeshNodeOptions options)
    : identity_(std::move(identity)),
      secret_(std::move(secret)),
      options_(std::move(options)),
      device_id_(identity_.deviceId()),
      name_(identity_.name()) {
  loop_ = options_.host_loop ? std::make_unique<EventLoop>(options_.host_loop) : std::make_unique<EventLoop>();
  env_ = std::make_unique<UvEnv>(*loop_);
}

MeshNode::~MeshNode() {
  stop();
  if (options_.host_loop) {
    // The host keeps running its loop; our remaining handles close there. Drop what we own now.
    core_.reset();
    mdns_.reset();
    transport_.reset();
    drain_timer_.reset();
  }
}

bool MeshNode::onLoopThread() const {
  return options_.host_loop ? true : loop_->onLoopThread();
}

Status MeshNode::start() {
  if (started_) return Status(Code::kAlreadyExists, "node already started");
  started_ = true;
  if (options_.host_loop) {
    if (options_.ignore_sigpipe) ignoreDefaultSigpipe();
    return startOnLoop();
  }
  std::promise<Status> started;
  auto future = started.get_future();
  loop_->post([this, &started] { started.set_value(startOnLoop()); });
  loop_->startThread();
  Status st = future.get();
  if (!st.isOk()) {
    loop_->post([this] { finishStopOnLoop(); });
    joinAndCloseLoop();
    stopped_ = true;
  }
  return st;
}

void MeshNode::joinAndCloseLoop() {
  loop_->joinThread();
  // The thread ended because every handle closed; check that (and uv_loop_close) now, so a
  // leaked handle is an error the caller sees, not a log line at destruction.
  Status st = loop_->closeAndCheck();
  if (!st.isOk()) MS_LOG(kError, "node") << "loop did not close cleanly: " << st.toString();
  close_status_ = st;
}

Status MeshNode::closeStatus() const {
  if (options_.host_loop) return invalidArgument("node runs on a host loop: check that loop instead");
  if (!close_status_) return invalidArgument("node loop has not been stopped");
  return *close_status_;
}

Status MeshNode::startOnLoop() {
  transport_ = std::make_unique<MultiListenTransport>(
      [this] { return std::make_unique<TcpTransport>(*loop_, options_.tcp); });
  Key32 psk = secret_.psk();
  core_ = std::make_unique<MeshCore>(*env_, *transport_, LocalDevice::of(identity_), psk, options_.mesh);
  sodium_memzero(psk.data(), psk.size());
  for (PeerObserver* o : early_observers_) core_->addObserver(o);
  early_observers_.clear();
  auto bound = core_->start();
  if (!bound) return bound.status();
  listen_address_ = bound.value();
  if (options_.mdns) {
    MdnsOptions m = options_.mdns_options;
    m.device_id = device_id_.toString();
    m.mesh_tag = secret_.tag();
    m.display_name = name_;
    m.protocol_version = kProtocolVersion;  // TXT "v": the newest version this node speaks
    if (auto hp = splitHostPort(listen_address_)) m.service_port = hp->port;
    mdns_ = std::make_unique<MdnsDiscovery>(*env_, loop_->uv(), m);
    core_->addDiscovery(mdns_.get());
  }
  MS_LOG(kInfo, "node") << "node " << device_id_.shortString() << " (" << name_ << ") listening on "
                        << listen_address_;
  return Status::ok();
}

void MeshNode::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  if (options_.host_loop) {
    beginStopOnLoop();
    return;
  }
  if (!loop_->post([this] { beginStopOnLoop(); })) return;
  joinAndCloseLoop();
}

void MeshNode::beginStopOnLoop() {
  if (!core_) return finishStopOnLoop();
  core_->stop();
  // Give goodbyes a moment to leave, then tear everything down.
  stop_deadline_ = env_->now() + options_.stop_linger;
  drain_timer_ = env_->newTimer([this] {
    if (core_->drained() || env_->now() >= stop_deadline_) finishStopOnLoop();
    else drain_timer_->start(5 * kMillis);
  });
  drain_timer_->start(core_->drained() ? 0 : 5 * kMillis);
}

void MeshNode::finishStopOnLoop() {
  if (stopped_) return;
  core_.reset();   // closes any link still open
  mdns_.reset();
  transport_.reset();
  // The drain timer may be running this very function: close its handle on the next turn.
  env_->post([this] { drain_timer_.reset(); });
  stopped_ = true;
  if (!options_.host_loop) {
    // Closes the wake-up handle after the queued tasks (including the one above) ran. The loop
    // thread's uv_run returns once the last close callback ran.
    loop_->post([this] { loop_->shutdown(); });
  }
}

void MeshNode::post(std::function<void(MeshCore&)> task) {
  loop_->post([this, task = std::move(task)] {
    if (core_) task(*core_);
  });
}

std::vector<PeerInfo> MeshNode::peers() {
  return call([](MeshCore& c) { return c.peers(); });
}

Result<PublishResult> MeshNode::publish(std::string_view ns, ByteView payload) {
  return call([ns = std::string(ns), data = Bytes(payload.begin(), payload.end())](MeshCore& c) {
    return c.bus().publish(ns, data);
  });
}

Status MeshNode::send(const DeviceId& peer, std::string_view ns, ByteView payload) {
  return call([peer, ns = std::string(ns), data = Bytes(payload.begin(), payload.end())](MeshCore& c) {
    return c.bus().send(peer, ns, data);
  });
}

Result<Subscription> MeshNode::subscribe(std::string_view ns, MessageHandler handler) {
  return call([ns = std::string(ns), handler = std::move(handler)](MeshCore& c) mutable {
    return c.bus().subscribe(ns, std::move(handler));
  });
}

Status MeshNode::request(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout,
                         ReplyFn done) {
  return call([peer, ns = std::string(ns), data = Bytes(payload.begin(), payload.end()), timeout,
               done = std::move(done)](MeshCore& c) mutable {
    return c.bus().request(peer, ns, data, timeout, std::move(done));
  });
}

void MeshNode::addObserver(PeerObserver* observer) {
  if (!started_) {
    early_observers_.push_back(observer);
    return;
  }
  post([observer](MeshCore& c) { c.addObserver(observer); });
}

void MeshNode::removeObserver(PeerObserver* observer) {
  if (onLoopThread()) {
    if (core_) core_->removeObserver(observer);
    return;
  }
  call([observer](MeshCore& c) {
    c.removeObserver(observer);
    return 0;
  });
}

}  // namespace meshslice
