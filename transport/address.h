// "host:port" text <-> socket addresses. Hosts are numeric IPv4 or bracketed IPv6
// ("[fe80::1%eth0]:5000"); name resolution happens above the transport.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace meshslice {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};

// Splits "host:port" / "[v6]:port". Rejects a missing or out-of-range port.
Result<HostPort> splitHostPort(std::string_view text);
// The inverse: "host:port", or "[host]:port" when the host holds a ':' (IPv6).
std::string joinHostPort(std::string_view host, uint16_t port);
// Numeric host only.
Result<sockaddr_storage> parseSocketAddress(std::string_view text);
std::string formatSocketAddress(const sockaddr* addr);

}  // namespace meshslice
