#include "store/version_clock.h"

#include <algorithm>
#include <limits>

namespace meshslice {

namespace {
static_assert(kMaxVersion == std::numeric_limits<uint64_t>::max());

uint64_t plusOne(uint64_t v) { return v == kMaxVersion ? v : v + 1; }

uint64_t saturatingAdd(uint64_t a, uint64_t b) { return a > kMaxVersion - b ? kMaxVersion : a + b; }
}  // namespace

uint64_t wallClockVersion(int64_t wall_ms) {
  if (wall_ms <= 0) return 0;
  const auto ms = static_cast<uint64_t>(wall_ms);
  if (ms > kMaxVersion / kVersionsPerMilli) return kMaxVersion;
  return ms * kVersionsPerMilli;
}

uint64_t nextLocalVersion(uint64_t previous, int64_t wall_ms, uint64_t floor) {
  return std::max({plusOne(previous), wallClockVersion(wall_ms), plusOne(floor)});
}

bool isPlausibleRepairClaim(uint64_t claimed, int64_t wall_ms) {
  return claimed < saturatingAdd(wallClockVersion(wall_ms), kMaxRepairLead);
}

bool isPlausibleVersion(uint64_t version, int64_t wall_ms) {
  return version <= saturatingAdd(wallClockVersion(wall_ms), kMaxAcceptLead);
}

}  // namespace meshslice
