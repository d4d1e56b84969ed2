// Slice deltas (docs/STORES.md section 5; wire form docs/PROTOCOL.md §7.4 and §7.5): a newer
// version of a slice described as copies from a base version the receiver holds plus literal
// bytes, and the receiver's refusal of one. Pure code: the diff, its application, the message
// codec. Thread-safe, no state.
//
// A delta names its base exactly (base version + the owner's incarnation that stamped it) and
// carries the size and the BLAKE2b-256 digest of the full result. The receiver applies it only
// on top of that exact base and accepts the result only if its digest matches: a delta can
// yield the one value its sender meant or nothing. (A signature over the digest therefore
// covers a value that arrived as a delta too.)
//
//   6 SliceDelta   [6, store, device, base_version, base_incarnation, version, updated_at,
//                   incarnation, size, digest:bin(32), ops:[op...]]
//                  op = [base_offset, length] (copy) | bin (literal bytes)
//   7 DeltaRefused [7, store, version, reason]
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/device_id.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

// The first protocol version with deltas; a link uses them only when it negotiated at least
// this and the peer's Hello lists kCapabilityDelta.
inline constexpr uint32_t kDeltaProtocolVersion = 3;

inline constexpr size_t kSliceDigestSize = 32;
using SliceDigest = std::array<uint8_t, kSliceDigestSize>;
// BLAKE2b-256 (unkeyed) of a slice's data: what a delta's result is checked against.
SliceDigest sliceDigest(ByteView data);

// Wire limit: operations in one delta (the msgpack container limit).
inline constexpr size_t kMaxDeltaOps = 4096;

enum class DeltaMessageType : uint8_t {
  kSliceDelta = 6,
  kDeltaRefused = 7,
  kSliceDeltaTree = 8,
};

// What a SliceDelta's digest is: sliceDigest() of the result (type 6, every delta peer) or its
// tree root (type 8, peers with kCapabilityDeltaTree), which the receiver updates from the
// leaves it keeps for the base instead of hashing the whole result.
enum class DeltaDigest : uint8_t {
  kValue = 0,
  kTree = 1,
};

struct SliceTree;

// One step of rebuilding the new data: copy `length` bytes from `offset` of the base, or
// append `literal`. Lengths are >= 1 on the wire.
struct DeltaOp {
  bool copy = false;
  uint64_t offset = 0;  // copy only
  uint64_t length = 0;  // copy only
  Bytes literal;        // literal only
  friend bool operator==(const DeltaOp&, const DeltaOp&) = default;
};

struct SliceDelta {
  std::string store_id;
  DeviceId device_id;              // the owner; must be the authenticated sender
  uint64_t base_version = 0;       // the version the receiver must hold...
  uint64_t base_incarnation = 0;   // ...stamped by this incarnation of the owner (nonzero)
  uint64_t version = 0;            // the new slice: version, updated_at, incarnation as in a
  int64_t updated_at = 0;          // SliceUpdate
  uint64_t incarnation = 0;
  uint64_t size = 0;               // bytes of the new data, <= kMaxSliceData
  SliceDigest digest{};            // sliceDigest() or the tree root of the new data
  DeltaDigest digest_kind = DeltaDigest::kValue;  // the message type: 6 or 8
  std::vector<DeltaOp> ops;        // <= kMaxDeltaOps
  friend bool operator==(const SliceDelta&, const SliceDelta&) = default;
};

// Why a receiver refused a delta; it then expects the full slice.
enum class DeltaRefusal : uint8_t {
  kUnknownBase = 1,     // it does not hold the base (another version or incarnation, or none)
  kDigestMismatch = 2,  // the result's digest is not the one the delta names
  kMalformed = 3,       // an op outside the base, a result of another size, over the limit
};
inline constexpr uint64_t kMaxDeltaRefusal = 3;
const char* deltaRefusalName(DeltaRefusal reason);

struct DeltaRefused {
  std::string store_id;  // the receiver's request concerns the owner's (recipient's) own slice
  uint64_t version = 0;  // the version the refused delta carried
  DeltaRefusal reason = DeltaRefusal::kUnknownBase;
  friend bool operator==(const DeltaRefused&, const DeltaRefused&) = default;
};

using DeltaMessage = std::variant<SliceDelta, DeltaRefused>;

// The type code of a sync message (its first array element) without decoding the rest;
// nullopt if the bytes do not start with an array and an unsigned integer.
std::optional<uint64_t> peekSyncMessageType(ByteView bytes);
inline bool isDeltaMessage(ByteView bytes) {
  auto type = peekSyncMessageType(bytes);
  return type == uint64_t(DeltaMessageType::kSliceDelta) || type == uint64_t(DeltaMessageType::kDeltaRefused) ||
         type == uint64_t(DeltaMessageType::kSliceDeltaTree);
}

// kInvalidArgument / kTooLarge naming the field that breaks a limit.
Status validateDeltaMessage(const DeltaMessage& message);
// Canonical msgpack; the message must pass validateDeltaMessage() (asserted).
Bytes encodeDeltaMessage(const DeltaMessage& message);
// Strict, bounded decoding of untrusted bytes (kMalformed / kTooLarge). The ops are checked
// for form only; whether they fit a base is applySliceDelta()'s job.
Result<DeltaMessage> decodeDeltaMessage(ByteView bytes);

// The ops that rebuild `target` from `base`, or nullopt if they would encode to more than
// `max_encoded` bytes or need more than kMaxDeltaOps ops (the caller then sends the full
// data). Exact: applying them to `base` yields `target`.
std::optional<std::vector<DeltaOp>> computeDeltaOps(ByteView base, ByteView target, size_t max_encoded);
// Bytes the ops take in an encoded SliceDelta.
size_t encodedOpsSize(const std::vector<DeltaOp>& ops);

// Rebuilds the new data from `base` and checks it: kMalformed for an op outside the base, a
// zero-length op, a result whose size is not delta.size or above kMaxSliceData; kAuthFailed
// if its digest is not delta.digest. `why` (if given) receives the refusal reason on error.
// A tree digest is checked with sliceTreeAfter() from `base_tree`, which must be the tree of
// `base` (null: computed from `base`, a full hash); the result's tree goes to `result_tree`.
Result<Bytes> applySliceDelta(ByteView base, const SliceDelta& delta, DeltaRefusal* why = nullptr,
                              const SliceTree* base_tree = nullptr, SliceTree* result_tree = nullptr);

}  // namespace meshslice
