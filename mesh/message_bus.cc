#include "mesh/message_bus.h"

#include "base/log.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

// ---- Responder / Subscription ----

void Responder::reply(ByteView payload) {
  if (*done_) return;
  *done_ = true;
  if (auto bus = bus_.lock()) (*bus)->sendReply(peer_, id_, ReplyCode::kOk, payload);
}

void Responder::fail(std::string_view message) {
  if (*done_) return;
  *done_ = true;
  if (auto bus = bus_.lock()) (*bus)->sendReply(peer_, id_, ReplyCode::kError, asBytes(message));
}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    bus_ = std::move(other.bus_);
    token_ = std::move(other.token_);
    keep_ = std::move(other.keep_);
    ns_ = std::move(other.ns_);
  }
  return *this;
}

void Subscription::reset() {
  if (!keep_) return;
  keep_.reset();  // the bus entry's weak pointer expires: it is skipped and pruned
  if (auto bus = bus_.lock()) (*bus)->unsubscribe(ns_);
  bus_.reset();
}

// ---- MessageBus ----

MessageBus::MessageBus(Env& env, EnvelopeSender& sender)
    : env_(env), sender_(sender), self_(std::make_shared<MessageBus*>(this)) {}

MessageBus::~MessageBus() {
  self_.reset();
  auto pending = std::move(pending_);
  for (auto& [id, p] : pending) p.done(Status(Code::kClosed, "node stopped"));
}

Result<Subscription> MessageBus::add(std::string_view ns, bool reserved, MessageHandler m, RequestHandler r) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, reserved));
  Subscription sub;
  sub.keep_ = std::make_shared<int>(0);
  sub.token_ = sub.keep_;
  sub.bus_ = self_;
  sub.ns_ = std::string(ns);
  entries_[std::string(ns)].push_back(Entry{sub.keep_, std::move(m), std::move(r)});
  return sub;
}

Result<Subscription> MessageBus::subscribe(std::string_view ns, MessageHandler handler) {
  return add(ns, false, std::move(handler), nullptr);
}
Result<Subscription> MessageBus::subscribeReserved(std::string_view ns, MessageHandler handler) {
  return add(ns, true, std::move(handler), nullptr);
}
Result<Subscription> MessageBus::serve(std::string_view ns, RequestHandler handler) {
  return add(ns, false, nullptr, std::move(handler));
}

void MessageBus::unsubscribe(const std::string& ns) {
  auto it = entries_.find(ns);
  if (it == entries_.end()) return;
  std::erase_if(it->second, [](const Entry& e) { return e.alive.expired(); });
  if (it->second.empty()) entries_.erase(it);
}

Result<PublishResult> MessageBus::publish(std::string_view ns, ByteView payload) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, false));
  return publishImpl(ns, payload);
}
Result<PublishResult> MessageBus::publishReserved(std::string_view ns, ByteView payload) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, true));
  return publishImpl(ns, payload);
}

Result<PublishResult> MessageBus::publishImpl(std::string_view ns, ByteView payload) {
  if (payload.size() > kMaxPayloadSize) return tooLarge("payload over " + std::to_string(kMaxPayloadSize) + " bytes");
  const Bytes encoded = encodeMessageEnvelope(ns, payload);  // once for every peer
  PublishResult result;
  for (const DeviceId& peer : sender_.connectedPeers()) {
    Status st = sender_.sendEncodedEnvelope(peer, encoded);
    if (st.isOk()) result.reached.push_back(peer);
    else result.failed.emplace_back(peer, st);
  }
  return result;
}

Status MessageBus::send(const DeviceId& peer, std::string_view ns, ByteView payload) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, false));
  return sendImpl(peer, ns, payload);
}
Status MessageBus::sendReserved(const DeviceId& peer, std::string_view ns, ByteView payload) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, true));
  return sendImpl(peer, ns, payload);
}

Status MessageBus::sendImpl(const DeviceId& peer, std::string_view ns, ByteView payload) {
  if (payload.size() > kMaxPayloadSize) return tooLarge("payload over " + std::to_string(kMaxPayloadSize) + " bytes");
  return sender_.sendEncodedParts(peer, messageEnvelopeHeader(ns, payload.size()), payload);
}

