// MeshCore: everything a node does on its loop thread. It accepts and dials links, runs a
// PeerSession on each, keeps one link per peer device, watches liveness, emits peer events
// and carries the MessageBus. MeshNode (mesh/mesh_node.h) wraps it with a loop thread and
// thread-safe methods; tests drive it directly with FakeEnv and MemoryTransport.
//
// Peer rules (docs/ARCHITECTURE.md):
// - One link per pair: with two established sessions to one device, the one initiated by the
//   smaller device ID wins; between two of the same initiator, the newer one wins.
// - A peer is offline after `liveness_timeout` of silence, at once on Goodbye, or when its
//   link closed and no new one was established within `reconnect_grace`. On link loss we
//   redial its known endpoint at once: a refused connection means the process is gone and the
//   peer is evicted without waiting for the grace period.
//
// Discovery (docs/ARCHITECTURE.md, "Discovery sources"): every endpoint a source reports is
// dialed like a static peer. An advert with our own device ID is ignored. When an advert's
// endpoints change, endpoints no source advertises any more stop being dialed (a link that is
// up through one stays up). `lost` changes nothing: liveness decides when a peer is gone, so a
// spoofed or early goodbye cannot cut a working link.
#pragma once

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/dialer_set.h"
#include "mesh/discovery.h"
#include "mesh/failure_log_limiter.h"
#include "mesh/identity.h"
#include "mesh/inbound_failures.h"
#include "mesh/link_error.h"
#include "mesh/message_bus.h"
#include "mesh/peer_events.h"
#include "mesh/peer_rate_limit.h"
#include "mesh/peer_session.h"
#include "mesh/static_discovery.h"
#include "transport/link.h"

namespace meshslice {

struct MeshOptions {
  std::string listen_address = "127.0.0.1:0";
  // More addresses to listen on, one listener each (e.g. one per selected network interface).
  // A port of 0 here means the port listen_address bound, so every listener (and the Hello's
  // and adverts' single listen port) has the same port. Needs a transport that accepts several
  // listen() calls (transport/multi_listen_transport.h; MeshNode uses one).
  std::vector<std::string> extra_listen_addresses;
  // "host:port" or "[v6]:port"; hosts are numeric or names. Dialed through a StaticDiscovery
  // (mesh/static_discovery.h): names are resolved, and looked up again now and then. An entry
  // not of that form is handed to the transport as it is (in-memory test transports name
  // endpoints freely; the TCP transport logs it as a bad address).
  std::vector<std::string> static_peers;
  Micros heartbeat_interval = 1 * kSeconds;
  Micros liveness_timeout = 3 * kSeconds;
  Micros reconnect_grace = 1 * kSeconds;
  Micros backoff_initial = 100 * kMillis;
  Micros backoff_max = 30 * kSeconds;
  size_t max_pending_handshakes = 64;
  // Off: any holder of the mesh secret may join. On: only the devices in allow_list.
  bool use_allow_list = false;
  std::set<DeviceId> allow_list;
  SecureChannelOptions channel;
  // Sent in our Hello; at most kMaxCapabilities names of validateCapability() syntax (start()
  // refuses others). Default: what this build implements.
  std::vector<std::string> capabilities{std::begin(kBuildCapabilities), std::end(kBuildCapabilities)};
  // Per-peer limit on received envelopes (mesh/peer_rate_limit.h); Goodbye is never limited.
  PeerRateLimitOptions rate_limit;
};

struct LocalDevice {
  KeyPair keys;
  DeviceId id;
  std::string name;

