// Why a node closed a link itself (hostile or broken input, refusals): the per-reason counters of MeshStats
// (docs/PROTOCOL.md §4 "Close reasons"). Each reason has one Status code the link is closed
// with, so logs, counters and the protocol document agree. Pure data; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/status.h"
#include "transport/secure_channel.h"

namespace meshslice {

enum class LinkError : uint8_t {
  // The channel (transport/secure_channel.h), before or after the handshake.
  kHandshakeTimeout,    // timeout: no complete handshake within 5 s
  kHandshakeOversized,  // too-large: a handshake frame above 1024 bytes
  kHandshakeRejected,   // auth-failed: wrong mesh secret, altered/truncated handshake, junk
  kFrameRejected,       // auth-failed: an encrypted frame altered, replayed, reordered, cut
  kRecordMalformed,     // malformed: a decrypted frame breaks the record rules
  kMessageTooLarge,     // too-large: a message's records add up to more than 1088 KiB
  // The session (mesh/peer_session.h): envelopes and the Hello rules.
  kBadEnvelope,         // malformed: an envelope that does not decode
  kHelloMissing,        // malformed: the first message was not a Hello
  kHelloRepeated,       // malformed: a second Hello
  kHelloIdMismatch,     // auth-failed: Hello's device_id is not the authenticated key's
  kIncompatible,        // incompatible: disjoint protocol version ranges
  // The node (mesh/mesh_core.h), after a valid Hello.
  kNotAllowed,          // permission-denied: not on the allow-list
  kSelfConnection,      // invalid-argument: we dialed ourselves
  kCount,
};
inline constexpr size_t kLinkErrorCount = static_cast<size_t>(LinkError::kCount);
using LinkErrorCounts = std::array<uint64_t, kLinkErrorCount>;

// "handshake-rejected", "hello-missing", ... for logs, stats output and docs.
const char* linkErrorName(LinkError error);
// The Status code a link closed for `error` carries.
Code linkErrorCode(LinkError error);
// Whether the peer broke the protocol (counted in MeshStats::protocol_errors as well): every
// rejection of bytes it sent, not timeouts, version mismatches, allow-list or self refusals.
bool isProtocolViolation(LinkError error);
// The link error a channel failure counts as (nullopt for kNone and our own send failures).
std::optional<LinkError> linkErrorOf(ChannelFailure failure);

}  // namespace meshslice
