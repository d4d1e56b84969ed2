#include "mesh/mesh_core.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "mesh/link_diagnosis.h"
#include "transport/address.h"

namespace meshslice {

// The fixed part of what an envelope costs a peer's rate limit (its payload is the rest).
constexpr size_t kEnvelopeCostOverhead = 32;

MeshCore::MeshCore(Env& env, Transport& transport, LocalDevice local, const Key32& psk, MeshOptions options)
    : env_(env), transport_(transport), local_(std::move(local)), psk_(psk), options_(std::move(options)),
      bus_(env, *this),
      dialers_(env, transport, DialerOptions{options_.backoff_initial, options_.backoff_max},
               [this](const DeviceId& id) { return isConnected(id); },
               [this](const std::string& endpoint, std::unique_ptr<Link> link) {
                 if (running_) addSession(std::move(link), true, endpoint);
               },
               [this](const std::string& endpoint, const Status&) { onDialFailed(endpoint); }) {}

MeshCore::~MeshCore() {
  *alive_ = false;
  sodium_memzero(psk_.data(), psk_.size());
  observers_.clear();
  peers_.clear();
  sessions_.clear();
}

Result<std::string> MeshCore::start() {
  if (options_.capabilities.size() > kMaxCapabilities) {
    return invalidArgument("more than " + std::to_string(kMaxCapabilities) + " capabilities");
  }
  for (const auto& cap : options_.capabilities) MS_RETURN_IF_ERROR(validateCapability(cap));
  auto bound = transport_.listen(options_.listen_address,
                                 [this](std::unique_ptr<Link> link) { onAccept(std::move(link)); });
  if (!bound) return bound.status();
  listen_address_ = bound.value();
  listen_addresses_ = {listen_address_};
  if (auto hp = splitHostPort(listen_address_)) listen_port_ = hp->port;
  if (Status st = listenOnExtraAddresses(); !st.isOk()) {
    transport_.stop();
    return st;
  }
  running_ = true;
  std::vector<std::string> named;
  for (const auto& ep : options_.static_peers) {
    if (StaticDiscovery::parseEntry(ep)) named.push_back(ep);
    else addEndpoint(ep);  // the transport's own endpoint syntax (or a bad address it reports)
  }
  if (!named.empty() && !static_discovery_) {
    static_discovery_ = std::make_unique<StaticDiscovery>(env_, std::move(named));
    discovery_.insert(discovery_.begin(), static_discovery_.get());
  }
  for (DiscoverySource* d : discovery_) startDiscovery(d);
  tick_timer_ = env_.newTimer([this] { onTick(); });
  tick_timer_->start(tickPeriod());
  return listen_address_;
}

Status MeshCore::listenOnExtraAddresses() {
  for (const std::string& address : options_.extra_listen_addresses) {
    auto hp = splitHostPort(address);
    if (!hp) return hp.status();
    const uint16_t port = hp->port != 0 ? hp->port : listen_port_;
    const std::string with_port = joinHostPort(hp->host, port);
    auto bound = transport_.listen(with_port, [this](std::unique_ptr<Link> link) { onAccept(std::move(link)); });
    if (!bound) return bound.status();
    listen_addresses_.push_back(bound.value());
  }
  return Status::ok();
}

void MeshCore::addDiscovery(DiscoverySource* source) {
  if (std::find(discovery_.begin(), discovery_.end(), source) != discovery_.end()) return;
  discovery_.push_back(source);
  if (running_) startDiscovery(source);
}

void MeshCore::startDiscovery(DiscoverySource* source) {
  DiscoverySource::Events events;
  events.found = [this, source](const DiscoveredPeer& p) { onDiscovered(source, p); };
  events.lost = [this, source](const std::string& key) {
    // Liveness decides when a peer is gone; a (possibly spoofed) discovery goodbye stops
    // nothing here: links that are alive stay up, and dialers keep their schedule.
    adverts_.erase({source, key});
  };
  Status st = source->start(std::move(events));
  if (!st.isOk()) MS_LOG(kWarn, "mesh") << "discovery source failed to start: " << st.toString();
}

void MeshCore::onDiscovered(DiscoverySource* source, const DiscoveredPeer& p) {
  if (!running_) return;
  if (!p.device_id.empty() && p.device_id == local_.id.toString()) return;  // our own advert
  std::vector<std::string>& current = adverts_[{source, p.key}];
  std::vector<std::string> before = std::exchange(current, p.endpoints);
  for (const auto& ep : p.endpoints) {
    const bool known = dialers_.contains(ep);
    Dialer* d = ensureDialer(ep);
    if (!d) continue;
    d->probe = false;  // wanted now, not just a probe
    // News from discovery (the peer advertises this endpoint now): a dialer waiting out its
    // backoff dials at once. Sources report only new or changed adverts, so this is bounded.
    if (known) dialers_.dialNow(*d);
  }
  // Followed: an endpoint nobody advertises any more is not dialed again. A session through it
  // stays up; when it closes, its peer gets the usual grace period to come back elsewhere.
  for (const auto& ep : before) {
    if (advertised(ep)) continue;
    const Dialer* d = dialers_.find(ep);
    if (!d || d->pinned) continue;
    MS_LOG(kInfo, "mesh") << "no longer advertised, stop dialing " << ep;
    dialers_.erase(ep);
  }
}

bool MeshCore::advertised(const std::string& endpoint) const {
  for (const auto& [key, endpoints] : adverts_)
    if (std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end()) return true;
  return false;
}

void MeshCore::addEndpoint(const std::string& endpoint) {
  if (Dialer* d = ensureDialer(endpoint)) {
    d->pinned = true;
    d->probe = false;
  }
}

MeshCore::Dialer* MeshCore::ensureDialer(const std::string& endpoint) {
  if (!running_) return nullptr;
  if (std::find(listen_addresses_.begin(), listen_addresses_.end(), endpoint) != listen_addresses_.end())
    return nullptr;
  return &dialers_.ensure(endpoint);
}

void MeshCore::onDialFailed(const std::string& endpoint) {
  if (!running_) return;
  // A refused redial of a peer whose link just dropped: its process is gone.
  for (auto& [id, peer] : peers_) {
    if (peer.redial_endpoint == endpoint && !peer.session && peer.grace_timer) {
      evict(id, LeaveReason::kLinkLost);  // drops a probe dialer: DialerSet looks again
      break;
    }
  }
}

void MeshCore::onAccept(std::unique_ptr<Link> link) {
  if (!running_) return;
  if (handshakingSessions() >= options_.max_pending_handshakes) {
    ++stats_.links_refused_pending_limit;
    MS_LOG(kWarn, "mesh") << "refusing " << link->remoteAddress() << ": too many pending handshakes";
    return;  // destroying the link closes it
  }
  ++stats_.links_accepted;
  addSession(std::move(link), false, {});
}

PeerSession* MeshCore::addSession(std::unique_ptr<Link> link, bool initiator, const std::string& endpoint) {
  LocalHello hello{local_.id, local_.name, listen_port_, options_.capabilities};
  auto s = std::make_unique<PeerSession>(env_, std::move(link), initiator, local_.keys, psk_, hello, this,
                                         options_.channel, endpoint);
  PeerSession* raw = s.get();
  sessions_.push_back(std::move(s));
  raw->start();
  return raw;
}

size_t MeshCore::handshakingSessions() const {
  return static_cast<size_t>(std::count_if(sessions_.begin(), sessions_.end(), [](const auto& s) {
    return s->isOpen() && !s->established();
  }));
}

void MeshCore::onSessionEstablished(PeerSession& s) {
  ++stats_.handshakes_completed;
  const DeviceId& id = s.peerId();
  if (id == local_.id) {
    s.closeFor(LinkError::kSelfConnection, "connected to ourselves");
    return;
  }
  if (options_.use_allow_list && !options_.allow_list.count(id)) {
    // Say why (docs/PROTOCOL.md §6.3): the refused node shows it instead of a bare close.
    s.send(Goodbye{kGoodbyeNotAllowed}).ignore();
    s.closeFor(LinkError::kNotAllowed, "device " + id.toString() + " is not on the allow-list");
    return;
  }
  if (!s.dialedEndpoint().empty()) dialers_.noteEstablished(s.dialedEndpoint(), id);
  auto it = peers_.find(id);
  if (it != peers_.end() && it->second.session && it->second.session != &s) {
    PeerSession* current = it->second.session;
    ++stats_.duplicate_links_closed;
    if (!preferNew(*current, s)) {
      s.close(Status(Code::kAlreadyExists, "duplicate link"));
      return;
    }
    it->second.session = nullptr;  // so its close is not a link loss
    current->close(Status(Code::kAlreadyExists, "duplicate link"));
  }
  activate(s);
}

bool MeshCore::preferNew(const PeerSession& current, const PeerSession& candidate) const {
  if (current.initiator() == candidate.initiator()) return true;  // same side dialed: newest wins
  const DeviceId& smaller = std::min(local_.id, candidate.peerId());
  const DeviceId& candidate_initiator = candidate.initiator() ? local_.id : candidate.peerId();
  return candidate_initiator == smaller;
}

void MeshCore::activate(PeerSession& s) {
  const DeviceId id = s.peerId();
  auto [it, inserted] = peers_.try_emplace(id);
  Peer& peer = it->second;
  bool rejoin = !inserted;
  peer.session = &s;
  peer.grace_timer.reset();
  PeerInfo info{id, s.peerName(), s.remoteAddress(), s.protocolVersion(), s.peerCapabilities()};
  if (!s.dialedEndpoint().empty()) {
    peer.redial_endpoint = s.dialedEndpoint();
  } else {
    if (std::string ep = dialers_.endpointOf(id); !ep.empty()) peer.redial_endpoint = ep;
    if (peer.redial_endpoint.empty() && s.peerListenPort() != 0) {
      if (auto hp = splitHostPort(s.remoteAddress())) peer.redial_endpoint = joinHostPort(hp->host, s.peerListenPort());
    }
  }
  bool changed = peer.info.name != info.name || peer.info.address != info.address ||
                 peer.info.capabilities != info.capabilities;
  peer.info = info;
  auto observers = observers_;
  if (!rejoin) {
    MS_LOG(kInfo, "mesh") << "peer joined: " << id.shortString() << " (" << info.name << ") at " << info.address;
    for (auto* o : observers) o->onPeerJoined(PeerJoined{info});
  } else if (changed) {
    for (auto* o : observers) o->onPeerUpdated(PeerUpdated{info});
  }
  for (auto* o : observers) o->onPeerLinked(id);
}

void MeshCore::onSessionEnvelope(PeerSession& s, Envelope&& envelope) {
  if (std::holds_alternative<Heartbeat>(envelope)) return;
  if (auto* bye = std::get_if<Goodbye>(&envelope)) {
    MS_LOG(kInfo, "mesh") << "goodbye from " << s.peerId().shortString() << ": " << bye->reason;
    if (bye->reason == kGoodbyeNotAllowed && !s.dialedEndpoint().empty())
      dialers_.noteFailure(s.dialedEndpoint(), Status(Code::kPermissionDenied, "the peer refused us: not on its allow-list"));
    DeviceId id = s.peerId();
    auto it = peers_.find(id);
    if (it != peers_.end() && it->second.session == &s) {
      it->second.session = nullptr;
      evict(id, LeaveReason::kGoodbye);
    }
    s.close(Status(Code::kClosed, "peer said goodbye"));
    return;
  }
  if (!admitEnvelope(s, envelope)) return;
  bus_.onEnvelope(s.peerId(), envelope);
}

void MeshCore::onSessionMessage(PeerSession& s, std::string_view ns, ByteView payload) {
  if (!admitCost(s, kEnvelopeCostOverhead + ns.size() + payload.size())) return;
  bus_.onMessage(s.peerId(), ns, payload);
}

namespace {
// What an envelope costs to handle, roughly: its payload plus a fixed overhead.
size_t envelopeCost(const Envelope& envelope) {
  if (auto* m = std::get_if<BusMessage>(&envelope)) return kEnvelopeCostOverhead + m->ns.size() + m->payload.size();
  if (auto* r = std::get_if<Request>(&envelope)) return kEnvelopeCostOverhead + r->ns.size() + r->payload.size();
  if (auto* r = std::get_if<Reply>(&envelope)) return kEnvelopeCostOverhead + r->payload.size();
  return kEnvelopeCostOverhead;
}
}  // namespace

bool MeshCore::admitEnvelope(PeerSession& s, const Envelope& envelope) { return admitCost(s, envelopeCost(envelope)); }

bool MeshCore::admitCost(PeerSession& s, size_t cost) {
  auto it = rate_limits_.try_emplace(s.peerId(), options_.rate_limit).first;
  switch (it->second.onMessage(env_.now(), cost)) {
    case PeerRateLimit::Verdict::kAccept:
      return true;
    case PeerRateLimit::Verdict::kDrop:
      if (++stats_.messages_rate_limited % 1000 == 1)
        MS_LOG(kWarn, "mesh") << "rate limit: dropping envelopes from " << s.peerId().shortString()
                              << " (" << stats_.messages_rate_limited << " dropped in all)";
      return false;
    case PeerRateLimit::Verdict::kDisconnect:
      ++stats_.messages_rate_limited;
      ++stats_.peers_disconnected_flooding;
      MS_LOG(kWarn, "mesh") << "rate limit: disconnecting " << s.peerId().shortString() << ": flooding";
      // The bucket stays until eviction: a flooder that reconnects at once is cut off again.
      s.close(Status(Code::kBusy, "peer flooded past its rate limit"));
      return false;
  }
  return false;
}

void MeshCore::onSessionClosed(PeerSession& s, const Status& reason) {
  if (!s.established()) {
    ++stats_.handshakes_failed;
    logHandshakeFailure(s, reason);
  }
  if (auto error = s.error()) countLinkError(s, *error, reason);
  // A dialed link that dropped: dial again, at once if it had been up for a while, else with
  // growing backoff (a peer that accepts and then rejects us must not cause a dial storm).
  const bool was_stable = s.established() && env_.now() - s.establishedAt() >= options_.heartbeat_interval;
  noteLinkFailure(s, reason);
  Dialer* d = s.dialedEndpoint().empty() ? nullptr : dialers_.find(s.dialedEndpoint());
  if (d && running_) {
    if (!s.established() && d->quick_retries < kMaxQuickRedials && awaitingRedial(d->endpoint)) {
      // A redial of a peer whose link just dropped was accepted and closed before the
      // handshake: under kill -9 the dying process's listener can still take a connection.
      // Ask again at once; a refusal then evicts the peer without waiting out the backoff.
      dialers_.retryNow(*d);
    } else {
      dialers_.retryAfterClose(*d, was_stable);
    }
  }
  if (s.established()) {
    auto it = peers_.find(s.peerId());
    if (it != peers_.end() && it->second.session == &s) {
      Peer& peer = it->second;
      peer.session = nullptr;
      if (!running_) {
        // stop() handles events
      } else if (reason.code() == Code::kTimeout) {
        evict(s.peerId(), LeaveReason::kTimeout);
      } else {
        DeviceId id = s.peerId();
        peer.grace_timer = env_.newTimer([this, id] { evict(id, LeaveReason::kLinkLost); });
        peer.grace_timer->start(options_.reconnect_grace);
        // An accepted link: probe the peer's listener at once (a refusal means its process is
        // gone). Dialed links were rescheduled above, with backoff unless they were stable.
        if (s.dialedEndpoint().empty()) redial(peer);
      }
    }
  }
  destroyLater(&s);
}

void MeshCore::noteLinkFailure(PeerSession& s, const Status& reason) {
  auto error = s.error();
  const bool refused = error == LinkError::kNotAllowed || error == LinkError::kSelfConnection;
  if (s.established() && !refused) return;  // a link that worked: liveness tells the rest
  LinkFailureFacts facts{reason, error, false, s.initiator(), !s.peerId().isZero(), s.established()};
  std::string words = describeLinkFailure(facts);
  if (!s.dialedEndpoint().empty()) {
    if (!s.established()) dialers_.noteFailure(s.dialedEndpoint(), Status(reason.code(), words));
  } else if (reason.code() != Code::kAlreadyExists && error != LinkError::kSelfConnection) {
    inbound_failures_.note(s.remoteAddress(), s.peerId(), std::move(words), env_.now());
  }
}

std::string MeshCore::peerListenAddress(const DeviceId& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? std::string() : it->second.redial_endpoint;
}

bool MeshCore::configuredEndpoint(const std::string& endpoint) const {
  if (const Dialer* d = dialers_.find(endpoint); d && d->pinned) return true;
  for (const auto& [key, endpoints] : adverts_)
    if (key.first == static_discovery_.get() && std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end())
      return true;
  return false;
}

void MeshCore::countLinkError(const PeerSession& s, LinkError error, const Status& reason) {
  ++stats_.link_errors[static_cast<size_t>(error)];
  if (isProtocolViolation(error)) ++stats_.protocol_errors;
  if (!s.established()) return;  // logHandshakeFailure() said it, at most once a minute
  MS_LOG(kInfo, "mesh") << "closed link " << s.remoteAddress() << " (" << linkErrorName(error)
                        << "): " << reason.toString();
}

// A host retrying with a wrong mesh secret fails every backoff period: one line per host and
// kFailureLogInterval, counting the failures it stands for.
void MeshCore::logHandshakeFailure(const PeerSession& s, const Status& reason) {
  const std::string source = failureSourceOf(s.remoteAddress());
  auto count = handshake_failure_log_.admit(source, env_.now());
  if (!count) return;
  std::string what = "link " + s.remoteAddress() + " closed before Hello";
  if (auto error = s.error()) what += std::string(" (") + linkErrorName(*error) + ")";
  what += ": " + reason.toString();
  if (*count == 1) MS_LOG(kInfo, "mesh") << what;
  else
    MS_LOG(kWarn, "mesh") << *count << " failed handshakes from " << source << " since the last report ("
                          << kFailureLogInterval / kSeconds << "s or more ago); the last: " << what;
}

void MeshCore::onSessionDrained(PeerSession& s) {
  if (!s.established()) return;
  auto it = peers_.find(s.peerId());
  if (it == peers_.end() || it->second.session != &s) return;
  auto observers = observers_;
  for (auto* o : observers) o->onPeerDrained(s.peerId());
}

bool MeshCore::awaitingRedial(const std::string& endpoint) const {
  for (const auto& [id, peer] : peers_)
    if (peer.redial_endpoint == endpoint && !peer.session && peer.grace_timer) return true;
  return false;
}

void MeshCore::redial(Peer& peer) {
  // Only a new (probe) dialer dials at once; an existing dialer keeps its own schedule and
  // backoff, so a peer that accepts and then rejects us cannot cause a dial storm.
  if (peer.redial_endpoint.empty() || dialers_.contains(peer.redial_endpoint)) return;
  if (Dialer* d = ensureDialer(peer.redial_endpoint)) d->probe = true;
}

void MeshCore::evict(DeviceId id, LeaveReason reason) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  PeerSession* s = it->second.session;
  std::string probe_endpoint = it->second.redial_endpoint;
  peers_.erase(it);
  rate_limits_.erase(id);
  if (const Dialer* d = dialers_.find(probe_endpoint); d && d->probe && !d->connecting) dialers_.erase(probe_endpoint);
  if (s) s->close(Status(Code::kClosed, std::string("peer evicted: ") + leaveReasonName(reason)));
  MS_LOG(kInfo, "mesh") << "peer left: " << id.shortString() << " (" << leaveReasonName(reason) << ")";
  bus_.onPeerGone(id);
  ++stats_.peers_left[static_cast<size_t>(reason)];
  auto observers = observers_;
  for (auto* o : observers) o->onPeerLeft(PeerLeft{id, reason});
}