  static LocalDevice of(const Identity& identity) {
    LocalDevice d;
    d.keys.priv = identity.privateKey();
    d.keys.pub = identity.publicKey();
    d.id = identity.deviceId();
    d.name = identity.name();
    return d;
  }
};

struct MeshStats {
  uint64_t links_accepted = 0, links_dialed = 0;
  // completed: valid Hello received; failed: the link closed before that, for any reason.
  uint64_t handshakes_completed = 0, handshakes_failed = 0;
  uint64_t links_refused_pending_limit = 0, duplicate_links_closed = 0;
  // Links closed because the peer broke the protocol (isProtocolViolation()).
  uint64_t protocol_errors = 0;
  // Links this node closed, by reason (mesh/link_error.h, docs/PROTOCOL.md §4).
  LinkErrorCounts link_errors{};
  uint64_t linkErrors(LinkError e) const { return link_errors[static_cast<size_t>(e)]; }
  uint64_t messages_rate_limited = 0;        // envelopes dropped by a peer's rate limit
  uint64_t peers_disconnected_flooding = 0;  // links closed for flooding past the limit
  // Peers evicted (PeerLeft), by LeaveReason.
  std::array<uint64_t, kLeaveReasonCount> peers_left{};
};

// One peer's link as the daemon's dashboard and metrics show it (MeshCore::linkState()).
struct PeerLinkState {
  bool linked = false;      // false: the link dropped and the reconnect grace period runs
  Micros silent_for = 0;    // time since the last message arrived (linked peers)
  int64_t rtt_us = -1;      // the transport's smoothed round-trip time; -1 unknown
  size_t queued_bytes = 0;  // bytes waiting to be sent to the peer
};

// Encrypted transport frame bytes over every link this core had, closed ones included.
struct TrafficTotals {
  uint64_t bytes_sent = 0, bytes_received = 0;
};

class MeshCore final : public SessionOwner, public EnvelopeSender {
 public:
  // `env` and `transport` must outlive the core. `psk` is the mesh's derived Noise PSK.
  MeshCore(Env& env, Transport& transport, LocalDevice local, const Key32& psk, MeshOptions options);
  ~MeshCore();

  // Listens and starts dialing. Returns the bound listen address.
  Result<std::string> start();
  // Says goodbye on every link and closes them; stops discovery and listening. Links finish
  // closing on later turns: `drained()` tells when every session is gone.
  void stop();
  bool drained() const { return sessions_.empty(); }

  // Adds a discovery source (started now if the core runs). The core does not own it; it must
  // outlive the core or stay until stop().
  void addDiscovery(DiscoverySource* source);
  // Dials an endpoint and keeps it dialed with backoff for as long as the core runs.
  void addEndpoint(const std::string& endpoint);
  // Replaces MeshOptions::static_peers while running (the daemon's reload): new entries are
  // dialed, entries no longer listed are not dialed again (links through them stay up, as when
  // an advert goes away), entries in both lists keep their dialers.
  void setStaticPeers(std::vector<std::string> peers);

  void addObserver(PeerObserver* observer) { observers_.push_back(observer); }
  void removeObserver(PeerObserver* observer);

  MessageBus& bus() { return bus_; }
  const LocalDevice& local() const { return local_; }
  std::vector<PeerInfo> peers() const;
  bool isConnected(const DeviceId& id) const;
  // Every endpoint being dialed, with its state and last error (diagnostics).
  std::vector<DialerInfo> dialers() const { return dialers_.snapshot(); }
  // Links peers opened to us that failed (another mesh secret, refused, ...), per host.
  std::vector<InboundFailure> inboundFailures() const { return inbound_failures_.snapshot(); }
  // Whether an endpoint was configured (static peer, addEndpoint) rather than discovered.
  bool configuredEndpoint(const std::string& endpoint) const;
  // The address a peer listens on (the one we dial it at), not its link's ephemeral port;
  // empty if unknown.
  std::string peerListenAddress(const DeviceId& id) const;
  const MeshStats& stats() const {
    stats_.links_dialed = dialers_.totalAttempts();
    return stats_;
  }
  const std::string& listenAddress() const { return listen_address_; }
  // Every bound listen address: listenAddress() first, then the extra ones.
  const std::vector<std::string>& listenAddresses() const { return listen_addresses_; }
  // Allow-list changes; removing a connected device evicts it with kRevoked.
  void allow(const DeviceId& id);
  void revoke(const DeviceId& id);
  // Replaces the whole list (std::nullopt: off, anyone with the secret); connected devices not
  // on a new list are evicted with kRevoked, as by revoke().
  void setAllowList(std::optional<std::set<DeviceId>> list);

  // EnvelopeSender (used by the bus and by store sync).
  Status sendEnvelope(const DeviceId& peer, const Envelope& envelope) override;
  Status sendEncodedEnvelope(const DeviceId& peer, ByteView encoded) override;
  Status sendEncodedParts(const DeviceId& peer, ByteView head, ByteView body) override;
  std::vector<DeviceId> connectedPeers() const override;
  // Bytes queued towards a peer (0 if unknown): lets senders coalesce instead of queueing.
  size_t pendingBytesTo(const DeviceId& peer) const;
  // The link of a known peer (std::nullopt: not a peer).
  std::optional<PeerLinkState> linkState(const DeviceId& peer) const;
  TrafficTotals traffic() const;
  const MeshOptions& options() const { return options_; }
  // The core's clock (diagnostics report ages against it).
  Micros now() const { return env_.now(); }
  Env& env() const { return env_; }

