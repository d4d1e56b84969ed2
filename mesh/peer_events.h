// Peer lifecycle events, delivered on the node's loop thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mesh/device_id.h"

namespace meshslice {

enum class LeaveReason {
  kGoodbye,   // the peer said goodbye (graceful stop)
  kTimeout,   // nothing heard for the liveness timeout
  kLinkLost,  // the link closed and no new one came within the grace period
  kRevoked,   // removed from the allow-list
  kStopped,   // this node is stopping
  // Store lifecycle only, never a peer eviction (so not in kLeaveReasonCount): the owner
  // deleted its slice of the store (store/slice_removal.h).
  kRemoved,
};
inline constexpr size_t kLeaveReasonCount = 5;  // the reasons a peer can leave for
const char* leaveReasonName(LeaveReason reason);

struct PeerInfo {
  DeviceId id;
  std::string name;
  std::string address;  // remote address of the current link
  uint32_t protocol_version = 0;
  // From the peer's Hello, as sent (kCapability* names, and any it knows that we do not).
  std::vector<std::string> capabilities;
};

struct PeerJoined {
  PeerInfo peer;
};
struct PeerUpdated {
  PeerInfo peer;
};
struct PeerLeft {
  DeviceId id;
  LeaveReason reason;
};

class PeerObserver {
 public:
  virtual void onPeerJoined(const PeerJoined&) {}
  virtual void onPeerUpdated(const PeerUpdated&) {}
  virtual void onPeerLeft(const PeerLeft&) {}
  // A (new) authenticated session with an already known peer is up, e.g. after a reconnect
  // within the grace period: state exchange should run again. Follows onPeerJoined too.
  virtual void onPeerLinked(const DeviceId&) {}
  // The queue towards a peer drained after it had filled up: a good time to send what was
  // held back (coalesced state) to that peer.
  virtual void onPeerDrained(const DeviceId&) {}

 protected:
  ~PeerObserver() = default;
};

}  // namespace meshslice
