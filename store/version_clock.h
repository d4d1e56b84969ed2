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
#pragma once

#include <cstdint>
#include <optional>

namespace meshslice {

// Versions available per wall-clock millisecond.
inline constexpr uint64_t kVersionsPerMilli = 1000;

// The version for a local write. `floor` is a version we must exceed because a peer was seen
// holding it (0 = none). Saturates instead of wrapping (never reached in practice).
uint64_t nextLocalVersion(uint64_t previous, int64_t wall_ms, uint64_t floor = 0);

// The wall-clock seed alone: wall_ms * 1000 (0 for a clock before the epoch).
uint64_t wallClockVersion(int64_t wall_ms);

// Whether a remote slice at `incoming` replaces what we hold (`held`, nullopt = nothing).
inline bool isNewerVersion(std::optional<uint64_t> held, uint64_t incoming) {
  return !held || incoming > *held;
}

// Whether a peer holding our slice at `peer_held` means ours must be raised above it.
// `strict` is false for what a peer reported before it could have seen our current slice on
// this link (its join digest): then an equal version is a leftover of an earlier life too
// (same version, other data) and must be repaired. Afterwards only a higher one is.
inline bool needsRepair(uint64_t local, uint64_t peer_held, bool strict) {
  return strict ? peer_held > local : peer_held >= local;
}

}  // namespace meshslice
