#include "mesh/mdns.h"

#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

#include "base/log.h"
#include "mesh/dns_message.h"
#include "mesh/mdns_querier.h"
#include "mesh/mdns_responder.h"
#include "mesh/mdns_socket.h"

namespace meshslice {

struct MdnsDiscovery::InterfaceInfo {
  std::string name;
  unsigned index = 0;
  unsigned flags = 0;  // IFF_*
  std::vector<std::array<uint8_t, 4>> ipv4;
  std::vector<std::array<uint8_t, 16>> ipv6;
};

// One interface: its sockets, its responder and querier, and the timer that polls them.
class MdnsDiscovery::Link {
 public:
  Link(MdnsDiscovery& owner, InterfaceInfo info) : owner_(owner), info_(std::move(info)) {}

  Status open();
  void goodbye();
  void updateAddresses(const InterfaceInfo& info);
  bool needsReopen(const InterfaceInfo& info) const;
  const std::string& name() const { return info_.name; }
  std::string instanceName() const { return responder_ ? responder_->instanceName() : ""; }

 private:
  Status openSocket(int family, std::unique_ptr<MdnsSocket>& slot, bool ephemeral);
  void openOneShotSockets();
  // `one_shot`: it came to a one-shot socket (a unicast reply to our one-shot query).
  void onPacket(ByteView data, const MdnsEndpoint& from, bool oversize, bool one_shot);
  void onTimer();
  void send(std::vector<MdnsOutgoing> packets);
  void afterInput();

