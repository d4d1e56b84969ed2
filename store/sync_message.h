// Store sync payloads, carried in bus Messages on the reserved namespace "ms.sync"
// (docs/PROTOCOL.md, "Sync messages"). Each is one msgpack array led by its type code:
//   1 SliceUpdate  [1, store:str, device:bin(20), version:uint64, updated_at:int64, data:bin,
//                   incarnation:uint64]
//   2 SliceRequest [2, stores:[str...]]          (empty = every store)
//   3 Digest       [3, entries:[[store:str, device:bin(20), version:uint64, incarnation:uint64]...]]
// The incarnation fields exist from protocol version 2 on (kIncarnationProtocolVersion): a
// link that negotiated version 1 gets the older forms without them (6-element SliceUpdate,
// 3-element digest entries). The decoder accepts both forms on any link; a missing
// incarnation reads as 0 ("unknown"). Decoding is strict and bounded; encoding is canonical.
// Pure functions, thread-safe.
//
// A decoded SliceUpdate's device is the sender's claim: the adapter accepts it only if it
// equals the device the link authenticated (DESIGN.md section 3).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/protocol_constants.h"
#include "mesh/device_id.h"
#include "store/device_slice.h"

namespace meshslice {

inline constexpr std::string_view kSyncNamespace = "ms.sync";
// The first protocol version whose sync messages carry incarnations.
inline constexpr uint32_t kIncarnationProtocolVersion = 2;

enum class SyncMessageType : uint8_t {
  kSliceUpdate = 1,
  kSliceRequest = 2,
  kDigest = 3,
};

struct SliceUpdate {
  std::string store_id;  // validateStoreId()
  DeviceSlice slice;     // slice.data <= kMaxSliceData
  // The sender's run of this store (a random nonce per store registration; 0 = unknown): who
  // holds this version with this incarnation holds exactly what that run stamped.
  uint64_t incarnation = 0;
  friend bool operator==(const SliceUpdate&, const SliceUpdate&) = default;
};

struct SliceRequest {
  std::vector<std::string> store_ids;  // empty = all stores; <= kMaxSyncEntries
  friend bool operator==(const SliceRequest&, const SliceRequest&) = default;
};

struct DigestEntry {
  std::string store_id;
  DeviceId device_id;
  uint64_t version = 0;
  // The owner's incarnation the holder got this version from (0 = unknown).
  uint64_t incarnation = 0;
  friend bool operator==(const DigestEntry&, const DigestEntry&) = default;
};

struct Digest {
  std::vector<DigestEntry> entries;  // <= kMaxSyncEntries
  friend bool operator==(const Digest&, const Digest&) = default;
};

using SyncMessage = std::variant<SliceUpdate, SliceRequest, Digest>;

SyncMessageType syncMessageType(const SyncMessage& message);

// kInvalidArgument / kTooLarge naming the field that breaks a limit.
Status validateSyncMessage(const SyncMessage& message);

// Canonical msgpack encoding for a link of `protocol_version`; always fits a bus payload
// (kMaxPayloadSize). Below kIncarnationProtocolVersion the incarnations are left out. The
// message must pass validateSyncMessage() (asserted).
Bytes encodeSyncMessage(const SyncMessage& message, uint32_t protocol_version = kProtocolVersion);

// The SliceUpdate of `slice` without building a SliceUpdate (no copy of the data); the same
// bytes as encodeSyncMessage(SliceUpdate{store_id, slice, incarnation}, protocol_version).
Bytes encodeSliceUpdate(std::string_view store_id, const DeviceSlice& slice, uint64_t incarnation,
                        uint32_t protocol_version = kProtocolVersion);

// Splits digest entries into messages of at most `max_entries` (kMaxSyncEntries on the wire).
std::vector<Digest> splitDigest(std::vector<DigestEntry> entries, size_t max_entries = kMaxSyncEntries);

// Decodes one sync message from untrusted bytes: kTooLarge for a size limit, kMalformed for
// anything else that is not exactly one valid message. Never throws.
Result<SyncMessage> decodeSyncMessage(ByteView bytes);

}  // namespace meshslice
