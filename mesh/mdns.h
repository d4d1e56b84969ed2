// MdnsDiscovery: the mDNS/DNS-SD discovery source (RFC 6762/6763) on libuv UDP. It advertises
// our `_meshslice._tcp.local` instance and browses for the instances of our mesh, on IPv4
// (224.0.0.251) and IPv6 (ff02::fb), on a configured list of interfaces or on every
// multicast-capable interface that is up, following interfaces that come and go.
//
// Each interface is one link with its own sockets, MdnsResponder and MdnsQuerier (the pure
// protocol logic); this class only moves packets and merges the links' events.
//
// Threading and lifetime: construct, start(), stop() and destroy on the loop thread of `loop`;
// `env` and `loop` must outlive this object. Events run on the loop thread. All handles are
// closed by stop() (the destructor calls it), after which the loop can close.
// Everything received is untrusted: bad packets are dropped and counted in stats().
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "base/env.h"
#include "mesh/discovery.h"
#include "mesh/mdns_constants.h"

namespace meshslice {

struct MdnsOptions {
  // Interface names; empty means every multicast-capable interface that is up. Naming an
  // interface (such as "lo") uses it even without the MULTICAST flag, for IPv4.
  std::vector<std::string> interfaces;
  uint16_t port = mdns::kPort;      // tests may use another port; peers must use the same
  std::string device_id;            // TXT "id"; also how we recognise our own adverts
  std::string mesh_tag;             // TXT "mesh"; adverts of other meshes are ignored
  std::string display_name;         // for the default instance name
  std::string instance_name;        // empty: makeMdnsInstanceName(display_name, device_id)
  std::string host_name;            // without ".local"; empty: makeMdnsHostName(device_id)
  uint16_t service_port = 0;        // our TCP listener
  uint32_t protocol_version = 1;    // TXT "v"
  bool ipv4 = true;
  bool ipv6 = true;
  bool advertise = true;            // run the responder
  bool browse = true;               // run the querier
  // The first query of each link is a one-shot query from the link's own ephemeral-port
  // socket (MdnsBrowseConfig::unicast_first_query, MdnsOutgoing::one_shot): running peers
  // answer a starting node by unicast at once, and the reply reaches it even when other
  // responders on its host share the mDNS port.
  bool unicast_first_query = true;
  Micros interface_scan_interval = 5 * kSeconds;
};

struct MdnsStats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t send_errors = 0;
  uint64_t dropped_malformed = 0;    // failed to parse
  uint64_t dropped_oversize = 0;     // larger than kDnsMaxPacketSize
  uint64_t dropped_source_port = 0;  // a response not from the mDNS port
};

class MdnsDiscovery final : public DiscoverySource {
 public:
  MdnsDiscovery(Env& env, uv_loop_t* loop, MdnsOptions options);
  ~MdnsDiscovery() override;
  MdnsDiscovery(const MdnsDiscovery&) = delete;
  MdnsDiscovery& operator=(const MdnsDiscovery&) = delete;

  // Opens the links and starts probing and browsing. Fails if interfaces were named and none
  // of them could be opened (then nothing stays open and no event is delivered).
  Status start(Events events) override;
  // Sends goodbyes on every link, closes every handle. No events after it returns. May be
  // called from an event handler; destroying the object from one is not allowed.
  void stop() override;

  const MdnsStats& stats() const { return stats_; }
  // Names of the interfaces with an open link.
  std::vector<std::string> activeInterfaces() const;
  // Our instance label on the first link (after conflict renames), or "" with no link.
  std::string instanceName() const;

 private:
  class Link;
  struct InterfaceInfo;

  std::map<std::string, InterfaceInfo> scanInterfaces() const;
  void rescan();
  Status openLink(const InterfaceInfo& info);
  void closeLink(const std::string& name, bool goodbye);
  void onLinkPeer(Link& link, bool found, const DiscoveredPeer& peer);
  void report(const std::string& key);

  Env& env_;
  uv_loop_t* loop_;
  MdnsOptions options_;
  Events events_;
  bool running_ = false;
  MdnsStats stats_;
  std::map<std::string, std::unique_ptr<Link>> links_;
  // Per advert key, what each link currently sees; the merged view is what was reported.
  std::map<std::string, std::map<std::string, DiscoveredPeer>> seen_;
  std::map<std::string, DiscoveredPeer> reported_;
  std::vector<std::pair<bool, DiscoveredPeer>> queued_;  // found?, peer: awaiting delivery
  bool flush_posted_ = false;
  std::shared_ptr<int> token_;  // posted deliveries hold a weak_ptr: dead once we are gone
  std::unique_ptr<Timer> scan_timer_;
  friend class Link;
};

}  // namespace meshslice
