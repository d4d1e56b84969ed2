// ControlService: the daemon's JSON-RPC methods (docs/CONTROL.md) on top of the node's
// MeshCore and StoreHub. It also turns peer events and slice events into `event`
// notifications for clients that called `watch`, and bus messages into `message`
// notifications for clients that called `subscribe`.
//
// The HTTP API (node/http_api.h) calls the same methods through call(): one implementation,
// two transports.
//
// Threading and lifetime: loop thread only. `core` and `stores` must outlive the service;
// remove it from the core's observers (and stop the ControlServer) before destroying it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mesh/mesh_core.h"
#include "node/control_server.h"
#include "node/store_hub.h"

namespace meshslice {

// Facts about the daemon process that `status` reports.
struct DaemonInfo {
  std::string state_dir;
  std::string mesh_tag;
  bool mdns = false;
  std::vector<std::string> interfaces;
  int64_t started_at_ms = 0;  // wall clock
  std::string http;           // the HTTP API's address; empty when it is off
};

inline constexpr size_t kMaxSubscriptionsPerClient = 64;
// `watch {"snapshot": true}`: at most this much value JSON (the client's unread-output limit is
// 64 MiB).
inline constexpr size_t kMaxWatchSnapshotBytes = 32 * 1024 * 1024;

class ControlService final : public ControlHandler, public PeerObserver {
 public:
  // `request_stop` is called (loop thread) after the reply to `down` was written.
  ControlService(MeshCore& core, StoreHub& stores, DaemonInfo info, std::function<void()> request_stop);
  ~ControlService();

  // The allow-list the node started with (std::nullopt: off); mesh.allow/revoke keep
  // <state_dir>/allow.list in step with the core's list.
  void setAllowList(std::optional<std::set<DeviceId>> list);

  // One method for another transport (the HTTP API): the same implementation and result as
  // over the socket. kNotFound for an unknown method and for those bound to a connection
  // (subscribe, unsubscribe, watch). After `down`, *after_reply is set to the stop request:
  // run it once the answer was sent.
  Result<Json> call(std::string_view method, const Json& params, std::function<void()>* after_reply);
  // Receives every event broadcast to watchers, too (the HTTP API's WebSocket stream).
  void setEventListener(std::function<void(const Json& event)> listener) { event_listener_ = std::move(listener); }
  void setHttpAddress(std::string address) { info_.http = std::move(address); }

  void onMessage(ControlConnection& conn, const Json& message) override;
  void onClosed(ControlConnection& conn) override;

  void onPeerJoined(const PeerJoined& e) override;
  void onPeerUpdated(const PeerUpdated& e) override;
  void onPeerLeft(const PeerLeft& e) override;

  // Sends an `event` notification to every watching client (and the event listener), with
  // "at": the wall-clock time in ISO 8601 UTC.
  void broadcast(const Json& event);
  size_t watcherCount() const;

 private:
  struct Client {
    ControlConnection* conn = nullptr;
    bool watching = false;
    std::map<std::string, Subscription> subscriptions;
  };
  using Method = Result<Json> (ControlService::*)(Client&, const Json& params);

  // The response to one request object, or null for a notification.
  Json handleOne(Client& client, const Json& request);
  Result<Json> status(Client&, const Json&);
  // peers, ping and their helpers: node/control_diagnostics.cc.
  Result<Json> peers(Client&, const Json& params);
  // A peer given by device ID, unique ID prefix or unique display name.
  Result<DeviceId> resolvePeer(const std::string& text) const;
  // `ping` answers later, when the peer replied: null now, or an error response.
  Json startPing(Client& client, const Json& id, const Json& params);
  Result<Json> storesList(Client&, const Json&);
  Result<Json> get(Client&, const Json& params);
  Result<Json> set(Client&, const Json& params);
  Result<Json> remove(Client&, const Json& params);
  Result<Json> publish(Client&, const Json& params);
  Result<Json> subscribe(Client&, const Json& params);
  Result<Json> unsubscribe(Client&, const Json& params);
  Result<Json> watch(Client&, const Json& params);
  Result<Json> down(Client&, const Json&);
  Result<Json> allow(Client&, const Json& params);
  Result<Json> revoke(Client&, const Json& params);
  Result<Json> allowList(Client&, const Json&);
  Result<Json> saveAllowList();

  MeshCore& core_;
  StoreHub& stores_;
  DaemonInfo info_;
  std::function<void()> request_stop_;
  std::function<void(const Json&)> event_listener_;
  bool stop_after_reply_ = false;
  bool in_batch_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for replies that come later
  uint64_t in_message_ = 0;  // the client whose message is being handled (ids start at 1)
  std::map<uint64_t, Client> clients_;
  std::set<DeviceId> allowed_;  // mirrors the core's list once it is on
  bool allow_list_on_ = false;
  std::map<DeviceId, std::string> names_;  // of known peers, for peer_left events
  static const std::map<std::string, Method, std::less<>> kMethods;
};

// "peer_joined"-style event objects; exposed for StoreHub and tests.
Json peerInfoJson(const PeerInfo& peer);

}  // namespace meshslice
