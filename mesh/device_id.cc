#include "mesh/device_id.h"

#include <algorithm>
#include <cassert>
#include <ostream>

#include <sodium.h>

#include "base/base32.h"

namespace meshslice {

namespace {

constexpr std::string_view kDeviceIdDomain = "meshslice-device-id-v1";
constexpr size_t kGroupCount = 4;
constexpr size_t kGroupLength = 8;  // base32 characters per group, before its check character
constexpr size_t kBase32Length = kGroupCount * kGroupLength;
static_assert(kBase32Length * 5 == kDeviceIdSize * 8, "device ID base32 has no padding bits");

}  // namespace

char luhnBase32CheckChar(std::string_view group) {
  // Luhn mod N (N = 32): from the rightmost character leftwards, double every other value
  // starting with the rightmost, fold each product back into 0..N-1 by adding its base-N
  // digits, and choose the check value that makes the total a multiple of N. Folding
  // 2v -> 2v / N + 2v % N is a permutation of 0..N-1, so any single substitution changes
  // the total and is caught.
  constexpr unsigned kN = 32;
  unsigned factor = 2;
  unsigned sum = 0;
  for (size_t i = group.size(); i-- > 0;) {
    int v = base32Value(group[i]);
    assert(v >= 0 && "luhnBase32CheckChar needs base32 characters");
    unsigned addend = factor * static_cast<unsigned>(v);
    sum += addend / kN + addend % kN;
    factor = factor == 2 ? 1 : 2;
  }
  return kBase32Alphabet[(kN - sum % kN) % kN];
}

DeviceId DeviceId::fromPublicKey(const Key32& public_key) {
  uint8_t input[kDeviceIdDomain.size() + 32];
  std::copy(kDeviceIdDomain.begin(), kDeviceIdDomain.end(), input);
  std::copy(public_key.begin(), public_key.end(), input + kDeviceIdDomain.size());
  uint8_t digest[32];
  crypto_generichash(digest, sizeof digest, input, sizeof input, nullptr, 0);
  Raw raw;
  std::copy(digest, digest + raw.size(), raw.begin());
  return DeviceId(raw);
}

Result<DeviceId> DeviceId::fromBytes(ByteView bytes) {
  if (bytes.size() != kDeviceIdSize) {
    return malformed("device ID must be " + std::to_string(kDeviceIdSize) + " bytes, got " +
                     std::to_string(bytes.size()));
  }
  Raw raw;
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return DeviceId(raw);
}

Result<DeviceId> DeviceId::parse(std::string_view text) {
  constexpr size_t kMaxInput = 2 * kTextLength;  // generous for stray dashes
  if (text.size() > kMaxInput) {
    return invalidArgument("device ID is too long (" + std::to_string(text.size()) +
                           " characters)");
  }
  std::string chars;  // dashes removed, upper case
  chars.reserve(text.size());
  for (char c : text) {
    if (c == '-') continue;
    if (base32Value(c) < 0) {
      return invalidArgument("device ID has an invalid character '" + std::string(1, c) +
                             "' (base32 uses A-Z and 2-7)");
    }
    chars.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  constexpr size_t kWithChecks = kGroupCount * (kGroupLength + 1);
  if (chars.size() != kWithChecks) {
    return invalidArgument("device ID must have " + std::to_string(kWithChecks) +
                           " characters without dashes, got " + std::to_string(chars.size()));
  }
  std::string data;
  for (size_t g = 0; g < kGroupCount; ++g) {
    std::string_view group = std::string_view(chars).substr(g * (kGroupLength + 1), kGroupLength);
    if (chars[g * (kGroupLength + 1) + kGroupLength] != luhnBase32CheckChar(group)) {
      return invalidArgument("device ID check character of group " + std::to_string(g + 1) +
                             " does not match: the ID has a typo");
    }
    data.append(group);
  }
  Bytes raw;
  bool decoded = base32Decode(data, raw);
  assert(decoded && raw.size() == kDeviceIdSize);  // 32 alphabet characters always decode
  (void)decoded;
  return fromBytes(raw);
}

std::string DeviceId::toString() const {
  std::string b32 = base32Encode(bytes_);
  std::string out;
  out.reserve(kTextLength);
  for (size_t g = 0; g < kGroupCount; ++g) {
    std::string_view group = std::string_view(b32).substr(g * kGroupLength, kGroupLength);
    if (g > 0) out.push_back('-');
    out.append(group);
    out.push_back(luhnBase32CheckChar(group));
  }
  return out;
}

std::string DeviceId::shortString() const { return toString().substr(0, kGroupLength + 1); }

bool DeviceId::isZero() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

std::ostream& operator<<(std::ostream& os, const DeviceId& id) { return os << id.toString(); }

}  // namespace meshslice
