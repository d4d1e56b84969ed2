// Numbers fixed by the wire protocol (docs/PROTOCOL.md). Changing any of them changes the
// protocol: bump kProtocolVersion. Tuning knobs (timeouts, queue sizes) live in the options
// structs instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "transport/link.h"  // kMaxFrameBody: one Noise transport message

namespace meshslice {

// Protocol versions this build speaks. A peer is compatible if the ranges overlap; the current
// and previous versions are accepted for rolling upgrades. Version 2 added incarnations to the
// sync messages (store/sync_message.h); a link that negotiates 1 gets the version 1 forms.
// Version 3 features are used on a link only when it negotiated 3 and the peer's Hello lists
// their capability (slice deltas: kCapabilityDelta, store/slice_delta.h); otherwise the link
// behaves as version 2.
inline constexpr uint32_t kProtocolVersion = 3;
inline constexpr uint32_t kMinProtocolVersion = 1;

// Envelope type codes: the first element of every envelope array.
enum class EnvelopeType : uint8_t {
  kHello = 1,
  kHeartbeat = 2,
  kGoodbye = 3,
  kMessage = 4,
  kRequest = 5,
  kReply = 6,
};

// Reply status codes.
enum class ReplyCode : uint8_t {
  kOk = 0,
  kNoHandler = 1,
  kError = 2,
};
inline constexpr uint64_t kMaxReplyCode = 2;

// Size limits.
inline constexpr size_t kMaxSliceData = 1024 * 1024;              // one device slice's data
inline constexpr size_t kMaxMessageSize = kMaxSliceData + 64 * 1024;  // one encoded envelope
// Worst-case bytes an envelope adds around its payload (Request: array header, type, uint32 id,
// str8 namespace of 64 bytes, bin32 header = 78 bytes), rounded up.
inline constexpr size_t kMaxEnvelopeOverhead = 128;
// Largest payload of a Message, Request or Reply: any valid envelope encodes to at most
// kMaxMessageSize bytes.
inline constexpr size_t kMaxPayloadSize = kMaxMessageSize - kMaxEnvelopeOverhead;
inline constexpr size_t kDeviceIdSize = 20;
inline constexpr size_t kMaxNamespaceLength = 64;
inline constexpr size_t kMaxStoreIdLength = 64;
inline constexpr size_t kMaxNameLength = 64;        // device display name, bytes of UTF-8
inline constexpr size_t kMaxCapabilities = 16;
inline constexpr size_t kMaxCapabilityLength = 32;  // same syntax as a namespace
inline constexpr size_t kMaxReasonLength = 256;     // goodbye reason, bytes of UTF-8
inline constexpr uint64_t kMaxRequestId = 0xFFFFFFFF;
inline constexpr size_t kMaxSyncEntries = 4096;     // digest entries / requested stores

// Capabilities: protocol features a node announces in its Hello (docs/PROTOCOL.md §6.1). The
// receiver keeps the peer's list in PeerInfo::capabilities; unknown names are kept as data and
// never an error. In protocol version 1 no behaviour depends on them.
inline constexpr std::string_view kCapabilityBus = "bus";    // Message envelopes (publish, send)
inline constexpr std::string_view kCapabilityRpc = "rpc";    // Request / Reply envelopes
inline constexpr std::string_view kCapabilitySync = "sync";  // store sync on namespace ms.sync (§7)
inline constexpr std::string_view kCapabilityDelta = "delta";  // slice deltas (§7.4, version 3)
// Deltas checked by a tree digest (§7.6, type 8); only with kCapabilityDelta.
inline constexpr std::string_view kCapabilityDeltaTree = "delta-tree";
inline constexpr std::string_view kCapabilityContract = "contract";    // store contracts (§7.7)
inline constexpr std::string_view kCapabilityLifecycle = "lifecycle";  // SliceRemoved (§7.8)
// What this build implements, in the order it sends them.
inline constexpr std::string_view kBuildCapabilities[] = {kCapabilityBus,      kCapabilityRpc,       kCapabilitySync,
                                                          kCapabilityDelta,    kCapabilityDeltaTree, kCapabilityContract,
                                                          kCapabilityLifecycle};

// Namespaces starting with this prefix, in any letter case, belong to the library ("ms.sync").
inline constexpr std::string_view kReservedNamespacePrefix = "ms.";

// Namespace syntax: 1..64 characters of [A-Za-z0-9._-], the first alphanumeric. With
// allow_reserved == false, "ms."-prefixed namespaces are refused (application calls); the wire
// decoder allows them. Returns kInvalidArgument with a message naming the problem.
Status validateNamespace(std::string_view ns, bool allow_reserved);
// Store IDs use the namespace syntax; no prefix is reserved.
Status validateStoreId(std::string_view id);
// Device display names: at most kMaxNameLength bytes of UTF-8, no control characters; may be
// empty.
Status validateDeviceName(std::string_view name);
// Capability names in Hello: the namespace syntax, at most kMaxCapabilityLength characters.
Status validateCapability(std::string_view cap);

}  // namespace meshslice
