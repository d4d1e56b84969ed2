// MessageBus: namespaced messages between the devices of a mesh.
//
//   auto sub = bus.subscribe("chat", [](const BusMessageEvent& m) { ... });
//   bus.publish("chat", bytes);            // to every connected peer; says who was reached
//   bus.send(peer, "chat", bytes);         // to one peer
//   bus.request(peer, "rpc", bytes, 2 * kSeconds, [](Result<Bytes> reply) { ... });
//
// Order is kept per peer. Namespaces follow validateNamespace(); "ms."-prefixed ones belong to
// the library. Handlers run on the loop thread; all methods are loop-thread only (MeshNode
// offers thread-safe wrappers).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/device_id.h"
#include "mesh/envelope.h"

namespace meshslice {

struct BusMessageEvent {
  DeviceId from;
  std::string_view ns;
  ByteView payload;
};

// Sends one reply to one request. Copyable; only the first reply counts.
class Responder {
 public:
  void reply(ByteView payload);
  void fail(std::string_view message);

 private:
  friend class MessageBus;
  std::weak_ptr<class MessageBus*> bus_;
  DeviceId peer_;
  uint32_t id_ = 0;
  std::shared_ptr<bool> done_ = std::make_shared<bool>(false);
};

using MessageHandler = std::function<void(const BusMessageEvent&)>;
using RequestHandler = std::function<void(const BusMessageEvent&, Responder)>;
using ReplyFn = std::function<void(Result<Bytes>)>;

// Unsubscribes when destroyed. May outlive the bus (then it does nothing).
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&&) noexcept = default;
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }
  void reset();
  bool active() const { return !token_.expired(); }

 private:
  friend class MessageBus;
  std::weak_ptr<class MessageBus*> bus_;
  std::weak_ptr<int> token_;
  std::shared_ptr<int> keep_;  // shared with the bus entry: its lifetime marks "subscribed"
  std::string ns_;
};

struct PublishResult {
  std::vector<DeviceId> reached;
  std::vector<std::pair<DeviceId, Status>> failed;
};

// What the bus needs from the mesh below it.
class EnvelopeSender {
 public:
  virtual Status sendEnvelope(const DeviceId& peer, const Envelope& envelope) = 0;
  // Sends an envelope that is already encoded (by encodeEnvelope() or encodeMessageEnvelope()),
  // so one encoding can go to many peers. The default decodes it again.
  virtual Status sendEncodedEnvelope(const DeviceId& peer, ByteView encoded) {
    auto envelope = decodeEnvelope(encoded);
    if (!envelope) return envelope.status();
    return sendEnvelope(peer, envelope.value());
  }
  // The same for an envelope encoded as `head` followed by `body` (a Message's header and its
  // payload), so the payload is not copied into one buffer first. The default joins them.
  virtual Status sendEncodedParts(const DeviceId& peer, ByteView head, ByteView body) {
    Bytes joined(head.begin(), head.end());
    joined.insert(joined.end(), body.begin(), body.end());
    return sendEncodedEnvelope(peer, joined);
  }
  virtual std::vector<DeviceId> connectedPeers() const = 0;

 protected:
  ~EnvelopeSender() = default;
};

struct BusStats {
  uint64_t delivered = 0;
  uint64_t unhandled = 0;  // messages for namespaces nobody subscribed to
};

class MessageBus {
 public:
  MessageBus(Env& env, EnvelopeSender& sender);
  ~MessageBus();

  Result<Subscription> subscribe(std::string_view ns, MessageHandler handler);
  Result<Subscription> serve(std::string_view ns, RequestHandler handler);
  Result<PublishResult> publish(std::string_view ns, ByteView payload);
  Status send(const DeviceId& peer, std::string_view ns, ByteView payload);
  Status request(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout,
                 ReplyFn done);

  // Library-internal: the same, for reserved namespaces.
  Result<Subscription> subscribeReserved(std::string_view ns, MessageHandler handler);
  Result<PublishResult> publishReserved(std::string_view ns, ByteView payload);
  Status sendReserved(const DeviceId& peer, std::string_view ns, ByteView payload);
  Status requestReserved(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout, ReplyFn done);

  // From MeshCore.
  void onEnvelope(const DeviceId& from, Envelope& envelope);
  // A Message envelope, as views (MeshCore's zero-copy receive path).
  void onMessage(const DeviceId& from, std::string_view ns, ByteView payload);
  // Fails pending requests to a peer that left.
  void onPeerGone(const DeviceId& peer);
  const BusStats& stats() const { return stats_; }

 private:
  friend class Responder;
  friend class Subscription;
  struct Entry {
    std::weak_ptr<int> alive;
    MessageHandler on_message;
    RequestHandler on_request;
  };
  struct Pending {
    DeviceId peer;
    ReplyFn done;
    std::unique_ptr<Timer> timer;
  };
  Result<Subscription> add(std::string_view ns, bool reserved, MessageHandler m, RequestHandler r);
  Result<PublishResult> publishImpl(std::string_view ns, ByteView payload);
  Status sendImpl(const DeviceId& peer, std::string_view ns, ByteView payload);
  Status requestImpl(const DeviceId& peer, std::string_view ns, ByteView payload, Micros timeout, ReplyFn done);
  void sendReply(const DeviceId& peer, uint32_t id, ReplyCode code, ByteView payload);
  void finishRequest(uint32_t id, Result<Bytes> result);
  void unsubscribe(const std::string& ns);

  Env& env_;
  EnvelopeSender& sender_;
  std::map<std::string, std::vector<Entry>, std::less<>> entries_;
  std::map<uint32_t, Pending> pending_;
  uint32_t next_request_id_ = 1;
  BusStats stats_;
  std::shared_ptr<MessageBus*> self_;
};

}  // namespace meshslice
