// Store lifecycle on the wire (docs/STORES.md section 7, docs/PROTOCOL.md §7.8): an owner tells
// its peers that it deleted its slice of a store. Sent only to peers whose Hello lists
// kCapabilityLifecycle; a peer without it keeps the slice until the owner goes offline.
//
//   9 SliceRemoved [9, store:str, device:bin(20), version:uint64]
//
// `device` is the owner and must be the authenticated sender (as in a SliceUpdate). `version`
// is the last version the owner stamped for that slice: a receiver drops what it holds of the
// owner's slice in that store at that version or below (a newer SliceUpdate, from a later
// write, wins). Codes 10 and 11 are reserved for later lifecycle messages. Pure code.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/device_id.h"

namespace meshslice {

enum class LifecycleMessageType : uint8_t {
  kSliceRemoved = 9,
};

struct SliceRemoved {
  std::string store_id;  // validateStoreId()
  DeviceId device_id;    // the owner
  uint64_t version = 0;
  friend bool operator==(const SliceRemoved&, const SliceRemoved&) = default;
};

// Whether a sync message is a lifecycle one (its type code), without decoding the rest.
bool isLifecycleMessage(ByteView bytes);
// Canonical msgpack; the store ID must be valid (asserted).
Bytes encodeSliceRemoved(const SliceRemoved& message);
// Strict, bounded decoding of untrusted bytes: kMalformed (or kTooLarge for an overlong field)
// for anything that is not exactly one valid SliceRemoved. Never throws.
Result<SliceRemoved> decodeSliceRemoved(ByteView bytes);

}  // namespace meshslice
