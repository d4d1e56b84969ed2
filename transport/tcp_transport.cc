#include "transport/tcp_transport.h"

#include "base/log.h"
#include "transport/address.h"

namespace meshslice {

struct TcpTransport::PendingConnect {
  TcpTransport* owner;
  ConnectFn done;
  std::unique_ptr<UvHandle<uv_tcp_t>> handle = std::make_unique<UvHandle<uv_tcp_t>>();
  UvHandle<uv_timer_t> timer;
  uv_connect_t* req = new uv_connect_t{};  // freed in onConnected, which always runs
  std::string address;

  ~PendingConnect() {
    if (req) req->data = nullptr;  // the callback still comes (cancelled) and frees req
  }
};

TcpTransport::TcpTransport(EventLoop& loop, TcpTransportOptions options)
    : loop_(loop), options_(options) {}

TcpTransport::~TcpTransport() { stop(); }

Result<std::string> TcpTransport::listen(const std::string& address, AcceptFn on_accept) {
  if (listener_) return Status(Code::kAlreadyExists, "already listening");
  auto addr = parseSocketAddress(address);
  if (!addr) return addr.status();
  auto h = std::make_unique<UvHandle<uv_tcp_t>>();
  uv_tcp_init(loop_.uv(), h->get());
  h->markInitialized(this);
  int rc = uv_tcp_bind(h->get(), reinterpret_cast<const sockaddr*>(&addr.value()), 0);
  if (rc == 0) rc = uv_listen(h->stream(), options_.backlog, &TcpTransport::onConnection);
  if (rc != 0) return ioError("listen on " + address + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(h->get(), reinterpret_cast<sockaddr*>(&bound), &len);
  listener_ = std::move(h);
  on_accept_ = std::move(on_accept);
  return formatSocketAddress(reinterpret_cast<sockaddr*>(&bound));
}

void TcpTransport::onConnection(uv_stream_t* server, int status) {
  auto* self = ownerOf<TcpTransport>(server);
  if (!self) return;
  if (status != 0) {
    MS_LOG(kWarn, "tcp") << "accept: " << uv_strerror(status);
    return;
  }
  auto h = std::make_unique<UvHandle<uv_tcp_t>>();
  uv_tcp_init(self->loop_.uv(), h->get());
  h->markInitialized(nullptr);
  if (uv_accept(server, h->stream()) != 0) return;  // h closes itself
  self->on_accept_(std::make_unique<TcpLink>(self->loop_, std::move(h), self->options_.link));
}

Status TcpTransport::connect(const std::string& address, ConnectFn done) {
  auto addr = parseSocketAddress(address);
  if (!addr) return addr.status();
  auto pc = std::make_unique<PendingConnect>();
  pc->owner = this;
  pc->done = std::move(done);
  pc->address = address;
  uv_tcp_init(loop_.uv(), pc->handle->get());
  pc->handle->markInitialized(nullptr);
  pc->req->data = pc.get();
  int rc = uv_tcp_connect(pc->req, pc->handle->get(), reinterpret_cast<const sockaddr*>(&addr.value()),
                          &TcpTransport::onConnected);
  if (rc != 0) {
    delete pc->req;
    pc->req = nullptr;
    return ioError("connect to " + address + ": " + uv_strerror(rc));
  }
  uv_timer_init(loop_.uv(), pc->timer.get());
  pc->timer.markInitialized(pc.get());
  uv_timer_start(pc->timer.get(), [](uv_timer_t* t) {
    auto* p = ownerOf<PendingConnect>(t);
    if (p) p->owner->finishConnect(p, Status(Code::kTimeout, "connect to " + p->address + " timed out"));
  }, options_.connect_timeout_ms, 0);
  pending_.push_back(std::move(pc));
  return Status::ok();
}

void TcpTransport::onConnected(uv_connect_t* req, int status) {
  auto* pc = static_cast<PendingConnect*>(req->data);
  delete req;
  if (!pc) return;  // abandoned
  pc->req = nullptr;
  TcpTransport* self = pc->owner;
  if (status != 0) {
    self->finishConnect(pc, ioError("connect to " + pc->address + ": " + uv_strerror(status)));
    return;
  }
  auto link = std::make_unique<TcpLink>(self->loop_, std::move(pc->handle), self->options_.link);
  self->finishConnect(pc, std::unique_ptr<Link>(std::move(link)));
}

void TcpTransport::finishConnect(PendingConnect* pc, Result<std::unique_ptr<Link>> result) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->get() != pc) continue;
    std::unique_ptr<PendingConnect> owned = std::move(*it);
    pending_.erase(it);
    ConnectFn done = std::move(owned->done);
    owned.reset();  // closes the timer (and the handle if it was not handed to a link)
    done(std::move(result));
    return;
  }
}

void TcpTransport::stop() {
  listener_.reset();
  on_accept_ = nullptr;
  pending_.clear();
}

}  // namespace meshslice
