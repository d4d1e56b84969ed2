// StoreError: a failure of store sync that nothing returns to a caller (it happens on the loop
// thread, in answer to a peer), reported to the store's users by phase through
// StoreSyncAdapter::setErrorHook. Every such failure is also counted in SyncStats and logged.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "mesh/device_id.h"

namespace meshslice {

enum class StorePhase {
  kDecode,    // a sync message from a peer did not decode (SyncStats::malformed)
  kApply,     // the store refused a peer's slice, e.g. not a value of its type (slices_rejected)
  kPersist,   // our slice could not be saved after a version repair (persist_errors)
  kSend,      // a sync message could not be handed to the link (send_errors)
  kContract,  // the peer's store contract is incompatible with ours (contract_mismatches)
};

// "decode", "apply", "persist", "send", "contract"; "unknown" for a value out of range.
const char* storePhaseName(StorePhase phase);

struct StoreError {
  StorePhase phase = StorePhase::kDecode;
  // The store concerned; "" when the failure names none (a message that did not decode, or
  // a digest or request covering several stores that could not be sent).
  std::string store;
  // The peer concerned (decode, apply, send, contract), or this device for kPersist (the slice
  // that was not saved is ours).
  DeviceId device;
  Status status;  // never OK
};

using StoreErrorHook = std::function<void(const StoreError&)>;

}  // namespace meshslice