void MeshCore::destroyLater(PeerSession* s) {
  env_.post([this, alive = alive_, s] {
    if (!*alive) return;
    closed_traffic_.bytes_sent += s->channel().stats().bytes_sent;
    closed_traffic_.bytes_received += s->channel().stats().bytes_received;
    std::erase_if(sessions_, [s](const auto& p) { return p.get() == s; });
  });
}

void MeshCore::onTick() {
  const Micros now = env_.now();
  const Micros period = tickPeriod();
  // A tick more than a period late means this loop did not run meanwhile (a stopped or starved
  // process, a suspended machine). What the peers sent in that time is still unread in the
  // sockets, and the loop runs timers before it reads: judging their silence now would evict
  // live peers. So such a tick only sends heartbeats, and the next one (after this loop turn
  // has read) judges. At most one tick in a row skips: a loop that is late every time still
  // evicts, one period later.
  const bool stalled = now - last_tick_ > 2 * period;
  const bool judge = !(stalled && judged_last_tick_);
  last_tick_ = now;
  judged_last_tick_ = judge;
  std::vector<PeerSession*> silent;
  for (auto& s : sessions_) {
    if (!s->isOpen()) continue;
    if (judge && now - s->lastHeard() >= options_.liveness_timeout) {
      silent.push_back(s.get());
    } else if (s->established() && now - s->lastSent() >= options_.heartbeat_interval) {
      s->send(Heartbeat{}).ignore();  // a full queue is fine: the peer hears data instead
    }
  }
  for (PeerSession* s : silent) {
    if (!s->established()) {
      // Handshake and Hello together get the liveness timeout too (if it is the shorter one).
      s->closeFor(LinkError::kHandshakeTimeout, "no handshake and Hello within the liveness timeout");
      continue;
    }
    auto it = peers_.find(s->peerId());
    if (it != peers_.end() && it->second.session == s) {
      it->second.session = nullptr;
      evict(s->peerId(), LeaveReason::kTimeout);
    }
    s->close(Status(Code::kTimeout, "peer silent"));
  }
  tick_timer_->start(period);
}

