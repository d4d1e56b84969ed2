// RFC 4648 base32 (upper-case alphabet A-Z 2-7, no padding) for human-facing identifiers:
// device IDs and mesh invites. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"

namespace meshslice {

inline constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Upper case, no '=' padding: ceil(8 * size / 5) characters.
std::string base32Encode(ByteView bytes);

// Value 0..31 of a base32 character, accepting lower case; -1 if `c` is not in the alphabet.
int base32Value(char c);

// Decodes unpadded base32, accepting lower case. Returns false on a character outside the
// alphabet, a length no whole number of bytes encodes to, or non-zero unused trailing bits
// (so every byte string has exactly one accepted encoding and a typo in the last character
// is not silently ignored). `out` is unspecified on failure.
bool base32Decode(std::string_view text, Bytes& out);

}  // namespace meshslice