 private:
  struct Peer {
    PeerInfo info;
    PeerSession* session = nullptr;  // the active session, if linked
    std::unique_ptr<Timer> grace_timer;
    std::string redial_endpoint;
  };
  using Dialer = DialerSet::Dialer;
  // Immediate retries of a redial accepted and closed before the handshake (a dying listener)
  // before the usual backoff applies again.
  static constexpr int kMaxQuickRedials = 3;

  void startDiscovery(DiscoverySource* source);
  void onDiscovered(DiscoverySource* source, const DiscoveredPeer& peer);
  bool advertised(const std::string& endpoint) const;
  // The dialer of `endpoint`, created (and dialing) if new; nullptr for our own address.
  Dialer* ensureDialer(const std::string& endpoint);
  void onAccept(std::unique_ptr<Link> link);
  Status listenOnExtraAddresses();
  void onDialFailed(const std::string& endpoint);
  PeerSession* addSession(std::unique_ptr<Link> link, bool initiator, const std::string& endpoint);
  void onSessionEstablished(PeerSession& s) override;
  void onSessionEnvelope(PeerSession& s, Envelope&& envelope) override;
  void onSessionMessage(PeerSession& s, std::string_view ns, ByteView payload) override;
  void onSessionClosed(PeerSession& s, const Status& reason) override;
  void onSessionDrained(PeerSession& s) override;
  // Records why a link failed, in words, for its dialer or in inbound_failures_.
  void noteLinkFailure(PeerSession& s, const Status& reason);
  void countLinkError(const PeerSession& s, LinkError error, const Status& reason);
  void logHandshakeFailure(const PeerSession& s, const Status& reason);
  bool preferNew(const PeerSession& current, const PeerSession& candidate) const;
  void activate(PeerSession& s);
  // By value: the caller's ID often lives in the entry (or timer) that eviction destroys.
  void evict(DeviceId id, LeaveReason reason);
  void redial(Peer& peer);
  // Whether a peer whose link dropped is waiting for a redial of `endpoint` to settle it.
  bool awaitingRedial(const std::string& endpoint) const;
  void onTick();
  // Liveness and heartbeats are checked four times per the shorter of the two intervals.
  Micros tickPeriod() const { return std::min(options_.heartbeat_interval, options_.liveness_timeout) / 4; }
  void destroyLater(PeerSession* s);
  size_t handshakingSessions() const;
  // False if the envelope must be dropped (and maybe the session closed) for flooding.
  bool admitEnvelope(PeerSession& s, const Envelope& envelope);
  bool admitCost(PeerSession& s, size_t cost);

  Env& env_;
  Transport& transport_;
  LocalDevice local_;
  Key32 psk_;
  MeshOptions options_;
  MessageBus bus_;
  bool running_ = false;
  std::string listen_address_;
  std::vector<std::string> listen_addresses_;
  uint16_t listen_port_ = 0;
  std::vector<std::unique_ptr<PeerSession>> sessions_;
  std::map<DeviceId, Peer> peers_;
  DialerSet dialers_;
  InboundFailures inbound_failures_;
  std::map<DeviceId, PeerRateLimit> rate_limits_;  // per linked device; dropped on eviction
  std::vector<DiscoverySource*> discovery_;
  std::unique_ptr<StaticDiscovery> static_discovery_;  // options_.static_peers
  // Endpoints of every standing advert, per source and advert key.
  std::map<std::pair<DiscoverySource*, std::string>, std::vector<std::string>> adverts_;
  std::vector<PeerObserver*> observers_;
  FailureLogLimiter handshake_failure_log_;  // logHandshakeFailure()
  std::unique_ptr<Timer> tick_timer_;
  mutable MeshStats stats_;  // links_dialed is filled in by stats()
  TrafficTotals closed_traffic_;  // of sessions already destroyed
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // onTick(): when the last tick ran, and whether it judged liveness. A tick after a stall of
  // this loop does not: silence is judged only after the loop has read what arrived meanwhile.
  // Construction counts as a tick: a process stopped before its first tick is a stall too.
  Micros last_tick_ = env_.now();
  bool judged_last_tick_ = true;
};

}  // namespace meshslice
