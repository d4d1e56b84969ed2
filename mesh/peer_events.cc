#include "mesh/peer_events.h"

namespace meshslice {

const char* leaveReasonName(LeaveReason reason) {
  switch (reason) {
    case LeaveReason::kGoodbye: return "goodbye";
    case LeaveReason::kTimeout: return "timeout";
    case LeaveReason::kLinkLost: return "link-lost";
    case LeaveReason::kRevoked: return "revoked";
    case LeaveReason::kStopped: return "stopped";
    case LeaveReason::kRemoved: return "removed";
  }
  return "?";
}

}  // namespace meshslice