void MeshCore::stop() {
  if (!running_) return;
  running_ = false;
  for (DiscoverySource* d : discovery_) d->stop();
  adverts_.clear();
  transport_.stop();
  tick_timer_.reset();
  dialers_.clear();
  for (auto& s : sessions_) {
    if (s->established()) s->send(Goodbye{"node stopping"}).ignore();
    s->close(Status(Code::kClosed, "node stopping"));
  }
  std::vector<DeviceId> ids;
  for (auto& [id, p] : peers_) ids.push_back(id);
  for (const auto& id : ids) evict(id, LeaveReason::kStopped);
}

void MeshCore::removeObserver(PeerObserver* observer) {
  std::erase(observers_, observer);
}

std::vector<PeerInfo> MeshCore::peers() const {
  std::vector<PeerInfo> out;
  for (const auto& [id, p] : peers_) out.push_back(p.info);
  return out;
}

bool MeshCore::isConnected(const DeviceId& id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.session != nullptr;
}

std::vector<DeviceId> MeshCore::connectedPeers() const {
  std::vector<DeviceId> out;
  for (const auto& [id, p] : peers_)
    if (p.session) out.push_back(id);
  return out;
}

Status MeshCore::sendEnvelope(const DeviceId& peer, const Envelope& envelope) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.session) return Status(Code::kNotFound, "peer not connected");
  return it->second.session->send(envelope);
}

