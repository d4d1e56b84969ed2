// Store sync payloads, carried in bus Messages on the reserved namespace "ms.sync"
// (docs/PROTOCOL.md, "Sync messages"). Each is one msgpack array led by its type code:
//   1 SliceUpdate  [1, store:str, device:bin(20), version:uint64, updated_at:int64, data:bin]
//   2 SliceRequest [2, stores:[str...]]          (empty = every store)
//   3 Digest       [3, entries:[[store:str, device:bin(20), version:uint64]...]]
// Decoding is strict and bounded; encoding is canonical. Pure functions, thread-safe.
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
#include "mesh/device_id.h"
#include "store/device_slice.h"

namespace meshslice {

inline constexpr std::string_view kSyncNamespace = "ms.sync";

enum class SyncMessageType : uint8_t {
  kSliceUpdate = 1,
  kSliceRequest = 2,
  kDigest = 3,
};

struct SliceUpdate {
  std::string store_id;  // validateStoreId()
  DeviceSlice slice;     // slice.data <= kMaxSliceData
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

// Canonical msgpack encoding; always fits a bus payload (kMaxPayloadSize). The message must
// pass validateSyncMessage() (asserted).
Bytes encodeSyncMessage(const SyncMessage& message);

// Decodes one sync message from untrusted bytes: kTooLarge for a size limit, kMalformed for
// anything else that is not exactly one valid message. Never throws.
Result<SyncMessage> decodeSyncMessage(ByteView bytes);

}  // namespace meshslice
