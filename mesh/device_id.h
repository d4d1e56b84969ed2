// A device's identity on the mesh: 20 bytes derived from its long-term X25519 public key.
// Device IDs are never taken from a message's say-so; the link layer derives the peer's ID from
// the key it authenticated (DESIGN.md section 3).
//
// Text form (what users read and compare): base32 of the 20 bytes (32 characters) in 4 groups of
// 8, each followed by a Luhn mod 32 check character, joined with '-':
//   ABCDEFGH?-IJKLMNOP?-QRSTUVWX?-YZ234567?    (39 characters)
// The check characters catch every single-character typo. Value type, thread-compatible.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "mesh/protocol_constants.h"

namespace meshslice {

class DeviceId {
 public:
  using Raw = std::array<uint8_t, kDeviceIdSize>;
  // Length of toString(): 4 groups of 8 + 1 check character, 3 dashes.
  static constexpr size_t kTextLength = 39;

  // The all-zero ID: "unset". Never the ID of a real key (with overwhelming probability).
  DeviceId() = default;
  explicit DeviceId(const Raw& bytes) : bytes_(bytes) {}

  // First 20 bytes of BLAKE2b-256("meshslice-device-id-v1" || public_key).
  static DeviceId fromPublicKey(const Key32& public_key);
  // Exactly kDeviceIdSize bytes (wire form); kMalformed otherwise.
  static Result<DeviceId> fromBytes(ByteView bytes);
  // Accepts the text form in any letter case, with or without dashes; kInvalidArgument with a
  // message saying what is wrong (length, character, or which group's check failed).
  static Result<DeviceId> parse(std::string_view text);

  // Canonical text form, upper case with dashes (39 characters).
  std::string toString() const;
  // First group including its check character (9 characters), for logs.
  std::string shortString() const;

  const Raw& bytes() const { return bytes_; }
  ByteView view() const { return bytes_; }
  bool isZero() const;

  friend auto operator<=>(const DeviceId&, const DeviceId&) = default;

 private:
  Raw bytes_{};
};

// Prints toString(); lets gtest and log lines show IDs.
std::ostream& operator<<(std::ostream& os, const DeviceId& id);

// Luhn mod 32 check character over base32 characters (exposed for tests). `group` must
// consist of base32 characters (asserted).
char luhnBase32CheckChar(std::string_view group);

}  // namespace meshslice

template <>
struct std::hash<meshslice::DeviceId> {
  size_t operator()(const meshslice::DeviceId& id) const noexcept {
    // The bytes are a hash output already; any 8 of them are uniformly distributed.
    size_t h = 0;
    for (size_t i = 0; i < sizeof h; ++i) h = (h << 8) | id.bytes()[i];
    return h;
  }
};