Status MeshCore::sendEncodedEnvelope(const DeviceId& peer, ByteView encoded) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.session) return Status(Code::kNotFound, "peer not connected");
  return it->second.session->sendEncoded(encoded);
}

Status MeshCore::sendEncodedParts(const DeviceId& peer, ByteView head, ByteView body) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.session) return Status(Code::kNotFound, "peer not connected");
  return it->second.session->sendEncodedParts(head, body);
}

size_t MeshCore::pendingBytesTo(const DeviceId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() || !it->second.session ? 0 : it->second.session->pendingBytes();
}

std::optional<PeerLinkState> MeshCore::linkState(const DeviceId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  PeerLinkState state;
  if (PeerSession* s = it->second.session) {
    state.linked = true;
    state.silent_for = env_.now() - s->lastHeard();
    state.rtt_us = s->channel().roundTripMicros();
    state.queued_bytes = s->pendingBytes();
  }
  return state;
}

TrafficTotals MeshCore::traffic() const {
  TrafficTotals t = closed_traffic_;
  for (const auto& s : sessions_) {
    t.bytes_sent += s->channel().stats().bytes_sent;
    t.bytes_received += s->channel().stats().bytes_received;
  }
  return t;
}

void MeshCore::allow(const DeviceId& id) {
  options_.use_allow_list = true;
  options_.allow_list.insert(id);
}

