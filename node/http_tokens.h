// Bearer tokens of the HTTP API (docs/HTTP.md), kept in the state directory with mode 0600:
//   http.token           full access
//   http-readonly.token  read-only access: methods that change state are refused
// Each file holds one token on one line: "msf_" (full) or "msr_" (read-only) and 43 base64url
// characters (32 random bytes). Created on first use (a daemon start with --http, or
// `meshslice http token`); delete the files and restart the daemon to replace them.
// Blocking file I/O: startup and CLI code.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace meshslice {

inline constexpr std::string_view kHttpTokenFileName = "http.token";
inline constexpr std::string_view kHttpReadOnlyTokenFileName = "http-readonly.token";
inline constexpr std::string_view kFullTokenPrefix = "msf_";
inline constexpr std::string_view kReadOnlyTokenPrefix = "msr_";
inline constexpr size_t kHttpTokenLength = 4 + 43;

enum class HttpAccess { kNone, kReadOnly, kFull };

struct HttpTokens {
  std::string full;
  std::string read_only;
  // Which access `presented` grants (constant-time comparisons).
  HttpAccess check(std::string_view presented) const;
};

// A fresh random token with the prefix of its kind.
std::string newHttpToken(bool read_only);
// The prefix of its kind and 43 base64url characters.
bool isWellFormedHttpToken(std::string_view token, bool read_only);
// Loads both tokens, creating a missing file (0600, atomically). kMalformed naming the file
// for a file that is not one token of its kind; the errors of readPrivateFile() otherwise.
Result<HttpTokens> loadOrCreateHttpTokens(const std::string& state_dir);

}  // namespace meshslice
