// Membership messages (SWIM + Lifeguard class, mesh/membership.h): the msgpack forms of the
// probe, ack, indirect probe request, nack and gossip messages. They use the envelope type
// codes 7-11 reserved for membership (docs/PROTOCOL.md §13): each message is one msgpack array
// whose first element is its type code, so a later session can carry them as envelopes on a
// link that negotiated protocol 4 and capability "member". Not sent by MeshCore yet.
//
//   7  Ping     [7, sender_epoch, seq, updates]
//   8  Ack      [8, sender_epoch, seq, updates]
//   9  PingReq  [9, sender_epoch, seq, target:bin(20), updates]
//   10 Nack     [10, sender_epoch, seq, updates]
//   11 Gossip   [11, sender_epoch, updates]
//   update:     [member:bin(20), state:0..2, member_epoch, origin:bin(20)]
//
// The sender's device ID is not in the message: the link authenticated it (DESIGN.md §3).
// Decoding is strict (exact arity and types, every limit below) and bounded; encoding is
// canonical. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/device_id.h"

namespace meshslice {

// A member's own incarnation counter: only the member itself raises it (to refute a suspicion
// about it). Not related to store incarnations (store/sync_message.h).
using MemberEpoch = uint64_t;

enum class MemberMessageType : uint8_t {
  kPing = 7,
  kAck = 8,
  kPingReq = 9,
  kNack = 10,
  kGossip = 11,
};

enum class MemberState : uint8_t {
  kAlive = 0,
  kSuspect = 1,
  kDead = 2,
};

// Capability a node will announce once it sends these messages (not in kBuildCapabilities yet).
inline constexpr std::string_view kCapabilityMember = "member";
// Wire limits.
inline constexpr size_t kMaxMemberUpdates = 16;            // updates piggybacked on one message
inline constexpr MemberEpoch kMaxMemberEpoch = (uint64_t{1} << 53) - 1;  // exact in JSON/JS
inline constexpr uint64_t kMaxMemberSeq = 0xFFFFFFFF;
// Largest encoded message: array header, type, uint64, uint32, bin20 target, array16 of
// kMaxMemberUpdates updates of at most 1 + 22 + 1 + 9 + 22 bytes. Anything longer is refused
// before msgpack sees it.
inline constexpr size_t kMaxMemberMessageSize = 1 + 1 + 9 + 5 + 22 + 3 + kMaxMemberUpdates * 55;

// One piece of gossip: `origin` says `member` is in `state` at `epoch`. For kSuspect and kDead
// the origin is the accuser (a claim, relayed by others; used to count independent
// confirmations, never to evict on its own). kAlive updates are not gossiped: a member's
// liveness at an epoch is only believed from the member itself (the sender_epoch header).
struct MemberUpdate {
  DeviceId member;
  MemberState state = MemberState::kAlive;
  MemberEpoch epoch = 0;
  DeviceId origin;
  friend bool operator==(const MemberUpdate&, const MemberUpdate&) = default;
};

// One message. `target` is used by kPingReq only, `seq` by all but kGossip.
struct MemberMessage {
  MemberMessageType type = MemberMessageType::kPing;
  MemberEpoch sender_epoch = 0;  // the sender's own MemberEpoch
  uint32_t seq = 0;
  DeviceId target;
  std::vector<MemberUpdate> updates;  // <= kMaxMemberUpdates
  friend bool operator==(const MemberMessage&, const MemberMessage&) = default;
};

const char* memberMessageTypeName(MemberMessageType type);
const char* memberStateName(MemberState state);

// kInvalidArgument naming the field (values built locally).
Status validateMemberMessage(const MemberMessage& m);
// Canonical encoding; `m` must pass validateMemberMessage() (asserted).
Bytes encodeMemberMessage(const MemberMessage& m);
// From untrusted bytes: kTooLarge beyond kMaxMemberMessageSize or a limit, kMalformed for
// anything else that is not exactly one valid message (unknown type, wrong arity, an epoch
// above kMaxMemberEpoch, a zero device ID). Never throws.
Result<MemberMessage> decodeMemberMessage(ByteView bytes);

}  // namespace meshslice
