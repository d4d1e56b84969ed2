#include "transport/address.h"

#include <uv.h>

#include <charconv>

namespace meshslice {

Result<HostPort> splitHostPort(std::string_view text) {
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return invalidArgument("bad address '" + std::string(text) + "': expected [v6]:port");
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return invalidArgument("bad address '" + std::string(text) + "': expected host:port");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (out.host.empty() || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535)
    return invalidArgument("bad address '" + std::string(text) + "': host or port invalid");
  out.port = static_cast<uint16_t>(port);
  return out;
}

Result<sockaddr_storage> parseSocketAddress(std::string_view text) {
  auto hp = splitHostPort(text);
  if (!hp) return hp.status();
  sockaddr_storage ss{};
  if (uv_ip4_addr(hp->host.c_str(), hp->port, reinterpret_cast<sockaddr_in*>(&ss)) == 0) return ss;
  if (uv_ip6_addr(hp->host.c_str(), hp->port, reinterpret_cast<sockaddr_in6*>(&ss)) == 0) return ss;
  return invalidArgument("bad address '" + std::string(text) + "': host is not a numeric IP");
}

std::string joinHostPort(std::string_view host, uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + std::to_string(port);
}

std::string formatSocketAddress(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN + 16] = {0};
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    uv_ip4_name(in, host, sizeof host);
    return joinHostPort(host, ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    uv_ip6_name(in6, host, sizeof host);
    return joinHostPort(host, ntohs(in6->sin6_port));
  }
  return "?";
}

}  // namespace meshslice
