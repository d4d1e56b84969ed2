#include "mesh/protocol_constants.h"

#include <iterator>
#include <string>

#include "base/msgpack_limits.h"
#include "transport/secure_channel.h"

namespace meshslice {

// The channel's default message bound is the envelope bound: one limit, two layers.
static_assert(kMaxMessageSize == kMaxChannelMessageSize,
              "SecureChannelOptions::max_message_size must default to kMaxMessageSize");
static_assert(std::size(kBuildCapabilities) <= kMaxCapabilities);

namespace {

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The shared token syntax of namespaces, store IDs and capabilities. `what` names the kind of
// token in the message.
Status validateToken(std::string_view s, size_t max_len, std::string_view what) {
  std::string kind(what);
  if (s.empty()) return invalidArgument(kind + " is empty");
  if (s.size() > max_len) {
    return invalidArgument(kind + " is " + std::to_string(s.size()) +
                           " characters long; the maximum is " + std::to_string(max_len));
  }
  if (!isAlnum(s[0])) {
    return invalidArgument(kind + " must start with a letter or digit");
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!isAlnum(c) && c != '.' && c != '_' && c != '-') {
      return invalidArgument(kind + " has an invalid character at position " +
                             std::to_string(i) + " (allowed: A-Z a-z 0-9 . _ -)");
    }
  }
  return Status::ok();
}

bool hasReservedPrefix(std::string_view ns) {
  if (ns.size() < kReservedNamespacePrefix.size()) return false;
  for (size_t i = 0; i < kReservedNamespacePrefix.size(); ++i) {
    char c = ns[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kReservedNamespacePrefix[i]) return false;
  }
  return true;
}

}  // namespace

Status validateNamespace(std::string_view ns, bool allow_reserved) {
  MS_RETURN_IF_ERROR(validateToken(ns, kMaxNamespaceLength, "namespace"));
  if (!allow_reserved && hasReservedPrefix(ns)) {
    return invalidArgument("namespace '" + std::string(ns) + "' is reserved (prefix '" +
                           std::string(kReservedNamespacePrefix) + "' belongs to meshslice)");
  }
  return Status::ok();
}

Status validateStoreId(std::string_view id) {
  return validateToken(id, kMaxStoreIdLength, "store ID");
}

Status validateDeviceName(std::string_view name) {
  if (name.size() > kMaxNameLength) {
    return invalidArgument("device name is " + std::to_string(name.size()) +
                           " bytes; the maximum is " + std::to_string(kMaxNameLength));
  }
  if (!isValidUtf8(name)) return invalidArgument("device name is not valid UTF-8");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return invalidArgument("device name contains a control character");
  }
  return Status::ok();
}

Status validateCapability(std::string_view cap) {
  return validateToken(cap, kMaxCapabilityLength, "capability");
}

}  // namespace meshslice
