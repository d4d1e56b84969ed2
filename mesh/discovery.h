// Discovery sources tell the mesh where peers of its mesh can be reached. Three implementations
// share this interface: mDNS/DNS-SD (MdnsDiscovery, mesh/mdns.h), the static peer list with
// names resolved (StaticDiscovery, mesh/static_discovery.h), and the injectable test source
// (FakeDiscovery, tests/support/fake_discovery.h). What MeshCore does with their events:
// mesh/mesh_core.h. All callbacks run on the node's loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace meshslice {

struct DiscoveredPeer {
  // Stable key for this advert, e.g. the DNS-SD instance name or "static:host:port".
  std::string key;
  // Device ID text as advertised (may be empty for static peers: the link authenticates it).
  std::string device_id;
  // Reachable endpoints, "host:port" ("[v6]:port" for IPv6), best first.
  std::vector<std::string> endpoints;
  uint32_t protocol_version = 0;
};

class DiscoverySource {
 public:
  struct Events {
    std::function<void(const DiscoveredPeer&)> found;  // new advert or changed endpoints
    std::function<void(const std::string& key)> lost;  // goodbye or TTL expiry
  };
  virtual ~DiscoverySource() = default;
  // Starts advertising/browsing. If it fails, no event is ever delivered.
  virtual Status start(Events events) = 0;
  // Stops, sending goodbyes where the mechanism has them. No events after this returns.
  virtual void stop() = 0;
};

}  // namespace meshslice