void MeshCore::revoke(const DeviceId& id) {
  if (!options_.use_allow_list) {
    // Switching from "anyone with the secret" to an explicit list: keep everyone else.
    options_.use_allow_list = true;
    for (const auto& [pid, p] : peers_)
      if (pid != id) options_.allow_list.insert(pid);
  }
  options_.allow_list.erase(id);
  auto it = peers_.find(id);
  if (it != peers_.end()) {
    if (PeerSession* s = it->second.session) s->send(Goodbye{"revoked"}).ignore();
    evict(id, LeaveReason::kRevoked);
  }
}

void MeshCore::setStaticPeers(std::vector<std::string> peers) {
  if (!running_) {
    options_.static_peers = std::move(peers);
    return;
  }
  auto listed = [&](const std::string& entry) { return std::find(peers.begin(), peers.end(), entry) != peers.end(); };
  auto forget = [&](const std::string& endpoint) {
    if (advertised(endpoint)) return;
    if (const Dialer* d = dialers_.find(endpoint); d && (!d->pinned || !listed(endpoint))) dialers_.erase(endpoint);
  };
  // Entries in the transport's own syntax were pinned endpoints (start()).
  for (const auto& old : options_.static_peers)
    if (!StaticDiscovery::parseEntry(old) && !listed(old)) forget(old);
  std::vector<std::string> named;
  for (const auto& ep : peers) {
    if (StaticDiscovery::parseEntry(ep)) named.push_back(ep);
    else addEndpoint(ep);
  }
  std::unique_ptr<StaticDiscovery> replaced = std::move(static_discovery_);
  if (!named.empty()) {
    static_discovery_ = std::make_unique<StaticDiscovery>(env_, named);
    discovery_.insert(discovery_.begin(), static_discovery_.get());
  }
  if (replaced) {
    replaced->stop();
    std::erase(discovery_, replaced.get());
    // Kept entries keep their endpoints (now under the new source); dropped ones lose theirs.
    std::vector<std::string> dropped;
    for (auto it = adverts_.begin(); it != adverts_.end();) {
      if (it->first.first != replaced.get()) {
        ++it;
        continue;
      }
      const bool kept = std::any_of(named.begin(), named.end(),
                                    [&](const std::string& e) { return StaticDiscovery::keyOf(e) == it->first.second; });
      if (kept) adverts_[{static_discovery_.get(), it->first.second}] = it->second;
      else dropped.insert(dropped.end(), it->second.begin(), it->second.end());
      it = adverts_.erase(it);
    }
    for (const auto& ep : dropped) forget(ep);
  }
  options_.static_peers = std::move(peers);
  if (static_discovery_) startDiscovery(static_discovery_.get());
}

void MeshCore::setAllowList(std::optional<std::set<DeviceId>> list) {
  options_.use_allow_list = list.has_value();
  options_.allow_list = list.value_or(std::set<DeviceId>());
  if (!list) return;
  std::vector<DeviceId> unlisted;
  for (const auto& [id, p] : peers_)
    if (!list->count(id)) unlisted.push_back(id);
  for (const auto& id : unlisted) revoke(id);
}

}  // namespace meshslice
