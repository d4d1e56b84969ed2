// SHA-1 (FIPS 180-4), only for the WebSocket opening handshake (RFC 6455 §4.2.2:
// Sec-WebSocket-Accept = base64(SHA-1(key + GUID))). SHA-1 is not collision resistant and is
// used for nothing else: libsodium, our crypto library, deliberately does not offer it.
// Pure; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace meshslice {

using Sha1Digest = std::array<uint8_t, 20>;

Sha1Digest sha1(std::string_view data);

}  // namespace meshslice