  MdnsDiscovery& owner_;
  InterfaceInfo info_;
  std::unique_ptr<MdnsSocket> v4_;
  std::unique_ptr<MdnsSocket> v6_;
  // Ephemeral-port sockets that send one-shot queries (MdnsOutgoing::one_shot) and receive
  // their unicast replies; missing ones fall back to v4_/v6_.
  std::unique_ptr<MdnsSocket> one_shot4_;
  std::unique_ptr<MdnsSocket> one_shot6_;
  std::optional<std::array<uint8_t, 4>> v4_source_;  // where v4_'s multicast leaves from
  std::string announced_as_;  // the instance label last logged as announced
  std::optional<MdnsResponder> responder_;
  std::optional<MdnsQuerier> querier_;
  std::unique_ptr<Timer> timer_;
};

Status MdnsDiscovery::Link::openSocket(int family, std::unique_ptr<MdnsSocket>& slot, bool ephemeral) {
  auto sock = std::make_unique<MdnsSocket>(owner_.loop_, [this, ephemeral](ByteView d, const MdnsEndpoint& f, bool o) {
    onPacket(d, f, o, ephemeral);
  });
  MdnsSocketOptions so;
  so.ephemeral = ephemeral;
  if (family == AF_INET && !info_.ipv4.empty()) so.ipv4_source = v4_source_ = info_.ipv4.front();
  // A named interface must be this one and no other: no silent fallback to the routing table.
  so.require_bind_to_device = !owner_.options_.interfaces.empty();
  MS_RETURN_IF_ERROR(sock->open(family, info_.name, info_.index, owner_.options_.port, so));
  slot = std::move(sock);
  return Status::ok();
}

Status MdnsDiscovery::Link::open() {
  const MdnsOptions& o = owner_.options_;
  if (o.ipv4 && !info_.ipv4.empty()) {
    Status st = openSocket(AF_INET, v4_, false);
    if (!st.isOk()) {
      MS_LOG(kWarn, "mdns") << info_.name << " IPv4: " << st.toString();
    }
  }
  // IPv6 multicast needs a multicast-capable device (lo has no route for ff02::/16).
  if (o.ipv6 && !info_.ipv6.empty() && (info_.flags & IFF_MULTICAST)) {
    Status st = openSocket(AF_INET6, v6_, false);
    if (!st.isOk()) {
      MS_LOG(kWarn, "mdns") << info_.name << " IPv6: " << st.toString();
    }
  }
  if (!v4_ && !v6_) return ioError("no usable mDNS socket on " + info_.name);
  Micros now = owner_.env_.now();
  if (o.advertise) {
    MdnsServiceConfig sc;
    sc.instance_name = o.instance_name.empty() ? makeMdnsInstanceName(o.display_name, o.device_id)
                                               : o.instance_name;
    sc.host_name = o.host_name.empty() ? makeMdnsHostName(o.device_id) : o.host_name;
    sc.device_id = o.device_id;
    sc.mesh_tag = o.mesh_tag;
    sc.service_port = o.service_port;
    sc.protocol_version = o.protocol_version;
    sc.mdns_port = o.port;
    if (v4_) sc.ipv4 = info_.ipv4;
    if (v6_) sc.ipv6 = info_.ipv6;
    responder_.emplace(std::move(sc), owner_.env_.randomU64());
    responder_->start(now);
  }
  if (o.browse) {
    if (o.unicast_first_query) openOneShotSockets();
    querier_.emplace(MdnsBrowseConfig{mdns::kServiceType, o.device_id, o.mesh_tag, info_.name,
                                      o.unicast_first_query},
                     owner_.env_.randomU64());
    querier_->start(now);
  }
  timer_ = owner_.env_.newTimer([this] { onTimer(); });
  afterInput();
  return Status::ok();
}

void MdnsDiscovery::Link::openOneShotSockets() {
  for (auto [main, slot, family] : {std::tuple{v4_.get(), &one_shot4_, AF_INET}, std::tuple{v6_.get(), &one_shot6_, AF_INET6}}) {
    if (!main) continue;
    Status st = openSocket(family, *slot, true);
    if (!st.isOk()) MS_LOG(kDebug, "mdns") << info_.name << " one-shot socket: " << st.toString();
  }
}

void MdnsDiscovery::Link::send(std::vector<MdnsOutgoing> packets) {
  for (const auto& p : packets) {
    if (p.data.empty()) continue;
    std::vector<MdnsSocket*> via;
    if (p.unicast) {
      via.push_back(p.to.address.find(':') != std::string::npos ? v6_.get() : v4_.get());
    } else if (p.one_shot) {
      if (v4_) via.push_back(one_shot4_ ? one_shot4_.get() : v4_.get());
      if (v6_) via.push_back(one_shot6_ ? one_shot6_.get() : v6_.get());
    } else {
      via = {v4_.get(), v6_.get()};
    }
    for (MdnsSocket* s : via) {
      if (!s) continue;
      Status st = p.unicast ? s->sendTo(p.data, p.to) : s->sendMulticast(p.data);
      if (st.isOk()) {
        ++owner_.stats_.packets_sent;
      } else {
        ++owner_.stats_.send_errors;
        MS_LOG(kDebug, "mdns") << info_.name << " send: " << st.toString();
      }
    }
  }
}

void MdnsDiscovery::Link::onPacket(ByteView data, const MdnsEndpoint& from, bool oversize, bool one_shot) {
  MdnsStats& stats = owner_.stats_;
  ++stats.packets_received;
  if (oversize) {
    ++stats.dropped_oversize;
    return;
  }
  auto msg = parseDnsMessage(data);
  if (!msg) {
    ++stats.dropped_malformed;
    MS_LOG(kDebug, "mdns") << "dropped from " << from.address << ": " << msg.status().toString();
    return;
  }
  // RFC 6762 §6/§11: responses come from port 5353; anything else is not an mDNS responder.
  if (msg->isResponse() && from.port != owner_.options_.port) {
    ++stats.dropped_source_port;
    return;
  }
  Micros now = owner_.env_.now();
  if (responder_ && !one_shot) send(responder_->onMessage(msg.value(), from, now));
  if (querier_) querier_->onMessage(msg.value(), now);
  afterInput();
}

void MdnsDiscovery::Link::onTimer() { afterInput(); }

// Polls both halves, sends what is due, re-arms the timer and hands events to the owner.
void MdnsDiscovery::Link::afterInput() {
  Micros now = owner_.env_.now();
  if (responder_) {
    send(responder_->poll(now));
    if (responder_->announcedInstance() != announced_as_) {
      announced_as_ = responder_->announcedInstance();
      // Tests wait for this line: from here on the records are live on the link.
      MS_LOG(kInfo, "mdns") << "announced " << responder_->instanceFullName() << " on " << info_.name;
    }
  }
  if (querier_) send(querier_->poll(now));
  std::optional<Micros> next;
  for (auto t : {responder_ ? responder_->nextDeadline() : std::nullopt,
                 querier_ ? querier_->nextDeadline() : std::nullopt}) {
    if (t && (!next || *t < *next)) next = t;
  }
  if (next) {
    timer_->start(*next - now);
  } else {
    timer_->stop();
  }
  if (!querier_) return;
  for (auto& ev : querier_->takeEvents()) owner_.onLinkPeer(*this, ev.found, ev.peer);
}

void MdnsDiscovery::Link::goodbye() {
  if (responder_) send(responder_->stop());
}

bool MdnsDiscovery::Link::needsReopen(const InterfaceInfo& info) const {
  const MdnsOptions& o = owner_.options_;
  bool want4 = o.ipv4 && !info.ipv4.empty();
  bool want6 = o.ipv6 && !info.ipv6.empty() && (info.flags & IFF_MULTICAST);
  // IPv4 multicast leaves from the first address (MdnsSocketOptions::ipv4_source).
  bool source_moved = v4_ && !info.ipv4.empty() && v4_source_ != info.ipv4.front();
  return info.index != info_.index || (want4 && !v4_) || (want6 && !v6_) || source_moved;
}

void MdnsDiscovery::Link::updateAddresses(const InterfaceInfo& info) {
  info_.ipv4 = info.ipv4;
  info_.ipv6 = info.ipv6;
  if (!responder_) return;
  responder_->setAddresses(v4_ ? info.ipv4 : decltype(info.ipv4){},
                           v6_ ? info.ipv6 : decltype(info.ipv6){}, owner_.env_.now());
  afterInput();
}

// ---- MdnsDiscovery ----

MdnsDiscovery::MdnsDiscovery(Env& env, uv_loop_t* loop, MdnsOptions options)
    : env_(env), loop_(loop), options_(std::move(options)), token_(std::make_shared<int>(0)) {}

MdnsDiscovery::~MdnsDiscovery() { stop(); }

std::map<std::string, MdnsDiscovery::InterfaceInfo> MdnsDiscovery::scanInterfaces() const {
  std::map<std::string, InterfaceInfo> out;
  uv_interface_address_t* addrs = nullptr;
  int count = 0;
  if (uv_interface_addresses(&addrs, &count) != 0) return out;
  int probe_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  for (int i = 0; i < count; ++i) {
    const auto& a = addrs[i];
    auto [it, fresh] = out.try_emplace(a.name);
    InterfaceInfo& info = it->second;
    if (fresh) {
      info.name = a.name;
      info.index = if_nametoindex(a.name);
      ifreq req{};
      std::strncpy(req.ifr_name, a.name, IFNAMSIZ - 1);
      if (probe_fd >= 0 && ioctl(probe_fd, SIOCGIFFLAGS, &req) == 0) {
        info.flags = static_cast<unsigned short>(req.ifr_flags);
      }
    }
    if (a.address.address4.sin_family == AF_INET) {
      auto& v = info.ipv4.emplace_back();
      std::memcpy(v.data(), &a.address.address4.sin_addr, 4);
    } else if (a.address.address6.sin6_family == AF_INET6) {
      auto& v = info.ipv6.emplace_back();
      std::memcpy(v.data(), &a.address.address6.sin6_addr, 16);
    }
  }
  if (probe_fd >= 0) ::close(probe_fd);
  uv_free_interface_addresses(addrs, count);
  // Keep only the interfaces we were asked for.
  std::erase_if(out, [&](const auto& kv) {
    const InterfaceInfo& info = kv.second;
    if (!(info.flags & IFF_UP) || info.index == 0) return true;
    if (!options_.interfaces.empty()) {
      return std::find(options_.interfaces.begin(), options_.interfaces.end(), info.name) ==
             options_.interfaces.end();
    }
    return !(info.flags & IFF_MULTICAST);
  });
  return out;
}

Status MdnsDiscovery::openLink(const InterfaceInfo& info) {
  auto link = std::make_unique<Link>(*this, info);
  Link* raw = link.get();
  links_[info.name] = std::move(link);  // in place before open(): events may name it
  Status st = raw->open();
  if (!st.isOk()) {
    links_.erase(info.name);
    return st;
  }
  MS_LOG(kInfo, "mdns") << "link up on " << info.name;
  return Status::ok();
}

void MdnsDiscovery::closeLink(const std::string& name, bool goodbye) {
  auto it = links_.find(name);
  if (it == links_.end()) return;
  if (goodbye) it->second->goodbye();
  links_.erase(it);
  for (auto seen = seen_.begin(); seen != seen_.end();) {
    std::string key = seen->first;
    ++seen;
    if (seen_[key].erase(name)) report(key);
  }
  MS_LOG(kInfo, "mdns") << "link down on " << name;
}

Status MdnsDiscovery::start(Events events) {
  assert(!running_ && "MdnsDiscovery::start called twice");
  events_ = std::move(events);
  running_ = true;
  for (const auto& [name, info] : scanInterfaces()) {
    Status st = openLink(info);
    if (!st.isOk()) {
      MS_LOG(kWarn, "mdns") << st.toString();
    }
  }
  if (!options_.interfaces.empty() && links_.empty()) {
    stop();
    return ioError("mdns: none of the configured interfaces could be opened");
  }
  scan_timer_ = env_.newTimer([this] {
    rescan();
    scan_timer_->start(options_.interface_scan_interval);
  });
  scan_timer_->start(options_.interface_scan_interval);
  return Status::ok();
}

void MdnsDiscovery::rescan() {
  auto now = scanInterfaces();
  std::vector<std::string> gone;
  for (const auto& [name, link] : links_) {
    auto it = now.find(name);
    if (it == now.end() || link->needsReopen(it->second)) gone.push_back(name);
  }
  for (const auto& name : gone) closeLink(name, now.count(name) > 0);
  for (const auto& [name, info] : now) {
    auto it = links_.find(name);
    if (it != links_.end()) {
      it->second->updateAddresses(info);
      continue;
    }
    Status st = openLink(info);
    if (!st.isOk()) {
      MS_LOG(kDebug, "mdns") << st.toString();
    }
  }
}

void MdnsDiscovery::stop() {
  if (!running_) return;
  running_ = false;
  for (auto& [name, link] : links_) link->goodbye();
  links_.clear();
  scan_timer_.reset();
  seen_.clear();
  reported_.clear();
  queued_.clear();
  events_ = {};
}

void MdnsDiscovery::onLinkPeer(Link& link, bool found, const DiscoveredPeer& peer) {
  if (found) {
    seen_[peer.key][link.name()] = peer;
  } else {
    auto it = seen_.find(peer.key);
    if (it == seen_.end()) return;
    it->second.erase(link.name());
  }
  report(peer.key);
}

// Merges what every link sees of `key` and queues found/lost when the merged view changed.
void MdnsDiscovery::report(const std::string& key) {
  std::optional<DiscoveredPeer> merged;
  auto seen = seen_.find(key);
  if (seen != seen_.end()) {
    for (const auto& [link, peer] : seen->second) {
      if (!merged) {
        merged = peer;
        continue;
      }
      for (const auto& ep : peer.endpoints) {
        if (std::find(merged->endpoints.begin(), merged->endpoints.end(), ep) ==
            merged->endpoints.end()) {
          merged->endpoints.push_back(ep);
        }
      }
    }
    if (seen->second.empty()) seen_.erase(seen);
  }
  auto old = reported_.find(key);
  if (!merged) {
    if (old == reported_.end()) return;
    reported_.erase(old);
    DiscoveredPeer lost;
    lost.key = key;
    queued_.emplace_back(false, std::move(lost));
  } else {
    if (old != reported_.end() && old->second.endpoints == merged->endpoints &&
        old->second.device_id == merged->device_id &&
        old->second.protocol_version == merged->protocol_version) {
      return;
    }
    reported_[key] = *merged;
    queued_.emplace_back(true, *merged);
  }
  if (flush_posted_) return;
  flush_posted_ = true;
  // Delivered on a later turn: the handler may stop() us without pulling a socket or timer
  // out from under its own callback.
  env_.post([this, alive = std::weak_ptr<int>(token_)] {
    if (!alive.lock()) return;
    flush_posted_ = false;
    auto batch = std::exchange(queued_, {});
    for (auto& [found, peer] : batch) {
      if (!running_) return;
      if (found && events_.found) events_.found(peer);
      if (!found && events_.lost) events_.lost(peer.key);
    }
  });
}

std::vector<std::string> MdnsDiscovery::activeInterfaces() const {
  std::vector<std::string> out;
  for (const auto& [name, link] : links_) out.push_back(name);
  return out;
}

std::string MdnsDiscovery::instanceName() const {
  return links_.empty() ? std::string() : links_.begin()->second->instanceName();
}

}  // namespace meshslice
