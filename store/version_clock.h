// Slice version rules (DESIGN.md section 8), as pure functions: no clock, no state.
//
// A device's versions for one store rise monotonically, across restarts too:
//   next = max(previous + 1, wall_ms * 1000, floor + 1)
// `previous` is the current (or persisted) version, 0 if none. Seeding from the wall clock
// (with 1000 versions per millisecond) puts a restarted device without persistence above
// every version it used before, unless its clock went back; for that case peers report the
// version they hold for us and we raise ours above it (needsRepair / `floor`).
//
// On apply, per (store, device) the strictly newer version wins; equal or older is stale.
//
// Plausibility (docs/STORES.md section 2, "Bounds"): versions are tied to the owner's wall
// clock, so a version far ahead of any clock is a lie (or the leftover of one). A peer's claim
// never makes a repair raise our version more than kMaxRepairLead ahead of our clock, and a
// receiver never stores a version more than kMaxAcceptLead ahead of its own clock. No peer can thus exhaust or pin
// another device's version space.
#pragma once

#include <cstdint>
#include <optional>

namespace meshslice {

// Versions available per wall-clock millisecond.
inline constexpr uint64_t kVersionsPerMilli = 1000;

// Largest version (the top of the range: a store there cannot write any more).
inline constexpr uint64_t kMaxVersion = UINT64_MAX;

// How far ahead of the owner's clock (in versions, i.e. microseconds) a repair may raise its
// version: 2^36 us, about 19.1 hours. A legitimate leftover of an earlier run is at most where
// that run's clock was (plus its own repairs); this covers a clock that stepped back by up to
// 19 h between two runs, beyond the +-14 h of a real-time clock kept in local time instead of
// UTC, the largest common clock error. A peer's claim above it is refused, so a hostile member
// can push a device at most this far ahead of its clock, and never further by repeating.
inline constexpr uint64_t kMaxRepairLead = uint64_t{1} << 36;
// How far ahead of the receiver's clock a version it accepts may be: 2^44 us, about 203 days.
// The gap to kMaxRepairLead is the clock skew tolerated between devices: a version repaired up
// to kMaxRepairLead ahead of its owner's clock stays acceptable to a receiver whose clock is up
// to ~203 days behind the owner's. 2^44 is 2^-20 of the version space: nothing can exhaust it.
inline constexpr uint64_t kMaxAcceptLead = uint64_t{1} << 44;

// The version for a local write. `floor` is a version we must exceed because a peer was seen
// holding it (0 = none). Saturates instead of wrapping (never reached in practice).
uint64_t nextLocalVersion(uint64_t previous, int64_t wall_ms, uint64_t floor = 0);

// The wall-clock seed alone: wall_ms * 1000 (0 for a clock before the epoch).
uint64_t wallClockVersion(int64_t wall_ms);

// True when no local write can get a version above both `previous` and `floor` any more (one
// of them is kMaxVersion): set() then fails instead of keeping the old version.
inline bool versionSpaceExhausted(uint64_t previous, uint64_t floor) {
  return previous == kMaxVersion || floor == kMaxVersion;
}

// Whether a peer's claim to hold our slice at `claimed` may be repaired at our wall clock: the
// repair lands on claimed + 1 at least, which must stay below wallClockVersion + kMaxRepairLead.
// Deliberately not relative to our current version: a repaired version as the base would let
// a liar ratchet it up by kMaxRepairLead per claim.
bool isPlausibleRepairClaim(uint64_t claimed, int64_t wall_ms);
// Whether a receiver at `wall_ms` may accept (store, request, keep) a version: at most
// wallClockVersion + kMaxAcceptLead.
bool isPlausibleVersion(uint64_t version, int64_t wall_ms);

// Whether a remote slice at `incoming` replaces what we hold (`held`, nullopt = nothing).
inline bool isNewerVersion(std::optional<uint64_t> held, uint64_t incoming) {
  return !held || incoming > *held;
}

// Where the copy of our slice a peer reports came from, judged by the incarnation it carries
// (the random nonce of the store registration that stamped it; docs/STORES.md section 2).
enum class Provenance {
  kUnknown,     // no incarnation (a protocol 1 peer, or one that lost track)
  kThisRun,     // stamped by our current registration of the store
  kEarlierRun,  // stamped by an earlier run of this device
};
inline Provenance provenanceOf(uint64_t reported_incarnation, uint64_t our_incarnation) {
  if (reported_incarnation == 0) return Provenance::kUnknown;
  return reported_incarnation == our_incarnation ? Provenance::kThisRun : Provenance::kEarlierRun;
}

// Whether a peer holding our slice at `peer_held` means ours must be raised above it. A higher
// version always does. An equal one does when it came from an earlier run (same version, maybe
// other data); with unknown provenance, only when the peer reported it before it could have
// seen our current slice on this link (its join digest: `before_our_slices`). A version we
// stamped in this run is what we hold: no repair.
inline bool needsRepair(uint64_t local, uint64_t peer_held, Provenance provenance, bool before_our_slices) {
  if (peer_held != local) return peer_held > local;
  switch (provenance) {
    case Provenance::kThisRun: return false;
    case Provenance::kEarlierRun: return true;
    case Provenance::kUnknown: return before_our_slices;
  }
  return true;
}

}  // namespace meshslice