Status MessageBus::request(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout,
                           ReplyFn done) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, false));
  return requestImpl(peer, ns, payload, timeout, std::move(done));
}
Status MessageBus::requestReserved(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout,
                                   ReplyFn done) {
  MS_RETURN_IF_ERROR(validateNamespace(ns, true));
  return requestImpl(peer, ns, payload, timeout, std::move(done));
}

Status MessageBus::requestImpl(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout,
                               ReplyFn done) {
  if (payload.size() > kMaxPayloadSize) return tooLarge("payload too large");
  uint32_t id = next_request_id_++;
  if (next_request_id_ == 0) next_request_id_ = 1;
  Request req;
  req.id = id;
  req.ns = std::string(ns);
  req.payload.assign(payload.begin(), payload.end());
  MS_RETURN_IF_ERROR(sender_.sendEnvelope(peer, req));
  Pending p{peer, std::move(done), env_.newTimer([this, id] {
              finishRequest(id, Status(Code::kTimeout, "no reply in time"));
            })};
  p.timer->start(timeout);
  pending_.emplace(id, std::move(p));
  return Status::ok();
}

void MessageBus::finishRequest(uint32_t id, Result<Bytes> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ReplyFn done = std::move(it->second.done);
  pending_.erase(it);
  done(std::move(result));
}

void MessageBus::sendReply(const DeviceId& peer, uint32_t id, ReplyCode code, ByteView payload) {
  Reply r;
  r.id = id;
  r.code = code;
  r.payload.assign(payload.begin(), payload.begin() + static_cast<ptrdiff_t>(std::min(payload.size(), kMaxPayloadSize)));
  Status st = sender_.sendEnvelope(peer, r);
  if (!st.isOk()) MS_LOG(kDebug, "bus") << "reply to " << peer.shortString() << " lost: " << st.toString();
}

void MessageBus::onMessage(const DeviceId& from, std::string_view ns, ByteView payload) {
  auto it = entries_.find(ns);
  bool handled = false;
  if (it != entries_.end()) {
    auto entries = it->second;  // handlers may (un)subscribe while we iterate
    for (auto& e : entries) {
      if (e.alive.expired() || !e.on_message) continue;
      handled = true;
      e.on_message(BusMessageEvent{from, ns, payload});
    }
  }
  handled ? ++stats_.delivered : ++stats_.unhandled;
}

void MessageBus::onEnvelope(const DeviceId& from, Envelope& envelope) {
  if (auto* m = std::get_if<BusMessage>(&envelope)) {
    onMessage(from, m->ns, m->payload);
  } else if (auto* r = std::get_if<Request>(&envelope)) {
    auto it = entries_.find(r->ns);
    if (it != entries_.end()) {
      for (auto& e : it->second) {
        if (e.alive.expired() || !e.on_request) continue;
        Responder resp;
        resp.bus_ = self_;
        resp.peer_ = from;
        resp.id_ = static_cast<uint32_t>(r->id);
        RequestHandler handler = e.on_request;
        ++stats_.delivered;
        handler(BusMessageEvent{from, r->ns, r->payload}, resp);
        return;
      }
    }
    ++stats_.unhandled;
    sendReply(from, static_cast<uint32_t>(r->id), ReplyCode::kNoHandler, asBytes("no handler for namespace"));
  } else if (auto* rep = std::get_if<Reply>(&envelope)) {
    auto it = pending_.find(static_cast<uint32_t>(rep->id));
    if (it == pending_.end() || it->second.peer != from) return;  // late or not ours: drop
    if (rep->code == ReplyCode::kOk) finishRequest(static_cast<uint32_t>(rep->id), std::move(rep->payload));
    else if (rep->code == ReplyCode::kNoHandler)
      finishRequest(static_cast<uint32_t>(rep->id), Status(Code::kNotFound, "peer has no handler for the namespace"));
    else
      finishRequest(static_cast<uint32_t>(rep->id), Status(Code::kInternal, "peer error: " + toString(rep->payload)));
  }
}

void MessageBus::onPeerGone(const DeviceId& peer) {
  std::vector<uint32_t> ids;
  for (auto& [id, p] : pending_)
    if (p.peer == peer) ids.push_back(id);
  for (uint32_t id : ids) finishRequest(id, Status(Code::kClosed, "peer left"));
}

}  // namespace meshslice
