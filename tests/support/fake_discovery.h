// FakeDiscovery: the injectable discovery source for tests (mesh/discovery.h). The test says
// what is found and lost; the fake keeps DiscoverySource's contract: nothing is delivered
// before start(), after stop(), or ever if start() failed (set `start_status` to make it fail).
// Events are delivered at once, from the test's own call: tests using it drive the loop
// themselves (FakeEnv), so the test's thread is the loop thread.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mesh/discovery.h"

namespace meshslice::test {

class FakeDiscovery final : public DiscoverySource {
 public:
  Status start(Events events) override {
    ++starts;
    if (!start_status.isOk()) return start_status;
    events_ = std::move(events);
    running_ = true;
    return Status::ok();
  }
  void stop() override {
    ++stops;
    running_ = false;
    events_ = {};
  }

  // A new advert, or new endpoints for one. Returns whether it was delivered.
  bool announce(const DiscoveredPeer& peer) {
    if (!running_ || !events_.found) return false;
    auto found = events_.found;  // the handler may stop() us
    found(peer);
    return true;
  }
  bool withdraw(const std::string& key) {
    if (!running_ || !events_.lost) return false;
    auto lost = events_.lost;
    lost(key);
    return true;
  }
  bool running() const { return running_; }

  // A full advert as mDNS would report it.
  static DiscoveredPeer advert(std::string key, std::string device_id, std::vector<std::string> endpoints) {
    DiscoveredPeer p;
    p.key = std::move(key);
    p.device_id = std::move(device_id);
    p.endpoints = std::move(endpoints);
    p.protocol_version = 1;
    return p;
  }

  Status start_status = Status::ok();
  int starts = 0;
  int stops = 0;

 private:
  Events events_;
  bool running_ = false;
};

}  // namespace meshslice::test
