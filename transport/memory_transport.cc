#include "transport/memory_transport.h"

#include <vector>

namespace meshslice {

MemoryNetwork::~MemoryNetwork() = default;

void MemoryNetwork::cutLinksOf(const std::string& address) {
  std::vector<MemoryLink*> victims;
  for (MemoryLink* l : links_)
    if (l->open_ && (l->local_ == address || l->remote_ == address)) victims.push_back(l);
  for (MemoryLink* l : victims) {
    if (links_.count(l) && l->open_) l->closeWith(Status(Code::kIo, "link cut"), true);
  }
}

void MemoryNetwork::setRefusing(const std::string& address, bool refusing) {
  if (refusing) refusing_.insert(address);
  else refusing_.erase(address);
}

// ---- MemoryTransport ----

MemoryTransport::MemoryTransport(MemoryNetwork& net, std::string local_name, MemoryLinkOptions options)
    : net_(net), local_name_(std::move(local_name)), options_(options) {}

MemoryTransport::~MemoryTransport() {
  *alive_ = false;
  stop();
}

Result<std::string> MemoryTransport::listen(const std::string& address, AcceptFn on_accept) {
  std::string name = address.empty() ? local_name_ : address;
  if (net_.listeners_.count(name)) return Status(Code::kAlreadyExists, "address in use: " + name);
  net_.listeners_[name] = this;
  listening_ = name;
  on_accept_ = std::move(on_accept);
  return name;
}

Status MemoryTransport::connect(const std::string& address, ConnectFn done) {
  if (address.empty()) return invalidArgument("empty address");
  std::string local = local_name_ + "#" + std::to_string(net_.next_port_++);
  net_.env().post([this, alive = alive_, address, local, done = std::move(done)]() mutable {
    if (!*alive) return;
    auto it = net_.listeners_.find(address);
    if (it == net_.listeners_.end() || net_.refusing_.count(address)) {
      done(Status(Code::kIo, "connect to " + address + ": connection refused"));
      return;
    }
    MemoryTransport* server = it->second;
    auto client = std::make_unique<MemoryLink>(net_, local, address, options_);
    auto accepted = std::make_unique<MemoryLink>(net_, address, local, server->options_);
    client->peer_ = accepted.get();
    accepted->peer_ = client.get();
    server->on_accept_(std::move(accepted));
    done(std::unique_ptr<Link>(std::move(client)));
  });
  return Status::ok();
}

void MemoryTransport::stop() {
  if (!listening_.empty()) {
    auto it = net_.listeners_.find(listening_);
    if (it != net_.listeners_.end() && it->second == this) net_.listeners_.erase(it);
    listening_.clear();
  }
  on_accept_ = nullptr;
}

// ---- MemoryLink ----

MemoryLink::MemoryLink(MemoryNetwork& net, std::string local, std::string remote, MemoryLinkOptions options)
    : net_(net), local_(std::move(local)), remote_(std::move(remote)), options_(options) {
  net_.links_.insert(this);
}

MemoryLink::~MemoryLink() {
  *alive_ = false;
  handler_ = nullptr;
  if (open_) closeWith(Status(Code::kClosed, "link destroyed"), true);
  // Frames we sent that are still in the peer's inbox must not credit us any more.
  if (peer_) {
    for (auto& entry : peer_->inbox_)
      if (entry.second == this) entry.second = nullptr;
    peer_->peer_ = nullptr;
  }
  net_.links_.erase(this);
}

void MemoryLink::start(LinkHandler* handler) {
  handler_ = handler;
  if (!inbox_.empty()) {
    net_.env().post([this, alive = alive_] {
      if (*alive) deliverInbox();
    });
  }
}

Status MemoryLink::sendFrame(ByteView body) {
  if (!open_) return Status(Code::kClosed, "link closed");
  if (body.size() > kMaxFrameBody) return tooLarge("frame body over 65535 bytes");
  if (queued_ + body.size() > options_.write_queue_limit) {
    busy_ = true;
    return Status(Code::kBusy, "write queue full");
  }
  if (!peer_) return Status::ok();  // the other end vanished: bytes fall on the floor, as TCP
  queued_ += body.size();
  peer_->inbox_.emplace_back(Bytes(body.begin(), body.end()), this);
  MemoryLink* peer = peer_;
  net_.env().post([peer, alive = peer_->alive_] {
    if (*alive) peer->deliverInbox();
  });
  return Status::ok();
}

void MemoryLink::deliverInbox() {
  if (delivering_) return;
  delivering_ = true;
  while (!inbox_.empty() && open_ && !paused_ && handler_) {
    auto [frame, sender] = std::move(inbox_.front());
    inbox_.pop_front();
    if (sender) {
      sender->queued_ -= frame.size();
      if (sender->busy_ && sender->queued_ <= sender->options_.write_queue_limit / 2) {
        sender->busy_ = false;
        if (sender->handler_ && sender->open_) {
          // Named copy: clang 14 cannot capture a structured binding.
          net_.env().post([link = sender, alive = sender->alive_] {
            if (*alive && link->handler_ && link->open_) link->handler_->onLinkDrained();
          });
        }
      }
    }
    std::shared_ptr<bool> alive = alive_;
    handler_->onFrame(frame);
    if (!*alive) return;  // the handler destroyed us
  }
  delivering_ = false;
}

void MemoryLink::setReadPaused(bool paused) {
  paused_ = paused;
  if (!paused) net_.env().post([this, alive = alive_] {
    if (*alive) deliverInbox();
  });
}

void MemoryLink::close(const Status& reason) {
  if (!open_) return;
  closeWith(reason, true);
}

void MemoryLink::closeWith(const Status& reason, bool notify_peer) {
  open_ = false;
  queued_ = 0;
  if (notify_peer && peer_) {
    // The peer sees the close after the frames already in flight, like a FIN.
    MemoryLink* peer = peer_;
    Status peer_reason = reason.code() == Code::kIo ? reason : Status(Code::kClosed, "peer closed the connection");
    net_.env().post([peer, alive = peer_->alive_, peer_reason] {
      if (*alive) peer->peerGone(peer_reason);
    });
  }
  net_.env().post([this, alive = alive_, reason] {
    if (*alive && handler_) handler_->onLinkClosed(reason);
  });
}

void MemoryLink::peerGone(const Status& reason) {
  deliverInbox();
  if (!open_) return;
  closeWith(reason, false);
}

}  // namespace meshslice
